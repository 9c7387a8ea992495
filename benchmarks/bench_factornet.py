"""FactorNet's forward pass against the machine's GEMM peak and against the code before it, stage by
stage; end-to-end variant effects before and after; and the prediction pipeline around the pass.

**Forward pass** (``FactorNet/FOXA1/onePeak_DGF``, ``--batch-size`` windows, both strands): the
forward pass of today's code and of ``FactorNet`` as it was at ``--baseline`` (same weights,
built from that revision's source by ``git_baseline.py``), each in ``--rounds`` fresh processes,
alternating (today's sets malloc as `epizoo.predict` does, `epizoo.cpu_memory`; the baseline's
did not). In each process the pass, each of its stages and ``torch.mm`` of two 2,048 x 2,048
float32 matrices (the GEMM peak) are timed in ``--repeats`` interleaved rounds. Printed: each
pass's ms, predictions/s and GFLOP/s (multiply-adds x 2, counted from the configuration), the
share of the same process's ``torch.mm`` peak, the ratio, the largest difference of the outputs;
then the stages (convolution, time-distributed dense, pooling, LSTM, dense layers; today's code
runs the first three chunk by chunk).

**End to end**: bench_veff.py's ``revision_report``: ``epizoo.score_variants`` (diff,
``rc_merging="mean"``) on ``--variants`` synthetic SNVs with today's network and the baseline's.

**Pipeline** (``--pipeline``): 200-bp bins over the example genome slice with the example DNase
track: the forward pass alone (``model(seq)``), the direct API (the entry's dataloader + Kipoi's
``predict_on_batch``), ``kipoi predict`` end to end (process start included) and the data path
alone, batch by batch, ``--repeats`` alternations of the whole pass and the CLI.

    EPIZOO_MIRROR=../shared/data python benchmarks/bench_factornet.py [--batch-size 256] [--repeats 5] [--rounds 3]
        [--baseline d9ea7e6] [--variants 4000] [--skip-forward | --skip-end-to-end] [--pipeline --regions 4000]
"""
from __future__ import annotations

import argparse
import json
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


# -- forward pass ------------------------------------------------------------------------------
def stage_flops(network, rows: int) -> dict[str, float]:
    """Floating-point operations (multiply-adds x 2) of each stage for ``rows`` strand windows."""
    config = network.config
    conv_len, steps = network.conv_length(network.seq_len), network.pooled_length(network.seq_len)
    features, hidden = config["td_units"] or config["conv_filters"], config["lstm_units"]
    flops = {"conv": conv_len * config["conv_filters"] * config["conv_width"] * config["n_channels"],
             "td": conv_len * config["conv_filters"] * (config["td_units"] or 0),
             "pool": 0,
             "lstm": steps * 2 * (features + hidden) * 4 * hidden,
             "dense": steps * (2 * hidden or features) * config["dense_units"] + config["dense_units"] * config["n_tasks"]}
    return {stage: 2.0 * rows * value for stage, value in flops.items()}


def stages(network, seq: torch.Tensor, chunked: bool) -> dict[str, callable]:
    """Each stage of ``network``'s forward pass on its own input (both strands' rows), as a
    callable; ``chunked``: the convolution, dense and pooling as the chunked path runs them."""
    from epizoo.zoo.FactorNet.architecture import reverse_complement

    both = torch.cat([seq, reverse_complement(seq)])
    conv = network._conv_act(network._conv_channels_last(both))
    dense_in = network._td_act(network.td(conv))
    pooled = network._max_pool(dense_in)
    recurrent = network.blstm(pooled)
    head = lambda: network.out(network._dense_act(network.dense(network.dropout(recurrent).flatten(1))))
    if chunked:
        return {"conv+td+pool": lambda: network.pooled_features(seq, reverse_complement(seq)),
                "lstm": lambda: network.blstm(pooled), "dense": head}
    return {"conv": lambda: network._conv_act(network._conv_channels_last(both)),
            "td": lambda: network._td_act(network.td(conv)), "pool": lambda: network._max_pool(dense_in),
            "lstm": lambda: network.blstm(pooled), "dense": head}


