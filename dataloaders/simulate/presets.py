"""Ready-made worlds for the synthetic benchmarks of the zoo's methods."""
from __future__ import annotations

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
    sequence and expression only), and six chr8 sites get a saturation mutagenesis.
    """
    cells = cell_names(GOPHER_CELLS)
    expressed_in = {tf: tuple(c for j, c in enumerate(cells) if (j + 1) >> k & 1)
                    for k, tf in enumerate(GOPHER_LINEAGE_TFS)}
    values = dict(
        seed=int(seed), n_chroms=int(n_chroms), chrom_length=int(chrom_length), cell_types=cells,
        tfs=("CTCF", *GOPHER_LINEAGE_TFS), expressed_in=expressed_in, sites_per_chrom=chrom_length // 1_500,
        shared_accessible=1.0, variants_per_kind=20, atac=True, atac_saturation_sites=6,
    )
    return SimulationConfig(**(values | options))


PRESETS = {"gopher": gopher_config}
