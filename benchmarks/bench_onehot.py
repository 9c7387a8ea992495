"""Fetch and one-hot encode windows: epizoo's batched data path against kipoiseq.

Both sides take the same random 1,000-bp windows of the same indexed FASTA and produce float32
``(1000, 4)`` one-hot arrays in ACGT order:

* baseline: kipoiseq ``FastaStringExtractor.extract`` + ``kipoiseq.transforms.functional.one_hot_dna``
  per window (what kipoiseq's ``SeqIntervalDl`` does per sample);
* epizoo: ``Genome.one_hot_batch`` on batches of 512 windows filled into one reused buffer.

Each measurement runs in a fresh process so that its peak RSS is its own; epizoo is measured at
two window counts to show that its peak memory does not grow with the number of windows.

    python benchmarks/bench_onehot.py [--fasta FASTA] [--windows 100000]
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

DEFAULT_FASTA = Path(__file__).resolve().parents[1].parent / "shared/data/genome/hg38_chr22_32000000_32300000.fa"
WIDTH, BATCH = 1000, 512


def random_windows(fasta: str, n: int, seed: int = 0):
    """Yield ``(chroms, starts)`` chunks of at most `BATCH` random windows, generated lazily so
    that the window list itself never occupies memory proportional to ``n``."""
    from epizoo.dataloaders.genome import Genome

    lengths = Genome(fasta).lengths
    names = np.array(list(lengths))
    max_starts = np.array([lengths[c] - WIDTH for c in names])
    rng = np.random.default_rng(seed)
    for i in range(0, n, BATCH):
        picks = rng.integers(0, len(names), min(BATCH, n - i))
        yield list(names[picks]), (rng.random(len(picks)) * max_starts[picks]).astype(np.int64)


def run_kipoiseq(fasta: str, n: int) -> float:
    from kipoiseq import Interval
    from kipoiseq.extractors import FastaStringExtractor
    from kipoiseq.transforms.functional import one_hot_dna

    extractor = FastaStringExtractor(fasta)
    checksum = 0.0
    t0 = time.perf_counter()
    for chroms, starts in random_windows(fasta, n):
        for chrom, start in zip(chroms, starts):
            x = one_hot_dna(extractor.extract(Interval(chrom, int(start), int(start) + WIDTH)))
            checksum += x[0, 0]
    return time.perf_counter() - t0


def run_epizoo(fasta: str, n: int) -> float:
    from epizoo.dataloaders.genome import Genome

    genome = Genome(fasta)
    genome.fetch_batch(list(genome.lengths)[:1], [0], 1)  # open the file outside the timed loop
    buffer = np.empty((BATCH, WIDTH, 4), dtype=np.float32)
    checksum = 0.0
    t0 = time.perf_counter()
    for chroms, starts in random_windows(fasta, n):
        x, _ = genome.one_hot_batch(chroms, starts, WIDTH, out=buffer[: len(starts)])
        checksum += x[0, 0, 0]
    return time.perf_counter() - t0


def measure(which: str, fasta: str, n: int) -> dict:
    """Run one measurement in a child process; returns seconds and peak RSS (MiB)."""
    code = (
        "import json, resource, sys; sys.path.insert(0, %r); import bench_onehot as b; "
        "s = b.run_%s(%r, %d); "
        "print(json.dumps({'seconds': s, 'peak_mib': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))"
    ) % (str(Path(__file__).parent), which, fasta, n)
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--fasta", default=str(DEFAULT_FASTA))
    parser.add_argument("--windows", type=int, default=100_000)
    args = parser.parse_args()
    n = args.windows
    baseline = measure("kipoiseq", args.fasta, n)
    ours = measure("epizoo", args.fasta, n)
    ours_small = measure("epizoo", args.fasta, n // 10)
    base_rate, our_rate = n / baseline["seconds"], n / ours["seconds"]
    print(f"FASTA {args.fasta}, {n:,} windows of {WIDTH} bp, float32 one-hot (ACGT)")
    print(f"kipoiseq FastaStringExtractor + one_hot_dna : {base_rate:12,.0f} windows/s  peak {baseline['peak_mib']:7.0f} MiB")
    print(f"epizoo Genome.one_hot_batch (batch {BATCH})     : {our_rate:12,.0f} windows/s  peak {ours['peak_mib']:7.0f} MiB")
    print(f"speed-up epizoo / kipoiseq: {our_rate / base_rate:.1f}x (target >= 10x)")
    print(
        f"epizoo peak RSS at {n // 10:,} vs {n:,} windows: {ours_small['peak_mib']:.0f} vs "
        f"{ours['peak_mib']:.0f} MiB (ratio {ours['peak_mib'] / ours_small['peak_mib']:.2f}; flat = 1.0)"
    )


if __name__ == "__main__":
    main()
