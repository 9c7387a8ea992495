"""Attributions of a zoo entry on the regions of a BED file, through the entry's own dataloader.

`attribute_regions` builds each batch of inputs with the entry's dataloader (its FASTA window,
tracks and feature vectors, as for prediction), explains one output value per region with
`attribute`, and returns the attributions of every float input with the regions' coordinates.
The task may be named; one-hot correction follows each sequence input's declared channel axis.

The arrays, as `save_arrays` writes them (npz, or HDF5 with one dataset each):

* ``<input>``: the attributions of each float input (``seq``, ``meta_features``, ...);
* ``input.<input>``: the inputs themselves;
* ``hypothetical.<input>``: for a sequence input, with ``hypothetical=True``, the contribution
  every base would have had at each position (TF-MoDISco's input);
* ``channels_axis.<input>``: a sequence input's channel axis (1 or -1), one number;
* ``tracks.<input>``: the names of a sequence input's channels after its bases (``DNase``, ...);
* ``labels.<input>``: the names of a per-sample vector's entries, where the entry declares them
  (``column_labels``: a ChromDragoNN's TFs), which `feature_importance` ranks;
* with ``method="ism"``, instead of attributions: ``ism.<input>``, the ``(n, positions, 4)``
  effects of every substitution in the sequence input (the entry's first), and
  ``ism_positions.<input>``, their ``(first, stop)``;
* ``chrom``, ``start``, ``end``: the regions.
"""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from epizoo.atomic import atomic_path
from epizoo.progress import progress

from .attributions import attribute


