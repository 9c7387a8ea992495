"""The Kipoi dataloader for regions: BED + FASTA (+ bigWig tracks, + feature vectors).

`IntervalDataset` is the base of every epizoo region dataloader. It re-centres each BED interval
to the model's input width and returns, per region:

* ``seq``: the one-hot window, with the bigWig tracks appended as extra channels after the bases
  (FactorNet's layout) or, with ``tracks_input``, as an input of their own;
* a feature vector (``feature_input``): the per-cell-type vector (e.g. expression PCs), then the
  per-region features (e.g. annotation overlap flags), concatenated in that order;
* metadata: ``ranges`` (the window, as Kipoi's ``GenomicRanges``, with the strand of a 6-column
  BED) and ``padded`` (the window ran past a chromosome end and was N-padded).

Kipoi drives it through ``batch_iter``, which here builds whole batches with one gather per
chromosome instead of collating per-sample dictionaries (the per-sample path, ``__getitem__``,
is kept for Kipoi's shuffling and multi-worker loading). `batch_for_windows` builds the same
inputs for arbitrary windows, so the variant-effect and interpretation plugins can ask any entry's
dataloader for the reference inputs around a variant: construct it with ``intervals_file=None``
and the entry's other arguments. Subclasses whose per-region features derive from annotations
(FactorNet's GENCODE flags) override `region_features_for`, which then serves both paths.
"""
from __future__ import annotations

import inspect
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from kipoi.data import Dataset

from epizoo.contract import InputSpec

from .descriptions import OwnDescription
from .files import sample
from .genome import Genome
from .intervals import BedFormatError, read_bed, resize
from .onehot import DNA
from .tracks import BigWigTracks


def read_feature_vector(path: str | Path) -> np.ndarray:
    """Read a feature vector: one value per line, in the first (tab-separated) column.

    This is the format of FactorNet's per-cell ``meta.txt`` (``value<TAB>name``).
    """
    frame = pd.read_csv(path, sep="\t", header=None, comment="#")
    values = pd.to_numeric(frame[0], errors="coerce")
    if values.isna().any():
        line = int(np.flatnonzero(values.isna())[0]) + 1
        raise ValueError(f"{path}, line {line}: {frame[0][line - 1]!r} is not a number")
    return values.to_numpy(dtype=np.float32)


