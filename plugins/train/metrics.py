"""Evaluation metrics of the papers: numpy in, plain floats out, per task and averaged over tasks.

Each function returns a flat ``{name: float}`` dictionary with one entry per task
(``"auroc/CTCF"``) and the mean over tasks (``"auroc"``), which is what the trainer logs and what
a trained entry stores in ``metrics.json``. The numbers come from torchmetrics' functional API
(the field's maintained implementation, in float64); this module only handles shapes, masks,
per-task loops and the degenerate tasks (one class only, constant profiles), which are reported
as NaN and left out of the means instead of crashing or warning.

Sources
-------
* auROC, auPR and recall at fixed FDR: FactorNet §4.1 / ENCODE-DREAM scoring (Table 1 reports
  recall at 50% FDR).
* Pearson r over the whole concatenated track and per sequence (peak), MSE: GOPHER §4.1.
* Rank averaging of ensembles: FactorNet §2.5 (spec §3.4).
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch
from torchmetrics.functional import pearson_corrcoef, spearman_corrcoef
from torchmetrics.functional.classification import (
    binary_auroc,
    binary_average_precision,
    binary_recall_at_fixed_precision,
)

#: FDR levels of the ENCODE-DREAM challenge ("several FDR values"; FactorNet Table 1 uses 50%).
DEFAULT_FDRS = (0.1, 0.25, 0.5)


def binary_metrics(
    predictions: np.ndarray,
    targets: np.ndarray,
    mask: np.ndarray | None = None,
    fdrs: Sequence[float] = DEFAULT_FDRS,
    task_names: Sequence[str] | None = None,
) -> dict[str, float]:
    """auROC, auPR and recall at fixed FDR per task, and their means over tasks.

    Parameters
    ----------
    predictions
        Scores, ``(n,)`` or ``(n, tasks)``; any monotone scale (probabilities or logits).
    targets
        Labels 0/1 of the same shape.
    mask
        Bool, same shape: True where the entry counts, False where it is ignored (FactorNet's
        ambiguous bins, §4.1: "Ambiguous bins are excluded"). The same convention as the
        trainer's ``Samples.mask``. None: every entry counts.
    fdrs
        False-discovery rates for ``recall_at_<100*fdr>fdr``: the highest recall among the
        thresholds whose precision is at least ``1 - fdr`` (the ENCODE-DREAM scoring script's
        definition: the first point of the precision-recall curve, in increasing threshold
        order, with FDR <= the cut-off), 0 where no threshold reaches that precision.
        Default (10%, 25%, 50%) includes FactorNet Table 1's 50%.
    task_names
        Names of the tasks (default ``"0"``, ``"1"``, ...).

    Returns
    -------
    dict
        ``auroc/<task>``, ``auprc/<task>`` (average precision), ``auprc_trapezoid/<task>``
        (trapezoids under the precision-recall curve: scikit-learn's ``auc(recall, precision)``,
        which Novakovsky et al.'s code reports), ``recall_at_<pct>fdr/<task>``, ``positives/<task>``
        (fraction of positive labels among counted entries), and the same names without
        ``/<task>`` for the means over tasks. A task whose counted labels are all of one class
        gets NaN for the ranking metrics and is left out of their means.

    Examples
    --------
    >>> m = binary_metrics(np.array([0.1, 0.4, 0.35, 0.8]), np.array([0, 0, 1, 1]))
    >>> round(m["auroc"], 4), round(m["auprc"], 4), m["recall_at_50fdr"]
    (0.75, 0.8333, 1.0)
    """
    predictions, targets, mask, names = _tasks(predictions, targets, mask, task_names)
    metrics: dict[str, Callable[[torch.Tensor, torch.Tensor], float]] = {
        "auroc": lambda p, t: binary_auroc(p, t).item(),
        "auprc": lambda p, t: binary_average_precision(p, t).item(),
        "auprc_trapezoid": lambda p, t: _trapezoid_auprc(p, t),
    }
    for fdr in fdrs:
        if not 0 <= fdr < 1:
            raise ValueError(f"FDR levels must be in [0, 1), got {fdr}")
        metrics[f"recall_at_{100 * fdr:g}fdr"] = _recall_at_fdr(fdr)
    result: dict[str, list[float]] = {name: [] for name in [*metrics, "positives"]}
    for task in range(predictions.shape[1]):
        keep = mask[:, task]
        p = torch.from_numpy(predictions[keep, task])
        t = _binary_labels(targets[keep, task], names[task])
        result["positives"].append(float(t.float().mean()) if len(t) else np.nan)
        one_class = len(t) == 0 or bool(t.min() == t.max())
        for name, metric in metrics.items():
            result[name].append(np.nan if one_class else float(metric(p, t)))
    return _per_task_and_mean(result, names)


def regression_metrics(
    predictions: np.ndarray,
    targets: np.ndarray,
    mask: np.ndarray | None = None,
    task_names: Sequence[str] | None = None,
) -> dict[str, float]:
    """Pearson r, Spearman rho and MSE per task (across examples), and their means.

    Parameters
    ----------
    predictions, targets
        ``(n,)`` or ``(n, tasks)``.
    mask
        Bool, same shape, True where the entry counts (None: all).
    task_names
        Names of the tasks (default ``"0"``, ``"1"``, ...).

    Returns
    -------
    dict
        ``pearson/<task>``, ``spearman/<task>``, ``mse/<task>`` and the means ``pearson``,
        ``spearman``, ``mse``. Correlations of a constant column are NaN (and left out of
        the mean).
    """
    predictions, targets, mask, names = _tasks(predictions, targets, mask, task_names)
    result: dict[str, list[float]] = {"pearson": [], "spearman": [], "mse": []}
    for task in range(predictions.shape[1]):
        keep = mask[:, task]
        p = torch.from_numpy(predictions[keep, task])
        t = torch.from_numpy(targets[keep, task].astype(np.float64))
        result["mse"].append(float(((p - t) ** 2).mean()) if len(t) else np.nan)
        degenerate = len(t) < 2 or _constant(p) or _constant(t)
        result["pearson"].append(np.nan if degenerate else pearson_corrcoef(p, t).item())
        result["spearman"].append(np.nan if degenerate else spearman_corrcoef(p, t).item())
    return _per_task_and_mean(result, names)


def profile_metrics(
    predictions: np.ndarray,
    targets: np.ndarray,
    mask: np.ndarray | None = None,
    task_names: Sequence[str] | None = None,
) -> dict[str, float]:
    """GOPHER's coverage-profile metrics (spec §4.1) per task, and their means over tasks.

    Parameters
    ----------
    predictions, targets
        Coverage profiles ``(n, length, tasks)``, or ``(n, length)`` for one task, at the
        resolution to be evaluated.
    mask
        Bool, same shape, True where the bin counts (e.g. False on unmappable bins; None: all).
    task_names
        Names of the tasks (default ``"0"``, ``"1"``, ...).

    Returns
    -------
    dict
        ``pearson_whole/<task>``: one Pearson r over all (counted) bins of all examples
        concatenated (GOPHER's whole-chromosome r). ``pearson_per_peak/<task>``: Pearson r within
        each example, averaged over the examples whose predicted and target profiles are both
        non-constant (GOPHER's per-sequence r; its repo's ``nanmean``). ``mse/<task>``. And the
        means over tasks without ``/<task>``.
    """
    predictions, targets, mask, names = _profiles(predictions, targets, mask, task_names)
    result: dict[str, list[float]] = {"pearson_whole": [], "pearson_per_peak": [], "mse": []}
    per_peak = _masked_pearson_rows(predictions, targets, mask)  # (n, tasks)
    for task in range(predictions.shape[2]):
        keep = mask[:, :, task]
        p = torch.from_numpy(predictions[:, :, task][keep])
        t = torch.from_numpy(targets[:, :, task][keep])
        result["mse"].append(float(((p - t) ** 2).mean()) if len(t) else np.nan)
        degenerate = len(t) < 2 or _constant(p) or _constant(t)
        result["pearson_whole"].append(np.nan if degenerate else pearson_corrcoef(p, t).item())
        result["pearson_per_peak"].append(_nanmean(per_peak[:, task]))
    return _per_task_and_mean(result, names)


# -- helpers -----------------------------------------------------------------------------------


def _tasks(predictions, targets, mask, task_names):
    """Arrays as float64 ``(n, tasks)`` (bool mask), with the task names; shapes checked."""
    predictions = np.asarray(predictions, dtype=np.float64)
    targets = np.asarray(targets)
    if predictions.shape != targets.shape or predictions.ndim not in (1, 2):
        raise ValueError(
            f"predictions {predictions.shape} and targets {targets.shape} must have the same "
            "shape, (n,) or (n, tasks)"
        )
    mask = _mask(mask, predictions.shape)
    if predictions.ndim == 1:
        predictions, targets, mask = predictions[:, None], targets[:, None], mask[:, None]
    return predictions, targets, mask, _names(task_names, predictions.shape[1])


def _profiles(predictions, targets, mask, task_names):
    """Arrays as float64 ``(n, length, tasks)`` (bool mask), with the task names."""
    predictions = np.asarray(predictions, dtype=np.float64)
    targets = np.asarray(targets, dtype=np.float64)
    if predictions.shape != targets.shape or predictions.ndim not in (2, 3):
        raise ValueError(
            f"predictions {predictions.shape} and targets {targets.shape} must have the same "
            "shape, (n, length, tasks) or (n, length)"
        )
    mask = _mask(mask, predictions.shape)
    if predictions.ndim == 2:
        predictions, targets, mask = predictions[..., None], targets[..., None], mask[..., None]
    return predictions, targets, mask, _names(task_names, predictions.shape[2])


def _mask(mask, shape) -> np.ndarray:
    if mask is None:
        return np.ones(shape, dtype=bool)
    mask = np.asarray(mask)
    if mask.shape != shape:
        raise ValueError(f"mask {mask.shape} must have the shape of the predictions {shape}")
    return mask.astype(bool)


def _names(task_names, count: int) -> list[str]:
    names = [str(i) for i in range(count)] if task_names is None else [str(n) for n in task_names]
    if len(names) != count:
        raise ValueError(f"{len(names)} task names given for {count} task(s)")
    return names


def _binary_labels(labels: np.ndarray, task: str) -> torch.Tensor:
    bad = (labels != 0) & (labels != 1)
    if bad.any():
        raise ValueError(
            f"task {task!r}: binary targets must be 0 or 1, found {labels[bad][0]!r}; "
            "mask out ambiguous entries (mask=False) instead of giving them another label"
        )
    return torch.from_numpy(labels.astype(np.int64))


def _trapezoid_auprc(scores: torch.Tensor, labels: torch.Tensor) -> float:
    """Trapezoidal area under the precision-recall curve, from (recall 0, precision 1) through
    one point per distinct score (torchmetrics has average precision only)."""
    scores, labels = scores.double().numpy(), labels.double().numpy()
    order = np.argsort(-scores, kind="mergesort")
    scores, labels = scores[order], labels[order]
    last = np.r_[np.flatnonzero(np.diff(scores)), len(scores) - 1]  # last row of each distinct score
    true_positives = np.cumsum(labels)[last]
    precision = np.r_[1.0, true_positives / (last + 1)]
    recall = np.r_[0.0, true_positives / labels.sum()]
    return float(np.trapz(precision, recall))


def _recall_at_fdr(fdr: float) -> Callable[[torch.Tensor, torch.Tensor], float]:
    # torchmetrics computes the curve's precision in float32: round the cut-off the same way,
    # so that a precision of exactly 1 - fdr (e.g. 9/10 at 10% FDR) qualifies, as in DREAM's
    # scoring (rounding is monotone, so k/m >= 1 - fdr implies float32(k/m) >= float32(1 - fdr))
    min_precision = float(np.float32(1.0 - fdr))

    def recall(p: torch.Tensor, t: torch.Tensor) -> float:
        value, _ = binary_recall_at_fixed_precision(p, t, min_precision=min_precision)
        return value.item()

    return recall


def _constant(values: torch.Tensor) -> bool:
    return bool(values.min() == values.max())


def _masked_pearson_rows(x: np.ndarray, y: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Pearson r along axis 1 of ``(n, length, tasks)`` over the masked-in bins, one pass.

    NaN where a row has fewer than 2 counted bins or a constant profile. (Vectorised here,
    because torchmetrics' correlation takes no per-row mask.)
    """
    w = mask.astype(np.float64)
    count = w.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        dx = (x - (w * x).sum(axis=1, keepdims=True) / count[:, None]) * w
        dy = (y - (w * y).sum(axis=1, keepdims=True) / count[:, None]) * w
        sxx, syy, sxy = (dx * dx).sum(axis=1), (dy * dy).sum(axis=1), (dx * dy).sum(axis=1)
        r = sxy / np.sqrt(sxx * syy)
    r[(count < 2) | _flat_rows(x, mask) | _flat_rows(y, mask) | ~np.isfinite(r)] = np.nan
    return np.clip(r, -1.0, 1.0)


def _flat_rows(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Whether each (row, task) profile is constant over its counted bins."""
    highest = np.where(mask, values, -np.inf).max(axis=1)
    lowest = np.where(mask, values, np.inf).min(axis=1)
    return highest <= lowest


def _nanmean(values: Sequence[float] | np.ndarray) -> float:
    values = np.asarray(values, dtype=np.float64)
    finite = values[~np.isnan(values)]
    return float(finite.mean()) if len(finite) else float("nan")


def _per_task_and_mean(result: dict[str, list[float]], names: list[str]) -> dict[str, float]:
    out: dict[str, float] = {}
    for metric, values in result.items():
        out.update({f"{metric}/{name}": float(value) for name, value in zip(names, values)})
        out[metric] = _nanmean(values)
    return out
