"""Streaming, atomic writers of variant effects and of the alleles that were not scored.

One writer per output format, chosen by the file's suffix:

* ``.tsv`` (``.tsv.gz``): kipoi-veff2's layout, ``#CHROM POS ID REF ALT`` then one column per
  ``<model>/<output>/<task>/<score>``;
* ``.vcf`` / ``.vcf.gz``: the input records (one line per scored ALT allele, sample columns
  dropped) with kipoi-veff's INFO annotation: ``KV:<source>:<model>/<output>:<SCORE>`` holding
  the per-task values, each tag declared ``Type=Float`` with one value per task (a VCF list,
  comma-separated, so that htslib readers get numbers). kipoi-veff's IDs contain ``:`` and ``/``,
  which the VCF spec does not allow in an INFO ID (htslib warns "Invalid tag name" and keeps them);
  ``info_ids="vcf"`` writes spec-valid IDs instead (`info_id`);
* ``.parquet``: the TSV's columns, one row group per batch.

Rows are written batch by batch into a temporary file that replaces the final name only when the
writer is closed without error (`epizoo.atomic`): memory stays bounded and a crash leaves no
truncated output.
"""
from __future__ import annotations

import gzip
import re
from contextlib import ExitStack
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pysam

from epizoo.atomic import atomic_path
from epizoo.dataloaders.variants import REJECT_COLUMNS, RejectedAllele, Variant

VARIANT_COLUMNS = ["#CHROM", "POS", "ID", "REF", "ALT"]
KV_SOURCE = "epizoo"


def variant_frame(variants: list[Variant], columns: dict[str, np.ndarray]) -> pd.DataFrame:
    """One row per variant: its identity, then its score columns."""
    frame = pd.DataFrame({
        "#CHROM": pd.Series([v.chrom for v in variants], dtype=object),
        "POS": pd.Series([v.pos for v in variants], dtype=np.int64),
        "ID": pd.Series([v.id for v in variants], dtype=object),
        "REF": pd.Series([v.ref for v in variants], dtype=object),
        "ALT": pd.Series([v.alt for v in variants], dtype=object),
    })
    scores = pd.DataFrame({name: np.asarray(values, dtype=np.float32) for name, values in columns.items()})
    return pd.concat([frame, scores], axis=1)


