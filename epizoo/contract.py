"""The model contract: what an entry's network takes and returns, as its model.yaml declares it.

The declarations ride on Kipoi's own schema arrays, as extra keys that Kipoi ignores (its schema
classes are not strict), so stock ``kipoi test`` still reads the file::

    schema:
      inputs:
        seq:                      # the one sequence input
          shape: (1002, 5)
          kind: sequence
          alphabet: ACGT          # the one-hot channels, in order (default ACGT)
          axes: [length, channels]  # or [channels, length]
          n_value: 0              # what an N is in every base channel (0, or 0.25)
          tracks: [DGF]           # channels after the alphabet: tracks, reversed with the sequence
        expression: {shape: (1630,), kind: per_sample, column_labels: [ARID3A, ...]}  # a vector per sample
        dnase: {shape: (1000, 1), kind: per_base, axes: [length, channels]}  # a track per base
        cell_type: {shape: (), kind: index}              # an integer index (Avocado)
      targets:                    # one output ...
        shape: (1,)
        axes: [tasks]
        kind: probability         # probability | logit | coverage | log_counts | value
        column_labels: [FOXA1]
      # ... or named heads, as the model returns them (a mapping):
      #   profile: {shape: (64, 2), axes: [bins, tasks], bin_size: 32, kind: coverage, tasks: [A, B]}
      #   counts:  {shape: (2,), axes: [tasks], kind: log_counts, column_labels: [A, B]}

A per-sample input's ``column_labels`` (Kipoi's own field) name its entries: attributions report
them (which TFs' expression drive a prediction). Task names are Kipoi's ``column_labels`` when the tasks axis is the first one (Kipoi checks
them against the first axis), else the declaration's ``tasks``. Undeclared inputs take their
kinds from the entry's dataloader when it is an epizoo `IntervalDataset`; an undeclared 1-D
output is ``axes: [tasks], kind: value``. Profile outputs are centred in the input window.

`Contract.outputs_of` turns a forward pass into one array per output, ``(batch, tasks)`` or
``(batch, tasks, bins)`` whatever the declared axis order; `reverse_complement_inputs` is the
one reverse complement of model inputs (variant effects, training augmentation).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from epizoo.dataloaders.onehot import DNA, encode_bytes, reverse_complement_one_hot

if TYPE_CHECKING:
    import torch

INPUT_KINDS = {
    "sequence": "one-hot DNA (complemented and reversed on the reverse strand)",
    "per_base": "a track per base (reversed on the reverse strand)",
    "per_sample": "a vector per sample (the same on both strands)",
    "index": "an integer index (cell type, assay, position)",
}
OUTPUT_KINDS = {
    "probability": "in [0, 1]",
    "logit": "pre-sigmoid values",
    "coverage": "non-negative signal (reads, fold change) per bin or task",
    "log_counts": "log of a total count",
    "value": "any other value",
}
OUTPUT_AXES = ("tasks", "bins")


class ContractError(ValueError):
    """A model.yaml declaration, or a forward pass, that breaks the contract."""


@dataclass(frozen=True)
class InputSpec:
    """One declared input.

    ``axes`` order the non-batch axes of a sequence or per-base input (``length``,
    ``channels``); ``tracks`` name the channels of a sequence input after its alphabet;
    ``labels`` name the entries of a per-sample vector (its ``column_labels``).
    """

    name: str
    kind: str
    shape: tuple[int | None, ...] | None = None
    alphabet: str = DNA
    axes: tuple[str, ...] = ("length", "channels")
    n_value: float = 0.0
    tracks: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()

    @property
    def channels_first(self) -> bool:
        return self.axes == ("channels", "length")

    @property
    def length_axis(self) -> int:
        """The length axis of a batch of this input (counted from the end)."""
        return -1 if self.channels_first else -2


@dataclass(frozen=True)
class OutputSpec:
    """One declared output (head): its axes, kind, task names and bin size."""

    name: str
    axes: tuple[str, ...]
    kind: str
    tasks: tuple[str, ...]
    shape: tuple[int, ...]
    bin_size: int | None = None

    @property
    def is_profile(self) -> bool:
        return "bins" in self.axes

    @property
    def n_bins(self) -> int:
        return self.shape[self.axes.index("bins")] if self.is_profile else 1

    def canonical(self, array: np.ndarray) -> np.ndarray:
        """``(batch, *shape)`` -> ``(batch, tasks)`` or ``(batch, tasks, bins)``."""
        order = [0] + [1 + self.axes.index(axis) for axis in OUTPUT_AXES if axis in self.axes]
        return np.transpose(np.asarray(array), order)


@dataclass(frozen=True)
class Contract:
    """An entry's declared inputs and outputs.

    ``structure`` says how the network returns its outputs: ``tensor`` (one output),
    ``mapping`` (named heads) or ``tuple`` (heads in order).
    """

    entry: str
    inputs: dict[str, InputSpec]
    outputs: dict[str, OutputSpec]
    structure: str = "tensor"
    declared: set[str] = field(default_factory=set, compare=False)

    @property
    def sequence(self) -> InputSpec | None:
        """The sequence input, or None for a model that takes none (Avocado)."""
        return next((spec for spec in self.inputs.values() if spec.kind == "sequence"), None)

    def outputs_of(self, raw: Any) -> dict[str, np.ndarray]:
        """A forward pass's outputs by name, each ``(batch, tasks[, bins])`` float32.

        Raises
        ------
        ContractError
            When an output's shape is not the declared one (naming the entry and the field).
        """
        arrays = {name: _numpy(value) for name, value in self._by_name(raw).items()}
        for name, spec in self.outputs.items():
            if tuple(arrays[name].shape[1:]) != spec.shape:
                raise ContractError(_shape_problem(self, spec, arrays[name]))
        return {name: spec.canonical(arrays[name]) for name, spec in self.outputs.items()}

    def output_problems(self, raw: Any) -> list[str]:
        """How a forward pass's outputs differ from the declaration (empty: they match)."""
        try:
            arrays = self._by_name(raw)
        except ContractError as error:
            return [str(error)]
        return [problem for name, spec in self.outputs.items()
                for problem in _output_problems(self, spec, _numpy(arrays[name]))]

    def _by_name(self, raw: Any) -> dict[str, Any]:
        field_ = f"{self.entry}: schema.targets"
        if self.structure == "mapping":
            if not isinstance(raw, Mapping) or set(raw) != set(self.outputs):
                got = sorted(raw) if isinstance(raw, Mapping) else type(raw).__name__
                raise ContractError(f"{field_} declares the heads {sorted(self.outputs)}, the model returns {got}")
            return dict(raw)
        if self.structure == "tuple":
            if not isinstance(raw, (list, tuple)) or len(raw) != len(self.outputs):
                got = len(raw) if isinstance(raw, (list, tuple)) else type(raw).__name__
                raise ContractError(f"{field_} declares {len(self.outputs)} outputs in order, the model returns {got}")
            return dict(zip(self.outputs, raw))
        if isinstance(raw, (Mapping, list, tuple)):
            raise ContractError(f"{field_} declares one output, the model returns a {type(raw).__name__}: "
                                "declare its heads (a mapping of arrays) in model.yaml")
        return {next(iter(self.outputs)): raw}


