"""``epizoo gia``: global importance analysis of a pattern in a zoo entry, on shuffled backgrounds of a BED's regions."""
from __future__ import annotations

import argparse
import json

from .interpret import task


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", help="zoo name (TFTransfer/JUND_finetuned) or entry folder")
    parser.add_argument("--regions", required=True, help="BED of the regions whose shuffles are the backgrounds")
    parser.add_argument("--fasta", required=True, help="reference genome (FASTA, plain or bgzip)")
    parser.add_argument("--dataloader-args", default="{}", metavar="JSON", help="the entry's other inputs")
    parser.add_argument("--pattern", required=True,
                        help="embedded at the centre; each '.' is scanned over A, C, G, T (.TGA.TCA.: 64 AP-1 cores)")
    parser.add_argument("--second", help="a second pattern: the importance of both together at each of --distances from the first")
    parser.add_argument("--distances", default="-100:101:10", metavar="FIRST:STOP:STEP",
                        help="start-to-start distances of --second, written --distances=FIRST:STOP:STEP "
                             "(default -100:101:10; negative: upstream)")
    parser.add_argument("--shuffles", type=int, default=1, help="dinucleotide shuffles per region (default 1)")
    parser.add_argument("--target", default=0, type=task, help="the task explained: its name or index (default 0)")
    parser.add_argument("--output", help="the head explained, for an entry with several")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--device", help="cpu, cuda, ... (default: $EPIZOO_DEVICE, else cuda when available)")
    parser.add_argument("--out", required=True, help="output TSV: each variant or distance and its importance")


def run(args: argparse.Namespace) -> int:
    from epizoo.atomic import write_text
    from epizoo.plugins.interpret.gia import distance_scan, entry_backgrounds, flank_scan

    network, options = entry_backgrounds(args.model, args.regions, args.fasta, json.loads(args.dataloader_args),
                                         args.shuffles, args.target, args.output)
    backgrounds = options.pop("backgrounds")
    options |= {"batch_size": args.batch_size, "device": args.device}
    if args.second:
        table = distance_scan(network, backgrounds, args.pattern, args.second, _range(args.distances), **options)
    else:
        table = flank_scan(network, backgrounds, args.pattern, **options)  # no '.': one row
    write_text(args.out, table.to_csv(sep="\t", index=False))
    if not args.quiet:
        print(table.head(10).to_string(index=False))
        print(f"{len(table)} rows on {len(backgrounds)} backgrounds -> {args.out}")
    return 0


def _range(text: str) -> range:
    try:
        return range(*(int(part) for part in text.split(":")))
    except (TypeError, ValueError):
        raise SystemExit(f"--distances {text!r}: give FIRST:STOP:STEP, e.g. -100:101:10") from None
