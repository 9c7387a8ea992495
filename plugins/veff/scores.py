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

A new score (GOPHER's profile scores, say) is one call to `register_score`, with a function
``(ref, alt) -> scores`` of ``(batch, ...)`` arrays; the pipeline needs no change.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

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
    """A named score of (ref, alt) predictions, merged over strands after scoring."""

    name: str
    function: Callable[[np.ndarray, np.ndarray], np.ndarray]
    doc: str = ""

    def __call__(
        self,
        ref: np.ndarray,
        alt: np.ndarray,
        ref_rc: np.ndarray | None = None,
        alt_rc: np.ndarray | None = None,
        merge: Merge | None = None,
    ) -> np.ndarray:
        forward = self.function(ref, alt)
        if ref_rc is None or alt_rc is None:
            return forward
        return (merge or RC_MERGES["mean"])(forward, self.function(ref_rc, alt_rc))


@dataclass(frozen=True)
class ProductOfMerged(Score):
    """A score built from other scores, each merged over strands before they are combined."""

    parts: tuple[str, ...] = ()
    combine: Callable[..., np.ndarray] | None = None

    def __call__(self, ref, alt, ref_rc=None, alt_rc=None, merge=None):
        merged = [SCORES[part](ref, alt, ref_rc, alt_rc, merge) for part in self.parts]
        return self.combine(*merged)


def logit(p: np.ndarray) -> np.ndarray:
    """``log(p / (1 - p))`` with p clipped away from 0 and 1, in float64."""
    p = np.clip(np.asarray(p, dtype=np.float64), LOGIT_EPSILON, 1 - LOGIT_EPSILON)
    return np.log(p / (1 - p))


SCORES: dict[str, Score] = {}


def register_score(score: Score) -> Score:
    """Make ``score`` available by name to `epizoo.score_variants` and the CLI."""
    SCORES[score.name] = score
    return score


for _score in (
    Score("ref", lambda ref, alt: ref, "prediction for the reference allele"),
    Score("alt", lambda ref, alt: alt, "prediction for the alternative allele"),
    Score("diff", lambda ref, alt: alt - ref, "alt - ref"),
    Score("logit_ref", lambda ref, alt: logit(ref), "logit of the reference prediction"),
    Score("logit_alt", lambda ref, alt: logit(alt), "logit of the alternative prediction"),
    Score("logit", lambda ref, alt: logit(alt) - logit(ref), "logit(alt) - logit(ref)"),
    ProductOfMerged("deepsea_effect", None, "|logit(alt) - logit(ref)| * |alt - ref|",
                    parts=("logit", "diff"), combine=lambda lg, d: np.abs(lg) * np.abs(d)),
):
    register_score(_score)


def get_scores(names: list[str]) -> list[Score]:
    """The registered scores called ``names``, in that order."""
    unknown = [n for n in names if n not in SCORES]
    if unknown:
        raise ValueError(f"unknown score(s) {', '.join(unknown)}; available: {', '.join(SCORES)}")
    return [SCORES[n] for n in names]


def get_merge(name: str | None) -> Merge | None:
    """The reverse-complement merge called ``name`` (None: no reverse-complement scoring)."""
    if name is None:
        return None
    if name not in RC_MERGES:
        raise ValueError(f"unknown rc merging {name!r}; available: {', '.join(RC_MERGES)}")
    return RC_MERGES[name]
