"""``epizoo export ENTRY OUT.onnx|OUT.keras``: an entry's network as ONNX or as a Keras 3 model, checked
against PyTorch (`epizoo.export`)."""
from __future__ import annotations

import argparse

from epizoo.export import export_keras, export_onnx


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("entry", help="zoo name or entry folder")
    parser.add_argument("out", help="the file to write: .onnx, or .keras (a Keras 3 model; the tf extra)")
    parser.add_argument("--tolerance", type=float, default=1e-4,
                        help="largest difference from the PyTorch network allowed (default 1e-4)")


def run(args: argparse.Namespace) -> int:
    keras = args.out.endswith(".keras")
    exported = (export_keras if keras else export_onnx)(args.entry, args.out, args.tolerance)
    print(f"wrote {exported.path}: inputs {', '.join(exported.inputs)} -> outputs {', '.join(exported.outputs)}; "
          f"{'Keras' if keras else 'ONNX Runtime'} agrees with PyTorch to {exported.max_difference:.2g}")
    return 0
