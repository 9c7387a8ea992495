"""Position layouts: where the positions of a position-indexed model (Avocado) lie in a genome.

Avocado has factors for an index space of 25-bp positions, not for coordinates: its genome
factors cover, in order, the bins of a list of regions (the ENCODE pilot regions, concatenated as
the authors' arrays concatenate them, or whole chromosomes). A `PositionLayout` is that list, a
BED of regions in index order, and maps coordinates to positions and back. Each region holds
``length // bin_size`` bins from its start (a trailing partial bin is no position). Without a
genome layout, `PositionLayout.indices` makes one pseudo-chromosome ``positions`` whose bin ``i``
is position ``i``, so that a BED on it names positions directly (``positions 2500 5000`` is
positions 100 to 199).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .contigs import ContigResolver
from .intervals import read_bed

BIN_SIZE = 25
INDEX_CONTIG = "positions"


class OutsideLayoutError(ValueError):
    """A region that is not within the regions a model has positions for."""


@dataclass(frozen=True)
class PositionLayout:
    """Regions ``(chroms, starts, ends)`` in index order, each cut into ``bin_size`` bins."""

    chroms: np.ndarray
    starts: np.ndarray
    ends: np.ndarray
    bin_size: int = BIN_SIZE
    source: str = "the layout"

    def __post_init__(self) -> None:
        frame = pd.DataFrame({"chrom": self.chroms, "start": self.starts, "end": self.ends}).sort_values(["chrom", "start"])
        same = frame["chrom"].to_numpy()[1:] == frame["chrom"].to_numpy()[:-1]
        if (same & (frame["start"].to_numpy()[1:] < frame["end"].to_numpy()[:-1])).any():
            raise ValueError(f"{self.source}: its regions overlap; a layout's regions must be disjoint")

    @classmethod
    def from_bed(cls, path: str | Path, bin_size: int = BIN_SIZE) -> "PositionLayout":
        """The regions of a BED file, in the file's order."""
        regions = read_bed(path)
        return cls(regions["chrom"].astype(str).to_numpy(), regions["start"].to_numpy(np.int64),
                   regions["end"].to_numpy(np.int64), bin_size, str(path))

    @classmethod
    def indices(cls, n_positions: int, bin_size: int = BIN_SIZE) -> "PositionLayout":
        """One pseudo-chromosome (`INDEX_CONTIG`) of ``n_positions`` bins."""
        return cls(np.array([INDEX_CONTIG]), np.array([0]), np.array([n_positions * bin_size]), bin_size,
                   f"the index layout of {n_positions} positions")

    @property
    def bins(self) -> np.ndarray:
        """Positions of each region."""
        return (self.ends - self.starts) // self.bin_size

    @property
    def offsets(self) -> np.ndarray:
        """Each region's first position."""
        return np.concatenate([[0], np.cumsum(self.bins)[:-1]]).astype(np.int64)

    @property
    def n_positions(self) -> int:
        return int(self.bins.sum())

    def digest(self) -> str:
        """A checksum of the regions and the bin size (what the positions mean)."""
        text = "\n".join(f"{c}\t{s}\t{e}" for c, s, e in zip(self.chroms, self.starts, self.ends))
        return hashlib.sha256(f"{self.bin_size}\n{text}".encode()).hexdigest()

    def chrom_sizes(self) -> dict[str, int]:
        """The end of each chromosome's last bin (a bigWig header for what the layout covers)."""
        ends = self.starts + self.bins * self.bin_size
        return {str(c): int(ends[self.chroms == c].max()) for c in dict.fromkeys(self.chroms)}

    def positions(self, regions: pd.DataFrame, path: str = "the regions") -> list[np.ndarray]:
        """The positions of the bins that overlap each region (``chrom, start, end``, with the BED
        ``line`` where known), in order.

        Raises
        ------
        OutsideLayoutError
            For a region not within one of the layout's regions (naming it and its line).
        """
        names = ContigResolver(set(self.chroms), path)
        found = []
        for row in regions.itertuples(index=False):
            chrom = names.resolve(str(row.chrom))
            inside = np.flatnonzero((self.chroms == chrom) & (self.starts <= row.start)
                                    & (self.starts + self.bins * self.bin_size >= row.end))
            if chrom is None or not len(inside):
                line = getattr(row, "line", None)
                raise OutsideLayoutError(
                    f"{path}{f', line {line}' if line is not None else ''}: {row.chrom}:{row.start}-{row.end} is not within "
                    f"the regions the model has positions for ({self.source}: {len(self.chroms)} regions, e.g. "
                    f"{self.chroms[0]}:{self.starts[0]}-{self.ends[0]}). Fix: keep to those regions, or give the "
                    "layout (BED of the model's regions in index order) that the coordinates refer to")
            k = inside[0]
            first = (row.start - self.starts[k]) // self.bin_size
            stop = -(-(row.end - self.starts[k]) // self.bin_size)
            found.append(self.offsets[k] + np.arange(first, stop, dtype=np.int64))
        return found

    def locate(self, positions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(chroms, starts, ends)`` of the bins of ``positions``."""
        positions = np.asarray(positions, dtype=np.int64)
        if len(positions) and (positions.min() < 0 or positions.max() >= self.n_positions):
            raise OutsideLayoutError(f"positions must lie in 0 to {self.n_positions - 1} ({self.source})")
        region = np.searchsorted(self.offsets, positions, side="right") - 1
        starts = self.starts[region] + (positions - self.offsets[region]) * self.bin_size
        return self.chroms[region], starts, starts + self.bin_size