def _numpy(value: Any) -> np.ndarray:
    if hasattr(value, "detach"):
        value = value.detach().float().cpu().numpy()
    return np.asarray(value, dtype=np.float32)


def _field(contract: Contract, spec: OutputSpec) -> str:
    return f"{contract.entry}: schema.targets{'' if contract.structure == 'tensor' else '.' + spec.name}"


def _shape_problem(contract: Contract, spec: OutputSpec, array: np.ndarray) -> str:
    return (f"{_field(contract, spec)}.shape: declared {spec.shape} (axes {list(spec.axes)}), the forward "
            f"pass gives {tuple(array.shape[1:])} per sample")


def _output_problems(contract: Contract, spec: OutputSpec, array: np.ndarray) -> list[str]:
    field_ = _field(contract, spec)
    if tuple(array.shape[1:]) != spec.shape:
        return [_shape_problem(contract, spec, array)]
    finite = array[np.isfinite(array)]
    if len(finite) < array.size:
        return [f"{field_}: the forward pass gives non-finite values"]
    if spec.kind == "probability" and len(finite) and (finite.min() < 0 or finite.max() > 1):
        return [f"{field_}.kind: declared probability, but the forward pass gives values in "
                f"[{finite.min():.3g}, {finite.max():.3g}]"]
    if spec.kind == "coverage" and len(finite) and finite.min() < 0:
        return [f"{field_}.kind: declared coverage, but the forward pass gives negative values ({finite.min():.3g})"]
    return []


# -- reading the declarations --------------------------------------------------------------------
def read_contract(entry: str, schema: Mapping[str, Any], dataloader_inputs: Mapping[str, InputSpec] | None = None) -> Contract:
    """The contract of an entry from its model.yaml ``schema`` mapping.

    Parameters
    ----------
    entry
        The entry's name (for messages).
    schema
        model.yaml's ``schema`` (inputs and targets), as YAML parses it.
    dataloader_inputs
        The input kinds its dataloader serves (`IntervalDataset.input_specs`), for inputs that
        model.yaml does not declare.
    """
    inputs_schema = schema.get("inputs") or {}
    if not isinstance(inputs_schema, Mapping) or "shape" in inputs_schema:
        raise ContractError(f"{entry}: schema.inputs must name its inputs (a mapping of name -> array)")
    inputs = {name: _input_spec(entry, name, array, (dataloader_inputs or {}).get(name))
              for name, array in inputs_schema.items()}
    structure, arrays = _target_arrays(entry, schema.get("targets"))
    outputs = {name: _output_spec(entry, name if structure != "tensor" else None, name, array)
               for name, array in arrays.items()}
    declared = {name for name, array in inputs_schema.items() if "kind" in array}
    declared |= {f"targets/{name}" for name, array in arrays.items() if "axes" in array and "kind" in array}
    return Contract(entry, inputs, outputs, structure, declared)


