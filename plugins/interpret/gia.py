"""Global importance analysis (Koo et al. 2021; GOPHER, Toneyan et al. 2022), for any model.

The global importance of a pattern is the mean, over background sequences, of the change of the
explained value when the pattern is embedded: ``mean(f(background with pattern) - f(background))``.
Backgrounds are dinucleotide shuffles of real sequences (`shuffled_backgrounds`,
`epizoo.plugins.interpret.shuffles`), which keep
their composition and remove their motifs. The experiments of GOPHER's Fig. 6:

* `global_importance`: one or several patterns embedded at given positions;
* `flank_scan`: every filling of a pattern's ``.`` positions (``..TGA.TCA..``: 1,024 AP-1 cores
  with their flanks), each one's importance;
* `distance_scan`: a second pattern at each distance from the first (negative: upstream);
* `cooperativity`: the importance of two patterns together against the sum of each alone.

Patterns are strings over A, C, G, T; ``N`` keeps the background's base. They are embedded with
tangermeme's `substitute` (and the backgrounds shuffled with its `dinucleotide_shuffle`); the
value explained is chosen as in `attribute` (``target``, ``output``, ``window``, ``bins_axis``)
and predicted through `epizoo.predict`. Sequences are one-hot with the bases first along
``channels_axis``; track channels (and other inputs, in ``inputs``) are held as they are.
"""
from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import torch

from .attributions import explained_values
from .shuffles import shuffled_backgrounds


def global_importance(
    model: torch.nn.Module,
    backgrounds: np.ndarray,
    patterns: Mapping[int, str],
    *,
    inputs: Mapping[str, Any] | None = None,
    sequence_input: str = "seq",
    channels_axis: int = -1,
    batch_size: int = 256,
    device: str | None = None,
    background_values: np.ndarray | None = None,
    **selection: Any,
) -> np.ndarray:
    """The change of the explained value on each background when ``patterns`` are embedded.

    Parameters
    ----------
    model
        The network.
    backgrounds
        One-hot background sequences (`shuffled_backgrounds`).
    patterns
        ``{start position: pattern}`` embedded together.
    inputs
        The model's other inputs, one row per background (held fixed).
    sequence_input
        The name of the sequence among the model's inputs.
    channels_axis
        The sequences' channel axis (1 or -1).
    batch_size, device
        As in `epizoo.predict`.
    background_values
        The explained values of the backgrounds themselves, when already predicted (the scans
        predict them once).
    **selection
        ``target``, ``output``, ``window``, ``bins_axis``: the value explained, as in `attribute`.

    Returns
    -------
    numpy.ndarray
        ``(n backgrounds,)`` changes; their mean is the global importance.
    """
    backgrounds = np.asarray(backgrounds, dtype=np.float32)
    if background_values is None:
        background_values = explained_values(model, {**dict(inputs or {}), sequence_input: backgrounds}, batch_size,
                                             device, **selection)
    embedded = embed(backgrounds, patterns, channels_axis)
    return explained_values(model, {**dict(inputs or {}), sequence_input: embedded}, batch_size, device,
                            **selection) - background_values


def embed(sequences: np.ndarray, patterns: Mapping[int, str], channels_axis: int = -1) -> np.ndarray:
    """A copy of one-hot ``sequences`` with each pattern substituted at its start (tangermeme's
    `substitute`; ``N`` keeps the sequence's base, track channels are kept)."""
    from tangermeme.ersatz import substitute

    channels_first = torch.from_numpy(np.moveaxis(np.asarray(sequences, dtype=np.float32), channels_axis, 1).copy())
    bases = channels_first[:, :4]
    for start, pattern in sorted(patterns.items()):
        if start < 0 or start + len(pattern) > bases.shape[-1]:
            raise ValueError(f"pattern {pattern!r} at {start} falls outside sequences of length {bases.shape[-1]}")
        bases = substitute(bases, pattern, start=start, return_packed=False).to(bases.dtype)
    channels_first[:, :4] = bases
    return np.moveaxis(channels_first.numpy(), 1, channels_axis)


def centred(length: int, pattern: str) -> int:
    """The start that centres ``pattern`` in a sequence of ``length``, as tangermeme's `substitute`
    centres it: ``length // 2 - len(pattern) // 2`` (1,019 for an 11-bp pattern in 2,048 bp)."""
    return length // 2 - len(pattern) // 2


def flank_scan(model: torch.nn.Module, backgrounds: np.ndarray, pattern: str, position: int | None = None,
               **options: Any) -> pd.DataFrame:
    """The importance of every filling of ``pattern``'s ``.`` positions with A, C, G, T.

    Returns
    -------
    pandas.DataFrame
        ``sequence``, ``importance`` (mean change), ``sd`` (over backgrounds), most important first.
    """
    free = [i for i, letter in enumerate(pattern) if letter == "."]
    if len(free) > 6:
        raise ValueError(f"{pattern!r} has {len(free)} free positions: at most 6 (4,096 variants) are scanned")
    start = centred(_length(backgrounds, options), pattern) if position is None else position
    options = _with_background_values(model, backgrounds, options)
    rows = []
    for letters in itertools.product("ACGT", repeat=len(free)):
        variant = list(pattern)
        for i, letter in zip(free, letters):
            variant[i] = letter
        effects = global_importance(model, backgrounds, {start: "".join(variant)}, **options)
        rows.append(("".join(variant), float(effects.mean()), float(effects.std())))
    frame = pd.DataFrame(rows, columns=["sequence", "importance", "sd"])
    return frame.sort_values("importance", ascending=False, kind="stable").reset_index(drop=True)


