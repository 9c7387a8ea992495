"""In-silico saturation mutagenesis: every single-base substitution of a window, batched.

`saturation_mutagenesis` builds the mutants of each sequence (3 per position: the identity
substitution is skipped, its effect is 0 by definition), runs them through `epizoo.predict` in
passes as even as the rows allow (so that none is padded: a pass of fewer rows costs as much as a
full one), takes one output value per
mutant as `attribute` does (``target``, ``output``, ``window``) and scores it against the
reference with a variant-effect score (`epizoo.plugins.veff.scores`, default ``diff``).
A position without a base (N) is scored for all four. CPU kernels round by batch shape, so an
effect can differ in the 7th digit between calls of different sizes; within 1e-6 of naive ISM.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

from epizoo.device import default_device
from epizoo.prediction import model_state
from epizoo.progress import progress

from .attributions import explained_values


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
    channels_axis: int = -1,
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
    sequence_input, channels_axis
        The sequences' name among named inputs, and their channel axis (-1, or 1 for
        ``(n, channels, length)``); the effects are ``(n, positions, 4)`` either way.
    batch_size, device, verbose
        As in `epizoo.predict`; ``batch_size`` is the most mutants per pass (the rows are split
        into passes as even as they allow, so that no pass is padded).
    """
    from epizoo.plugins.veff.scores import get_scores

    scorer = get_scores([score])[0]
    named = dict(X) if isinstance(X, Mapping) else {sequence_input: X}
    named = {k: np.asarray(v.detach().cpu() if torch.is_tensor(v) else v) for k, v in named.items()}
    named[sequence_input] = sequences = np.moveaxis(named[sequence_input], channels_axis, -1)
    first, stop = positions if positions is not None else (0, sequences.shape[1])
    if len(sequences) == 0 or not 0 <= first < stop <= sequences.shape[1]:
        raise ValueError(f"cannot mutate positions {first}-{stop} of {len(sequences)} sequences of "
                         f"{sequences.shape[1]} bp: give 0 <= first < stop <= length")
    # one stream of rows over all sequences, each reference first: batches are full but the last
    plan = np.concatenate([_rows_of(i, sequences[i], first, stop) for i in range(len(sequences))])
    selection = {"target": target, "output": output, "window": window, "bins_axis": bins_axis}
    device = torch.device(device) if device is not None else default_device()
    values = np.empty(len(plan), dtype=np.float32)
    # batches as even as the rows allow: the last is not padded by up to batch_size - 1 rows
    batch_size = -(-len(plan) // -(-len(plan) // batch_size))
    with model_state(model, device):
        for start in progress(range(0, len(plan), batch_size), quiet=not verbose, desc="mutagenesis", unit="batch"):
            chunk = plan[start:start + batch_size]
            values[start:start + len(chunk)] = explained_values(model, _mutants(named, sequence_input, chunk,
                                                                         channels_axis), batch_size, device, **selection)
    is_reference = plan[:, 1] < 0
    reference = np.empty(len(sequences), dtype=np.float32)
    reference[plan[is_reference, 0]] = values[is_reference]
    mutant = plan[~is_reference]
    effects = np.zeros((len(sequences), stop - first, 4), dtype=np.float32)
    scored = scorer(reference[mutant[:, 0], None], values[~is_reference, None], kind=kind)[:, 0]
    effects[mutant[:, 0], mutant[:, 1] - first, mutant[:, 2]] = scored
    return effects


def _rows_of(index: int, sequence: np.ndarray, first: int, stop: int) -> np.ndarray:
    """``(sequence, position, base)`` rows: the reference ``(index, -1, -1)``, then every non-identity
    substitution in ``[first, stop)``."""
    positions, bases = _substitutions(sequence, first, stop)
    rows = np.stack([np.full(len(positions), index), positions, bases], axis=1)
    return np.concatenate([[[index, -1, -1]], rows]).astype(np.int64)


def _mutants(named: dict[str, np.ndarray], sequence_input: str, rows: np.ndarray,
             channels_axis: int = -1) -> dict[str, np.ndarray]:
    """The inputs of ``rows``: each row's sequence with its substitution (none for references), the
    sequences back on their own channel axis."""
    batch = {k: v[rows[:, 0]] for k, v in named.items()}  # copies
    changed = np.flatnonzero(rows[:, 1] >= 0)
    seq = batch[sequence_input]
    seq[changed, rows[changed, 1], :4] = np.eye(4, dtype=seq.dtype)[rows[changed, 2]]
    batch[sequence_input] = np.ascontiguousarray(np.moveaxis(seq, -1, channels_axis))
    return batch


def _substitutions(sequence: np.ndarray, first: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
    """Positions and new bases of every non-identity substitution in ``[first, stop)``."""
    present = sequence[first:stop, :4] > 0.5
    rows, bases = np.nonzero(~present)
    return rows + first, bases

