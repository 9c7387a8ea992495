"""Variant-effect scores: small functions of (reference prediction, alternative prediction).

The built-in scores are kipoi-veff's (kipoi_veff/scores.py), with its semantics:

* ``ref``, ``alt``: the predictions themselves;
* ``diff``: ``alt - ref``;
* ``logit_ref``, ``logit_alt``: ``log(p / (1 - p))`` of each;
* ``logit``: ``logit(alt) - logit(ref)``;
* ``deepsea_effect``: ``|logit| * |diff|`` (DeepSEA's e-value score).

Reverse-complement merging (``mean``, ``max``, ``min``, ``median``, ``absmax``) is applied
*after* scoring: each score is computed for the forward windows and for their reverse
complements, and the two are merged (for ``deepsea_effect``, its ``logit`` and ``diff`` parts are
merged first, as kipoi-veff does). One deliberate difference: probabilities are clipped to
``[1e-7, 1 - 1e-7]`` before a logit, so that saturated outputs give large finite values where
kipoi-veff gives ``inf``.

Each score declares the outputs it applies to (`epizoo.contract`): kipoi-veff's scores apply to
per-task outputs, ``ref``/``alt``/``diff`` of any kind (``diff`` of a ``log_counts`` head is the
log-count difference), the logit scores to probabilities only. The profile scores reduce the bins
of a profile output, ``(batch, tasks, bins)`` -> ``(batch, tasks)``, over all of its bins or over a
window of bins around the variant (the engine selects them):

* ``total_ref``, ``total_alt``, ``total_diff``: the sums over bins, and ``alt - ref`` of them;
* ``log2fc``: ``log2((total_alt + 1) / (total_ref + 1))`` (coverage or probability outputs);
* ``jsd``: the Jensen-Shannon distance (base 2, in [0, 1]) between the ref and alt profiles made
  distributions over bins (divided by their sums; a ``logit`` profile through a softmax, as BPNet's
  profile head);
* ``max_abs_diff``: the largest ``|alt - ref|`` over bins;
* ``gopher_log2fc``: GOPHER's cell-type-agnostic score (spec ``seed_002_gopher.md`` §4.6, the
  paper's order): ``log2(mean over tasks of alt totals / mean over tasks of ref totals)``, one
  value per variant (task ``all``); with shifts, the totals are averaged over the shifted windows
  *before* the ratio, as GOPHER's robust score averages coverage over 20 shifts;
* ``gopher_mean_log2fc``: the authors' code's order: the mean over tasks of each task's
  ``log2(alt total / ref total)`` (totals again averaged over the shifts first);
* ``active_allele_quantile`` (ChromBPNet's variant scorer): ``max`` over the two alleles of the
  quantile of the allele's total (profiles) or value (per-task outputs: e.g. a ``log_counts``
  head) among the entry's predictions on a background set of regions
  (`epizoo.plugins.veff.background`), in [0, 1].

A new score is one call to `register_score`, with a function ``(ref, alt) -> scores`` of
``(batch, tasks)`` arrays (``(batch, tasks, bins)`` with ``profile=True``) and the output kinds it
applies to; the pipeline needs no change.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
import dataclasses
from dataclasses import dataclass

import numpy as np
from scipy.spatial.distance import jensenshannon
from scipy.special import softmax

from epizoo.contract import OutputSpec

Merge = Callable[[np.ndarray, np.ndarray], np.ndarray]
LOGIT_EPSILON = 1e-7


def absmax(forward: np.ndarray, reverse: np.ndarray) -> np.ndarray:
    """Element-wise the value with the larger magnitude (the forward one on ties)."""
    return np.where(np.abs(forward) < np.abs(reverse), reverse, forward)


RC_MERGES: dict[str, Merge] = {
    "mean": lambda f, r: (f + r) / 2,
    "median": lambda f, r: np.median(np.stack([f, r]), axis=0),
    "max": np.maximum,
    "min": np.minimum,
    "absmax": absmax,
}


@dataclass(frozen=True)
class Score:
    """A named score of (ref, alt) predictions, merged over strands after scoring.

    ``profile`` scores reduce the bins of profile outputs, the others score per-task outputs;
    ``kinds`` are the output kinds it applies to (None: every kind); ``transform`` maps both
    predictions, given the output's kind, before ``function`` sees them.
    """

    name: str
    function: Callable[[np.ndarray, np.ndarray], np.ndarray]
    doc: str = ""
    profile: bool = False
    kinds: frozenset[str] | None = None
    transform: Callable[[np.ndarray, str], np.ndarray] | None = None

    def applies_to(self, output: OutputSpec) -> bool:
        """Whether this score is defined for ``output``."""
        return output.is_profile == self.profile and (self.kinds is None or output.kind in self.kinds)

    def __call__(
        self,
        ref: np.ndarray,
        alt: np.ndarray,
        ref_rc: np.ndarray | None = None,
        alt_rc: np.ndarray | None = None,
        merge: Merge | None = None,
        kind: str = "value",
    ) -> np.ndarray:
        forward = self._score(ref, alt, kind)
        if ref_rc is None or alt_rc is None:
            return forward
        return (merge or RC_MERGES["mean"])(forward, self._score(ref_rc, alt_rc, kind))

    def _score(self, ref: np.ndarray, alt: np.ndarray, kind: str) -> np.ndarray:
        if self.transform is not None:
            ref, alt = self.transform(ref, kind), self.transform(alt, kind)
        return self.function(ref, alt)

    def column_tasks(self, tasks: tuple[str, ...]) -> tuple[str, ...]:
        """The task labels of this score's columns for an output with ``tasks``."""
        return tasks

    def describe(self) -> str:
        """What it applies to, for messages: 'per-task outputs of kind probability'."""
        shape = "profile" if self.profile else "per-task"
        return f"{shape} outputs" + (f" of kind {', '.join(sorted(self.kinds))}" if self.kinds else "")


