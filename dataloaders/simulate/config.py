"""The simulator's knobs (`SimulationConfig`), constants, base codes and seeded random streams."""
from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np


#: TFs planted by default (MEME names); each resolves to its HOCOMOCO v9 motif.
DEFAULT_TFS: tuple[str, ...] = ("CTCF", "FOXA1", "GATA1", "HNF4A", "MAX")


#: Where the default MEME file lies below the shared data folder (or an ``EPIZOO_MIRROR``).
DEFAULT_MEME_RELPATH = Path("factornet") / "resources" / "HOCOMOCOv9.meme"


#: FactorNet's bin ladder.
BIN_WIDTH, BIN_STEP = 200, 50


#: Number of expression "PCs" in FactorNet's meta.txt.
N_META_PCS = 8


VARIANT_KINDS = ("breaks_site", "weakens_site", "neutral", "indel_in_site", "indel_outside")


PSEUDOCOUNT = 0.01


LETTERS = np.frombuffer(b"ACGTN", dtype=np.uint8)


CODE = np.full(256, 4, dtype=np.uint8)


for _i, _b in enumerate(b"ACGT"):
    CODE[_b] = CODE[_b + 32] = _i


N_CODE = 4


STREAMS = {"genome": 0, "sites": 1, "cells": 2, "tracks": 3, "variants": 4, "atac": 5}


