"""``epizoo catalogue OUT_DIR``: the zoo as a static HTML site (`epizoo.catalogue`)."""
from __future__ import annotations

import argparse

from epizoo.catalogue import write_catalogue
from epizoo.entry_summary import summaries


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("out", help="folder to write (index.html, entries/, logos/); replaced if it exists")
    parser.add_argument("--prefix", default="", help="only entries starting with this")


def run(args: argparse.Namespace) -> int:
    out = write_catalogue(args.out, summaries(args.prefix))
    print(f"wrote {out / 'index.html'}")
    return 0
