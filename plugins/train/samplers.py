"""The papers' sampling of training windows, without materialising a genome.

Everything here works on coordinates: windows are ``(chrom, start, end)`` rows of a DataFrame, or
index arrays into one, and the trainer fetches their sequences batch by batch later. Randomness
comes from ``numpy.random.Generator`` objects seeded from ``(seed, epoch)``, so that a resumed
run or another DDP rank reproduces an epoch exactly.

Sources
-------
* Chromosome hold-outs, blacklist extended by L on each side, chromosome edges, fresh random
  negatives each epoch at an adjustable ratio, positives shifted at each draw: FactorNet
  §2.4 / spec §3.1-3.3.
* A fixed number of positives per batch (1:3, upsampling the accessible class): ChromDragoNN
  stage 2 (spec §3.3, ``positive_proportion = 0.25``).
* GC-matched negatives: Novakovsky et al. (TF transfer learning, spec §1.6 "Individual models").
* Per-sample random shifts and reverse complements: GOPHER §1.7.
"""
from __future__ import annotations

import logging
import math
import zlib
from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar

import numpy as np
import pandas as pd

from epizoo.dataloaders.contigs import ContigResolver, aliases
from epizoo.dataloaders.intervals import OverlapIndex, merge_intervals

logger = logging.getLogger(__name__)

RandomState = np.random.Generator | int | Sequence[int] | None
Shards = TypeVar("Shards", pd.DataFrame, np.ndarray)


def as_generator(rng: RandomState) -> np.random.Generator:
    """``rng`` itself when it is a Generator, else a Generator seeded with it."""
    return rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)


def random_stream(*keys: int | str | Sequence[int]) -> np.random.Generator:
    """The one way training derives a random stream: numpy's Generator seeded with the list of
    ``keys`` (the run's seed, then what the stream is for: a cell type, an epoch, a batch, a name).
    Sequences are flattened, integers enter modulo 2**32 and names by their CRC-32; the same keys
    give the same stream in any process. (The simulator keeps its own, documented derivation: its files must not change.)"""
    entropy = []
    for key in keys:
        if isinstance(key, str):
            entropy.append(zlib.crc32(key.encode()))
        else:
            entropy.extend(int(k) % 2**32 for k in np.atleast_1d(key))
    return np.random.default_rng(entropy)


# -- chromosome splits and exclusions ---------------------------------------------------------


def split_by_chromosome(
    regions: pd.DataFrame, valid: Sequence[str], test: Sequence[str]
) -> dict[str, pd.DataFrame]:
    """Split regions into training, validation and test sets by chromosome.

    FactorNet holds out whole chromosomes (validation chromosomes, test chr1, chr8, chr21; §3.1,
    §4.1), as do ChromDragoNN and GOPHER (valid chr9, test chr8). ``chr1`` and ``1`` name the same
    chromosome here, whichever the regions use.

    Parameters
    ----------
    regions
        A frame with a ``chrom`` column.
    valid, test
        Chromosomes of the validation and test sets; every other chromosome is training.

    Returns
    -------
    dict
        ``{"train": ..., "valid": ..., "test": ...}``, each a subset of ``regions`` with its
        original index (so rows can be matched to targets held elsewhere).

    Raises
    ------
    ValueError
        When a chromosome is both a validation and a test chromosome.
    """
    valid_names = {a for name in valid for a in aliases(str(name))}
    test_names = {a for name in test for a in aliases(str(name))}
    shared = sorted(n for n in map(str, valid) if n in test_names)
    if shared:
        raise ValueError(
            f"chromosome(s) {', '.join(shared)} are both validation and test chromosomes; "
            "fix: give each held-out chromosome to one set only"
        )
    chroms = regions["chrom"].astype(str)
    is_valid, is_test = chroms.isin(valid_names), chroms.isin(test_names)
    for name, wanted, rows in (("valid", valid, is_valid), ("test", test, is_test)):
        if len(wanted) and not rows.any():
            logger.warning("no region lies on the %s chromosome(s) %s", name, ", ".join(map(str, wanted)))
    return {"train": regions[~is_valid & ~is_test], "valid": regions[is_valid], "test": regions[is_test]}


