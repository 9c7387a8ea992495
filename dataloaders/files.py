"""Small helpers shared by the readers: file formats and batch slicing."""
from __future__ import annotations

import gzip
from pathlib import Path


def is_bcf(path: str | Path) -> bool:
    """True when ``path`` is a BCF file (BGZF-compressed or not: its data start with ``BCF``)."""
    with (gzip.open if is_gzip(path) else open)(path, "rb") as handle:
        try:
            return handle.read(3) == b"BCF"
        except (OSError, EOFError):  # a truncated or non-BGZF gzip: not a readable BCF
            return False


def is_gzip(path: str | Path) -> bool:
    """True when ``path`` starts with the gzip magic bytes (gzip or bgzip)."""
    with open(path, "rb") as handle:
        return handle.read(2) == b"\x1f\x8b"


def sample(batch, index: int = 0):
    """Sample ``index`` of a batch of nested dicts of arrays (Kipoi's per-sample protocol)."""
    if isinstance(batch, dict):
        return {key: sample(value, index) for key, value in batch.items()}
    return batch[index]
