"""``epizoo score-variants``: variant effects of zoo entries on a VCF (see `epizoo.plugins.veff`)."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from epizoo.atomic import write_text


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from epizoo.plugins.veff.scores import RC_MERGES, SCORES

    parser.add_argument("models", nargs="+", metavar="MODEL", help="zoo names (FactorNet/FOXA1/onePeak_DGF) or entry folders")
    parser.add_argument("--vcf", required=True, help="variants: VCF, plain, gzip or bgzip")
    parser.add_argument("--fasta", required=True, help="reference genome FASTA (plain or bgzip)")
    parser.add_argument("--dataloader-args", default="{}", metavar="JSON",
                        help='the entries\' other inputs by dataloader argument name, e.g. \'{"dnase_file": "dnase.bw"}\' '
                             "(a JSON string or a .json file); or {MODEL: {...}} per model")
    parser.add_argument("--scores", help=f"comma-separated, from: {', '.join(SCORES)} (default: diff for per-task "
                                         "outputs, total_diff for profiles); each output gets those that apply to it")
    parser.add_argument("--rc-merging", choices=sorted(RC_MERGES),
                        help="also score reverse-complement windows and merge this way (after scoring)")
    parser.add_argument("--shifts", type=int, default=0, metavar="N",
                        help="also score N windows moved by up to --max-shift bp, and average (default 0)")
    parser.add_argument("--max-shift", type=int, default=0, metavar="S", help="largest window shift in bp")
    parser.add_argument("--profile-window", type=int, metavar="BP",
                        help="profile scores count only the bins overlapping BP bp around the variant (default: all)")
    parser.add_argument("--background", metavar="BED",
                        help="background regions (e.g. the entry's peaks) that active_allele_quantile ranks alleles against")
    parser.add_argument("--out", required=True, help="output: .tsv, .tsv.gz, .vcf, .vcf.gz or .parquet (written atomically)")
    parser.add_argument("--info-ids", default="kipoi", choices=["kipoi", "vcf"],
                        help="VCF output's INFO IDs: kipoi-veff's KV:epizoo:... (default) or spec-valid ones "
                             "(KV_epizoo_..., no htslib warnings)")
    parser.add_argument("--rejects", help="alleles not scored, with their reason (default: <OUT without suffix>.rejects.tsv)")
    parser.add_argument("--summary-json", help="also write the run's counts (records, alleles, scored, rejected) as JSON")
    parser.add_argument("--region", help="chrom:start-end of a tabix-indexed VCF")
    parser.add_argument("--shard", help="i/n: only the i-th of n contiguous slices of the records (1-based)")
    parser.add_argument("--allow-ref-mismatch", action="store_true", help="score alleles whose REF differs from the FASTA")
    parser.add_argument("--batch-size", type=int, default=64, help="variants per batch (default 64)")
    parser.add_argument("--device", help="cpu, cuda, cuda:1, ... (default: $EPIZOO_DEVICE, else cuda when available)")
    parser.add_argument("--precision", default="float32", choices=["float32", "bf16", "fp16"],
                        help="float32 (default: scores match the model's own predictions) or autocast")


def run(args: argparse.Namespace) -> int:
    from epizoo.plugins.veff.api import parse_shard, score_variants

    summary = score_variants(
        args.models, args.vcf, args.fasta,
        dataloader_args=_json_argument(args.dataloader_args),
        scores=[s.strip() for s in args.scores.split(",") if s.strip()] if args.scores else None,
        rc_merging=args.rc_merging, shifts=args.shifts, max_shift=args.max_shift,
        profile_window=args.profile_window, background=args.background, out=args.out, rejects=args.rejects, region=args.region,
        shard=parse_shard(args.shard) if args.shard else None,
        allow_ref_mismatch=args.allow_ref_mismatch, batch_size=args.batch_size,
        device=args.device, precision=args.precision, verbose=not args.quiet, info_ids=args.info_ids,
    )
    if args.summary_json:
        write_text(args.summary_json, json.dumps(summary.to_json(), indent=1) + "\n")
    if not args.quiet:
        print(summary.line())
        print(f"effects -> {summary.out}; rejected alleles -> {summary.rejects}")
    return 0


def _json_argument(text: str) -> dict:
    path = Path(text)
    source = path.read_text() if text.endswith(".json") and path.is_file() else text
    try:
        value = json.loads(source)
    except json.JSONDecodeError as error:
        raise ValueError(f"--dataloader-args is not valid JSON ({error}): {text[:200]}") from None
    if not isinstance(value, dict):
        raise ValueError("--dataloader-args must be a JSON object")
    return value
