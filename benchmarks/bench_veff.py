"""Variant effects/s: `epizoo score-variants` against a re-creation of kipoi-veff's strategy.

Both score the same synthetic SNVs with the same FactorNet entry (``FactorNet/FOXA1/onePeak_DGF``:
1,002-bp windows, one-hot ACGT + a DNase track), score ``diff`` merged over strands with
``rc_merging="mean"``, and write a TSV, in one run. The data are made in a temporary folder with a
fixed seed: epizoo's simulator writes a 2 x 1 Mb genome and its DNase bigWigs, and the SNVs are
drawn at A/C/G/T positions at least 2 kb from the chromosome ends (REF from the genome, sorted).

* baseline, kipoi-veff's strategy (kipoi_veff ``analyse_model_preds`` + kipoi-veff2's window
  convention): the VCF read with cyvcf2; per variant, kipoiseq ``VariantSeqExtractor`` over a
  ``FastaStringExtractor`` builds the ref and alt windows of ``Interval(chrom, pos - 1,
  pos).resize(1002)`` (alt anchored at the centre; ``force_upper`` and N -> 0, the entry's own
  encoding, so that both tools see identical inputs), ``one_hot_dna`` encodes each, pyBigWig reads
  the window's DNase values, and the reverse complements are built per variant; per batch, FOUR
  separate ``predict_on_batch`` calls (ref, alt, ref_rc, alt_rc), ``diff`` per strand merged by
  mean, rows appended through a pandas DataFrame and ``to_csv`` (kipoi-veff's writers);
* epizoo: ``epizoo.score_variants(...)`` in float32 and with ``precision="bf16"``: batched
  windows, ref and alt in one forward pass (FactorNet averages its strands itself, so the
  reverse complements need no pass of their own), prefetch of the next batch in a thread.

Printed: variants/s of each and the ratio epizoo/baseline (target >= 10), the share of epizoo's
wall time spent outside the model's forward pass (``EntryModel.predict`` is wrapped with a timer
in this process; target < 25%), the largest difference of the ``diff`` scores between the
baseline and epizoo (same windows, so ~1e-6 or less) and between bf16 and float32, and the
forward pass's own windows/s in each tool (FactorNet-sized models are forward-bound on a CPU, so
the ratio is bounded by the forward passes per variant: 4 windows for the baseline, 2 for epizoo,
less a little for the baseline's smaller forward batches). Throughput is
measured on the scoring loop (model loading excluded for both). The baseline may run on a prefix
of the VCF (``--baseline-variants``); variants/s are then compared across different counts, and
the output says so.

Memory: peak RSS (``os.wait4`` of a fresh ``python -m epizoo score-variants`` process) on 10^4
and on ``--memory-variants`` SNVs; streaming with bounded buffers keeps the two within 20%.

    EPIZOO_MIRROR=../shared/data python benchmarks/bench_veff.py \
        [--variants 20000] [--baseline-variants 5000] [--repeats 3] [--memory-variants 1000000] \
        [--skip-memory | --skip-throughput] [--batch-size 64] [--device cpu|cuda] [--revision d9ea7e6]

``--revision REV`` first compares epizoo end to end with itself as it was at REV: today's code
against the networks' classes at that revision (same weights, built by git_baseline.py), each run
in a fresh process (the contenders differ in how they leave malloc, epizoo.cpu_memory), alternating
for ``--revision-rounds`` rounds (d9ea7e6: FactorNet's forward pass before it ran twice as fast).

The baseline and epizoo (float32, bf16) run ``--repeats`` times each, interleaved round-robin, and
each one's best run is reported (with the spread of all), so that a load on the machine slows
every contender alike instead of faking a ratio. On 2 CPU cores the throughput part takes ~3.5 minutes; the memory part ~20 minutes with its
default 10^6 variants (``--memory-variants 100000``: ~2 minutes). On a GPU, ``--device cuda``
runs epizoo there (the baseline stays where Kipoi puts the model).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch

REPO = Path(__file__).resolve().parents[1]
ENTRY = "FactorNet/FOXA1/onePeak_DGF"
WIDTH = 1002
MARGIN = 2_000  # keep windows inside the chromosomes (no N padding on either side)
RC_CHANNELS = [3, 2, 1, 0, 4]  # A, C, G, T, DNase -> T, G, C, A, DNase


@dataclass
class Inputs:
    """The synthetic genome, its DNase track, and the folder the VCFs go to."""

    fasta: Path
    dnase: Path
    folder: Path


@dataclass
class Run:
    """One timed scoring run: variants scored, loop seconds, seconds in the forward pass."""

    variants: int
    seconds: float
    forward: float
    out: Path

    @property
    def rate(self) -> float:
        return self.variants / self.seconds

    @property
    def outside(self) -> float:
        return 1.0 - self.forward / self.seconds


# -- data ------------------------------------------------------------------------------------
def make_inputs(folder: Path, seed: int, chrom_length: int) -> Inputs:
    """Simulate a seeded 2-chromosome genome with DNase tracks (epizoo's simulator)."""
    from epizoo.dataloaders.simulate import simulate

    sim = simulate(folder / "sim", seed=seed, n_chroms=2, chrom_length=chrom_length)
    return Inputs(sim.fasta, next(iter(sim.dnase_bigwigs.values())), folder)


def write_vcf(inputs: Inputs, n: int, seed: int) -> Path:
    """A sorted VCF of ``n`` SNVs at A/C/G/T positions, REF from the genome, ALT another base."""
    from epizoo.dataloaders.genome import Genome

    path = inputs.folder / f"snvs_{n}.vcf"
    if path.exists():
        return path
    genome = Genome(inputs.fasta)
    rng = np.random.default_rng(seed)
    chroms = sorted(genome.lengths)
    per_chrom = np.bincount(rng.integers(0, len(chroms), n), minlength=len(chroms))
    with open(path, "w") as handle:
        handle.write("##fileformat=VCFv4.2\n")
        handle.writelines(f"##contig=<ID={c},length={genome.lengths[c]}>\n" for c in chroms)
        handle.write("#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n")
        for chrom, count in zip(chroms, per_chrom):
            handle.writelines(_snv_lines(genome.chromosome(chrom), chrom, int(count), rng))
    return path


def _snv_lines(sequence: np.ndarray, chrom: str, n: int, rng: np.random.Generator) -> list[str]:
    candidates = np.flatnonzero(np.isin(sequence[MARGIN:-MARGIN], np.frombuffer(b"ACGT", np.uint8))) + MARGIN
    starts = np.sort(rng.choice(candidates, n, replace=n > len(candidates)))
    refs = sequence[starts].tobytes().decode()
    shifts = rng.integers(1, 4, n)
    alts = ["ACGT"[("ACGT".index(r) + s) % 4] for r, s in zip(refs, shifts)]
    return [f"{chrom}\t{p + 1}\t{chrom}_{p + 1}_{r}_{a}\t{r}\t{a}\t.\t.\t.\n"
            for p, r, a in zip(starts.tolist(), refs, alts)]


# -- the kipoi-veff strategy ---------------------------------------------------------------------
class KipoiVeffBaseline:
    """kipoi-veff's way: per-variant kipoiseq windows, four ``predict_on_batch`` per batch.

    Parameters
    ----------
    kipoi_model
        The entry as Kipoi loads it.
    fasta, dnase
        Reference genome and DNase bigWig.
    batch_size
        Variants per batch.
    """

    def __init__(self, kipoi_model, fasta: Path, dnase: Path, batch_size: int) -> None:
        import pyBigWig
        from kipoiseq.extractors import FastaStringExtractor, VariantSeqExtractor

        self.model = kipoi_model
        reference = FastaStringExtractor(str(fasta), use_strand=True, force_upper=True)
        self.extractor = VariantSeqExtractor(reference_sequence=reference)
        self.bigwig = pyBigWig.open(str(dnase))
        self.batch_size = batch_size
        self.forward = 0.0
        labels = kipoi_model.schema.targets.column_labels or ["0"]
        self.columns = ["#CHROM", "POS", "ID", "REF", "ALT"] + [f"{ENTRY}/is_binding_site/{t}/diff" for t in labels]

    def sample(self, variant) -> tuple[np.ndarray, ...]:
        """ref, alt, ref_rc, alt_rc inputs ``(1002, 5)`` of one kipoiseq Variant."""
        from kipoiseq import Interval
        from kipoiseq.transforms.functional import one_hot_dna

        interval = Interval(variant.chrom, variant.pos - 1, variant.pos).resize(WIDTH)
        ref = self.extractor.extract(interval, variants=[], anchor=WIDTH)
        alt = self.extractor.extract(interval, variants=[variant], anchor=interval.center())
        dnase = np.nan_to_num(self.bigwig.values(interval.chrom, interval.start, interval.end, numpy=True))
        track = dnase.astype(np.float32)[:, None]
        ref_x = np.concatenate([one_hot_dna(ref, neutral_value=0.0), track], axis=1)
        alt_x = np.concatenate([one_hot_dna(alt, neutral_value=0.0), track], axis=1)
        return ref_x, alt_x, ref_x[::-1, RC_CHANNELS], alt_x[::-1, RC_CHANNELS]

    def predict(self, x: np.ndarray) -> np.ndarray:
        """One ``predict_on_batch`` call, timed: ``(batch, n_tasks)``."""
        started = time.perf_counter()
        prediction = self.model.predict_on_batch({"seq": x})
        self.forward += time.perf_counter() - started
        return np.asarray(prediction).reshape(len(x), -1)

    def score_batch(self, variants: list, samples: list[tuple[np.ndarray, ...]]) -> pd.DataFrame:
        """Four forward passes, per-strand ``diff`` merged by mean, as one DataFrame."""
        ref, alt, ref_rc, alt_rc = (self.predict(np.stack(s)) for s in zip(*samples))
        diff = ((alt - ref) + (alt_rc - ref_rc)) / 2
        identity = [[v.chrom, v.pos, v.id, v.ref, v.alt] for v in variants]
        return pd.DataFrame([row + list(d) for row, d in zip(identity, diff)], columns=self.columns)

    def run(self, vcf: Path, out: Path, limit: int) -> Run:
        """Score the first ``limit`` variants of ``vcf`` into ``out`` (TSV)."""
        from cyvcf2 import VCF
        from kipoiseq import Variant

        self.forward = 0.0
        started, n = time.perf_counter(), 0
        with open(out, "w") as handle:
            handle.write("\t".join(self.columns) + "\n")
            variants, samples = [], []
            for record in VCF(str(vcf)):
                if n >= limit:
                    break
                variant = Variant.from_cyvcf(record)
                variants.append(variant)
                samples.append(self.sample(variant))
                n += 1
                if len(variants) == self.batch_size:
                    self._write(handle, variants, samples)
                    variants, samples = [], []
            if variants:
                self._write(handle, variants, samples)
        return Run(n, time.perf_counter() - started, self.forward, out)

    def _write(self, handle, variants: list, samples: list) -> None:
        """Score a batch and append its rows (pandas ``to_csv``, as kipoi-veff's TSV writer)."""
        frame = self.score_batch(variants, samples)
        frame.to_csv(handle, sep="\t", header=False, index=False, float_format="%.8g")


# -- epizoo --------------------------------------------------------------------------------------
@contextmanager
def forward_timer() -> Iterator[list[float]]:
    """Wrap `EntryModel.predict` so that its seconds add up in the yielded one-item list."""
    from epizoo.plugins.veff.entry_model import EntryModel

    original, total = EntryModel.predict, [0.0]

    def timed(self, inputs, **kwargs):
        started = time.perf_counter()
        try:
            return original(self, inputs, **kwargs)
        finally:
            total[0] += time.perf_counter() - started

    EntryModel.predict = timed
    try:
        yield total
    finally:
        EntryModel.predict = original


def run_epizoo(inputs: Inputs, vcf: Path, precision: str, batch_size: int, device: str | None) -> Run:
    """`epizoo.score_variants` on ``vcf`` (diff, rc_merging mean) with the forward pass timed."""
    import epizoo

    out = inputs.folder / f"epizoo_{precision}.tsv"
    with forward_timer() as forward:
        summary = epizoo.score_variants(
            [ENTRY], vcf, inputs.fasta, {"dnase_file": str(inputs.dnase)}, scores=["diff"],
            rc_merging="mean", out=out, batch_size=batch_size, device=device, precision=precision,
        )
    if summary.n_rejected:
        raise RuntimeError(f"epizoo rejected {summary.n_rejected} synthetic SNVs: {summary.rejected}")
    return Run(summary.scored, summary.seconds, forward[0], out)


def score_difference(a: Path, b: Path, rows: int | None = None) -> tuple[float, float]:
    """Largest difference of the ``diff`` columns of two TSVs (their first ``rows`` rows), and
    that difference relative to the largest ``|diff|`` of ``b``."""
    left, right = pd.read_csv(a, sep="\t", nrows=rows), pd.read_csv(b, sep="\t", nrows=rows)
    if len(left) != len(right) or not (left["POS"].to_numpy() == right["POS"].to_numpy()).all():
        raise RuntimeError(f"{a.name} and {b.name} do not list the same variants")
    reference = right[[c for c in right.columns if c.endswith("/diff")]].to_numpy()
    largest = float(np.abs(left[[c for c in left.columns if c.endswith("/diff")]].to_numpy() - reference).max())
    return largest, largest / max(float(np.abs(reference).max()), 1e-30)


# -- memory --------------------------------------------------------------------------------------
def peak_rss_mib(inputs: Inputs, vcf: Path, batch_size: int, device: str | None) -> tuple[float, float]:
    """(peak RSS in MiB, seconds) of a fresh ``python -m epizoo score-variants`` on ``vcf``."""
    command = [sys.executable, "-m", "epizoo", "--quiet", "score-variants", ENTRY, "--vcf", str(vcf),
               "--fasta", str(inputs.fasta), "--dataloader-args", json.dumps({"dnase_file": str(inputs.dnase)}),
               "--rc-merging", "mean", "--batch-size", str(batch_size),
               "--out", str(inputs.folder / f"memory_{vcf.stem}.tsv")]
    if device:
        command += ["--device", device]
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=REPO)
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode:
        raise RuntimeError(f"{' '.join(command)} failed with exit code {process.returncode}")
    return usage.ru_maxrss / 1024, time.perf_counter() - started


