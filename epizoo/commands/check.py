"""``epizoo check``: validate zoo entries (metadata, schema, weights, forward pass, kipoi test)."""
from __future__ import annotations

import argparse

from epizoo.check import check_entry


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("entries", nargs="+", metavar="ENTRY", help="entry folders or zoo names")
    parser.add_argument("--no-kipoi-test", action="store_true", help="skip running `kipoi test`")


def run(args: argparse.Namespace) -> int:
    failed = 0
    for entry in args.entries:
        report = check_entry(entry, kipoi_test=not args.no_kipoi_test)
        print(f"{entry}: {'ok' if report.ok else 'FAILED'}")
        for line in report.lines():
            print(f"  {line}")
        failed += not report.ok
    return 1 if failed else 0