@dataclass(frozen=True)
class ProductOfMerged(Score):
    """A score built from other scores, each merged over strands before they are combined."""

    parts: tuple[str, ...] = ()
    combine: Callable[..., np.ndarray] | None = None

    def __call__(self, ref, alt, ref_rc=None, alt_rc=None, merge=None, kind="value"):
        merged = [SCORES[part](ref, alt, ref_rc, alt_rc, merge, kind) for part in self.parts]
        return self.combine(*merged)


@dataclass(frozen=True)
class OfShiftMeans(Score):
    """A score combined from other scores after each is merged over strands and averaged over the
    window shifts (`epizoo.plugins.veff.engine`); ``across_tasks``: one column, task ``all``."""

    parts: tuple[str, ...] = ()
    combine: Callable[..., np.ndarray] | None = None
    across_tasks: bool = False

    def column_tasks(self, tasks: tuple[str, ...]) -> tuple[str, ...]:
        return ("all",) if self.across_tasks else tasks


@dataclass(frozen=True)
class ActiveAlleleQuantile(Score):
    """ChromBPNet's active-allele quantile; ``background`` ``(tasks, m)`` sorted totals of the
    entry's predictions on background regions, bound per entry (`epizoo.plugins.veff.background`)."""

    background: np.ndarray | None = dataclasses.field(default=None, compare=False, repr=False)

    def applies_to(self, output: OutputSpec) -> bool:
        return output.kind in (NON_NEGATIVE if output.is_profile else NON_NEGATIVE | {"log_counts", "value"})

    def _score(self, ref: np.ndarray, alt: np.ndarray, kind: str) -> np.ndarray:
        if self.background is None:
            raise ValueError(f"{self.name} needs the entry's background predictions (background=BED)")
        return np.maximum(self._quantile(ref), self._quantile(alt))

    def _quantile(self, values: np.ndarray) -> np.ndarray:
        totals = _total(values) if values.ndim == 3 else np.asarray(values, np.float64)
        m = self.background.shape[1]
        return np.stack([np.searchsorted(self.background[t], totals[:, t], side="right") / m
                         for t in range(totals.shape[1])], axis=1)

    def describe(self) -> str:
        return "profile outputs of kind coverage or probability, and per-task outputs"


def logit(p: np.ndarray) -> np.ndarray:
    """``log(p / (1 - p))`` with p clipped away from 0 and 1, in float64."""
    p = np.clip(np.asarray(p, dtype=np.float64), LOGIT_EPSILON, 1 - LOGIT_EPSILON)
    return np.log(p / (1 - p))


SCORES: dict[str, Score] = {}


def register_score(score: Score) -> Score:
    """Make ``score`` available by name to `epizoo.score_variants` and the CLI."""
    SCORES[score.name] = score
    return score


def distribution(profile: np.ndarray, kind: str) -> np.ndarray:
    """A profile ``(..., bins)`` as a distribution over its bins: a softmax of logits, else the
    values divided by their sum (a uniform distribution where the sum is 0)."""
    if kind == "logit":
        return softmax(np.asarray(profile, dtype=np.float64), axis=-1)
    values = np.clip(np.asarray(profile, dtype=np.float64), 0, None)
    totals = values.sum(axis=-1, keepdims=True)
    uniform = np.full_like(values, 1 / values.shape[-1])
    return np.divide(values, totals, out=uniform, where=totals > 0)