def memory_report(inputs: Inputs, args: argparse.Namespace) -> None:
    small = write_vcf(inputs, 10_000, args.seed)
    large = write_vcf(inputs, args.memory_variants, args.seed)
    peaks = {}
    for n, vcf in ((10_000, small), (args.memory_variants, large)):
        peaks[n], seconds = peak_rss_mib(inputs, vcf, args.batch_size, args.device)
        print(f"peak RSS of `epizoo score-variants` (fresh process), {n:>9,} variants: "
              f"{peaks[n]:6.0f} MiB ({seconds:.0f} s)")
    ratio = peaks[args.memory_variants] / peaks[10_000]
    print(f"peak RSS ratio {args.memory_variants:,} / 10,000 variants: {ratio:.2f} (target <= 1.20)")


# -- report --------------------------------------------------------------------------------------
def throughput_report(inputs: Inputs, args: argparse.Namespace) -> None:
    from epizoo.registry import get_model

    vcf = write_vcf(inputs, args.variants, args.seed)
    n_base = min(args.baseline_variants, args.variants)
    baseline = KipoiVeffBaseline(get_model(ENTRY), inputs.fasta, inputs.dnase, args.batch_size)
    contenders = {
        "baseline": lambda: baseline.run(vcf, inputs.folder / "baseline.tsv", n_base),
        "float32": lambda: run_epizoo(inputs, vcf, "float32", args.batch_size, args.device),
        "bf16": lambda: run_epizoo(inputs, vcf, "bf16", args.batch_size, args.device),
    }
    best = best_of(contenders, args.repeats)
    base, f32, bf16 = best["baseline"], best["float32"], best["bf16"]
    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    print(f"{ENTRY}: {args.variants:,} synthetic SNVs, windows of {WIDTH:,} bp, diff with rc_merging=mean, "
          f"batch {args.batch_size} variants, {torch.get_num_threads()} torch threads, epizoo on {device}; "
          f"best of {args.repeats} interleaved repetitions")
    prefix = f" (first {n_base:,} variants of the same VCF)" if n_base < args.variants else ""
    print(f"baseline, kipoi-veff strategy{prefix}: {base.rate:8,.0f} variants/s  "
          f"({base.outside:.0%} of its time outside the forward pass)")
    for name, run in (("float32", f32), ("bf16   ", bf16)):
        print(f"epizoo score_variants, {name} ({run.variants:,} variants): {run.rate:8,.0f} variants/s  "
              f"= {run.rate / base.rate:5.2f}x baseline (target >= 10); "
              f"{run.outside:.1%} of wall time outside the forward pass (target < 25%)")
    print(f"forward pass alone: baseline {4 * base.variants / base.forward:,.0f} windows/s (4 windows/variant), "
          f"epizoo float32 {2 * f32.variants / f32.forward:,.0f} windows/s (2 windows/variant: the model "
          "averages its strands itself, so no reverse-complement windows)")
    for label, (a, b, rows) in {f"baseline vs epizoo float32 (first {n_base:,})": (base.out, f32.out, n_base),
                                f"epizoo bf16 vs float32 ({args.variants:,})": (bf16.out, f32.out, None)}.items():
        largest, relative = score_difference(a, b, rows)
        print(f"max |difference| of diff scores, {label}: {largest:.2e} ({relative:.1e} of the largest |diff|)")


