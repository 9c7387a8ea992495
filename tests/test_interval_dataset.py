import numpy as np
import pyBigWig
import pytest

from conftest import DATA, SLICE_FASTA
from epizoo.dataloaders.interval_dataset import IntervalDataset, read_feature_vector

INTERVALS = DATA / "genome" / "intervals_51bp.tsv"


@pytest.fixture
def dnase(tmp_path):
    path = tmp_path / "dnase.bw"
    with pyBigWig.open(str(path), "w") as bw:
        bw.addHeader([("chr22", 300_000)])
        bw.addEntries(["chr22"] * 3, [0, 136_000, 136_100], ends=[136_000, 136_100, 300_000],
                      values=[1.0, 5.0, 1.0])
    return path


def collect(dataset, batch_size):
    batches = list(dataset.batch_iter(batch_size=batch_size))
    return {k: np.concatenate([b["inputs"][k] for b in batches]) for k in batches[0]["inputs"]}, batches


def test_batches_equal_per_sample_items(shared_data, dnase):
    dataset = IntervalDataset(INTERVALS, SLICE_FASTA, 200, bigwig_files=[dnase])
    inputs, _ = collect(dataset, batch_size=3)
    assert inputs["seq"].shape == (10, 200, 5)
    for i in range(len(dataset)):
        np.testing.assert_array_equal(dataset[i]["inputs"]["seq"], inputs["seq"][i])


def test_kipois_own_torch_batching_gives_the_same_arrays(shared_data):
    dataset = IntervalDataset(INTERVALS, SLICE_FASTA, 100)
    fast, _ = collect(dataset, batch_size=4)
    slow = list(dataset.batch_iter(batch_size=4, num_workers=1))
    np.testing.assert_array_equal(np.concatenate([b["inputs"]["seq"] for b in slow]), fast["seq"])


def test_windows_are_recentred_and_tracks_appended_after_the_bases(shared_data, dnase):
    dataset = IntervalDataset(INTERVALS, SLICE_FASTA, 200, bigwig_files=[dnase])
    batch = next(dataset.batch_iter(batch_size=10))
    ranges = batch["metadata"]["ranges"]
    assert (ranges["end"] - ranges["start"] == 200).all()
    assert ranges["start"][0] == 136018 + 26 - 100  # kipoiseq centre of [136018, 136069) is 136044
    seq = batch["inputs"]["seq"]
    np.testing.assert_array_equal(seq[:, :, :4].sum(-1), 1)
    window = slice(136_000 - ranges["start"][0], 136_100 - ranges["start"][0])
    assert (seq[0, window, 4] == 5.0).all() and seq[0, 0, 4] == 1.0


def test_separate_track_input_and_channels_first(shared_data, dnase):
    dataset = IntervalDataset(INTERVALS, SLICE_FASTA, 50, bigwig_files=[dnase], tracks_input="dnase",
                              channels_first=True)
    batch = next(dataset.batch_iter(batch_size=2))
    assert batch["inputs"]["seq"].shape == (2, 4, 50)
    assert batch["inputs"]["dnase"].shape == (2, 1, 50)


def test_cell_then_region_features(shared_data, tmp_path):
    meta = tmp_path / "meta.txt"
    meta.write_text("0.5\tGEPC1\n-1.25\tGEPC2\n")
    flags = np.arange(20, dtype=np.float32).reshape(10, 2)
    dataset = IntervalDataset(INTERVALS, SLICE_FASTA, 10, cell_features=read_feature_vector(meta),
                              region_features=flags, feature_input="meta_features")
    features = collect(dataset, 4)[0]["meta_features"]
    np.testing.assert_array_equal(features[:, :2], [[0.5, -1.25]] * 10)
    np.testing.assert_array_equal(features[:, 2:], flags)


def test_bad_feature_file_names_the_line(tmp_path):
    meta = tmp_path / "meta.txt"
    meta.write_text("0.5\tGEPC1\nabc\tGEPC2\n")
    with pytest.raises(ValueError, match="line 2"):
        read_feature_vector(meta)
