"""FactorNet predictions/s: the model's forward pass alone, the direct API, and `kipoi predict`.

All three predict the same regions (200-bp bins tiled over the example genome slice, with the
example DNase track) with the same converted entry, in one run:

* forward pass alone: ``model(seq)`` on input arrays built beforehand (the baseline);
* direct API: the entry's dataloader (`IntervalDataset.batch_iter`) + Kipoi's
  ``predict_on_batch``, i.e. data path + forward pass;
* ``kipoi predict`` (stock CLI, TSV output) end to end, process start included.

The data path (the dataloader's batches alone: FASTA windows, one-hot, bigWig values) is also
timed on its own; the target is that it costs less than the forward pass.

    EPIZOO_MIRROR=../shared/data python benchmarks/bench_factornet.py [--regions 4000] [--batch-size 128]
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"
ENTRY = "FactorNet/FOXA1/onePeak_DGF"


def write_regions(path: Path, n: int) -> Path:
    starts = np.linspace(1_000, 298_000, n).astype(int)
    path.write_text("".join(f"chr22\t{s}\t{s + 200}\n" for s in starts))
    return path


def time_forward(model, batches: list[dict]) -> float:
    with torch.inference_mode():
        model.model(**{k: torch.from_numpy(v) for k, v in batches[0].items()})  # warm-up
        started = time.perf_counter()
        for batch in batches:
            model.model(**{k: torch.from_numpy(v) for k, v in batch.items()})
    return time.perf_counter() - started


def time_data(model, bed: Path, batch_size: int) -> float:
    dataset = model.default_dataloader(bed, EXAMPLES / "genome.fa", EXAMPLES / "dnase.bw")
    started = time.perf_counter()
    for _ in dataset.batch_iter(batch_size=batch_size):
        pass
    return time.perf_counter() - started


def time_api(model, bed: Path, batch_size: int) -> float:
    dataset = model.default_dataloader(bed, EXAMPLES / "genome.fa", EXAMPLES / "dnase.bw")
    started = time.perf_counter()
    for batch in dataset.batch_iter(batch_size=batch_size):
        model.predict_on_batch(batch["inputs"])
    return time.perf_counter() - started


def time_kipoi_cli(bed: Path, batch_size: int, out: Path) -> float:
    args = (f'{{"intervals_file": "{bed}", "fasta_file": "{EXAMPLES / "genome.fa"}", '
            f'"dnase_file": "{EXAMPLES / "dnase.bw"}"}}')
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "kipoi", "predict", f"zoo/{ENTRY}", "--source", "dir",
                    "--dataloader_args", args, "--batch_size", str(batch_size), "-o", str(out)],
                   cwd=REPO, check=True, capture_output=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--regions", type=int, default=4000)
    parser.add_argument("--batch-size", type=int, default=128)
    args = parser.parse_args()
    from epizoo.registry import get_model

    model = get_model(ENTRY)
    with tempfile.TemporaryDirectory() as folder:
        bed = write_regions(Path(folder) / "regions.bed", args.regions)
        dataset = model.default_dataloader(bed, EXAMPLES / "genome.fa", EXAMPLES / "dnase.bw")
        batches = [b["inputs"] for b in dataset.batch_iter(batch_size=args.batch_size)]
        forward = time_forward(model, batches)
        data = time_data(model, bed, args.batch_size)
        api = time_api(model, bed, args.batch_size)
        cli = time_kipoi_cli(bed, args.batch_size, Path(folder) / "preds.tsv")
    n = args.regions
    print(f"{ENTRY}, {n:,} regions of 1,002 bp, batch {args.batch_size}, {torch.get_num_threads()} threads, CPU")
    print(f"forward pass alone (baseline) : {n / forward:9,.0f} predictions/s")
    print(f"direct API (dataloader+model) : {n / api:9,.0f} predictions/s  ({forward / api:.2f}x the forward pass alone)")
    print(f"kipoi predict, end to end     : {n / cli:9,.0f} predictions/s  ({forward / cli:.2f}x; includes ~3 s of start-up)")
    print(f"data path alone               : {n / data:9,.0f} regions/s -> costs {data / forward:.2f} of the forward pass (target < 1)")


if __name__ == "__main__":
    os.environ.setdefault("EPIZOO_MIRROR", str(REPO.parent / "shared" / "data"))
    main()
