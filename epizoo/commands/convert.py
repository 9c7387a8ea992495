"""``epizoo convert``: published weights -> a complete, tested Kipoi entry."""
from __future__ import annotations

import argparse

FORMATS = {"factornet": "the FactorNet authors' Keras-1 model folders (models/<TF>/<variant>)",
           "avocado": "an avocado-epigenome model saved as PREFIX.json + PREFIX.h5 (give PREFIX)"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("format", choices=sorted(FORMATS), help="; ".join(f"{k}: {v}" for k, v in FORMATS.items()))
    parser.add_argument("source", help="the published model folder (factornet) or the saved model's PREFIX (avocado)")
    parser.add_argument("out", help="entry folder to write (model.yaml, dataloader.yaml, weights.safetensors, ...)")
    parser.add_argument("--layout", default=None,
                        help="avocado: BED of the regions whose 25-bp bins are the model's positions, in order "
                             "(e.g. 'chr19 0 59128975' for a chromosome model; default: positions by index)")
    parser.add_argument("--genome", default="hg19",
                        help="avocado: the genome build of the layout (the authors' Roadmap models: hg19)")
    parser.add_argument("--no-expect", action="store_true",
                        help="skip writing expect.h5 (the predictions `kipoi test` checks)")


def run(args: argparse.Namespace) -> int:
    if args.format == "avocado":
        from epizoo.conversion.avocado import write_entry

        out = write_entry(args.source, args.out, args.layout, expect=not args.no_expect, genome=args.genome)
    else:
        from epizoo.conversion.factornet_writer import write_entry

        out = write_entry(args.source, args.out, expect=not args.no_expect)
    print(f"wrote {out}; check it with: kipoi test {out} --source dir")
    return 0
