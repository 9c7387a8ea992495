"""ChromDragoNN (Nair, Kim, Perricone & Kundaje 2019): accessibility of unseen cell types from
sequence and TF expression: the architectures, the dataloaders and the entries trained by
`epizoo train chromdragonn` (`epizoo.plugins.train.recipes.chromdragonn`)."""
from __future__ import annotations

from epizoo._lazy import submodule_getattr

__getattr__ = submodule_getattr(__name__)
