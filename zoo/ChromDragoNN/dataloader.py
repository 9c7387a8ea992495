"""ChromDragoNN's dataloader: a BED's regions in one named cell type.

Each region becomes the 1,000-bp window centred on it (one-hot, channels last, A C G T, N all
zeros: the authors' encoder), the cell type's TF expression in the model's TF order
(``expression``), and, for models that take it, the region's mean accessibility over the training
cell types (``mean_accessibility``), read from a bigWig at the window's central 50 bp (the value of
the 200-bp bin centred there, `epizoo.plugins.train.accessibility_bins.write_mean_bigwig`).

The expression table is a TSV of genes (rows, first column their names) x cell types (columns),
in TPM; the model's TFs (``tfs_file``, one per line) are taken from it in the model's order and
transformed as the model was trained (``arcsinh``, the authors' released matrix; ``log1p``, the
paper's log with a pseudocount of 1; ``none``: already transformed). A cell type the table lacks,
or a TF of the model that it lacks, is an error naming the file and the missing names.
"""
from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import numpy as np
import pandas as pd
from epizoo.dataloaders.descriptions import describe
from epizoo.dataloaders.files import SIGNAL_TRANSFORMS, read_names
from epizoo.dataloaders.genome import Genome
from epizoo.dataloaders.interval_dataset import IntervalDataset
from epizoo.dataloaders.tracks import BigWigTracks

from .architecture import SEQ_LEN

#: the 50 bp at a window's centre that carry its bin's mean accessibility
MEAN_SPAN = 50
def cell_expression(expression_file: str | Path, cell_type: str, tfs: list[str], transform: str = "arcsinh") -> np.ndarray:
    """``cell_type``'s expression of ``tfs``, in that order, transformed: float32 ``(len(tfs),)``."""
    if transform not in SIGNAL_TRANSFORMS:
        raise ValueError(f"expression_transform must be one of {', '.join(SIGNAL_TRANSFORMS)}, not {transform!r}")
    table = pd.read_csv(expression_file, sep="\t", index_col=0)
    if cell_type not in table.columns:
        raise KeyError(f"{expression_file} has no column {cell_type!r}; its cell types: "
                       f"{', '.join(map(str, table.columns[:20]))}{' ...' if len(table.columns) > 20 else ''}. "
                       "Fix: name one of them as cell_type, or add the cell type's expression")
    missing = [tf for tf in tfs if tf not in table.index]
    if missing:
        raise KeyError(f"{expression_file} lacks {len(missing)} of the model's {len(tfs)} TFs: "
                       f"{', '.join(missing[:20])}{' ...' if len(missing) > 20 else ''}. Fix: give their expression "
                       "(0 where a TF is not expressed) under the model's names")
    values = pd.to_numeric(table.loc[tfs, cell_type], errors="coerce").to_numpy(np.float64)
    if not np.isfinite(values).all() or (values < 0).any():
        bad = [tf for tf, v in zip(tfs, values) if not np.isfinite(v) or v < 0][:10]
        raise ValueError(f"{expression_file}, column {cell_type}: expression must be finite and >= 0 (TPM); "
                         f"not so for {', '.join(bad)}")
    return SIGNAL_TRANSFORMS[transform](values).astype(np.float32)


class SequenceBins(IntervalDataset):
    """One-hot 1,000-bp windows of a BED's regions: the stage-1 (sequence-only) models' input.

    Parameters
    ----------
    intervals_file
        BED3+ of regions (200-bp bins), each re-centred to 1,000 bp. None: only `batch_for_windows`.
    fasta_file
        Reference genome, plain or bgzip FASTA.
    """

    seq_len = SEQ_LEN

    def __init__(self, intervals_file: str | Path | None, fasta_file: str | Path | Genome) -> None:
        super().__init__(intervals_file, fasta_file, width=self.seq_len, n_value=0.0, dtype=np.float32)


