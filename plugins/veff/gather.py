"""Gather the shards of a scattered ``epizoo score-variants`` run into one output, and check it adds up.

The Snakemake workflow (``epizoo workflow score-variants``) runs ``epizoo score-variants --shard i/n``
once per shard; `gather` then concatenates, in shard order, the shard outputs into one output and
the shard rejects into one rejects file, and checks the accounting before anything is written
under the final names:

* every shard's output and rejects hold as many rows as its ``--summary-json`` says it scored
  and rejected (when the summaries are given);
* the shards' records add up to the VCF's records, and the gathered rows plus rejects to its
  alleles (when the VCF is given).

Because the shards are contiguous slices of the records in file order, the gathered files are
the ones a single ``epizoo score-variants`` run writes: same header, same rows, same order.
Formats (by the output's suffix): ``.tsv`` / ``.tsv.gz`` (header once), ``.vcf`` / ``.vcf.gz``
(header once, bgzip), ``.parquet`` (row groups appended). Both files are written atomically.
"""
from __future__ import annotations

import gzip
import json
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import pyarrow.parquet as pq
import pysam

from epizoo.atomic import atomic_path
from epizoo.dataloaders.variants import REJECT_COLUMNS, VcfVariants

from .writers import output_format

PathLike = str | Path

_CHUNK = 1 << 20
_REJECTS_HEADER = ("\t".join(REJECT_COLUMNS) + "\n").encode()
_RERUN = ("Fix: delete that shard's files (or run snakemake with --forcerun shard) and run the "
          "workflow again; snakemake re-runs only the missing shards.")


class GatherError(ValueError):
    """The shard files do not fit together or do not add up; nothing was written."""


@dataclass(frozen=True)
class Counts:
    """Records read, alleles seen, alleles scored and alleles rejected."""

    records: int = 0
    alleles: int = 0
    scored: int = 0
    rejected: int = 0

    def __add__(self, other: Counts) -> Counts:
        return Counts(self.records + other.records, self.alleles + other.alleles,
                      self.scored + other.scored, self.rejected + other.rejected)

    def line(self) -> str:
        """One line for logs."""
        return (f"{self.records} records, {self.alleles} alleles: {self.scored} scored, "
                f"{self.rejected} rejected")


def read_summary(path: PathLike) -> Counts:
    """The counts ``epizoo score-variants --summary-json`` wrote into ``path``."""
    try:
        summary = json.loads(Path(path).read_text())
        return Counts(*(int(summary[key]) for key in ("records", "alleles", "scored", "rejected")))
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise GatherError(
            f"{path} holds no summary of `epizoo score-variants --summary-json` ({error}); the "
            f"shard's run may have been cut short. {_RERUN}"
        ) from None


def vcf_counts(vcf: PathLike, region: str | None = None) -> Counts:
    """Records and alleles (one per ALT; one for a record without a usable ALT) of a VCF."""
    reader = VcfVariants(vcf, region=region, on_reject=lambda rejected: None)
    for _ in reader:
        pass
    counts = reader.counts
    return Counts(records=counts["records"], alleles=counts["alleles"])


