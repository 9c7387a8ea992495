import gzip

import numpy as np
import pandas as pd
import pytest

from epizoo.dataloaders.intervals import BedFormatError, overlaps, read_bed, resize


def test_read_bed_skips_headers_and_keeps_extra_columns(tmp_path):
    path = tmp_path / "r.bed.gz"
    with gzip.open(path, "wt") as handle:
        handle.write("track name=x\n# comment\nchr1\t10\t20\tpeak1\t5\t+\textra\n\nchr2\t0\t5\tpeak2\t0\t-\tmore\n")
    bed = read_bed(path)
    assert list(bed.columns[:7]) == ["chrom", "start", "end", "name", "score", "strand", "col6"]
    assert bed["start"].tolist() == [10, 0] and bed["line"].tolist() == [3, 5]


@pytest.mark.parametrize(
    "line, message",
    [("chr1\t10\n", "at least 3"), ("chr1\tx\t20\n", "start 'x' is not an integer"),
     ("chr1\t20\t10\n", "empty or starts before 0"), ("chr1\t-5\t10\n", "empty or starts before 0")],
)
def test_bad_bed_lines_name_the_file_and_line(tmp_path, line, message):
    path = tmp_path / "bad.bed"
    path.write_text("chr1\t0\t5\n" + line)
    with pytest.raises(BedFormatError, match=message) as error:
        read_bed(path)
    assert "bad.bed, line 2" in str(error.value)


@pytest.mark.parametrize("width", [1, 2, 51, 1000, 1002])
def test_resize_matches_kipoiseq(width):
    from kipoiseq import Interval

    rng = np.random.default_rng(width)
    starts = rng.integers(1000, 5000, 40)
    ends = starts + rng.integers(1, 300, 40)
    new_starts, new_ends = resize(starts, ends, width)
    for s, e, ns, ne in zip(starts, ends, new_starts, new_ends):
        expected = Interval("chr1", int(s), int(e)).resize(width)
        assert (ns, ne) == (expected.start, expected.end)


def test_floor_centring_is_kipois_factornet_rule():
    starts, ends = resize(np.array([0, 1]), np.array([200, 202]), 1002, centring="floor")
    np.testing.assert_array_equal(starts, [100 - 501, 101 - 501])
    np.testing.assert_array_equal(ends - starts, [1002, 1002])


def test_overlaps_agree_with_brute_force():
    rng = np.random.default_rng(0)
    annotation = pd.DataFrame({
        "chrom": rng.choice(["chr1", "chr2"], 200),
        "start": (s := rng.integers(0, 100_000, 200)),
        "end": s + rng.integers(1, 3000, 200),
    })
    chroms = rng.choice(["chr1", "chr2", "chr3"], 500)
    starts = rng.integers(0, 100_000, 500)
    ends = starts + 200
    expected = [
        bool(((annotation.chrom == c) & (annotation.start < e) & (annotation.end > s)).any())
        for c, s, e in zip(chroms, starts, ends)
    ]
    assert overlaps(chroms, starts, ends, annotation).tolist() == expected


def test_covered_bases_count_the_union_of_the_annotation():
    from epizoo.dataloaders.intervals import OverlapIndex

    annotation = pd.DataFrame({"chrom": ["chr1"] * 4, "start": [10, 15, 40, 100], "end": [20, 30, 50, 101]})
    index = OverlapIndex(annotation)
    got = index.covered(np.array(["chr1", "1", "chr1", "chr2", "chr1"]), np.array([0, 12, 25, 0, 30]),
                        np.array([200, 45, 41, 100, 40]))
    assert got.tolist() == [20 + 10 + 1, 18 + 5, 5 + 1, 0, 0]
    rng = np.random.default_rng(1)
    a_starts = rng.integers(0, 1000, 50)
    annotation = pd.DataFrame({"chrom": "c", "start": a_starts, "end": a_starts + rng.integers(1, 80, 50)})
    mask = np.zeros(1200, bool)
    for s, e in zip(annotation.start, annotation.end):
        mask[s:e] = True
    starts = rng.integers(0, 1000, 200)
    ends = starts + rng.integers(1, 200, 200)
    expected = [mask[s:e].sum() for s, e in zip(starts, ends)]
    assert OverlapIndex(annotation).covered(np.array(["c"] * 200), starts, ends).tolist() == expected
