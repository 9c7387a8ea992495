"""Avocado's imputation metrics (spec ``seed_004_avocado.md`` §4.1, the paper's Table 1): errors of an
imputed track against the observed one, over all positions and over its peaks.

* ``mse``: MSE over every position (MSEglobal);
* ``mse_1obs``: MSE over the top 1% of positions by observed signal (MSE1obs: are the peaks found?);
* ``mse_1imp``: MSE over the top 1% by imputed signal (MSE1imp: are the called peaks real?);
* ``pearson``: Pearson r over every position.

The paper's promoter, gene-body and enhancer MSEs need annotations in the tracks' coordinates,
which a position-indexed track without its layout does not have: `region_mse` computes them for
any mask of positions.
"""
from __future__ import annotations

import numpy as np


def imputation_metrics(observed: np.ndarray, imputed: np.ndarray, top: float = 0.01) -> dict[str, float]:
    """The metrics of one imputed track (see the module docstring); ``top`` is the peak fraction."""
    observed, imputed = np.asarray(observed, np.float64), np.asarray(imputed, np.float64)
    if observed.shape != imputed.shape or observed.ndim != 1 or not len(observed):
        raise ValueError(f"observed {observed.shape} and imputed {imputed.shape} must be one track of equal length")
    squared = (observed - imputed) ** 2
    k = max(1, int(round(top * len(observed))))
    by_observed = np.argpartition(-observed, k - 1)[:k]
    by_imputed = np.argpartition(-imputed, k - 1)[:k]
    constant = observed.std() == 0 or imputed.std() == 0
    return {"mse": float(squared.mean()), "mse_1obs": float(squared[by_observed].mean()),
            "mse_1imp": float(squared[by_imputed].mean()),
            "pearson": float("nan") if constant else float(np.corrcoef(observed, imputed)[0, 1])}


def region_mse(observed: np.ndarray, imputed: np.ndarray, mask: np.ndarray) -> float:
    """MSE over the positions of ``mask`` (promoters, gene bodies, enhancers: MSEProm, MSEGene, MSEEnh)."""
    mask = np.asarray(mask, bool)
    return float(((np.asarray(observed, np.float64)[mask] - np.asarray(imputed, np.float64)[mask]) ** 2).mean())