def drop_overlapping(regions: pd.DataFrame, annotation: pd.DataFrame, flank: int = 0) -> pd.DataFrame:
    """Remove the regions that overlap an annotation extended by ``flank`` bp on each side.

    FactorNet excludes bins overlapping the ENCODE blacklist, extended by L (the input length) on
    each side (spec §3.1), and draws negatives outside relaxed peaks extended by 200 bp (§3.2).

    Parameters
    ----------
    regions
        ``chrom``, ``start``, ``end`` (0-based, half-open) and any other columns.
    annotation
        ``chrom``, ``start``, ``end`` of the intervals to avoid (e.g. `read_bed` of a blacklist).
        Chromosome names are matched through their aliases (``chr1`` / ``1``).
    flank
        bp added on both sides of each annotation interval.

    Returns
    -------
    pandas.DataFrame
        The regions sharing no base with the extended annotation, with their original index.
    """
    if flank < 0:
        raise ValueError(f"flank must be >= 0, got {flank}")
    if len(regions) == 0 or len(annotation) == 0:
        return regions
    extended = _extended(annotation, flank)
    # one name per chromosome on both sides, so that chr1 and 1 match even within one table
    index = OverlapIndex(extended.assign(chrom=_canonical(extended["chrom"])), "the excluded intervals")
    hit = index.overlaps(_canonical(regions["chrom"]), regions["start"].to_numpy(), regions["end"].to_numpy())
    return regions[~hit]


def _canonical(chroms: pd.Series) -> np.ndarray:
    """Chromosome names without ``chr``, with ``M``/``MT`` as ``M`` (one key per chromosome)."""
    names = chroms.astype(str)
    mapping = {}
    for name in names.unique():
        bare = name[3:] if name.lower().startswith("chr") else name
        mapping[name] = "M" if bare.upper() in {"M", "MT"} else bare
    return names.map(mapping).to_numpy()


def _extended(annotation: pd.DataFrame, flank: int) -> pd.DataFrame:
    return pd.DataFrame({
        "chrom": annotation["chrom"].astype(str).to_numpy(),
        "start": np.maximum(annotation["start"].to_numpy(np.int64) - flank, 0),
        "end": annotation["end"].to_numpy(np.int64) + flank,
    })


# -- random windows (negatives) ---------------------------------------------------------------