def attribute_regions(
    entry: str | Path,
    intervals_file: str | Path,
    fasta_file: str | Path,
    dataloader_args: Mapping[str, Any] | None = None,
    method: str = "input_x_gradient",
    target: int | str = 0,
    output: str | None = None,
    hypothetical: bool = False,
    batch_size: int = 64,
    device: str | None = None,
    verbose: bool = False,
    **options: Any,
) -> dict[str, np.ndarray]:
    """The attributions, inputs and coordinates of every region of ``intervals_file`` (see above).

    Parameters
    ----------
    entry
        A zoo name or entry folder.
    intervals_file, fasta_file, dataloader_args
        The entry's dataloader arguments: the regions, the genome and its other inputs.
    method
        One of `epizoo.plugins.interpret.attributions.METHODS`, or ``ism`` (saturation
        mutagenesis, `epizoo.plugins.interpret.ism.saturation_mutagenesis`).
    output, batch_size, device, verbose, options
        As in `epizoo.plugins.interpret.attributions.attribute` (``options``: ``n_shuffles``,
        ``n_steps``, ``explain``, ...; for ISM ``positions``, ``score``).
    target
        The task, by index or by name.
    hypothetical
        Also return the sequence inputs' hypothetical contributions (``input_x_gradient`` and
        ``deep_lift_shap``).
    """
    kipoi_model, dataset, contract = entry_dataset(entry, intervals_file, fasta_file, dataloader_args)
    declared = declared_explanation(entry, contract, target, output)
    corrected = declared["sequence_inputs"]
    parts: dict[str, list[np.ndarray]] = {}
    batches = progress(dataset.batch_iter(batch_size=batch_size), quiet=not verbose,
                       total=-(-len(dataset) // batch_size), unit="batch")
    first_seed = options.pop("random_state", 0)
    for number, batch in enumerate(batches):
        if method == "ism":
            _append(parts, _ism_arrays(kipoi_model.model, batch["inputs"], declared, batch_size, device, **options))
            continue
        # region i of the file is seeded first_seed + i, whatever the batch size
        scores = attribute(kipoi_model.model, batch["inputs"], method, **declared, hypothetical=hypothetical,
                           batch_size=batch_size, device=device, random_state=first_seed + number * batch_size,
                           **options)
        for name, values in scores.items():
            _append(parts, _arrays(name, values.numpy(), np.asarray(batch["inputs"][name]), corrected, hypothetical))
    regions = {"chrom": dataset.chroms.astype(str), "start": dataset.starts, "end": dataset.ends}
    held = {name for name in contract.inputs if f"input.{name}" in parts}  # explained, or mutated by ISM
    axes = {f"channels_axis.{name}": np.array(axis) for name, axis in corrected.items() if name in held}
    tracks = {f"tracks.{name}": np.array(contract.inputs[name].tracks, dtype=str) for name in corrected if name in held}
    labels = {f"labels.{name}": np.array(spec.labels, dtype=str) for name, spec in contract.inputs.items()
              if spec.labels and name in held}
    return {key: np.concatenate(values) for key, values in parts.items()} | axes | tracks | labels | regions


def feature_importance(arrays: Mapping[str, np.ndarray], name: str, rows: np.ndarray | slice = slice(None)):
    """The mean attribution of each entry of the per-sample input ``name`` over ``rows`` (default
    every region), by its label, largest first: which TFs' expression drive the predictions.

    Parameters
    ----------
    arrays
        What `attribute_regions` returned (or `load_arrays` read back).
    name
        A per-sample input whose labels the entry declares (``labels.<name>``).
    rows
        The regions averaged over (a boolean mask or indices).

    Returns
    -------
    pandas.Series
        Mean attribution by label, sorted descending.
    """
    import pandas as pd

    if f"labels.{name}" not in arrays:
        raise ValueError(f"no labels.{name}: the entry does not name the entries of its input {name!r} "
                         f"(schema.inputs.{name}.column_labels)")
    scores = np.asarray(arrays[name])[rows].mean(axis=0)
    return pd.Series(scores, index=arrays[f"labels.{name}"], name=name).sort_values(ascending=False)


def entry_dataset(entry: str | Path, intervals_file: str | Path, fasta_file: str | Path,
                  dataloader_args: Mapping[str, Any] | None = None):
    """An entry as a Kipoi model, its default dataloader on the regions, and its contract (inputs the
    dataloader serves stand in for undeclared ones)."""
    from epizoo.registry import get_contract, get_model

    kipoi_model = get_model(entry)
    dataset = kipoi_model.default_dataloader(intervals_file=str(intervals_file), fasta_file=str(fasta_file),
                                             **dict(dataloader_args or {}))
    return kipoi_model, dataset, get_contract(entry, dataset.input_specs())


def entry_explanation(entry: str | Path, target: int | str = 0, output: str | None = None):
    """An entry's network and the arguments of `attribute` its declared contract gives
    (`declared_explanation`)."""
    from epizoo.registry import get_contract, get_model

    return get_model(entry, with_dataloader=False).model, declared_explanation(entry, get_contract(entry), target,
                                                                                 output)


def declared_explanation(entry: str | Path, contract, target: int | str = 0, output: str | None = None) -> dict:
    """``target`` (the task's index, given by index or name), ``output`` (the head, None for a
    lone output), ``bins_axis`` and ``sequence_inputs`` (each sequence input's channel axis), from
    an entry's declared contract (`epizoo.contract.Contract`)."""
    name = output if output is not None else next(iter(contract.outputs))
    if name not in contract.outputs:
        raise ValueError(f"{entry} has no output {name!r}; its outputs are {', '.join(contract.outputs)}")
    spec = contract.outputs[name]
    if isinstance(target, str) and target not in spec.tasks:
        raise ValueError(f"{entry} has no task {target!r}; its tasks are {', '.join(spec.tasks)}")
    return {"target": spec.tasks.index(target) if isinstance(target, str) else int(target),
            "output": None if contract.structure == "tensor" else name,  # a lone output is not indexed
            "bins_axis": 1 + spec.axes.index("bins") if spec.is_profile else 1,
            "sequence_inputs": {n: (1 if s.channels_first else -1) for n, s in contract.inputs.items()
                                if s.kind == "sequence"}}


def _ism_arrays(network, inputs: Mapping[str, Any], declared: Mapping[str, Any], batch_size: int, device,
                positions: tuple[int, int] | None = None, score: str = "diff") -> dict[str, np.ndarray]:
    """One batch's saturation mutagenesis of the entry's first sequence input, with that input."""
    from .ism import saturation_mutagenesis

    if not declared["sequence_inputs"]:
        raise ValueError("ISM mutates a sequence input, and this entry declares none")
    name, axis = next(iter(declared["sequence_inputs"].items()))
    length = np.asarray(inputs[name]).shape[-1 if axis == 1 else -2]
    first, stop = positions if positions is not None else (0, length)
    effects = saturation_mutagenesis(network, inputs, positions=(first, stop), score=score, target=declared["target"],
                                     output=declared["output"], bins_axis=declared["bins_axis"], sequence_input=name,
                                     channels_axis=axis, batch_size=batch_size, device=device)
    n = len(effects)
    return {f"ism.{name}": effects, f"input.{name}": np.asarray(inputs[name]),
            f"ism_positions.{name}": np.tile([first, stop], (n, 1))}


def _append(parts: dict[str, list[np.ndarray]], arrays: Mapping[str, np.ndarray]) -> None:
    for key, array in arrays.items():
        parts.setdefault(key, []).append(array)


def _arrays(name: str, scores: np.ndarray, inputs: np.ndarray, corrected: Mapping[str, int],
            hypothetical: bool) -> dict[str, np.ndarray]:
    """One batch's arrays of one input: its attributions, the input and, asked for, the hypothetical
    contributions (from which the observed bases' are taken)."""
    arrays = {name: scores, f"input.{name}": inputs}
    if hypothetical and name in corrected:
        bases = [slice(None)] * scores.ndim
        bases[corrected[name]] = slice(0, 4)
        observed = scores.copy()
        observed[tuple(bases)] *= inputs[tuple(bases)]
        arrays |= {name: observed, f"hypothetical.{name}": scores}
    return arrays


def save_arrays(path: str | Path, arrays: Mapping[str, np.ndarray]) -> Path:
    """Write ``arrays`` atomically: npz (compressed) by default, HDF5 for ``.h5``/``.hdf5``."""
    import h5py

    path = Path(path)
    with atomic_path(path) as tmp:
        if path.suffix.lower() in (".h5", ".hdf5"):
            with h5py.File(tmp, "w") as handle:
                for key, values in arrays.items():
                    values = np.asarray(values)
                    handle.create_dataset(key, data=values.astype("S") if values.dtype.kind == "U" else values)
        else:
            with open(tmp, "wb") as handle:
                np.savez_compressed(handle, **arrays)
    return path


def load_arrays(path: str | Path) -> dict[str, np.ndarray]:
    """The arrays of a file `save_arrays` wrote (strings back as ``str``)."""
    import h5py

    path = Path(path)
    if path.suffix.lower() in (".h5", ".hdf5"):
        with h5py.File(path, "r") as handle:
            arrays = {key: handle[key][()] for key in handle}
        return {k: v.astype(str) if np.asarray(v).dtype.kind == "S" else v for k, v in arrays.items()}
    with np.load(path, allow_pickle=False) as saved:
        return {key: saved[key] for key in saved.files}
