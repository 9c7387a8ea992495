"""FactorNet's 200-bp / 50-bp bin ladder and its bound-core labels."""
from __future__ import annotations

import numpy as np
import pandas as pd

from .config import BIN_STEP, BIN_WIDTH


def bin_starts(length: int) -> np.ndarray:
    """Starts of the 200-bp, 50-bp-step bins of a chromosome of ``length`` bases."""
    return np.arange((length - BIN_WIDTH) // BIN_STEP + 1, dtype=np.int64) * BIN_STEP


def bin_labels(
    sites: pd.DataFrame, sizes: dict[str, int], tfs: tuple[str, ...], cells: tuple[str, ...]
) -> pd.DataFrame:
    """The bin label table (module docstring, "Labels")."""
    frames = []
    for chrom, length in sizes.items():
        starts = bin_starts(length)
        columns = {"chrom": chrom, "start": starts, "end": starts + BIN_WIDTH}
        here = sites[sites["chrom"] == chrom]
        for cell in cells:
            for tf in tfs:
                rows = here[(here["tf"] == tf) & (here[f"bound_{cell}"] == 1)]
                columns[f"{cell}.{tf}"] = core_bin_labels(
                    rows["core_start"].to_numpy(), rows["core_end"].to_numpy(), len(starts)
                )
        frames.append(pd.DataFrame(columns))  # at once: column by column fragments a frame of many pairs
    return pd.concat(frames, ignore_index=True)


def core_bin_labels(core_start: np.ndarray, core_end: np.ndarray, n_bins: int) -> np.ndarray:
    """0/1 per bin of the 200/50 ladder: 1 where the bin covers more than half of some core.

    Parameters
    ----------
    core_start, core_end
        0-based, half-open cores on one chromosome.
    n_bins
        Number of bins of that chromosome (``len(bin_starts(length))``).

    >>> core_bin_labels(np.array([245]), np.array([255]), 6)   # bins at 50 and 250 hold 5 of 10
    array([0, 0, 1, 1, 1, 0], dtype=int8)
    """
    label = np.zeros(n_bins, dtype=np.int8)
    core_start, core_end = np.asarray(core_start, np.int64), np.asarray(core_end, np.int64)
    if not len(core_start):
        return label
    width = core_end - core_start
    n_candidates = (BIN_WIDTH + int(width.max())) // BIN_STEP + 2
    first = np.maximum((core_start - BIN_WIDTH) // BIN_STEP, 0)
    candidates = first[:, None] + np.arange(n_candidates)
    bin_start = candidates * BIN_STEP
    overlap = (np.minimum(bin_start + BIN_WIDTH, core_end[:, None])
               - np.maximum(bin_start, core_start[:, None]))
    hit = (2 * overlap > width[:, None]) & (candidates < n_bins)
    label[candidates[hit]] = 1
    return label
