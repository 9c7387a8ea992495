"""FactorNet predictions/s: the model's forward pass alone, the direct API, and `kipoi predict`.

All three predict the same regions (200-bp bins tiled over the example genome slice, with the
example DNase track) with the same converted entry, in one run:

* forward pass alone: ``model(seq)`` on the batch's inputs (the baseline);
* direct API: the entry's dataloader (`IntervalDataset.batch_iter`) + Kipoi's
  ``predict_on_batch`` (which runs `epizoo.predict`), i.e. data path + forward pass;
* ``kipoi predict`` (stock CLI, TSV output) end to end, process start included.

The data path (the dataloader's batches alone: FASTA windows, one-hot, bigWig values) is also
timed; the target is that it costs less than the forward pass. The first three are timed batch by
batch, one after the other on the same batch, so that a passing load slows all of them alike; the
whole pass and a ``kipoi predict`` run alternate ``--repeats`` times and the fastest of each is
reported (with the spread).

    EPIZOO_MIRROR=../shared/data python benchmarks/bench_factornet.py [--regions 4000] [--batch-size 128] [--repeats 5]
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


def time_in_process(model, bed: Path, batch_size: int) -> dict[str, float]:
    """Seconds of one pass over the regions: ``data`` (the dataloader's batches), ``api`` (data +
    ``predict_on_batch``) and ``forward`` (``model(seq)`` again on the same batch), timed per batch."""
    dataset = model.default_dataloader(bed, EXAMPLES / "genome.fa", EXAMPLES / "dnase.bw")
    batches = iter(dataset.batch_iter(batch_size=batch_size))
    seconds = {"data": 0.0, "api": 0.0, "forward": 0.0}
    while True:
        started = time.perf_counter()
        batch = next(batches, None)
        loaded = time.perf_counter()
        if batch is None:
            return seconds
        model.predict_on_batch(batch["inputs"])
        predicted = time.perf_counter()
        with torch.inference_mode():
            model.model(**{k: torch.from_numpy(v) for k, v in batch["inputs"].items()})
        seconds["data"] += loaded - started
        seconds["api"] += predicted - started
        seconds["forward"] += time.perf_counter() - predicted


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
    parser.add_argument("--repeats", type=int, default=5, help="interleaved repetitions; the best of each is kept")
    args = parser.parse_args()
    from epizoo.registry import get_model

    model = get_model(ENTRY)
    seconds = {"forward": [], "api": [], "data": [], "cli": []}
    with tempfile.TemporaryDirectory() as folder:
        bed = write_regions(Path(folder) / "regions.bed", args.regions)
        time_in_process(model, bed, args.batch_size)  # warm-up
        for _ in range(args.repeats):
            for name, value in time_in_process(model, bed, args.batch_size).items():
                seconds[name].append(value)
            seconds["cli"].append(time_kipoi_cli(bed, args.batch_size, Path(folder) / "preds.tsv"))
    n = args.regions
    for name, values in seconds.items():
        print(f"  {name}: {', '.join(f'{n / v:,.0f}' for v in sorted(values))} per s over {args.repeats} repetitions")
    forward, api, data, cli = (min(seconds[name]) for name in ("forward", "api", "data", "cli"))
    print(f"{ENTRY}, {n:,} regions of 1,002 bp, batch {args.batch_size}, {torch.get_num_threads()} threads, CPU; "
          f"best of {args.repeats} interleaved repetitions")
    print(f"forward pass alone (baseline) : {n / forward:9,.0f} predictions/s")
    print(f"direct API (dataloader+model) : {n / api:9,.0f} predictions/s  ({forward / api:.2f}x the forward pass alone)")
    print(f"kipoi predict, end to end     : {n / cli:9,.0f} predictions/s  ({forward / cli:.2f}x; includes ~3 s of start-up)")
    print(f"data path alone               : {n / data:9,.0f} regions/s -> costs {data / forward:.2f} of the forward pass (target < 1)")


if __name__ == "__main__":
    os.environ.setdefault("EPIZOO_MIRROR", str(REPO.parent / "shared" / "data"))
    main()
