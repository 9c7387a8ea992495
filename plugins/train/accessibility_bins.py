"""ChromDragoNN's accessibility labels: 200-bp bins every 50 bp, accessible in a cell type when more
than half of the bin overlaps one of its peaks (spec ``seed_003_chromdragonn.md`` §1, §7.1).

`peak_bin_labels` builds the bins x cell types matrix from one peak file per cell type (BED3+ or
narrowPeak, e.g. IDR-reproducible peaks); `read_label_matrix` reads the authors' README layout
(``chr start end <cell> ...``, 0/1) instead. `mean_accessibility` is the mean feature of §3.2 (the
fraction of the training cell types in which a bin is accessible), and `write_mean_bigwig` stores
it for the dataloader as a bigWig whose value over each bin's central 50 bp is that bin's mean.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from epizoo.atomic import atomic_path
from epizoo.dataloaders.intervals import read_bed

BIN_WIDTH, BIN_STEP = 200, 50


@dataclass(frozen=True)
class BinLabels:
    """Bins (``chrom, start, end``) and their labels, ``(n_bins, n_cells)`` uint8, cell types in order."""

    bins: pd.DataFrame
    labels: np.ndarray
    cell_types: tuple[str, ...]

    def columns(self, cells: Sequence[str]) -> np.ndarray:
        """The labels of ``cells`` (names), in that order."""
        missing = [c for c in cells if c not in self.cell_types]
        if missing:
            raise KeyError(f"cell types {', '.join(missing)} have no labels (labelled: {', '.join(self.cell_types)}). "
                           "Fix: give their peaks, or name labelled cell types")
        return self.labels[:, [self.cell_types.index(c) for c in cells]]


def genome_bins(chrom_sizes: Mapping[str, int], width: int = BIN_WIDTH, step: int = BIN_STEP) -> pd.DataFrame:
    """Every ``width``-bp bin starting at a multiple of ``step`` that fits on its chromosome."""
    frames = [pd.DataFrame({"chrom": chrom, "start": np.arange(0, size - width + 1, step)})
              for chrom, size in chrom_sizes.items() if size >= width]
    bins = pd.concat(frames, ignore_index=True)
    return bins.assign(end=bins["start"] + width)


def peak_bin_labels(peak_files: Mapping[str, str | Path], chrom_sizes: Mapping[str, int], width: int = BIN_WIDTH,
                    step: int = BIN_STEP, min_overlap: float = 0.5) -> BinLabels:
    """Label every bin of the genome in every cell type from that cell type's peaks.

    Parameters
    ----------
    peak_files
        Cell type -> BED3+ of its (reproducible) peaks.
    chrom_sizes
        Chromosome -> length: the genome to tile.
    width, step
        The bins (200 bp every 50 bp, §2.1).
    min_overlap
        A bin is accessible when more than this fraction of it lies in peaks (0.5, §2.1).
    """
    bins = genome_bins(chrom_sizes, width, step)
    labels = np.zeros((len(bins), len(peak_files)), dtype=np.uint8)
    for column, (cell, path) in enumerate(peak_files.items()):
        peaks = read_bed(path)
        unknown = sorted(set(peaks["chrom"]) - set(chrom_sizes))
        if unknown:
            raise ValueError(f"{path}: peaks on {', '.join(unknown[:5])}, not in the genome "
                             f"({', '.join(list(chrom_sizes)[:5])}, ...). Fix: use peaks of the same assembly")
        for chrom, rows in bins.groupby("chrom", sort=False).indices.items():
            here = peaks[peaks["chrom"] == chrom]
            covered = _covered_prefix(here["start"].to_numpy(), here["end"].to_numpy(), chrom_sizes[chrom])
            starts = bins["start"].to_numpy()[rows]
            labels[rows, column] = (covered[starts + width] - covered[starts]) > min_overlap * width
    return BinLabels(bins, labels, tuple(peak_files))


def _covered_prefix(starts: np.ndarray, ends: np.ndarray, length: int) -> np.ndarray:
    """``prefix[i]``: how many of the bases before ``i`` lie in at least one interval."""
    edges = np.zeros(length + 1, dtype=np.int32)
    np.add.at(edges, np.clip(starts, 0, length), 1)
    np.add.at(edges, np.clip(ends, 0, length), -1)
    inside = np.cumsum(edges[:-1]) > 0
    return np.concatenate([[0], np.cumsum(inside)])


def read_label_matrix(path: str | Path) -> BinLabels:
    """The authors' label layout: a TSV with ``chr start end`` (or ``chrom``) and one 0/1 column per cell type."""
    frame = pd.read_csv(path, sep="\t")
    frame = frame.rename(columns={"chr": "chrom"})
    if list(frame.columns[:3]) != ["chrom", "start", "end"] or len(frame.columns) < 4:
        raise ValueError(f"{path}: the header must be chr (or chrom), start, end, then one column per cell type; "
                         f"it is {', '.join(map(str, frame.columns[:5]))}")
    values = frame.iloc[:, 3:]
    if not values.isin([0, 1]).all().all():
        raise ValueError(f"{path}: labels must be 0 or 1")
    _check_ladder(frame, path)
    return BinLabels(frame[["chrom", "start", "end"]], values.to_numpy(np.uint8), tuple(values.columns))


def _check_ladder(frame: pd.DataFrame, path: str | Path) -> None:
    """Every chromosome's rows must be the regular ladder `genome_bins` makes: 200-bp bins, 50 bp apart,
    in order (the mean track and the windows rely on it)."""
    width = frame["end"] - frame["start"]
    steps = frame.groupby("chrom", sort=False)["start"].diff()
    bad = np.flatnonzero((width != BIN_WIDTH).to_numpy() | (steps.notna() & (steps != BIN_STEP)).to_numpy())
    blocks = int((frame["chrom"] != frame["chrom"].shift()).sum())  # a chromosome's rows together: one block each
    if len(bad) or blocks != frame["chrom"].nunique():
        row = int(bad[0]) if len(bad) else 0
        raise ValueError(f"{path}, data row {row + 1} ({frame['chrom'].iloc[row]}:{frame['start'].iloc[row]}): the "
                         f"bins must be {BIN_WIDTH} bp, {BIN_STEP} bp apart, each chromosome's in order and together "
                         "(every bin, accessible or not). Fix: write the full ladder of each chromosome")


def mean_accessibility(labels: BinLabels, training_cells: Sequence[str]) -> np.ndarray:
    """Each bin's mean label over the training cell types, ``(n_bins,)`` float32 (§3.2)."""
    return labels.columns(training_cells).mean(axis=1, dtype=np.float32)


def write_mean_bigwig(path: str | Path, bins: pd.DataFrame, means: np.ndarray, chrom_sizes: Mapping[str, int],
                      step: int = BIN_STEP) -> Path:
    """Write each bin's mean over the ``step`` bases at its centre (atomically); the bins must be a
    regular ladder (`genome_bins`), so that the centres tile the genome."""
    import pyBigWig

    path = Path(path)
    with atomic_path(path) as tmp:
        handle = pyBigWig.open(str(tmp), "w")
        handle.addHeader([(chrom, int(size)) for chrom, size in chrom_sizes.items()])
        for chrom, rows in bins.groupby("chrom", sort=False).indices.items():
            starts = ((bins["start"].to_numpy()[rows] + bins["end"].to_numpy()[rows] - step) // 2).astype(np.int64)
            handle.addEntries(chrom, int(starts[0]), values=means[rows].astype(np.float64).tolist(), span=step,
                              step=step)
        handle.close()
    return path
