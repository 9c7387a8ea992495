"""ATAC-like coverage for profile models (GOPHER): site activity from sequence and expression,
two noisy replicates, IDR-like peaks, and the exact profile-level effect of every variant.

Unlike the DNase rule (whose per-site accessibility is drawn at random), ATAC activity is a
function of the sequence and the cell type's expression only, so a sequence model can learn it
and a variant's effect on it is known exactly.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from epizoo.dataloaders.motifs import Motif

from .config import CODE, N_CODE, SimulationConfig
from .pwm import log_odds


def occupancy(score: np.ndarray, best: np.ndarray, half_drop: float) -> np.ndarray:
    """Logistic occupancy of a site: 1/2 where its log2-odds score is ``half_drop`` below the
    motif's best; each bit lower halves the odds of being occupied."""
    return 1.0 / (1.0 + np.exp2(-(score - (best - half_drop))))


def best_scores(motifs: dict[str, Motif], gc: float) -> dict[str, float]:
    """The highest log2-odds score of each TF's motif."""
    return {tf: float(log_odds(m.probabilities, gc).max(axis=0).sum()) for tf, m in motifs.items()}


def site_activity(
    sites: pd.DataFrame, expressed: np.ndarray, motifs: dict[str, Motif], config: SimulationConfig
) -> np.ndarray:
    """(n_sites, n_cells) peak height above baseline: ``atac_height`` x occupancy where the
    site's TF is expressed, else 0."""
    best = sites["tf"].map(best_scores(motifs, config.gc)).to_numpy()
    occupied = occupancy(sites["score"].to_numpy(), best, config.atac_half_drop)
    return config.atac_height * occupied[:, None] * expressed[sites["tf_index"].to_numpy()]


def kernel(config: SimulationConfig) -> np.ndarray:
    """A site's peak shape: a Gaussian of s.d. ``atac_sigma`` over its 300-bp element."""
    offsets = np.arange(-config.half_width, config.half_width)
    return np.exp(-0.5 * (offsets / config.atac_sigma) ** 2)


def expected_coverage(
    length: int, summits: np.ndarray, heights: np.ndarray, config: SimulationConfig
) -> np.ndarray:
    """Noiseless per-base coverage of one chromosome in one cell type."""
    signal = np.full(length, config.atac_baseline)
    offsets = np.arange(-config.half_width, config.half_width)
    signal[summits[:, None] + offsets] += heights[:, None] * kernel(config)   # elements never overlap
    return signal


