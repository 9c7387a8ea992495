"""Ready-made worlds for the synthetic benchmarks of the zoo's methods."""
from __future__ import annotations

import numpy as np

from .config import SimulationConfig, cell_names

#: GOPHER's benchmark has 15 ATAC-seq cell lines.
GOPHER_CELLS = 15

#: TFs whose expression defines the cell lines' grammar (CTCF is expressed everywhere).
GOPHER_LINEAGE_TFS = ("FOXA1", "GATA1", "HNF4A", "MAX")


def gopher_config(seed: int = 0, n_chroms: int = 10, chrom_length: int = 300_000, **options) -> SimulationConfig:
    """The GOPHER benchmark: ATAC-like coverage of 15 cell lines, chr8 test and chr9 validation.

    Cell line ``j`` (1-based) expresses lineage TF ``k`` when bit ``k`` of ``j`` is set, so the
    15 cell lines carry the 15 non-empty combinations of the four lineage TFs (plus CTCF
    everywhere) and no two share a grammar. Every site is accessible (ATAC activity follows
    sequence and expression only), and six chr8 sites get a saturation mutagenesis. There are at
    least 9 chromosomes (chr8 and chr9 are held out).
    """
    cells = cell_names(GOPHER_CELLS)
    expressed_in = {tf: tuple(c for j, c in enumerate(cells) if (j + 1) >> k & 1)
                    for k, tf in enumerate(GOPHER_LINEAGE_TFS)}
    values = dict(
        seed=int(seed), n_chroms=max(int(n_chroms), 9), chrom_length=int(chrom_length), cell_types=cells,
        tfs=("CTCF", *GOPHER_LINEAGE_TFS), expressed_in=expressed_in, sites_per_chrom=chrom_length // 1_500,
        shared_accessible=1.0, variants_per_kind=20, atac=True, atac_saturation_sites=6,
    )
    return SimulationConfig(**(values | options))


#: ChromDragoNN's benchmark: dozens of cell types, each expressing its own draw of eight lineage TFs.
CHROMDRAGONN_CELLS = 40
CHROMDRAGONN_LINEAGE_TFS = ("FOXA1", "GATA1", "HNF4A", "SPI1", "CEBPB", "REST", "SOX2", "RUNX1")


def chromdragonn_config(seed: int = 0, n_chroms: int = 10, chrom_length: int = 300_000, n_cells: int = CHROMDRAGONN_CELLS,
                        expressed_fraction: float = 0.35, **options) -> SimulationConfig:
    """ChromDragoNN's benchmark: ATAC-like accessibility of ``n_cells`` cell types driven by the TFs they express.

    Each lineage TF is expressed in each cell type with probability ``expressed_fraction`` (drawn
    from ``seed``), CTCF everywhere; a site (one per kilobase) opens only where its TF is expressed,
    as strongly as its motif matches: about 14% of the 200-bp bins are accessible per cell type (the
    paper: 3-10%). The planted instances are sharpened (``motif_sharpness`` 3) so that they, not the
    background's chance matches of the same motifs, are what a sequence model can find. With 2^8
    possible combinations, a held-out cell type's grammar is predictable from its expression vector,
    not from the training cell types' labels alone. Peaks (height >= 2) give the 200-bp bins' labels
    (`epizoo.plugins.train.recipes.chromdragonn`).
    """
    cells = cell_names(int(n_cells))
    draws = np.random.default_rng([int(seed), 14]).random((len(CHROMDRAGONN_LINEAGE_TFS), len(cells)))
    expressed_in = {tf: tuple(c for c, on in zip(cells, row < expressed_fraction) if on)
                    for tf, row in zip(CHROMDRAGONN_LINEAGE_TFS, draws)}
    values = dict(
        seed=int(seed), n_chroms=int(n_chroms), chrom_length=int(chrom_length), cell_types=cells,
        tfs=("CTCF", *CHROMDRAGONN_LINEAGE_TFS), expressed_in=expressed_in, sites_per_chrom=chrom_length // 1_000,
        shared_accessible=1.0, variants_per_kind=10, atac=True, motif_sharpness=3.0,
    )
    return SimulationConfig(**(values | options))


PRESETS = {"gopher": gopher_config, "chromdragonn": chromdragonn_config}
