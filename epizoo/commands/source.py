"""``epizoo source``: register the zoo as a ``type: local`` Kipoi model source."""
from __future__ import annotations

import argparse

from epizoo.registry import register_kipoi_source


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=["register"], help="what to do")
    parser.add_argument("--name", default="epizoo", help="source name in ~/.kipoi/config.yaml")
    parser.add_argument(
        "--default", action="store_true",
        help="register as Kipoi's default source 'kipoi' (so no --source is needed)",
    )


def run(args: argparse.Namespace) -> int:
    name = "kipoi" if args.default else args.name
    path = register_kipoi_source(name)
    hint = "" if name == "kipoi" else f" --source {name}"
    print(f"registered the epizoo zoo as Kipoi source '{name}' in {path}")
    print(f"try: kipoi ls{hint}")
    return 0
