"""Saturation mutagenesis of FactorNet-FOXA1 inputs: epizoo's batched ISM against the naive loop and
against tangermeme's `saturation_mutagenesis` on the same model, in one run.

* naive: one forward pass per mutant, the identity substitution included (the baseline);
* tangermeme 1.6: ``saturation_mutagenesis`` on the same network (an adapter takes its channels-first
  one-hot and the DNase track as an extra argument; ``fast=False``: its fast path does not cover an LSTM);
* epizoo: `epizoo.interpret.saturation_mutagenesis` (identities skipped, passes split evenly).

The three run one after the other in each of ``--repeats`` rounds, the order rotating; the fastest
round of each is reported, with the ratios that #13 targets (>= 3x naive, >= 1x tangermeme).

    EPIZOO_MIRROR=../shared/data python benchmarks/bench_ism.py [--sequences 1] [--positions 1002] [--repeats 3]

By default every position of one 1,002-bp input is mutated (3,006 mutants; the naive loop runs
4,008 single-row passes).
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import torch

import epizoo
from rounds import interleaved, report
from epizoo.plugins.interpret.ism import saturation_mutagenesis


class ChannelsFirstWithTrack(torch.nn.Module):
    """tangermeme's input form ``(n, 4, length)`` with the DNase track ``(n, length, 1)`` as an argument."""

    def __init__(self, network):
        super().__init__()
        self.network = network

    def forward(self, x, dnase):
        return self.network(torch.cat([x.transpose(1, 2), dnase], dim=2))


def inputs(n: int, length: int = 1002) -> np.ndarray:
    rng = np.random.default_rng(0)
    seq = np.zeros((n, length, 5), np.float32)
    seq[np.arange(n)[:, None], np.arange(length), rng.integers(0, 4, (n, length))] = 1
    seq[..., 4] = 0.05
    return seq


def naive(network, seq, first, stop) -> float:
    started = time.perf_counter()
    with torch.no_grad():
        for i in range(len(seq)):
            network(torch.from_numpy(seq[i:i + 1]))
            for p in range(first, stop):
                for base in range(4):
                    mutant = seq[i:i + 1].copy()
                    mutant[0, p, :4] = np.eye(4, dtype=np.float32)[base]
                    network(torch.from_numpy(mutant))
    return time.perf_counter() - started


def ours(network, seq, first, stop, batch_size) -> float:
    started = time.perf_counter()
    saturation_mutagenesis(network, seq, positions=(first, stop), batch_size=batch_size, device="cpu")
    return time.perf_counter() - started


def theirs(network, seq, first, stop, batch_size) -> float:
    from tangermeme.saturation_mutagenesis import saturation_mutagenesis as tangermeme_ism

    adapter = ChannelsFirstWithTrack(network)
    x = torch.from_numpy(np.ascontiguousarray(seq[..., :4].transpose(0, 2, 1)))
    dnase = torch.from_numpy(np.ascontiguousarray(seq[..., 4:]))
    started = time.perf_counter()
    tangermeme_ism(adapter, x, args=(dnase,), start=first, end=stop, batch_size=batch_size, device="cpu", fast=False)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sequences", type=int, default=1)
    parser.add_argument("--positions", type=int, default=1002, help="positions mutated, centred")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(max(1, torch.get_num_threads()))
    network = epizoo.get_model("FactorNet/FOXA1/onePeak_DGF", with_dataloader=False).model.eval()
    seq = inputs(args.sequences)
    first = 501 - args.positions // 2
    stop = first + args.positions
    runs = {"naive": lambda: naive(network, seq, first, stop),
            "tangermeme": lambda: theirs(network, seq, first, stop, args.batch_size),
            "epizoo": lambda: ours(network, seq, first, stop, args.batch_size)}
    times = interleaved(runs, args.repeats)
    mutants = args.sequences * args.positions * 3
    best = report(times, mutants, "mutants")
    print(f"epizoo vs naive: {best['naive'] / best['epizoo']:.2f}x; vs tangermeme: {best['tangermeme'] / best['epizoo']:.2f}x")


if __name__ == "__main__":
    main()
