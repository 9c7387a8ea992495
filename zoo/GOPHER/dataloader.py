"""GOPHER's dataloader: 2,048-bp windows of a BED file's regions, one-hot, channels last.

GOPHER's models take ``(2048, 4)`` one-hot A, C, G, T (spec §1.3); a region is re-centred to
the model's width on its midpoint (kipoiseq's rule), and an N is all zeros (spec §6.1 leaves the
choice open; the synthetic training genome has N runs, so zeros keep them signal-free). The same
class serves prediction (a genome and a BED), training (`epizoo.plugins.train.recipes.gopher`,
through ``batch_for_windows``) and the variant-effect and interpretation plugins.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from epizoo.dataloaders.descriptions import describe
from epizoo.dataloaders.genome import Genome
from epizoo.dataloaders.interval_dataset import IntervalDataset

from .architecture import SEQ_LEN

#: the example inputs that dataloader.yaml.j2 names (the repository's examples/)
EXAMPLE_FILES = tuple(Path(__file__).resolve().parents[2] / "examples" / name for name in ("regions.bed", "genome.fa"))


class ProfileWindows(IntervalDataset):
    """One-hot 2,048-bp windows centred on the regions of a BED file.

    Parameters
    ----------
    intervals_file
        BED3+ of regions; each is re-centred to 2,048 bp. None: only `batch_for_windows`.
    fasta_file
        Reference genome, plain or bgzip FASTA.
    """

    seq_len = SEQ_LEN

    def __init__(self, intervals_file: str | Path | None, fasta_file: str | Path | Genome) -> None:
        super().__init__(intervals_file, fasta_file, width=self.seq_len, n_value=0.0, dtype=np.float32)


def _describe() -> None:
    """The class carries its dataloader description, so entries naming it by import get Kipoi's
    example files (`epizoo.dataloaders.descriptions`)."""
    from epizoo.entry_writing import render_template

    folder = Path(__file__).resolve().parent
    describe(ProfileWindows, render_template(folder / "dataloader.yaml.j2", {"seq_len": SEQ_LEN}), folder)


_describe()
