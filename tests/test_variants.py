import gzip

import pysam
import pytest

from conftest import SLICE_FASTA, VARIANTS
from epizoo.dataloaders import variants as v
from epizoo.dataloaders.genome import Genome
from epizoo.dataloaders.variants import VcfVariants

HEADER = "##fileformat=VCFv4.2\n##contig=<ID=chr22,length=300000>\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"


@pytest.fixture(scope="module")
def genome():
    return Genome(SLICE_FASTA)


def base(genome, pos):
    return genome.sequence("chr22", pos - 1, pos)


def fuzz_records(genome):
    """(line, expected reason or None per ALT) for every awkward kind of record."""
    b = lambda p: base(genome, p)  # noqa: E731
    other = lambda p: "A" if b(p) != "A" else "C"  # noqa: E731
    return [
        (f"chr22\t100\tsnv\t{b(100)}\t{other(100)}", [None]),
        (f"chr22\t101\tmulti\t{b(101)}\t{other(101)},<DEL>,*,{b(101)}GT", [None, v.SYMBOLIC_ALT, v.SPANNING_DELETION, None]),
        (f"chr22\t102\tlower\t{b(102).lower()}\t{other(102).lower()}", [None]),
        ("chr22\t103\tiupac_ref\tR\tA", [v.NON_ACGT_REF]),
        (f"chr22\t104\tiupac_alt\t{b(104)}\tY", [v.NON_ACGT_ALT]),
        (f"chr22\t105\tn_alt\t{b(105)}\tN", [v.NON_ACGT_ALT]),
        (f"chr22\t106\tmissing_alt\t{b(106)}\t.", [v.MISSING_ALT]),
        ("chr22\t107\tmissing_ref\t.\tG", [v.MISSING_REF]),
        (f"chr22\t108\tbnd1\t{b(108)}\t{b(108)}]chr22:2000]", [v.BREAKEND_ALT]),
        (f"chr22\t109\tbnd2\t{b(109)}\t.{b(109)}", [v.BREAKEND_ALT]),
        (f"chr22\t110\tsym\t{b(110)}\t<INS:ME:ALU>", [v.SYMBOLIC_ALT]),
        (f"chr22\t1\tfirst\t{b(1)}\t{other(1)}", [None]),
        (f"chr22\t300000\tlast\t{b(300000)}\t{other(300000)}", [None]),
        ("chr22\t300001\tpast\tA\tC", [v.OUTSIDE_CONTIG]),
        (f"chr22\t299999\tdel_past\t{b(299999)}{b(300000)}A\t{b(299999)}", [v.OUTSIDE_CONTIG]),
        ("chr22\t0\tzero\tA\tC", [v.OUTSIDE_CONTIG]),
        ("chr7\t100\tother_contig\tA\tC", [v.CONTIG_NOT_IN_FASTA]),
        (f"22\t111\tensembl_name\t{b(111)}\t{other(111)}", [None]),
        (f"chr22\t100\tsnv\t{b(100)}\t{other(100)}", [None]),  # duplicated record
        (f"chr22\t112\tmismatch\t{other(112)}\t{b(112)}", [v.REF_MISMATCH]),
        (f"chr22\t113\tref_eq_alt\t{b(113)}\t{b(113)}", [None]),
        (f"chr22\t114\tdeletion\t{genome.sequence('chr22', 113, 117)}\t{b(114)}", [None]),
        ("chr22\tnot_a_number\tbad_pos\tA\tC", [v.UNPARSEABLE]),
        ("chr22\t115\ttoo_few", [v.UNPARSEABLE]),
        (f"chr22\t116\tseven_columns\t{b(116)}\t{other(116)}\t50\tPASS", [None]),
    ]


def write_vcf(path, lines, compress=False, index=False):
    """Write a VCF; ``compress`` bgzips it, ``index`` also builds its tabix index."""
    text = HEADER + "\n".join(lines) + "\n"
    if not compress:
        path.write_text(text)
        return path
    plain = path.with_suffix("")
    plain.write_text(text)
    pysam.tabix_compress(str(plain), str(path), force=True)
    if index:
        pysam.tabix_index(str(path), preset="vcf", force=True)
    return path


@pytest.mark.parametrize("compress", [False, True])
def test_every_awkward_record_is_scored_or_rejected_with_its_reason(tmp_path, genome, compress):
    records = fuzz_records(genome)
    path = write_vcf(tmp_path / ("fuzz.vcf.gz" if compress else "fuzz.vcf"), [r for r, _ in records], compress)
    reader = VcfVariants(path, genome)
    scored = list(reader)
    outcome = {}
    for variant in scored:
        outcome.setdefault((variant.id, variant.line), []).append((variant.allele, None))
    for rejected in reader.rejected:
        outcome.setdefault((rejected.id, rejected.line), []).append((rejected.alt, rejected.reason))
    for line_number, (record, expected) in enumerate(records, start=4):
        record_id = record.split("\t")[2]
        got = outcome[(record_id, line_number)]
        assert sorted(r is None for _, r in got) == sorted(e is None for e in expected), record
        assert sorted(r for _, r in got if r) == sorted(e for e in expected if e), record
    assert reader.counts["records"] == len(records)
    assert reader.counts["alleles"] == sum(len(e) for _, e in records)
    assert reader.reconciles()


