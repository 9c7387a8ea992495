"""A seeded synthetic genome with planted motifs, per-cell-type tracks, peaks, labels and a VCF.

`simulate` writes a small, fully known world for tests and synthetic benchmarks: FactorNet
(sequence + DNase + expression PCs -> bin labels), GOPHER (binary and quantitative coverage per
cell type) and ChromDragoNN (accessibility across cell types from sequence + a TF expression
vector) can all train on it, and variant-effect code can be checked against exact ground truth.
The same seed gives byte-identical files; every rule below is exact, so tests can assert it.

Randomness
----------
One `numpy.random.Generator` per concern, each ``default_rng(SeedSequence(seed, spawn_key=(k,)))``
(k = 0 genome, 1 sites, 2 cell types, 3 tracks, 4 variants). Changing, say, the number of cell
types therefore leaves the genome and the planted sites unchanged.

Rules
-----
Genome
    ``n_chroms`` chromosomes ``chr1, chr2, ...`` of ``chrom_length`` bases each. Bases are i.i.d.
    with P(C) = P(G) = gc / 2 and P(A) = P(T) = (1 - gc) / 2 (gc = 0.41). Each chromosome gets
    ``n_runs_per_chrom`` runs of ``N`` (20-200 bp) and ``masked_per_chrom`` soft-masked
    (lower-case) stretches of 100-800 bp; soft-masking is applied last, so a planted site inside
    such a stretch is lower case too (`Genome` reads everything upper case).
Sites
    Each chromosome is cut into slots of ``site_spacing`` (600) bp. ``sites_per_chrom`` slots are
    drawn among those that hold no ``N`` (the first and last slot are never used). A site's
    centre ``summit`` is uniform in ``[slot + 150, slot_end - 150)``; the site is the 300-bp
    element ``[summit - 150, summit + 150)`` (``start``, ``end``), so sites never overlap. The
    motifs (HOCOMOCO PWMs from the MEME file) are dealt out in equal shares (shuffled); the strand
    is ``+`` or ``-`` with probability 1/2. The site's ``sequence`` is drawn base by base from the
    PWM columns (in motif orientation) and planted, upper case, over the core
    ``[core_start, core_end)``, with ``core_start = summit - width // 2``: as is on ``+``, reverse
    complemented on ``-``. ``score`` is the PWM log-odds score of the sequence (log2, genome base
    composition as background, pseudocount 0.01) and ``rel_score`` rescales it to [0, 1] between
    the motif's lowest and highest possible score. Chance motif matches in the background are
    never bound.
Expression (per cell type)
    Genes are the TFs of the planted motifs followed by ``n_background_genes`` genes
    ``GENE01, ...`` that no rule uses. A TF is *expressed* in a cell type when its value is above
    ``expression_threshold`` (5.0). By default the first TF (CTCF) and, with three TFs or more,
    the last TF (MAX) are ubiquitous (expressed in every cell type), and TF number ``i``
    (0-based, in between) is expressed only in cell type ``(i - 1) mod n_cells``: with the
    defaults FOXA1 in cellA, GATA1 in cellB and HNF4A in cellC. ``expressed_in`` overrides this
    per TF. Values: expressed TFs are log-normal around 8x the threshold and at least 2x it,
    silent TFs log-normal around threshold / 10 and at most threshold / 2; background genes are
    log-normal around 2x the threshold. ``meta.txt`` holds FactorNet's 8 "GEPC" values: the
    scores of each cell type on the principal components of the cell type x gene matrix of
    ``asinh(expression)`` centred across cell types, each component's sign chosen so that its
    largest-magnitude loading is positive; components past ``n_cells - 1`` are 0.
Accessibility
    A site is *constitutive* with probability ``shared_accessible`` (0.35) and then accessible in
    every cell type; otherwise it is accessible in each cell type independently with probability
    ``cell_accessible`` (0.5). A cell type's accessible fraction is 0.675 and the expected
    Jaccard overlap of two cell types' accessible sets is 0.61.
Binding
    TF t is *bound* at site s in cell type c if and only if s carries t's motif, s is accessible
    in c, and t is expressed in c.
DNase track (per cell type, per base)
    Poisson counts with rate ``dnase_background`` (0.02) everywhere, ``dnase_open`` (0.5) over the
    300-bp element of every site accessible in that cell type, ``dnase_footprint`` (0.05) over
    the core of every site bound there, and 0 over ``N`` runs.
ChIP track (per cell type and TF, per base)
    Poisson counts with rate ``chip_background`` (0.05) plus, for each site bound by the TF in
    that cell type, ``chip_height * (0.5 + 0.5 * rel_score)`` times a Gaussian of s.d.
    ``chip_sigma`` (40 bp) centred on the summit, cut at the element's edges; 0 over ``N``.
Peaks
    ``<cell>.<tf>.narrowPeak``: one line per site bound by the TF in the cell type;
    ``<cell>.dnase.narrowPeak``: one per site accessible there. Both are narrowPeak (10 columns):
    the 300-bp element, name = site_id, score = round(1000 * rel_score) (1000 for DNase), strand
    ``.``, signalValue = the expected peak height, pValue = qValue = -1, summit offset 150.
Labels
    Bins of 200 bp every 50 bp over each chromosome (``start = 0, 50, ...`` while
    ``start + 200 <= length``, as FactorNet's ladder). Column ``<cell>.<tf>`` is 1 when the bin
    covers more than half of the core of a site bound by the TF in that cell type
    (``2 * overlap > core width``), else 0.
Variants (``variants.vcf`` + ``variants_truth.tsv``)
    ``variants_per_kind`` (8) of each kind, on distinct sites, half on ``+`` and half on ``-``
    sites where there are enough; site kinds use only sites bound in at least one cell type.

    * ``breaks_site``: SNV at the motif position of highest information content
      (KL divergence of the PWM column from the genome composition); ALT is the base of lowest
      PWM probability there, among the three non-REF bases. Sites where that change would not
      strictly lower the site's log-odds score are skipped (the background is not uniform, so a
      less probable base can still score higher), so the score always drops.
    * ``weakens_site``: the same at the motif position of lowest information content.
    * ``indel_in_site``: deletions of 1-3 bases starting at the core's middle, or insertions of
      1-3 random bases after the base just before it (alternating, deletions first).
    * ``neutral``: SNV to a random other base at a position at least ``far_distance`` (500 bp)
      from every site element and 10 bp from any ``N``.
    * ``indel_outside``: deletions/insertions as above at such far positions.

    REF always equals the FASTA (upper case); the VCF is sorted by chromosome then position, its
    IDs ``var0001, ...`` are unique and INFO carries ``KIND``, ``SITE`` and ``TF``.

Files (relative to ``out_dir``; all written to a temporary name and then renamed)
    ``genome/genome.fa`` (+ ``.fai``), ``chrom.sizes``, ``sites.tsv``,
    ``expression/<cell>.expression.tsv``, ``expression/<cell>.meta.txt``, ``expression/rna.tsv``,
    ``tracks/<cell>.dnase.bw``, ``tracks/<cell>.<tf>.chip.bw``, ``peaks/<cell>.dnase.narrowPeak``,
    ``peaks/<cell>.<tf>.narrowPeak``, ``labels.tsv``, ``variants.vcf``, ``variants_truth.tsv``
    and ``manifest.json`` (seed, parameters and every path).

Examples
--------
>>> sim = simulate("synthetic", seed=0)                       # doctest: +SKIP
>>> sim.load_sites().query("bound_cellA == 1").tf.value_counts()  # doctest: +SKIP
"""
from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import logging
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyBigWig
import pysam

