"""In-silico saturation mutagenesis: every single-base substitution of a window, batched.

`saturation_mutagenesis` builds the mutants of each sequence (3 per position: the identity
substitution is skipped, its effect is 0 by definition), runs them through `epizoo.predict` in
fixed-shape batches (so a result does not depend on the batching), takes one output value per
mutant as `attribute` does (``target``, ``output``, ``window``) and scores it against the
reference with a variant-effect score (`epizoo.plugins.veff.scores`, default ``diff``).
A position without a base (N) is scored for all four.
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
import torch

from epizoo.device import default_device
from epizoo.prediction import model_state, predict

from .attributions import select_value


def saturation_mutagenesis(
    model: torch.nn.Module,
    X: np.ndarray | torch.Tensor | Mapping[str, Any],
    *,
    positions: tuple[int, int] | None = None,
    score: str = "diff",
    kind: str = "value",
    target: int = 0,
    output: str | int | None = None,
    window: tuple[int, int] | None = None,
    bins_axis: int = 1,
    sequence_input: str = "seq",
    batch_size: int = 256,
    device: str | torch.device | None = None,
    verbose: bool = False,
) -> np.ndarray:
    """Effects ``(n, positions, 4)`` of substituting each base (A, C, G, T) at each position.

    Parameters
    ----------
    model
        The network.
    X
        One-hot sequences ``(n, length, channels)`` (bases first, then any track channels), or
        named inputs with the sequences under ``sequence_input``; other inputs stay as they are.
    positions
        ``(first, stop)`` of the positions mutated; default all.
    score, kind
        The variant-effect score of ``(reference value, mutant value)``, and the output kind it
        reads (``probability`` for the logit scores).
    target, output, window, bins_axis
        The value explained, as in `epizoo.plugins.interpret.attributions.attribute`.
    batch_size, device, verbose
        As in `epizoo.predict`; ``batch_size`` counts mutants.
    """
    from epizoo.plugins.veff.scores import get_scores

    scorer = get_scores([score])[0]
    named = dict(X) if isinstance(X, Mapping) else {sequence_input: X}
    named = {k: np.asarray(v.detach().cpu() if torch.is_tensor(v) else v) for k, v in named.items()}
    sequences = named[sequence_input]
    first, stop = positions if positions is not None else (0, sequences.shape[1])
    selection = {"target": target, "output": output, "window": window, "bins_axis": bins_axis}
    device = torch.device(device) if device is not None else default_device()
    effects = np.zeros((len(sequences), stop - first, 4), dtype=np.float32)
    with model_state(model, device):
        reference = _values(model, named, batch_size, device, selection)
        for i in _progress(range(len(sequences)), verbose):
            rows, bases = _substitutions(sequences[i], first, stop)
            mutants = {k: np.repeat(v[i:i + 1], len(rows), axis=0) for k, v in named.items()}
            mutants[sequence_input][np.arange(len(rows)), rows, :4] = np.eye(4, dtype=sequences.dtype)[bases]
            values = _values(model, mutants, batch_size, device, selection)
            effects[i, rows - first, bases] = scorer(np.full((len(rows), 1), reference[i]), values[:, None], kind=kind)[:, 0]
    return effects


def _substitutions(sequence: np.ndarray, first: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
    """Positions and new bases of every non-identity substitution in ``[first, stop)``."""
    present = sequence[first:stop, :4] > 0.5
    rows, bases = np.nonzero(~present)
    return rows + first, bases


def _values(model, named: dict[str, np.ndarray], batch_size: int, device, selection: dict) -> np.ndarray:
    return select_value(predict(model, named, batch_size=batch_size, device=device), **selection).numpy()


def _progress(items: range, verbose: bool) -> Iterator[int] | range:
    if not verbose:
        return items
    from tqdm.auto import tqdm

    return tqdm(items, desc="mutagenesis", unit="sequence")
