"""``epizoo list``: the zoo's entries with their inputs, outputs, genome, weights origin and
held-out metrics (`epizoo.entry_summary`)."""
from __future__ import annotations

import argparse
import json

from epizoo.entry_summary import HEADLINE, markdown_table, summaries


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("prefix", nargs="?", default="", help="only entries starting with this")
    shown = parser.add_mutually_exclusive_group()
    shown.add_argument("--json", action="store_true", help="every field of every entry, as JSON")
    shown.add_argument("--markdown", action="store_true", help="the README's table")


def run(args: argparse.Namespace) -> int:
    entries = summaries(args.prefix)
    if args.json:
        print(json.dumps([entry.to_dict() for entry in entries], indent=1))
    elif args.markdown:
        print(markdown_table(entries), end="")
    else:
        width = max((len(entry.name) for entry in entries), default=0)
        for entry in entries:
            origin = entry.weights_source if entry.weights_origin == "converted" else entry.weights_origin
            metrics = ", ".join(f"{k} {v:.3f}" for k, v in entry.metrics.items() if k in HEADLINE)
            print(f"{entry.name:<{width}}  {entry.genome:<9}  {origin}{'  ' + metrics if metrics else ''}")
    return 0
