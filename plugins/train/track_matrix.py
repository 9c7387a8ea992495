"""The observed tracks of Avocado's tensor (cell type x assay x position) as one memory-mapped
``(positions, tracks)`` float32 array, built once in the cache and read a batch at a time.

Each track is a file named ``<celltype>.<assay>[.anything]`` (the authors' demo files:
``E003.H3K4me3.pilot.arcsinh.npz``): a numpy array over the model's positions (``.npy``, or an
``.npz`` holding one array), or a bigWig averaged over the 25-bp bins of the run's
`epizoo.dataloaders.positions.PositionLayout` (NaN and uncovered bases count as 0). ``transform:
arcsinh`` applies the paper's arcsinh (to Roadmap's -log10 p-values; the authors' arrays already
are). The array lies under the cache, keyed by the files (path, size, time) and the transform, so the
whole tensor is never held in memory: positions are rows, so a batch of nearby positions reads
a few pages.
"""
from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from epizoo.atomic import atomic_path
from epizoo.cache import cache_dir
from epizoo.dataloaders.files import SIGNAL_TRANSFORMS
from epizoo.dataloaders.positions import PositionLayout

logger = logging.getLogger(__name__)


def track_name(path: str | Path) -> tuple[str, str]:
    """``(celltype, assay)`` of a track file named ``<celltype>.<assay>[.anything]``."""
    parts = Path(path).name.split(".")
    if len(parts) < 3 or not parts[0] or not parts[1]:
        raise ValueError(f"{path}: a track file is named <celltype>.<assay>.<suffix> (e.g. E003.H3K4me3.pilot.npz). "
                         "Fix: rename it")
    return parts[0], parts[1]


@dataclass
class TrackMatrix:
    """Observed tracks: ``values[position, track]`` for the tracks ``names`` (``celltype.assay``)."""

    names: list[str]
    values: np.ndarray

    @property
    def n_positions(self) -> int:
        return len(self.values)

    def column(self, name: str) -> np.ndarray:
        """One track over every position (read into memory)."""
        return np.asarray(self.values[:, self.names.index(name)])


def load_tracks(paths: list[Path], layout: PositionLayout | None = None, transform: str = "none",
                cache: Path | None = None) -> TrackMatrix:
    """The tracks of ``paths`` as a `TrackMatrix` (built into the cache on first use).

    Raises
    ------
    ValueError
        For two files of one track, tracks of different lengths, a bigWig without a layout, or a
        non-finite value, naming the file.
    """
    if transform not in SIGNAL_TRANSFORMS:
        raise ValueError(f"data.transform must be one of {', '.join(SIGNAL_TRANSFORMS)}, not {transform!r}")
    names = [".".join(track_name(p)) for p in paths]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ValueError(f"more than one file of the track(s) {', '.join(twice)}: give each (cell type, assay) once")
    key = hashlib.sha256(json.dumps([transform, [_stamp(p) for p in paths],
                                     None if layout is None else layout.digest()]).encode()).hexdigest()[:24]
    target = (cache or cache_dir()) / "tracks" / key / "matrix.npy"
    if not target.exists():
        _build(target, paths, layout, SIGNAL_TRANSFORMS[transform])
    return TrackMatrix(names, np.load(target, mmap_mode="r"))


def _stamp(path: Path) -> list:
    """What identifies a track file for the cache without hashing it (gigabytes of bigWig, on every
    run and rank): its absolute path, size and modification time. Provenance still names it by
    checksum (the entry's config.yaml)."""
    status = path.stat()
    return [str(path.resolve()), status.st_size, status.st_mtime_ns]


def _build(target: Path, paths: list[Path], layout: PositionLayout | None, transform) -> None:
    logger.info("building the matrix of %d tracks in %s", len(paths), target.parent)
    first = _read(paths[0], layout)
    with atomic_path(target) as tmp:
        matrix = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.float32, shape=(len(first), len(paths)))
        for column, path in enumerate(paths):
            values = first if column == 0 else _read(path, layout)
            if len(values) != len(first):
                raise ValueError(f"{path} has {len(values)} positions, {paths[0]} {len(first)}: every track must cover "
                                 "the same positions")
            values = transform(values.astype(np.float32))
            if not np.isfinite(values).all():
                raise ValueError(f"{path}: position {int(np.flatnonzero(~np.isfinite(values))[0])} is not finite")
            matrix[:, column] = values
        matrix.flush()
        del matrix


def _read(path: Path, layout: PositionLayout | None) -> np.ndarray:
    """One track's values over the positions."""
    suffix = path.suffix.lower()
    if suffix == ".npy":
        return np.load(path, mmap_mode="r")
    if suffix == ".npz":
        with np.load(path) as archive:
            if len(archive.files) != 1:
                raise ValueError(f"{path} holds {len(archive.files)} arrays ({', '.join(archive.files)}); a track "
                                 "file holds one")
            return archive[archive.files[0]].ravel()
    if suffix in (".bw", ".bigwig"):
        if layout is None:
            raise ValueError(f"{path} is a bigWig: give data.layout, the BED of the regions whose 25-bp bins are the "
                             "model's positions")
        return _bigwig_bins(path, layout)
    raise ValueError(f"{path}: a track is .npy, .npz or a bigWig (.bw, .bigWig), not {suffix or 'no suffix'}")


def _bigwig_bins(path: Path, layout: PositionLayout, chunk: int = 40_000) -> np.ndarray:
    """Mean signal of every bin of the layout (NaN and uncovered bases count as 0), read ``chunk``
    bins at a time (a chromosome-long region is never read whole at 1 bp)."""
    from epizoo.dataloaders.tracks import BigWigTracks

    track = BigWigTracks([path], allow_missing=True)
    parts = []
    for chrom, start, n in zip(layout.chroms, layout.starts, layout.bins):
        for first in range(0, int(n), chunk):
            bins = min(chunk, int(n) - first)
            begin = int(start) + first * layout.bin_size
            values = track.values(str(chrom), begin, begin + bins * layout.bin_size)[:, 0]
            parts.append(values.reshape(bins, layout.bin_size).mean(axis=1))
    return np.concatenate(parts) if parts else np.zeros(0, np.float32)