class IntervalDataset(OwnDescription, Dataset):
    """Regions of a BED file as model inputs.

    Parameters
    ----------
    intervals_file
        BED3+ file of regions (gzip allowed), or None for a dataset that only serves
        `batch_for_windows`.
    fasta_file
        Indexed (or indexable) reference FASTA, plain or bgzip (or an open `Genome`, to share
        its chromosome cache).
    width
        Model input width; every region is re-centred to it.
    bigwig_files
        bigWig tracks, in channel order. Default: none.
    track_names
        Names of the tracks (default: file stems).
    tracks_input
        Name of a separate input for the tracks, ``(width, n_tracks)``. Default None: the tracks
        are appended to ``seq`` as channels after the bases.
    cell_features
        A vector shared by all regions (e.g. a cell type's expression PCs).
    region_features
        ``(n_regions, k)`` array of per-region features, in BED order.
    feature_input
        Name of the feature-vector input. Default ``"features"``.
    seq_input
        Name of the sequence input. Default ``"seq"``.
    alphabet, n_value, channels_first, dtype
        One-hot encoding (see `epizoo.dataloaders.onehot.encode_bytes`).
    centring
        How to re-centre, see `epizoo.dataloaders.intervals.resize`.
    allow_missing_tracks
        Read bigWig signal missing for a chromosome (absent, or shorter than the FASTA's) as zeros,
        with a warning, instead of raising `epizoo.dataloaders.tracks.TrackMismatchError`.
    """

    def __new__(cls, *args, **kwargs):
        """Refuse unknown or missing arguments by name, listing the valid ones (Kipoi passes a
        user's dataloader arguments straight to the class, where a typo was a bare TypeError)."""
        if not args and not kwargs:  # unpickling (worker processes) creates the object bare
            return super().__new__(cls)
        signature = inspect.signature(cls.__init__)
        try:
            signature.bind(None, *args, **kwargs)
        except TypeError as error:
            names = [name for name in signature.parameters if name != "self"]
            given = set(names[:len(args)]) | set(kwargs)
            required = [name for name in names if signature.parameters[name].default is inspect.Parameter.empty]
            problems = [f"takes no argument {name!r}" for name in kwargs if name not in names]
            problems += [f"needs {name!r}" for name in required if name not in given]
            raise TypeError(f"{cls.__name__} {'; '.join(problems) or error}. Its arguments are {', '.join(names)} "
                            f"(required: {', '.join(required)}). Fix: correct the dataloader arguments.") from None
        return super().__new__(cls)

    def __init__(
        self,
        intervals_file: str | Path,
        fasta_file: str | Path | Genome,
        width: int,
        bigwig_files: Sequence[str | Path] = (),
        track_names: Sequence[str] | None = None,
        tracks_input: str | None = None,
        cell_features: np.ndarray | None = None,
        region_features: np.ndarray | None = None,
        feature_input: str = "features",
        seq_input: str = "seq",
        alphabet: str = DNA,
        n_value: float = 0.0,
        channels_first: bool = False,
        dtype: np.dtype | str = np.float32,
        centring: str = "kipoiseq",
        allow_missing_tracks: bool = False,
    ) -> None:
        self.intervals_file = Path(intervals_file) if intervals_file is not None else None
        self.regions = read_bed(intervals_file) if intervals_file is not None else _no_regions()
        if intervals_file is not None and not len(self.regions):
            warnings.warn(f"no intervals in {intervals_file}: the predictions will be empty", stacklevel=2)
        self.width = int(width)
        self.starts, self.ends = resize(
            self.regions["start"].to_numpy(), self.regions["end"].to_numpy(), self.width, centring
        )
        self.chroms = self.regions["chrom"].to_numpy(dtype=object)
        self.genome = fasta_file if isinstance(fasta_file, Genome) else Genome(fasta_file)
        check_regions_in_genome(self.regions, self.genome, self.intervals_file)
        self.tracks = (BigWigTracks(bigwig_files, track_names, self.genome, bool(allow_missing_tracks))
                       if len(bigwig_files) else None)
        self.tracks_input = tracks_input
        self.cell_features = None if cell_features is None else np.asarray(cell_features, np.float32)
        self.region_features = None if region_features is None else np.asarray(region_features, np.float32)
        self.feature_input = feature_input
        self.seq_input = seq_input
        self.encoding = dict(
            alphabet=alphabet, n_value=n_value, dtype=np.dtype(dtype), channels_first=channels_first
        )

    def __len__(self) -> int:
        return len(self.regions)

    def input_specs(self) -> dict[str, InputSpec]:
        """The kinds of the sequence and track inputs this dataset serves (see `epizoo.contract`;
        the feature vector, when there is one, is per sample)."""
        axes = ("channels", "length") if self.encoding["channels_first"] else ("length", "channels")
        names = tuple(self.tracks.names) if self.tracks is not None else ()
        specs = {self.seq_input: InputSpec(
            self.seq_input, "sequence", alphabet=self.encoding["alphabet"], axes=axes,
            n_value=float(self.encoding["n_value"]), tracks=() if self.tracks_input else names)}
        if self.tracks is not None and self.tracks_input is not None:
            specs[self.tracks_input] = InputSpec(self.tracks_input, "per_base", axes=axes, tracks=names)
        return specs

    def __getitem__(self, index: int) -> dict:
        return sample(self._region_batch(np.array([index])))

    def batch_iter(
        self, batch_size: int = 32, shuffle: bool = False, num_workers: int = 0,
        drop_last: bool = False, **kwargs,
    ) -> Iterator[dict]:
        """Batches in BED order, built whole; shuffling or worker processes use Kipoi's path."""
        if self.intervals_file is None:
            raise ValueError(f"{type(self).__name__} needs intervals_file, a BED of the regions to predict "
                             "(it was None). Fix: pass intervals_file in the dataloader arguments.")
        if shuffle or num_workers:
            return super().batch_iter(batch_size, shuffle, num_workers, drop_last, **kwargs)
        if len(self) == 0:  # one empty batch, so that writers still write their header
            return iter([self._region_batch(np.arange(0))])
        stop = len(self) - (len(self) % batch_size if drop_last else 0)
        return (
            self._region_batch(np.arange(i, min(i + batch_size, stop)))
            for i in range(0, stop, batch_size)
        )

    def region_features_for(
        self, chroms: np.ndarray, starts: np.ndarray, ends: np.ndarray
    ) -> np.ndarray | None:
        """Per-region features of arbitrary intervals: ``(n, k)`` or None (no such features).

        The base class has none; subclasses that derive them from annotations override this.
        """
        return None

    def _region_batch(self, rows: np.ndarray) -> dict:
        regions = self.regions.iloc[rows]
        if self.region_features is not None:
            region_features = self.region_features[rows]
        else:
            region_features = self.region_features_for(
                self.chroms[rows], regions["start"].to_numpy(), regions["end"].to_numpy()
            )
        ids = regions["name"].to_numpy() if "name" in regions else None
        strands = regions["strand"].to_numpy() if "strand" in regions else None
        return self._batch(self.chroms[rows], self.starts[rows], region_features, ids, strands)

    def batch_for_windows(
        self,
        chroms: Sequence[str] | np.ndarray,
        starts: Sequence[int] | np.ndarray,
        ids: Sequence[str] | None = None,
    ) -> dict:
        """Model inputs and metadata for windows of this dataset's width at ``starts``.

        Per-region features, when the dataset has them, are those of the windows themselves
        (`region_features_for`), as Kipoi's variant-effect tools passed variant-centred windows
        to a dataloader as its intervals.
        """
        chroms = np.asarray(chroms, dtype=object)
        starts = np.asarray(starts, dtype=np.int64)
        region_features = self.region_features_for(chroms, starts, starts + self.width)
        return self._batch(chroms, starts, region_features, ids)

    def _batch(self, chroms, starts, region_features, ids, strands=None) -> dict:
        seq, padded = self.genome.one_hot_batch(chroms, starts, self.width, **self.encoding)
        inputs = {self.seq_input: seq}
        if self.tracks is not None:
            tracks = self.tracks.values_batch(chroms, starts, self.width).astype(seq.dtype)
            inputs.update(self._place_tracks(seq, tracks))
        features = _combine_features(self.cell_features, region_features, len(starts))
        if features is not None:
            inputs[self.feature_input] = features
        return {"inputs": inputs, "metadata": _metadata(chroms, starts, self.width, ids, strands, padded)}

    def _place_tracks(self, seq: np.ndarray, tracks: np.ndarray) -> dict:
        channels_first = self.encoding["channels_first"]
        if channels_first:
            tracks = np.swapaxes(tracks, 1, 2)
        if self.tracks_input is not None:
            return {self.tracks_input: np.ascontiguousarray(tracks)}
        return {self.seq_input: np.concatenate([seq, tracks], axis=1 if channels_first else 2)}


