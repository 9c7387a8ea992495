"""FactorNet (Quang & Xie 2019): the released ENCODE-DREAM models, converted to PyTorch."""
from __future__ import annotations

from epizoo._lazy import submodule_getattr

from .architecture import FactorNet, reverse_complement

__all__ = ["FactorNet", "reverse_complement"]
__getattr__ = submodule_getattr(__name__)
