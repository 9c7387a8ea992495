"""The epizoo model zoo: a Kipoi model source (one folder per method) and its architectures.

Each method folder holds Kipoi entries (model.yaml + dataloader.yaml, or a template group:
model-template.yaml, dataloader-template.yaml and models.tsv) and its PyTorch architectures as
Python modules, importable as ``epizoo.zoo.<Method>.<module>``.
"""
from pathlib import Path

from epizoo._lazy import submodule_getattr

__getattr__ = submodule_getattr(__name__)

#: Root of the zoo, usable as a Kipoi ``--source dir`` path or a ``type: local`` source.
ZOO_ROOT = Path(__file__).resolve().parent
