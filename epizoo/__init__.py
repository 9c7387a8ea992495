"""epizoo: a Kipoi-compatible model zoo for regulatory-genomics deep learning.

The public API is imported lazily so that ``import epizoo`` stays fast; see `__all__`.
"""
from __future__ import annotations

from importlib import import_module
from typing import Any

from . import _aliases
from ._lazy import submodule_getattr

_aliases.install()

__version__ = "0.1.0"

_LAZY = {
    "Genome": "epizoo.dataloaders.genome",
    "BigWigTracks": "epizoo.dataloaders.tracks",
    "VcfVariants": "epizoo.dataloaders.variants",
    "one_hot_encode": "epizoo.dataloaders.onehot",
    "WeightStore": "epizoo.weights",
    "FileRef": "epizoo.weights",
    "get_model": "epizoo.registry",
    "predict": "epizoo.prediction",
    "ZOO_ROOT": "epizoo.zoo",
    "score_variants": "epizoo.plugins.veff",
}

__all__ = ["__version__", *_LAZY]


_submodule = submodule_getattr(__name__)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    return _submodule(name)