def timed(function) -> callable:
    def run() -> float:
        started = time.perf_counter()
        function()
        return time.perf_counter() - started
    return run


def contender_network(name: str, baseline: str):
    """The entry's network: today's, or its class at ``baseline``. A contender runs in its own
    process, and today's sets malloc as `epizoo.predict` does (`epizoo.cpu_memory`), which the
    baseline's code did not."""
    from epizoo.cpu_memory import reuse_freed_memory
    from epizoo.registry import get_model
    from git_baseline import network_at

    network = get_model(ENTRY, with_dataloader=False).model
    if name == "baseline":
        return network_at(baseline, network)
    reuse_freed_memory()
    return network


def forward_worker(args: argparse.Namespace) -> dict:
    """Best seconds of the forward pass, its stages and torch.mm, over ``--repeats`` interleaved rounds."""
    from rounds import interleaved

    network = contender_network(args.worker, args.baseline)
    generator = torch.Generator().manual_seed(0)
    bases = torch.nn.functional.one_hot(torch.randint(0, 4, (args.batch_size, network.seq_len), generator=generator), 4)
    seq = torch.cat([bases.float(), torch.rand(args.batch_size, network.seq_len, network.n_channels - 4, generator=generator)], -1)
    a, b = torch.randn(2048, 2048, generator=generator), torch.randn(2048, 2048, generator=generator)
    with torch.inference_mode():
        runs = {"torch.mm": timed(lambda: torch.mm(a, b)), "forward": timed(lambda: network(seq))}
        runs |= {name: timed(stage) for name, stage in stages(network, seq, chunked=args.worker == "epizoo").items()}
        for run in runs.values():
            run()  # warm-up
        best = {name: min(times) for name, times in interleaved(runs, args.repeats).items()}
        best["outputs"] = network(seq)[:, 0].tolist()
    return best


def forward_report(args: argparse.Namespace) -> None:
    from epizoo.registry import get_model
    from git_baseline import in_rounds

    results = in_rounds(__file__, ["--batch-size", str(args.batch_size), "--repeats", str(args.repeats),
                         "--baseline", args.baseline], args.rounds)
    best = {name: {key: min(r[key] for r in runs) for key in runs[0] if key != "outputs"} for name, runs in results.items()}
    difference = max(abs(x - y) for x, y in zip(results["epizoo"][0]["outputs"], results["baseline"][0]["outputs"]))
    flops = stage_flops(get_model(ENTRY, with_dataloader=False).model, 2 * args.batch_size)
    total = sum(flops.values())
    print(f"{ENTRY}: batch {args.batch_size} windows x 2 strands, {torch.get_num_threads()} threads, CPU; "
          f"best of {args.rounds} processes x {args.repeats} interleaved rounds each; baseline = FactorNet at {args.baseline}")
    for name in ("baseline", "epizoo"):
        peak = 2 * 2048 ** 3 / best[name]["torch.mm"] / 1e9
        seconds = best[name]["forward"]
        print(f"forward pass, {name:8s}: {1e3 * seconds:7.1f} ms  {args.batch_size / seconds:7,.0f} predictions/s  "
              f"{total / seconds / 1e9:6.1f} GFLOP/s = {total / seconds / 1e9 / peak:4.0%} of torch.mm's "
              f"{peak:.0f} GFLOP/s in the same process")
    print(f"epizoo / baseline: {best['baseline']['forward'] / best['epizoo']['forward']:.2f}x predictions/s; "
          f"largest |difference| of the outputs {difference:.1e}")
    print("\nstage          FLOP share   baseline ms (GFLOP/s)   epizoo ms (GFLOP/s)")
    groups = {"conv": ("conv",), "td": ("td",), "pool": ("pool",), "lstm": ("lstm",), "dense": ("dense",),
              "conv+td+pool": ("conv", "td", "pool")}
    for stage, parts in groups.items():
        work = sum(flops[part] for part in parts)
        cells = []
        for name in ("baseline", "epizoo"):
            seconds = best[name].get(stage)
            if seconds is None and name == "baseline" and len(parts) > 1:
                seconds = sum(best[name][part] for part in parts)
            cells.append(f"{1e3 * seconds:9.1f} ({work / seconds / 1e9:6.1f})" if seconds else f"{'-':>9s} {'':8s}")
        print(f"{stage:14s} {work / total:9.0%}   {cells[0]:>20s}   {cells[1]:>20s}")
    for name, stage_names in (("baseline", ("conv", "td", "pool", "lstm", "dense")), ("epizoo", ("conv+td+pool", "lstm", "dense"))):
        rest = best[name]["forward"] - sum(best[name][stage] for stage in stage_names)
        print(f"{name}: {1e3 * rest:.1f} ms of the pass in none of its stages (strands, copies, concatenations)")


