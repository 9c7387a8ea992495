"""Streaming VCF reading that accounts for every record.

`VcfVariants` streams a VCF (plain, gzip or bgzip; a region of a tabix-indexed one) and yields one
`Variant` per ALT allele that can be scored; every allele it cannot score is passed to a reject
callback as a `RejectedAllele` with its reason. Each data line of the file therefore ends up as at
least one row in one of the two streams, and `VcfVariants.counts` reconciles them.

Why not cyvcf2 or pysam.VariantFile for the parsing itself: both go through htslib's VCF parser,
which refuses records with fewer than 8 columns (the real gnomAD-style chr22 VCF in
``shared/data/variants`` has 7 and htslib rejects all 9,212 of its records) and, on a malformed
line, raises without saying which line it was. Variant effects need only the first five columns,
so they are split here, line by line, with the file's line number kept for error messages;
compressed input and tabix region queries still go through pysam. `benchmarks/bench_vcf.py`
compares the speed with cyvcf2.
"""
from __future__ import annotations

import gzip
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pysam

from .files import is_bcf, is_gzip
from .genome import Genome

# Reasons an allele is not scored (the `reason` column of a rejects file).
UNPARSEABLE = "unparseable VCF line"
MISSING_REF = "missing REF allele"
MISSING_ALT = "missing ALT allele ('.')"
SPANNING_DELETION = "spanning deletion ALT ('*') has no sequence of its own"
SYMBOLIC_ALT = "symbolic ALT allele (<...>) has no explicit sequence"
BREAKEND_ALT = "breakend ALT allele has no explicit sequence"
NON_ACGT_REF = "REF has a base other than A, C, G, T"
NON_ACGT_ALT = "ALT has a base other than A, C, G, T"
CONTIG_NOT_IN_FASTA = "chromosome not in the FASTA"
OUTSIDE_CONTIG = "position outside the chromosome"
REF_MISMATCH = "REF does not match the genome"

_ACGT = re.compile(r"^[ACGT]+$")
_BREAKEND = re.compile(r"[\[\]]|^\.[ACGTN]+$|^[ACGTN]+\.$")


@dataclass(frozen=True, slots=True)
class Variant:
    """One ALT allele of a VCF record, ready to score.

    ``pos`` is 1-based as in the VCF; ``start``/``end`` give the REF span 0-based, half-open.
    ``chrom`` is spelt as in the VCF (the genome resolves ``chr`` aliases). ``ref``/``alt`` are
    upper case. ``line`` is the record's line in the file (0 in region mode), ``allele`` the
    1-based index of this ALT in the record. ``ref_match`` is False only when a REF mismatch was
    let through on purpose. ``qual_filter_info`` keeps the record's QUAL, FILTER and INFO
    columns (tab-separated) for annotated VCF output.
    """

    chrom: str
    pos: int
    id: str
    ref: str
    alt: str
    line: int = 0
    allele: int = 1
    ref_match: bool = True
    qual_filter_info: str = ".\t.\t."

    @property
    def start(self) -> int:
        return self.pos - 1

    @property
    def end(self) -> int:
        return self.pos - 1 + len(self.ref)

    @property
    def is_snv(self) -> bool:
        return len(self.ref) == 1 and len(self.alt) == 1


@dataclass(frozen=True, slots=True)
class RejectedAllele:
    """One ALT allele (or a whole unreadable line) that is not scored, and why."""

    chrom: str
    pos: str
    id: str
    ref: str
    alt: str
    reason: str
    line: int = 0
    detail: str = ""

    def row(self) -> list[str]:
        """The row of a rejects file: ``#CHROM POS ID REF ALT reason``."""
        reason = f"{self.reason} ({self.detail})" if self.detail else self.reason
        if self.line:
            reason += f" [line {self.line}]"
        return [self.chrom, self.pos, self.id, self.ref, self.alt, reason]


REJECT_COLUMNS = ["#CHROM", "POS", "ID", "REF", "ALT", "reason"]


