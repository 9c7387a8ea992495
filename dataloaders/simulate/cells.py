"""Cell types: TF expression, expression PCs, accessibility, binding, and the tracks' Poisson rates."""
from __future__ import annotations

import numpy as np
import pandas as pd

from .config import N_CODE, N_META_PCS, SimulationConfig
from .genome import interval_mask


def expression_pattern(tfs: tuple[str, ...], config: SimulationConfig) -> np.ndarray:
    """(n_tfs, n_cells) bool: where each TF is expressed (module docstring, "Expression")."""
    cells = config.cell_types
    pattern = np.zeros((len(tfs), len(cells)), dtype=bool)
    for i in range(len(tfs)):
        if i == 0 or (len(tfs) >= 3 and i == len(tfs) - 1):
            pattern[i] = True
        else:
            pattern[i, (i - 1) % len(cells)] = True
    for tf, chosen in (config.expressed_in or {}).items():
        if tf not in tfs or any(c not in cells for c in chosen):
            raise ValueError(f"expressed_in names TF {tf!r} or cell types {list(chosen)} not simulated")
        pattern[tfs.index(tf)] = [c in chosen for c in cells]
    return pattern


def expression_values(
    rng: np.random.Generator, tfs: tuple[str, ...], expressed: np.ndarray, config: SimulationConfig
) -> pd.DataFrame:
    """Expression, genes x cell types: the TFs, then the background genes ``GENE01, ...``."""
    threshold = config.expression_threshold
    on = np.maximum(rng.lognormal(np.log(8 * threshold), 0.4, expressed.shape), 2 * threshold)
    off = np.minimum(rng.lognormal(np.log(threshold / 10), 0.6, expressed.shape), threshold / 2)
    shape = (config.n_background_genes, expressed.shape[1])
    background = rng.lognormal(np.log(2 * threshold), 1.2, shape)
    values = np.round(np.vstack([np.where(expressed, on, off), background]), 4)
    genes = [*tfs, *(f"GENE{i + 1:02d}" for i in range(config.n_background_genes))]
    return pd.DataFrame(values, index=pd.Index(genes, name="gene"), columns=list(config.cell_types))


def meta_pcs(expression: pd.DataFrame) -> np.ndarray:
    """(n_cells, 8) FactorNet "GEPC" scores: PCA of centred asinh(expression), cells as samples."""
    matrix = np.arcsinh(expression.to_numpy().T)                    # cells x genes
    centred = matrix - matrix.mean(axis=0, keepdims=True)
    u, s, vt = np.linalg.svd(centred, full_matrices=False)
    flip = np.sign(vt[np.arange(len(vt)), np.abs(vt).argmax(axis=1)])
    scores = (u * s) * np.where(flip == 0, 1.0, flip)
    scores[:, s <= 1e-9 * max(s.max(initial=0.0), 1.0)] = 0.0
    out = np.zeros((matrix.shape[0], N_META_PCS))
    k = min(N_META_PCS, scores.shape[1])
    out[:, :k] = scores[:, :k]
    return np.round(out, 6) + 0.0


def accessibility(rng: np.random.Generator, n_sites: int, config: SimulationConfig) -> np.ndarray:
    """(n_sites, n_cells) bool (module docstring, "Accessibility")."""
    constitutive = rng.random(n_sites) < config.shared_accessible
    private = rng.random((n_sites, len(config.cell_types))) < config.cell_accessible
    return constitutive[:, None] | private


def annotate_cells(
    sites: pd.DataFrame, accessible: np.ndarray, bound: np.ndarray, cells: tuple[str, ...]
) -> pd.DataFrame:
    extra = {f"accessible_{c}": accessible[:, j].astype(np.int8) for j, c in enumerate(cells)}
    extra |= {f"bound_{c}": bound[:, j].astype(np.int8) for j, c in enumerate(cells)}
    return pd.concat([sites, pd.DataFrame(extra, index=sites.index)], axis=1)


def dnase_rates(
    chrom: str, codes: np.ndarray, sites: pd.DataFrame, cell: str, config: SimulationConfig
) -> np.ndarray:
    rate = np.full(len(codes), config.dnase_background)
    here = sites[sites["chrom"] == chrom]
    open_ = here[here[f"accessible_{cell}"] == 1]
    opened = interval_mask(len(codes), open_["start"].to_numpy(), open_["end"].to_numpy())
    rate[opened] = config.dnase_open
    bound = here[here[f"bound_{cell}"] == 1]
    rate[interval_mask(len(codes), bound["core_start"].to_numpy(), bound["core_end"].to_numpy())] = (
        config.dnase_footprint
    )
    rate[codes == N_CODE] = 0.0
    return rate


def chip_rates(
    chrom: str, codes: np.ndarray, sites: pd.DataFrame, cell: str, tf: str, config: SimulationConfig
) -> np.ndarray:
    rate = np.full(len(codes), config.chip_background)
    here = sites[(sites["chrom"] == chrom) & (sites["tf"] == tf) & (sites[f"bound_{cell}"] == 1)]
    offsets = np.arange(-config.half_width, config.half_width)
    kernel = np.exp(-0.5 * (offsets / config.chip_sigma) ** 2)
    heights = config.chip_height * (0.5 + 0.5 * here["rel_score"].to_numpy())
    positions = here["summit"].to_numpy()[:, None] + offsets
    rate[positions] += heights[:, None] * kernel               # elements never overlap
    rate[codes == N_CODE] = 0.0
    return rate