def gather(
    shard_outputs: Sequence[PathLike],
    shard_rejects: Sequence[PathLike],
    out: PathLike,
    rejects: PathLike,
    summaries: Sequence[PathLike] | None = None,
    vcf: PathLike | None = None,
    region: str | None = None,
) -> Counts:
    """Concatenate shard outputs and shard rejects, in the order given, and check the counts.

    Parameters
    ----------
    shard_outputs, shard_rejects
        Each shard's output (all of the output's format) and rejects file, in shard order.
    out, rejects
        The gathered output (format by suffix: ``.tsv``, ``.tsv.gz``, ``.vcf``, ``.vcf.gz``,
        ``.parquet``) and rejects file (``#CHROM POS ID REF ALT reason``, plain TSV).
    summaries
        Optional: each shard's ``--summary-json`` file; each shard's rows and rejects
        must match its line.
    vcf, region
        Optional: the scattered VCF (and region); the shards' records must add up to its records
        (with ``summaries``) and the gathered rows plus rejects to its alleles.

    Returns
    -------
    Counts
        Of the gathered files (records and alleles from the summaries or the VCF, else 0 and
        scored + rejected).

    Raises
    ------
    GatherError
        Shards that disagree (headers, schemas, formats) or counts that do not add up. Neither
        ``out`` nor ``rejects`` is then written.
    """
    _check_inputs(shard_outputs, shard_rejects, summaries, out)
    gather_output = _GATHERERS[output_format(out)]
    with atomic_path(out) as out_tmp, atomic_path(rejects) as rejects_tmp:
        scored = gather_output(shard_outputs, out_tmp)
        rejected = _gather_tsv(shard_rejects, rejects_tmp, compress=False, default_header=_REJECTS_HEADER)
        return _reconcile(shard_outputs, shard_rejects, scored, rejected, summaries, vcf, region)


def _check_inputs(shard_outputs, shard_rejects, summaries, out) -> None:
    if not shard_outputs:
        raise GatherError("no shards to gather. Fix: pass at least one shard output.")
    if len(shard_rejects) != len(shard_outputs) or (summaries is not None and len(summaries) != len(shard_outputs)):
        raise GatherError(
            f"{len(shard_outputs)} shard outputs but {len(shard_rejects)} rejects files"
            + (f" and {len(summaries)} summaries" if summaries is not None else "")
            + ". Fix: pass one of each per shard, in the same order."
        )
    wanted = output_format(out)
    for path in shard_outputs:
        if output_format(path) != wanted:
            raise GatherError(f"shard output {path} is not {wanted} like {out}. Fix: gather shards of one format.")


def _reconcile(shard_outputs, shard_rejects, scored: list[int], rejected: list[int],
               summaries, vcf, region) -> Counts:
    total = Counts(scored=sum(scored), rejected=sum(rejected), alleles=sum(scored) + sum(rejected))
    if summaries is not None:
        total = Counts()
        for k, summary in enumerate(summaries):
            counts = read_summary(summary)
            if (counts.scored, counts.rejected) != (scored[k], rejected[k]) or counts.alleles != scored[k] + rejected[k]:
                raise GatherError(
                    f"shard {k + 1} does not add up: {summary} says {counts.line()}, but "
                    f"{shard_outputs[k]} has {scored[k]} rows and {shard_rejects[k]} {rejected[k]}. {_RERUN}"
                )
            total += counts
    if vcf is not None:
        whole = vcf_counts(vcf, region)
        if summaries is not None and total.records != whole.records:
            raise GatherError(
                f"the {len(summaries)} shards read {total.records} records but {vcf}"
                f"{' (' + region + ')' if region else ''} has {whole.records}: shards are missing, "
                f"duplicated, or from another VCF or shard count. Fix: run all shards i/n of the same n "
                f"on this VCF (delete the shard folder and run the workflow again)."
            )
        if total.scored + total.rejected != whole.alleles:
            raise GatherError(
                f"the shards hold {total.scored} scored and {total.rejected} rejected alleles, "
                f"{total.scored + total.rejected} in all, but {vcf} has {whole.alleles} alleles. "
                f"Fix: delete the shard folder and run the workflow again."
            )
        total = Counts(whole.records, whole.alleles, total.scored, total.rejected)
    return total


# -- formats ---------------------------------------------------------------------------------
def _open_read(path: PathLike) -> BinaryIO:
    with open(path, "rb") as probe:
        compressed = probe.read(2) == b"\x1f\x8b"
    return gzip.open(path, "rb") if compressed else open(path, "rb")


def _copy_counting_lines(source: BinaryIO, sink: BinaryIO) -> int:
    """Copy the rest of ``source`` to ``sink``; the number of newlines copied."""
    lines = 0
    while chunk := source.read(_CHUNK):
        sink.write(chunk)
        lines += chunk.count(b"\n")
    return lines


