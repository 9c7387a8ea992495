"""The ``epizoo`` command line: one sub-command per module of `epizoo.commands`.

Sub-commands are imported only when run, so ``epizoo --help`` stays fast; each module provides
``add_arguments(parser)`` and ``run(args) -> int``. Later features add a line to `COMMANDS`.
"""
from __future__ import annotations

import argparse
import logging
import sys
from importlib import import_module

from . import __version__

#: name -> (module, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "info": ("epizoo.commands.info", "show versions, the zoo, cache and mirror folders"),
    "list": ("epizoo.commands.list_entries", "list the zoo's entries"),
    "fetch": ("epizoo.commands.fetch", "fetch (and convert) the weights of entries into the cache"),
    "source": ("epizoo.commands.source", "register the zoo as a Kipoi model source"),
    "check": ("epizoo.commands.check", "validate zoo entries: metadata, schema, weights, kipoi test"),
    "convert": ("epizoo.commands.convert", "convert published weights into a Kipoi entry"),
    "score-variants": ("epizoo.commands.score_variants", "predict variant effects of zoo entries on a VCF"),
    "train": ("epizoo.commands.train", "train a recipe (FactorNet, ...) and write the model as a zoo entry"),
    "simulate": ("epizoo.commands.simulate", "write a seeded synthetic genome, tracks, peaks and VCF"),
    "onehot": ("epizoo.commands.onehot", "one-hot encode BED regions of a FASTA into an .npz"),
    "workflow": ("epizoo.commands.workflow", "print or write the Snakemake workflows (scatter/gather score-variants)"),
    "interpret": ("epizoo.commands.interpret", "attributions of a zoo entry's inputs on the regions of a BED file"),
    "gia": ("epizoo.commands.gia", "global importance of a pattern in a zoo entry, on shuffled backgrounds of a BED's regions"),
    "evaluate": ("epizoo.commands.evaluate", "GOPHER's held-out metrics of a profile or binary entry on whole test chromosomes"),
    "motifs": ("epizoo.commands.motifs", "TF-MoDISco patterns of saved attributions, matched to a motif database, as a report"),
    "impute": ("epizoo.commands.impute", "an Avocado entry's imputed track (or genome factors) over a BED's regions"),
    "catalogue": ("epizoo.commands.catalogue", "the zoo as a static HTML site: searchable index, a page per entry"),
    "export": ("epizoo.commands.export", "an entry's network as ONNX, checked against PyTorch with ONNX Runtime"),
    "new": ("epizoo.commands.new", "a new zoo entry from the template (model-template/), to fill in and check"),
    "weights": ("epizoo.commands.weights", "make a trained state dict an entry's weights (safetensors, sha256, expect.h5)"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="epizoo",
        description="A Kipoi-compatible model zoo for regulatory genomics, and its plugins.",
    )
    parser.add_argument("--version", action="version", version=f"epizoo {__version__}")
    _add_global_flags(parser)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (_, help_text) in COMMANDS.items():
        commands.add_parser(name, help=help_text, description=help_text, add_help=False)
    return parser


def _add_global_flags(parser, verbose: bool = False, quiet: bool = False) -> None:
    """-v / -q, accepted before the sub-command and after it (the defaults: what came before)."""
    parser.add_argument("-v", "--verbose", action="store_true", default=verbose, help="log progress details")
    parser.add_argument("-q", "--quiet", action="store_true", default=quiet, help="log errors only, no progress bars")


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the process exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    known, rest = parser.parse_known_args(argv)
    if known.command is None:
        parser.print_help()
        return 0
    module_name, help_text = COMMANDS[known.command]
    module = import_module(module_name)
    sub = argparse.ArgumentParser(prog=f"epizoo {known.command}", description=help_text)
    module.add_arguments(sub)
    _add_global_flags(sub.add_argument_group("output"), known.verbose, known.quiet)
    args = sub.parse_args(rest)
    level = logging.ERROR if args.quiet else logging.INFO if args.verbose else logging.WARNING
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    try:
        return int(module.run(args) or 0)
    except (OSError, ValueError, KeyError, ImportError) as error:  # missing files or extras, bad input: one line
        message = error.args[0] if isinstance(error, KeyError) and error.args else error
        print(f"epizoo {known.command}: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
