import numpy as np
import pytest

from conftest import SLICE_FASTA
from epizoo.dataloaders.genome import Genome
from epizoo.dataloaders.variant_windows import alt_window, variant_offset, variant_windows
from epizoo.dataloaders.variants import Variant


@pytest.fixture(scope="module")
def genome():
    return Genome(SLICE_FASTA)


def kipoiseq_windows(variant, width):
    """kipoi-veff2's variant-centred ref/alt sequences, computed by kipoiseq itself."""
    from kipoiseq import Interval, Variant as KVariant
    from kipoiseq.extractors import VariantSeqExtractor

    extractor = VariantSeqExtractor(str(SLICE_FASTA))
    interval = Interval(variant.chrom, variant.pos - 1, variant.pos).resize(width)
    kv = KVariant(variant.chrom, variant.pos, variant.ref, variant.alt)
    ref = extractor.extract(interval, variants=[], anchor=width)
    alt = extractor.extract(interval, variants=[kv], anchor=interval.center())
    return ref, alt


def random_variants(genome, n, seed):
    rng = np.random.default_rng(seed)
    variants = []
    for i in range(n):
        pos = int(rng.integers(2000, 298_000))
        ref_len = int(rng.choice([1, 1, 2, 3, 6]))
        ref = genome.sequence("chr22", pos - 1, pos - 1 + ref_len)
        kind = rng.choice(["snv", "ins", "del", "mnv"])
        if kind == "snv" or ref_len == 1 and kind == "del":
            alt = "ACGT"[(("ACGT".index(ref[0]) + 1) % 4)] + ref[1:] if ref[0] in "ACGT" else "A"
        elif kind == "ins":
            alt = ref + "".join(rng.choice(list("ACGT"), int(rng.integers(1, 8))))
        elif kind == "del":
            alt = ref[0]
        else:
            alt = "".join(rng.choice(list("ACGT"), int(rng.integers(1, 5))))
        variants.append(Variant("chr22", pos, f"v{i}", ref, alt))
    return variants


@pytest.mark.parametrize("width", [1000, 1001, 1002, 7])
def test_windows_equal_kipoiseq_variant_seq_extractor(genome, width):
    variants = random_variants(genome, 60, seed=width)
    ref_bytes, alt_bytes, padded = variant_windows(genome, variants, width)
    assert not padded.any()
    for row, variant in enumerate(variants):
        expected_ref, expected_alt = kipoiseq_windows(variant, width)
        assert ref_bytes[row].tobytes().decode() == expected_ref.upper(), variant
        assert alt_bytes[row].tobytes().decode() == expected_alt.upper(), variant


def test_snv_changes_exactly_the_centre_base(genome):
    variant = Variant("chr22", 5000, "x", genome.sequence("chr22", 4999, 5000), "A")
    ref, alt, _ = variant_windows(genome, [variant], 1002)
    differs = np.flatnonzero(ref[0] != alt[0])
    assert differs.tolist() in ([], [variant_offset(1002)])
    assert alt[0, 500] == ord("A")


def test_alt_equal_to_ref_gives_identical_windows(genome):
    ref_base = genome.sequence("chr22", 6999, 7000)
    ref, alt, _ = variant_windows(genome, [Variant("chr22", 7000, "x", ref_base, ref_base)], 101)
    np.testing.assert_array_equal(ref, alt)


def test_indels_shift_the_flanks_as_kipoiseq_does(genome):
    pos = 10_000
    ref_base = genome.sequence("chr22", pos - 1, pos)
    insertion = alt_window(genome, Variant("chr22", pos, "i", ref_base, ref_base + "GG"), 11)[0].tobytes().decode()
    # an insertion after a 1-base REF drops the leftmost bases: the window ends where the reference does
    assert insertion[-5:] == genome.sequence("chr22", pos, pos + 5)
    assert insertion[3:6] == ref_base + "GG"
    deleted = genome.sequence("chr22", pos - 1, pos + 2)
    deletion = alt_window(genome, Variant("chr22", pos, "d", deleted, deleted[0]), 11)[0].tobytes().decode()
    # a deletion pulls bases in from the right
    assert deletion[:6] == genome.sequence("chr22", pos - 6, pos)
    assert deletion[6:] == genome.sequence("chr22", pos + 2, pos + 7)


def test_windows_at_chromosome_ends_are_padded(genome):
    first = Variant("chr22", 1, "a", genome.sequence("chr22", 0, 1), "T")
    last = Variant("chr22", 300_000, "b", genome.sequence("chr22", 299_999, 300_000), "T")
    ref, alt, padded = variant_windows(genome, [first, last], 1002)
    assert padded.tolist() == [True, True]
    assert ref[0, :500].tobytes() == b"N" * 500 and alt[0, 500] == ord("T")
    assert ref[1, 501:].tobytes() == b"N" * 501
