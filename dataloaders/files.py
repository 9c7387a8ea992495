"""Small helpers shared by the readers: file formats, name lists, signal transforms and batch slicing."""
from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

#: how a signal (TPM, -log10 p) was transformed for a model: arcsinh (Avocado's tracks, ChromDragoNN's
#: released expression), log1p, or none (already transformed)
SIGNAL_TRANSFORMS = {"arcsinh": np.arcsinh, "log1p": np.log1p, "none": lambda values: values}


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


def read_names(path: str | Path) -> list[str]:
    """Names one per line (a model's TFs, cell types, assays), in order; blank lines and ``#``
    comments ignored.

    Raises
    ------
    ValueError
        When the file names nothing, or a name twice.
    """
    names = [line.split("#")[0].strip() for line in Path(path).read_text().splitlines()]
    names = [name for name in names if name]
    if not names or len(set(names)) != len(names):
        raise ValueError(f"{path}: expected one name per line, each once")
    return names
