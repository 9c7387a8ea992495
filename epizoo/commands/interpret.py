"""``epizoo interpret``: attributions of a zoo entry's inputs on the regions of a BED file."""
from __future__ import annotations

import argparse
import json
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from epizoo.plugins.interpret.attributions import METHODS

    parser.add_argument("model", help="zoo name (FactorNet/FOXA1/onePeak_DGF) or entry folder")
    parser.add_argument("--regions", required=True, help="BED of the regions to explain")
    parser.add_argument("--fasta", required=True, help="reference genome (FASTA, plain or bgzip)")
    parser.add_argument("--dataloader-args", default="{}", metavar="JSON",
                        help='the entry\'s other inputs, e.g. \'{"dnase_file": "dnase.bw"}\'')
    parser.add_argument("--method", default="input_x_gradient", choices=(*METHODS, "ism"),
                        help="an attribution method, or ism (saturation mutagenesis of the sequence)")
    parser.add_argument("--positions", metavar="FIRST:STOP", help="ism: the positions mutated (default all)")
    parser.add_argument("--score", default="diff", help="ism: the variant-effect score of each mutant (default diff)")
    parser.add_argument("--target", default=0, type=task, help="the task explained: its name or index (default 0)")
    parser.add_argument("--output", help="the head explained, for an entry with several")
    parser.add_argument("--hypothetical", action="store_true",
                        help="also save the sequence's hypothetical contributions (for `epizoo motifs`)")
    parser.add_argument("--n-shuffles", type=int, default=20, help="deep_lift_shap: references per region")
    parser.add_argument("--explain", nargs="+", metavar="INPUT",
                        help="the inputs attributed (default all), the others held at their values, e.g. "
                             "--explain expression: which TFs' expression drive the predictions")
    parser.add_argument("--batch-size", type=int, default=64,
                        help="regions per batch; for ism also mutants per forward pass (default 64)")
    parser.add_argument("--device", help="cpu, cuda, ... (default: $EPIZOO_DEVICE, else cuda when available)")
    parser.add_argument("--out", required=True,
                        help="output .npz (or .h5): attributions, inputs and chrom/start/end of the regions")
    parser.add_argument("--plot", metavar="FIGURE",
                        help="also draw the strongest region's logo (.png, .svg or .pdf) beside its tracks")
    parser.add_argument("--plot-width", type=int, default=100, help="positions shown by --plot (default 100)")
    parser.add_argument("--report", metavar="DIR",
                        help="also write DIR/report.html: the 5 strongest regions drawn, and what was explained "
                             "(DIR is new, or an earlier report, which it replaces)")


def run(args: argparse.Namespace) -> int:
    from epizoo.plugins.interpret.regions import attribute_regions, save_arrays

    if args.hypothetical and args.method not in ("input_x_gradient", "deep_lift_shap"):
        raise SystemExit(f"--hypothetical: contributions of input_x_gradient and deep_lift_shap, not of {args.method}")
    if args.report:
        _check_report_folder(Path(args.report), Path(args.out))
    options = {"n_shuffles": args.n_shuffles} if args.method == "deep_lift_shap" else {}
    if args.explain:
        options["explain"] = args.explain
    if args.method == "ism":
        options = {"score": args.score, "positions": _span(args.positions) if args.positions else None}
    arrays = attribute_regions(args.model, args.regions, args.fasta, json.loads(args.dataloader_args), args.method,
                               args.target, args.output, args.hypothetical, args.batch_size, args.device,
                               verbose=not args.quiet, **options)
    save_arrays(args.out, arrays)
    if args.plot:
        from epizoo.plugins.interpret.plots import plot_strongest_region

        region = plot_strongest_region(arrays, args.plot, args.plot_width, title=f"{args.model} ({args.method})")
        if not args.quiet:
            print(f"the strongest region, {region}, -> {args.plot}")
    if args.report:
        from epizoo.plugins.interpret.report import attribution_report

        page = attribution_report(arrays, args.report, _provenance(args), width=args.plot_width,
                                  title=f"{args.model} ({args.method})")
        if not args.quiet:
            print(f"report -> {page}")
    shapes = ", ".join(f"{k} {v.shape}" for k, v in arrays.items()
                       if ("." not in k or k.startswith("ism.")) and k not in ("chrom", "start", "end"))
    if not args.quiet:
        print(f"{len(arrays['start'])} regions -> {args.out} ({shapes})")
        _print_top_features(arrays)
    return 0


def _print_top_features(arrays: dict, top: int = 10) -> None:
    """The entries of each labelled per-sample input that drive the predictions most (mean attribution)."""
    from epizoo.plugins.interpret.regions import feature_importance

    for key in arrays:
        if key.startswith("labels."):
            ranked = feature_importance(arrays, key.removeprefix("labels."))
            print(f"{ranked.name}, mean attribution: " + ", ".join(f"{k} {v:.3g}" for k, v in ranked.head(top).items()))


def task(text: str) -> int | str:
    """A task given on the command line: an index when it is a number, else a name."""
    return int(text) if text.lstrip("-").isdigit() else text


def _check_report_folder(report: Path, out: Path) -> None:
    """Before any work: the report's folder may be replaced, and does not hold ``--out``."""
    from epizoo.plugins.interpret.report import replaceable

    if out.resolve().is_relative_to(report.resolve()):
        raise SystemExit(f"--report {report}: the report replaces its folder, which would delete --out {out}; "
                         "give the report a folder of its own")
    try:
        replaceable(report)
    except ValueError as error:
        raise SystemExit(f"--report: {error}") from None


def _provenance(args: argparse.Namespace) -> dict:
    """What a run explained: the entry and its options, and its files by name and checksum."""
    from epizoo.weights import file_record

    files = {"regions": args.regions, "fasta": args.fasta} | json.loads(args.dataloader_args)
    named = {key: file_record(value) if isinstance(value, str) and Path(value).is_file() else value
             for key, value in files.items()}
    return {"entry": args.model, "method": args.method, "target": args.target, "output": args.output} | named


def _span(text: str) -> tuple[int, int]:
    first, _, stop = text.partition(":")
    if not (first.isdigit() and stop.isdigit() and int(first) < int(stop)):
        raise SystemExit(f"--positions {text!r}: give FIRST:STOP, e.g. 400:600")
    return int(first), int(stop)