class RandomWindows:
    """Uniformly random fixed-width windows on allowed chromosomes, avoiding excluded intervals.

    The allowed start positions are computed once, exactly, as intervals (each chromosome's
    ``[edge, length - edge - width]`` minus the starts whose window would touch ``exclude``), so
    sampling is one draw per window with no rejection loop: every allowed start is equally likely,
    which weights chromosomes by their usable length. This is FactorNet's ``bedtools shuffle``
    of negatives with ``incl`` = training chromosomes and ``excl`` = blacklist (+ L) and relaxed
    peaks (+ 200 bp), with the first and last L bp of each chromosome left out (spec §3.1-3.3;
    windows may overlap one another, as with ``noOverlapping=False``).

    Parameters
    ----------
    chrom_sizes
        ``{chrom: length}``, e.g. ``Genome(fasta).lengths``.
    width
        Window width in bp.
    exclude
        ``chrom``, ``start``, ``end`` of intervals no window may share a base with (e.g. the
        blacklist and the relaxed peaks). Names are matched through their aliases.
    chroms
        Chromosomes to draw from (aliases allowed, e.g. the ``train`` chromosomes); default all.
    edge
        bp at each chromosome end that no window may touch (FactorNet: L).
    flank
        bp by which every ``exclude`` interval is extended on each side (FactorNet: L for the
        blacklist).

    Raises
    ------
    ValueError
        When no window fits (everything excluded, chromosomes shorter than ``width + 2 * edge``)
        or a requested chromosome is not in ``chrom_sizes``.
    """

    def __init__(self, chrom_sizes: dict[str, int], width: int, exclude: pd.DataFrame | None = None,
                 chroms: Sequence[str] | None = None, edge: int = 0, flank: int = 0) -> None:
        if width < 1 or edge < 0 or flank < 0:
            raise ValueError(f"need width >= 1, edge >= 0 and flank >= 0; got {width}, {edge}, {flank}")
        self.width, self.edge = int(width), int(edge)
        names = self._chromosomes(chrom_sizes, chroms)
        if not names:
            raise ValueError("RandomWindows needs at least one chromosome to draw from")
        forbidden = _forbidden_starts(exclude, flank, self.width, chrom_sizes)
        pieces = [self._allowed(name, chrom_sizes[name], forbidden.get(name)) for name in names]
        self._chrom_of = np.concatenate([np.full(len(p[0]), i) for i, p in enumerate(pieces)])
        self._starts = np.concatenate([p[0] for p in pieces])
        lengths = np.concatenate([p[1] - p[0] for p in pieces])
        self._cumulative = np.cumsum(lengths)
        self.chroms = names
        self.positions = int(self._cumulative[-1]) if len(lengths) else 0
        if self.positions == 0:
            raise ValueError(
                f"no {self.width} bp window fits on chromosome(s) {', '.join(names)} outside the "
                f"excluded intervals and {self.edge} bp from the chromosome ends; fix: allow more "
                "chromosomes, a smaller exclusion flank or edge, or a smaller width"
            )

    @staticmethod
    def _chromosomes(chrom_sizes: dict[str, int], chroms: Sequence[str] | None) -> list[str]:
        if chroms is None:
            return list(chrom_sizes)
        resolve = ContigResolver(chrom_sizes, "chrom_sizes")
        return list(dict.fromkeys(resolve(str(c)) for c in chroms))

    def _allowed(self, chrom: str, length: int, forbidden) -> tuple[np.ndarray, np.ndarray]:
        """Half-open intervals of allowed window starts on one chromosome."""
        low, high = self.edge, length - self.edge - self.width + 1
        if high <= low:
            return np.empty(0, np.int64), np.empty(0, np.int64)
        if forbidden is None:
            return np.array([low]), np.array([high])
        f_starts = np.clip(forbidden[0], low, high)
        f_ends = np.clip(forbidden[1], low, high)
        gap_starts = np.concatenate([[low], f_ends])
        gap_ends = np.concatenate([f_starts, [high]])
        keep = gap_ends > gap_starts
        return gap_starts[keep], gap_ends[keep]

    def sample(self, n: int, rng: RandomState = None) -> pd.DataFrame:
        """``n`` windows drawn uniformly (with replacement) from all allowed starts.

        Returns
        -------
        pandas.DataFrame
            ``chrom``, ``start``, ``end`` (int64), in draw order.
        """
        draws = as_generator(rng).integers(0, self.positions, size=int(n))
        piece = np.searchsorted(self._cumulative, draws, side="right")
        before = np.concatenate([[0], self._cumulative[:-1]])[piece]
        starts = self._starts[piece] + (draws - before)
        chroms = np.asarray(self.chroms, dtype=object)[self._chrom_of[piece]]
        return pd.DataFrame({"chrom": chroms, "start": starts, "end": starts + self.width})


