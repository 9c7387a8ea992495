"""The batched variant-effect engine: views -> one forward pass per entry -> scores.

For each batch of variants and each entry, the inputs of every view (allele x strand x shift,
`epizoo.plugins.veff.views`) are stacked and go through the model in a single forward pass at
a fixed batch shape. Each declared output (`epizoo.contract`) is then scored with the scores that
apply to it:

* per view pair (ref, alt) of a shift and strand, the score; reverse-complement predictions of
  profile outputs have their bins flipped first, so that a bin is the same stretch of genome on
  both strands; with a bins window, only the bins around the variant count;
* the strands merged after scoring (kipoi-veff's rc merging), then the shifts averaged; a score
  made of others' shift means (`scores.OfShiftMeans`, GOPHER's robust score) combines them then.

Building the next batch's inputs overlaps with the current forward pass (a one-batch prefetch in
a background thread: numpy, pyBigWig and torch release the GIL for their heavy work).
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from epizoo.contract import OutputSpec
from epizoo.dataloaders.variant_windows import variant_offset
from epizoo.dataloaders.variants import Variant

from .entry_model import EntryInputs, EntryModel, Inputs
from .scores import SCORES, Merge, OfShiftMeans, Score
from .views import ALT, FORWARD, REF, REVERSE, Views


@dataclass(frozen=True)
class ScoreColumns:
    """One score of one output of one entry: a column per task, ``<entry>/<output>/<task>/<score>``."""

    entry: str
    output: str
    score: str
    tasks: tuple[str, ...]

    @property
    def names(self) -> list[str]:
        return [f"{self.entry}/{self.output}/{task}/{self.score}" for task in self.tasks]


@dataclass
class Entry:
    """One entry of a run: how to build its inputs (None where they come built, as in the Kipoi
    form), its network, and what is scored on it."""

    inputs: EntryInputs | None
    model: EntryModel
    scores: dict[str, list[Score]]  # output name -> the scores that apply to it

    @property
    def name(self) -> str:
        return self.model.name

    @property
    def layout(self) -> list[ScoreColumns]:
        """The entry's score columns, output by output, score by score."""
        outputs = self.model.contract.outputs
        return [ScoreColumns(self.name, name, score.name, score.column_tasks(outputs[name].tasks))
                for name, scores in self.scores.items() for score in scores]


