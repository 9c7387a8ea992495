"""A zoo entry as the variant-effect engine sees it: inputs around variants, and predictions.

Any entry with a sequence input whose dataloader is an `epizoo.dataloaders.interval_dataset.IntervalDataset`
works without entry-specific code. `EntryInputs` builds the dataloader with the user's
non-sequence arguments (bigWig tracks, cell type, ...) and no intervals, and asks it for the
reference inputs of each variant's window (`IntervalDataset.batch_for_windows`); the alternative
inputs are the same arrays with the base channels of the sequence replaced. Non-sequence inputs
are therefore taken from the reference and are identical for ref and alt, as in kipoi-veff.
`EntryModel` runs the entry's network on such inputs and returns its declared outputs
(`epizoo.contract`).
"""
from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any

import numpy as np

from epizoo.contract import Contract, reverse_complement_inputs
from epizoo.dataloaders.genome import Genome
from epizoo.dataloaders.onehot import encode_bytes
from epizoo.dataloaders.interval_dataset import IntervalDataset
from epizoo.dataloaders.variant_windows import variant_windows, window_start
from epizoo.dataloaders.variants import Variant
from epizoo.device import autocast_dtype, resolve_device
from epizoo.prediction import predict
from epizoo.registry import get_contract

from .views import REVERSE, Views

Inputs = dict[str, np.ndarray]


def dataloader_parameters(loader) -> set[str]:
    """Arguments of an entry's dataloader that the user gives (all but intervals and FASTA)."""
    return set(inspect.signature(loader).parameters) - {"intervals_file", "fasta_file"}


def required_parameters(loader) -> set[str]:
    """The user-given dataloader arguments that have no default."""
    parameters = inspect.signature(loader).parameters
    return {
        name for name in dataloader_parameters(loader)
        if parameters[name].default is inspect.Parameter.empty
        and parameters[name].kind not in (inspect.Parameter.VAR_KEYWORD, inspect.Parameter.VAR_POSITIONAL)
    }


class EntryInputs:
    """Reference and alternative inputs of an entry for variant-centred windows.

    Parameters
    ----------
    name
        The entry's name (for messages).
    loader
        The entry's dataloader class (Kipoi's ``default_dataloader``).
    genome
        The reference genome (shared by all entries of a run).
    dataloader_args
        The dataloader's arguments other than the intervals and the FASTA.
    """

    def __init__(self, name: str, loader: type, genome: Genome, dataloader_args: Mapping[str, Any] | None = None) -> None:
        if not (inspect.isclass(loader) and issubclass(loader, IntervalDataset)):
            raise NotImplementedError(
                f"{name}: its dataloader {getattr(loader, '__name__', loader)} is not an epizoo "
                "IntervalDataset, so epizoo cannot build its inputs around variants. Fix: give the "
                "entry a dataloader derived from epizoo.dataloaders.interval_dataset.IntervalDataset."
            )
        args = dict(dataloader_args or {})
        _check_arguments(name, loader, args)
        self.name = name
        self.genome = genome
        self.dataset: IntervalDataset = loader(intervals_file=None, fasta_file=genome, **args)
        self.width = self.dataset.width
        self.specs = self.dataset.input_specs()

    def views(self, variants: list[Variant], views: Views) -> Inputs:
        """The inputs of every view of ``n`` variants, stacked: rows ``[k n, (k + 1) n)`` are
        view ``k`` (see `epizoo.plugins.veff.views`)."""
        alleles = {shift: self.alleles(variants, shift) for shift in views.shifts}
        parts = []
        for view in views:
            inputs = alleles[view.shift][view.allele]
            parts.append(reverse_complement_inputs(inputs, self.specs) if view.strand == REVERSE else inputs)
        return {key: np.concatenate([part[key] for part in parts]) for key in parts[0]}

    def alleles(self, variants: list[Variant], shift: int = 0) -> tuple[Inputs, Inputs]:
        """Reference and alternative inputs of windows moved ``shift`` bp from the variants' centres."""
        chroms = np.array([v.chrom for v in variants], dtype=object)
        positions = np.fromiter((v.pos for v in variants), dtype=np.int64, count=len(variants))
        _, alt_bytes, _ = variant_windows(self.genome, variants, self.width, shift)
        ref = self.dataset.batch_for_windows(chroms, window_start(positions, self.width) + shift)["inputs"]
        seq = self.dataset.seq_input
        alt = {**ref, seq: ref[seq].copy()}
        self._encode_bases(alt[seq], alt_bytes)
        return ref, alt

    def _encode_bases(self, seq: np.ndarray, sequence_bytes: np.ndarray) -> None:
        """Overwrite the base channels of ``seq`` (in place) with the encoding of the bytes."""
        encoding = self.dataset.encoding
        n_letters = len(encoding["alphabet"])
        bases = encode_bytes(sequence_bytes, **encoding)
        if encoding["channels_first"]:
            seq[:, :n_letters, :] = bases
        else:
            seq[..., :n_letters] = bases


