import logging
import os

import numpy as np
import pysam
import pytest

from conftest import SLICE_FASTA
from epizoo.cache import cache_dir
from epizoo.dataloaders.contigs import MissingContigError, aliases
from epizoo.dataloaders.genome import Genome
from epizoo.dataloaders.onehot import one_hot_encode


@pytest.fixture(scope="module")
def slice_text():
    lines = SLICE_FASTA.read_text().splitlines()
    return "".join(lines[1:]).upper()


@pytest.fixture
def genome(shared_data):
    return Genome(SLICE_FASTA)


def write_fasta(path, records, width=60):
    with open(path, "w") as handle:
        for name, sequence in records.items():
            handle.write(f">{name} some description\n")
            for i in range(0, len(sequence), width):
                handle.write(sequence[i : i + width] + "\n")
    return path


def test_windows_match_the_fasta_text(genome, slice_text):
    rng = np.random.default_rng(1)
    starts = rng.integers(0, len(slice_text) - 1000, 50)
    windows, padded = genome.fetch_batch("chr22", starts, 1000)
    assert not padded.any()
    for row, start in enumerate(starts):
        assert windows[row].tobytes().decode() == slice_text[start : start + 1000]


def test_one_hot_batch_equals_kipoiseq(genome):
    """Same windows as kipoiseq's FastaStringExtractor + one_hot_dna (N -> 0 here, 0.25 there)."""
    from kipoiseq import Interval
    from kipoiseq.extractors import FastaStringExtractor
    from kipoiseq.transforms.functional import one_hot_dna

    extractor = FastaStringExtractor(str(SLICE_FASTA))
    starts = np.random.default_rng(2).integers(0, 299_000, 20)
    x, _ = genome.one_hot_batch(["chr22"] * 20, starts, 1000, n_value=0.25)
    for row, start in enumerate(starts):
        expected = one_hot_dna(extractor.extract(Interval("chr22", int(start), int(start) + 1000)))
        np.testing.assert_array_equal(x[row], expected)


def test_windows_past_either_end_are_padded_with_n_and_flagged(genome, slice_text):
    windows, padded = genome.fetch_batch("chr22", [-3, 10, 299_998], 5)
    assert padded.tolist() == [True, False, True]
    assert windows[0].tobytes().decode() == "NNN" + slice_text[:2]
    assert windows[2].tobytes().decode() == slice_text[-2:] + "NNN"
    x, _ = genome.one_hot_batch("chr22", [-3], 5)
    assert x[0, :3].sum() == 0 and x[0, 3:].sum() == 2


def test_window_wider_than_the_chromosome(tmp_path):
    genome = Genome(write_fasta(tmp_path / "tiny.fa", {"chrT": "ACGT"}))
    window, padded = genome.fetch_batch(["chrT"], [-2], 8)
    assert window[0].tobytes() == b"NNACGTNN" and padded[0]


def test_chromosome_aliases_are_reconciled_and_logged_once(genome, caplog, slice_text):
    with caplog.at_level(logging.INFO):
        a = genome.sequence("22", 100, 110)
        b = genome.sequence("22", 200, 210)
    assert a == slice_text[100:110] and b == slice_text[200:210]
    assert sum("is named 'chr22'" in r.message for r in caplog.records) == 1
    assert aliases("chrM")[:2] == ["chrM", "M"] and "MT" in aliases("chrM")


def test_missing_chromosome_names_it_and_the_fasta(genome):
    with pytest.raises(MissingContigError) as error:
        genome.fetch_batch(["chr5"], [0], 10)
    message = str(error.value)
    assert "'chr5'" in message and SLICE_FASTA.name in message and "chr22" in message


def test_batches_across_chromosomes_keep_row_order(tmp_path):
    rng = np.random.default_rng(3)
    records = {name: "".join(rng.choice(list("ACGTacgtN"), 5000)) for name in ["chr1", "chr2", "chrX"]}
    genome = Genome(write_fasta(tmp_path / "multi.fa", records))
    chroms = ["chrX", "chr1", "chrX", "chr2", "chr1"]
    starts = [10, 4990, 300, 0, 77]
    windows, padded = genome.fetch_batch(chroms, starts, 20)
    for row, (chrom, start) in enumerate(zip(chroms, starts)):
        expected = (records[chrom][start : start + 20].upper() + "N" * 20)[:20]
        assert windows[row].tobytes().decode() == expected
    assert padded.tolist() == [False, True, False, False, False]


def test_bgzip_fasta_reads_like_the_plain_one(tmp_path, genome):
    plain = write_fasta(tmp_path / "g.fa", {"chr22": genome.sequence("chr22", 0, 50_000)})
    pysam.tabix_compress(str(plain), str(tmp_path / "g.fa.gz"))
    compressed = Genome(tmp_path / "g.fa.gz")
    starts = [0, 12_345, 49_000]
    np.testing.assert_array_equal(
        compressed.fetch_batch("chr22", starts, 1000)[0], Genome(plain).fetch_batch("chr22", starts, 1000)[0]
    )


def test_plain_gzip_fasta_is_a_clear_error(tmp_path):
    import gzip

    with gzip.open(tmp_path / "g.fa.gz", "wt") as handle:
        handle.write(">chr1\nACGT\n")
    with pytest.raises(ValueError, match="bgzip"):
        Genome(tmp_path / "g.fa.gz")


def test_index_of_a_read_only_fasta_goes_to_the_cache(shared_data):
    before = sorted(os.listdir(SLICE_FASTA.parent))
    Genome(SLICE_FASTA)
    assert sorted(os.listdir(SLICE_FASTA.parent)) == before
    assert list((cache_dir() / "fasta-index").glob("*.fai"))


def test_missing_fasta_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        Genome(tmp_path / "absent.fa")


def test_cache_stays_within_budget(tmp_path):
    records = {f"chr{i}": "ACGT" * 250 for i in range(1, 6)}
    genome = Genome(write_fasta(tmp_path / "five.fa", records), cache_bases=2500)
    for name in records:
        genome.chromosome(name)
    assert sum(len(s) for s in genome._cache.values()) <= 2500
    assert list(genome._cache) == ["chr4", "chr5"]


def test_genome_pickles_without_its_handle(genome):
    import pickle

    genome.chromosome("chr22")
    clone = pickle.loads(pickle.dumps(genome))
    assert clone.sequence("chr22", 5, 15) == genome.sequence("chr22", 5, 15)


def test_one_hot_of_a_window_matches_one_hot_encode(genome):
    x, _ = genome.one_hot_batch("chr22", [1000], 50, channels_first=True)
    np.testing.assert_array_equal(x[0], one_hot_encode(genome.sequence("chr22", 1000, 1050), channels_first=True))
