"""Fast, batched access to an indexed reference genome (plain or bgzip FASTA).

`Genome` decodes each chromosome once into an upper-case byte array (through htslib, via pysam)
and keeps a bounded, least-recently-used set of them. A batch of fixed-width windows is then one
strided gather per chromosome plus one table lookup for the one-hot encoding: no per-window string
handling and no per-base Python loop, which is where kipoiseq's ``FastaStringExtractor`` spends
its time (benchmarks/bench_onehot.py measures the difference). Memory is bounded by the cache
budget, never by the number of windows.

Coordinates are 0-based, half-open, as in BED. Windows that run past either end of a chromosome
are padded with ``N`` (which one-hot encodes to zeros) and flagged.
"""
from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pysam
from numpy.lib.stride_tricks import sliding_window_view

from epizoo.cache import cache_file_for

from .contigs import ContigResolver
from .files import is_gzip
from .onehot import DNA, PAD_BYTE, encode_bytes

logger = logging.getLogger(__name__)

#: Default chromosome cache budget in bases: holds hg19/hg38 chr1 plus a smaller chromosome.
DEFAULT_CACHE_BASES = 400_000_000

_UPPER = np.arange(256, dtype=np.uint8)
_UPPER[ord("a") : ord("z") + 1] -= 32
_UPPER.setflags(write=False)


