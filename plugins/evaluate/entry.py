"""`evaluate_entry`: GOPHER's held-out evaluation of any profile or binary entry (spec
``seed_002_gopher.md`` §4.1-4.5), streamed over a whole test chromosome.

The test chromosomes are cut into non-overlapping windows of the entry's input width (GOPHER's
whole-chromosome test set); batch by batch the entry predicts them and the coverage is read from
the bigWigs, so a real chromosome's base-resolution profiles are never all held in memory:

* quantitative entries: Pearson r of all bins concatenated per task (``pearson_whole``), at the
  model's resolution and after mean re-binning predictions and targets to each coarser
  ``bin_sizes`` (§4.2), from streaming sums; per-sequence Pearson r (``pearson_per_seq``); MSE
  of the predictions and of the scaled predictions (§4.3: the factor is per task over the whole
  test set, so Pearson r is unchanged and MSE follows from the same sums); the predictions scored
  as binaries (§4.4: a window's mean coverage against its peak labels, auROC / auPR); and the
  variation score (§4.5) on peak-centred sequences;
* binary entries: auROC / auPR of the probabilities against the windows' peak labels, and the
  binary-as-quantitative Pearson r of the logits against each window's mean coverage (§4.4).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from epizoo.dataloaders.tracks import BigWigTracks
from epizoo.plugins.train.losses import bin_mean
from epizoo.plugins.train.metrics import binary_metrics
from epizoo.plugins.train.profile_windows import ProfileTargets, peak_centred_windows, peak_labels, read_summits

from .profiles import binary_as_quantitative, quantitative_as_binary, shifted_windows, variation_score


@dataclass
class Moments:
    """Streaming sums of ``(prediction, target)`` pairs per task: Pearson r and MSE of everything added."""

    n: np.ndarray
    sx: np.ndarray
    sy: np.ndarray
    sxx: np.ndarray
    syy: np.ndarray
    sxy: np.ndarray

    @classmethod
    def empty(cls, tasks: int) -> Moments:
        return cls(*(np.zeros(tasks) for _ in range(6)))

    def add(self, x: np.ndarray, y: np.ndarray) -> None:
        """Add ``(..., tasks)`` predictions ``x`` and targets ``y``."""
        x, y = np.asarray(x, np.float64).reshape(-1, x.shape[-1]), np.asarray(y, np.float64).reshape(-1, y.shape[-1])
        self.n += len(x)
        self.sx += x.sum(0)
        self.sy += y.sum(0)
        self.sxx += (x * x).sum(0)
        self.syy += (y * y).sum(0)
        self.sxy += (x * y).sum(0)

    def pearson(self) -> np.ndarray:
        cov = self.sxy - self.sx * self.sy / self.n
        var = (self.sxx - self.sx ** 2 / self.n) * (self.syy - self.sy ** 2 / self.n)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(var > 0, cov / np.sqrt(np.maximum(var, 0)), np.nan)

    def mse(self, factor: np.ndarray | float = 1.0) -> np.ndarray:
        """MSE of ``factor * x`` against ``y``."""
        return (factor ** 2 * self.sxx - 2 * factor * self.sxy + self.syy) / self.n

    def scale_factor(self) -> np.ndarray:
        """§4.3: ``mean(target) / mean(prediction)`` per task."""
        return self.sy / self.sx


def evaluate_entry(entry: str | Path, fasta: str | Path, bigwigs: Sequence[str | Path],
                   peaks: Sequence[str | Path] = (), chroms: Sequence[str] = ("chr8",),
                   bin_sizes: Sequence[int] = (), output: str | None = None, n_shifts: int = 20,
                   max_sequences: int = 200, batch_size: int = 64, device: str | None = None) -> dict[str, float]:
    """GOPHER's test metrics of a zoo entry on whole chromosomes (module docstring).

    Parameters
    ----------
    entry
        Zoo name or entry folder.
    fasta, bigwigs
        The genome and one coverage bigWig per task, in the entry's task order.
    peaks
        One peak file per task (narrowPeak: summits from column 10): labels for auROC / auPR and
        the sequences of the variation score. Required for binary entries.
    chroms
        Test chromosomes (GOPHER: chr8).
    bin_sizes
        Coarser resolutions to re-bin to (multiples of the entry's bin size), for ``pearson_whole@<bp>``.
    output
        The head to evaluate (default: the first profile head, else the only output).
    n_shifts, max_sequences
        Variation score: shifted windows per sequence (20), and at most this many sequences.

    Returns
    -------
    dict
        ``<metric>/<task>`` and ``<metric>`` (mean over tasks), as `epizoo.plugins.train.metrics`.
    """
    from epizoo.registry import get_contract, get_model

    model = get_model(entry)
    dataset = model.default_dataloader(intervals_file=None, fasta_file=str(fasta))
    contract = get_contract(entry, dataset.input_specs())
    name = output or next((n for n, s in contract.outputs.items() if s.is_profile), next(iter(contract.outputs)))
    spec = contract.outputs[name]
    if len(bigwigs) != len(spec.tasks):
        raise ValueError(f"{entry} predicts {len(spec.tasks)} tasks ({', '.join(spec.tasks)}); give one bigWig per "
                         f"task, in that order, not {len(bigwigs)}")
    if not spec.is_profile and not peaks:
        raise ValueError(f"{entry} is a binary model: give one peak file per task (--peaks) for its labels")
    summits = read_summits([Path(p) for p in peaks]) if peaks else None
    predictor = _Predictor(model, dataset, contract, name, batch_size, device)
    tracks = BigWigTracks(list(bigwigs), list(spec.tasks), dataset.genome)
    tiles = _tiles(dataset.genome.lengths, chroms, dataset.width)
    if spec.is_profile:
        metrics = _quantitative(predictor, tracks, tiles, spec, bin_sizes, summits, batch_size)
        if summits is not None and n_shifts:
            metrics |= _robustness(predictor, tiles, spec, summits, dataset.genome.lengths, chroms, n_shifts,
                                   max_sequences)
    else:
        metrics = _binary(predictor, tracks, tiles, summits, batch_size)
    return _named(metrics, spec.tasks)


class _Predictor:
    """The entry's predictions of one head for windows ``(chroms, starts)``: ``(n, bins, tasks)`` or ``(n, tasks)``."""

    def __init__(self, model, dataset, contract, output: str, batch_size: int, device) -> None:
        self.network, self.dataset, self.contract, self.output = model.model, dataset, contract, output
        self.batch_size, self.device = batch_size, device

    def __call__(self, chroms: np.ndarray, starts: np.ndarray) -> np.ndarray:
        from epizoo import predict

        inputs = self.dataset.batch_for_windows(chroms, starts)["inputs"]
        raw = predict(self.network, inputs, batch_size=self.batch_size, device=self.device)
        values = self.contract.outputs_of(raw)[self.output]            # (n, tasks[, bins])
        return np.moveaxis(values, 1, -1) if values.ndim == 3 else values


def _tiles(lengths: dict[str, int], chroms: Sequence[str], width: int) -> pd.DataFrame:
    missing = [c for c in chroms if c not in lengths]
    if missing:
        raise ValueError(f"test chromosome(s) {', '.join(missing)} not in the genome (it has {', '.join(list(lengths)[:8])}, ...)")
    return pd.concat([pd.DataFrame({"chrom": c, "start": np.arange(lengths[c] // width) * width}) for c in chroms],
                     ignore_index=True)


def _batches(frame: pd.DataFrame, size: int):
    for first in range(0, len(frame), size):
        yield frame.iloc[first:first + size]


def _rebin(values: np.ndarray, factor: int) -> np.ndarray:
    """``(n, bins, tasks)`` averaged within groups of ``factor`` bins."""
    return bin_mean(torch.from_numpy(np.ascontiguousarray(values)), factor).numpy()


def _quantitative(predict, tracks, tiles, spec, bin_sizes, summits, batch_size) -> dict[str, np.ndarray]:
    span = spec.n_bins * spec.bin_size
    coarser = [b for b in bin_sizes if b != spec.bin_size]
    bad = [b for b in coarser if b % spec.bin_size or span % b]
    if bad:
        raise ValueError(f"bin sizes {bad} are not multiples of the entry's {spec.bin_size} bp dividing {span} bp")
    moments = {b: Moments.empty(len(spec.tasks)) for b in [spec.bin_size, *coarser]}
    per_seq, window_means, labels = [], [], []
    width = predict.dataset.width
    for batch in _batches(tiles, 4 * batch_size):
        predicted = predict(batch["chrom"].to_numpy(), batch["start"].to_numpy())
        profile_windows = batch.assign(start=batch["start"] + (width - span) // 2)  # profiles are centred
        target = ProfileTargets(tracks, span, spec.bin_size)(profile_windows)
        for b, sums in moments.items():
            factor = b // spec.bin_size
            sums.add(_rebin(predicted, factor), _rebin(target, factor))
        per_seq.append(_row_pearson(predicted, target))
        window_means.append(quantitative_as_binary(predicted))
        if summits is not None:
            labels.append(peak_labels(batch, width, summits))
    base = moments[spec.bin_size]
    metrics = {"pearson_whole": base.pearson(), "pearson_per_seq": np.nanmean(np.concatenate(per_seq), axis=0),
               "mse": base.mse(), "mse_scaled": base.mse(base.scale_factor()), "scale_factor": base.scale_factor()}
    metrics |= {f"pearson_whole@{b}": moments[b].pearson() for b in coarser}
    if labels:
        metrics |= _as_binary(np.concatenate(window_means), np.concatenate(labels), "as_binary_")
    return metrics


def _row_pearson(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``(n, tasks)`` Pearson r within each sequence (NaN where either profile is constant)."""
    x, y = x - x.mean(axis=1, keepdims=True), y - y.mean(axis=1, keepdims=True)
    norms = np.sqrt((x * x).sum(1) * (y * y).sum(1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(norms > 0, (x * y).sum(1) / norms, np.nan)


def _as_binary(scores: np.ndarray, labels: np.ndarray, prefix: str) -> dict[str, np.ndarray]:
    """auROC and auPR per task (NaN where a task has one class only)."""
    values = binary_metrics(scores, labels)
    return {prefix + key: np.array([values[f"{key}/{t}"] for t in range(labels.shape[1])]) for key in ("auroc", "auprc")}


def _binary(predict, tracks, tiles, summits, batch_size) -> dict[str, np.ndarray]:
    from epizoo.plugins.veff.scores import logit

    probabilities, coverage, labels = [], [], []
    width = predict.dataset.width
    for batch in _batches(tiles, 4 * batch_size):
        probabilities.append(predict(batch["chrom"].to_numpy(), batch["start"].to_numpy()))
        coverage.append(ProfileTargets(tracks, width, width)(batch))
        labels.append(peak_labels(batch, width, summits))
    scores = np.concatenate(probabilities)
    metrics = _as_binary(scores, np.concatenate(labels), "")
    metrics["pearson_logit"] = binary_as_quantitative(logit(scores), np.concatenate(coverage))
    return metrics


def _robustness(predict, tiles, spec, summits, lengths, chroms, n_shifts: int, max_sequences: int) -> dict:
    """§4.5 per task: the mean variation score over the peak-centred 3,072-bp test sequences
    holding one of that task's peaks."""
    width = predict.dataset.width
    stored = width + width // 2                                   # GOPHER: 3,072 for 2,048
    sequences = peak_centred_windows(summits, lengths, stored, chroms=chroms).head(max_sequences)
    if not len(sequences):
        return {}
    offsets = shifted_windows(n_shifts, stored - width)
    window = (stored - width, width)                              # covered by every shift: 1,024-2,048
    centred = offsets + (width - spec.n_bins * spec.bin_size) // 2  # where each profile starts
    scores = np.full((len(sequences), len(spec.tasks)), np.nan)
    for row, (chrom, start) in enumerate(sequences[["chrom", "start"]].itertuples(index=False)):
        predicted = predict(np.full(n_shifts, chrom, dtype=object), start + offsets)
        scores[row] = variation_score(predicted, centred, spec.bin_size, window)
    holds = peak_labels(sequences, stored, summits).astype(bool)
    return {"variation": np.array([np.nanmean(scores[holds[:, t], t]) if holds[:, t].any() else np.nan
                                   for t in range(len(spec.tasks))])}


def _named(metrics: dict[str, np.ndarray], tasks: Sequence[str]) -> dict[str, float]:
    named = {}
    for key, values in metrics.items():
        values = np.asarray(values, np.float64)
        named[key] = float(np.nanmean(values)) if np.isfinite(values).any() else float("nan")
        named |= {f"{key}/{task}": float(v) for task, v in zip(tasks, values)}
    return named