# -- pipeline ------------------------------------------------------------------------------------
def pipeline_report(args: argparse.Namespace) -> None:
    from epizoo.registry import get_model

    model = get_model(ENTRY)
    seconds = {"forward": [], "api": [], "data": [], "cli": []}
    with tempfile.TemporaryDirectory() as folder:
        bed = write_regions(Path(folder) / "regions.bed", args.regions)
        time_in_process(model, bed, args.pipeline_batch_size)  # warm-up
        for _ in range(args.repeats):
            for name, value in time_in_process(model, bed, args.pipeline_batch_size).items():
                seconds[name].append(value)
            seconds["cli"].append(time_kipoi_cli(bed, args.pipeline_batch_size, Path(folder) / "preds.tsv"))
    n = args.regions
    print()
    for name, values in seconds.items():
        print(f"  {name}: {', '.join(f'{n / v:,.0f}' for v in sorted(values))} per s over {args.repeats} repetitions")
    forward, api, data, cli = (min(seconds[name]) for name in ("forward", "api", "data", "cli"))
    print(f"{ENTRY}, {n:,} regions of 1,002 bp, batch {args.pipeline_batch_size}, {torch.get_num_threads()} threads, CPU; "
          f"best of {args.repeats} interleaved repetitions")
    print(f"forward pass alone (baseline) : {n / forward:9,.0f} predictions/s")
    print(f"direct API (dataloader+model) : {n / api:9,.0f} predictions/s  ({forward / api:.2f}x the forward pass alone)")
    print(f"kipoi predict, end to end     : {n / cli:9,.0f} predictions/s  ({forward / cli:.2f}x; includes ~3 s of start-up)")
    print(f"data path alone               : {n / data:9,.0f} regions/s -> costs {data / forward:.2f} of the forward pass (target < 1)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batch-size", type=int, default=256, help="windows of the forward-pass comparison (256)")
    parser.add_argument("--repeats", type=int, default=5, help="interleaved rounds within a process (5)")
    parser.add_argument("--rounds", type=int, default=3, help="processes per contender, alternating (3)")
    parser.add_argument("--baseline", default="d9ea7e6", help="git revision of the baseline FactorNet (d9ea7e6: "
                        "the forward pass before the speed work)")
    parser.add_argument("--variants", type=int, default=4000, help="SNVs of the end-to-end comparison (4,000)")
    parser.add_argument("--veff-batch-size", type=int, default=64, help="variants per batch, end to end (score-variants' default 64)")
    parser.add_argument("--end-to-end-rounds", type=int, default=3)
    parser.add_argument("--skip-forward", action="store_true")
    parser.add_argument("--skip-end-to-end", action="store_true")
    parser.add_argument("--pipeline", action="store_true", help="also the dataloader / API / kipoi predict comparison")
    parser.add_argument("--regions", type=int, default=4000, help="regions of the pipeline comparison")
    parser.add_argument("--pipeline-batch-size", type=int, default=128)
    parser.add_argument("--worker", choices=["baseline", "epizoo"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(forward_worker(args)))
        return
    if not args.skip_forward:
        forward_report(args)
    if not args.skip_end_to_end:
        from bench_veff import revision_report

        revision_report(args.baseline, args.variants, args.veff_batch_size, args.end_to_end_rounds)
    if args.pipeline:
        pipeline_report(args)


if __name__ == "__main__":
    os.environ.setdefault("EPIZOO_MIRROR", str(REPO.parent / "shared" / "data"))
    main()