def jensen_shannon_distance(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """The Jensen-Shannon distance (base 2, in [0, 1]) of distributions over the last axis."""
    return jensenshannon(p, q, base=2, axis=-1)


PROBABILITY = frozenset({"probability"})
NON_NEGATIVE = frozenset({"coverage", "probability"})
DISTRIBUTIONS = frozenset({"coverage", "probability", "logit"})


def _total(profile: np.ndarray) -> np.ndarray:
    return np.asarray(profile, dtype=np.float64).sum(axis=-1)


#: keeps GOPHER's log ratios finite where a total is 0
RATIO_EPSILON = 1e-6


def _log2_ratio(alt: np.ndarray, ref: np.ndarray) -> np.ndarray:
    return np.log2((alt + RATIO_EPSILON) / (ref + RATIO_EPSILON))


for _score in (
    Score("ref", lambda ref, alt: ref, "prediction for the reference allele"),
    Score("alt", lambda ref, alt: alt, "prediction for the alternative allele"),
    Score("diff", lambda ref, alt: alt - ref, "alt - ref (of a log_counts head: the log-count difference)"),
    Score("logit_ref", lambda ref, alt: logit(ref), "logit of the reference prediction", kinds=PROBABILITY),
    Score("logit_alt", lambda ref, alt: logit(alt), "logit of the alternative prediction", kinds=PROBABILITY),
    Score("logit", lambda ref, alt: logit(alt) - logit(ref), "logit(alt) - logit(ref)", kinds=PROBABILITY),
    ProductOfMerged("deepsea_effect", None, "|logit(alt) - logit(ref)| * |alt - ref|", kinds=PROBABILITY,
                    parts=("logit", "diff"), combine=lambda lg, d: np.abs(lg) * np.abs(d)),
    Score("total_ref", lambda ref, alt: _total(ref), "sum over bins of the reference profile", profile=True),
    Score("total_alt", lambda ref, alt: _total(alt), "sum over bins of the alternative profile", profile=True),
    Score("total_diff", lambda ref, alt: _total(alt) - _total(ref), "sum over bins of alt - sum of ref", profile=True),
    Score("log2fc", lambda ref, alt: np.log2((_total(alt) + 1) / (_total(ref) + 1)),
          "log2((alt total + 1) / (ref total + 1))", profile=True, kinds=NON_NEGATIVE),
    Score("jsd", jensen_shannon_distance, "Jensen-Shannon distance of the ref and alt profiles (base 2)",
          profile=True, kinds=DISTRIBUTIONS, transform=distribution),
    Score("max_abs_diff", lambda ref, alt: np.abs(np.asarray(alt, np.float64) - ref).max(axis=-1),
          "largest |alt - ref| over bins", profile=True),
    OfShiftMeans("gopher_log2fc", None, "log2(mean over tasks of alt totals / that of ref totals), one per variant",
                 profile=True, kinds=NON_NEGATIVE, parts=("total_ref", "total_alt"), across_tasks=True,
                 combine=lambda ref, alt: _log2_ratio(alt.mean(axis=1, keepdims=True), ref.mean(axis=1, keepdims=True))),
    ActiveAlleleQuantile("active_allele_quantile", None, "max over alleles of the total's quantile among the "
                         "entry's predictions on background regions"),
    OfShiftMeans("gopher_mean_log2fc", None, "mean over tasks of log2(alt total / ref total), one per variant",
                 profile=True, kinds=NON_NEGATIVE, parts=("total_ref", "total_alt"), across_tasks=True,
                 combine=lambda ref, alt: _log2_ratio(alt, ref).mean(axis=1, keepdims=True)),
):
    register_score(_score)

#: the scores of a run that names none: one per kind of output
DEFAULT_SCORES = ("diff", "total_diff")


def get_scores(names: Iterable[str]) -> list[Score]:
    """The registered scores called ``names``, in that order."""
    names = list(names)
    unknown = [n for n in names if n not in SCORES]
    if unknown:
        raise ValueError(f"unknown score(s) {', '.join(unknown)}; available: {', '.join(SCORES)}")
    return [SCORES[n] for n in names]


def scores_for(entry: str, outputs: Iterable[OutputSpec], scores: list[Score] | None) -> dict[str, list[Score]]:
    """``{output name: the scores that apply to it}`` of one entry.

    ``scores=None`` takes `DEFAULT_SCORES`. Raises a ValueError naming the entry and the score
    when a requested score applies to none of the entry's outputs.
    """
    outputs = list(outputs)
    chosen = get_scores(DEFAULT_SCORES) if scores is None else scores
    for score in chosen:
        if scores is not None and not any(score.applies_to(o) for o in outputs):
            described = "; ".join(f"{o.name} ({'profile' if o.is_profile else 'per-task'}, {o.kind})" for o in outputs)
            raise ValueError(f"score {score.name!r} does not apply to {entry}: it scores {score.describe()}, "
                             f"and {entry}'s outputs are {described}")
    return {o.name: [s for s in chosen if s.applies_to(o)] for o in outputs}


def get_merge(name: str | None) -> Merge | None:
    """The reverse-complement merge called ``name`` (None: no reverse-complement scoring)."""
    if name is None:
        return None
    if name not in RC_MERGES:
        raise ValueError(f"unknown rc merging {name!r}; available: {', '.join(RC_MERGES)}")
    return RC_MERGES[name]