def _check_arguments(name: str, loader: type, args: Mapping[str, Any]) -> None:
    unknown = sorted(set(args) - dataloader_parameters(loader))
    if unknown:
        raise ValueError(
            f"{name} takes no dataloader argument(s) {', '.join(unknown)}; it takes: "
            f"{', '.join(sorted(dataloader_parameters(loader))) or 'none besides the FASTA'}"
        )
    missing = sorted(required_parameters(loader) - set(args))
    if missing:
        raise ValueError(
            f"{name} needs the dataloader argument(s) {', '.join(missing)}. Fix: pass them, e.g. "
            f"--dataloader-args '{{\"{missing[0]}\": ...}}'"
        )


class EntryModel:
    """An entry's network, predicting its declared outputs on numpy inputs.

    Parameters
    ----------
    name
        The entry's name (used in output columns).
    kipoi_model
        The entry loaded by Kipoi (``epizoo.registry.get_model``).
    contract
        Its declared inputs and outputs (default: read from its model.yaml).
    device
        ``cpu``, ``cuda``, ... Default: `epizoo.device.default_device`.
    precision
        ``float32`` (default: outputs equal the model's own predictions), ``bf16`` or ``fp16``
        autocast.
    """

    def __init__(self, name: str, kipoi_model: Any, contract: Contract | None = None, device: str | None = None,
                 precision: str = "float32") -> None:
        self.name = name
        self.contract = contract or get_contract(name)
        self.device = resolve_device(device)
        self.autocast_dtype = autocast_dtype(precision)
        self.module = kipoi_model.model.to(self.device).eval()
        # A model that averages its strands itself (FactorNet) predicts the same for a window and
        # its reverse complement, so reverse-complement windows need not be run through it.
        self.strand_symmetric = bool(getattr(self.module, "reverse_complement_invariant", False))

    def predict(self, inputs: Inputs, batch_size: int | None = None) -> dict[str, np.ndarray]:
        """The declared outputs for a batch of inputs, ``{output: (batch, tasks[, bins])}``.

        Every forward pass has ``batch_size`` rows (default: as many as ``inputs``), the last
        one padded, so that a row's outputs do not depend on the other rows (`epizoo.predict`).
        """
        n = len(next(iter(inputs.values())))
        raw = predict(self.module, inputs, batch_size=batch_size or n, device=self.device, dtype=self.autocast_dtype)
        return self.contract.outputs_of(raw)


def require_sequence_input(name: str, contract: Contract) -> None:
    """Refuse, with the reason, an entry that variant effects cannot apply to."""
    if contract.sequence is None:
        inputs = ", ".join(f"{spec.name} ({spec.kind})" for spec in contract.inputs.values())
        raise ValueError(f"{name} takes no sequence input (its inputs: {inputs}), so a variant cannot change "
                         "what it sees: variant effects need an entry with a declared `kind: sequence` input")