def parse_shape(text: Any) -> tuple[int | None, ...]:
    """Kipoi's shape notation, ``"(1002, 5)"``, ``"(None, 4)"``, ``"()"`` -> a tuple."""
    if isinstance(text, (list, tuple)):
        return tuple(None if d is None else int(d) for d in text)
    parts = [p.strip() for p in str(text).strip().strip("()").split(",") if p.strip()]
    return tuple(None if p in ("None", "null") else int(p) for p in parts)


def _input_spec(entry: str, name: str, array: Mapping[str, Any], served: InputSpec | None) -> InputSpec:
    field_ = f"{entry}: schema.inputs.{name}"
    shape = parse_shape(array.get("shape", "()"))
    if "kind" not in array:
        if served is not None:
            return served
        is_sequence = str(array.get("special_type", "")) == "DNASeq"
        if not is_sequence and len(shape) > 1:
            raise ContractError(f"{field_}: declare its kind ({', '.join(INPUT_KINDS)})")
        kind = "sequence" if is_sequence else "per_sample"
        return InputSpec(name, kind, shape, axes=_guess_axes(shape))
    kind = array["kind"]
    if kind not in INPUT_KINDS:
        raise ContractError(f"{field_}.kind: {kind!r} is not one of {', '.join(INPUT_KINDS)}")
    axes = tuple(array.get("axes") or ("length", "channels"))
    if kind in ("sequence", "per_base") and set(axes) != {"length", "channels"}:
        raise ContractError(f"{field_}.axes: {list(axes)} must be [length, channels] or [channels, length]")
    if kind in ("sequence", "per_base") and len(shape) != 2:
        raise ContractError(f"{field_}.shape: a {kind} input is (length, channels) or (channels, length), "
                            f"not {shape}")
    spec = InputSpec(name, kind, shape, str(array.get("alphabet", DNA)).upper(), axes,
                     float(array.get("n_value", 0.0)), tuple(str(t) for t in array.get("tracks") or ()),
                     _input_labels(field_, kind, shape, array.get("column_labels")))
    if kind == "sequence" and len(shape) == 2 and None not in shape:
        channels = shape[axes.index("channels")]
        if channels != len(spec.alphabet) + len(spec.tracks):
            raise ContractError(f"{field_}: {channels} channels, but alphabet {spec.alphabet} and tracks "
                                f"{list(spec.tracks)} make {len(spec.alphabet) + len(spec.tracks)}")
    return spec


def _input_labels(field_: str, kind: str, shape: tuple[int | None, ...], labels: Any) -> tuple[str, ...]:
    """The names of a per-sample vector's entries: a list, as long as the vector."""
    if labels is None:
        return ()
    if kind != "per_sample" or len(shape) != 1 or not isinstance(labels, (list, tuple)):
        raise ContractError(f"{field_}.column_labels: a list naming the entries of a per_sample vector")
    if shape[0] is not None and len(labels) != shape[0]:
        raise ContractError(f"{field_}.column_labels: {len(labels)} names for a vector of {shape[0]}")
    return tuple(str(label) for label in labels)


def _guess_axes(shape: tuple[int | None, ...]) -> tuple[str, ...]:
    """An undeclared sequence's axes: the shorter axis is the channels'."""
    if len(shape) == 2 and None not in shape and shape[0] < shape[1]:
        return ("channels", "length")
    return ("length", "channels")


def _target_arrays(entry: str, targets: Any) -> tuple[str, dict[str, Mapping[str, Any]]]:
    """``(structure, {output name: array})`` of model.yaml's targets."""
    if isinstance(targets, Mapping) and "shape" in targets:
        return "tensor", {str(targets.get("name") or "output"): targets}
    if isinstance(targets, Mapping) and targets:
        return "mapping", {str(name): array for name, array in targets.items()}
    if isinstance(targets, list) and targets:
        return "tuple", {str(array.get("name") or k): array for k, array in enumerate(targets)}
    raise ContractError(f"{entry}: schema.targets declares no output")


