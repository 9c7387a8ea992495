"""Toy networks and dataloaders whose outputs can be computed by hand, for the model-contract tests.

`tests/test_model_contract.py` copies this file into each toy entry (as a contributor's entry
carries its own ``architecture.py``) and names its classes with Kipoi's ``file.py::Class``.
Sequence inputs are ``(batch, 100, 4)`` one-hot windows, channels last (A, C, G, T).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from kipoi.data import Dataset
from torch import nn

from epizoo.dataloaders.interval_dataset import IntervalDataset, read_feature_vector

WIDTH, BIN_SIZE = 100, 10
N_BINS = WIDTH // BIN_SIZE
A, T = 0, 3


class _Toy(nn.Module):
    """A module with one parameter (1.0), so that it has a device and a dtype."""

    def __init__(self) -> None:
        super().__init__()
        self.scale = nn.Parameter(torch.ones(()))


class BaseCountProfile(_Toy):
    """Per 10-bp bin, 1 + the count of A (task 0) and of T (task 1): ``(bins, tasks)``, or
    ``(tasks, bins)`` with ``tasks_first``. Strand-asymmetric: its reverse complement swaps
    the tasks and reverses the bins."""

    def __init__(self, tasks_first: bool = False) -> None:
        super().__init__()
        self.tasks_first = tasks_first

    def forward(self, seq: torch.Tensor) -> torch.Tensor:
        counts = seq[..., [A, T]].unflatten(1, (N_BINS, BIN_SIZE)).sum(2)  # (batch, bins, 2)
        profile = 1 + self.scale * counts
        return profile.transpose(1, 2) if self.tasks_first else profile


class LastBinProfile(_Toy):
    """``(bins, tasks)`` of ones, but for the last bin: 1 + (task + 1) x the A count of the
    whole window. A variant anywhere changes only the last bin."""

    def forward(self, seq: torch.Tensor) -> torch.Tensor:
        profile = torch.ones(len(seq), N_BINS, 2, dtype=seq.dtype)
        a_count = seq[..., A].sum(1)
        profile[:, -1, :] = 1 + self.scale * a_count[:, None] * torch.tensor([1.0, 2.0])
        return profile


class ProfileAndCounts(BaseCountProfile):
    """Two heads: ``profile`` (`BaseCountProfile`) and ``counts``, the log of its totals."""

    def forward(self, seq: torch.Tensor) -> dict[str, torch.Tensor]:
        profile = super().forward(seq)
        return {"profile": profile, "counts": torch.log(profile.sum(1))}


class TrackModel(_Toy):
    """Sequence with a DNase channel: the track's sum over the window's first half + 0.1 x the A
    count of that half. Strand-asymmetric, so its reverse-complement views must be built right."""

    def forward(self, seq: torch.Tensor) -> torch.Tensor:
        half = seq[:, :WIDTH // 2]
        return (self.scale * (half[..., 4].sum(1) + 0.1 * half[..., A].sum(1)))[:, None]


class ExpressionModel(_Toy):
    """Sequence + a per-sample vector: sigmoid(sum(expression) + A count of the centre 10 bp - 5)."""

    def forward(self, seq: torch.Tensor, expression: torch.Tensor) -> torch.Tensor:
        centre = seq[:, WIDTH // 2 - 5:WIDTH // 2 + 5, A].sum(1)
        return torch.sigmoid(self.scale * (expression.sum(1) + centre - 5))[:, None]


class IndexModel(_Toy):
    """Avocado-shaped: integer cell type, assay and position -> one value,
    ``10 * cell_type + assay + position / 1000``."""

    def forward(self, cell_type: torch.Tensor, assay: torch.Tensor, position: torch.Tensor) -> torch.Tensor:
        if cell_type.is_floating_point():
            raise TypeError("index inputs must reach the model as integers")
        value = 10 * cell_type + assay + position / 1000
        return (self.scale * value.to(self.scale.dtype))[:, None]


class ToyWindows(IntervalDataset):
    """100-bp one-hot windows (channels last) centred on the regions of a BED file."""

    def __init__(self, intervals_file, fasta_file):
        super().__init__(intervals_file, fasta_file, WIDTH)


class ToyTrackWindows(IntervalDataset):
    """`ToyWindows` with a DNase bigWig appended as a fifth channel."""

    def __init__(self, intervals_file, fasta_file, dnase_file):
        super().__init__(intervals_file, fasta_file, WIDTH, bigwig_files=[dnase_file], track_names=["DGF"])


class ToyExpressionWindows(IntervalDataset):
    """`ToyWindows` plus the cell type's expression vector (one value per line)."""

    def __init__(self, intervals_file, fasta_file, expression_file):
        super().__init__(intervals_file, fasta_file, WIDTH, cell_features=read_feature_vector(expression_file),
                         feature_input="expression")


class IndexRows(Dataset):
    """Rows of a TSV with integer columns ``cell_type``, ``assay``, ``position``."""

    def __init__(self, rows_file):
        self.rows = pd.read_csv(rows_file, sep="\t")

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, index: int) -> dict:
        row = self.rows.iloc[index]
        return {"inputs": {key: np.int64(row[key]) for key in ("cell_type", "assay", "position")},
                "metadata": {"row": np.int64(index)}}