class VcfVariants:
    """Iterate over the scoreable alleles of a VCF; hand every other allele to ``on_reject``.

    Parameters
    ----------
    vcf
        VCF file: plain, gzip or bgzip; or BCF (read through pysam, each record as its VCF line;
        record numbers then count as the lines they would have in the VCF).
    genome
        Reference genome. When given, alleles on chromosomes it lacks, outside a chromosome, or
        whose REF differs from it are rejected (``chr1``/``1`` naming is reconciled).
    allow_ref_mismatch
        Yield REF mismatches (with ``ref_match=False``) instead of rejecting them.
    region
        ``chrom:start-end`` (1-based, inclusive) to read through the file's tabix index.
    records
        ``(first, stop)``: read only the data records with these 0-based indices (half-open;
        counted within the region when one is given). The others are skipped entirely, so that
        shards of one file add up to the file. Default: all.
    on_reject
        Called with each `RejectedAllele`. Default: append to `rejected`.

    Attributes
    ----------
    counts
        `collections.Counter` with ``records`` (data lines read), ``alleles`` (allele rows:
        one per ALT, one for a record without a usable ALT), ``scored`` and each reject reason.
        After iteration, ``alleles == scored + sum(reasons)``.
    header
        The header lines (``##...`` and ``#CHROM``), without newlines.
    """

    def __init__(
        self,
        vcf: str | Path,
        genome: Genome | None = None,
        allow_ref_mismatch: bool = False,
        region: str | None = None,
        records: tuple[int, int] | None = None,
        on_reject: Callable[[RejectedAllele], None] | None = None,
    ) -> None:
        self.path = Path(vcf)
        if not self.path.is_file():
            raise FileNotFoundError(f"VCF file {self.path} does not exist. Fix: pass an existing VCF.")
        self.genome = genome
        self.allow_ref_mismatch = allow_ref_mismatch
        self.region = region
        self.records = records
        self.rejected: list[RejectedAllele] = []
        self.on_reject = on_reject or self.rejected.append
        self.header: list[str] = []
        self._records = self._alleles_seen = self._scored = 0
        self._reasons: Counter = Counter()

    @property
    def counts(self) -> Counter:
        """Records read, allele rows, scored alleles, and the count of each reject reason."""
        return Counter(
            records=self._records, alleles=self._alleles_seen, scored=self._scored, **self._reasons
        )

    def __iter__(self) -> Iterator[Variant]:
        first, stop = self.records or (0, None)
        index = -1
        for line_number, line in self._lines():
            if line.startswith("#"):
                self.header.append(line)
                continue
            if not line.strip():
                continue
            index += 1
            if index < first:
                continue
            if stop is not None and index >= stop:
                break
            self._records += 1
            yield from self._alleles(line, line_number)

    def read_header(self) -> list[str]:
        """The header lines (``##...`` and ``#CHROM``), read without the records."""
        if is_bcf(self.path):
            with pysam.VariantFile(str(self.path)) as bcf:
                return str(bcf.header).splitlines()
        if self.region is not None:
            with pysam.TabixFile(str(self.path)) as tabix:
                return list(tabix.header)
        header = []
        for _, line in self._lines():
            if not line.startswith("#"):
                break
            header.append(line)
        return header

    # -- reading -----------------------------------------------------------------------------
    def _lines(self) -> Iterator[tuple[int, str]]:
        if is_bcf(self.path):
            yield from self._bcf_lines()
            return
        if self.region is not None:
            yield from self._region_lines()
            return
        opener = gzip.open if is_gzip(self.path) else open
        # utf-8-sig drops a byte-order mark; undecodable bytes (latin-1 INFO text) are replaced,
        # since only the ASCII first five columns are interpreted
        with opener(self.path, "rt", newline="", encoding="utf-8-sig", errors="replace") as handle:
            for number, line in enumerate(handle, start=1):
                yield number, line.rstrip("\r\n")

    def _region_lines(self) -> Iterator[tuple[int, str]]:
        try:
            tabix = pysam.TabixFile(str(self.path))
        except OSError as error:
            raise ValueError(
                f"cannot read region {self.region} of {self.path}: it needs a tabix index. "
                f"Fix: bgzip the VCF and run `tabix -p vcf {self.path}`. ({error})"
            ) from None
        with tabix:
            self.header = list(tabix.header)
            chrom = self.region.split(":")[0]
            if chrom not in tabix.contigs:
                return
            for line in tabix.fetch(region=self.region):
                yield 0, line

    def _bcf_lines(self) -> Iterator[tuple[int, str]]:
        """A BCF's header and records as VCF text lines (pysam decodes them)."""
        quiet = pysam.set_verbosity(0)  # htslib's note that an unindexed BCF has no index
        try:
            bcf = pysam.VariantFile(str(self.path))
        finally:
            pysam.set_verbosity(quiet)
        with bcf:
            header = str(bcf.header).splitlines()
            yield from enumerate(header, start=1)
            records = bcf if self.region is None else self._bcf_region(bcf)
            for number, record in enumerate(records, start=len(header) + 1):
                yield number, str(record).rstrip("\n")

    def _bcf_region(self, bcf) -> Iterator:
        chrom = self.region.split(":")[0]
        if chrom not in bcf.header.contigs:
            return iter(())
        try:
            return bcf.fetch(region=self.region)
        except ValueError as error:
            raise ValueError(
                f"cannot read region {self.region} of {self.path}: it needs an index. "
                f"Fix: run `bcftools index {self.path}`. ({error})"
            ) from None

    # -- one record --------------------------------------------------------------------------
    def _alleles(self, line: str, number: int) -> Iterator[Variant]:
        fields = line.split("\t", 5)
        if len(fields) < 5 or not fields[1].strip().isdigit():
            self._alleles_seen += 1
            detail = "fewer than 5 tab-separated columns" if len(fields) < 5 else "POS is not a number"
            self._reject(RejectedAllele(*_first_five(fields), UNPARSEABLE, number, detail))
            return
        chrom, pos_text, id_, ref, alts = [f.strip() for f in fields[:5]]
        rest = _qual_filter_info(fields[5] if len(fields) > 5 else "")
        for allele, alt in enumerate(alts.split(",") if alts else ["."], start=1):
            self._alleles_seen += 1
            reason = _allele_problem(ref, alt)
            variant = Variant(chrom, int(pos_text), id_ or ".", ref.upper(), alt.upper(), number, allele,
                              qual_filter_info=rest)
            detail = ""
            if reason is None and self.genome is not None:
                reason, detail, variant = self._check_against_genome(variant)
            if reason is not None:
                self._reject(
                    RejectedAllele(chrom, pos_text, id_ or ".", ref, alt, reason, number, detail)
                )
                continue
            self._scored += 1
            yield variant

    def _check_against_genome(self, variant: Variant) -> tuple[str | None, str, Variant]:
        """``(reason, detail, variant)``: reason is None when the allele fits the genome."""
        genome = self.genome
        if genome.resolve.resolve(variant.chrom) is None:
            return CONTIG_NOT_IN_FASTA, f"not in {genome.path.name}", variant
        length = genome.contig_length(variant.chrom)
        if variant.pos < 1 or variant.end > length:
            return OUTSIDE_CONTIG, f"length {length}", variant
        reference = genome.sequence(variant.chrom, variant.start, variant.end)
        if reference == variant.ref:
            return None, "", variant
        if self.allow_ref_mismatch:
            return None, "", _replace_ref_match(variant)
        return REF_MISMATCH, f"genome has {reference}", variant

    def _reject(self, rejected: RejectedAllele) -> None:
        self._reasons[rejected.reason] += 1
        self.on_reject(rejected)

    def reconciles(self) -> bool:
        """True when every allele row was either scored or rejected (check after iterating)."""
        return self._alleles_seen == self._scored + sum(self._reasons.values())


