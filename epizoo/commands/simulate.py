"""``epizoo simulate``: a seeded synthetic genome with planted motifs, tracks, peaks and a VCF."""
from __future__ import annotations

import argparse
import json
import time


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``epizoo simulate`` arguments to ``parser``."""
    from epizoo.dataloaders.simulate import DEFAULT_TFS, PRESETS

    parser.add_argument("out_dir", help="output folder (created)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--chroms", type=int, default=None,
                        help="number of chromosomes (default 3; a preset's own default with --preset)")
    parser.add_argument("--length", type=int, default=None,
                        help="bases per chromosome (default 100000; a preset's own default with --preset)")
    parser.add_argument("--cells", type=int, default=3, help="number of cell types (default 3)")
    parser.add_argument("--sites-per-chrom", type=int, default=60, help="planted sites per chromosome")
    parser.add_argument("--tfs", nargs="+", default=list(DEFAULT_TFS),
                        help="motifs to plant (MEME names; default: %(default)s)")
    parser.add_argument("--preset", choices=sorted(PRESETS), default=None,
                        help="a benchmark world (gopher: ATAC of 15 cell lines, chr8 test / chr9 valid, at least 9 "
                             "chromosomes; chromdragonn: ATAC of 40 cell types expressing their own draws of 8 "
                             "lineage TFs); --seed, --chroms and --length still apply, the rest is the preset's")
    parser.add_argument("--meme", default=None,
                        help="MEME motif file (default: HOCOMOCO v9 from the shared data folder)")


def run(args: argparse.Namespace) -> int:
    """Run ``epizoo simulate`` with parsed ``args``; prints a one-line summary."""
    from epizoo.dataloaders.simulate import PRESETS, simulate, simulate_config

    began = time.perf_counter()
    if args.preset:
        sizes = {k: v for k, v in (("n_chroms", args.chroms), ("chrom_length", args.length)) if v is not None}
        config = PRESETS[args.preset](seed=args.seed, meme_file=args.meme, **sizes)
        result = simulate_config(args.out_dir, config)
    else:
        result = simulate(
            args.out_dir, seed=args.seed, n_chroms=args.chroms or 3, chrom_length=args.length or 100_000,
            cell_types=args.cells, motifs=args.tfs, meme_file=args.meme,
            sites_per_chrom=args.sites_per_chrom,
        )
    if not getattr(args, "quiet", False):
        counts = json.loads(result.manifest.read_text())["counts"]
        print(
            f"simulated {len(result.chrom_sizes)} chromosomes, {counts['sites']} sites, "
            f"{len(result.cell_types)} cell types, {sum(counts['variants'].values())} variants "
            f"in {time.perf_counter() - began:.1f} s -> {result.manifest}"
        )
    return 0
