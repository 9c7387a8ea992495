"""`score_variants`: variant effects of one or more zoo entries on a VCF, in one pass.

Every ALT allele of every record in the (region / shard of the) VCF ends up either as a row of
the output or as a row of the rejects, with its reason; the returned summary's counts reconcile.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

import pandas as pd

from epizoo.dataloaders.genome import Genome
from epizoo.dataloaders.interval_dataset import IntervalDataset
from epizoo.dataloaders.variants import (
    REJECT_COLUMNS, RejectedAllele, Variant, VcfVariants, count_records, shard_range,
)
from epizoo.progress import progress
from epizoo.registry import get_contract, get_model

from .background import with_background
from .engine import Entry, VariantEffects
from .entry_model import EntryInputs, EntryModel, dataloader_parameters, require_sequence_input
from .scores import Score, get_merge, get_scores, scores_for
from .views import shift_offsets
from .writers import WRITERS, RejectsWriter, VcfWriter, default_rejects_path, output_format, variant_frame

logger = logging.getLogger(__name__)


@dataclass
class VariantEffectSummary:
    """What a run read, scored and rejected; ``alleles == scored + rejected``."""

    records: int = 0
    alleles: int = 0
    scored: int = 0
    rejected: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    out: Path | None = None
    rejects: Path | None = None
    rejected_alleles: list[RejectedAllele] = field(default_factory=list, repr=False)

    def rejects_frame(self) -> pd.DataFrame:
        """The rejected alleles (kept when no output file was written) as a DataFrame."""
        return pd.DataFrame([r.row() for r in self.rejected_alleles], columns=REJECT_COLUMNS)

    @property
    def n_rejected(self) -> int:
        return sum(self.rejected.values())

    def to_json(self) -> dict:
        """The counts as a JSON-able mapping (``--summary-json``)."""
        return {"records": self.records, "alleles": self.alleles, "scored": self.scored,
                "rejected": self.n_rejected, "rejected_by_reason": dict(self.rejected),
                "seconds": round(self.seconds, 3), "out": str(self.out) if self.out else None,
                "rejects": str(self.rejects) if self.rejects else None}

    def line(self) -> str:
        """One-line summary for logs and the CLI."""
        reasons = "; ".join(f"{n} {reason}" for reason, n in sorted(self.rejected.items(), key=lambda x: -x[1]))
        rate = self.scored / self.seconds if self.seconds else 0.0
        return (f"{self.records} records, {self.alleles} alleles: {self.scored} scored, "
                f"{self.n_rejected} rejected{' (' + reasons + ')' if reasons else ''}; "
                f"{rate:,.0f} variants/s")


def score_variants(
    models: str | Path | list[str | Path],
    vcf: str | Path,
    fasta: str | Path,
    dataloader_args: Mapping[str, Any] | None = None,
    scores: Iterable[str] | None = None,
    rc_merging: str | None = None,
    shifts: int = 0,
    max_shift: int = 0,
    profile_window: int | None = None,
    background: str | Path | None = None,
    out: str | Path | None = None,
    rejects: str | Path | None = None,
    region: str | None = None,
    shard: tuple[int, int] | None = None,
    allow_ref_mismatch: bool = False,
    batch_size: int = 64,
    device: str | None = None,
    precision: str = "float32",
    verbose: bool = False,
    info_ids: str = "kipoi",
) -> pd.DataFrame | VariantEffectSummary:
    """Predict the effect of every variant of a VCF with one or more zoo entries.

    Parameters
    ----------
    models
        Zoo names (``FactorNet/FOXA1/onePeak_DGF``) or entry folders.
    vcf, fasta
        Variants (plain, gzip or bgzip VCF) and the reference genome they refer to.
    dataloader_args
        The entries' non-sequence inputs by their dataloader argument names (e.g.
        ``{"dnase_file": ...}``); each entry takes the ones its dataloader accepts. Or
        ``{model: {...}}`` per model.
    scores
        Score names (`epizoo.plugins.veff.scores.SCORES`): kipoi-veff's ``ref``, ``alt``,
        ``diff``, ``logit``, ``logit_ref``, ``logit_alt``, ``deepsea_effect`` for per-task
        outputs; ``total_ref``, ``total_alt``, ``total_diff``, ``log2fc``, ``jsd``,
        ``max_abs_diff`` and GOPHER's cross-task ``gopher_log2fc`` / ``gopher_mean_log2fc``
        (one column, task ``all``) for profile outputs. Each output gets the ones that apply to it; a score
        that applies to none of an entry's outputs is an error. Default: ``diff`` for per-task
        outputs and ``total_diff`` for profiles.
    rc_merging
        Also score the reverse-complement windows and merge with ``mean``, ``max``, ``min``,
        ``median`` or ``absmax`` (after scoring, as kipoi-veff). Default None: forward only.
    shifts, max_shift
        Also score every variant in ``shifts`` windows moved by up to ``max_shift`` bp and
        average the scores over all windows (`views.shift_offsets`); GOPHER's scores average the
        totals over the windows before their ratio (its robust score: ``shifts=20,
        max_shift=512, profile_window=1024``).
    profile_window
        Profile scores count only the bins overlapping this many bp centred on the variant.
        Default None: every bin.
    background
        BED of background regions (e.g. the entry's peaks) for ``active_allele_quantile``: each
        entry predicts them once, and an allele's total is ranked among theirs.
    out
        Output file (``.tsv``, ``.tsv.gz``, ``.vcf``, ``.vcf.gz``, ``.parquet``), written
        atomically. Default None: return a DataFrame instead.
    rejects
        Where the alleles that were not scored go (``#CHROM POS ID REF ALT reason``). Default:
        ``<out without suffix>.rejects.tsv``; with no ``out``,
        ``df.attrs["summary"].rejects_frame()``.
    region
        ``chrom:start-end``: only this region of a tabix-indexed VCF.
    shard
        ``(i, n)``: only the i-th (1-based) of n contiguous, equal slices of the records.
    allow_ref_mismatch
        Score alleles whose REF differs from the genome instead of rejecting them.
    batch_size
        Variants per batch (each entry runs 2x, or 4x with rc_merging, as many windows at once).
    device, precision
        Where and how the models run: ``float32`` (default) or ``bf16`` / ``fp16`` autocast.
    verbose
        Show a progress bar (on a terminal).
    info_ids
        INFO IDs of a VCF output: ``kipoi`` (default; kipoi-veff's ``KV:epizoo:<model>/<output>:<SCORE>``,
        which htslib reads with an "Invalid tag name" warning) or ``vcf`` (the same with every
        character the VCF spec does not allow replaced by ``_``).

    Returns
    -------
    pandas.DataFrame or VariantEffectSummary
        Without ``out``: one row per scored allele (``#CHROM POS ID REF ALT`` and the score
        columns ``<model>/<output>/<task>/<score>``), the summary in ``df.attrs["summary"]``.
        With ``out``: the summary.
    """
    models = [models] if isinstance(models, (str, Path)) else list(models)
    genome = Genome(fasta)
    chosen = None if scores is None else get_scores(scores)
    effects = VariantEffects(
        [with_background(entry, background, profile_window, batch_size)
         for entry in _entries(models, genome, dataloader_args or {}, chosen, device, precision)],
        get_merge(rc_merging), batch_size, shift_offsets(shifts, max_shift), profile_window,
    )
    summary = VariantEffectSummary()
    if out is None:
        return _to_frame(effects, vcf, genome, region, shard, allow_ref_mismatch, batch_size, verbose, summary)
    return _to_files(effects, vcf, genome, Path(out), rejects, region, shard, allow_ref_mismatch,
                     batch_size, verbose, summary, info_ids)


def _entries(models, genome, dataloader_args, scores, device, precision) -> list[Entry]:
    per_model = bool(dataloader_args) and all(
        isinstance(v, Mapping) and str(k).rstrip("/") in {str(m).rstrip("/") for m in models}
        for k, v in dataloader_args.items()
    )
    loaded = {str(m): get_model(m) for m in models}
    if not per_model:
        accepted = {name: dataloader_parameters(m.default_dataloader) for name, m in loaded.items()}
        unused = sorted(set(dataloader_args) - set().union(*accepted.values()))
        if unused:
            raise ValueError(
                f"no model takes the dataloader argument(s) {', '.join(unused)}; they take: "
                + "; ".join(f"{name}: {', '.join(sorted(a)) or '-'}" for name, a in accepted.items())
            )
    entries = []
    for name, kipoi_model in loaded.items():
        loader = kipoi_model.default_dataloader
        if per_model:
            args = dict(dataloader_args.get(name) or dataloader_args.get(name.rstrip("/")) or {})
        else:
            args = {k: v for k, v in dataloader_args.items() if k in dataloader_parameters(loader)}
        entries.append(_entry(name.rstrip("/"), kipoi_model, genome, args, scores, device, precision))
    return entries


def _entry(name: str, kipoi_model, genome: Genome, args: dict, scores: list[Score] | None, device, precision) -> Entry:
    """One entry of a run; an entry without a sequence input is refused with the reason."""
    loader = kipoi_model.default_dataloader
    if not (isinstance(loader, type) and issubclass(loader, IntervalDataset)):
        require_sequence_input(name, get_contract(name))
    inputs = EntryInputs(name, loader, genome, args)
    contract = get_contract(name, inputs.specs)
    require_sequence_input(name, contract)
    model = EntryModel(name, kipoi_model, contract, device, precision)
    return Entry(inputs, model, scores_for(name, contract.outputs.values(), scores))


def _reader(vcf, genome, region, shard, allow_ref_mismatch, on_reject=None) -> VcfVariants:
    records = None
    if shard is not None:
        records = shard_range(count_records(vcf, region), *shard)
    return VcfVariants(vcf, genome, allow_ref_mismatch, region, records, on_reject)


def _batches(reader: VcfVariants, batch_size: int, verbose: bool) -> Iterator[list[Variant]]:
    stream = iter(reader)
    with progress(quiet=not verbose, unit=" variants", desc="scoring") as bar:
        while batch := list(islice(stream, batch_size)):
            bar.update(len(batch))
            yield batch


def _to_frame(effects, vcf, genome, region, shard, allow_ref_mismatch, batch_size, verbose, summary) -> pd.DataFrame:
    reader = _reader(vcf, genome, region, shard, allow_ref_mismatch)
    started = time.perf_counter()
    frames = [variant_frame(v, c) for v, c in effects.run(_batches(reader, batch_size, verbose))]
    frame = pd.concat(frames, ignore_index=True) if frames else variant_frame([], {c: [] for c in effects.columns})
    _fill_summary(summary, reader, time.perf_counter() - started)
    summary.rejected_alleles = reader.rejected
    frame.attrs["summary"] = summary
    return frame


def _to_files(effects, vcf, genome, out, rejects, region, shard, allow_ref_mismatch, batch_size, verbose, summary,
              info_ids):
    rejects = Path(rejects) if rejects is not None else default_rejects_path(out)
    started = time.perf_counter()
    with _open_writer(out, effects, vcf, region, info_ids) as writer, RejectsWriter(rejects) as rejects_writer:
        reader = _reader(vcf, genome, region, shard, allow_ref_mismatch, on_reject=rejects_writer)
        for variants, columns in effects.run(_batches(reader, batch_size, verbose)):
            writer.write(variants, columns)
    _fill_summary(summary, reader, time.perf_counter() - started)
    summary.out, summary.rejects = out, rejects
    logger.info(summary.line())
    return summary


def _open_writer(out: Path, effects: VariantEffects, vcf, region, info_ids: str):
    cls = WRITERS[output_format(out)]
    if cls is VcfWriter:
        return VcfWriter(out, VcfVariants(vcf, region=region).read_header(), effects.layout, info_ids)
    return cls(out, effects.columns)


def _fill_summary(summary: VariantEffectSummary, reader: VcfVariants, seconds: float) -> None:
    counts = reader.counts
    summary.records, summary.alleles, summary.scored = counts["records"], counts["alleles"], counts["scored"]
    summary.rejected = {k: v for k, v in counts.items() if k not in ("records", "alleles", "scored")}
    summary.seconds = seconds
    if not reader.reconciles():
        raise RuntimeError(f"internal error: allele counts do not reconcile: {dict(counts)}")


def parse_shard(text: str) -> tuple[int, int]:
    """``"i/n"`` -> ``(i, n)`` (1-based)."""
    try:
        shard, n_shards = (int(part) for part in text.split("/"))
    except ValueError:
        raise ValueError(f"--shard must look like i/n (e.g. 2/8), not {text!r}") from None
    shard_range(0, shard, n_shards)  # validates
    return shard, n_shards
