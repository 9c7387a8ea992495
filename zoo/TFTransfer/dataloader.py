"""The TF-binding CNNs' dataloader: 200-bp windows of a BED file's regions, one-hot, channels first.

Novakovsky et al. 2021 take each DHS cluster's centre +/- 100 bp (spec §1.4: ``(start + end) / 2``
then ``bedtools slop``), so a region is re-centred to the model's width on ``(start + end) // 2``
(``centring="floor"``: a 200-bp input region is kept as it is). ``seq`` is (4, width): A, C, G, T
rows, as the authors' PyTorch models take it (§1.1); an N is 0.25 in every row, as in the authors'
``dna_one_hot`` (training data hold no N, §1.1). The same class serves training (with a FASTA
whose records are the regions; `epizoo.plugins.train.binding_matrix`), prediction (a genome and
a BED) and the variant-effect and interpretation plugins (``batch_for_windows``).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from epizoo.dataloaders.descriptions import describe
from epizoo.dataloaders.genome import Genome
from epizoo.dataloaders.interval_dataset import IntervalDataset

SEQ_LEN = 200
N_VALUE = 0.25
#: the example inputs that dataloader.yaml.j2 names (the repository's examples/)
EXAMPLE_FILES = tuple(
    Path(__file__).resolve().parents[2] / "examples" / name for name in ("dhs_regions.bed", "genome.fa")
)


class TFBindingWindows(IntervalDataset):
    """One-hot 200-bp windows centred on the regions of a BED file.

    Parameters
    ----------
    intervals_file
        BED3+ of regions (DHSs); each is re-centred to the model's width. None: only
        `batch_for_windows`.
    fasta_file
        Reference genome (the models were trained on hg38 regions), plain or bgzip FASTA.
    """

    seq_len = SEQ_LEN

    def __init__(self, intervals_file: str | Path | None, fasta_file: str | Path | Genome) -> None:
        super().__init__(intervals_file, fasta_file, width=self.seq_len, channels_first=True, n_value=N_VALUE,
                         dtype=np.float32, centring="floor")


class TFBindingWindows500(TFBindingWindows):
    """500-bp windows (the paper's Fig. S8 inputs)."""

    seq_len = 500


class TFBindingWindows1000(TFBindingWindows):
    """1,000-bp windows (the paper's Fig. S9 inputs)."""

    seq_len = 1000


def dataloader_class(seq_len: int) -> str:
    """Name of the dataloader class for a model input of ``seq_len`` bp (Kipoi needs the
    dataloader.yaml arguments to be exactly the class's, so each width is a class)."""
    for cls in (TFBindingWindows, TFBindingWindows500, TFBindingWindows1000):
        if cls.seq_len == seq_len:
            return cls.__name__
    raise ValueError(f"no TFTransfer dataloader for {seq_len}-bp inputs (200, 500 or 1000)")


def _describe_classes() -> None:
    """Each class carries its dataloader description (dataloader.yaml.j2), so that entries naming
    it by import get Kipoi's example files (`epizoo.dataloaders.descriptions`)."""
    from epizoo.entry_writing import render_template

    folder = Path(__file__).resolve().parent
    for cls in (TFBindingWindows, TFBindingWindows500, TFBindingWindows1000):
        values = {"seq_len": cls.seq_len, "dataloader": cls.__name__}
        describe(cls, render_template(folder / "dataloader.yaml.j2", values), folder)


_describe_classes()
