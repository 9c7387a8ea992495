"""The background genome: i.i.d. bases, runs of N, soft-masked stretches."""
from __future__ import annotations

import numpy as np

from .config import N_CODE, SimulationConfig
from .pwm import background_probabilities


def build_genome(
    rng: np.random.Generator, config: SimulationConfig
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Base codes (0..3 = ACGT, 4 = N) and the soft-mask of each chromosome ``chr1, ...``."""
    chroms = [f"chr{i + 1}" for i in range(config.n_chroms)]
    genome = {c: _background(rng, config.chrom_length, config.gc) for c in chroms}
    _add_n_runs(rng, genome, config.n_runs_per_chrom)
    soft_mask = {c: _soft_mask(rng, len(s), config.masked_per_chrom) for c, s in genome.items()}
    return genome, soft_mask


def _background(rng: np.random.Generator, length: int, gc: float) -> np.ndarray:
    """i.i.d. base codes (0..3 = ACGT)."""
    cut = np.cumsum(background_probabilities(gc))[:3]
    return np.searchsorted(cut, rng.random(length), side="right").astype(np.uint8)


def _add_n_runs(rng: np.random.Generator, genome: dict[str, np.ndarray], per_chrom: int) -> None:
    for codes in genome.values():
        lengths = rng.integers(20, 201, size=per_chrom)
        starts = rng.integers(0, len(codes) - lengths)
        for start, length in zip(starts, lengths):
            codes[start : start + length] = N_CODE


def _soft_mask(rng: np.random.Generator, length: int, count: int) -> np.ndarray:
    lengths = rng.integers(100, 801, size=count)
    starts = rng.integers(0, np.maximum(length - lengths, 1))
    return interval_mask(length, starts, np.minimum(starts + lengths, length))


def interval_mask(length: int, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Boolean mask of the union of ``[starts, ends)`` (clipped to the sequence)."""
    delta = np.zeros(length + 1, dtype=np.int64)
    np.add.at(delta, np.clip(starts, 0, length), 1)
    np.add.at(delta, np.clip(ends, 0, length), -1)
    return np.cumsum(delta[:-1]) > 0