def _gather_tsv(paths: Sequence[PathLike], tmp: Path, compress: bool, default_header: bytes | None = None) -> list[int]:
    """TSV shards (a header line, then rows) -> one TSV; rows per shard.

    A shard may be empty (0 bytes, no header); when every shard is, the output is the
    ``default_header`` or empty, as a single run would leave it.
    """
    header, rows = None, []
    with ExitStack() as stack:
        raw = stack.enter_context(open(tmp, "wb"))
        # mtime=0 and no file name: the same rows give the same bytes
        sink = stack.enter_context(gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0)) if compress else raw
        for path in paths:
            with _open_read(path) as source:
                first = source.readline()
                if not first:
                    rows.append(0)
                    continue
                if not first.startswith(b"#CHROM"):
                    raise GatherError(f"{path} does not start with a '#CHROM ...' header line. "
                                      "Fix: gather the files that `epizoo score-variants --shard` wrote.")
                if header is None:
                    header = first
                    sink.write(header)
                elif first != header:
                    raise GatherError(f"{path} has other columns than {paths[0]}: {first!r} vs {header!r}. "
                                      "Fix: score all shards with the same models and scores.")
                rows.append(_copy_counting_lines(source, sink))
        if header is None and default_header:
            sink.write(default_header)
    return rows


def _gather_vcf(paths: Sequence[PathLike], tmp: Path, compress: bool) -> list[int]:
    """VCF shards (header, then one line per scored allele) -> one VCF (bgzip for .gz)."""
    plain = tmp.with_name(tmp.name + ".plain") if compress else tmp
    header, rows = None, []
    try:
        with open(plain, "wb") as sink:
            for path in paths:
                with _open_read(path) as source:
                    lines = []
                    while (line := source.readline()).startswith(b"#"):
                        lines.append(line)
                    if not lines and not line:  # 0 bytes: a writer that never started
                        rows.append(0)
                        continue
                    if header is None:
                        header = lines
                        sink.writelines(header)
                    elif lines != header:
                        raise GatherError(f"{path} has another VCF header than {paths[0]}. "
                                          "Fix: score all shards of one VCF with the same models and scores.")
                    sink.write(line)
                    rows.append(line.count(b"\n") + _copy_counting_lines(source, sink))
        if compress:
            pysam.tabix_compress(str(plain), str(tmp), force=True)
    finally:
        if compress:
            plain.unlink(missing_ok=True)
    return rows


def _gather_parquet(paths: Sequence[PathLike], tmp: Path) -> list[int]:
    """Parquet shards -> one parquet file, the shards' row groups appended in order."""
    writer, rows = None, []
    try:
        for path in paths:
            if Path(path).stat().st_size == 0:  # a writer that never saw a batch
                rows.append(0)
                continue
            shard = pq.ParquetFile(path)
            if writer is None:
                writer = pq.ParquetWriter(str(tmp), shard.schema_arrow)
            elif not shard.schema_arrow.equals(writer.schema, check_metadata=False):
                raise GatherError(f"{path} has other columns than the shards before it. "
                                  "Fix: score all shards with the same models and scores.")
            for group in range(shard.num_row_groups):
                writer.write_table(shard.read_row_group(group))
            rows.append(shard.metadata.num_rows)
    finally:
        if writer is not None:
            writer.close()
    return rows


_GATHERERS: dict[str, Callable[[Sequence[PathLike], Path], list[int]]] = {
    ".tsv": lambda paths, tmp: _gather_tsv(paths, tmp, compress=False),
    ".tsv.gz": lambda paths, tmp: _gather_tsv(paths, tmp, compress=True),
    ".vcf": lambda paths, tmp: _gather_vcf(paths, tmp, compress=False),
    ".vcf.gz": lambda paths, tmp: _gather_vcf(paths, tmp, compress=True),
    ".parquet": _gather_parquet,
}
