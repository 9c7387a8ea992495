"""GOPHER's training windows of coverage profiles (spec ``seed_002_gopher.md`` §1.6-1.7), without a dense target array.

* `threshold_chunks`: the "coverage-threshold" data: each chromosome cut into non-overlapping
  3,072-bp chunks, a chunk kept when the maximum coverage of any track in it is above the
  threshold (strictly; 2 by default). Maxima come from the bigWigs' exact statistics, one call
  per chromosome and track, so no base-resolution array is built.
* `crop_and_flip`: the online augmentation: from each stored 3,072-bp window, the 2,048 bp at
  its own offset (random shifts of up to 1,024 bp; `shift_offsets` draws them), and for the
  samples chosen, the reverse complement of the sequence with its coverage reversed (ATAC-seq is
  unstranded: no tracks swap).
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from epizoo.dataloaders.tracks import BigWigTracks

from .samplers import RandomState, as_generator


def threshold_chunks(tracks: BigWigTracks, chrom_sizes: Mapping[str, int], chunk: int = 3072,
                     threshold: float = 2.0, chroms: Iterable[str] | None = None) -> pd.DataFrame:
    """The chunks of ``chunk`` bp whose maximum coverage over the tracks is above ``threshold``.

    Parameters
    ----------
    tracks
        The coverage bigWigs (one per cell line).
    chrom_sizes
        Chromosome lengths; a chromosome's last partial chunk is dropped.
    chunk, threshold
        GOPHER's 3,072 bp and 2.
    chroms
        The chromosomes to cut (default all of ``chrom_sizes``).

    Returns
    -------
    pandas.DataFrame
        ``chrom``, ``start``, ``end`` and ``max_coverage`` (over the tracks), in chromosome order.
    """
    rows = []
    for chrom in chroms if chroms is not None else chrom_sizes:
        n = chrom_sizes[chrom] // chunk
        if n == 0:
            continue
        maxima = np.max([_chunk_maxima(handle, chrom, n, chunk) for handle in tracks.handles], axis=0)
        kept = np.flatnonzero(maxima > threshold)
        rows.append(pd.DataFrame({"chrom": chrom, "start": kept * chunk, "end": (kept + 1) * chunk,
                                  "max_coverage": maxima[kept]}))
    columns = {"chrom": [], "start": [], "end": [], "max_coverage": []}
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns)


def _chunk_maxima(handle, chrom: str, n: int, chunk: int) -> np.ndarray:
    """Each chunk's exact maximum in one bigWig (0 where it has no data or lacks the chromosome)."""
    if chrom not in handle.chroms():
        return np.zeros(n)
    stop = min(n * chunk, handle.chroms()[chrom])
    values = handle.stats(chrom, 0, stop, type="max", nBins=n, exact=True)
    return np.array([0.0 if v is None or np.isnan(v) else v for v in values])


def shift_offsets(n: int, max_shift: int = 1024, rng: RandomState = None) -> np.ndarray:
    """``n`` crop offsets, uniform in ``[0, max_shift]``, one per sample (GOPHER §1.7)."""
    return as_generator(rng).integers(0, max_shift, endpoint=True, size=int(n))


def crop_and_flip(sequences: np.ndarray, coverage: np.ndarray, offsets: np.ndarray, flips: np.ndarray,
                  length: int = 2048) -> tuple[np.ndarray, np.ndarray]:
    """Each sample's ``length`` positions from its offset; the flipped ones reverse-complemented.

    Parameters
    ----------
    sequences
        ``(n, stored length, 4)`` one-hot A, C, G, T.
    coverage
        ``(n, stored length, tasks)`` base-resolution targets.
    offsets
        ``(n,)`` starts, ``0 <= offset <= stored length - length``.
    flips
        ``(n,)`` bool: reverse-complement the sequence and reverse the coverage.
    length
        The model's input length.
    """
    offsets = np.asarray(offsets)
    if np.any(offsets < 0) or np.any(offsets + length > sequences.shape[1]):
        raise ValueError(f"crops of {length} bp at offsets {offsets.min()}-{offsets.max()} leave the stored "
                         f"{sequences.shape[1]} bp")
    columns = offsets[:, None] + np.arange(length)
    rows = np.arange(len(offsets))[:, None]
    seq, cov = sequences[rows, columns], coverage[rows, columns]
    flips = np.asarray(flips, dtype=bool)
    seq[flips] = seq[flips, ::-1, ::-1]  # positions reversed; A, C, G, T -> T, G, C, A is the channels reversed
    cov[flips] = cov[flips, ::-1]
    return seq, cov