def count_records(vcf: str | Path, region: str | None = None) -> int:
    """Number of data records of a VCF (or of a region of a tabix-indexed one)."""
    reader = VcfVariants(vcf, region=region)
    return sum(1 for _, line in reader._lines() if line.strip() and not line.startswith("#"))


def shard_range(n_records: int, shard: int, n_shards: int) -> tuple[int, int]:
    """Records ``[first, stop)`` of shard ``shard`` (1-based) of ``n_shards`` contiguous shards."""
    if not 1 <= shard <= n_shards:
        raise ValueError(f"shard {shard}/{n_shards}: the shard number must be between 1 and {n_shards}")
    return (shard - 1) * n_records // n_shards, shard * n_records // n_shards


def _allele_problem(ref: str, alt: str) -> str | None:
    """The reason this REF/ALT pair cannot be scored, or None."""
    if ref in ("", "."):
        return MISSING_REF
    if alt in ("", "."):
        return MISSING_ALT
    if alt == "*":
        return SPANNING_DELETION
    if alt.startswith("<"):
        return SYMBOLIC_ALT
    if _BREAKEND.search(alt.upper()):
        return BREAKEND_ALT
    if not _ACGT.match(ref.upper()):
        return NON_ACGT_REF
    if not _ACGT.match(alt.upper()):
        return NON_ACGT_ALT
    return None


def _replace_ref_match(variant: Variant) -> Variant:
    return Variant(
        variant.chrom, variant.pos, variant.id, variant.ref, variant.alt,
        variant.line, variant.allele, False, variant.qual_filter_info,
    )


def _qual_filter_info(rest: str) -> str:
    """QUAL, FILTER and INFO of a record (``.`` where the record has none)."""
    columns = (rest.split("\t", 3)[:3] if rest else []) + ["."] * 3
    return "\t".join(c or "." for c in columns[:3])


def _first_five(fields: list[str]) -> list[str]:
    padded = [f.strip() for f in fields[:5]] + ["."] * (5 - len(fields[:5]))
    return [p or "." for p in padded]

