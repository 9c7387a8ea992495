"""``epizoo interpret``: attributions of a zoo entry's inputs on the regions of a BED file."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from epizoo.atomic import atomic_path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from epizoo.plugins.interpret.attributions import METHODS

    parser.add_argument("model", help="zoo name (FactorNet/FOXA1/onePeak_DGF) or entry folder")
    parser.add_argument("--regions", required=True, help="BED of the regions to explain")
    parser.add_argument("--fasta", required=True, help="reference genome (FASTA, plain or bgzip)")
    parser.add_argument("--dataloader-args", default="{}", metavar="JSON",
                        help='the entry\'s other inputs, e.g. \'{"dnase_file": "dnase.bw"}\'')
    parser.add_argument("--method", default="input_x_gradient", choices=METHODS)
    parser.add_argument("--target", default="0", help="the task explained: its name or index (default 0)")
    parser.add_argument("--output", help="the head explained, for an entry with several")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--device", help="cpu, cuda, ... (default: $EPIZOO_DEVICE, else cuda when available)")
    parser.add_argument("--out", required=True, help="output .npz: one array per input, and chrom/start/end")


def run(args: argparse.Namespace) -> int:
    from epizoo.plugins.interpret.regions import attribute_regions

    target = int(args.target) if args.target.lstrip("-").isdigit() else args.target
    arrays = attribute_regions(args.model, args.regions, args.fasta, json.loads(args.dataloader_args), args.method,
                               target, args.output, args.batch_size, args.device, verbose=not args.quiet)
    with atomic_path(Path(args.out)) as tmp, open(tmp, "wb") as handle:
        np.savez_compressed(handle, **arrays)
    shapes = ", ".join(f"{k} {v.shape}" for k, v in arrays.items() if k not in ("chrom", "start", "end"))
    if not args.quiet:
        print(f"{len(arrays['start'])} regions -> {args.out} ({shapes})")
    return 0
