"""GOPHER's profile and binary models of ATAC-seq (Toneyan, Tang & Koo 2022): the architectures.

Entries, the training recipe and the evaluation plugin are issue #18's next steps.
"""
from __future__ import annotations

from epizoo._lazy import submodule_getattr

__getattr__ = submodule_getattr(__name__)
