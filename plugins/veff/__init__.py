"""Variant-effect prediction with any zoo entry: kipoi-veff's scores, faster, losing no variant.

`score_variants` is the Python API, ``epizoo score-variants`` the CLI, and the
``VariantEffects/`` template group of the zoo the stock-Kipoi form (``kipoi predict``).
"""
from epizoo._lazy import submodule_getattr

from .api import VariantEffectSummary, score_variants
from .scores import RC_MERGES, SCORES, Score, register_score

__all__ = ["score_variants", "VariantEffectSummary", "Score", "SCORES", "RC_MERGES", "register_score"]
__getattr__ = submodule_getattr(__name__)
