"""FactorNet (Quang & Xie 2019): the released ENCODE-DREAM models, converted to PyTorch."""
from __future__ import annotations

from .architecture import FactorNet, reverse_complement

__all__ = ["FactorNet", "reverse_complement"]
