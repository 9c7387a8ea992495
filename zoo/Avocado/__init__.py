"""Avocado (Schreiber, Durham, Bilmes & Noble 2020): imputation of epigenomic tracks by a deep
tensor factorisation of cell types x assays x genomic positions: the architecture, the
dataloader and the entries trained by `epizoo train avocado` (`epizoo.plugins.train.recipes.avocado`)."""
from __future__ import annotations

from epizoo._lazy import submodule_getattr

__getattr__ = submodule_getattr(__name__)
