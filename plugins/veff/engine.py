"""The batched variant-effect engine: windows -> one forward pass per entry -> scores.

For each batch of variants and each entry, the reference inputs of the variant-centred windows
are built once, the alternative inputs by swapping the base channels, and (with reverse-complement
merging) both are reverse-complemented; all of them go through the model in a single forward pass.
Building the next batch's inputs overlaps with the current forward pass (a one-batch prefetch in a
background thread: numpy, pyBigWig and torch release the GIL for their heavy work).
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from epizoo.dataloaders.variants import Variant

from .entry import EntryInputs, EntryModel, Inputs
from .scores import Merge, Score


@dataclass
class Entry:
    """One entry of a run: how to build its inputs, and its network."""

    inputs: EntryInputs
    model: EntryModel

    @property
    def name(self) -> str:
        return self.model.name

    @property
    def tasks(self) -> list[str]:
        return self.model.tasks


def score_predictions(
    model: EntryModel, predictions: np.ndarray, n: int, scores: list[Score], rc_merge: Merge | None
) -> dict[str, np.ndarray]:
    """Score the stacked predictions ``[ref, alt(, ref_rc, alt_rc)]`` of ``n`` variants.

    Returns ``{"<model>/<task>/<score>": values}``. With ``rc_merge`` and only two sets (a
    strand-symmetric model), the forward predictions stand for the reverse complement, exactly.
    """
    ref, alt = predictions[:n], predictions[n : 2 * n]
    ref_rc = alt_rc = None
    if rc_merge is not None:
        ref_rc, alt_rc = (predictions[2 * n : 3 * n], predictions[3 * n :]) if len(predictions) == 4 * n else (ref, alt)
    columns = {}
    for score in scores:
        values = score(ref, alt, ref_rc, alt_rc, rc_merge)
        for t, task in enumerate(model.tasks):
            columns[f"{model.name}/{task}/{score.name}"] = values[:, t]
    return columns


@dataclass
class PreparedBatch:
    """Model inputs of one batch of variants, per entry: ref, alt (, ref_rc, alt_rc) stacked."""

    variants: list[Variant]
    inputs: list[Inputs]


class VariantEffects:
    """Score batches of variants with one or more entries.

    Parameters
    ----------
    entries
        The entries of the run.
    scores
        Scores to compute (see `epizoo.plugins.veff.scores`).
    rc_merge
        Merge of forward and reverse-complement scores, or None to score the forward strand only.
    batch_size
        Variants per forward pass: every pass runs this many (the last batch padded), so a
        variant's scores never depend on the other variants of its batch.
    """

    def __init__(self, entries: list[Entry], scores: list[Score], rc_merge: Merge | None,
                 batch_size: int = 64) -> None:
        self.entries, self.scores, self.rc_merge = entries, scores, rc_merge
        self.batch_size = batch_size

    @property
    def columns(self) -> list[str]:
        """Score columns, ``<model>/<task>/<score>``, in output order."""
        return [f"{e.name}/{task}/{s.name}" for e in self.entries for s in self.scores for task in e.tasks]

    def prepare(self, variants: list[Variant]) -> PreparedBatch:
        """Build every entry's input sets for ``variants`` (CPU work only)."""
        return PreparedBatch(variants, [
            e.inputs.windows(variants, self.rc_merge is not None and not e.model.strand_symmetric)
            for e in self.entries
        ])

    def compute(self, batch: PreparedBatch) -> dict[str, np.ndarray]:
        """Run the forward passes of a prepared batch and score them: column -> values."""
        columns: dict[str, np.ndarray] = {}
        n = len(batch.variants)
        for entry, inputs in zip(self.entries, batch.inputs):
            views = len(next(iter(inputs.values()))) // n
            predictions = entry.model.predict(inputs, batch_size=views * max(n, self.batch_size))
            columns.update(score_predictions(entry.model, predictions, len(batch.variants), self.scores, self.rc_merge))
        return columns

    def run(self, batches: Iterable[list[Variant]]) -> Iterator[tuple[list[Variant], dict[str, np.ndarray]]]:
        """Score a stream of variant batches, preparing batch k+1 while batch k is computed."""
        with ThreadPoolExecutor(max_workers=1) as pool:
            pending = None
            for variants in batches:
                future = pool.submit(self.prepare, variants)
                if pending is not None:
                    yield pending.variants, self.compute(pending)
                pending = future.result()
            if pending is not None:
                yield pending.variants, self.compute(pending)
