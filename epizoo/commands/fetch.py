"""``epizoo fetch``: make entries' weights available offline (download, verify, convert)."""
from __future__ import annotations

import argparse

from epizoo.registry import get_model, list_entries


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("models", nargs="*", help="zoo names or entry folders (default: the whole zoo)")


def run(args: argparse.Namespace) -> int:
    for model in args.models or list_entries():
        get_model(model, with_dataloader=False)
        print(f"ok  {model}")
    return 0
