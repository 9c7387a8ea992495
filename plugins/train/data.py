"""Training batches: inputs built by the entry's own dataloader, targets from a sample table.

A recipe describes each epoch as a table of windows (``source, chrom, start``) with their
targets (and optionally a mask of entries to ignore, e.g. FactorNet's ambiguous bins). The
inputs of a window are built by the same `IntervalDataset` that the finished zoo entry uses for
prediction (``batch_for_windows``), one per ``source`` (e.g. per cell type, with its own DNase
track and expression PCs), so a trained model sees exactly what it will see in the zoo.
Sequences are fetched per batch: nothing genome-sized is ever held in memory. Targets too may be
read per batch (``Samples.targets`` a `TargetReader`, e.g. GOPHER's coverage profiles from
bigWigs), so that no dense all-windows target array is built.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import pandas as pd
import torch

from epizoo.contract import reverse_complement_inputs
from epizoo.dataloaders.interval_dataset import IntervalDataset

from .samplers import random_stream, reverse_complement_mask


class TargetReader(Protocol):
    """Targets of a batch's windows, read when the batch is built."""

    #: the targets' first axis after the batch is positions (a profile): reversed on the reverse strand
    reversed_with_sequence: bool

    def __call__(self, windows: pd.DataFrame) -> np.ndarray: ...


@dataclass
class Samples:
    """Windows with their targets.

    Attributes
    ----------
    windows
        DataFrame with ``source`` (index of the input builder), ``chrom``, ``start`` (0-based
        start of the model-width window), and optionally ``reverse`` (bool: serve the window's
        reverse complement, for recipes that add reverse complements as extra samples).
    targets
        ``(n, n_tasks)`` float32, or a `TargetReader` that reads them per batch.
    mask
        ``(n, n_tasks)`` bool, False where the target is to be ignored (None: use all).
    """

    windows: pd.DataFrame
    targets: np.ndarray | TargetReader
    mask: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.windows)

    def take(self, rows: np.ndarray) -> "Samples":
        targets = self.targets[rows] if isinstance(self.targets, np.ndarray) else self.targets
        return Samples(self.windows.iloc[rows].reset_index(drop=True), targets,
                       None if self.mask is None else self.mask[rows])

    def target_values(self) -> np.ndarray:
        """The targets as an array (read now when they are read per batch)."""
        return self.targets if isinstance(self.targets, np.ndarray) else self.targets(self.windows)


class WindowBatches(torch.utils.data.Dataset):
    """Fixed batches of `Samples`, built on demand (a map-style dataset of whole batches).

    Parameters
    ----------
    builders
        One dataloader per ``source`` value, constructed with ``intervals_file=None``.
    samples
        The windows and targets, in the order they are to be served.
    batch_size
        Windows per batch (the last batch may be smaller).
    reverse_complement
        Probability of serving a window's reverse complement instead (augmentation; the
        targets are the same on both strands).
    seed
        Seed (integers) of the augmentation draws, combined with the batch index so that
        reruns draw the same.
    """

    def __init__(self, builders: Sequence[IntervalDataset], samples: Samples, batch_size: int,
                 reverse_complement: float = 0.0, seed: Sequence[int] = (0,)) -> None:
        self.builders, self.samples, self.batch_size = list(builders), samples, batch_size
        self.reverse_complement, self.seed = reverse_complement, seed

    def __len__(self) -> int:
        return -(-len(self.samples) // self.batch_size)

    def __getitem__(self, index: int):
        rows = np.arange(index * self.batch_size, min((index + 1) * self.batch_size, len(self.samples)))
        batch = self.samples.take(rows)
        inputs = self._inputs(batch.windows)
        targets = batch.target_values().astype(np.float32)
        flip = np.zeros(len(rows), bool)
        if "reverse" in batch.windows:
            flip |= batch.windows["reverse"].to_numpy(dtype=bool)
        if self.reverse_complement:
            flip |= reverse_complement_mask(len(rows), random_stream(self.seed, index), self.reverse_complement)
        if flip.any():
            inputs = self._flip(inputs, flip)
            if getattr(batch.targets, "reversed_with_sequence", False):
                targets[flip] = targets[flip, ::-1]
        tensors = {key: torch.from_numpy(np.ascontiguousarray(value)) for key, value in inputs.items()}
        mask = None if batch.mask is None else torch.from_numpy(batch.mask)
        return tensors, torch.from_numpy(np.ascontiguousarray(targets)), mask

    def _inputs(self, windows: pd.DataFrame) -> dict[str, np.ndarray]:
        """Inputs of all windows, each built by its source's dataloader, in row order."""
        assembled: dict[str, np.ndarray] = {}
        sources = windows["source"].to_numpy()
        for source in np.unique(sources):
            rows = np.flatnonzero(sources == source)
            part = self.builders[source].batch_for_windows(
                windows["chrom"].to_numpy()[rows], windows["start"].to_numpy()[rows]
            )["inputs"]
            for key, values in part.items():
                if key not in assembled:
                    assembled[key] = np.empty((len(windows), *values.shape[1:]), dtype=values.dtype)
                assembled[key][rows] = values
        return assembled

    def _flip(self, inputs: dict[str, np.ndarray], rows: np.ndarray) -> dict[str, np.ndarray]:
        """Reverse-complement the windows ``rows`` in place (`epizoo.contract`'s input kinds)."""
        for key, values in reverse_complement_inputs(inputs, self.builders[0].input_specs(), rows).items():
            inputs[key][rows] = values
        return inputs


class IndexBatches(torch.utils.data.Dataset):
    """Fixed batches of `Samples` whose inputs are integer columns of the sample table (Avocado's
    ``celltype``, ``assay`` and ``position``) rather than windows of a genome.

    Parameters
    ----------
    samples
        The sample table (with the ``inputs`` columns) and its targets.
    batch_size
        Samples per batch (the last batch may be smaller).
    inputs
        The columns that are the model's inputs, by name.
    """

    def __init__(self, samples: Samples, batch_size: int, inputs: Sequence[str]) -> None:
        self.samples, self.batch_size, self.inputs = samples, batch_size, list(inputs)

    def __len__(self) -> int:
        return -(-len(self.samples) // self.batch_size)

    def __getitem__(self, index: int):
        batch = self.samples.take(np.arange(index * self.batch_size, min((index + 1) * self.batch_size,
                                                                          len(self.samples))))
        inputs = {name: torch.from_numpy(batch.windows[name].to_numpy(np.int64)) for name in self.inputs}
        return inputs, torch.from_numpy(np.ascontiguousarray(batch.target_values(), dtype=np.float32)), None


def loader(dataset: torch.utils.data.Dataset, num_workers: int = 0) -> torch.utils.data.DataLoader:
    """A DataLoader serving the dataset's ready-made batches."""
    return torch.utils.data.DataLoader(
        dataset, batch_size=None, shuffle=False, num_workers=num_workers,
        collate_fn=_keep, persistent_workers=num_workers > 0,
    )


def _keep(batch):
    return batch
