"""Avocado imputation and training speed at the paper's sizes (32 cell-type, 256 assay, 25/40/45 genome
factors, 2 x 2,048 ReLU), on the 1,126,469 positions of the ENCODE pilot regions.

* imputation: a whole (cell type, assay) track through `epizoo.plugins.impute.impute` (the entry's
  dataloader, its genome factors read from their checksummed shards, `epizoo.predict`), in float32
  and with bf16 autocast, against the dense network's float32 FLOP limit in the same run: the same
  three matrix products and ReLUs on the same number of rows, timed alone (about 10 MFLOP per bin).
  The three alternate in each of ``--repeats`` rounds and the fastest round of each is kept; the
  ratios are shares of the limit, and bf16's values are compared with float32's.
* training: positions per second of an epoch's batches (40,000 positions, each with a random
  observed track; forward, backward and an Adam step over every parameter, genome factors
  included), on the CPU, and on CUDA when there is a device.

The entry is made by `epizoo train avocado` itself (one step on the real pilot tracks), so its
shards, dataloader and layout are a trained entry's.

    EPIZOO_CACHE="$(mktemp -d)" python benchmarks/bench_avocado.py [--positions 1126469] [--repeats 3]
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import yaml

from rounds import interleaved, report

PILOT = Path(__file__).resolve().parents[2] / "shared" / "data" / "avocado" / "pilot"
CELLS = ["E003", "E017", "E065", "E116", "E117"]
MARKS = ["H3K4me3", "H3K27me3", "H3K36me3", "H3K9me3", "H3K4me1"]


def paper_sized_entry(folder: Path) -> Path:
    """An Avocado entry at the paper's sizes after one training step on the pilot tracks."""
    from epizoo.plugins.train.runs import load_config
    from epizoo.plugins.train.trainer import train

    config = {"recipe": "avocado", "data": {"tracks": [str(PILOT / f"{c}.{m}.pilot.arcsinh.npz") for c in CELLS
                                                       for m in MARKS],
                                            "test_tracks": ["E003.H3K4me3"], "eval_every": 1000},
              "model": {}, "training": {"max_epochs": 1, "steps_per_epoch": 1}}
    (folder / "run.yaml").write_text(yaml.safe_dump(config))
    return train(load_config(folder / "run.yaml"), folder / "entry", check=False, quiet=True)


def impute_track(entry: Path, bed: Path, batch_size: int, precision: str = "float32", keep: dict | None = None) -> float:
    from epizoo.plugins.impute import impute

    started = time.perf_counter()
    values = impute(entry, bed, "E116", "H3K4me1", batch_size=batch_size, device="cpu", precision=precision)["value"]
    seconds = time.perf_counter() - started
    if keep is not None:
        keep[precision] = values.to_numpy()
    return seconds


def matmul_limit(network, n: int, batch_size: int) -> float:
    """The dense layers' products alone on ``n`` rows: the FLOP limit of imputation."""
    layers = [m for m in [*network.dense, network.output] if isinstance(m, torch.nn.Linear)]
    weights = [layer.weight.detach().T.contiguous() for layer in layers]
    x = torch.randn(batch_size, weights[0].shape[0])
    started = time.perf_counter()
    with torch.no_grad():
        for _ in range(-(-n // batch_size)):
            h = x
            for k, w in enumerate(weights):
                h = h @ w
                if k < len(weights) - 1:
                    h = torch.relu(h)
    return time.perf_counter() - started


def training_rate(device: str, steps: int, batch_size: int) -> float:
    """Positions per second of training steps at the paper's sizes on ``device``."""
    from epizoo.zoo.Avocado.architecture import Avocado

    torch.manual_seed(0)
    network = Avocado(5, 5, 1_126_469).to(device)
    optimizer = torch.optim.Adam(network.parameters(), lr=0.001)
    generator = np.random.default_rng(0)
    batches = [[torch.from_numpy(generator.integers(0, high, batch_size)).to(device) for high in (5, 5, 1_126_469)]
               for _ in range(steps + 1)]
    targets = torch.rand(batch_size, 1, device=device)
    for k, (celltype, assay, position) in enumerate(batches):
        if k == 1:  # the first step warms up
            if device == "cuda":
                torch.cuda.synchronize()
            started = time.perf_counter()
        optimizer.zero_grad()
        torch.nn.functional.mse_loss(network(celltype, assay, position), targets).backward()
        optimizer.step()
    if device == "cuda":
        torch.cuda.synchronize()
    return steps * batch_size / (time.perf_counter() - started)


def main() -> None:
    from epizoo.kipoi_model import load_entry

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--positions", type=int, default=1_126_469, help="bins of the imputed track")
    parser.add_argument("--batch-size", type=int, default=40_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--train-steps", type=int, default=5)
    args = parser.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    with tempfile.TemporaryDirectory() as folder:
        entry = paper_sized_entry(Path(folder))
        bed = Path(folder) / "track.bed"
        bed.write_text(f"positions\t0\t{args.positions * 25}\n")
        network = load_entry(entry)[0]
        values: dict = {}
        runs = {"matmul": lambda: matmul_limit(network, args.positions, args.batch_size),
                "impute": lambda: impute_track(entry, bed, args.batch_size, "float32", values),
                "impute-bf16": lambda: impute_track(entry, bed, args.batch_size, "bf16", values)}
        best = report(interleaved(runs, args.repeats), args.positions, "bins")
    flops = 2 * sum(m.weight.numel() for m in [*network.dense, network.output] if isinstance(m, torch.nn.Linear))
    print(f"dense network: {flops / 1e6:.1f} MFLOP per bin; the limit runs at "
          f"{flops * args.positions / best['matmul'] / 1e9:.0f} GFLOP/s")
    print(f"imputation reaches {best['matmul'] / best['impute']:.2f} of the float32 FLOP limit "
          f"({args.positions / best['impute']:,.0f} bins/s; target 10,000)")
    difference = np.abs(values["bf16"] - values["float32"])
    print(f"bf16 imputation: {best['matmul'] / best['impute-bf16']:.2f} x the float32 limit "
          f"({args.positions / best['impute-bf16']:,.0f} bins/s); against float32 max |difference| "
          f"{difference.max():.3g}, mean {difference.mean():.3g}, r {np.corrcoef(values['bf16'], values['float32'])[0, 1]:.5f}")
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    for device in devices:
        rate = training_rate(device, args.train_steps, args.batch_size)
        print(f"training on {device}: {rate:,.0f} positions/s ({1_126_469 / rate:.0f} s per pilot epoch)")


if __name__ == "__main__":
    main()
