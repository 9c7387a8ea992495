"""ChromDragoNN (Nair, Kim, Perricone & Kundaje 2019): accessibility of unseen cell types from
sequence and TF expression. The architectures; the recipe, dataloader and entries are issue #14's
next steps."""
from __future__ import annotations

from epizoo._lazy import submodule_getattr

__getattr__ = submodule_getattr(__name__)
