"""``epizoo export ENTRY OUT.onnx``: an entry's network as ONNX, checked against PyTorch (`epizoo.export`)."""
from __future__ import annotations

import argparse

from epizoo.export import export_onnx


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("entry", help="zoo name or entry folder")
    parser.add_argument("out", help="the ONNX file to write")
    parser.add_argument("--tolerance", type=float, default=1e-4,
                        help="largest difference from the PyTorch network allowed (default 1e-4)")


def run(args: argparse.Namespace) -> int:
    exported = export_onnx(args.entry, args.out, args.tolerance)
    print(f"wrote {exported.path}: inputs {', '.join(exported.inputs)} -> outputs {', '.join(exported.outputs)}; "
          f"ONNX Runtime agrees with PyTorch to {exported.max_difference:.2g}")
    return 0
