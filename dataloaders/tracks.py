"""Per-base signal from bigWig files (DNase cuts, mappability, coverage), through pyBigWig.

`BigWigTracks` reads any number of bigWig files as channels of one array: ``(width, n_tracks)``
per window, ``(batch, width, n_tracks)`` per batch. Missing values (NaN, uncovered bases) and bases
past a chromosome end read as 0. Reverse complementing a window reverses its tracks in position.

A bigWig that lacks a chromosome, or whose chromosome is shorter than the genome's, would read as
zeros where it has no data, and a model fed zeros predicts confidently wrong values (FactorNet's
drop from 0.98 to 0.00): that is a `TrackMismatchError` naming the file, the chromosome and both
lengths, raised on the first window of that chromosome. With ``allow_missing=True`` the signal
reads as zeros instead, with one `MissingTrackWarning` per file and chromosome.
"""
from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pyBigWig

from numpy.lib.stride_tricks import sliding_window_view

from .contigs import ContigResolver
from .genome import Genome, group_rows

#: read a chromosome's windows with one call when their span is at most this many times their
#: total width (so a span read never costs much more than the windows themselves)
_SPAN_READ_FACTOR = 4

logger = logging.getLogger(__name__)


class TrackMismatchError(ValueError):
    """A bigWig lacks a chromosome of the genome, or its chromosome is shorter than the genome's."""


class MissingTrackWarning(UserWarning):
    """Signal that a bigWig does not cover is read as zeros (``allow_missing=True``)."""