from epizoo.atomic import atomic_path

logger = logging.getLogger(__name__)

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

_LETTERS = np.frombuffer(b"ACGTN", dtype=np.uint8)
_CODE = np.full(256, 4, dtype=np.uint8)
for _i, _b in enumerate(b"ACGT"):
    _CODE[_b] = _CODE[_b + 32] = _i
_N = 4
#: Zoom levels per bigWig: enough for chromosomes of this size, and 2x faster than 10.
_BIGWIG_ZOOMS = 4
_STREAMS = {"genome": 0, "sites": 1, "cells": 2, "tracks": 3, "variants": 4}


# ================================================================================================
# Configuration and result
# ================================================================================================
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
    """

    seed: int = 0
    n_chroms: int = 3
    chrom_length: int = 100_000
    cell_types: tuple[str, ...] = ("cellA", "cellB", "cellC")
    tfs: tuple[str, ...] = DEFAULT_TFS
    meme_file: str | None = None
    sites_per_chrom: int = 60
    site_spacing: int = 600
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
            _check_name(name, "cell type")
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


@dataclass(frozen=True)
class SimulatedGenome:
    """Paths of everything `simulate` wrote, and loaders for its truth tables.

    Attributes
    ----------
    root
        The output folder.
    seed
        The seed used.
    cell_types, tfs
        Cell-type names and TF names, in column order.
    motifs
        TF -> MEME key of its planted motif.
    expressed_in
        TF -> cell types where it is expressed (so can bind).
    chrom_sizes
        Chromosome -> length.
    fasta, chrom_sizes_file, sites, labels, vcf, variants_truth, expression_matrix, manifest
        Paths of the single files.
    dnase_bigwigs, dnase_peaks, expression, meta
        Cell type -> path.
    chip_bigwigs, chip_peaks
        Cell type -> TF -> path.
    """

    root: Path
    seed: int
    cell_types: tuple[str, ...]
    tfs: tuple[str, ...]
    motifs: dict[str, str]
    expressed_in: dict[str, tuple[str, ...]]
    chrom_sizes: dict[str, int]
    fasta: Path
    chrom_sizes_file: Path
    sites: Path
    labels: Path
    vcf: Path
    variants_truth: Path
    expression_matrix: Path
    manifest: Path
    dnase_bigwigs: dict[str, Path]
    dnase_peaks: dict[str, Path]
    expression: dict[str, Path]
    meta: dict[str, Path]
    chip_bigwigs: dict[str, dict[str, Path]]
    chip_peaks: dict[str, dict[str, Path]]

    @property
    def bigwigs(self) -> dict[str, Path]:
        """Every bigWig by name: ``<cell>.dnase`` and ``<cell>.<tf>``."""
        tracks = {f"{c}.dnase": p for c, p in self.dnase_bigwigs.items()}
        for cell, per_tf in self.chip_bigwigs.items():
            tracks.update({f"{cell}.{tf}": p for tf, p in per_tf.items()})
        return tracks

    @property
    def peaks(self) -> dict[str, Path]:
        """Every peak file by name: ``<cell>.dnase`` and ``<cell>.<tf>``."""
        files = {f"{c}.dnase": p for c, p in self.dnase_peaks.items()}
        for cell, per_tf in self.chip_peaks.items():
            files.update({f"{cell}.{tf}": p for tf, p in per_tf.items()})
        return files

    def load_sites(self) -> pd.DataFrame:
        """The site truth table (one row per planted site)."""
        return pd.read_csv(self.sites, sep="\t", keep_default_na=False)

    def load_variants_truth(self) -> pd.DataFrame:
        """The variant truth table (``site_id``/``tf`` are empty strings for outside variants)."""
        return pd.read_csv(self.variants_truth, sep="\t", keep_default_na=False)

    def load_labels(self) -> pd.DataFrame:
        """The bin labels: ``chrom, start, end`` and one 0/1 column ``<cell>.<tf>`` per pair."""
        return pd.read_csv(self.labels, sep="\t")

    def load_expression(self) -> pd.DataFrame:
        """Expression, genes x cell types (index ``gene``)."""
        return pd.read_csv(self.expression_matrix, sep="\t", index_col="gene")

    def bound_sites(self, cell: str, tf: str) -> pd.DataFrame:
        """Rows of the site table bound by ``tf`` in ``cell``."""
        sites = self.load_sites()
        return sites[(sites["tf"] == tf) & (sites[f"bound_{cell}"] == 1)].reset_index(drop=True)

    @classmethod
    def from_manifest(cls, path: str | Path) -> SimulatedGenome:
        """Re-open a simulation from its ``manifest.json`` (or the folder holding it)."""
        path = Path(path)
        manifest = path / "manifest.json" if path.is_dir() else path
        data = json.loads(manifest.read_text())
        return _from_manifest_data(manifest.parent, data)


# ================================================================================================
# Entry point
# ================================================================================================
def simulate(
    out_dir: str | Path,
    seed: int = 0,
    n_chroms: int = 3,
    chrom_length: int = 100_000,
    cell_types: int | Sequence[str] = 3,
    motifs: Sequence[str] = DEFAULT_TFS,
    meme_file: str | Path | None = None,
    **options,
) -> SimulatedGenome:
    """Write a seeded synthetic genome, its tracks, peaks, labels and variants to ``out_dir``.

    Parameters
    ----------
    out_dir
        Output folder (created; files of a previous run are replaced).
    seed
        Seed; the same seed gives byte-identical files.
    n_chroms, chrom_length
        Number of chromosomes ``chr1, ...`` and the length of each.
    cell_types
        Number of cell types (named ``cellA, cellB, ...``) or their names.
    motifs
        TFs to plant, by MEME motif name (``"CTCF"``) or full MEME key (``"CTCF_f2 CTCF"``).
    meme_file
        MEME file with the motifs. Default: `default_meme_file`.
    **options
        Any other field of `SimulationConfig` (``sites_per_chrom``, ``expressed_in``, ...).

    Returns
    -------
    SimulatedGenome
        The paths of everything written.
    """
    config = SimulationConfig(
        seed=int(seed), n_chroms=int(n_chroms), chrom_length=int(chrom_length),
        cell_types=_cell_names(cell_types), tfs=tuple(motifs),
        meme_file=None if meme_file is None else str(meme_file), **options,
    )
    return simulate_config(out_dir, config)


def simulate_config(out_dir: str | Path, config: SimulationConfig) -> SimulatedGenome:
    """`simulate` from a ready `SimulationConfig`."""
    began = time.perf_counter()
    root = Path(out_dir)
    root.mkdir(parents=True, exist_ok=True)
    rngs = {name: _stream(config.seed, name) for name in _STREAMS}
    meme = Path(config.meme_file) if config.meme_file else default_meme_file()
    motifs = load_motifs(meme, config.tfs)
    tfs = tuple(motifs)
    genome, soft_mask = _build_genome(rngs["genome"], config)
    sites = _place_sites(rngs["sites"], genome, motifs, config)
    _plant(genome, sites)
    sites["score"], sites["rel_score"] = _scores(sites, motifs, config.gc)
    expressed = _expression_pattern(tfs, config)
    expression = _expression_values(rngs["cells"], tfs, expressed, config)
    accessible = _accessibility(rngs["cells"], len(sites), config)
    bound = accessible & expressed[sites["tf_index"].to_numpy()]
    sites = _annotate_cells(sites, accessible, bound, config.cell_types)
    files = _write_all(root, config, meme, motifs, genome, soft_mask, sites, expressed, expression, rngs)
    logger.info("simulated %d sites in %.2f s into %s", len(sites), time.perf_counter() - began, root)
    return SimulatedGenome.from_manifest(files)


def default_meme_file() -> Path:
    """HOCOMOCO v9 (MEME format) from ``EPIZOO_MIRROR`` folders or the shared data folder.

    Searched: each ``EPIZOO_MIRROR`` folder, then ``$EPIZOO_SHARED/data`` (default: the
    ``shared`` folder beside the repository), each at ``factornet/resources/HOCOMOCOv9.meme``.
    """
    mirrors = [Path(p) for p in os.environ.get("EPIZOO_MIRROR", "").split(os.pathsep) if p.strip()]
    shared = Path(os.environ.get("EPIZOO_SHARED", Path(__file__).resolve().parents[1].parent / "shared"))
    candidates = [m / DEFAULT_MEME_RELPATH for m in mirrors] + [shared / "data" / DEFAULT_MEME_RELPATH]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(
        f"no MEME motif file found (looked for {', '.join(map(str, candidates))}). "
        "Fix: pass meme_file=... (or --meme), or set EPIZOO_MIRROR to a folder holding "
        f"{DEFAULT_MEME_RELPATH}."
    )


def _check_name(name: str, what: str) -> None:
    """Names become file names and ``<cell>.<tf>`` columns: no tab, newline, '/' or '.'."""
    if not name or any(c in name for c in "\t\n/. "):
        raise ValueError(f"{what} name {name!r} is empty or has a space, tab, newline, '/' or '.'")


def _stream(seed: int, name: str) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(_STREAMS[name],)))


def _cell_names(cell_types: int | Sequence[str]) -> tuple[str, ...]:
    if isinstance(cell_types, (int, np.integer)):
        n = int(cell_types)
        if n < 1:
            raise ValueError(f"cell_types must be at least 1, not {n}")
        if n <= 26:
            return tuple(f"cell{chr(ord('A') + i)}" for i in range(n))
        return tuple(f"cell{i + 1:02d}" for i in range(n))
    return tuple(str(c) for c in cell_types)


# ================================================================================================
# Motifs
# ================================================================================================
@dataclass(frozen=True)
class Motif:
    """A planted motif: its MEME key, TF name and (4, width) probability matrix over ACGT."""

    key: str
    tf: str
    ppm: np.ndarray

    @property
    def width(self) -> int:
        return self.ppm.shape[1]


def load_motifs(meme_file: str | Path, names: Sequence[str]) -> dict[str, Motif]:
    """Read the motifs of ``names`` (MEME names or full keys) from a MEME file, keyed by TF.

    A name that is not a full key resolves to the first motif (in file order) whose MEME
    name (the part after the space) equals it.
    """
    from memelite.io import read_meme

    meme_file = Path(meme_file)
    if not meme_file.is_file():
        raise FileNotFoundError(f"MEME file {meme_file} does not exist. Fix: pass an existing file.")
    table = read_meme(str(meme_file))
    motifs: dict[str, Motif] = {}
    for name in names:
        key = name if name in table else next((k for k in table if k.split(" ")[-1] == name), None)
        if key is None:
            raise KeyError(
                f"motif {name!r} is not in {meme_file}. Fix: use a MOTIF name or key of that file."
            )
        tf = key.split(" ")[-1]
        _check_name(tf, "TF")
        if tf in motifs:
            raise ValueError(f"TF {tf!r} is listed twice in motifs={list(names)}")
        ppm = np.asarray(table[key], dtype=np.float64)
        motifs[tf] = Motif(key, tf, ppm / ppm.sum(axis=0, keepdims=True))
    return motifs


def background_probabilities(gc: float = 0.41) -> np.ndarray:
    """P(A), P(C), P(G), P(T) of the simulated background."""
    return np.array([(1 - gc) / 2, gc / 2, gc / 2, (1 - gc) / 2])


def log_odds(ppm: np.ndarray, gc: float = 0.41, pseudocount: float = PSEUDOCOUNT) -> np.ndarray:
    """(4, width) log2 odds of a probability matrix against the background composition."""
    smoothed = (ppm + pseudocount) / (1 + 4 * pseudocount)
    return np.log2(smoothed / background_probabilities(gc)[:, None])


def information_content(ppm: np.ndarray, gc: float = 0.41) -> np.ndarray:
    """Per-position information (bits): KL divergence of each column from the background."""
    p = np.clip(ppm, 1e-12, 1.0)
    return (p * np.log2(p / background_probabilities(gc)[:, None])).sum(axis=0)


def score_sequence(sequence: str, ppm: np.ndarray, gc: float = 0.41) -> float:
    """Log-odds score of ``sequence`` (motif orientation, length = motif width) under ``ppm``."""
    codes = _CODE[np.frombuffer(sequence.upper().encode("ascii"), dtype=np.uint8)]
    if len(codes) != ppm.shape[1] or (codes == _N).any():
        raise ValueError(f"sequence {sequence!r} is not {ppm.shape[1]} bases of ACGT")
    return float(log_odds(ppm, gc)[codes, np.arange(len(codes))].sum())


def reverse_complement(sequence: str) -> str:
    """Reverse complement of an ACGTN string (case kept)."""
    return sequence[::-1].translate(str.maketrans("ACGTNacgtn", "TGCANtgcan"))


def _sample_instances(rng: np.random.Generator, ppm: np.ndarray, n: int) -> np.ndarray:
    """``n`` sequences (codes, shape (n, width)) drawn column by column from ``ppm``."""
    cumulative = np.cumsum(ppm, axis=0)[:3].T                      # (width, 3) cut points
    draws = rng.random((n, ppm.shape[1]))
    return (draws[:, :, None] >= cumulative[None]).sum(axis=2).astype(np.uint8)


# ================================================================================================
# Genome
# ================================================================================================
def _build_genome(
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
            codes[start : start + length] = _N


def _soft_mask(rng: np.random.Generator, length: int, count: int) -> np.ndarray:
    lengths = rng.integers(100, 801, size=count)
    starts = rng.integers(0, np.maximum(length - lengths, 1))
    return _interval_mask(length, starts, np.minimum(starts + lengths, length))


def _interval_mask(length: int, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Boolean mask of the union of ``[starts, ends)`` (clipped to the sequence)."""
    delta = np.zeros(length + 1, dtype=np.int64)
    np.add.at(delta, np.clip(starts, 0, length), 1)
    np.add.at(delta, np.clip(ends, 0, length), -1)
    return np.cumsum(delta[:-1]) > 0


