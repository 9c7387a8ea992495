"""``epizoo impute``: a track of an Avocado entry (a cell type's assay) over a BED's regions, as a bigWig or TSV."""
from __future__ import annotations

import argparse
import json


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("entry", help="zoo name or entry folder (an Avocado imputation or latent-factor entry)")
    parser.add_argument("--regions", required=True, help="BED of regions in the coordinates of the entry's layout.bed")
    parser.add_argument("--celltype", help="the cell type to impute (one of the entry's celltypes.txt)")
    parser.add_argument("--assay", help="the assay to impute (one of the entry's assays.txt)")
    parser.add_argument("--latent", action="store_true",
                        help="write the genome factors of each bin instead (a latent-factor entry; TSV only)")
    parser.add_argument("--attributions", action="store_true",
                        help="add each value's split between the cell type, the assay and the genome scales "
                             "(integrated gradients over their factors; TSV only)")
    parser.add_argument("--dataloader-args", default="{}",
                        help="JSON of other dataloader arguments, e.g. '{\"layout_file\": \"pilot_regions.bed\"}'")
    parser.add_argument("--batch-size", type=int, default=40_000)
    parser.add_argument("--device", default=None)
    parser.add_argument("--precision", default="float32", choices=["float32", "bf16", "fp16"],
                        help="autocast the network (bf16: about twice the speed on CPUs with bfloat16 instructions)")
    parser.add_argument("--out", required=True, help="x.bw (bigWig of the imputed signal) or x.tsv (one row per bin)")


def run(args: argparse.Namespace) -> int:
    from epizoo.atomic import write_text
    from epizoo.dataloaders.positions import PositionLayout
    from epizoo.plugins.impute import factor_attributions, genome_factors, impute, write_bigwig
    from epizoo.registry import get_dataloader

    extra = json.loads(args.dataloader_args)
    options = {"batch_size": args.batch_size, "device": args.device, "verbose": not args.quiet}
    bigwig = args.out.lower().endswith((".bw", ".bigwig"))
    if bigwig and (args.latent or args.attributions):
        raise ValueError("--latent and --attributions write a TSV (several columns per bin), not a bigWig")
    if args.latent:
        table = genome_factors(args.entry, args.regions, extra, **options)
    elif not (args.celltype and args.assay):
        raise ValueError("give --celltype and --assay (the track to impute), or --latent (the genome factors)")
    elif args.attributions:
        table = factor_attributions(args.entry, args.regions, args.celltype, args.assay, extra,
                                    batch_size=min(args.batch_size, 4_096), device=args.device)
    else:
        table = impute(args.entry, args.regions, args.celltype, args.assay, extra, precision=args.precision, **options)
    if bigwig:
        layout = extra.get("layout_file") or get_dataloader(args.entry).entry_dir / "layout.bed"
        write_bigwig(args.out, table, PositionLayout.from_bed(layout).chrom_sizes())
    else:
        write_text(args.out, table.to_csv(sep="\t", index=False, float_format="%.6g"))
    return 0
