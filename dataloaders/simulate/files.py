"""Writing a simulated world: FASTA, bigWigs, peaks, labels, expression, VCF and the manifest."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pysam

from epizoo.atomic import atomic_path
from epizoo.dataloaders.motifs import Motif
from epizoo.dataloaders.tracks import write_bigwig
from epizoo.weights import file_record

from . import atac as atac_rules
from .cells import chip_rates, dnase_rates, meta_pcs
from .config import LETTERS, N_CODE, SimulationConfig
from .labels import bin_labels
from .variants import vcf_text


#: Zoom levels per bigWig: enough for chromosomes of this size, and 2x faster than 10.
_BIGWIG_ZOOMS = 4


def write_all(
    root: Path, config: SimulationConfig, meme: Path, motifs: dict[str, Motif],
    genome: dict[str, np.ndarray], soft_mask: dict[str, np.ndarray], sites: pd.DataFrame,
    expressed: np.ndarray, expression: pd.DataFrame, variants: pd.DataFrame, tracks_rng: np.random.Generator,
    atac_files: dict | None = None,
) -> Path:
    """Write every file (the tracks' counts drawn from ``tracks_rng``); returns the manifest's path.

    ``atac_files`` are the manifest entries of `write_atac`, already written."""
    tfs = tuple(motifs)
    sizes = {c: len(s) for c, s in genome.items()}
    files: dict = {"fasta": "genome/genome.fa", "chrom_sizes": "chrom.sizes", "sites": "sites.tsv",
                   "labels": "labels.tsv", "vcf": "variants.vcf", "variants_truth": "variants_truth.tsv",
                   "expression_matrix": "expression/rna.tsv"}
    _write_fasta(root / files["fasta"], genome, soft_mask)
    _write_text(root / files["chrom_sizes"], "".join(f"{c}\t{n}\n" for c, n in sizes.items()))
    files |= _write_expression(root, expression, config)
    tracks = _write_tracks(root, genome, sites, tfs, tracks_rng, config)
    files["dnase_bigwigs"], files["chip_bigwigs"] = tracks
    files["dnase_peaks"], files["chip_peaks"] = _write_peaks(root, sites, tfs, config)
    _write_table(root / files["labels"], bin_labels(sites, sizes, tfs, config.cell_types))
    _write_text(root / files["vcf"], vcf_text(variants, sizes, config))
    _write_table(root / files["variants_truth"], variants)
    _write_table(root / files["sites"], _site_columns(sites, config.cell_types))
    files |= atac_files or {}
    manifest = _manifest(config, meme, motifs, expressed, sizes, files, sites, variants)
    _write_text(root / "manifest.json", json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return root / "manifest.json"


def _write_bigwig(path: Path, chrom_sizes: dict[str, int], values: dict[str, np.ndarray]) -> None:
    """A bigWig of per-base float values, one run-length-encoded entry per constant run."""
    write_bigwig(path, chrom_sizes, {chrom: _runs(track.astype(np.float32)) for chrom, track in values.items()},
                 max_zooms=_BIGWIG_ZOOMS)


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
        counts = {c: rng.poisson(dnase_rates(c, s, sites, cell, config)) for c, s in genome.items()}
        dnase[cell] = f"tracks/{cell}.dnase.bw"
        _write_bigwig(root / dnase[cell], sizes, counts)
        chip[cell] = {}
        for tf in tfs:
            counts = {c: rng.poisson(chip_rates(c, s, sites, cell, tf, config))
                      for c, s in genome.items()}
            chip[cell][tf] = f"tracks/{cell}.{tf}.chip.bw"
            _write_bigwig(root / chip[cell][tf], sizes, counts)
    return dnase, chip


def write_atac(
    root: Path, genome: dict[str, np.ndarray], sites: pd.DataFrame, activity: np.ndarray,
    variants: pd.DataFrame, motifs: dict[str, Motif], rng: np.random.Generator, config: SimulationConfig,
) -> dict:
    """ATAC replicates and peaks per cell type, the variants' exact effects and the saturation
    mutagenesis (rules in `epizoo.dataloaders.simulate.atac`); returns their manifest entries."""
    sizes = {c: len(s) for c, s in genome.items()}
    files: dict = {"atac_bigwigs": {}, "atac_peaks": {}}
    for j, cell in enumerate(config.cell_types):
        expected = {chrom: atac_rules.expected_coverage(
            len(codes), sites["summit"].to_numpy()[here], activity[here, j], config)
            for chrom, codes in genome.items() for here in [(sites["chrom"] == chrom).to_numpy()]}
        files["atac_bigwigs"][cell] = {}
        for rep in ("rep1", "rep2"):
            observed = {c: atac_rules.replicate(rng, expected[c], genome[c], config) for c in genome}
            files["atac_bigwigs"][cell][rep] = f"tracks/{cell}.atac.{rep}.bw"
            _write_bigwig(root / files["atac_bigwigs"][cell][rep], sizes, observed)
        peaks = activity[:, j] >= config.atac_peak_height
        files["atac_peaks"][cell] = f"peaks/{cell}.atac.narrowPeak"
        score = np.round(1000 * activity[peaks, j] / config.atac_height)
        _write_text(root / files["atac_peaks"][cell], _narrowpeak(sites[peaks], score, activity[peaks, j]))
    files["atac_variant_effects"] = "atac/variant_effects.tsv"
    effects = atac_rules.variant_effects(variants, genome, sites, activity, motifs, config)
    _write_table(root / files["atac_variant_effects"], effects)
    if config.atac_saturation_sites:
        if config.atac_saturation_chrom not in genome:
            raise ValueError(f"atac_saturation_chrom {config.atac_saturation_chrom!r} is not simulated "
                             f"(chromosomes: {', '.join(genome)}). Fix: name one of them.")
        saturation = atac_rules.saturation_variants(
            rng, genome, sites, activity, config.atac_saturation_chrom, config.atac_saturation_sites)
        files["saturation_vcf"], files["saturation_truth"] = "atac/saturation.vcf", "atac/saturation_truth.tsv"
        _write_text(root / files["saturation_vcf"], vcf_text(saturation, sizes, config))
        truth = atac_rules.variant_effects(saturation, genome, sites, activity, motifs, config)
        _write_table(root / files["saturation_truth"], saturation.merge(truth, on=["id", "kind"]))
    return files


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
    pcs = meta_pcs(expression)
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
        letters = LETTERS[codes]
        letters[soft_mask[chrom] & (codes != N_CODE)] += 32
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
        # by name and checksum, never by a path of this machine
        "meme_file": file_record(meme),
        "chrom_sizes": sizes,
        "cell_types": list(cells),
        "tfs": list(motifs),
        "motifs": {tf: m.header for tf, m in motifs.items()},
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
