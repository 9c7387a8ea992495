"""``epizoo check``: validate zoo entries (metadata, schema, weights, forward pass, plugins, kipoi test)."""
from __future__ import annotations

import argparse
import json
import sys

from epizoo.check import check_entry, weights_at_hand
from epizoo.registry import list_entries


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("entries", nargs="*", metavar="ENTRY", help="entry folders or zoo names")
    parser.add_argument("--all", action="store_true", help="every entry of the zoo")
    parser.add_argument("--available-only", action="store_true",
                        help="skip (and name) the entries whose weights would need a download (offline CI)")
    parser.add_argument("--no-kipoi-test", action="store_true", help="skip running `kipoi test`")
    parser.add_argument("--export", action="store_true",
                        help="also say whether each entry exports to ONNX (needs the onnx extra; slower)")
    parser.add_argument("--json", action="store_true", help="one JSON list of reports (entry, ok, passed, problems)")


def _at_hand(entry: str) -> bool:
    """Whether the entry's weights are at hand; an entry too broken to say is checked (and fails)."""
    try:
        return weights_at_hand(entry)
    except Exception:
        return True


def run(args: argparse.Namespace) -> int:
    entries = list(dict.fromkeys(list(args.entries) + (list_entries() if args.all else [])))
    if not entries:
        raise SystemExit("epizoo check: name entries, or give --all")
    skipped = [entry for entry in entries if args.available_only and not _at_hand(entry)]
    entries = [entry for entry in entries if entry not in skipped]
    for entry in skipped:
        print(f"{entry}: skipped, its weights are neither committed, cached nor in the mirror", file=sys.stderr)
    reports = []
    for entry in entries:
        report = check_entry(entry, kipoi_test=not args.no_kipoi_test, export=args.export)
        reports.append(report)
        if not args.json:
            print(f"{entry}: {'ok' if report.ok else 'FAILED'}")
            for line in report.lines():
                print(f"  {line}")
    if args.json:
        print(json.dumps([report.to_dict() for report in reports]
                         + [{"entry": entry, "skipped": "weights not at hand"} for entry in skipped], indent=1))
    return 0 if all(report.ok for report in reports) else 1
