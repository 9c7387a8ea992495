"""A zoo entry as the variant-effect engine sees it: inputs around variants, and predictions.

Any entry whose dataloader is an `epizoo.dataloaders.regions.IntervalDataset` works without
entry-specific code. `EntryInputs` builds the dataloader with the user's non-sequence arguments
(bigWig tracks, cell type, ...) and no intervals, and asks it for the reference inputs of each
variant's window (`IntervalDataset.batch_for_windows`); the alternative inputs are the same arrays
with the base channels of the sequence replaced. Non-sequence inputs are therefore taken from the
reference and are identical for ref and alt, as in kipoi-veff. `EntryModel` runs the entry's
network on such inputs.
"""
from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

from epizoo.dataloaders.genome import Genome
from epizoo.dataloaders.onehot import encode_bytes, reverse_complement_one_hot
from epizoo.dataloaders.regions import IntervalDataset
from epizoo.dataloaders.variant_windows import variant_windows, window_start
from epizoo.dataloaders.variants import Variant
from epizoo.device import autocast_dtype, resolve_device
from epizoo.prediction import predict

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
                "entry a dataloader derived from epizoo.dataloaders.regions.IntervalDataset."
            )
        args = dict(dataloader_args or {})
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
        self.name = name
        self.genome = genome
        self.dataset: IntervalDataset = loader(intervals_file=None, fasta_file=genome, **args)
        self.width = self.dataset.width

    def windows(self, variants: list[Variant], reverse_complements: bool = False) -> Inputs:
        """The inputs of a batch of ``n`` variants, stacked for one forward pass.

        Rows ``[0, n)`` are the reference windows, ``[n, 2n)`` the alternative ones (the same
        arrays with the sequence's base channels re-encoded), and with ``reverse_complements``
        rows ``[2n, 4n)`` their reverse complements.
        """
        chroms = np.array([v.chrom for v in variants], dtype=object)
        positions = np.fromiter((v.pos for v in variants), dtype=np.int64, count=len(variants))
        _, alt_bytes, _ = variant_windows(self.genome, variants, self.width)
        ref = self.dataset.batch_for_windows(chroms, window_start(positions, self.width))["inputs"]
        stacked = {key: np.concatenate([values, values]) for key, values in ref.items()}
        self._encode_bases(stacked[self.dataset.seq_input][len(variants):], alt_bytes)
        if reverse_complements:
            flipped = self.reverse_complement(stacked)
            stacked = {key: np.concatenate([stacked[key], flipped[key]]) for key in stacked}
        return stacked

    def _encode_bases(self, seq: np.ndarray, sequence_bytes: np.ndarray) -> None:
        """Overwrite the base channels of ``seq`` (in place) with the encoding of the bytes."""
        encoding = self.dataset.encoding
        n_letters = len(encoding["alphabet"])
        bases = encode_bytes(sequence_bytes, **encoding)
        if encoding["channels_first"]:
            seq[:, :n_letters, :] = bases
        else:
            seq[..., :n_letters] = bases

    def reverse_complement(self, inputs: Inputs) -> Inputs:
        """Inputs of the reverse-complement windows: bases complemented and reversed, tracks
        reversed, per-window feature vectors unchanged."""
        encoding = self.dataset.encoding
        flipped = dict(inputs)
        seq = inputs[self.dataset.seq_input]
        flipped[self.dataset.seq_input] = np.ascontiguousarray(
            reverse_complement_one_hot(seq, encoding["alphabet"], encoding["channels_first"])
        )
        tracks = self.dataset.tracks_input
        if tracks is not None and tracks in inputs:
            axis = -1 if encoding["channels_first"] else -2
            flipped[tracks] = np.ascontiguousarray(np.flip(inputs[tracks], axis=axis))
        return flipped


class EntryModel:
    """An entry's network, predicting on numpy inputs.

    Parameters
    ----------
    name
        The entry's name (used in output columns).
    kipoi_model
        The entry loaded by Kipoi (``epizoo.registry.get_model``).
    device
        ``cpu``, ``cuda``, ... Default: `epizoo.device.default_device`.
    precision
        ``float32`` (default: outputs equal the model's own predictions), ``bf16`` or ``fp16``
        autocast.
    """

    def __init__(self, name: str, kipoi_model: Any, device: str | None = None, precision: str = "float32") -> None:
        self.name = name
        self.device = resolve_device(device)
        self.autocast_dtype = autocast_dtype(precision)
        self.module = kipoi_model.model.to(self.device).eval()
        self.tasks = task_names(kipoi_model)
        # A model that averages its strands itself (FactorNet) predicts the same for a window and
        # its reverse complement, so reverse-complement windows need not be run through it.
        self.strand_symmetric = bool(getattr(self.module, "reverse_complement_invariant", False))

    def predict(self, inputs: Inputs, batch_size: int | None = None) -> np.ndarray:
        """Model outputs for a batch of inputs, ``(batch, n_tasks)`` float32.

        Every forward pass has ``batch_size`` rows (default: as many as ``inputs``), the last
        one padded, so that a row's outputs do not depend on the other rows (`epizoo.predict`).
        """
        n = len(next(iter(inputs.values())))
        output = predict(self.module, inputs, batch_size=batch_size or n, device=self.device,
                         dtype=self.autocast_dtype)
        return output.float().numpy().reshape(n, -1)


def task_names(kipoi_model: Any) -> list[str]:
    """The column labels of an entry's targets (their indices when it has none)."""
    targets = kipoi_model.schema.targets
    labels = getattr(targets, "column_labels", None)
    if labels:
        return [str(label) for label in labels]
    shape = getattr(targets, "shape", None) or (1,)
    return [str(i) for i in range(int(np.prod([d for d in shape if d])))]


def split(inputs: Inputs, parts: int) -> list[Inputs]:
    """Undo the stacking of `EntryInputs.windows`: ``parts`` equal input sets."""
    return [dict(zip(inputs, chunk)) for chunk in zip(*(np.split(v, parts) for v in inputs.values()))]