class CellTypeBins(IntervalDataset):
    """`SequenceBins`' windows with a cell type's TF expression and each region's mean accessibility.

    Parameters
    ----------
    intervals_file, fasta_file
        As `SequenceBins`.
    expression_file
        TSV of expression (TPM), genes x cell types.
    cell_type
        The column of ``expression_file`` to predict for.
    tfs_file
        The model's TFs, one per line, in its order; default the entry's ``tfs.txt``.
    mean_accessibility_file
        bigWig of the bins' mean accessibility over the training cell types; default the entry's
        ``mean_accessibility.bw`` where it has one (models without that input have none).
    expression_transform
        ``arcsinh`` (default), ``log1p`` or ``none``: what the model was trained on.

    An entry's own ``dataloader.py`` (`ENTRY_DATALOADER`, written by `epizoo train chromdragonn`)
    subclasses this class with ``entry_dir`` set to its folder: Kipoi resolves no relative
    defaults, and a class loaded per entry is the one place that knows where the entry lies.
    """

    seq_len = SEQ_LEN
    #: the entry folder holding the defaults of ``tfs_file`` and ``mean_accessibility_file``
    entry_dir: ClassVar[Path | None] = None

    def __init__(self, intervals_file: str | Path | None, fasta_file: str | Path | Genome,
                 expression_file: str | Path, cell_type: str, tfs_file: str | Path | None = None,
                 mean_accessibility_file: str | Path | None = None, expression_transform: str = "arcsinh") -> None:
        tfs_file = tfs_file or self._entry_file("tfs.txt", required=True)
        mean_accessibility_file = mean_accessibility_file or self._entry_file("mean_accessibility.bw")
        expression = cell_expression(expression_file, str(cell_type), read_names(tfs_file), expression_transform)
        super().__init__(intervals_file, fasta_file, width=self.seq_len, n_value=0.0, dtype=np.float32,
                         cell_features=expression, feature_input="expression")
        self.cell_type = str(cell_type)
        self.means = (BigWigTracks([mean_accessibility_file], ["mean_accessibility"], self.genome)
                      if mean_accessibility_file is not None else None)

    @classmethod
    def _entry_file(cls, name: str, required: bool = False) -> Path | None:
        """The entry's file ``name``: None where there is no entry or no such file, unless ``required``."""
        path = cls.entry_dir / name if cls.entry_dir is not None else None
        if path is not None and path.is_file():
            return path
        if required:
            raise ValueError(f"no {name} to default to{' in ' + str(cls.entry_dir) if cls.entry_dir else ''}: "
                             f"name the model's file (the entry's {name}) in the dataloader arguments")
        return None

    def _batch(self, chroms, starts, region_features, ids, strands=None) -> dict:
        batch = super()._batch(chroms, starts, region_features, ids, strands)
        if self.means is not None:
            centres = np.asarray(starts, dtype=np.int64) + (self.width - MEAN_SPAN) // 2
            values = self.means.values_batch(chroms, centres, MEAN_SPAN)
            batch["inputs"]["mean_accessibility"] = np.nan_to_num(values.mean(axis=1)).astype(np.float32)
        return batch


#: the source of a stage-2 entry's own dataloader.py (dataloader.yaml: ``dataloader.py::CellTypeBins``)
ENTRY_DATALOADER = Path(__file__).resolve().parent / "entry_dataloader.py"


def _describe() -> None:
    """`SequenceBins` carries its description (`epizoo.dataloaders.descriptions`), with the
    repository's examples; `CellTypeBins` entries name their own dataloader.yaml, whose examples
    include the entry's TF list and mean-accessibility track."""
    from epizoo.entry_writing import render_template

    folder = Path(__file__).resolve().parent
    describe(SequenceBins, render_template(folder / "dataloader.yaml.j2", {"seq_len": SEQ_LEN, "with_expression": False}),
             folder)


_describe()