def profile_bins(output: OutputSpec, width: int, shift: int, window_bp: int | None) -> slice:
    """The bins of a profile output to score for windows moved ``shift`` bp: all of them, or
    those overlapping the ``window_bp`` bp around the variant's first base (``(window_bp - 1) // 2``
    bp before it, ``window_bp // 2`` after it).

    The profile covers ``n_bins * bin_size`` bp centred in the ``width``-bp input window.
    """
    if window_bp is None:
        return slice(None)
    if window_bp < 1:
        raise ValueError(f"the profile window must be at least 1 bp, not {window_bp}")
    span = output.n_bins * output.bin_size
    variant = variant_offset(width) - shift - (width - span) // 2  # the variant, from the profile's start
    if not 0 <= variant < span:
        raise ValueError(f"{output.name}: the variant (windows shifted {shift} bp) lies outside the profile's "
                         f"central {span} bp, so no bin covers it; use a smaller --max-shift")
    low = (variant - (window_bp - 1) // 2) // output.bin_size
    high = (variant + window_bp // 2) // output.bin_size + 1
    return slice(max(low, 0), min(high, output.n_bins))


def _bins(entry: Entry, spec: OutputSpec, shift: int, window_bp: int | None) -> slice | None:
    if not spec.is_profile:
        return None
    return profile_bins(spec, 0 if window_bp is None else entry.inputs.width, shift, window_bp)


def score_outputs(entry: Entry, outputs: dict[str, np.ndarray], views: Views, n: int, rc_merge: Merge | None,
                  window_bp: int | None = None) -> dict[str, np.ndarray]:
    """Score the stacked view predictions of ``n`` variants: ``{column: values}``.

    With ``rc_merge`` and no reverse-complement views (a strand-symmetric model), the forward
    predictions stand for the reverse complement, exactly.
    """
    columns = {}
    for name, scores in entry.scores.items():
        spec = entry.model.contract.outputs[name]
        for score in scores:
            def shift_mean(one: Score) -> np.ndarray:
                per_shift = [_score_shift(one, spec, outputs[name], views, n, shift, rc_merge,
                                          _bins(entry, spec, shift, window_bp)) for shift in views.shifts]
                return np.mean(per_shift, axis=0) if len(per_shift) > 1 else per_shift[0]

            if isinstance(score, OfShiftMeans):
                values = score.combine(*(shift_mean(SCORES[part]) for part in score.parts))
            else:
                values = shift_mean(score)
            labels = score.column_tasks(spec.tasks)
            columns.update(zip(ScoreColumns(entry.name, name, score.name, labels).names, values.T, strict=True))
    return columns


def _score_shift(score: Score, spec: OutputSpec, values: np.ndarray, views: Views, n: int, shift: int,
                 rc_merge: Merge | None, bins: slice | None) -> np.ndarray:
    """One score of one shift, strands merged: ``(n, tasks)``."""

    def view(allele: int, strand: int) -> np.ndarray:
        k = views.position(allele, strand, shift)
        part = values[k * n:(k + 1) * n]
        if bins is not None:
            part = (part[..., ::-1] if strand == REVERSE else part)[..., bins]
        return part

    ref, alt = view(REF, FORWARD), view(ALT, FORWARD)
    if rc_merge is None:
        return score(ref, alt, kind=spec.kind)
    ref_rc, alt_rc = (view(REF, REVERSE), view(ALT, REVERSE)) if views.reverse_complements else (ref, alt)
    return score(ref, alt, ref_rc, alt_rc, rc_merge, kind=spec.kind)


@dataclass
class PreparedBatch:
    """Model inputs of one batch of variants, per entry: every view, stacked."""

    variants: list[Variant]
    inputs: list[Inputs]


class VariantEffects:
    """Score batches of variants with one or more entries.

    Parameters
    ----------
    entries
        The entries of the run, each with the scores of its outputs.
    rc_merge
        Merge of forward and reverse-complement scores, or None to score the forward strand only.
    batch_size
        Variants per forward pass: every pass runs this many (the last batch padded), so a
        variant's scores never depend on the other variants of its batch.
    shifts
        Window shifts in bp (0 first), whose scores are averaged (`views.shift_offsets`).
    window_bp
        Profile scores count only the bins overlapping this many bp around the variant
        (default: every bin).
    """

    def __init__(self, entries: list[Entry], rc_merge: Merge | None, batch_size: int = 64,
                 shifts: tuple[int, ...] = (0,), window_bp: int | None = None) -> None:
        self.entries, self.rc_merge, self.batch_size = entries, rc_merge, batch_size
        self.shifts, self.window_bp = tuple(shifts), window_bp
        self.views = [Views.build(rc_merge is not None and not e.model.strand_symmetric, self.shifts) for e in entries]
        for entry in entries:  # a bins window the profile cannot hold fails now, not mid-run
            for spec in (entry.model.contract.outputs[name] for name in entry.scores):
                for shift in self.shifts:
                    if spec.is_profile:
                        profile_bins(spec, entry.inputs.width, shift, window_bp)

    @property
    def layout(self) -> list[ScoreColumns]:
        """Every score column group of the run, entry by entry."""
        return [group for entry in self.entries for group in entry.layout]

    @property
    def columns(self) -> list[str]:
        """Score columns, ``<entry>/<output>/<task>/<score>``, in output order."""
        return [name for group in self.layout for name in group.names]

    def prepare(self, variants: list[Variant]) -> PreparedBatch:
        """Build every entry's stacked views for ``variants`` (CPU work only)."""
        return PreparedBatch(variants, [e.inputs.views(variants, views) for e, views in zip(self.entries, self.views)])

    def compute(self, batch: PreparedBatch) -> dict[str, np.ndarray]:
        """Run the forward passes of a prepared batch and score them: column -> values."""
        columns: dict[str, np.ndarray] = {}
        n = len(batch.variants)
        for entry, views, inputs in zip(self.entries, self.views, batch.inputs):
            outputs = entry.model.predict(inputs, batch_size=len(views) * max(n, self.batch_size))
            columns.update(score_outputs(entry, outputs, views, n, self.rc_merge, self.window_bp))
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
