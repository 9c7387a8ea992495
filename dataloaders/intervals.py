"""Genomic intervals from BED files, and resizing them to a model's input width.

Coordinates are 0-based and half-open. `read_bed` reads BED3+ (plain or gzip, ``track``/``browser``
and ``#`` lines skipped) into a DataFrame whose first columns are ``chrom, start, end``; extra
columns keep their positions as ``name``, ``score``, ``strand`` and then ``col6``, ``col7``, ...
(or the caller's names). Bad lines are errors that name the file and the line.
"""
from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pandas as pd

from .contigs import ContigResolver
from .files import is_gzip

BED_NAMES = ["chrom", "start", "end", "name", "score", "strand"]


class BedFormatError(ValueError):
    """A BED line that cannot be read as an interval."""


def read_bed(path: str | Path, names: list[str] | None = None) -> pd.DataFrame:
    """Read a BED3+ file.

    Parameters
    ----------
    path
        BED file, plain or gzip-compressed.
    names
        Names for the columns after ``chrom, start, end``. Default: BED's ``name, score,
        strand`` then ``col6, col7, ...``.

    Returns
    -------
    pandas.DataFrame
        One row per interval with int64 ``start``/``end`` and the file's 1-based line number
        in ``line``.

    Raises
    ------
    BedFormatError
        On a line with fewer than 3 columns, a non-integer coordinate, a negative start or
        ``end <= start``.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"BED file {path} does not exist. Fix: pass an existing BED file.")
    compressed = is_gzip(path)
    rows = _fast_rows(path, compressed)
    if rows is None:  # headers, comments, blank or ragged lines: read line by line
        rows = _careful_rows(path, compressed)
    width = rows.shape[1] - 1
    extra = names or (BED_NAMES[3:] + [f"col{i}" for i in range(6, width)])
    rows.columns = BED_NAMES[:3] + list(extra[: width - 3]) + ["line"]
    _parse_coordinates(rows, path)
    return rows


def _fast_rows(path: Path, compressed: bool) -> pd.DataFrame | None:
    """A plain BED (no headers, no blank lines, same column count everywhere) read by pandas,
    or None when the file needs the careful parser."""
    try:
        frame = pd.read_csv(
            path, sep="\t", header=None, dtype={0: str}, skip_blank_lines=False,
            keep_default_na=False, compression="gzip" if compressed else None, quoting=3,
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, ValueError):
        return None
    if frame.shape[1] < 3 or frame[1].dtype.kind != "i" or frame[2].dtype.kind != "i":
        return None
    frame["line"] = np.arange(1, len(frame) + 1)
    return frame


def _careful_rows(path: Path, compressed: bool) -> pd.DataFrame:
    rows, line_numbers = [], []
    opener = gzip.open if compressed else open
    with opener(path, "rt") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip() or line.startswith(("#", "track", "browser")):
                continue
            fields = line.rstrip("\n\r").split("\t")
            if len(fields) < 3:
                fields = line.split()
            if len(fields) < 3:
                raise BedFormatError(
                    f"{path}, line {number}: expected at least 3 tab-separated columns "
                    f"(chrom, start, end), got {line.strip()!r}"
                )
            rows.append(fields)
            line_numbers.append(number)
    width = max((len(r) for r in rows), default=3)
    frame = pd.DataFrame([r + [None] * (width - len(r)) for r in rows], columns=range(width))
    frame["line"] = np.asarray(line_numbers, dtype=np.int64)
    return frame


def _parse_coordinates(frame: pd.DataFrame, path: Path) -> None:
    for column in ("start", "end"):
        parsed = pd.to_numeric(frame[column], errors="coerce")
        bad = parsed.isna() | (parsed != parsed.round())
        if bad.any():
            row = frame[bad].iloc[0]
            raise BedFormatError(
                f"{path}, line {row['line']}: {column} {row[column]!r} is not an integer"
            )
        frame[column] = parsed.astype(np.int64)
    bad = (frame["start"] < 0) | (frame["end"] <= frame["start"])
    if bad.any():
        row = frame[bad].iloc[0]
        raise BedFormatError(
            f"{path}, line {row['line']}: interval {row['chrom']}:{row['start']}-{row['end']} "
            "is empty or starts before 0 (BED is 0-based, half-open: start < end)"
        )
    frame["chrom"] = frame["chrom"].astype(str)


def resize(
    starts: np.ndarray, ends: np.ndarray, width: int, centring: str = "kipoiseq"
) -> tuple[np.ndarray, np.ndarray]:
    """Re-centre intervals to ``width`` bases.

    Parameters
    ----------
    starts, ends
        0-based, half-open intervals.
    width
        New width.
    centring
        ``"kipoiseq"`` (default): as kipoiseq's ``Interval.resize`` on the + strand, centre
        ``(start + end) // 2`` plus 1 when ``start + end`` is odd, new interval
        ``[centre - width // 2 - width % 2, centre + width // 2)``.
        ``"floor"``: as Kipoi's FactorNet dataloader, centre ``(start + end) // 2``, new interval
        ``[centre - width // 2, centre + width // 2 + width % 2)``.

    >>> resize(np.array([100]), np.array([300]), 1002)
    (array([-301]), array([701]))
    >>> resize(np.array([100]), np.array([301]), 4, centring="floor")
    (array([198]), array([202]))
    """
    starts, ends = np.asarray(starts, dtype=np.int64), np.asarray(ends, dtype=np.int64)
    if centring == "kipoiseq":
        centre = (starts + ends) // 2 + (starts + ends) % 2
        new_starts = centre - width // 2 - width % 2
    elif centring == "floor":
        new_starts = (starts + ends) // 2 - width // 2
    else:
        raise ValueError(f"centring must be 'kipoiseq' or 'floor', not {centring!r}")
    return new_starts, new_starts + width


class OverlapIndex:
    """Which intervals overlap an annotation (a BED of possibly overlapping intervals).

    The same test as ``bedtools intersect -c`` followed by ``count > 0``, done with per-chromosome
    sorted starts and the running maximum of ends (no bedtools binary needed); built once, queried
    per batch.
    """

    def __init__(self, annotation: pd.DataFrame, name: str = "annotation") -> None:
        self._by_chrom: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for chrom, group in annotation.groupby("chrom", sort=False):
            order = np.argsort(group["start"].to_numpy(), kind="stable")
            starts = group["start"].to_numpy()[order]
            reach = np.maximum.accumulate(group["end"].to_numpy()[order])
            self._by_chrom[str(chrom)] = (starts, reach)
        self._resolve = ContigResolver(self._by_chrom, name)
        self._merged: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}

    def overlaps(self, chroms: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
        """Bool per interval: does it share at least one base with the annotation?"""
        chroms = np.asarray(chroms).astype(str)
        starts, ends = np.asarray(starts), np.asarray(ends)
        result = np.zeros(len(starts), dtype=bool)
        for chrom in np.unique(chroms):
            name = self._resolve.resolve(chrom)
            if name is None:
                continue
            rows = np.flatnonzero(chroms == chrom)
            a_starts, reach = self._by_chrom[name]
            last = np.searchsorted(a_starts, ends[rows], side="left") - 1
            result[rows] = (last >= 0) & (reach[np.maximum(last, 0)] > starts[rows])
        return result


    def covered(self, chroms: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
        """Bases of each interval covered by the annotation (its union: overlapping annotation
        intervals count once), as int64."""
        chroms = np.asarray(chroms).astype(str)
        starts, ends = np.asarray(starts, dtype=np.int64), np.asarray(ends, dtype=np.int64)
        result = np.zeros(len(starts), dtype=np.int64)
        for chrom in np.unique(chroms):
            name = self._resolve.resolve(chrom)
            if name is None:
                continue
            rows = np.flatnonzero(chroms == chrom)
            result[rows] = self._cumulative(name, ends[rows]) - self._cumulative(name, starts[rows])
        return result

    def _cumulative(self, chrom: str, positions: np.ndarray) -> np.ndarray:
        """Annotated bases before each position (on the merged, sorted intervals)."""
        if chrom not in self._merged:
            m_starts, m_ends = merge_intervals(*self._by_chrom[chrom])
            self._merged[chrom] = m_starts, m_ends, np.concatenate([[0], np.cumsum(m_ends - m_starts)[:-1]])
        m_starts, m_ends, before = self._merged[chrom]
        last = np.searchsorted(m_starts, positions, side="right") - 1
        inside = np.clip(positions - m_starts[np.maximum(last, 0)], 0, (m_ends - m_starts)[np.maximum(last, 0)])
        return np.where(last >= 0, before[np.maximum(last, 0)] + inside, 0)


def merge_intervals(starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The sorted, disjoint union of half-open intervals ``[starts, ends)``: starts and ends."""
    order = np.argsort(starts, kind="stable")
    starts, reach = np.asarray(starts)[order], np.maximum.accumulate(np.asarray(ends)[order])
    new_run = np.concatenate([[True], starts[1:] > reach[:-1]])
    last = np.concatenate([np.flatnonzero(new_run)[1:] - 1, [len(starts) - 1]])
    return starts[new_run], reach[last]


def overlaps(
    chroms: np.ndarray, starts: np.ndarray, ends: np.ndarray, annotation: pd.DataFrame
) -> np.ndarray:
    """Whether each interval overlaps any interval of ``annotation`` (see `OverlapIndex`)."""
    return OverlapIndex(annotation).overlaps(chroms, starts, ends)