def revision_report(revision: str, n: int, batch_size: int, rounds: int) -> None:
    """End to end, epizoo today against epizoo with the networks' classes as at ``revision`` (the
    same weights; its malloc left as it was then), each run in a fresh process, alternating."""
    from git_baseline import in_rounds

    with tempfile.TemporaryDirectory(prefix="bench_veff_revision_") as folder:
        inputs = make_inputs(Path(folder), 0, 1_000_000)
        vcf = write_vcf(inputs, n, 0)
        results = in_rounds(__file__, ["--revision-run", json.dumps([str(inputs.fasta), str(inputs.dnase), str(vcf)]),
                                       "--revision", revision, "--batch-size", str(batch_size)], rounds)
        rates = {name: [r["variants"] / r["seconds"] for r in runs] for name, runs in results.items()}
        largest, relative = score_difference(Path(results["epizoo"][0]["out"]), Path(results["baseline"][0]["out"]))
    print(f"\nepizoo.score_variants, {n:,} SNVs, diff with rc_merging=mean, batch {batch_size} variants, CPU: today "
          f"against the networks at {revision}; best of {rounds} runs, each in its own process, alternating")
    for name, runs in results.items():
        share = min(r["forward"] / r["seconds"] for r in runs)
        print(f"{name:8s}: {max(rates[name]):7,.0f} variants/s ({share:.0%} of the time in the forward pass; "
              f"every run: {', '.join(f'{r:,.0f}' for r in rates[name])})")
    print(f"epizoo / baseline: {max(rates['epizoo']) / max(rates['baseline']):.2f}x variants/s; largest |difference| "
          f"of the diff scores {largest:.1e} ({relative:.1e} of the largest |diff|)")


