"""``epizoo motifs``: TF-MoDISco patterns of saved attributions, matched to a motif database, as a report."""
from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("attributions", help="the .npz/.h5 of `epizoo interpret ... --hypothetical`")
    parser.add_argument("--database", required=True, help="MEME motif file (e.g. HOCOMOCO v9) to match against")
    parser.add_argument("--out-dir", required=True,
                        help="the report's folder (report.html, motifs.tsv, ...; new, or an earlier report, which it "
                             "replaces); TF-MoDISco's results go beside it, as OUT_DIR.modisco.h5")
    parser.add_argument("--input", default="seq", help="the sequence input explained (default seq)")
    parser.add_argument("--max-seqlets", type=int, default=2000, help="seqlets per metacluster (default 2000)")
    parser.add_argument("--window", type=int, default=21, help="TF-MoDISco's sliding window (default 21)")
    parser.add_argument("--leiden-runs", type=int, default=50,
                        help="TF-MoDISco's Leiden clusterings per round (default 50, its own; fewer is faster)")
    parser.add_argument("--n-controls", type=int, default=20, help="column-shuffled copies per pattern")
    parser.add_argument("--q-threshold", type=float, default=0.05, help="the q-value at which a match counts")


def run(args: argparse.Namespace) -> int:
    from epizoo.plugins.interpret.modisco import as_channels_last, tfmodisco
    from epizoo.plugins.interpret.regions import load_arrays
    from epizoo.plugins.interpret.report import motif_report, replaceable
    from epizoo.weights import file_record

    try:
        out_dir = replaceable(args.out_dir)  # before the work: the report replaces its folder
    except ValueError as error:
        raise SystemExit(f"--out-dir: {error}") from None
    arrays = load_arrays(args.attributions)
    key = f"hypothetical.{args.input}"
    for needed in (key, f"input.{args.input}"):
        if needed not in arrays:
            raise SystemExit(f"{args.attributions}: no array {needed!r} (it holds {', '.join(arrays)}); fix: run "
                             "`epizoo interpret ... --hypothetical` (input_x_gradient or deep_lift_shap)")
    axis = int(arrays.get(f"channels_axis.{args.input}", -1))
    one_hot = as_channels_last(arrays[f"input.{args.input}"], axis)[..., :4]
    hypothetical = as_channels_last(arrays[key], axis)[..., :4]
    h5 = out_dir.with_name(out_dir.name + ".modisco.h5")
    patterns = tfmodisco(one_hot, hypothetical, out_h5=h5, max_seqlets=args.max_seqlets, window=args.window,
                         n_leiden_runs=args.leiden_runs, verbose=args.verbose)
    provenance = {"attributions": file_record(args.attributions), "database": file_record(args.database),
                  "regions": len(one_hot), "window": args.window, "max_seqlets": args.max_seqlets, "leiden_runs": args.leiden_runs}
    table = motif_report(patterns, args.database, out_dir, provenance, n_controls=args.n_controls,
                         q_threshold=args.q_threshold, modisco_h5=h5)
    if not args.quiet:
        print(table[["pattern", "n_seqlets", "target", "q_value", "control_rate"]].to_string(index=False))
        print(f"{len(table)} patterns -> {out_dir / 'report.html'}")
    return 0
