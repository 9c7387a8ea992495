"""GOPHER's training windows of coverage profiles (spec ``seed_002_gopher.md`` §1.6-1.7), without a dense target array.

* `threshold_chunks`: the "coverage-threshold" data: each chromosome cut into non-overlapping
  3,072-bp chunks, a chunk kept when the maximum coverage of any track in it is above the
  threshold (strictly; 2 by default). Maxima come from the bigWigs' exact statistics, one call
  per chromosome and track, so no base-resolution array is built.
* `peak_centred_windows`: the "peak-centred" data: the peaks of all cell lines merged, one window
  on each merged peak's midpoint; `peak_labels`: a window's binary label per cell line (one of its
  peaks' summits lies in the window).
* `ProfileTargets`: a batch's targets read from the bigWigs when the batch is built, binned to the
  model's resolution (a `epizoo.plugins.train.data.TargetReader`).
* `crop_and_flip`: the online augmentation: from each stored 3,072-bp window, the 2,048 bp at
  its own offset (random shifts of up to 1,024 bp; `shift_offsets` draws them), and for the
  samples chosen, the reverse complement of the sequence with its coverage reversed (ATAC-seq is
  unstranded: no tracks swap).
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from epizoo.dataloaders.intervals import read_bed
from epizoo.dataloaders.tracks import BigWigTracks

from .losses import bin_mean
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


class ProfileTargets:
    """Coverage of a batch's windows, read from the bigWigs (NaN as 0) and averaged within bins:
    ``(n, width / bin_size, tracks)``."""

    reversed_with_sequence = True

    def __init__(self, tracks: BigWigTracks, width: int, bin_size: int) -> None:
        if width % bin_size:
            raise ValueError(f"the bin size {bin_size} must divide the window width {width}")
        self.tracks, self.width, self.bin_size = tracks, int(width), int(bin_size)

    def __call__(self, windows: pd.DataFrame) -> np.ndarray:
        coverage = self.tracks.values_batch(windows["chrom"].to_numpy(), windows["start"].to_numpy(), self.width)
        return bin_mean(torch.from_numpy(np.nan_to_num(coverage)), self.bin_size).numpy()


def read_summits(peak_files: Sequence[Path]) -> list[pd.DataFrame]:
    """``chrom`` and ``summit`` (absolute) of each file's peaks: narrowPeak's column 10, else the midpoint."""
    summits = []
    for path in peak_files:
        peaks = read_bed(path)
        offset = peaks["col9"].to_numpy() if "col9" in peaks and (peaks["col9"] >= 0).all() else None
        middle = (peaks["start"] + peaks["end"]).to_numpy() // 2
        summits.append(pd.DataFrame({"chrom": peaks["chrom"].to_numpy(),
                                     "summit": middle if offset is None else peaks["start"].to_numpy() + offset}))
    return summits


def peak_labels(windows: pd.DataFrame, width: int, summits: Sequence[pd.DataFrame]) -> np.ndarray:
    """``(n, cell lines)`` float32: 1 where a peak summit of that cell line lies in the window."""
    labels = np.zeros((len(windows), len(summits)), dtype=np.float32)
    for task, peaks in enumerate(summits):
        for chrom, rows in windows.groupby("chrom", sort=False).indices.items():
            points = np.sort(peaks.loc[peaks["chrom"] == chrom, "summit"].to_numpy())
            starts = windows["start"].to_numpy()[rows]
            inside = np.searchsorted(points, starts + width) - np.searchsorted(points, starts)
            labels[rows, task] = inside > 0
    return labels


def peak_centred_windows(summits: Sequence[pd.DataFrame], chrom_sizes: Mapping[str, int], width: int,
                         merge: int = 200, chroms: Iterable[str] | None = None) -> pd.DataFrame:
    """One ``width``-bp window on each group of summits (of all cell lines) less than ``merge`` bp
    apart, centred on the group's midpoint, kept where it fits in its chromosome (spec §1.6:
    Basset-style merging of the IDR peaks of all cell lines)."""
    every = pd.concat(summits, ignore_index=True)
    wanted = set(chroms) if chroms is not None else set(chrom_sizes)
    rows = []
    for chrom, group in every[every["chrom"].isin(wanted)].groupby("chrom", sort=False):
        points = np.sort(group["summit"].to_numpy())
        breaks = np.flatnonzero(np.diff(points) >= merge) + 1
        centres = np.array([(group[0] + group[-1]) // 2 for group in np.split(points, breaks)])
        starts = centres - width // 2
        fits = (starts >= 0) & (starts + width <= chrom_sizes[chrom])
        rows.append(pd.DataFrame({"chrom": chrom, "start": starts[fits], "end": starts[fits] + width}))
    order = {c: i for i, c in enumerate(chrom_sizes)}
    frame = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame({"chrom": [], "start": [], "end": []})
    return frame.sort_values(["chrom", "start"], key=lambda c: c.map(order) if c.name == "chrom" else c,
                             ignore_index=True)
