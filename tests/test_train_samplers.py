"""The training plugin's samplers: splits, exclusions, random negatives, GC matching, epochs, batches."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import ks_2samp

from conftest import SLICE_FASTA
from epizoo.dataloaders.genome import Genome
from epizoo.plugins.train.samplers import (
    BalancedEpochs,
    ClassRatioBatches,
    RandomWindows,
    drop_overlapping,
    gc_content,
    gc_matched,
    random_shifts,
    reverse_complement_mask,
    shard_for_rank,
    split_by_chromosome,
)

SIZES = {"chr1": 50_000, "chr2": 30_000, "chr3": 5_000}
BLACKLIST = pd.DataFrame({"chrom": ["1", "chr1", "chr2"], "start": [10_000, 30_000, 0],
                          "end": [12_000, 30_500, 20_000]})


def frame(chroms, starts, width=100):
    starts = np.asarray(starts, dtype=np.int64)
    return pd.DataFrame({"chrom": list(chroms), "start": starts, "end": starts + width})


def touches(windows: pd.DataFrame, intervals: pd.DataFrame) -> np.ndarray:
    """Brute-force overlap test (names compared without the chr prefix)."""
    bare = lambda c: np.char.replace(np.asarray(c, dtype=str), "chr", "")  # noqa: E731
    w_chrom, i_chrom = bare(windows["chrom"]), bare(intervals["chrom"])
    same = w_chrom[:, None] == i_chrom[None, :]
    cross = (windows["start"].to_numpy()[:, None] < intervals["end"].to_numpy()[None, :]) & (
        windows["end"].to_numpy()[:, None] > intervals["start"].to_numpy()[None, :])
    return (same & cross).any(axis=1)


# -- split and exclusion ----------------------------------------------------------------------


def test_split_by_chromosome_reconciles_aliases():
    regions = frame(["chr1", "chr2", "chr8", "chr9", "chrX", "chr21"], np.arange(6) * 1000)
    parts = split_by_chromosome(regions, valid=["9"], test=["1", "chr8", "21"])
    assert list(parts["valid"]["chrom"]) == ["chr9"]
    assert list(parts["test"]["chrom"]) == ["chr1", "chr8", "chr21"]
    assert list(parts["train"]["chrom"]) == ["chr2", "chrX"]
    assert sorted(np.concatenate([p.index for p in parts.values()])) == list(regions.index)
    bare = frame(["1", "2"], [0, 0])
    assert list(split_by_chromosome(bare, valid=["chr2"], test=[])["valid"]["chrom"]) == ["2"]


def test_split_rejects_shared_chromosomes():
    with pytest.raises(ValueError, match="both validation and test"):
        split_by_chromosome(frame(["chr1"], [0]), valid=["chr1", "chr9"], test=["1"])


def test_drop_overlapping_with_flank():
    regions = frame(["chr1", "1", "chr1", "chr1", "chr2", "chr2"],
                    [9_950, 29_950, 12_100, 12_300, 19_950, 25_000])
    kept = drop_overlapping(regions, BLACKLIST)  # "1" vs "chr1" matched both ways
    assert list(kept["start"]) == [12_100, 12_300, 25_000]
    kept = drop_overlapping(regions, BLACKLIST, flank=200)  # 12_100 is within 200 bp of 12_000
    assert list(kept["start"]) == [12_300, 25_000]
    assert list(kept.index) == [3, 5]
    flanked = BLACKLIST.assign(start=BLACKLIST["start"] - 200, end=BLACKLIST["end"] + 200)
    assert not touches(kept, flanked).any()
    with pytest.raises(ValueError, match="flank"):
        drop_overlapping(regions, BLACKLIST, flank=-1)


# -- random windows ---------------------------------------------------------------------------


def test_random_windows_avoid_exclusions_and_edges():
    windows = RandomWindows(SIZES, width=500, exclude=BLACKLIST, chroms=["1", "chr2"], edge=1_000, flank=100)
    sample = windows.sample(20_000, np.random.default_rng(0))
    assert set(sample["chrom"]) == {"chr1", "chr2"}
    assert (sample["end"] - sample["start"] == 500).all()
    sizes = sample["chrom"].map(SIZES)
    assert (sample["start"] >= 1_000).all() and (sample["end"] <= sizes - 1_000).all()
    flanked = BLACKLIST.assign(start=BLACKLIST["start"] - 100, end=BLACKLIST["end"] + 100)
    assert not touches(sample, flanked).any()
    # the allowed space is exactly every start whose window is clear (brute force over all starts)
    every = pd.concat([frame([c] * (SIZES[c] - 2_500 + 1), np.arange(1_000, SIZES[c] - 1_500 + 1), 500)
                       for c in ("chr1", "chr2")])
    assert windows.positions == (~touches(every, flanked)).sum()


def test_random_windows_are_uniform_over_allowed_starts():
    windows = RandomWindows({"a": 3_000, "b": 1_000}, width=100)
    sample = windows.sample(39_000, 1)
    # allowed starts: 2_901 on a, 901 on b -> b gets 901 / 3_802 of the windows
    share = (sample["chrom"] == "b").mean()
    assert share == pytest.approx(901 / 3_802, abs=0.01)
    assert sample["start"].min() == 0 and sample.loc[sample["chrom"] == "b", "start"].max() == 900


def test_random_windows_deterministic_given_seed():
    windows = RandomWindows(SIZES, width=200, exclude=BLACKLIST)
    pd.testing.assert_frame_equal(windows.sample(100, 5), windows.sample(100, np.random.default_rng(5)))
    assert not windows.sample(100, 5).equals(windows.sample(100, 6))


def test_random_windows_impossible_requests():
    with pytest.raises(ValueError, match="no 500 bp window fits"):
        RandomWindows(SIZES, width=500, chroms=["chr3"], edge=2_300)
    with pytest.raises(ValueError, match="no 100 bp window fits"):
        RandomWindows({"chr2": 20_000}, width=100, exclude=BLACKLIST)
    with pytest.raises(KeyError, match="chr7"):
        RandomWindows(SIZES, width=100, chroms=["chr7"])
    with pytest.raises(ValueError, match="width"):
        RandomWindows(SIZES, width=0)


def test_random_windows_on_a_real_genome(shared_data):
    genome = Genome(SLICE_FASTA)
    windows = RandomWindows(genome.lengths, width=1_000, edge=1_000, exclude=frame(["22"], [100_000], 50_000))
    sample = windows.sample(300, 3)
    sequences, padded = genome.fetch_batch(sample["chrom"], sample["start"], 1_000)
    assert not padded.any()
    text = [bytes(row).decode() for row in sequences[:5]]
    expected = [(s.count("G") + s.count("C")) / sum(s.count(b) for b in "ACGT") for s in text]
    np.testing.assert_allclose(gc_content(sequences[:5]), expected)


# -- GC content and matching ------------------------------------------------------------------


def test_gc_content():
    sequences = np.frombuffer(b"GGCCNNAT" b"acgtACGT" b"NNNNNNNN", dtype=np.uint8).reshape(3, 8)
    gc = gc_content(sequences)
    np.testing.assert_allclose(gc[:2], [4 / 6, 0.5])
    assert np.isnan(gc[2])


def test_gc_matched_follows_the_target_histogram():
    rng = np.random.default_rng(11)
    candidates = rng.beta(2, 3, 20_000)          # negatives: AT-rich on average
    targets = rng.beta(5, 3, 2_000)              # positives: GC-rich
    chosen = gc_matched(candidates, targets, 2_000, rng=np.random.default_rng(0))
    assert len(chosen) == 2_000 and len(np.unique(chosen)) == 2_000
    matched = ks_2samp(candidates[chosen], targets).statistic
    random = ks_2samp(candidates[rng.choice(len(candidates), 2_000, replace=False)], targets).statistic
    assert matched < 0.05 < 0.3 < random
    # per bin, the counts are the targets' shares of n
    bins = lambda x: np.bincount(np.minimum((x * 10).astype(int), 9), minlength=10)  # noqa: E731
    assert np.abs(bins(candidates[chosen]) - bins(targets)).max() <= 1
    np.testing.assert_array_equal(chosen, gc_matched(candidates, targets, 2_000, rng=0))


def test_gc_matched_short_bins_and_nan(caplog):
    candidates = np.array([0.05, 0.15, 0.15, np.nan, 0.95])
    targets = np.array([0.95, 0.95, 0.15, 0.15])
    chosen = gc_matched(candidates, targets, 4, rng=0)
    assert list(chosen) == [1, 2, 4]  # only one candidate in the 0.9-1.0 bin; NaN never chosen
    assert "too few" in caplog.text
    with pytest.raises(ValueError, match="target GC"):
        gc_matched(candidates, np.array([np.nan]), 2)


# -- augmentation helpers ---------------------------------------------------------------------


def test_random_shifts_and_reverse_complement():
    shifts = random_shifts(10_000, 20, 0)
    assert shifts.min() == -20 and shifts.max() == 20
    per_row = random_shifts(6, np.array([0, 0, 1, 1, 3, 3]), 0)
    assert (np.abs(per_row) <= [0, 0, 1, 1, 3, 3]).all()
    flips = reverse_complement_mask(10_000, 0)
    assert flips.dtype == bool and 0.47 < flips.mean() < 0.53
    assert not reverse_complement_mask(10, 0, p=0).any()
    with pytest.raises(ValueError):
        random_shifts(3, -1, 0)


# -- FactorNet epochs -------------------------------------------------------------------------


@pytest.fixture
def epochs():
    negatives = RandomWindows(SIZES, width=200, exclude=BLACKLIST, chroms=["chr1", "chr2"], edge=200)
    positives = frame(["chr1"] * 40 + ["chr2"] * 10, np.arange(50) * 500 + 1_000, width=200)
    return BalancedEpochs(positives, negatives, ratio=2.0, shift=np.repeat([0, 30], 25), seed=420)


def test_epoch_has_all_positives_once_and_ratio_negatives(epochs):
    first = epochs.epoch(0)
    assert len(first) == len(epochs) == 150
    positives = first[first["label"] == 1].sort_values("row")
    assert list(positives["row"]) == list(range(50))
    offsets = positives["start"].to_numpy() - epochs.positives["start"].to_numpy()
    assert (offsets[:25] == 0).all() and (np.abs(offsets[25:]) <= 30).all() and offsets[25:].any()
    assert (positives["end"] - positives["start"] == 200).all()
    negatives = first[first["label"] == 0]
    assert len(negatives) == 100 and (negatives["row"] == -1).all()
    assert not touches(negatives, BLACKLIST).any()
    assert first["label"].iloc[:50].mean() < 1  # shuffled, not positives first


def test_epochs_deterministic_with_fresh_negatives_and_shifts(epochs):
    pd.testing.assert_frame_equal(epochs.epoch(3), epochs.epoch(3))
    twin = BalancedEpochs(epochs.positives, epochs.negatives, 2.0, np.repeat([0, 30], 25), seed=420)
    pd.testing.assert_frame_equal(twin.epoch(3), epochs.epoch(3))
    a, b = epochs.epoch(0), epochs.epoch(1)
    neg_a = set(map(tuple, a.loc[a["label"] == 0, ["chrom", "start"]].to_numpy()))
    neg_b = set(map(tuple, b.loc[b["label"] == 0, ["chrom", "start"]].to_numpy()))
    assert len(neg_a & neg_b) < 5
    shift_a = a[a["label"] == 1].sort_values("row")["start"].to_numpy()
    shift_b = b[b["label"] == 1].sort_values("row")["start"].to_numpy()
    assert (shift_a != shift_b).any()


def test_epochs_callable_shift_and_errors(epochs):
    constant = BalancedEpochs(epochs.positives, epochs.negatives, ratio=0.5,
                              shift=lambda rng, n: np.full(n, 7))
    epoch = constant.epoch(0)
    assert len(epoch) == 75
    pos = epoch[epoch["label"] == 1].sort_values("row")
    np.testing.assert_array_equal(pos["start"].to_numpy(), epochs.positives["start"].to_numpy() + 7)
    with pytest.raises(ValueError, match="200 bp wide"):
        BalancedEpochs(frame(["chr1"], [0], width=150), epochs.negatives)
    with pytest.raises(ValueError, match="shift has 3 values"):
        BalancedEpochs(epochs.positives, epochs.negatives, shift=np.array([1, 2, 3]))


# -- ChromDragoNN batches ---------------------------------------------------------------------


def test_class_ratio_batches_exact_ratio():
    labels = (np.random.default_rng(2).random(5_000) < 0.07).astype(int)
    batches = ClassRatioBatches(labels, batch_size=256, positives_per_batch=64, seed=1)
    served = list(batches)
    assert len(served) == len(batches) == int(np.ceil((labels == 0).sum() / 192))
    for batch in served:
        assert len(batch) == 256 and labels[batch].sum() == 64
    every = np.concatenate(served)
    negatives_seen = np.bincount(every[labels[every] == 0], minlength=len(labels))[labels == 0]
    assert negatives_seen.min() >= 1 and negatives_seen.max() <= 2
    positives_seen = np.bincount(every[labels[every] == 1], minlength=len(labels))[labels == 1]
    assert positives_seen.max() - positives_seen.min() <= 1  # upsampled evenly


def test_class_ratio_batches_epochs_reproducible():
    labels = np.r_[np.ones(30), np.zeros(70)]
    batches = ClassRatioBatches(labels, 10, 5, seed=3, batches=9)
    assert len(batches) == 9
    first = [b.copy() for b in batches]
    np.testing.assert_array_equal(np.stack(first), np.stack(list(batches)))
    batches.set_epoch(1)
    second = np.stack(list(batches))
    assert not np.array_equal(np.stack(first), second)
    again = ClassRatioBatches(labels, 10, 5, seed=3, batches=9)
    again.set_epoch(1)
    np.testing.assert_array_equal(second, np.stack(list(again)))


def test_class_ratio_batches_errors():
    with pytest.raises(ValueError, match="no positive"):
        ClassRatioBatches(np.zeros(10), 4, 1)
    with pytest.raises(ValueError, match="positives_per_batch"):
        ClassRatioBatches(np.r_[1, 0], 4, 5)
    with pytest.raises(ValueError, match="0/1"):
        ClassRatioBatches(np.array([0, 2]), 2, 1)
    only_positives = ClassRatioBatches(np.ones(10), 4, 4)
    assert len(only_positives) == 3 and all(len(b) == 4 for b in only_positives)


# -- DDP shards -------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [0, 1, 10, 11])
def test_shards_disjoint_and_covering(n):
    table = pd.DataFrame({"i": np.arange(n)})
    shards = [shard_for_rank(table, rank, 4) for rank in range(4)]
    seen = np.concatenate([s["i"].to_numpy() for s in shards])
    assert sorted(seen) == list(range(n))
    assert max(map(len, shards)) - min(map(len, shards)) <= 1
    arrays = [shard_for_rank(np.arange(n), rank, 4) for rank in range(4)]
    assert sorted(np.concatenate(arrays)) == list(range(n))
    even = [shard_for_rank(np.arange(n), rank, 4, even=True) for rank in range(4)]
    assert len({len(s) for s in even}) == 1
    assert set(np.concatenate(even)) == set(range(n))
    with pytest.raises(ValueError, match="rank"):
        shard_for_rank(table, 4, 4)
