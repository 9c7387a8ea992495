import numpy as np
import pyBigWig
import pytest

from epizoo.dataloaders.genome import Genome
from epizoo.dataloaders.tracks import BigWigTracks, MissingTrackWarning, TrackMismatchError


@pytest.fixture
def bigwigs(tmp_path):
    """Two bigWigs on chr1 (length 100): one with a gap and NaN, one constant; chr2 only in the first."""
    first, second = tmp_path / "dnase.bw", tmp_path / "map.bw"
    with pyBigWig.open(str(first), "w") as bw:
        bw.addHeader([("chr1", 100), ("chr2", 50)])
        bw.addEntries(["chr1", "chr1"], [0, 20], ends=[10, 30], values=[1.5, float("nan")])
        bw.addEntries("chr1", 40, values=[2.0, 3.0, 4.0], span=1, step=1)
        bw.addEntries(["chr2"], [0], ends=[50], values=[9.0])
    with pyBigWig.open(str(second), "w") as bw:
        bw.addHeader([("chr1", 100)])
        bw.addEntries(["chr1"], [0], ends=[100], values=[0.5])
    return first, second


def test_values_per_base_with_gaps_and_nan_as_zero(bigwigs):
    tracks = BigWigTracks(bigwigs)
    values = tracks.values("chr1", 5, 45)
    assert values.shape == (40, 2) and values.dtype == np.float32
    np.testing.assert_array_equal(values[:5, 0], 1.5)       # 5..10 covered
    np.testing.assert_array_equal(values[5:35, 0], 0.0)     # gap and NaN -> 0
    np.testing.assert_array_equal(values[35:38, 0], [2.0, 3.0, 4.0])
    np.testing.assert_array_equal(values[:, 1], 0.5)


def test_past_the_end_reads_zero_and_names_are_reconciled(bigwigs):
    tracks = BigWigTracks(bigwigs)
    values = tracks.values_batch(["1", "chr1"], [-2, 98], 4)
    np.testing.assert_array_equal(values[0, :, 0], [0, 0, 1.5, 1.5])
    np.testing.assert_array_equal(values[1, :, 1], [0.5, 0.5, 0, 0])


def test_a_missing_chromosome_is_an_error_naming_the_file(bigwigs):
    tracks = BigWigTracks(bigwigs)
    np.testing.assert_array_equal(tracks.values("chr1", 0, 1)[:, 1], 0.5)
    with pytest.raises(TrackMismatchError, match=r"bigWig .*map.bw has no chromosome 'chr2'.*allow_missing_tracks"):
        tracks.values("chr2", 0, 10)


def test_allowed_missing_signal_reads_zeros_with_one_warning_per_file_and_chromosome(bigwigs):
    tracks = BigWigTracks(bigwigs, allow_missing=True)
    with pytest.warns(MissingTrackWarning) as caught:
        first = tracks.values("chr2", 0, 10)
        tracks.values("chr2", 10, 20)
    np.testing.assert_array_equal(first[:, 0], 9.0)
    np.testing.assert_array_equal(first[:, 1], 0.0)
    assert len(caught) == 1 and "map.bw" in str(caught[0].message)


def test_a_chromosome_shorter_than_the_genome_is_an_error_with_both_lengths(bigwigs, tmp_path):
    fasta = tmp_path / "genome.fa"
    fasta.write_text(">chr1\n" + "ACGT" * 25 + "\n>chr2\n" + "A" * 80 + "\n")  # chr2: 80 bp, the bigWig's 50
    tracks = BigWigTracks(bigwigs[:1], genome=Genome(fasta))
    tracks.values("chr1", 0, 10)  # 100 bp in both
    with pytest.raises(TrackMismatchError, match=r"dnase.bw's chromosome 'chr2' is 50 bp, shorter than the FASTA's 80 bp"):
        tracks.values("chr2", 0, 10)


def test_bad_paths_are_clear_errors(tmp_path, bigwigs):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        BigWigTracks([tmp_path / "absent.bw"])
    (tmp_path / "text.bw").write_text("not a bigwig")
    with pytest.raises(ValueError, match="not a readable bigWig"):
        BigWigTracks([tmp_path / "text.bw"])
    with pytest.raises(ValueError, match="2 track names"):
        BigWigTracks([bigwigs[0]], names=["a", "b"])


@pytest.mark.filterwarnings("ignore::epizoo.dataloaders.tracks.MissingTrackWarning")
def test_span_reads_of_dense_windows_equal_per_window_reads(bigwigs):
    tracks = BigWigTracks(bigwigs, allow_missing=True)  # map.bw has no chr2
    starts = np.array([0, 3, 7, 30, 41, 90])  # dense: read as one span
    batch = tracks.values_batch(["chr1"] * 6, starts, 12)
    for row, start in enumerate(starts):
        np.testing.assert_array_equal(batch[row], tracks.values("chr1", int(start), int(start) + 12))
    sparse = tracks.values_batch(["chr1", "chr2"], [0, 40], 3)  # one window per chromosome
    np.testing.assert_array_equal(sparse[1, :, 0], 9.0)