class BigWigTracks:
    """Several bigWig files read together as the channels of one array.

    Parameters
    ----------
    paths
        bigWig files, in channel order.
    names
        Channel names. Default: the file names without suffix.
    genome
        The genome the windows come from: each bigWig chromosome must be at least as long as the
        genome's. Default None: only missing chromosomes are checked.
    allow_missing
        Read a missing chromosome, or the part of the genome's chromosome past the bigWig's end,
        as zeros (warning once per file and chromosome) instead of raising `TrackMismatchError`.
    """

    def __init__(self, paths: Sequence[str | Path], names: Sequence[str] | None = None,
                 genome: Genome | None = None, allow_missing: bool = False) -> None:
        self.paths = [Path(p) for p in paths]
        self.names = list(names) if names is not None else [p.stem for p in self.paths]
        if len(self.names) != len(self.paths):
            raise ValueError(f"{len(self.names)} track names for {len(self.paths)} bigWig files")
        self.genome, self.allow_missing = genome, allow_missing
        self._handles: list | None = None
        self._resolvers = [ContigResolver(self._open(p).chroms(), str(p)) for p in self.paths]
        self._checked: set[tuple[int, str]] = set()

    def __len__(self) -> int:
        return len(self.paths)

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_handles"] = None
        return state

    @staticmethod
    def _open(path: Path):
        if not path.is_file():
            raise FileNotFoundError(
                f"bigWig file {path} does not exist. Fix: pass the path of an existing bigWig."
            )
        try:
            handle = pyBigWig.open(str(path))
        except RuntimeError:
            handle = None
        if handle is None or not handle.isBigWig():
            raise ValueError(f"{path} is not a readable bigWig file. Fix: convert it with bedGraphToBigWig.")
        return handle

    @property
    def handles(self) -> list:
        if self._handles is None:
            self._handles = [self._open(p) for p in self.paths]
        return self._handles

    def values(self, chrom: str, start: int, end: int) -> np.ndarray:
        """Signal of every track over ``[start, end)``: float32 ``(end - start, n_tracks)``."""
        out = np.zeros((end - start, len(self.paths)), dtype=np.float32)
        for track in range(len(self.paths)):
            out[:, track] = self._track_values(track, chrom, start, end)
        return out

    def values_batch(
        self,
        chroms: Sequence[str] | np.ndarray,
        starts: Sequence[int] | np.ndarray,
        width: int,
        out: np.ndarray | None = None,
    ) -> np.ndarray:
        """Signal of many windows of one width: float32 ``(batch, width, n_tracks)``.

        Windows of one chromosome that lie close together (sorted variants, tiled regions) are
        read with one pyBigWig call over their span and then sliced, instead of one call per
        window: pyBigWig's per-call cost dominates otherwise (benchmarks/bench_veff.py).
        ``out``, when given, is filled in place.
        """
        starts = np.asarray(starts, dtype=np.int64)
        if out is None:
            out = np.empty((len(starts), width, len(self.paths)), dtype=np.float32)
        for chrom, rows in group_rows(chroms, len(starts)):
            lo, hi = int(starts[rows].min()), int(starts[rows].max()) + width
            dense = hi - lo <= _SPAN_READ_FACTOR * len(rows) * width
            for track in range(len(self.paths)):
                if dense:
                    span = self._track_values(track, chrom, lo, hi)
                    out[rows, :, track] = sliding_window_view(span, width)[starts[rows] - lo]
                else:
                    for row in rows:
                        out[row, :, track] = self._track_values(track, chrom, int(starts[row]), int(starts[row]) + width)
        return out

    def _track_values(self, track: int, chrom: str, start: int, end: int) -> np.ndarray:
        values = np.zeros(end - start, dtype=np.float32)
        name = self._resolvers[track].resolve(chrom)
        if (track, self._canonical(chrom)) not in self._checked:
            self._check(track, chrom, name)
        if name is None:
            return values
        length = self.handles[track].chroms(name)
        lo, hi = max(start, 0), min(end, length)
        if hi > lo:
            read = self.handles[track].values(name, lo, hi, numpy=True)
            values[lo - start : hi - start] = np.nan_to_num(read, nan=0.0)
        return values

    def _canonical(self, chrom: str) -> str:
        """The genome's name of ``chrom`` (``22`` and ``chr22`` are one chromosome), else itself."""
        return (self.genome.resolve.resolve(chrom) if self.genome is not None else None) or chrom

    def _check(self, track: int, chrom: str, name: str | None) -> None:
        """Once per file and chromosome: does the bigWig cover the genome's chromosome?"""
        self._checked.add((track, self._canonical(chrom)))
        expected = self.genome.contig_length(chrom) if self.genome is not None and chrom in self.genome.resolve else None
        length = None if name is None else self.handles[track].chroms(name)
        path = self.paths[track]
        if name is None:
            problem = f"bigWig {path} has no chromosome {chrom!r}" + (f" (the FASTA's is {expected:,} bp)" if expected else "")
        elif expected is not None and length < expected:
            problem = f"bigWig {path}'s chromosome {name!r} is {length:,} bp, shorter than the FASTA's {expected:,} bp"
        else:
            return
        if not self.allow_missing:
            raise TrackMismatchError(
                f"{problem}: its signal would read as zeros and the predictions would be wrong. Fix: use the "
                "bigWig made for this genome build, or pass allow_missing_tracks=True to read it as zeros."
            )
        warnings.warn(f"{problem}; reading the missing signal as zeros (allow_missing_tracks=True)",
                      MissingTrackWarning, stacklevel=2)


def write_bigwig(path: str | Path, chrom_sizes: Mapping[str, int],
                 intervals: Mapping[str, tuple[Sequence[int], Sequence[int], Sequence[float]]],
                 max_zooms: int = 10) -> Path:
    """Write a bigWig (atomically) of ``intervals``: chromosome -> ``(starts, ends, values)``,
    sorted and disjoint, each chromosome of ``chrom_sizes`` in the header in its order.

    Parameters
    ----------
    path
        The bigWig to write.
    chrom_sizes
        The header's chromosomes and lengths.
    intervals
        Per chromosome, its intervals' starts, ends and values, in order.
    max_zooms
        Zoom levels (pyBigWig's default 10).
    """
    from epizoo.atomic import atomic_path

    with atomic_path(path) as tmp:
        handle = pyBigWig.open(str(tmp), "w")
        try:
            handle.addHeader(list(chrom_sizes.items()), maxZooms=max_zooms)
            for chrom, (starts, ends, values) in intervals.items():
                handle.addEntries([chrom] * len(starts), starts, ends=ends, values=values)
        finally:
            handle.close()
    return Path(path)
