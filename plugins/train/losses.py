"""The training losses, by the names a recipe gives (`LOSSES`).

GOPHER's (spec ``seed_002_gopher.md`` §2.8), on ``(batch, bins, tasks)`` profiles:

* `poisson_nll`: ``mean(pred - target * log(pred + 1e-7))`` (Keras ``poisson``; the paper's best);
* `mse`;
* `pearson_loss`: minus the mean over tasks of Pearson r over all (batch x bins) entries of a task;
* `pearson_mse`: ``pearson_loss + alpha * mse`` (alpha 0.001);
* `multinomial_nll_mse`: BPNet's ``alpha * multinomial NLL`` of the profile shape (the predictions
  as logits over the bins of each task, the total from the targets) per batch, plus MSE (alpha 1e-7;
  the authors' code);
* `binary_cross_entropy`: on probabilities, for the binary models (and FactorNet's
  strand-averaged probabilities), clamped away from 0 and 1;
* `multinomial_counts`: BPNet's loss of a counts-head model's ``{"profile", "counts"}`` logits
  (`LOGIT_LOSSES`): the multinomial NLL of the profile per sequence plus ``weight`` (10) times the
  MSE of the counts head against ``log(1 + total)`` of the target profile.

The others: ``bce_logits`` (on ``model.logits``, `LOGIT_LOSSES`) and ``poisson_log`` (Poisson NLL
of log rates).

`bin_mean` re-bins base-resolution coverage on the fly: the mean within non-overlapping bins (§1.2).
"""
from __future__ import annotations

from collections.abc import Callable, Mapping

import torch
import torch.nn.functional as F

EPSILON = 1e-7


def bin_mean(coverage: torch.Tensor, bin_size: int) -> torch.Tensor:
    """``(batch, length, tasks)`` coverage averaged within bins of ``bin_size``: ``(batch, length / bin_size, tasks)``."""
    batch, length, tasks = coverage.shape
    if length % bin_size:
        raise ValueError(f"the bin size {bin_size} must divide the length {length}")
    return coverage.reshape(batch, length // bin_size, bin_size, tasks).mean(dim=2)


def poisson_nll(predictions: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    return (predictions - targets * torch.log(predictions + EPSILON)).mean()


def mse(predictions: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    return F.mse_loss(predictions, targets)


def pearson_loss(predictions: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    p = predictions.reshape(-1, predictions.shape[-1])
    t = targets.reshape(-1, targets.shape[-1])
    p, t = p - p.mean(dim=0), t - t.mean(dim=0)
    r = (p * t).sum(dim=0) / (p.norm(dim=0) * t.norm(dim=0) + EPSILON)
    return -r.mean()


def pearson_mse(predictions: torch.Tensor, targets: torch.Tensor, alpha: float = 0.001) -> torch.Tensor:
    return pearson_loss(predictions, targets) + alpha * mse(predictions, targets)


def multinomial_nll(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """BPNet's multinomial NLL of ``targets`` (counts over the bins of each task) under the softmax of
    ``logits`` over the bins, summed over the batch and tasks: ``-log Mult(targets | total, softmax)``."""
    log_p = torch.log_softmax(logits, dim=1)
    total = targets.sum(dim=1)
    log_likelihood = (torch.lgamma(total + 1) - torch.lgamma(targets + 1).sum(dim=1)
                      + (targets * log_p).sum(dim=1))
    return -log_likelihood.sum()


def multinomial_nll_mse(predictions: torch.Tensor, targets: torch.Tensor, alpha: float = 1e-7) -> torch.Tensor:
    return alpha * multinomial_nll(predictions, targets) / len(predictions) + mse(predictions, targets)


def binary_cross_entropy(probabilities: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    return F.binary_cross_entropy(probabilities.clamp(EPSILON, 1 - EPSILON), labels.to(probabilities.dtype))


def multinomial_counts(heads: Mapping[str, torch.Tensor], targets: torch.Tensor, weight: float = 10.0) -> torch.Tensor:
    """BPNet's two-headed loss on ``{"profile": logits, "counts": log(1 + total)}``: the multinomial NLL
    of the target profile per sequence plus ``weight`` times the MSE of the log totals. A Poisson
    profile loss beside a counts head does not train: the counts MSE (~50 at the start, against a
    Poisson NLL ~1) swamps the profile (measured: 128-bp Pearson r 0.12 against 0.41 without the
    head after 400 steps; this loss: 0.33-0.35)."""
    totals = torch.log1p(targets.sum(dim=1))
    return multinomial_nll(heads["profile"], targets) / len(targets) + weight * mse(heads["counts"], totals)


LOSSES: dict[str, Callable] = {
    "poisson": poisson_nll, "mse": mse, "pearson": pearson_loss, "pearson_mse": pearson_mse,
    "multinomial_nll_mse": multinomial_nll_mse, "bce_probabilities": binary_cross_entropy,
    "bce_logits": F.binary_cross_entropy_with_logits,
    "poisson_log": lambda log_rate, y: F.poisson_nll_loss(log_rate, y, log_input=True),
    "multinomial_counts": multinomial_counts,
}
#: losses computed on ``model.logits(**inputs)`` rather than on the model's output
LOGIT_LOSSES = frozenset({"bce_logits", "multinomial_counts"})
