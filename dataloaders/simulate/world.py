"""`simulate`: one seeded world, drawn concern by concern and written; `SimulatedGenome` reads it back."""
from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .cells import accessibility, annotate_cells, expression_pattern, expression_values
from .config import DEFAULT_TFS, STREAMS, SimulationConfig, cell_names, default_meme_file, stream
from .atac import site_activity
from .files import write_all, write_atac
from .genome import build_genome
from .pwm import load_motifs
from .sites import place_sites, plant, site_scores
from .variants import draw_variants

logger = logging.getLogger(__name__)


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
    atac_bigwigs, atac_peaks
        Cell type -> ``rep1``/``rep2`` -> path, and cell type -> peak file (``atac=True`` only).
    atac_variant_effects, saturation_vcf, saturation_truth
        The variants' exact ATAC effects, and the saturation mutagenesis VCF and its truth.
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
    atac_bigwigs: dict[str, dict[str, Path]] = field(default_factory=dict)
    atac_peaks: dict[str, Path] = field(default_factory=dict)
    atac_variant_effects: Path | None = None
    saturation_vcf: Path | None = None
    saturation_truth: Path | None = None

    @property
    def bigwigs(self) -> dict[str, Path]:
        """Every bigWig by name: ``<cell>.dnase`` and ``<cell>.<tf>``."""
        return _by_name(self.dnase_bigwigs, self.chip_bigwigs)

    @property
    def peaks(self) -> dict[str, Path]:
        """Every peak file by name: ``<cell>.dnase`` and ``<cell>.<tf>``."""
        return _by_name(self.dnase_peaks, self.chip_peaks)

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
        return from_manifest_data(manifest.parent, data)


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
        cell_types=cell_names(cell_types), tfs=tuple(motifs),
        meme_file=None if meme_file is None else str(meme_file), **options,
    )
    return simulate_config(out_dir, config)


def simulate_config(out_dir: str | Path, config: SimulationConfig) -> SimulatedGenome:
    """`simulate` from a ready `SimulationConfig`."""
    began = time.perf_counter()
    root = Path(out_dir)
    root.mkdir(parents=True, exist_ok=True)
    rngs = {name: stream(config.seed, name) for name in STREAMS}
    meme = Path(config.meme_file) if config.meme_file else default_meme_file()
    motifs = load_motifs(meme, config.tfs)
    tfs = tuple(motifs)
    genome, soft_mask = build_genome(rngs["genome"], config)
    sites = place_sites(rngs["sites"], genome, motifs, config)
    plant(genome, sites)
    sites["score"], sites["rel_score"] = site_scores(sites, motifs, config.gc)
    expressed = expression_pattern(tfs, config)
    expression = expression_values(rngs["cells"], tfs, expressed, config)
    accessible = accessibility(rngs["cells"], len(sites), config)
    bound = accessible & expressed[sites["tf_index"].to_numpy()]
    sites = annotate_cells(sites, accessible, bound, config.cell_types)
    variants = draw_variants(rngs["variants"], genome, sites, motifs, config)
    atac_files = None
    if config.atac:
        activity = site_activity(sites, expressed, motifs, config)
        atac_files = write_atac(root, genome, sites, activity, variants, motifs, rngs["atac"], config)
    files = write_all(root, config, meme, motifs, genome, soft_mask, sites, expressed, expression, variants,
                      rngs["tracks"], atac_files)
    logger.info("simulated %d sites in %.2f s into %s", len(sites), time.perf_counter() - began, root)
    return SimulatedGenome.from_manifest(files)


def from_manifest_data(root: Path, data: dict) -> SimulatedGenome:
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
        atac_bigwigs=nested(files.get("atac_bigwigs", {})), atac_peaks=nested(files.get("atac_peaks", {})),
        **{key: path(files[key]) for key in ("atac_variant_effects", "saturation_vcf", "saturation_truth")
           if key in files},
    )


def _by_name(dnase: dict[str, Path], chip: dict[str, dict[str, Path]]) -> dict[str, Path]:
    """``<cell>.dnase`` and ``<cell>.<tf>`` -> path."""
    files = {f"{cell}.dnase": path for cell, path in dnase.items()}
    files.update({f"{cell}.{tf}": path for cell, per_tf in chip.items() for tf, path in per_tf.items()})
    return files