def distance_scan(model: torch.nn.Module, backgrounds: np.ndarray, first: str, second: str,
                  distances: Sequence[int], position: int | None = None, **options: Any) -> pd.DataFrame:
    """The importance of ``first`` at ``position`` (default the centre) and ``second`` starting
    ``distance`` bases after ``first``'s start (negative: before it), both embedded together, against
    the bare backgrounds; overlapping distances are skipped.

    Returns
    -------
    pandas.DataFrame
        ``distance``, ``importance``, ``sd``, in the order of ``distances``.
    """
    length = _length(backgrounds, options)
    start = centred(length, first) if position is None else position
    options = _with_background_values(model, backgrounds, options)
    rows = []
    for distance in distances:
        other = start + distance
        overlaps = distance < len(first) and -distance < len(second)
        if overlaps or other < 0 or other + len(second) > length:
            continue
        effects = global_importance(model, backgrounds, {start: first, other: second}, **options)
        rows.append((int(distance), float(effects.mean()), float(effects.std())))
    return pd.DataFrame(rows, columns=["distance", "importance", "sd"])


def cooperativity(model: torch.nn.Module, backgrounds: np.ndarray, first: str, second: str, distance: int,
                  position: int | None = None, **options: Any) -> dict[str, float]:
    """The importances of ``first``, of ``second`` (starting ``distance`` after ``first``'s start) and
    of both together; ``interaction`` is both minus the sum of each alone (positive: cooperative)."""
    if distance < len(first) and -distance < len(second):
        raise ValueError(f"{second!r} at {distance} from {first!r} overlaps it")
    start = centred(_length(backgrounds, options), first) if position is None else position
    options = _with_background_values(model, backgrounds, options)
    alone = [float(global_importance(model, backgrounds, {at: p}, **options).mean())
             for at, p in ((start, first), (start + distance, second))]
    both = float(global_importance(model, backgrounds, {start: first, start + distance: second}, **options).mean())
    return {"first": alone[0], "second": alone[1], "both": both, "interaction": both - sum(alone)}


def _with_background_values(model, backgrounds, options: dict) -> dict:
    """``options`` with the backgrounds' own explained values, predicted once for a whole scan."""
    if options.get("background_values") is not None:
        return options
    keys = ("inputs", "sequence_input", "batch_size", "device", "target", "output", "window", "bins_axis")
    chosen = {k: options[k] for k in keys if k in options}
    named = {**dict(chosen.pop("inputs", None) or {}), chosen.pop("sequence_input", "seq"):
             np.asarray(backgrounds, dtype=np.float32)}
    values = explained_values(model, named, chosen.pop("batch_size", 256), chosen.pop("device", None), **chosen)
    return {**options, "background_values": values}


def _length(backgrounds: np.ndarray, options: Mapping[str, Any]) -> int:
    """The sequences' length: the axis of ``(n, length, channels)`` or ``(n, channels, length)``
    that is not the channels'."""
    return np.asarray(backgrounds).shape[2 if options.get("channels_axis", -1) == 1 else 1]


def entry_backgrounds(entry: str, intervals_file: str, fasta_file: str, dataloader_args: Mapping[str, Any] | None = None,
                      n_per_sequence: int = 1, target: int | str = 0, output: str | None = None,
                      random_state: int = 0) -> tuple[torch.nn.Module, dict[str, Any]]:
    """An entry's network and the options of the experiments above for it: its regions' inputs
    through its own dataloader, the sequence dinucleotide-shuffled ``n_per_sequence`` times (the
    other inputs repeated alongside), and the value explained from its declared contract."""
    from .regions import declared_explanation, entry_dataset

    kipoi_model, dataset, contract = entry_dataset(entry, intervals_file, fasta_file, dataloader_args)
    declared = declared_explanation(entry, contract, target, output)
    if not declared["sequence_inputs"]:
        raise ValueError(f"{entry} declares no sequence input to embed patterns in")
    name, axis = next(iter(declared["sequence_inputs"].items()))
    batches = [batch["inputs"] for batch in dataset.batch_iter(batch_size=256)]
    inputs = {key: np.concatenate([np.asarray(b[key]) for b in batches]) for key in batches[0]}
    backgrounds = shuffled_backgrounds(inputs.pop(name), n_per_sequence, axis, random_state)
    others = {key: np.repeat(values, n_per_sequence, axis=0) for key, values in inputs.items()}
    return kipoi_model.model, {"backgrounds": backgrounds, "inputs": others, "sequence_input": name,
                               "channels_axis": axis, "target": declared["target"], "output": declared["output"],
                               "bins_axis": declared["bins_axis"]}