def replicate(rng: np.random.Generator, signal: np.ndarray, codes: np.ndarray, config: SimulationConfig) -> np.ndarray:
    """One noisy replicate: per block of ``atac_noise_span`` bases, Poisson counts at
    ``atac_depth`` per unit of coverage per base, divided back; NaN (no data) over ``N``."""
    span = config.atac_noise_span
    n_blocks = -(-len(signal) // span)
    padded = np.pad(signal, (0, n_blocks * span - len(signal)), mode="edge").reshape(n_blocks, span)
    depth = config.atac_depth * span
    blocks = rng.poisson(depth * padded.mean(axis=1)) / depth
    observed = np.repeat(blocks, span)[: len(signal)]
    observed[codes == N_CODE] = np.nan
    return observed


def variant_effects(
    variants: pd.DataFrame, genome: dict[str, np.ndarray], sites: pd.DataFrame, activity: np.ndarray,
    motifs: dict[str, Motif], config: SimulationConfig,
) -> pd.DataFrame:
    """The exact effect of each variant on expected coverage, per cell type and across them.

    The hit site (if any) is re-scored on the ALT sequence (its core read from the same start);
    its new activity changes the coverage summed over ``atac_effect_window`` bp centred on the
    variant. Columns: ``id``, ``log2fc_<cell>`` and ``log2fc`` = log2(mean over cell types of
    ALT totals / mean of REF totals), the paper's cell-type-agnostic order.
    """
    row_of = {site_id: i for i, site_id in enumerate(sites["site_id"])}
    best = best_scores(motifs, config.gc)
    mass = kernel(config).sum()
    cells = config.cell_types
    rows = []
    for variant in variants.itertuples(index=False):
        ref_total = _window_totals(variant, genome, sites, activity, config)
        change = np.zeros(len(cells))
        if variant.site_id:
            row = row_of[variant.site_id]
            site = sites.iloc[row]
            score = _alt_core_score(variant, genome, site, motifs[site["tf"]], config.gc)
            occupied = occupancy(np.array([score]), np.array([best[site["tf"]]]), config.atac_half_drop)[0]
            expressed = activity[row] > 0
            change = (config.atac_height * occupied * expressed - activity[row]) * mass
        alt_total = ref_total + change
        record = {"id": variant.id, "kind": variant.kind}
        record |= {f"log2fc_{c}": float(np.log2(a / r)) for c, a, r in zip(cells, alt_total, ref_total)}
        record["log2fc"] = float(np.log2(alt_total.mean() / ref_total.mean()))
        rows.append(record)
    return pd.DataFrame(rows).round(6)


def _window_totals(
    variant, genome: dict[str, np.ndarray], sites: pd.DataFrame, activity: np.ndarray, config: SimulationConfig
) -> np.ndarray:
    """Expected REF coverage summed over the effect window, per cell type (clipped to the chromosome)."""
    length = len(genome[variant.chrom])
    centre = variant.pos - 1
    start = max(0, centre - config.atac_effect_window // 2)
    end = min(length, start + config.atac_effect_window)
    here = (sites["chrom"] == variant.chrom).to_numpy()
    summits = sites["summit"].to_numpy()[here]
    offsets = np.arange(-config.half_width, config.half_width)
    inside = ((summits[:, None] + offsets >= start) & (summits[:, None] + offsets < end)) * kernel(config)
    return config.atac_baseline * (end - start) + inside.sum(axis=1) @ activity[here]


def _alt_core_score(variant, genome: dict[str, np.ndarray], site: pd.Series, motif: Motif, gc: float) -> float:
    """Log2-odds score of the site's core on the ALT allele, read from the core's REF start."""
    width = motif.width
    lo, hi = int(site["core_start"]), int(site["core_end"])
    codes = genome[variant.chrom][lo - 8 : hi + 8]
    at = variant.pos - 1 - (lo - 8)
    if not 0 <= at < len(codes) - len(variant.ref) + 1:
        raise ValueError(f"variant {variant.id} is not near the core of site {site['site_id']}")
    alt = CODE[np.frombuffer(variant.alt.encode("ascii"), dtype=np.uint8)]
    edited = np.concatenate([codes[:at], alt, codes[at + len(variant.ref):]])
    core = edited[8 : 8 + width]
    if site["strand"] == "-":
        core = 3 - core[::-1]
    return float(log_odds(motif.probabilities, gc)[core, np.arange(width)].sum())


def saturation_variants(
    rng: np.random.Generator, genome: dict[str, np.ndarray], sites: pd.DataFrame, activity: np.ndarray,
    chrom: str, n_sites: int, flank: int = 5,
) -> pd.DataFrame:
    """Every SNV over the core (+- ``flank``) of ``n_sites`` sites of ``chrom`` active in some cell
    type: a CAGI5-like saturation mutagenesis, one "element" per site."""
    eligible = np.flatnonzero((sites["chrom"] == chrom).to_numpy() & (activity.max(axis=1) > 0))
    chosen = np.sort(rng.choice(eligible, size=min(n_sites, len(eligible)), replace=False))
    rows = []
    for row in chosen:
        site = sites.iloc[row]
        for position in range(int(site["core_start"]) - flank, int(site["core_end"]) + flank):
            ref = int(genome[chrom][position])
            for alt in (b for b in range(4) if b != ref):
                rows.append({"chrom": chrom, "pos": position + 1, "ref": "ACGT"[ref], "alt": "ACGT"[alt],
                             "kind": "saturation", "site_id": site["site_id"], "tf": site["tf"]})
    frame = pd.DataFrame(rows, columns=["chrom", "pos", "ref", "alt", "kind", "site_id", "tf"])
    frame.insert(0, "id", [f"sat{i + 1:05d}" for i in range(len(frame))])
    return frame
