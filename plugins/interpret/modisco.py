"""Seqlets and TF-MoDISco patterns from attributions.

* `call_seqlets`: spans of high attribution, tangermeme's recursive seqlet caller (or TF-MoDISco's
  own, ``method="tfmodisco"``) on the per-position sums of a sequence's contributions;
* `tfmodisco`: the `modisco` package's TF-MoDISco (formerly modisco-lite) on one-hot sequences
  and their hypothetical contributions, its results saved in its own HDF5 layout (which its
  ``modisco report`` reads), its patterns returned trimmed as TF-MoDISco's report trims them.

Inputs are channels-last, ``(n, length, 4)``, as TF-MoDISco takes them; `as_channels_last` turns
a channels-first array (a TFTransfer entry's) around.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from epizoo.atomic import atomic_path


@dataclass(frozen=True)
class Pattern:
    """A TF-MoDISco pattern, trimmed to its columns of high contribution.

    Attributes
    ----------
    name : str
        ``pos_patterns.pattern_0``, ... as in TF-MoDISco's results and report.
    n_seqlets : int
        The seqlets merged into it.
    ppm : numpy.ndarray
        ``(4, width)`` letter probabilities of its seqlets.
    cwm : numpy.ndarray
        ``(4, width)`` mean contributions (the contribution weight matrix).
    """

    name: str
    n_seqlets: int
    ppm: np.ndarray
    cwm: np.ndarray


def as_channels_last(values: np.ndarray, channels_axis: int) -> np.ndarray:
    """``(n, length, channels)`` of an array whose channels are on ``channels_axis``."""
    return np.moveaxis(np.asarray(values), channels_axis, -1)


def call_seqlets(contributions: np.ndarray, method: str = "recursive", **options: Any) -> pd.DataFrame:
    """Seqlets of ``(n, length, channels)`` contributions, from their sums over the channels.

    Parameters
    ----------
    contributions
        Per position and base (a sequence's attributions, observed base only).
    method
        ``recursive`` (tangermeme's `recursive_seqlets`: positive seqlets, p-values) or
        ``tfmodisco`` (tangermeme's `tfmodisco_seqlets`: TF-MoDISco's caller, both signs).
    **options
        Passed to the caller (``threshold``, ``min_seqlet_len``, ``max_seqlet_len``, ...).

    Returns
    -------
    pandas.DataFrame
        tangermeme's table: ``example_idx``, ``start``, ``end``, ``attribution`` and, for the
        recursive caller, ``p-value``; one row per seqlet.
    """
    import torch
    from tangermeme.seqlet import recursive_seqlets, tfmodisco_seqlets

    callers = {"recursive": recursive_seqlets, "tfmodisco": tfmodisco_seqlets}
    if method not in callers:
        raise ValueError(f"unknown seqlet caller {method!r}; use one of {', '.join(callers)}")
    per_position = torch.as_tensor(np.asarray(contributions, dtype=np.float32).sum(axis=-1))
    return callers[method](per_position, **options)


def tfmodisco(
    one_hot: np.ndarray,
    hypothetical: np.ndarray,
    out_h5: str | Path | None = None,
    max_seqlets: int = 2000,
    window: int = 21,
    trim_threshold: float = 0.3,
    verbose: bool = False,
    **options: Any,
) -> list[Pattern]:
    """TF-MoDISco's patterns of one-hot sequences and their hypothetical contributions.

    Parameters
    ----------
    one_hot
        ``(n, length, 4)`` sequences (any track channels dropped by the caller).
    hypothetical
        ``(n, length, 4)`` hypothetical contributions (``attribute(..., hypothetical=True)``).
    out_h5
        Where to save TF-MoDISco's results (its HDF5 layout, read by ``modisco report``).
    max_seqlets
        Seqlets per metacluster (TF-MoDISco's ``max_seqlets_per_metacluster``).
    window
        TF-MoDISco's ``sliding_window_size``.
    trim_threshold
        Columns are kept from the first to the last whose absolute contribution reaches this
        fraction of the pattern's largest (the trimming of TF-MoDISco's report).
    **options
        Passed to ``modiscolite.tfmodisco.TFMoDISco``.

    Returns
    -------
    list of Pattern
        The positive patterns, then the negative ones, each in TF-MoDISco's order.
    """
    from modiscolite.io import save_hdf5
    from modiscolite.tfmodisco import TFMoDISco

    one_hot, hypothetical = _checked(one_hot, hypothetical)
    positive, negative = TFMoDISco(one_hot, hypothetical, sliding_window_size=window,
                                   max_seqlets_per_metacluster=max_seqlets, verbose=verbose, **options)
    if out_h5 is not None:
        with atomic_path(Path(out_h5)) as tmp:
            save_hdf5(str(tmp), positive, negative, window)
    return [_pattern(f"{group}.pattern_{i}", p, trim_threshold)
            for group, patterns in (("pos_patterns", positive), ("neg_patterns", negative))
            for i, p in enumerate(patterns or [])]


def _checked(one_hot: np.ndarray, hypothetical: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    one_hot, hypothetical = np.asarray(one_hot, np.float32), np.asarray(hypothetical, np.float32)
    if one_hot.ndim != 3 or one_hot.shape[-1] != 4:
        raise ValueError(f"TF-MoDISco takes (n, length, 4) one-hot sequences, got shape {one_hot.shape}")
    if hypothetical.shape != one_hot.shape:
        raise ValueError(f"the hypothetical contributions {hypothetical.shape} must be shaped as the "
                         f"sequences {one_hot.shape}")
    return one_hot, hypothetical


def _pattern(name: str, seqlet_set, trim_threshold: float) -> Pattern:
    cwm, ppm = np.asarray(seqlet_set.contrib_scores), np.asarray(seqlet_set.sequence)
    score = np.abs(cwm).sum(axis=1)
    kept = np.flatnonzero(score >= trim_threshold * score.max())
    columns = slice(kept.min(), kept.max() + 1)
    return Pattern(name, len(seqlet_set.seqlets), ppm[columns].T.copy(), cwm[columns].T.copy())