def test_scored_alleles_are_upper_case_and_split(tmp_path, genome):
    records = fuzz_records(genome)
    reader = VcfVariants(write_vcf(tmp_path / "f.vcf", [r for r, _ in records]), genome)
    by_id = {}
    for variant in reader:
        by_id.setdefault(variant.id, []).append(variant)
    assert by_id["lower"][0].ref == base(genome, 102)
    assert [x.allele for x in by_id["multi"]] == [1, 4]
    assert by_id["ensembl_name"][0].chrom == "22"


def test_ref_mismatch_can_be_let_through_flagged(tmp_path, genome):
    line = f"chr22\t112\tmismatch\t{'A' if base(genome, 112) != 'A' else 'C'}\t{base(genome, 112)}"
    reader = VcfVariants(write_vcf(tmp_path / "m.vcf", [line]), genome, allow_ref_mismatch=True)
    (variant,) = list(reader)
    assert variant.ref_match is False and not reader.rejected


def test_reject_rows_carry_reason_and_line(tmp_path, genome):
    reader = VcfVariants(write_vcf(tmp_path / "r.vcf", ["chr7\t5\tx\tA\tC"]), genome)
    list(reader)
    row = reader.rejected[0].row()
    assert row[:5] == ["chr7", "5", "x", "A", "C"]
    assert v.CONTIG_NOT_IN_FASTA in row[5] and "[line 4]" in row[5]


def test_region_query_needs_an_index_and_reads_only_the_region(tmp_path, genome):
    records = [f"chr22\t{p}\tr{p}\t{base(genome, p)}\tA" for p in (1000, 2000, 3000)]
    indexed = write_vcf(tmp_path / "reg.vcf.gz", records, compress=True, index=True)
    reader = VcfVariants(indexed, genome, region="chr22:1500-2500")
    assert [x.pos for x in reader] == [2000]
    assert reader.header[-1].startswith("#CHROM")
    with pytest.raises(ValueError, match="tabix"):
        list(VcfVariants(write_vcf(tmp_path / "plain.vcf", records), genome, region="chr22:1-10"))


@pytest.mark.parametrize(
    "name", ["edge_cases.vcf", "kipoiseq_test.vcf.gz", "kipoiseq_test_with_multiple_variants.vcf.gz",
             "kipoiseq_chr22_ENST00000319363.vcf.gz", "dbsnp_chr22_29108009.vcf", "clinvar_donor_acceptor_chr22.vcf"],
)
def test_real_vcfs_are_fully_accounted_for(shared_data, genome, name):
    path = VARIANTS / name
    opener = gzip.open if name.endswith(".gz") else open
    with opener(path, "rt") as handle:
        n_records = sum(1 for line in handle if line.strip() and not line.startswith("#"))
    reader = VcfVariants(path, genome)
    n_scored = sum(1 for _ in reader)
    assert reader.counts["records"] == n_records
    assert reader.reconciles()
    assert n_scored + len(reader.rejected) == reader.counts["alleles"] >= n_records


def test_seven_column_gnomad_records_parse_without_a_genome(shared_data):
    reader = VcfVariants(VARIANTS / "kipoiseq_chr22_ENST00000319363.vcf.gz")
    variants = list(reader)
    assert len(variants) == 9212 and not reader.rejected
    assert variants[0].id == "rs758850786" and variants[0].pos == 17565851


def test_edge_cases_vcf_reasons_without_a_genome(shared_data):
    reader = VcfVariants(VARIANTS / "edge_cases.vcf")
    scored = list(reader)
    reasons = sorted(r.reason for r in reader.rejected)
    assert reasons == sorted([v.MISSING_REF, v.MISSING_ALT])
    assert len(scored) == 7


def test_byte_order_mark_crlf_and_latin1_bytes_do_not_break_reading(tmp_path, genome):
    ref = base(genome, 100)
    header = ("\ufeff" + HEADER).replace("\n", "\r\n").encode("utf-8")
    record = f"chr22\t100\tx\t{ref}\tA\t.\t.\tNOTE=caf".encode() + b"\xe9\r\n"  # a latin-1 byte
    path = tmp_path / "odd.vcf"
    path.write_bytes(header + record)
    reader = VcfVariants(path, genome)
    variants = list(reader)
    assert [v.id for v in variants] == ["x"] and reader.counts["records"] == 1 and reader.reconciles()