def _forbidden_starts(exclude: pd.DataFrame | None, flank: int, width: int,
                      chrom_sizes: dict[str, int]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per chromosome, merged half-open intervals of starts whose window touches ``exclude``.

    A window ``[s, s + width)`` shares a base with ``[a, b)`` iff ``a - width < s < b``.
    """
    if exclude is None or len(exclude) == 0:
        return {}
    resolve = ContigResolver(chrom_sizes, "chrom_sizes")
    extended = _extended(exclude, flank)
    result = {}
    for chrom, group in extended.groupby("chrom", sort=False):
        name = resolve.resolve(str(chrom))
        if name is None:
            continue
        starts = group["start"].to_numpy() - width + 1
        ends = group["end"].to_numpy()
        if name in result:
            starts, ends = np.concatenate([result[name][0], starts]), np.concatenate([result[name][1], ends])
        result[name] = merge_intervals(starts, ends)
    return result


# -- GC matching ------------------------------------------------------------------------------

_IS_GC = np.zeros(256, dtype=bool)
_IS_ACGT = np.zeros(256, dtype=bool)
for _base in b"GCgc":
    _IS_GC[_base] = True
for _base in b"ACGTacgt":
    _IS_ACGT[_base] = True


def gc_content(sequence_bytes: np.ndarray) -> np.ndarray:
    """Fraction of G/C among the A/C/G/T bases of each sequence (N and others ignored).

    Parameters
    ----------
    sequence_bytes
        ``(B, L)`` uint8 ASCII bases (as from ``Genome.fetch_batch``), either case.

    Returns
    -------
    numpy.ndarray
        ``(B,)`` float64; NaN for a sequence with no A/C/G/T base.
    """
    sequence_bytes = np.asarray(sequence_bytes, dtype=np.uint8)
    if sequence_bytes.ndim != 2:
        raise ValueError(f"expected (B, L) bytes, got shape {sequence_bytes.shape}")
    gc = _IS_GC[sequence_bytes].sum(axis=1)
    acgt = _IS_ACGT[sequence_bytes].sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(acgt > 0, gc / acgt, np.nan)


def gc_matched(candidate_gc: np.ndarray, target_gc: np.ndarray, n: int, rng: RandomState = None,
               bins: int = 10) -> np.ndarray:
    """Indices of candidates (negatives) whose GC-content histogram matches the targets'.

    Novakovsky et al. down-sample unbound regions "while accounting for the %GC content
    distributions between bound and unbound regions"; their code bins GC into 10 bins of 10%
    and, in each bin, samples negatives without replacement in the proportion of the positives,
    taking all of a bin's negatives when it has too few (spec §1.6, "Individual models").

    Parameters
    ----------
    candidate_gc
        GC fraction of each candidate, in [0, 1] (NaN: never chosen).
    target_gc
        GC fractions whose distribution is to be matched (e.g. the positives').
    n
        How many candidates to choose; each bin gets its share of ``n`` by the targets' histogram
        (largest remainders). Fewer are returned (with a warning) where bins run short.
    rng
        Generator or seed.
    bins
        Equal-width GC bins on [0, 1] (default 10, Novakovsky et al.'s code).

    Returns
    -------
    numpy.ndarray
        Sorted int64 indices into ``candidate_gc``, without repeats.
    """
    candidate_gc, target_gc = np.asarray(candidate_gc, float), np.asarray(target_gc, float)
    target_gc = target_gc[~np.isnan(target_gc)]
    if len(target_gc) == 0:
        raise ValueError("gc_matched needs at least one target GC value that is not NaN")
    wanted = _shares(np.bincount(_gc_bin(target_gc, bins), minlength=bins), int(n))
    usable = np.flatnonzero(~np.isnan(candidate_gc))
    shuffled = as_generator(rng).permutation(usable)
    which = _gc_bin(candidate_gc[shuffled], bins)
    order = np.argsort(which, kind="stable")
    shuffled, which = shuffled[order], which[order]
    rank = np.arange(len(which)) - np.searchsorted(which, which, side="left")
    chosen = np.sort(shuffled[rank < wanted[which]])
    if len(chosen) < n:
        short = np.flatnonzero(np.bincount(which, minlength=bins) < wanted)
        logger.warning("gc_matched: only %d of %d candidates chosen; GC bin(s) %s have too few candidates",
                       len(chosen), n, ", ".join(f"{b / bins:.2f}-{(b + 1) / bins:.2f}" for b in short))
    return chosen


def _gc_bin(gc: np.ndarray, bins: int) -> np.ndarray:
    return np.clip(np.floor(gc * bins).astype(np.int64), 0, bins - 1)


def _shares(counts: np.ndarray, n: int) -> np.ndarray:
    """Split ``n`` in proportion to ``counts`` (largest-remainder rounding, sums to ``n``)."""
    exact = counts / counts.sum() * n
    shares = np.floor(exact).astype(np.int64)
    remainder = n - shares.sum()
    shares[np.argsort(-(exact - shares), kind="stable")[:remainder]] += 1
    return shares


# -- epochs and batches -----------------------------------------------------------------------


def random_shifts(n: int, max_shift: int | np.ndarray, rng: RandomState = None) -> np.ndarray:
    """Integer shifts uniform in ``[-max_shift, +max_shift]`` (per row if ``max_shift`` is an array).

    FactorNet's "random spatial translations" (±20 bp multi-task, peak-dependent single-task;
    spec §3.1); GOPHER's per-sequence random shifts (§1.7).
    """
    limit = np.broadcast_to(np.asarray(max_shift, dtype=np.int64), (int(n),))
    if (limit < 0).any():
        raise ValueError("max_shift must be >= 0")
    return as_generator(rng).integers(-limit, limit, endpoint=True, size=int(n))


def reverse_complement_mask(n: int, rng: RandomState = None, p: float = 0.5) -> np.ndarray:
    """Bool per sample: replace it by its reverse complement? (GOPHER §1.7: half of each batch.)"""
    if not 0 <= p <= 1:
        raise ValueError(f"p must be in [0, 1], got {p}")
    return as_generator(rng).random(int(n)) < p


class BalancedEpochs:
    """FactorNet's epochs: every positive once (shifted afresh) plus fresh random negatives.

    "Each epoch, an equal number of positive and negative bins are randomly sampled ... but this
    ratio is an adjustable hyperparameter"; positives are "included at most once per epoch" and
    shifted at each draw; each epoch sees new negatives (FactorNet §2.4, spec §3.1-3.2). Epoch
    ``k`` depends only on ``(seed, k)``, so a resumed run or any DDP rank rebuilds it identically.

    Parameters
    ----------
    positives
        ``chrom``, ``start``, ``end`` windows of the negatives' width.
    negatives
        Where negatives come from.
    ratio
        Negatives per positive (FactorNet ``-n``, default 1).
    shift
        Maximum shift of the positives in bp, one int or one per row (FactorNet single-task:
        ``peak_end - (peak_mid - 100) - 75 - 1``; multi-task: 20), or a callable
        ``shift(rng, n) -> int array`` of the shifts themselves. Negatives are not shifted.
    seed
        Seed of the epochs (FactorNet: 420), or the keys of its `random_stream`.
    """

    def __init__(self, positives: pd.DataFrame, negatives: RandomWindows, ratio: float = 1.0,
                 shift: int | np.ndarray | Callable[[np.random.Generator, int], np.ndarray] = 0,
                 seed: int | Sequence[int] = 0) -> None:
        widths = (positives["end"] - positives["start"]).to_numpy()
        if len(positives) == 0:
            raise ValueError("BalancedEpochs needs at least one positive window")
        if (widths != negatives.width).any():
            raise ValueError(
                f"positive windows must be {negatives.width} bp wide like the negatives, found widths "
                f"{sorted(set(widths.tolist()))[:5]}; fix: resize them (epizoo.dataloaders.intervals.resize)"
            )
        if ratio < 0:
            raise ValueError(f"ratio must be >= 0, got {ratio}")
        if not callable(shift) and np.ndim(shift) and len(shift) != len(positives):
            raise ValueError(f"shift has {len(shift)} values for {len(positives)} positives")
        self.positives = positives.reset_index(drop=True)
        self.negatives, self.ratio, self.shift, self.seed = negatives, float(ratio), shift, tuple(np.atleast_1d(seed))
        self.n_negatives = int(round(self.ratio * len(positives)))

    def __len__(self) -> int:
        """Windows per epoch."""
        return len(self.positives) + self.n_negatives

    def epoch(self, k: int) -> pd.DataFrame:
        """The shuffled windows of epoch ``k``.

        Returns
        -------
        pandas.DataFrame
            ``chrom``, ``start``, ``end``, ``label`` (1 positive, 0 negative) and ``row`` (the
            positive's row in ``positives``, for its targets; -1 for negatives).
        """
        rng = random_stream(self.seed, int(k))
        n_pos = len(self.positives)
        offsets = self.shift(rng, n_pos) if callable(self.shift) else random_shifts(n_pos, self.shift, rng)
        starts = self.positives["start"].to_numpy(np.int64) + np.asarray(offsets, dtype=np.int64)
        positives = pd.DataFrame({
            "chrom": self.positives["chrom"].to_numpy(), "start": starts,
            "end": starts + self.negatives.width,
            "label": 1, "row": np.arange(n_pos),
        })
        negatives = self.negatives.sample(self.n_negatives, rng).assign(label=0, row=-1)
        both = pd.concat([positives, negatives], ignore_index=True)
        return both.iloc[rng.permutation(len(both))].reset_index(drop=True)


class ClassRatioBatches:
    """Batches of indices with a fixed number of positives each (ChromDragoNN's 1:3 batches).

    ChromDragoNN "maintained a 1:3 ratio of positives to negatives per batch by upsampling
    accessible regions" (spec §3.3; code ``positive_proportion = 0.25``: 64 of 256). Each epoch has
    enough batches to show every example of the class that needs the most batches once; the
    other class is drawn without replacement as long as it lasts, then again from a fresh
    permutation (upsampling: every example appears, counts differ by at most one). Positives and
    negatives are mixed within each batch.

    Parameters
    ----------
    labels
        ``(n,)`` 0/1 or bool, one per example.
    batch_size
        Examples per batch (ChromDragoNN: 256).
    positives_per_batch
        Positives per batch (ChromDragoNN: 64).
    seed
        Seed; the order of epoch ``k`` depends only on ``(seed, k)``.
    batches
        Batches per epoch instead of the default (ChromDragoNN's code: 4000).

    Examples
    --------
    >>> batches = ClassRatioBatches(np.r_[np.ones(10), np.zeros(90)], 8, 2)
    >>> len(batches), [int(b.size) for b in batches][:3]
    (15, [8, 8, 8])
    """

    def __init__(self, labels: np.ndarray, batch_size: int, positives_per_batch: int, seed: int = 0,
                 batches: int | None = None) -> None:
        labels = np.asarray(labels)
        if labels.ndim != 1 or not np.isin(labels, (0, 1)).all():
            raise ValueError("labels must be a 1-D array of 0/1 (one label per example)")
        if batch_size < 1 or not 0 <= positives_per_batch <= batch_size:
            raise ValueError(f"need batch_size >= 1 and 0 <= positives_per_batch <= batch_size, "
                             f"got {batch_size} and {positives_per_batch}")
        self.positive_index = np.flatnonzero(labels == 1)
        self.negative_index = np.flatnonzero(labels == 0)
        self.per_batch = (int(positives_per_batch), int(batch_size) - int(positives_per_batch))
        for pool, count, name in zip(self._pools(), self.per_batch, ("positive", "negative")):
            if count and not len(pool):
                raise ValueError(f"{count} {name}s per batch requested but the labels have no {name}")
        self.batch_size, self.seed, self.epoch = int(batch_size), int(seed), 0
        self.batches = int(batches) if batches is not None else max(
            math.ceil(len(pool) / count) for pool, count in zip(self._pools(), self.per_batch) if count
        )

    def _pools(self) -> tuple[np.ndarray, np.ndarray]:
        return self.positive_index, self.negative_index

    def set_epoch(self, k: int) -> None:
        """Use epoch ``k``'s order in the next iteration (as ``DistributedSampler.set_epoch``)."""
        self.epoch = int(k)

    def __len__(self) -> int:
        return self.batches

    def __iter__(self) -> Iterator[np.ndarray]:
        rng = random_stream(self.seed, self.epoch)
        parts = [_cycled(pool, self.batches * count, rng).reshape(self.batches, count)
                 for pool, count in zip(self._pools(), self.per_batch)]
        table = np.concatenate(parts, axis=1)
        mixed = np.take_along_axis(table, rng.random(table.shape).argsort(axis=1), axis=1)
        return iter(mixed)


def _cycled(pool: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    """``count`` items of ``pool``: consecutive fresh permutations, cut to length."""
    if count == 0:
        return np.empty(0, np.int64)
    rounds = -(-count // len(pool))
    return np.concatenate([rng.permutation(pool) for _ in range(rounds)])[:count]


def shard_for_rank(samples: Shards, rank: int, world_size: int, even: bool = False) -> Shards:
    """This rank's share of an epoch's samples: every ``world_size``-th row from ``rank``.

    The shares of ranks ``0 .. world_size - 1`` are disjoint and together cover the samples (as
    ``torch.utils.data.DistributedSampler`` without shuffling). With ``even=True`` every rank gets
    ``ceil(n / world_size)`` rows, the shorter shares being padded from the start of the samples,
    as DistributedSampler does, since DDP ranks must run the same number of steps; then up to
    ``world_size - 1`` samples are seen twice.

    Parameters
    ----------
    samples
        A DataFrame (rows) or an array (first axis).
    rank, world_size
        This process's rank and the number of processes.
    """
    if world_size < 1 or not 0 <= rank < world_size:
        raise ValueError(f"need 0 <= rank < world_size, got rank {rank} of {world_size}")
    n = len(samples)
    rows = np.arange(rank, n, world_size)
    if even and n:
        rows = np.arange(rank, -(-n // world_size) * world_size, world_size) % n
    return samples.iloc[rows] if isinstance(samples, pd.DataFrame) else np.asarray(samples)[rows]
