"""Site placement: slots, planted motif instances and their scores."""
from __future__ import annotations

import numpy as np
import pandas as pd

from epizoo.dataloaders.motifs import Motif

from .config import LETTERS, N_CODE, SimulationConfig
from .pwm import log_odds, sample_instances


def place_sites(
    rng: np.random.Generator, genome: dict[str, np.ndarray], motifs: dict[str, Motif],
    config: SimulationConfig,
) -> pd.DataFrame:
    """The site table without cell columns; ``codes`` holds each sampled sequence."""
    frames = [_chrom_sites(rng, chrom, codes, motifs, config) for chrom, codes in genome.items()]
    sites = pd.concat(frames, ignore_index=True)
    sites.insert(0, "site_id", [f"site_{i:05d}" for i in range(len(sites))])
    return sites


def _chrom_sites(
    rng: np.random.Generator, chrom: str, codes: np.ndarray, motifs: dict[str, Motif],
    config: SimulationConfig,
) -> pd.DataFrame:
    slot, half = config.site_spacing, config.half_width
    free = _free_slots(codes, slot)
    if config.sites_per_chrom > len(free):
        raise ValueError(
            f"{chrom} ({len(codes)} bp) has room for {len(free)} sites {slot} bp apart, not "
            f"{config.sites_per_chrom}. Fix: lower sites_per_chrom or raise chrom_length."
        )
    slots = np.sort(rng.choice(free, size=config.sites_per_chrom, replace=False))
    summits = slots * slot + rng.integers(half, slot - half, size=len(slots))
    motif_index = rng.permutation(np.arange(len(slots)) % len(motifs))
    strands = np.where(rng.random(len(slots)) < 0.5, "+", "-")
    tf_names = list(motifs)
    sequences = np.empty(len(slots), dtype=object)
    for m, motif in enumerate(motifs.values()):
        rows = np.flatnonzero(motif_index == m)
        sequences[rows] = list(sample_instances(rng, sharpened(motif.probabilities, config.motif_sharpness), len(rows)))
    widths = np.array([motifs[tf_names[m]].width for m in motif_index])
    core_starts = summits - widths // 2
    return pd.DataFrame({
        "chrom": chrom, "start": summits - half, "end": summits + half, "strand": strands,
        "motif": [motifs[tf_names[m]].header for m in motif_index],
        "tf": [tf_names[m] for m in motif_index], "tf_index": motif_index,
        "core_start": core_starts, "core_end": core_starts + widths, "summit": summits,
        "codes": sequences,
    })


def sharpened(probabilities: np.ndarray, power: float) -> np.ndarray:
    """``probabilities ** power`` (``(4, width)``), renormalised over the alphabet at each position (1: unchanged)."""
    if power == 1:
        return probabilities
    raised = np.asarray(probabilities, dtype=np.float64) ** power
    return raised / raised.sum(axis=0, keepdims=True)


def _free_slots(codes: np.ndarray, slot: int) -> np.ndarray:
    """Indices of slots without N, the first and last slot excluded."""
    n_slots = len(codes) // slot
    has_n = (codes[: n_slots * slot].reshape(n_slots, slot) == N_CODE).any(axis=1)
    free = np.flatnonzero(~has_n)
    return free[(free > 0) & (free < n_slots - 1)]


def plant(genome: dict[str, np.ndarray], sites: pd.DataFrame) -> None:
    """Write each site's sequence over its core (reverse complemented on '-'), and add the
    ``sequence`` column (motif orientation, as sampled)."""
    for (chrom, _), group in sites.groupby(["chrom", "tf"], sort=False):
        sequences = np.stack(group["codes"].to_list())
        minus = (group["strand"] == "-").to_numpy()[:, None]
        planted = np.where(minus, 3 - sequences[:, ::-1], sequences)     # 3 - code = complement
        positions = group["core_start"].to_numpy()[:, None] + np.arange(sequences.shape[1])
        genome[chrom][positions] = planted
    sites["sequence"] = [LETTERS[c].tobytes().decode("ascii") for c in sites["codes"]]


def site_scores(sites: pd.DataFrame, motifs: dict[str, Motif], gc: float) -> tuple[np.ndarray, np.ndarray]:
    """Log-odds score and score rescaled to [0, 1] of every site."""
    score, relative = np.zeros(len(sites)), np.zeros(len(sites))
    for tf, rows in sites.groupby("tf").indices.items():
        matrix = log_odds(motifs[tf].probabilities, gc)
        codes = np.stack(sites["codes"].to_numpy()[rows])
        score[rows] = matrix[codes, np.arange(codes.shape[1])].sum(axis=1)
        low, high = matrix.min(axis=0).sum(), matrix.max(axis=0).sum()
        relative[rows] = (score[rows] - low) / (high - low)
    return score, relative
