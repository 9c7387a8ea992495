"""``epizoo onehot``: BED regions of a FASTA (+ bigWig tracks) to model-ready arrays in an .npz."""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from epizoo.atomic import atomic_path
from epizoo.progress import progress


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("bed", help="regions (BED3+)")
    parser.add_argument("fasta", help="reference genome (FASTA, plain or bgzip)")
    parser.add_argument("--width", type=int, required=True, help="re-centre regions to this width")
    parser.add_argument("--bigwig", nargs="*", default=[], help="tracks appended as channels")
    parser.add_argument("--batch-size", type=int, default=512)
    parser.add_argument("-o", "--out", required=True, help="output .npz (written atomically)")


def run(args: argparse.Namespace) -> int:
    from epizoo.dataloaders.interval_dataset import IntervalDataset

    dataset = IntervalDataset(args.bed, args.fasta, args.width, bigwig_files=args.bigwig)
    batches = progress(
        dataset.batch_iter(batch_size=args.batch_size), quiet=args.quiet,
        total=-(-len(dataset) // args.batch_size), unit="batch",
    )
    seqs, padded = [], []
    for batch in batches:
        seqs.append(batch["inputs"]["seq"])
        padded.append(batch["metadata"]["padded"])
    ranges = {"chrom": dataset.chroms.astype(str), "start": dataset.starts, "end": dataset.ends}
    _save_npz(Path(args.out), seq=np.concatenate(seqs), padded=np.concatenate(padded), **ranges)
    n_padded = int(np.concatenate(padded).sum())
    print(f"{len(dataset)} regions -> {args.out} (seq {np.concatenate(seqs).shape}, {n_padded} padded)")
    return 0


def _save_npz(path: Path, **arrays: np.ndarray) -> None:
    with atomic_path(path) as tmp, open(tmp, "wb") as handle:
        np.savez_compressed(handle, **arrays)
