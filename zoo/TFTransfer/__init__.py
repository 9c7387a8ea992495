"""Transfer-learned TF-binding CNNs (Novakovsky et al. 2021), trained by epizoo on the authors' matrix."""
from __future__ import annotations

from epizoo._lazy import submodule_getattr

from .architecture import TFBindingCNN, transfer_weights

__all__ = ["TFBindingCNN", "transfer_weights"]
__getattr__ = submodule_getattr(__name__)