# ================================================================================================
# Sites
# ================================================================================================
def _place_sites(
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
        sequences[rows] = list(_sample_instances(rng, motif.ppm, len(rows)))
    widths = np.array([motifs[tf_names[m]].width for m in motif_index])
    core_starts = summits - widths // 2
    return pd.DataFrame({
        "chrom": chrom, "start": summits - half, "end": summits + half, "strand": strands,
        "motif": [motifs[tf_names[m]].key for m in motif_index],
        "tf": [tf_names[m] for m in motif_index], "tf_index": motif_index,
        "core_start": core_starts, "core_end": core_starts + widths, "summit": summits,
        "codes": sequences,
    })


def _free_slots(codes: np.ndarray, slot: int) -> np.ndarray:
    """Indices of slots without N, the first and last slot excluded."""
    n_slots = len(codes) // slot
    has_n = (codes[: n_slots * slot].reshape(n_slots, slot) == _N).any(axis=1)
    free = np.flatnonzero(~has_n)
    return free[(free > 0) & (free < n_slots - 1)]


def _plant(genome: dict[str, np.ndarray], sites: pd.DataFrame) -> None:
    """Write each site's sequence over its core (reverse complemented on '-'), and add the
    ``sequence`` column (motif orientation, as sampled)."""
    for (chrom, _), group in sites.groupby(["chrom", "tf"], sort=False):
        sequences = np.stack(group["codes"].to_list())
        minus = (group["strand"] == "-").to_numpy()[:, None]
        planted = np.where(minus, 3 - sequences[:, ::-1], sequences)     # 3 - code = complement
        positions = group["core_start"].to_numpy()[:, None] + np.arange(sequences.shape[1])
        genome[chrom][positions] = planted
    sites["sequence"] = [_LETTERS[c].tobytes().decode("ascii") for c in sites["codes"]]


def _scores(sites: pd.DataFrame, motifs: dict[str, Motif], gc: float) -> tuple[np.ndarray, np.ndarray]:
    """Log-odds score and score rescaled to [0, 1] of every site."""
    score, relative = np.zeros(len(sites)), np.zeros(len(sites))
    for tf, rows in sites.groupby("tf").indices.items():
        matrix = log_odds(motifs[tf].ppm, gc)
        codes = np.stack(sites["codes"].to_numpy()[rows])
        score[rows] = matrix[codes, np.arange(codes.shape[1])].sum(axis=1)
        low, high = matrix.min(axis=0).sum(), matrix.max(axis=0).sum()
        relative[rows] = (score[rows] - low) / (high - low)
    return score, relative


# ================================================================================================
# Cell types: expression, accessibility, binding
# ================================================================================================
def _expression_pattern(tfs: tuple[str, ...], config: SimulationConfig) -> np.ndarray:
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


def _expression_values(
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


def _meta_pcs(expression: pd.DataFrame) -> np.ndarray:
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


def _accessibility(rng: np.random.Generator, n_sites: int, config: SimulationConfig) -> np.ndarray:
    """(n_sites, n_cells) bool (module docstring, "Accessibility")."""
    constitutive = rng.random(n_sites) < config.shared_accessible
    private = rng.random((n_sites, len(config.cell_types))) < config.cell_accessible
    return constitutive[:, None] | private


def _annotate_cells(
    sites: pd.DataFrame, accessible: np.ndarray, bound: np.ndarray, cells: tuple[str, ...]
) -> pd.DataFrame:
    extra = {f"accessible_{c}": accessible[:, j].astype(np.int8) for j, c in enumerate(cells)}
    extra |= {f"bound_{c}": bound[:, j].astype(np.int8) for j, c in enumerate(cells)}
    return pd.concat([sites, pd.DataFrame(extra, index=sites.index)], axis=1)


# ================================================================================================
# Tracks
# ================================================================================================
def _dnase_rates(
    chrom: str, codes: np.ndarray, sites: pd.DataFrame, cell: str, config: SimulationConfig
) -> np.ndarray:
    rate = np.full(len(codes), config.dnase_background)
    here = sites[sites["chrom"] == chrom]
    open_ = here[here[f"accessible_{cell}"] == 1]
    opened = _interval_mask(len(codes), open_["start"].to_numpy(), open_["end"].to_numpy())
    rate[opened] = config.dnase_open
    bound = here[here[f"bound_{cell}"] == 1]
    rate[_interval_mask(len(codes), bound["core_start"].to_numpy(), bound["core_end"].to_numpy())] = (
        config.dnase_footprint
    )
    rate[codes == _N] = 0.0
    return rate


def _chip_rates(
    chrom: str, codes: np.ndarray, sites: pd.DataFrame, cell: str, tf: str, config: SimulationConfig
) -> np.ndarray:
    rate = np.full(len(codes), config.chip_background)
    here = sites[(sites["chrom"] == chrom) & (sites["tf"] == tf) & (sites[f"bound_{cell}"] == 1)]
    offsets = np.arange(-config.half_width, config.half_width)
    kernel = np.exp(-0.5 * (offsets / config.chip_sigma) ** 2)
    heights = config.chip_height * (0.5 + 0.5 * here["rel_score"].to_numpy())
    positions = here["summit"].to_numpy()[:, None] + offsets
    rate[positions] += heights[:, None] * kernel               # elements never overlap
    rate[codes == _N] = 0.0
    return rate


def _write_bigwig(path: Path, chrom_sizes: dict[str, int], values: dict[str, np.ndarray]) -> None:
    """A bigWig of per-base float values, one run-length-encoded entry per constant run."""
    with atomic_path(path) as tmp:
        handle = pyBigWig.open(str(tmp), "w")
        try:
            handle.addHeader(list(chrom_sizes.items()), maxZooms=_BIGWIG_ZOOMS)
            for chrom, track in values.items():
                starts, ends, run_values = _runs(track.astype(np.float32))
                handle.addEntries([chrom] * len(starts), starts, ends=ends, values=run_values)
        finally:
            handle.close()


def _runs(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Run-length encoding: starts, ends and value of each run of equal values."""
    change = np.flatnonzero(np.diff(values) != 0) + 1
    starts = np.concatenate([[0], change]).astype(np.int64)
    ends = np.concatenate([change, [len(values)]]).astype(np.int64)
    return starts, ends, values[starts].astype(np.float64)


def _write_tracks(
    root: Path, genome: dict[str, np.ndarray], sites: pd.DataFrame, tfs: tuple[str, ...],
    rng: np.random.Generator, config: SimulationConfig,
) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    sizes = {c: len(s) for c, s in genome.items()}
    dnase: dict[str, str] = {}
    chip: dict[str, dict[str, str]] = {}
    for cell in config.cell_types:
        counts = {c: rng.poisson(_dnase_rates(c, s, sites, cell, config)) for c, s in genome.items()}
        dnase[cell] = f"tracks/{cell}.dnase.bw"
        _write_bigwig(root / dnase[cell], sizes, counts)
        chip[cell] = {}
        for tf in tfs:
            counts = {c: rng.poisson(_chip_rates(c, s, sites, cell, tf, config))
                      for c, s in genome.items()}
            chip[cell][tf] = f"tracks/{cell}.{tf}.chip.bw"
            _write_bigwig(root / chip[cell][tf], sizes, counts)
    return dnase, chip


# ================================================================================================
# Peaks and labels
# ================================================================================================
def _narrowpeak(rows: pd.DataFrame, score: np.ndarray, signal: np.ndarray) -> str:
    frame = pd.DataFrame({
        "chrom": rows["chrom"], "start": rows["start"], "end": rows["end"], "name": rows["site_id"],
        "score": score.astype(np.int64), "strand": ".", "signal": np.round(signal, 3),
        "p": -1, "q": -1, "peak": rows["summit"] - rows["start"],
    })
    return frame.to_csv(sep="\t", header=False, index=False, lineterminator="\n")


def _write_peaks(
    root: Path, sites: pd.DataFrame, tfs: tuple[str, ...], config: SimulationConfig
) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    dnase: dict[str, str] = {}
    chip: dict[str, dict[str, str]] = {}
    for cell in config.cell_types:
        open_ = sites[sites[f"accessible_{cell}"] == 1]
        dnase[cell] = f"peaks/{cell}.dnase.narrowPeak"
        text = _narrowpeak(open_, np.full(len(open_), 1000), np.full(len(open_), config.dnase_open))
        _write_text(root / dnase[cell], text)
        chip[cell] = {}
        for tf in tfs:
            rows = sites[(sites["tf"] == tf) & (sites[f"bound_{cell}"] == 1)]
            relative = rows["rel_score"].to_numpy()
            height = config.chip_height * (0.5 + 0.5 * relative)
            chip[cell][tf] = f"peaks/{cell}.{tf}.narrowPeak"
            _write_text(root / chip[cell][tf], _narrowpeak(rows, np.round(1000 * relative), height))
    return dnase, chip


def bin_starts(length: int) -> np.ndarray:
    """Starts of the 200-bp, 50-bp-step bins of a chromosome of ``length`` bases."""
    return np.arange((length - BIN_WIDTH) // BIN_STEP + 1, dtype=np.int64) * BIN_STEP


def _labels(
    sites: pd.DataFrame, sizes: dict[str, int], tfs: tuple[str, ...], cells: tuple[str, ...]
) -> pd.DataFrame:
    """The bin label table (module docstring, "Labels")."""
    frames = []
    for chrom, length in sizes.items():
        starts = bin_starts(length)
        frame = pd.DataFrame({"chrom": chrom, "start": starts, "end": starts + BIN_WIDTH})
        here = sites[sites["chrom"] == chrom]
        for cell in cells:
            for tf in tfs:
                rows = here[(here["tf"] == tf) & (here[f"bound_{cell}"] == 1)]
                frame[f"{cell}.{tf}"] = core_bin_labels(
                    rows["core_start"].to_numpy(), rows["core_end"].to_numpy(), len(starts)
                )
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def core_bin_labels(core_start: np.ndarray, core_end: np.ndarray, n_bins: int) -> np.ndarray:
    """0/1 per bin of the 200/50 ladder: 1 where the bin covers more than half of some core.

    Parameters
    ----------
    core_start, core_end
        0-based, half-open cores on one chromosome.
    n_bins
        Number of bins of that chromosome (``len(bin_starts(length))``).

    >>> core_bin_labels(np.array([245]), np.array([255]), 6)   # bins at 50 and 250 hold 5 of 10
    array([0, 0, 1, 1, 1, 0], dtype=int8)
    """
    label = np.zeros(n_bins, dtype=np.int8)
    core_start, core_end = np.asarray(core_start, np.int64), np.asarray(core_end, np.int64)
    if not len(core_start):
        return label
    width = core_end - core_start
    n_candidates = (BIN_WIDTH + int(width.max())) // BIN_STEP + 2
    first = np.maximum((core_start - BIN_WIDTH) // BIN_STEP, 0)
    candidates = first[:, None] + np.arange(n_candidates)
    bin_start = candidates * BIN_STEP
    overlap = (np.minimum(bin_start + BIN_WIDTH, core_end[:, None])
               - np.maximum(bin_start, core_start[:, None]))
    hit = (2 * overlap > width[:, None]) & (candidates < n_bins)
    label[candidates[hit]] = 1
    return label


# ================================================================================================
# Variants
# ================================================================================================
def _variants(
    rng: np.random.Generator, genome: dict[str, np.ndarray], sites: pd.DataFrame,
    motifs: dict[str, Motif], config: SimulationConfig,
) -> pd.DataFrame:
    """All variants with their truth, sorted by chromosome and position, with IDs."""
    bound_any = sites.filter(like="bound_").to_numpy().any(axis=1)
    used = np.zeros(len(sites), dtype=bool)
    records: list[dict] = []
    n = config.variants_per_kind
    for kind in ("breaks_site", "weakens_site"):
        records += _motif_snvs(rng, sites, motifs, bound_any & ~used, used, kind, n, config.gc)
    records += _site_indels(rng, genome, sites, bound_any & ~used, used, n)
    records += _outside_variants(rng, genome, sites, n, n, config.far_distance)
    return _sorted_with_ids(records, list(genome))


def _motif_snvs(
    rng: np.random.Generator, sites: pd.DataFrame, motifs: dict[str, Motif], eligible: np.ndarray,
    used: np.ndarray, kind: str, n: int, gc: float,
) -> list[dict]:
    """SNVs at the highest- (breaks) or lowest- (weakens) information position of sites."""
    choices: dict[int, tuple[int, int, int]] = {}
    for row in np.flatnonzero(eligible):
        ppm = motifs[sites["tf"].iat[row]].ppm
        info = information_content(ppm, gc)
        offset = int(info.argmax() if kind == "breaks_site" else info.argmin())
        ref = int(sites["codes"].iat[row][offset])
        others = [b for b in range(4) if b != ref]
        alt = others[int(np.argmin(ppm[others, offset]))]
        column = log_odds(ppm, gc)[:, offset]
        if column[alt] < column[ref]:                      # the site's score strictly drops
            choices[row] = (offset, ref, alt)
    rows = _pick_both_strands(rng, sites, np.array(sorted(choices), dtype=np.int64), n)
    used[rows] = True
    return [_site_snv(sites.iloc[row], *choices[row], kind) for row in rows]


def _site_snv(site: pd.Series, offset: int, ref: int, alt: int, kind: str) -> dict:
    minus = site["strand"] == "-"
    position = site["core_end"] - 1 - offset if minus else site["core_start"] + offset
    ref, alt = (3 - ref, 3 - alt) if minus else (ref, alt)
    return _record(site["chrom"], int(position), "ACGT"[ref], "ACGT"[alt], kind, site, offset)


def _site_indels(
    rng: np.random.Generator, genome: dict[str, np.ndarray], sites: pd.DataFrame,
    eligible: np.ndarray, used: np.ndarray, n: int,
) -> list[dict]:
    rows = _pick_both_strands(rng, sites, np.flatnonzero(eligible), n)
    used[rows] = True
    records = []
    for i, row in enumerate(rows):
        site = sites.iloc[row]
        middle = int(site["core_start"] + (site["core_end"] - site["core_start"]) // 2)
        records.append(_indel(rng, genome, site["chrom"], middle - 1, i < (len(rows) + 1) // 2,
                              "indel_in_site", site))
    return records


def _outside_variants(
    rng: np.random.Generator, genome: dict[str, np.ndarray], sites: pd.DataFrame,
    n_snvs: int, n_indels: int, far: int,
) -> list[dict]:
    """Neutral SNVs and indels at grid positions far from every site and from N."""
    candidates = [(chrom, pos) for chrom, codes in genome.items()
                  for pos in _far_positions(chrom, codes, sites, far)]
    total = min(n_snvs + n_indels, len(candidates))
    picks = rng.choice(len(candidates), size=total, replace=False)
    records = []
    for i, pick in enumerate(picks):
        chrom, pos = candidates[pick]
        if i < n_snvs:
            ref = int(genome[chrom][pos])
            alt = (ref + int(rng.integers(1, 4))) % 4
            records.append(_record(chrom, pos, "ACGT"[ref], "ACGT"[alt], "neutral"))
        else:
            deletion = (i - n_snvs) < (n_indels + 1) // 2
            records.append(_indel(rng, genome, chrom, pos, deletion, "indel_outside"))
    return records


def _far_positions(chrom: str, codes: np.ndarray, sites: pd.DataFrame, far: int) -> np.ndarray:
    """Grid positions (every 25 bp) at least ``far`` bp from any site element and 10 bp from N."""
    here = sites[sites["chrom"] == chrom]
    near = _interval_mask(len(codes), here["start"].to_numpy() - far, here["end"].to_numpy() + far)
    n_count = np.concatenate([[0], np.cumsum(codes == _N)])
    grid = np.arange(12, len(codes) - 12, 25)
    clean = (n_count[grid + 11] - n_count[grid - 10]) == 0
    return grid[clean & ~near[grid]]


def _indel(
    rng: np.random.Generator, genome: dict[str, np.ndarray], chrom: str, anchor: int, deletion: bool,
    kind: str, site: pd.Series | None = None,
) -> dict:
    """A deletion of 1-3 bases after ``anchor``, or an insertion of 1-3 random bases after it."""
    size = int(rng.integers(1, 4))
    codes = genome[chrom]
    base = codes[anchor : anchor + 1]
    if deletion:
        ref, alt = codes[anchor : anchor + 1 + size], base
    else:
        ref, alt = base, np.concatenate([base, rng.integers(0, 4, size=size).astype(np.uint8)])
    return _record(chrom, anchor, _text(ref), _text(alt), kind, site)


def _text(codes: np.ndarray) -> str:
    return _LETTERS[codes].tobytes().decode("ascii")


def _pick_both_strands(
    rng: np.random.Generator, sites: pd.DataFrame, rows: np.ndarray, n: int
) -> np.ndarray:
    """Up to ``n`` of ``rows``: half on '+' sites, half on '-' sites where possible."""
    strands = sites["strand"].to_numpy()[rows]
    plus, minus = rows[strands == "+"], rows[strands == "-"]
    n_plus = min(len(plus), max(n // 2, n - len(minus)))
    n_minus = min(len(minus), n - n_plus)
    picked = [rng.choice(plus, n_plus, replace=False), rng.choice(minus, n_minus, replace=False)]
    return np.concatenate(picked).astype(np.int64)


def _record(
    chrom: str, position: int, ref: str, alt: str, kind: str, site: pd.Series | None = None,
    offset: int | None = None,
) -> dict:
    """One truth row; ``position`` is 0-based, the row's ``pos`` 1-based as in VCF."""
    return {
        "chrom": chrom, "pos": position + 1, "ref": ref, "alt": alt, "kind": kind,
        "site_id": "" if site is None else site["site_id"], "tf": "" if site is None else site["tf"],
        "site_strand": "" if site is None else site["strand"],
        "motif_offset": "" if offset is None else offset,
        "bound_in": "" if site is None else ",".join(
            k.removeprefix("bound_") for k, v in site.items() if k.startswith("bound_") and v == 1
        ),
    }


def _sorted_with_ids(records: list[dict], chroms: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame(records)
    frame["_order"] = frame["chrom"].map({c: i for i, c in enumerate(chroms)})
    frame = frame.sort_values(["_order", "pos"], kind="stable").drop(columns="_order")
    frame = frame.reset_index(drop=True)
    frame.insert(0, "id", [f"var{i + 1:04d}" for i in range(len(frame))])
    return frame


def _vcf_text(variants: pd.DataFrame, sizes: dict[str, int], config: SimulationConfig) -> str:
    header = [
        "##fileformat=VCFv4.2",
        f"##source=epizoo.dataloaders.simulate (seed={config.seed})",
        "##reference=genome/genome.fa",
        *(f"##contig=<ID={c},length={n}>" for c, n in sizes.items()),
        '##INFO=<ID=KIND,Number=1,Type=String,Description="Ground truth: '
        + "|".join(VARIANT_KINDS) + '">',
        '##INFO=<ID=SITE,Number=1,Type=String,Description="site_id of the planted site hit">',
        '##INFO=<ID=TF,Number=1,Type=String,Description="TF whose motif the site carries">',
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO",
    ]
    lines = []
    for row in variants.itertuples(index=False):
        info = f"KIND={row.kind}" + (f";SITE={row.site_id};TF={row.tf}" if row.site_id else "")
        lines.append(f"{row.chrom}\t{row.pos}\t{row.id}\t{row.ref}\t{row.alt}\t.\tPASS\t{info}")
    return "\n".join(header + lines) + "\n"


# ================================================================================================
# Writing
# ================================================================================================
def _write_all(
    root: Path, config: SimulationConfig, meme: Path, motifs: dict[str, Motif],
    genome: dict[str, np.ndarray], soft_mask: dict[str, np.ndarray], sites: pd.DataFrame,
    expressed: np.ndarray, expression: pd.DataFrame, rngs: dict[str, np.random.Generator],
) -> Path:
    """Write every file; returns the manifest's path."""
    tfs = tuple(motifs)
    sizes = {c: len(s) for c, s in genome.items()}
    files: dict = {"fasta": "genome/genome.fa", "chrom_sizes": "chrom.sizes", "sites": "sites.tsv",
                   "labels": "labels.tsv", "vcf": "variants.vcf", "variants_truth": "variants_truth.tsv",
                   "expression_matrix": "expression/rna.tsv"}
    _write_fasta(root / files["fasta"], genome, soft_mask)
    _write_text(root / files["chrom_sizes"], "".join(f"{c}\t{n}\n" for c, n in sizes.items()))
    files |= _write_expression(root, expression, config)
    tracks = _write_tracks(root, genome, sites, tfs, rngs["tracks"], config)
    files["dnase_bigwigs"], files["chip_bigwigs"] = tracks
    files["dnase_peaks"], files["chip_peaks"] = _write_peaks(root, sites, tfs, config)
    _write_table(root / files["labels"], _labels(sites, sizes, tfs, config.cell_types))
    variants = _variants(rngs["variants"], genome, sites, motifs, config)
    _write_text(root / files["vcf"], _vcf_text(variants, sizes, config))
    _write_table(root / files["variants_truth"], variants)
    _write_table(root / files["sites"], _site_columns(sites, config.cell_types))
    manifest = _manifest(config, meme, motifs, expressed, sizes, files, sites, variants)
    _write_text(root / "manifest.json", json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return root / "manifest.json"


def _site_columns(sites: pd.DataFrame, cells: tuple[str, ...]) -> pd.DataFrame:
    columns = ["site_id", "chrom", "start", "end", "strand", "motif", "tf", "core_start", "core_end",
               "summit", "score", "rel_score", "sequence"]
    columns += [f"accessible_{c}" for c in cells] + [f"bound_{c}" for c in cells]
    table = sites[columns].copy()
    table[["score", "rel_score"]] = table[["score", "rel_score"]].round(4)
    return table


def _write_expression(root: Path, expression: pd.DataFrame, config: SimulationConfig) -> dict:
    genes = expression.index.to_list()
    _write_table(root / "expression" / "rna.tsv", expression.reset_index())
    pcs = _meta_pcs(expression)
    files: dict = {"expression": {}, "meta": {}}
    for j, cell in enumerate(config.cell_types):
        files["expression"][cell] = f"expression/{cell}.expression.tsv"
        per_cell = pd.DataFrame({"gene": genes, "expression": expression[cell].to_numpy()})
        _write_table(root / files["expression"][cell], per_cell)
        files["meta"][cell] = f"expression/{cell}.meta.txt"
        text = "".join(f"{value:.6f}\tGEPC{i + 1}\n" for i, value in enumerate(pcs[j]))
        _write_text(root / files["meta"][cell], text)
    return files


def _write_fasta(path: Path, genome: dict[str, np.ndarray], soft_mask: dict[str, np.ndarray]) -> None:
    """FASTA with 60-base lines (soft-masked bases lower case), then its .fai beside it."""
    chunks = []
    for chrom, codes in genome.items():
        letters = _LETTERS[codes]
        letters[soft_mask[chrom] & (codes != _N)] += 32
        chunks.append(f">{chrom}\n".encode() + _wrap(letters, 60))
    with atomic_path(path) as tmp, atomic_path(Path(f"{path}.fai")) as tmp_fai:
        tmp.write_bytes(b"".join(chunks))
        pysam.faidx(str(tmp), "--fai-idx", str(tmp_fai))


def _wrap(letters: np.ndarray, width: int) -> bytes:
    """Bytes of ``letters`` in lines of ``width``, each ending with a newline."""
    full = len(letters) // width * width
    lines = np.full((full // width, width + 1), ord("\n"), dtype=np.uint8)
    lines[:, :width] = letters[:full].reshape(-1, width)
    tail = letters[full:].tobytes() + b"\n" if full < len(letters) else b""
    return lines.tobytes() + tail


def _write_table(path: Path, frame: pd.DataFrame) -> None:
    _write_text(path, frame.to_csv(sep="\t", index=False, lineterminator="\n"))


def _write_text(path: Path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def _manifest(
    config: SimulationConfig, meme: Path, motifs: dict[str, Motif], expressed: np.ndarray,
    sizes: dict[str, int], files: dict, sites: pd.DataFrame, variants: pd.DataFrame,
) -> dict:
    cells = config.cell_types
    return {
        "format": "epizoo-simulation/1",
        "seed": config.seed,
        "parameters": config.parameters(),
        "meme_file": {"path": str(meme), "sha256": hashlib.sha256(meme.read_bytes()).hexdigest()},
        "chrom_sizes": sizes,
        "cell_types": list(cells),
        "tfs": list(motifs),
        "motifs": {tf: m.key for tf, m in motifs.items()},
        "expressed_in": {
            tf: [c for c, on in zip(cells, expressed[i]) if on] for i, tf in enumerate(motifs)
        },
        "counts": {
            "sites": len(sites),
            "bound": {c: int(sites[f"bound_{c}"].sum()) for c in cells},
            "accessible": {c: int(sites[f"accessible_{c}"].sum()) for c in cells},
            "variants": variants["kind"].value_counts().sort_index().to_dict(),
        },
        "files": files,
    }


def _from_manifest_data(root: Path, data: dict) -> SimulatedGenome:
    files = data["files"]

    def path(relative: str) -> Path:
        return root / relative

    def nested(mapping: dict) -> dict:
        return {k: nested(v) if isinstance(v, dict) else path(v) for k, v in mapping.items()}

    return SimulatedGenome(
        root=root, seed=int(data["seed"]), cell_types=tuple(data["cell_types"]), tfs=tuple(data["tfs"]),
        motifs=dict(data["motifs"]), expressed_in={k: tuple(v) for k, v in data["expressed_in"].items()},
        chrom_sizes={k: int(v) for k, v in data["chrom_sizes"].items()},
        fasta=path(files["fasta"]), chrom_sizes_file=path(files["chrom_sizes"]),
        sites=path(files["sites"]), labels=path(files["labels"]), vcf=path(files["vcf"]),
        variants_truth=path(files["variants_truth"]),
        expression_matrix=path(files["expression_matrix"]), manifest=root / "manifest.json",
        dnase_bigwigs=nested(files["dnase_bigwigs"]), dnase_peaks=nested(files["dnase_peaks"]),
        expression=nested(files["expression"]), meta=nested(files["meta"]),
        chip_bigwigs=nested(files["chip_bigwigs"]), chip_peaks=nested(files["chip_peaks"]),
    )


# ================================================================================================
# Command line: `epizoo simulate OUT_DIR [--seed N] [--chroms N] [--length N] [--cells N]`
# ================================================================================================
def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``epizoo simulate`` arguments to ``parser``."""
    parser.add_argument("out_dir", help="output folder (created)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--chroms", type=int, default=3, help="number of chromosomes (default 3)")
    parser.add_argument("--length", type=int, default=100_000,
                        help="bases per chromosome (default 100000)")
    parser.add_argument("--cells", type=int, default=3, help="number of cell types (default 3)")
    parser.add_argument("--sites-per-chrom", type=int, default=60, help="planted sites per chromosome")
    parser.add_argument("--tfs", nargs="+", default=list(DEFAULT_TFS),
                        help="motifs to plant (MEME names; default: %(default)s)")
    parser.add_argument("--meme", default=None,
                        help="MEME motif file (default: HOCOMOCO v9 from the shared data folder)")


def run(args: argparse.Namespace) -> int:
    """Run ``epizoo simulate`` with parsed ``args``; prints a one-line summary."""
    began = time.perf_counter()
    result = simulate(
        args.out_dir, seed=args.seed, n_chroms=args.chroms, chrom_length=args.length,
        cell_types=args.cells, motifs=args.tfs, meme_file=args.meme,
        sites_per_chrom=args.sites_per_chrom,
    )
    if not getattr(args, "quiet", False):
        counts = json.loads(result.manifest.read_text())["counts"]
        print(
            f"simulated {len(result.chrom_sizes)} chromosomes, {counts['sites']} sites, "
            f"{len(result.cell_types)} cell types, {sum(counts['variants'].values())} variants "
            f"in {time.perf_counter() - began:.1f} s -> {result.manifest}"
        )
    return 0