def check_regions_in_genome(regions: pd.DataFrame, genome: Genome, path: Path | None) -> None:
    """Every region must start on a chromosome of the genome.

    A region wholly past its chromosome's end would be scored from an all-N window, and one on a
    chromosome the FASTA lacks cannot be read: both are errors naming the file and the line.
    Windows that only reach past an end stay, N-padded and flagged in ``metadata/padded``.

    Raises
    ------
    BedFormatError
        At the first such region (the message counts the others).
    """
    for chrom, rows in regions.groupby("chrom", sort=False):
        if chrom not in genome.resolve:
            first = rows.iloc[0]
            raise BedFormatError(
                f"{path}, line {first['line']}: chromosome {chrom!r} is not in {genome.path.name} "
                f"({len(rows)} interval(s) on it). Fix: use the FASTA of the BED's genome build, or drop them."
            )
        length = genome.contig_length(chrom)
        past = rows[rows["start"].to_numpy() >= length]
        if len(past):
            first = past.iloc[0]
            raise BedFormatError(
                f"{path}, line {first['line']}: {chrom}:{first['start']}-{first['end']} lies wholly past the end "
                f"of {chrom} ({length:,} bp in {genome.path.name}); {len(past)} interval(s) do. Fix: check the "
                "BED's genome build, or drop those intervals."
            )


def _combine_features(
    cell_features: np.ndarray | None, region_features: np.ndarray | None, n_regions: int
) -> np.ndarray | None:
    """Feature rows: the cell-type vector, then the region features, float32."""
    parts = []
    if cell_features is not None:
        parts.append(np.repeat(cell_features.reshape(1, -1), n_regions, axis=0))
    if region_features is not None:
        parts.append(np.asarray(region_features, dtype=np.float32).reshape(n_regions, -1))
    return np.concatenate(parts, axis=1) if parts else None


def _no_regions() -> pd.DataFrame:
    return pd.DataFrame({"chrom": pd.Series(dtype=str), "start": pd.Series(dtype=np.int64),
                         "end": pd.Series(dtype=np.int64), "line": pd.Series(dtype=np.int64)})


def _metadata(chroms, starts, width, ids, strands, padded) -> dict:
    """Kipoi's ``ranges`` (the strand a BED6 gives, else ``*``) and the padding flags. Text is
    fixed-width unicode, as Kipoi's own batching makes it: its HDF5 writer takes object arrays for
    ragged arrays, not for strings."""
    n = len(starts)
    if ids is None:
        ids = [f"{c}:{s}-{s + width}" for c, s in zip(chroms, starts)]
    ranges = {
        "chr": np.asarray(chroms).astype(str),
        "start": starts,
        "end": starts + width,
        "id": np.asarray(ids).astype(str),
        "strand": np.full(n, "*") if strands is None else np.asarray(strands).astype(str),
    }
    return {"ranges": ranges, "padded": padded}

