"""``epizoo train``: run a training recipe and write the trained model as a zoo entry."""
from __future__ import annotations

import argparse

import yaml


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from epizoo.plugins.train.recipes import RECIPES

    parser.add_argument("recipe", choices=sorted(RECIPES), help="the paper's training procedure")
    parser.add_argument("config", help="the run's YAML file (recipe, seed, data, model, training)")
    parser.add_argument("--out", required=True, help="entry folder to write; the run's state goes to <out>.run/")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override a config value, e.g. --set training.max_epochs=3 (YAML value)")
    parser.add_argument("--restart", action="store_true", help="ignore <out>.run/checkpoints/last.ckpt and start afresh")
    parser.add_argument("--no-check", action="store_true", help="skip `epizoo check` of the written entry")


def run(args: argparse.Namespace) -> int:
    from epizoo.plugins.train.config import ConfigError
    from epizoo.plugins.train.runs import load_config
    from epizoo.plugins.train.trainer import train

    overrides = {}
    for item in args.set:
        key, sep, value = item.partition("=")
        if not sep:
            raise ValueError(f"--set {item!r}: expected KEY=VALUE")
        overrides[key] = yaml.safe_load(value)
    config = load_config(args.config, overrides)
    if config.recipe != args.recipe:
        raise ConfigError(f"{args.config} is a {config.recipe!r} config, not {args.recipe!r}")
    out = train(config, args.out, restart=args.restart, check=not args.no_check, quiet=args.quiet)
    checked = "checked with epizoo check and kipoi test" if not args.no_check else \
        f"not checked (--no-check): epizoo check {out}"
    print(f"wrote {out}; {checked}")
    return 0
