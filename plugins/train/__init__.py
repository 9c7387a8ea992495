"""Training recipes that run the papers' procedures and end in zoo-ready entries.

One trainer (PyTorch Lightning: CPU/GPU, mixed precision, early stopping, checkpoints, resume,
DDP) serves every recipe; a recipe (`epizoo.plugins.train.recipes`) is only what is particular
to its paper: its config defaults, how it samples windows and labels, its architecture, and its
entry's metadata. ``epizoo train RECIPE CONFIG.yaml --out ENTRY`` runs one.
"""
from epizoo._lazy import submodule_getattr

__getattr__ = submodule_getattr(__name__)
