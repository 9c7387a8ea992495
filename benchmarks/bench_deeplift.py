"""DeepLiftShap of TFTransfer-JUND inputs: epizoo's `attribute(..., "deep_lift_shap")` against tangermeme's
own `deep_lift_shap` on the same model, in one run.

Both draw 20 dinucleotide-shuffled references per sequence with tangermeme's `dinucleotide_shuffle`
and run 256 (sequence, reference) pairs per pass; epizoo's pass also checks summation-to-delta for
every pair and attributes every float input. The two run one after the other in each of
``--repeats`` rounds, the order alternating; the fastest round of each is reported, in sequences/s,
with the ratio.

    EPIZOO_MIRROR=../shared/data python benchmarks/bench_deeplift.py [--sequences 64] [--repeats 3]
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import torch

import epizoo
from rounds import interleaved, report
from epizoo.plugins.interpret.attributions import attribute


def inputs(n: int, length: int = 200) -> np.ndarray:
    """Random one-hot sequences, channels first (the entry's layout)."""
    x = np.zeros((n, 4, length), np.float32)
    x[np.arange(n)[:, None], np.random.default_rng(0).integers(0, 4, (n, length)), np.arange(length)] = 1
    return x


def ours(network, x, n_shuffles, batch_size) -> float:
    started = time.perf_counter()
    attribute(network, x, "deep_lift_shap", sequence_inputs=1, n_shuffles=n_shuffles, batch_size=batch_size,
              device="cpu")
    return time.perf_counter() - started


def theirs(network, x, n_shuffles, batch_size) -> float:
    from tangermeme.deep_lift_shap import deep_lift_shap

    started = time.perf_counter()
    deep_lift_shap(network, torch.from_numpy(x), n_shuffles=n_shuffles, batch_size=batch_size, device="cpu",
                   random_state=0)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sequences", type=int, default=64)
    parser.add_argument("--n-shuffles", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=256, help="(sequence, reference) pairs per pass")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    network = epizoo.get_model("TFTransfer/JUND_finetuned", with_dataloader=False).model.eval()
    x = inputs(args.sequences)
    runs = {"tangermeme": lambda: theirs(network, x, args.n_shuffles, args.batch_size),
            "epizoo": lambda: ours(network, x, args.n_shuffles, args.batch_size)}
    best = report(interleaved(runs, args.repeats), args.sequences, "sequences")
    print(f"epizoo vs tangermeme: {best['tangermeme'] / best['epizoo']:.2f}x")


if __name__ == "__main__":
    main()
