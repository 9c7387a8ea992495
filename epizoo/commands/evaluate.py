"""``epizoo evaluate``: GOPHER's held-out metrics of a profile or binary entry on whole test chromosomes."""
from __future__ import annotations

import argparse
import json


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("entry", help="zoo name or entry folder")
    parser.add_argument("--fasta", required=True, help="the genome")
    parser.add_argument("--bigwigs", nargs="+", required=True, help="one coverage bigWig per task, in the entry's task order")
    parser.add_argument("--peaks", nargs="+", default=[],
                        help="one peak file per task (narrowPeak): labels for auROC/auPR and the robustness sequences")
    parser.add_argument("--chroms", nargs="+", default=["chr8"], help="test chromosomes (default chr8, GOPHER's)")
    parser.add_argument("--bin-sizes", default="",
                        help="comma-separated coarser resolutions (bp) for pearson_whole@<bp>, e.g. 256,512,1024,2048")
    parser.add_argument("--output", default=None, help="the head to evaluate (default: the profile head)")
    parser.add_argument("--shifts", type=int, default=20, help="shifted windows per sequence for the variation score (0: none)")
    parser.add_argument("--max-sequences", type=int, default=200, help="peak-centred sequences for the variation score")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--device", default=None)
    parser.add_argument("--out", default=None, help="write the metrics as JSON here (atomically); default: print them")


def run(args: argparse.Namespace) -> int:
    from epizoo.atomic import write_text
    from epizoo.plugins.evaluate.entry import evaluate_entry

    bin_sizes = [int(b) for b in args.bin_sizes.split(",") if b.strip()]
    metrics = evaluate_entry(args.entry, args.fasta, args.bigwigs, args.peaks, args.chroms, bin_sizes, args.output,
                             args.shifts, args.max_sequences, args.batch_size, args.device)
    text = json.dumps(metrics, indent=1) + "\n"
    if args.out:
        write_text(args.out, text)
    if not getattr(args, "quiet", False):
        means = {k: round(v, 4) for k, v in metrics.items() if "/" not in k}
        print(json.dumps(means, indent=1) if args.out else text, end="" if not args.out else "\n")
    return 0
