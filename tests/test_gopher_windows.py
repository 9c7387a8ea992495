"""GOPHER's training windows (spec seed_002_gopher.md §1.6-1.7): coverage-threshold chunks and per-sample crops and flips."""
from __future__ import annotations

import numpy as np
import pyBigWig
import pytest

from epizoo.dataloaders.tracks import BigWigTracks
from epizoo.plugins.train.profile_windows import crop_and_flip, shift_offsets, threshold_chunks


def _bigwig(path, chrom_sizes, values):
    handle = pyBigWig.open(str(path), "w")
    handle.addHeader(list(chrom_sizes.items()))
    for chrom, array in values.items():
        handle.addEntries(chrom, 0, values=[float(v) for v in array], span=1, step=1)
    handle.close()
    return path


def test_chunks_are_kept_where_any_track_rises_above_the_threshold(tmp_path):
    sizes = {"chr1": 10_000, "chr2": 3_000}
    first, second = np.zeros(10_000), np.zeros(10_000)
    first[100] = 2.0   # chunk 0: exactly the threshold, not above it
    first[4000] = 2.5  # chunk 1
    second[7000] = 9.0  # chunk 2, in the other track
    tracks = BigWigTracks([_bigwig(tmp_path / "a.bw", sizes, {"chr1": first, "chr2": np.zeros(3000)}),
                           _bigwig(tmp_path / "b.bw", sizes, {"chr1": second, "chr2": np.zeros(3000)})])
    chunks = threshold_chunks(tracks, sizes)
    assert chunks[["chrom", "start", "end"]].values.tolist() == [["chr1", 3072, 6144], ["chr1", 6144, 9216]]
    assert chunks["max_coverage"].tolist() == [2.5, 9.0]
    assert len(threshold_chunks(tracks, sizes, threshold=1.5)) == 3  # chunk 0 now too; chr2 is shorter than a chunk


def test_crops_follow_each_samples_offset_and_flips_reverse_complement_with_the_coverage():
    rng = np.random.default_rng(0)
    seq = np.eye(4, dtype=np.float32)[rng.integers(0, 4, (3, 12))]
    cov = rng.random((3, 12, 2)).astype(np.float32)
    offsets, flips = np.array([0, 2, 4]), np.array([False, True, False])
    got_seq, got_cov = crop_and_flip(seq, cov, offsets, flips, length=8)
    np.testing.assert_array_equal(got_seq[0], seq[0, :8])
    np.testing.assert_array_equal(got_cov[2], cov[2, 4:12])
    bases = "ACGT"
    as_text = lambda x: "".join(bases[i] for i in x.argmax(axis=1))  # noqa: E731
    complement = str.maketrans("ACGT", "TGCA")
    assert as_text(got_seq[1]) == as_text(seq[1, 2:10]).translate(complement)[::-1]
    np.testing.assert_array_equal(got_cov[1], cov[1, 2:10][::-1])  # both tracks reversed, not swapped
    with pytest.raises(ValueError, match="leave the stored"):
        crop_and_flip(seq, cov, np.array([0, 0, 5]), flips, length=8)
    drawn = shift_offsets(1000, 1024, rng=1)
    assert drawn.min() >= 0 and drawn.max() <= 1024 and len(np.unique(drawn)) > 500
