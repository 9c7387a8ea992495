"""The background distribution of an entry's predictions, for ChromBPNet's active-allele quantile.

ChromBPNet's variant scorer ranks each allele's predicted total against the model's predictions
on a background set of regions (its peaks): ``active_allele_quantile = max(quantile(ref total),
quantile(alt total))``, high where either allele looks like an active element. The background
windows sit on the regions as variant windows sit on a variant (the region's midpoint where the
variant's base would be), and their totals are taken over the same bins as the variants'.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from epizoo.dataloaders.intervals import read_bed
from epizoo.dataloaders.variant_windows import variant_offset

from .engine import Entry, profile_bins
from .scores import ActiveAlleleQuantile, Score


def background_totals(entry: Entry, regions: str | Path, window_bp: int | None = None,
                      batch_size: int = 64) -> dict[str, np.ndarray]:
    """``{output: (tasks, n_regions) sorted}``: the entry's totals on the regions of a BED file
    (a profile's sum over its scored bins; a per-task output's value)."""
    frame = read_bed(regions)
    if not len(frame):
        raise ValueError(f"{regions}: no regions; the background needs at least one (e.g. the entry's peaks)")
    width = entry.inputs.width
    starts = (frame["start"].to_numpy() + frame["end"].to_numpy()) // 2 - variant_offset(width)
    chroms = frame["chrom"].to_numpy(dtype=object)
    totals: dict[str, list[np.ndarray]] = {}
    for first in range(0, len(frame), batch_size):
        rows = slice(first, first + batch_size)
        inputs = entry.inputs.dataset.batch_for_windows(chroms[rows], starts[rows])["inputs"]
        for name, values in entry.model.predict(inputs, batch_size).items():
            spec = entry.model.contract.outputs[name]
            if spec.is_profile:
                values = np.asarray(values, np.float64)[..., profile_bins(spec, width, 0, window_bp)].sum(axis=-1)
            totals.setdefault(name, []).append(values)
    return {name: np.sort(np.concatenate(parts).T, axis=1) for name, parts in totals.items()}


def with_background(entry: Entry, regions: str | Path | None, window_bp: int | None, batch_size: int) -> Entry:
    """The entry with its active-allele quantile scores bound to its background (None: unchanged,
    and an error if such a score was asked for)."""
    wanted = any(isinstance(s, ActiveAlleleQuantile) for scores in entry.scores.values() for s in scores)
    if not wanted:
        return entry
    if regions is None:
        raise ValueError("the active_allele_quantile score ranks alleles against the entry's predictions on a "
                         "background set: give one (background=BED, --background BED; e.g. the entry's peaks)")
    totals = background_totals(entry, regions, window_bp, batch_size)

    def bind(name: str, score: Score) -> Score:
        return dataclasses.replace(score, background=totals[name]) if isinstance(score, ActiveAlleleQuantile) else score

    scores = {name: [bind(name, s) for s in scores] for name, scores in entry.scores.items()}
    return dataclasses.replace(entry, scores=scores)
