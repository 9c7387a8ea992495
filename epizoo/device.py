"""Where and in which precision networks run: one default for every path of epizoo.

* ``EPIZOO_DEVICE`` (``cpu``, ``cuda``, ``cuda:1``, ...) when set; otherwise CUDA when it is
  available (Kipoi's ``auto_use_cuda`` convention), else the CPU.
* Precision: ``None`` / ``"float32"`` runs the model in its own dtype; ``"bf16"`` /
  ``"bfloat16"`` / ``torch.bfloat16`` and ``"fp16"`` / ``"float16"`` / ``torch.float16`` run it
  under autocast.
"""
from __future__ import annotations

import os
from contextlib import AbstractContextManager, nullcontext

import torch

#: the names a precision goes by (CLI ``--precision``, Python ``dtype=``)
PRECISIONS: dict[str, torch.dtype | None] = {
    "float32": None, "fp32": None, "32": None,
    "bf16": torch.bfloat16, "bfloat16": torch.bfloat16,
    "fp16": torch.float16, "float16": torch.float16,
}


def default_device() -> torch.device:
    """``EPIZOO_DEVICE`` if set, else ``cuda`` when available, else ``cpu``."""
    name = os.environ.get("EPIZOO_DEVICE") or ("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def resolve_device(device: str | torch.device | None) -> torch.device:
    """``device`` as a `torch.device`; None is `default_device`."""
    return default_device() if device is None else torch.device(device)


def autocast_dtype(dtype: str | torch.dtype | None) -> torch.dtype | None:
    """The autocast dtype that ``dtype`` asks for, or None for the model's own precision."""
    if isinstance(dtype, torch.dtype):
        if dtype not in (torch.float32, torch.bfloat16, torch.float16):
            raise ValueError(f"cannot autocast to {dtype}: use torch.bfloat16, torch.float16 or torch.float32")
        return None if dtype == torch.float32 else dtype
    if dtype is None:
        return None
    try:
        return PRECISIONS[str(dtype).lower()]
    except KeyError:
        raise ValueError(f"unknown precision {dtype!r}; use one of {', '.join(PRECISIONS)}") from None


def autocast(device: torch.device, dtype: torch.dtype | None) -> AbstractContextManager:
    """``torch.autocast`` to ``dtype`` on ``device``, or a no-op for None."""
    if dtype is None:
        return nullcontext()
    return torch.autocast(device.type, dtype=dtype)