class Genome:
    """An indexed FASTA file, read as upper-case bytes and one-hot windows.

    Parameters
    ----------
    fasta
        Path to a FASTA file, plain or bgzip-compressed. Its ``.fai`` (and ``.gzi``) index is used
        when it sits beside the file; otherwise one is built in the epizoo cache, so read-only
        folders are never written to.
    cache_bases
        How many bases of decoded chromosomes to keep in memory. Default is
        `DEFAULT_CACHE_BASES`.

    Examples
    --------
    >>> genome = Genome("hg38.fa")                                    # doctest: +SKIP
    >>> x, padded = genome.one_hot_batch(["chr1", "1"], [100, 200], 1000)  # doctest: +SKIP
    >>> x.shape                                                        # doctest: +SKIP
    (2, 1000, 4)
    """

    def __init__(self, fasta: str | Path, cache_bases: int = DEFAULT_CACHE_BASES) -> None:
        self.path = Path(fasta)
        if not self.path.is_file():
            raise FileNotFoundError(
                f"FASTA file {self.path} does not exist. Fix: pass the path of the reference genome."
            )
        self.cache_bases = int(cache_bases)
        self._index_paths = _index_paths(self.path)
        with self._open() as fasta_file:
            self.lengths: dict[str, int] = dict(zip(fasta_file.references, fasta_file.lengths))
        self.resolve = ContigResolver(self.lengths, str(self.path))
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cached_bases = 0  # kept as a running total: a FASTA of regions has 10^5 contigs
        self._handle: pysam.FastaFile | None = None

    # -- pickling: worker processes reopen the file themselves -----------------------------
    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_handle"] = None
        state["_cache"] = OrderedDict()
        state["_cached_bases"] = 0
        return state

    def _open(self) -> pysam.FastaFile:
        fai, gzi = self._index_paths
        return pysam.FastaFile(
            str(self.path), filepath_index=str(fai), filepath_index_compressed=gzi and str(gzi)
        )

    def __repr__(self) -> str:
        return f"Genome({str(self.path)!r}, {len(self.lengths)} contigs)"

    # -- whole chromosomes -------------------------------------------------------------------
    def contig_length(self, chrom: str) -> int:
        """Length of ``chrom`` (any alias, e.g. ``1`` for ``chr1``)."""
        return self.lengths[self.resolve(chrom)]

    def chromosome(self, chrom: str) -> np.ndarray:
        """The whole of ``chrom`` as a read-only array of upper-case ASCII bytes."""
        name = self.resolve(chrom)
        if name in self._cache:
            self._cache.move_to_end(name)
            return self._cache[name]
        if self._handle is None:
            self._handle = self._open()
        raw = np.frombuffer(self._handle.fetch(name).encode("ascii"), dtype=np.uint8)
        sequence = np.take(_UPPER, raw)
        sequence.setflags(write=False)
        self._cache[name] = sequence
        self._cached_bases += len(sequence)
        self._evict(keep=name)
        return sequence

    def _evict(self, keep: str) -> None:
        while self._cached_bases > self.cache_bases and len(self._cache) > 1:
            oldest = next(iter(self._cache))
            if oldest == keep:
                break
            self._cached_bases -= len(self._cache.pop(oldest))

    # -- windows -----------------------------------------------------------------------------
    def fetch(self, chrom: str, start: int, end: int) -> tuple[np.ndarray, bool]:
        """Bytes of ``[start, end)`` on ``chrom``, N-padded past either end.

        Returns
        -------
        (numpy.ndarray, bool)
            The upper-case bytes, and whether any padding was needed.
        """
        sequence = self.chromosome(chrom)
        return _padded_window(sequence, int(start), int(end) - int(start))

    def sequence(self, chrom: str, start: int, end: int) -> str:
        """``[start, end)`` on ``chrom`` as an upper-case string, N-padded past either end."""
        return self.fetch(chrom, start, end)[0].tobytes().decode("ascii")

    def fetch_batch(
        self,
        chroms: Sequence[str] | np.ndarray,
        starts: Sequence[int] | np.ndarray,
        width: int,
        out: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Bytes of many windows of one width.

        Parameters
        ----------
        chroms, starts
            Chromosome and 0-based start of each window.
        width
            Window width in bases.
        out
            Optional ``(len(starts), width)`` uint8 buffer to fill (reuse it across batches).

        Returns
        -------
        (numpy.ndarray, numpy.ndarray)
            ``(batch, width)`` upper-case bytes, and a bool per window: True where it ran past a
            chromosome end and was padded with N.
        """
        starts = np.asarray(starts, dtype=np.int64)
        n = len(starts)
        if out is None:
            out = np.empty((n, width), dtype=np.uint8)
        padded = np.zeros(n, dtype=bool)
        for chrom, rows in group_rows(chroms, n):
            sequence = self.chromosome(chrom)
            row_starts = starts[rows]
            inside = (row_starts >= 0) & (row_starts + width <= len(sequence))
            if inside.any():
                windows = sliding_window_view(sequence, width)
                out[rows[inside]] = windows[row_starts[inside]]
            for row in rows[~inside]:
                out[row], padded[row] = _padded_window(sequence, int(starts[row]), width)
        return out, padded

    def one_hot_batch(
        self,
        chroms: Sequence[str] | np.ndarray,
        starts: Sequence[int] | np.ndarray,
        width: int,
        alphabet: str = DNA,
        n_value: float = 0.0,
        dtype: np.dtype | str = np.float32,
        channels_first: bool = False,
        out: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """One-hot windows: `fetch_batch` followed by `epizoo.dataloaders.onehot.encode_bytes`.

        Returns
        -------
        (numpy.ndarray, numpy.ndarray)
            ``(batch, width, len(alphabet))`` (or channels first) encodings and the padded flags.
        """
        sequence_bytes, padded = self.fetch_batch(chroms, starts, width)
        encoded = encode_bytes(sequence_bytes, alphabet, n_value, dtype, channels_first, out=out)
        return encoded, padded


def _padded_window(sequence: np.ndarray, start: int, width: int) -> tuple[np.ndarray, bool]:
    """``sequence[start:start + width]`` with N wherever the window leaves the sequence."""
    end = start + width
    if start >= 0 and end <= len(sequence):
        return sequence[start:end], False
    window = np.full(width, PAD_BYTE, dtype=np.uint8)
    lo, hi = max(start, 0), min(end, len(sequence))
    if hi > lo:
        window[lo - start : hi - start] = sequence[lo:hi]
    return window, True


def group_rows(chroms: Sequence[str] | np.ndarray, n: int):
    """Yield ``(chrom, row indices)`` for each distinct chromosome of a batch, in first-seen order."""
    if isinstance(chroms, str):
        yield chroms, np.arange(n)
        return
    chroms = np.asarray(chroms, dtype=object)
    if len(chroms) != n:
        raise ValueError(f"got {len(chroms)} chromosome names for {n} window starts")
    first = chroms[0] if n else None
    if n and (chroms == first).all():
        yield first, np.arange(n)
        return
    names, first_rows, inverse = np.unique(
        chroms.astype(str), return_index=True, return_inverse=True
    )
    for k in np.argsort(first_rows):
        yield names[k], np.flatnonzero(inverse == k)


def _index_paths(fasta: Path) -> tuple[Path, Path | None]:
    """The ``.fai`` (and for bgzip, ``.gzi``) of ``fasta``: beside it, or built in the cache."""
    compressed = is_gzip(fasta)
    fai, gzi = Path(f"{fasta}.fai"), Path(f"{fasta}.gzi") if compressed else None
    if fai.exists() and (gzi is None or gzi.exists()):
        return fai, gzi
    stem = cache_file_for(fasta, "fasta-index")
    stem.parent.mkdir(parents=True, exist_ok=True)
    fai = Path(f"{stem}.fai")
    gzi = Path(f"{stem}.gzi") if compressed else None
    if not fai.exists() or (gzi is not None and not gzi.exists()):
        _build_index(fasta, fai, gzi)
    return fai, gzi


def _build_index(fasta: Path, fai: Path, gzi: Path | None) -> None:
    logger.info("indexing %s into %s", fasta, fai.parent)
    tmp_fai = fai.with_suffix(".fai.tmp")
    args = [str(fasta), "--fai-idx", str(tmp_fai)]
    if gzi is not None:
        args += ["--gzi-idx", str(gzi.with_suffix(".gzi.tmp"))]
    try:
        pysam.faidx(*args)
    except pysam.SamtoolsError as error:
        hint = (
            "it is gzip-compressed but not with bgzip; recompress it with `bgzip` "
            "(or decompress it)"
            if gzi is not None
            else "check that it is a FASTA file with '>' headers"
        )
        raise ValueError(f"cannot index FASTA {fasta}: {hint}. ({error})") from None
    if gzi is not None:
        gzi.with_suffix(".gzi.tmp").replace(gzi)
    tmp_fai.replace(fai)

