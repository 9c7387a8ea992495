"""``epizoo list``: the zoo's entries."""
from __future__ import annotations

import argparse

from epizoo.registry import list_entries


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("prefix", nargs="?", default="", help="only entries starting with this")


def run(args: argparse.Namespace) -> int:
    for name in list_entries():
        if name.startswith(args.prefix):
            print(name)
    return 0