@dataclass(frozen=True)
class SimulationConfig:
    """Every knob of the simulation; the module docstring says what each rule does.

    Parameters
    ----------
    seed
        Seed of all random streams.
    n_chroms, chrom_length
        Number of chromosomes (``chr1, ...``) and the length of each.
    cell_types
        Cell-type names.
    tfs
        TFs to plant: MEME motif names (``"CTCF"``) or full MEME keys (``"CTCF_f2 CTCF"``).
    meme_file
        MEME motif file. Default: HOCOMOCO v9 from the shared data folder (see `default_meme_file`).
    sites_per_chrom, site_spacing
        Sites per chromosome, and the slot length that keeps them apart.
    motif_sharpness
        Planted instances are drawn from each motif's probabilities raised to this power and
        renormalised per position: 1 draws from the motif itself; larger values plant instances
        closer to the consensus, which stand out from the background's chance matches.
    gc
        GC fraction of the background.
    n_runs_per_chrom, masked_per_chrom
        ``N`` runs and soft-masked stretches per chromosome.
    shared_accessible, cell_accessible
        P(site constitutive); P(non-constitutive site accessible in a given cell type).
    expressed_in
        TF -> cell types where it is expressed, overriding the default pattern for those TFs.
    expression_threshold, n_background_genes
        Expression above which a TF binds; genes besides the TFs in the expression vector.
    dnase_background, dnase_open, dnase_footprint
        DNase Poisson rates: background, accessible element, bound core.
    chip_background, chip_height, chip_sigma
        ChIP Poisson background rate, peak height scale and Gaussian s.d. (bp).
    variants_per_kind, far_distance
        Variants of each kind; least distance (bp) of "outside" variants from any site element.
    atac
        Also write ATAC-like coverage (`epizoo.dataloaders.simulate.atac`): two replicates per
        cell type, peaks, the variants' exact profile effects and a saturation mutagenesis.
    atac_baseline, atac_height, atac_sigma
        Coverage away from sites; peak height of a fully occupied site; the peak's s.d. (bp).
    atac_half_drop
        Bits below the motif's best score at which a site is half occupied.
    atac_depth, atac_noise_span
        Poisson counts per unit of coverage per base, drawn per block of this many bases.
    atac_peak_height
        Least expected height of a site's peak to be listed as an (IDR-like) peak.
    atac_effect_window
        Window (bp, centred on the variant) over which a variant's coverage effect is summed.
    atac_saturation_sites, atac_saturation_chrom
        Sites of that chromosome mutated at every core position (0: no saturation table).
    """

    seed: int = 0
    n_chroms: int = 3
    chrom_length: int = 100_000
    cell_types: tuple[str, ...] = ("cellA", "cellB", "cellC")
    tfs: tuple[str, ...] = DEFAULT_TFS
    meme_file: str | None = None
    sites_per_chrom: int = 60
    site_spacing: int = 600
    motif_sharpness: float = 1.0
    gc: float = 0.41
    n_runs_per_chrom: int = 2
    masked_per_chrom: int = 4
    shared_accessible: float = 0.35
    cell_accessible: float = 0.5
    expressed_in: Mapping[str, Sequence[str]] | None = None
    expression_threshold: float = 5.0
    n_background_genes: int = 24
    dnase_background: float = 0.02
    dnase_open: float = 0.5
    dnase_footprint: float = 0.05
    chip_background: float = 0.05
    chip_height: float = 30.0
    chip_sigma: float = 40.0
    variants_per_kind: int = 8
    far_distance: int = 500
    atac: bool = False
    atac_baseline: float = 1.0
    atac_height: float = 12.0
    atac_sigma: float = 60.0
    atac_half_drop: float = 8.0
    atac_depth: float = 4.0
    atac_noise_span: int = 10
    atac_peak_height: float = 2.0
    atac_effect_window: int = 2048
    atac_saturation_sites: int = 0
    atac_saturation_chrom: str = "chr8"

    #: Half width of a site element (bp): DNase opening, peak width and ChIP support.
    half_width: int = field(default=150, init=False)

    def __post_init__(self) -> None:
        if self.n_chroms < 1:
            raise ValueError(f"n_chroms must be at least 1, not {self.n_chroms}")
        if self.site_spacing < 2 * self.half_width + 2:
            raise ValueError(f"site_spacing must exceed {2 * self.half_width}, not {self.site_spacing}")
        if self.chrom_length < 3 * self.site_spacing or self.chrom_length < BIN_WIDTH:
            raise ValueError(
                f"chrom_length {self.chrom_length} is too short: it needs at least three site "
                f"slots of {self.site_spacing} bp. Fix: raise chrom_length."
            )
        if not self.cell_types or len(set(self.cell_types)) != len(self.cell_types):
            raise ValueError(f"cell type names must be unique and at least one: {self.cell_types}")
        for name in self.cell_types:
            check_name(name, "cell type")
        for name in ("gc", "shared_accessible", "cell_accessible"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must lie in [0, 1], not {getattr(self, name)}")

    def parameters(self) -> dict:
        """The configuration as JSON-ready values (for the manifest)."""
        values = dataclasses.asdict(self)
        values["cell_types"], values["tfs"] = list(self.cell_types), list(self.tfs)
        if self.expressed_in is not None:
            values["expressed_in"] = {k: list(v) for k, v in self.expressed_in.items()}
        return values


def default_meme_file() -> Path:
    """HOCOMOCO v9 (MEME format) from ``EPIZOO_MIRROR`` folders or the shared data folder.

    Searched: each ``EPIZOO_MIRROR`` folder, then ``$EPIZOO_SHARED/data`` (default: the
    ``shared`` folder beside the repository), each at ``factornet/resources/HOCOMOCOv9.meme``.
    """
    mirrors = [Path(p) for p in os.environ.get("EPIZOO_MIRROR", "").split(os.pathsep) if p.strip()]
    shared = Path(os.environ.get("EPIZOO_SHARED", Path(__file__).resolve().parents[2].parent / "shared"))
    candidates = [m / DEFAULT_MEME_RELPATH for m in mirrors] + [shared / "data" / DEFAULT_MEME_RELPATH]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(
        f"no MEME motif file found (looked for {', '.join(map(str, candidates))}). "
        "Fix: pass meme_file=... (or --meme), or set EPIZOO_MIRROR to a folder holding "
        f"{DEFAULT_MEME_RELPATH}."
    )


def check_name(name: str, what: str) -> None:
    """Names become file names and ``<cell>.<tf>`` columns: no tab, newline, '/' or '.'."""
    if not name or any(c in name for c in "\t\n/. "):
        raise ValueError(f"{what} name {name!r} is empty or has a space, tab, newline, '/' or '.'")


def stream(seed: int, name: str) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(STREAMS[name],)))


def cell_names(cell_types: int | Sequence[str]) -> tuple[str, ...]:
    if isinstance(cell_types, (int, np.integer)):
        n = int(cell_types)
        if n < 1:
            raise ValueError(f"cell_types must be at least 1, not {n}")
        if n <= 26:
            return tuple(f"cell{chr(ord('A') + i)}" for i in range(n))
        return tuple(f"cell{i + 1:02d}" for i in range(n))
    return tuple(str(c) for c in cell_types)
