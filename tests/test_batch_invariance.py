"""A row's outputs do not depend on the other rows of its run: byte-equal across partitions.

CPU kernels chosen for other batch shapes round differently (in the 7th significant digit), so
`epizoo.predict` runs every forward pass at the same batch size, padding the last batch. These
tests partition the same rows (and the same variants) in different ways, under 1 and 2 torch
threads, and require identical bytes.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

from conftest import REPO
from epizoo import predict
from epizoo.registry import get_model

EXAMPLES = REPO / "examples"
FOXA1 = "FactorNet/FOXA1/onePeak_DGF"
ARGS = {"dnase_file": str(EXAMPLES / "dnase.bw")}


@pytest.fixture(params=[1, 2], ids=["1-thread", "2-threads"])
def threads(request):
    previous = torch.get_num_threads()
    torch.set_num_threads(request.param)
    yield request.param
    torch.set_num_threads(previous)


def _windows(n: int, seed: int = 0) -> np.ndarray:
    """``n`` random one-hot windows with a sparse DNase-like track, FactorNet's (1002, 5)."""
    rng = np.random.default_rng(seed)
    x = np.zeros((n, 1002, 5), np.float32)
    x[np.arange(n)[:, None], np.arange(1002), rng.integers(0, 4, (n, 1002))] = 1
    x[..., 4] = rng.random((n, 1002)) * (rng.random((n, 1002)) < 0.1)
    return x


def test_predict_gives_each_row_the_same_bytes_in_any_partition(mirror, threads):
    model = get_model(FOXA1, with_dataloader=False).model
    x = _windows(100)
    whole = predict(model, x, batch_size=32, device="cpu")
    for cut in (1, 3, 37, 64, 99):  # every one of these differed in some row before padding
        parts = torch.cat([predict(model, x[:cut], batch_size=32, device="cpu"),
                           predict(model, x[cut:], batch_size=32, device="cpu")])
        assert parts.numpy().tobytes() == whole.numpy().tobytes(), f"cut at {cut}"


def _vcf_parts(tmp_path, sizes: list[int]) -> list:
    lines = (EXAMPLES / "variants.vcf").read_text().splitlines(keepends=True)
    header = [line for line in lines if line.startswith("#")]
    records = [line for line in lines if not line.startswith("#")]
    paths, start = [], 0
    for k, size in enumerate([*sizes, len(records) - sum(sizes)]):
        paths.append(tmp_path / f"part{k}.vcf")
        paths[-1].write_text("".join(header + records[start:start + size]))
        start += size
    return paths


def test_variant_scores_are_the_same_bytes_whatever_the_other_variants(mirror, tmp_path, threads):
    from epizoo.plugins.veff import score_variants

    def scores(vcf, batch_size):
        frame = score_variants(FOXA1, vcf, EXAMPLES / "genome.fa", ARGS, scores=["ref", "alt", "diff"],
                               rc_merging="mean", batch_size=batch_size)
        return frame.drop(columns=["#CHROM", "POS", "ID", "REF", "ALT"]).to_numpy()

    whole = scores(EXAMPLES / "variants.vcf", 16)
    parts = np.concatenate([scores(vcf, 16) for vcf in _vcf_parts(tmp_path, [1, 6, 17])])
    assert whole.shape == parts.shape and whole.dtype == np.float32
    assert parts.tobytes() == whole.tobytes()
