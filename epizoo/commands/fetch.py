"""``epizoo fetch``: make entries' weights available offline (download, verify, convert)."""
from __future__ import annotations

import argparse
import sys

from epizoo.registry import get_model, list_entries


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("models", nargs="*", help="zoo names or entry folders (default: the whole zoo)")


def run(args: argparse.Namespace) -> int:
    """Fetch every model asked for, whatever fails on the way; exit 1 when any failed."""
    models, failed = args.models or list_entries(), {}
    for model in models:
        try:
            get_model(model, with_dataloader=False)
        except (OSError, ValueError) as error:  # unreachable, corrupt or unknown: report and go on
            failed[model] = error
            print(f"FAILED  {model}: {error}")
            continue
        print(f"ok      {model}")
    if failed:
        print(f"epizoo fetch: {len(failed)} of {len(models)} could not be fetched: "
              f"{', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0
