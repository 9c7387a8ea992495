"""``epizoo list``: the zoo's entries, each with where its weights come from."""
from __future__ import annotations

import argparse
from collections.abc import Mapping
from typing import Any

from epizoo.registry import list_entries, model_yaml

#: converter -> where the files it converts come from
CONVERTED_FROM = {
    "factornet-keras1": "converted from the authors' release",
    "factornet-kipoi": "converted from Kipoi's re-save (Zenodo record 1466084)",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("prefix", nargs="?", default="", help="only entries starting with this")


def weights_origin(description: Mapping[str, Any]) -> str:
    """Where an entry's weights come from, from its model.yaml."""
    args = description.get("args") or {}
    weights = args.get("weights") or {}
    if "convert" in weights:
        return CONVERTED_FROM.get(weights["convert"], f"converted by {weights['convert']}")
    if weights:
        return "trained by epizoo"
    if "entry" in args:
        return f"variant effects of {args['entry']}"
    return "-"


def run(args: argparse.Namespace) -> int:
    names = [name for name in list_entries() if name.startswith(args.prefix)]
    width = max((len(name) for name in names), default=0)
    for name in names:
        print(f"{name:<{width}}  {weights_origin(model_yaml(name))}")
    return 0