def revision_worker(args: argparse.Namespace) -> dict:
    """One run of `revision_report`: ``args.worker`` is baseline (networks at ``args.revision``) or epizoo."""
    from git_baseline import veff_networks_at

    fasta, dnase, vcf = map(Path, json.loads(args.revision_run))
    inputs = Inputs(fasta, dnase, vcf.parent)
    if args.worker == "baseline":
        os.environ["EPIZOO_MALLOC"] = "system"  # as before epizoo.predict set it (epizoo.cpu_memory)
        with veff_networks_at(args.revision):
            run = run_epizoo(inputs, vcf, "float32", args.batch_size, "cpu")
    else:
        run = run_epizoo(inputs, vcf, "float32", args.batch_size, "cpu")
    out = run.out.rename(vcf.parent / f"{args.worker}.tsv")
    return {"variants": run.variants, "seconds": run.seconds, "forward": run.forward, "out": str(out)}


def best_of(contenders: dict, repeats: int) -> dict[str, Run]:
    """Run each contender ``repeats`` times, round-robin (so that a passing load slows all of
    them alike), and keep each one's fastest run; the spread of each is printed."""
    runs: dict[str, list[Run]] = {name: [] for name in contenders}
    for _ in range(repeats):
        for name, contender in contenders.items():
            runs[name].append(contender())
    for name, done in runs.items():
        rates = sorted(run.rate for run in done)
        print(f"  {name}: {', '.join(f'{r:,.0f}' for r in rates)} variants/s over {repeats} repetitions")
    return {name: max(done, key=lambda run: run.rate) for name, done in runs.items()}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--variants", type=int, default=20_000, help="SNVs scored by epizoo (default 20,000)")
    parser.add_argument("--repeats", type=int, default=3, help="interleaved repetitions; the best of each is kept (3)")
    parser.add_argument("--baseline-variants", type=int, default=5_000,
                        help="prefix of the same VCF scored by the baseline (default 5,000)")
    parser.add_argument("--memory-variants", type=int, default=1_000_000,
                        help="large VCF of the peak-RSS comparison against 10,000 variants (default 10^6)")
    parser.add_argument("--skip-memory", action="store_true", help="only the throughput part")
    parser.add_argument("--skip-throughput", action="store_true", help="only the memory part")
    parser.add_argument("--batch-size", type=int, default=64, help="variants per batch, both tools (default 64)")
    parser.add_argument("--device", help="epizoo's device (default: cuda when available)")
    parser.add_argument("--chrom-length", type=int, default=1_000_000, help="bases per simulated chromosome (2)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--revision", help="also compare end to end with the networks as at this git revision "
                        "(e.g. d9ea7e6, FactorNet before the forward-pass work)")
    parser.add_argument("--revision-rounds", type=int, default=3)
    parser.add_argument("--worker", choices=["baseline", "epizoo"], help=argparse.SUPPRESS)
    parser.add_argument("--revision-run", help=argparse.SUPPRESS)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    if args.worker:
        print(json.dumps(revision_worker(args)))
        return
    if args.revision:
        revision_report(args.revision, args.variants, args.batch_size, args.revision_rounds)
    with tempfile.TemporaryDirectory(prefix="bench_veff_") as folder:
        inputs = make_inputs(Path(folder), args.seed, args.chrom_length)
        if not args.skip_throughput:
            throughput_report(inputs, args)
        if not args.skip_memory:
            memory_report(inputs, args)


if __name__ == "__main__":
    os.environ.setdefault("EPIZOO_MIRROR", str(REPO.parent / "shared" / "data"))
    main()
