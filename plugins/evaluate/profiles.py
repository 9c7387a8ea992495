"""GOPHER's evaluation beyond the profile metrics (spec ``seed_002_gopher.md`` §4.3-4.5).

Whole-chromosome and per-sequence Pearson r are `epizoo.plugins.train.metrics.profile_metrics`;
here:

* `scaled_predictions` (§4.3): per task, predictions times ``mean(target) / mean(prediction)``
  over the whole test set;
* `quantitative_as_binary` (§4.4): a quantitative model's score of each sequence for
  classification, its mean predicted coverage (auROC/auPR as `binary_metrics` computes them);
* `binary_as_quantitative` (§4.4): Pearson r, per task, between a binary model's logits and each
  sequence's mean target coverage;
* `variation_score` (§4.5): the robustness of a model's predictions to shifts of its input: over
  the window every shifted prediction covers, the mean per-position standard deviation across
  the shifts divided by the mean coverage; `shifted_windows` draws the shifts.
"""
from __future__ import annotations

import numpy as np
from scipy.stats import pearsonr


def scaled_predictions(predictions: np.ndarray, targets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(predictions * factor, factor)``: per task (the last axis), ``factor = mean(targets) / mean(predictions)``
    over every other axis."""
    axes = tuple(range(predictions.ndim - 1))
    factor = np.asarray(targets, np.float64).mean(axis=axes) / np.asarray(predictions, np.float64).mean(axis=axes)
    return predictions * factor, factor


def quantitative_as_binary(predictions: np.ndarray) -> np.ndarray:
    """``(n, tasks)`` classification scores of ``(n, bins, tasks)`` coverage: the mean over the bins."""
    return np.asarray(predictions, np.float64).mean(axis=1)


def binary_as_quantitative(logits: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Per task, Pearson r between ``(n, tasks)`` logits and the mean over the bins of ``(n, bins, tasks)``
    target coverage (NaN where either is constant)."""
    coverage = np.asarray(targets, np.float64).mean(axis=1)
    return np.array([_pearson(logits[:, task], coverage[:, task]) for task in range(coverage.shape[1])])


def _pearson(x: np.ndarray, y: np.ndarray) -> float:
    if np.ptp(x) == 0 or np.ptp(y) == 0:
        return float("nan")
    return float(pearsonr(x, y)[0])


def shifted_windows(n_shifts: int = 20, max_shift: int = 1024, seed: int = 0) -> np.ndarray:
    """``n_shifts`` offsets, uniform in ``[0, max_shift)``, of the input windows cut from a longer sequence."""
    return np.random.default_rng(seed).integers(0, max_shift, n_shifts)


def variation_score(predictions: np.ndarray, offsets: np.ndarray, bin_size: int, window: tuple[int, int]) -> np.ndarray:
    """Per task, the variation score of one sequence's predictions on shifted windows (§4.5).

    Parameters
    ----------
    predictions
        ``(n_shifts, bins, tasks)``: the prediction on the window starting at each offset.
    offsets
        ``(n_shifts,)`` each window's start in the longer sequence's coordinates.
    bin_size
        The predictions' resolution: each bin is repeated ``bin_size`` times, base by base.
    window
        ``(first, stop)`` in the longer sequence's coordinates, covered by every window (GOPHER:
        the central 1,024 bp of 3,072, ``(1024, 2048)``).

    Returns
    -------
    numpy.ndarray
        ``(tasks,)``: mean over the window's positions of the standard deviation across the
        shifts, divided by the mean coverage over the shifts and the window.
    """
    bases = np.repeat(np.asarray(predictions, np.float64), bin_size, axis=1)  # (n_shifts, length, tasks)
    first, stop = window
    length = bases.shape[1]
    if np.any(offsets > first) or np.any(offsets + length < stop):
        raise ValueError(f"every window must cover {first}-{stop}: offsets {offsets.min()}-{offsets.max()}, "
                         f"windows of {length} bp")
    aligned = np.stack([bases[i, first - offset:stop - offset] for i, offset in enumerate(offsets)])
    return aligned.std(axis=0).mean(axis=0) / aligned.mean(axis=(0, 1))