class _AtomicOutput:
    """Base: owns the temporary file that becomes ``path`` on a clean `close`."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._stack = ExitStack()
        self.tmp = self._stack.enter_context(atomic_path(self.path))

    def close(self) -> None:
        """Finish the file and move it into place."""
        self._finish()
        self._stack.close()

    def abort(self) -> None:
        """Drop the temporary file; the final name is left untouched."""
        self._release()
        self._stack.__exit__(RuntimeError, RuntimeError("aborted"), None)

    def _finish(self) -> None:
        """Complete the temporary file (subclasses; default: just release the handles)."""
        self._release()

    def _release(self) -> None:
        """Close open handles (subclasses)."""

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, traceback) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


class TsvWriter(_AtomicOutput):
    """kipoi-veff2's TSV: ``#CHROM POS ID REF ALT <model>/<task>/<score> ...``.

    The header is written up front, so a run that scores nothing still has one.
    """

    def __init__(self, path: str | Path, columns: list[str]) -> None:
        super().__init__(path)
        opener = gzip.open if str(path).endswith(".gz") else open
        self._handle = opener(self.tmp, "wt", newline="")
        self._handle.write("\t".join(VARIANT_COLUMNS + list(columns)) + "\n")

    def write(self, variants: list[Variant], columns: dict[str, np.ndarray]) -> None:
        variant_frame(variants, columns).to_csv(
            self._handle, sep="\t", header=False, index=False, float_format="%.8g", lineterminator="\n"
        )

    def _release(self) -> None:
        self._handle.close()


class ParquetWriter(_AtomicOutput):
    """The TSV's columns in a parquet file, one row group per batch."""

    def __init__(self, path: str | Path, columns: list[str]) -> None:
        super().__init__(path)
        identity = [("#CHROM", pa.string()), ("POS", pa.int64()), ("ID", pa.string()),
                    ("REF", pa.string()), ("ALT", pa.string())]
        self.schema = pa.schema(identity + [(name, pa.float32()) for name in columns])
        self._writer = pq.ParquetWriter(str(self.tmp), self.schema)

    def write(self, variants: list[Variant], columns: dict[str, np.ndarray]) -> None:
        frame = variant_frame(variants, columns)
        self._writer.write_table(pa.Table.from_pandas(frame, schema=self.schema, preserve_index=False))

    def _release(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None


#: INFO ID styles: kipoi-veff's (the default, for its users' parsers) and the VCF spec's
INFO_ID_STYLES = ("kipoi", "vcf")


def kv_tag(model: str, score: str) -> str:
    """kipoi-veff's INFO tag for a model's score (kipoi_veff/utils/io.py, prep_str)."""
    name = re.sub(r"\s+", "_", re.sub(r"[^\w\.\:\s/]+", "_", f"{KV_SOURCE}:{model}")).strip("_")
    return f"KV:{name}:{score.upper()}"


def info_id(model: str, score: str, style: str = "kipoi") -> str:
    """The INFO ID of a model's score: kipoi-veff's `kv_tag`, or with ``style="vcf"`` the same
    made valid for the VCF spec (``[A-Za-z_][0-9A-Za-z_.]*``: every other character becomes ``_``)."""
    if style not in INFO_ID_STYLES:
        raise ValueError(f"unknown INFO ID style {style!r}; use one of {', '.join(INFO_ID_STYLES)}")
    tag = kv_tag(model, score)
    return tag if style == "kipoi" else re.sub(r"[^0-9A-Za-z_.]", "_", tag)


class VcfWriter(_AtomicOutput):
    """The input records annotated with kipoi-veff's ``KV:`` INFO tags.

    Parameters
    ----------
    path
        ``.vcf`` or ``.vcf.gz`` (bgzip, so that the output can be tabix-indexed).
    header
        The input VCF's header lines (``##...`` and ``#CHROM``).
    layout
        The run's score column groups (`epizoo.plugins.veff.engine.ScoreColumns`): one INFO tag
        per entry, output and score, values per task.
    info_ids
        ``kipoi`` (kipoi-veff's ``KV:...`` IDs) or ``vcf`` (spec-valid IDs), see `info_id`.
    """

    def __init__(self, path: str | Path, header: list[str], layout: list, info_ids: str = "kipoi") -> None:
        self.tags = [(info_id(f"{group.entry}/{group.output}", group.score, info_ids), group) for group in layout]
        super().__init__(path)
        self.compress = str(path).endswith(".gz")
        self._plain = self.tmp.with_name(self.tmp.name + ".plain") if self.compress else self.tmp
        self._handle = open(self._plain, "w", newline="")
        self._handle.write("\n".join(self._header(header)) + "\n")

    def _header(self, header: list[str]) -> list[str]:
        meta = [line for line in header if line.startswith("##")] or ["##fileformat=VCFv4.2"]
        described = [
            f'##INFO=<ID={tag},Number={len(group.tasks)},Type=Float,Description="{group.score.upper()} variant '
            f'effect prediction by epizoo, one value per task: {",".join(group.tasks)}">'
            for tag, group in self.tags
        ]
        note = "##epizoo=one line per scored ALT allele; sample columns dropped"
        return meta + described + [note, "\t".join(VARIANT_COLUMNS + ["QUAL", "FILTER", "INFO"])]

    def write(self, variants: list[Variant], columns: dict[str, np.ndarray]) -> None:
        lines = []
        for row, variant in enumerate(variants):
            qual, filters, info = variant.qual_filter_info.split("\t")
            annotations = [f"{tag}=" + ",".join(f"{columns[name][row]:.8g}" for name in group.names)
                           for tag, group in self.tags]
            info = ";".join(([] if info == "." else [info]) + annotations)
            lines.append("\t".join([variant.chrom, str(variant.pos), variant.id, variant.ref, variant.alt, qual, filters, info]))
        if lines:
            self._handle.write("\n".join(lines) + "\n")

    def _finish(self) -> None:
        self._handle.close()
        if self.compress:
            pysam.tabix_compress(str(self._plain), str(self.tmp), force=True)
            self._plain.unlink()

    def _release(self) -> None:
        self._handle.close()
        if self.compress and self._plain.exists():
            self._plain.unlink()


class RejectsWriter(_AtomicOutput):
    """``#CHROM POS ID REF ALT reason``: one row per allele that was not scored."""

    def __init__(self, path: str | Path) -> None:
        super().__init__(path)
        self._handle = open(self.tmp, "w", newline="")
        self._handle.write("\t".join(REJECT_COLUMNS) + "\n")
        self.count = 0

    def __call__(self, rejected: RejectedAllele) -> None:
        self._handle.write("\t".join(rejected.row()) + "\n")
        self.count += 1

    def _release(self) -> None:
        self._handle.close()


WRITERS = {".tsv": TsvWriter, ".tsv.gz": TsvWriter, ".parquet": ParquetWriter, ".vcf": VcfWriter, ".vcf.gz": VcfWriter}


def output_format(path: str | Path) -> str:
    """The suffix that picks the writer (``.tsv``, ``.tsv.gz``, ``.vcf``, ``.vcf.gz``, ``.parquet``)."""
    name = str(path)
    for suffix in sorted(WRITERS, key=len, reverse=True):
        if name.endswith(suffix):
            return suffix
    raise ValueError(f"cannot tell the output format of {path}: use one of {', '.join(WRITERS)}")


def default_rejects_path(out: str | Path) -> Path:
    """``<OUT without suffix>.rejects.tsv``, beside the output."""
    out = Path(out)
    return out.with_name(out.name[: -len(output_format(out))] + ".rejects.tsv")