def _output_spec(entry: str, head: str | None, name: str, array: Mapping[str, Any]) -> OutputSpec:
    field_ = f"{entry}: schema.targets{'' if head is None else '.' + head}"
    shape = parse_shape(array.get("shape", "()"))
    if None in shape:
        raise ContractError(f"{field_}.shape: {shape} must be fixed (no None)")
    axes = tuple(array.get("axes") or (("tasks",) if len(shape) == 1 else ()))
    if len(axes) != len(shape) or len(set(axes)) != len(axes) or not set(axes) <= set(OUTPUT_AXES) or "tasks" not in axes:
        raise ContractError(f"{field_}.axes: declare the axes of shape {shape}: [tasks], [bins, tasks] or "
                            f"[tasks, bins] (got {list(axes) or 'none'})")
    kind = array.get("kind", "value")
    if kind not in OUTPUT_KINDS:
        raise ContractError(f"{field_}.kind: {kind!r} is not one of {', '.join(OUTPUT_KINDS)}")
    bin_size = array.get("bin_size")
    if "bins" in axes and not (isinstance(bin_size, int) and bin_size > 0):
        raise ContractError(f"{field_}.bin_size: a profile output needs a positive bin size in bp")
    tasks = _task_names(field_, array, shape, axes)
    return OutputSpec(name, axes, kind, tasks, shape, bin_size if "bins" in axes else None)


def _task_names(field_: str, array: Mapping[str, Any], shape: tuple[int, ...], axes: tuple[str, ...]) -> tuple[str, ...]:
    n_tasks = shape[axes.index("tasks")]
    labels = array.get("column_labels")
    if labels is not None and axes[0] != "tasks":
        raise ContractError(f"{field_}.column_labels name the first axis ({axes[0]}); name the tasks with "
                            "`tasks: [...]` instead")
    names = array.get("tasks", labels)
    if names is None:
        return tuple(str(k) for k in range(n_tasks))
    if labels is not None and "tasks" in array and list(map(str, array["tasks"])) != list(map(str, labels)):
        raise ContractError(f"{field_}: column_labels and tasks disagree")
    if len(names) != n_tasks:
        raise ContractError(f"{field_}: {len(names)} task names for {n_tasks} tasks")
    return tuple(str(name) for name in names)


# -- what the kinds mean ---------------------------------------------------------------------------
def reverse_complement_inputs(inputs: Mapping[str, np.ndarray], specs: Mapping[str, InputSpec],
                              rows: np.ndarray | slice = slice(None)) -> dict[str, np.ndarray]:
    """The inputs of the reverse-complement windows, for the batch ``rows`` (default all).

    Sequences are complemented and reversed (their track channels reversed only), per-base
    inputs reversed, per-sample vectors and indices unchanged. Returns new arrays for ``rows``.
    """
    flipped = {}
    for name, values in inputs.items():
        part = values[rows]
        spec = specs.get(name)
        kind = spec.kind if spec is not None else "per_sample"
        if kind == "sequence":
            part = reverse_complement_one_hot(part, spec.alphabet, spec.channels_first)
        elif kind == "per_base":
            part = np.flip(part, axis=spec.length_axis)
        flipped[name] = np.ascontiguousarray(part)
    return flipped


def example_inputs(contract: Contract, n: int = 2, seed: int = 0) -> dict[str, torch.Tensor]:
    """Random inputs of every declared input's kind and shape (index inputs: zeros): what
    `epizoo check` runs an entry on, and `epizoo export` traces it with."""
    import torch

    rng = np.random.default_rng(seed)
    inputs = {}
    for name, spec in contract.inputs.items():
        if spec.shape is None or None in spec.shape:
            raise ContractError(f"{contract.entry}: schema.inputs.{name}.shape {spec.shape} is not fixed; "
                                "epizoo check needs a fixed shape to run the model")
        shape = (n, *spec.shape)
        if spec.kind == "index":
            inputs[name] = torch.zeros(shape, dtype=torch.int64)
        elif spec.kind == "sequence":
            inputs[name] = torch.from_numpy(_random_one_hot(rng, shape, spec))
        else:
            inputs[name] = torch.from_numpy(rng.random(shape, dtype=np.float32))
    return inputs


def _random_one_hot(rng: np.random.Generator, shape: tuple[int, ...], spec: InputSpec) -> np.ndarray:
    """Random bases of the alphabet (encoded as the entry's dataloader would), then random values
    in the track channels."""
    length = shape[2] if spec.channels_first else shape[1]
    letters = rng.choice(np.frombuffer(spec.alphabet.encode(), np.uint8), (shape[0], length))
    bases = encode_bytes(letters, alphabet=spec.alphabet, n_value=spec.n_value, channels_first=spec.channels_first)
    tracks = rng.random((shape[0], len(spec.tracks), length) if spec.channels_first
                        else (shape[0], length, len(spec.tracks)), dtype=np.float32)
    return np.concatenate([bases, tracks], axis=1 if spec.channels_first else 2)
