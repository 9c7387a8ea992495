"""The seeded simulator: determinism, and every documented rule checked against the files."""
from __future__ import annotations

import argparse
import hashlib
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyBigWig
import pytest
from memelite.io import read_meme

from epizoo.dataloaders.genome import Genome
from epizoo.dataloaders.intervals import read_bed
from epizoo.commands.simulate import add_arguments, run
from epizoo.dataloaders.onehot import reverse_complement
from epizoo.dataloaders.simulate import (
    BIN_STEP,
    BIN_WIDTH,
    SimulatedGenome,
    bin_starts,
    core_bin_labels,
    default_meme_file,
    score_sequence,
    simulate,
)
from epizoo.dataloaders.tracks import BigWigTracks
from epizoo.dataloaders.variants import VcfVariants


# The simulator plants HOCOMOCO v9 motifs, read from ../shared/data (or EPIZOO_MIRROR).
pytestmark = pytest.mark.needs("shared_data")


@pytest.fixture(autouse=True)
def _private_cache(monkeypatch, tmp_path):
    """`Genome` may build FASTA indexes in the cache: keep it in a temporary folder."""
    monkeypatch.setenv("EPIZOO_CACHE", str(tmp_path / "cache"))


@pytest.fixture(scope="module")
def sim(tmp_path_factory) -> SimulatedGenome:
    """The default simulation (3 x 100 kb, 3 cell types, 5 TFs), generated once per module."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("EPIZOO_CACHE", str(tmp_path_factory.mktemp("cache")))
        return simulate(tmp_path_factory.mktemp("sim"), seed=0)


@pytest.fixture(scope="module")
def sites(sim) -> pd.DataFrame:
    return sim.load_sites()


@pytest.fixture(scope="module")
def truth(sim) -> pd.DataFrame:
    return sim.load_variants_truth()


@pytest.fixture(scope="module")
def pwms(sim) -> dict[str, np.ndarray]:
    table = read_meme(str(default_meme_file()))
    return {tf: table[key] / table[key].sum(axis=0) for tf, key in sim.motifs.items()}


def _digests(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*")) if p.is_file()
    }


def _track_mean(tracks: BigWigTracks, frame: pd.DataFrame, start: str, end: str) -> float:
    rows = frame.itertuples()
    values = [tracks.values(r.chrom, getattr(r, start), getattr(r, end))[:, 0] for r in rows]
    return float(np.concatenate(values).mean())


# -- determinism and layout -----------------------------------------------------------------------
def test_same_seed_gives_byte_identical_files(sim, tmp_path):
    again = simulate(tmp_path / "again", seed=0)
    first, second = _digests(sim.root), _digests(again.root)
    assert first == second
    assert len(first) > 40 and not any(".tmp" in name for name in first)


def test_different_seed_gives_different_outputs(sim, tmp_path):
    other = simulate(tmp_path / "other", seed=1)
    first, second = _digests(sim.root), _digests(other.root)
    assert first.keys() == second.keys()
    for name in ("genome/genome.fa", "sites.tsv", "variants.vcf", "tracks/cellA.dnase.bw", "labels.tsv"):
        assert first[name] != second[name], name


def test_layout_manifest_and_round_trip(sim):
    assert sorted(p.name for p in sim.fasta.parent.iterdir()) == ["genome.fa", "genome.fa.fai"]
    manifest = json.loads(sim.manifest.read_text())
    assert manifest["seed"] == 0 and manifest["parameters"]["chrom_length"] == 100_000
    assert SimulatedGenome.from_manifest(sim.root) == sim
    every_path = [sim.fasta, sim.sites, sim.labels, sim.vcf, sim.variants_truth, sim.expression_matrix,
                  sim.chrom_sizes_file, *sim.bigwigs.values(), *sim.peaks.values(),
                  *sim.expression.values(), *sim.meta.values()]
    assert all(p.is_file() for p in every_path)
    assert len(sim.bigwigs) == 3 * (1 + 5) and len(sim.peaks) == 3 * (1 + 5)
    assert sim.chrom_sizes == {"chr1": 100_000, "chr2": 100_000, "chr3": 100_000}
    assert sim.cell_types == ("cellA", "cellB", "cellC")


def test_genome_background_n_runs_and_soft_mask(sim):
    text = "".join(l.strip() for l in sim.fasta.read_text().splitlines() if not l.startswith(">"))
    letters = np.frombuffer(text.encode(), dtype=np.uint8)
    acgt = letters[np.isin(letters, list(b"ACGTacgt"))]
    gc = np.isin(acgt, list(b"CGcg")).mean()
    assert abs(gc - 0.41) < 0.01
    assert 0 < (letters == ord("N")).sum() < 0.01 * len(letters)
    assert np.isin(letters, list(b"acgt")).any()


# -- sites --------------------------------------------------------------------------------------
def test_every_planted_site_is_in_the_fasta_on_its_strand(sim, sites):
    genome = Genome(sim.fasta)
    assert set(sites["strand"]) == {"+", "-"}
    for site in sites.itertuples():
        planted = genome.sequence(site.chrom, site.core_start, site.core_end)
        expected = site.sequence if site.strand == "+" else reverse_complement(site.sequence)
        assert planted == expected, site.site_id
        assert site.start <= site.core_start < site.core_end <= site.end


def test_sites_do_not_overlap_and_scores_match_the_pwm(sites, pwms):
    for _, group in sites.groupby("chrom"):
        assert (group["start"].to_numpy()[1:] >= group["end"].to_numpy()[:-1]).all()
    for site in sites.sample(30, random_state=0).itertuples():
        assert score_sequence(site.sequence, pwms[site.tf]) == pytest.approx(site.score, abs=1e-3)
    assert sites["tf"].value_counts().nunique() == 1   # motifs dealt in equal shares


def test_binding_is_accessibility_and_expression(sim, sites):
    expression = sim.load_expression()
    for cell in sim.cell_types:
        expressed = expression.loc[sites["tf"], cell].to_numpy() > 5.0
        accessible = sites[f"accessible_{cell}"].to_numpy() == 1
        np.testing.assert_array_equal(sites[f"bound_{cell}"].to_numpy() == 1, accessible & expressed)
    a, b = sites["accessible_cellA"] == 1, sites["accessible_cellB"] == 1
    assert 0.45 < (a & b).sum() / (a | b).sum() < 0.8   # ~60% overlap between cell types


def test_cell_specific_tf_binds_only_where_it_is_expressed(sim, sites):
    assert sim.expressed_in["CTCF"] == sim.cell_types          # ubiquitous
    assert sim.expressed_in["FOXA1"] == ("cellA",)             # cell specific
    foxa1 = sites[sites["tf"] == "FOXA1"]
    assert foxa1["bound_cellA"].sum() > 5
    assert foxa1["bound_cellB"].sum() == foxa1["bound_cellC"].sum() == 0
    ctcf = sites[sites["tf"] == "CTCF"]
    assert all(ctcf[f"bound_{c}"].sum() > 5 for c in sim.cell_types)
    expression = sim.load_expression()
    assert expression.loc["FOXA1", "cellA"] > 5.0 > expression.loc["FOXA1", ["cellB", "cellC"]].max()
    assert len(read_bed(sim.chip_peaks["cellB"]["FOXA1"])) == 0
    tracks = BigWigTracks([sim.chip_bigwigs["cellA"]["FOXA1"], sim.chip_bigwigs["cellB"]["FOXA1"]])
    bound = foxa1[foxa1["bound_cellA"] == 1]
    at_sites = np.concatenate([tracks.values(s.chrom, s.summit - 40, s.summit + 40)
                               for s in bound.itertuples()])
    assert at_sites[:, 0].mean() > 10 * at_sites[:, 1].mean()


# -- expression files ---------------------------------------------------------------------------
def test_expression_and_factornet_meta_files(sim):
    for cell in sim.cell_types:
        per_cell = pd.read_csv(sim.expression[cell], sep="\t")
        assert list(per_cell.columns) == ["gene", "expression"]
        assert per_cell["gene"].iloc[:5].tolist() == list(sim.tfs)
        lines = sim.meta[cell].read_text().splitlines()
        assert [l.split("\t")[1] for l in lines] == [f"GEPC{i}" for i in range(1, 9)]
        float(lines[0].split("\t")[0])
    pcs = np.array([np.loadtxt(sim.meta[c], usecols=0) for c in sim.cell_types])
    assert np.abs(pcs[:, 0]).max() > 0 and np.allclose(pcs.sum(axis=0), 0, atol=1e-4)  # centred scores


# -- variants -----------------------------------------------------------------------------------
def test_vcf_reads_through_vcfvariants_with_no_rejects(sim, truth):
    reader = VcfVariants(sim.vcf, genome=Genome(sim.fasta))
    variants = list(reader)
    assert reader.rejected == [] and reader.reconciles()
    assert reader.counts["scored"] == reader.counts["records"] == len(truth) == 40
    assert [v.id for v in variants] == truth["id"].tolist()
    assert sum(line.startswith("##contig=<ID=chr") for line in reader.header) == 3
    assert reader.header[0] == "##fileformat=VCFv4.2"


def test_vcf_is_sorted_with_unique_ids_and_every_kind(sim, truth):
    order = truth["chrom"].map({c: i for i, c in enumerate(sim.chrom_sizes)})
    keys = list(zip(order, truth["pos"]))
    assert keys == sorted(keys) and len(set(keys)) == len(keys)
    assert truth["id"].is_unique
    vcf_rows = [l.split("\t") for l in sim.vcf.read_text().splitlines() if not l.startswith("#")]
    assert [(r[0], int(r[1]), r[2], r[3], r[4]) for r in vcf_rows] == list(
        truth[["chrom", "pos", "id", "ref", "alt"]].itertuples(index=False, name=None))
    assert truth["kind"].value_counts().to_dict() == dict.fromkeys(
        ["breaks_site", "weakens_site", "neutral", "indel_in_site", "indel_outside"], 8)
    indels = truth[truth["kind"].str.startswith("indel")]
    assert (indels["ref"].str.len() > 1).any() and (indels["alt"].str.len() > 1).any()


@pytest.mark.parametrize("kind", ["breaks_site", "weakens_site"])
def test_motif_snvs_sit_in_bound_cores_and_lower_the_pwm_score(sites, truth, pwms, kind):
    rows = truth[truth["kind"] == kind]
    assert set(rows["site_strand"]) == {"+", "-"}
    by_id = sites.set_index("site_id")
    info = {tf: (p * np.log2(np.clip(p, 1e-12, 1) / np.array([.295, .205, .205, .295])[:, None])).sum(0)
            for tf, p in pwms.items()}
    for variant in rows.itertuples():
        site = by_id.loc[variant.site_id]
        position = variant.pos - 1
        assert site.core_start <= position < site.core_end and site.chrom == variant.chrom
        assert any(site[f"bound_{c}"] for c in ("cellA", "cellB", "cellC"))
        offset = position - site.core_start if site.strand == "+" else site.core_end - 1 - position
        alt = variant.alt if site.strand == "+" else reverse_complement(variant.alt)
        mutated = site.sequence[:offset] + alt + site.sequence[offset + 1 :]
        before = score_sequence(site.sequence, pwms[site.tf])
        assert score_sequence(mutated, pwms[site.tf]) < before
        target = info[site.tf].argmax() if kind == "breaks_site" else info[site.tf].argmin()
        assert offset == target
        if kind == "breaks_site":   # ALT is the least likely base there
            column = pwms[site.tf][:, offset]
            others = [b != site.sequence[offset] for b in "ACGT"]
            assert column["ACGT".index(alt)] == column[others].min()
            assert before - score_sequence(mutated, pwms[site.tf]) > 3


def test_indels_and_neutral_variants_are_where_their_kind_says(sites, truth):
    cores = sites.set_index("site_id")
    for variant in truth[truth["kind"] == "indel_in_site"].itertuples():
        site = cores.loc[variant.site_id]
        changed_start = variant.pos                      # first base after the anchor (0-based)
        assert site.core_start <= changed_start < site.core_end
        assert len(variant.ref) != len(variant.alt) and variant.ref[0] == variant.alt[0]
    outside = truth[truth["kind"].isin(["neutral", "indel_outside"])]
    assert (outside["site_id"] == "").all()
    for variant in outside.itertuples():
        here = sites[sites["chrom"] == variant.chrom]
        distance = np.maximum(here["start"] - variant.pos, variant.pos - here["end"]).min()
        assert distance >= 500


# -- labels -------------------------------------------------------------------------------------
def test_labels_follow_the_core_overlap_rule(sim, sites):
    labels = sim.load_labels()
    assert len(labels) == 3 * len(bin_starts(100_000)) == 3 * ((100_000 - BIN_WIDTH) // BIN_STEP + 1)
    assert ((labels["end"] - labels["start"]) == BIN_WIDTH).all()
    for cell in sim.cell_types:
        for tf in sim.tfs:
            expected = np.zeros(len(labels), dtype=np.int64)
            for site in sites[(sites["tf"] == tf) & (sites[f"bound_{cell}"] == 1)].itertuples():
                on_chrom = (labels["chrom"] == site.chrom).to_numpy()
                overlap = (np.minimum(labels["end"], site.core_end)
                           - np.maximum(labels["start"], site.core_start)).to_numpy()
                expected |= on_chrom & (2 * overlap > site.core_end - site.core_start)
            column = f"{cell}.{tf}"
            np.testing.assert_array_equal(labels[column].to_numpy(), expected, err_msg=column)
    columns = labels.columns[3:]
    assert labels["cellA.FOXA1"].sum() > 0 and labels["cellB.FOXA1"].sum() == 0
    near = np.zeros(len(labels), dtype=bool)
    for site in sites.itertuples():
        same = labels["chrom"] == site.chrom
        near |= (same & (labels["end"] > site.start) & (labels["start"] < site.end)).to_numpy()
    assert labels.loc[~near, columns].to_numpy().sum() == 0


def test_a_bin_is_positive_only_when_it_holds_more_than_half_of_a_core():
    # bins: [0,200) [50,250) [100,300) [150,350) [200,400) [250,450)
    labels = core_bin_labels(np.array([245]), np.array([255]), 6)   # halves at 250
    np.testing.assert_array_equal(labels, [0, 0, 1, 1, 1, 0])
    labels = core_bin_labels(np.array([10, 344]), np.array([21, 355]), 6)  # 11-bp cores
    np.testing.assert_array_equal(labels, [1, 0, 0, 1, 1, 1])
    assert core_bin_labels(np.array([], int), np.array([], int), 4).tolist() == [0, 0, 0, 0]


# -- tracks and peaks ---------------------------------------------------------------------------
def test_dnase_is_high_at_accessible_sites_with_a_footprint(sim, sites):
    for cell in sim.cell_types:
        tracks = BigWigTracks([sim.dnase_bigwigs[cell]])
        accessible = sites[sites[f"accessible_{cell}"] == 1]
        closed = sites[sites[f"accessible_{cell}"] == 0]
        open_mean = _track_mean(tracks, accessible, "start", "end")
        assert open_mean > 10 * _track_mean(tracks, closed, "start", "end")
        bound = sites[sites[f"bound_{cell}"] == 1]
        assert _track_mean(tracks, bound, "core_start", "core_end") < 0.3 * open_mean   # footprint
        genome_mean = np.mean([tracks.values(c, 0, n)[:, 0].mean() for c, n in sim.chrom_sizes.items()])
        assert open_mean > 5 * genome_mean


def test_chip_coverage_peaks_at_bound_sites(sim, sites):
    for cell, tf in [("cellA", "CTCF"), ("cellC", "HNF4A"), ("cellB", "MAX")]:
        tracks = BigWigTracks([sim.chip_bigwigs[cell][tf]])
        bound = sites[(sites["tf"] == tf) & (sites[f"bound_{cell}"] == 1)]
        profiles = np.stack([tracks.values(s.chrom, s.start, s.end)[:, 0] for s in bound.itertuples()])
        mean = profiles.mean(axis=0)
        smooth = np.convolve(mean, np.ones(21) / 21, mode="same")
        assert abs(int(smooth.argmax()) - 150) <= 20
        assert mean[130:170].mean() > 10 * mean[:20].mean()
        unbound = sites[(sites["tf"] == tf) & (sites[f"bound_{cell}"] == 0)]
        assert _track_mean(tracks, unbound, "start", "end") < 0.2


def test_peak_files_are_narrowpeak_of_the_bound_and_accessible_sites(sim, sites):
    peaks = read_bed(sim.chip_peaks["cellA"]["CTCF"])
    bound = sites[(sites["tf"] == "CTCF") & (sites["bound_cellA"] == 1)]
    assert peaks.shape[1] == 10 + 1                      # 10 columns + read_bed's line number
    assert peaks["name"].tolist() == bound["site_id"].tolist()
    assert (peaks["start"] + peaks["col9"].astype(int) == bound["summit"].to_numpy()).all()
    accessible = read_bed(sim.dnase_peaks["cellB"])
    assert accessible["name"].tolist() == sites.loc[sites["accessible_cellB"] == 1, "site_id"].tolist()


# -- API and CLI --------------------------------------------------------------------------------
def test_cli_hook_writes_a_small_simulation(tmp_path, capsys):
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args([str(tmp_path / "cli"), "--seed", "3", "--chroms", "2", "--length", "20000",
                              "--cells", "2", "--sites-per-chrom", "10"])
    assert run(args) == 0
    result = SimulatedGenome.from_manifest(tmp_path / "cli")
    assert result.seed == 3 and result.cell_types == ("cellA", "cellB")
    assert result.chrom_sizes == {"chr1": 20_000, "chr2": 20_000}
    assert len(result.load_sites()) == 20 and "simulated" in capsys.readouterr().out


def test_bad_parameters_are_reported(tmp_path):
    with pytest.raises(ValueError, match="sites_per_chrom"):
        simulate(tmp_path, chrom_length=10_000, sites_per_chrom=50)
    with pytest.raises(KeyError, match="NOT_A_TF"):
        simulate(tmp_path, motifs=("CTCF", "NOT_A_TF"))
    with pytest.raises(TypeError):
        simulate(tmp_path, no_such_option=1)


# -- same seed, same files: the world the simulator wrote before it became a package ------------
#: a digest per file of the small world below, with every number rounded to 6 significant digits
#: (so that a last-bit difference of a transcendental function on another CPU does not count)
SMALL_WORLD = {
    "chrom.sizes": "123fcb51d77f549a",
    "expression/cellA.expression.tsv": "ed1cb055a956b970",
    "expression/cellA.meta.txt": "02b3caf99e61fb7e",
    "expression/cellB.expression.tsv": "757cde43e91a77a7",
    "expression/cellB.meta.txt": "d14abfa04c79b28b",
    "expression/rna.tsv": "91707fb0315aa42c",
    "genome/genome.fa": "c7d87cae3029e5c2",
    "genome/genome.fa.fai": "90dfed8ece6d3fa2",
    "labels.tsv": "4c5216d88c1932cf",
    "manifest.json": "8a964df89152d669",
    "peaks/cellA.CTCF.narrowPeak": "51b959087d54904a",
    "peaks/cellA.FOXA1.narrowPeak": "24e42851f735065f",
    "peaks/cellA.MAX.narrowPeak": "f1840a9566b40d0d",
    "peaks/cellA.dnase.narrowPeak": "a3818b6b0a0bff38",
    "peaks/cellB.CTCF.narrowPeak": "3e04ee3980efc7ee",
    "peaks/cellB.FOXA1.narrowPeak": "e3b0c44298fc1c14",
    "peaks/cellB.MAX.narrowPeak": "97601ac63bb0c276",
    "peaks/cellB.dnase.narrowPeak": "d13f92f2a581e250",
    "sites.tsv": "37a207b2dd045da7",
    "tracks/cellA.CTCF.chip.bw": "f6b5c1a51bd45bbe",
    "tracks/cellA.FOXA1.chip.bw": "1631a8653b4557b6",
    "tracks/cellA.MAX.chip.bw": "56ab4a2702a6e0b7",
    "tracks/cellA.dnase.bw": "e731b8a2a61f0e55",
    "tracks/cellB.CTCF.chip.bw": "aabe0fd4125b903c",
    "tracks/cellB.FOXA1.chip.bw": "c8a3fed52a6d6b61",
    "tracks/cellB.MAX.chip.bw": "efaa63b4030957c0",
    "tracks/cellB.dnase.bw": "714b62a5d00bd344",
    "variants.vcf": "2a6986bc2c244597",
    "variants_truth.tsv": "923fab99c76a2754",
}
FLOAT = re.compile(rb"-?\d+\.\d+(?:[eE][-+]?\d+)?|-?\d+[eE][-+]?\d+")


def _digest(path: Path) -> str:
    if path.suffix == ".bw":
        handle, digest = pyBigWig.open(str(path)), hashlib.sha256()
        for chrom, length in sorted(handle.chroms().items()):
            values = np.nan_to_num(np.asarray(handle.values(chrom, 0, length), dtype=np.float64), nan=-1.0)
            digest.update(chrom.encode())
            digest.update(np.char.mod("%.6g", values).astype("S").tobytes())
        return digest.hexdigest()[:16]
    rounded = FLOAT.sub(lambda match: b"%.6g" % float(match.group()), path.read_bytes())
    return hashlib.sha256(rounded).hexdigest()[:16]


def test_the_same_seed_writes_the_same_files_as_before(tmp_path):
    simulate(tmp_path, seed=3, n_chroms=2, chrom_length=20_000, cell_types=2, motifs=("CTCF", "FOXA1", "MAX"),
             sites_per_chrom=12, variants_per_kind=2)
    written = {str(p.relative_to(tmp_path)): _digest(p) for p in sorted(tmp_path.rglob("*")) if p.is_file()}
    assert written == SMALL_WORLD


def test_sharpened_motifs_plant_instances_closer_to_the_consensus(tmp_path):
    from epizoo.dataloaders.simulate.sites import sharpened

    ppm = np.array([[0.7, 0.25], [0.1, 0.25], [0.1, 0.25], [0.1, 0.25]])
    np.testing.assert_allclose(sharpened(ppm, 2.0), [[0.49 / 0.52, 0.25], [0.01 / 0.52, 0.25],
                                                     [0.01 / 0.52, 0.25], [0.01 / 0.52, 0.25]])
    assert sharpened(ppm, 1.0) is ppm
    scores = {power: simulate(tmp_path / str(power), seed=2, n_chroms=1, chrom_length=30_000, sites_per_chrom=40,
                              motif_sharpness=power).load_sites()["rel_score"].mean() for power in (1.0, 3.0)}
    assert scores[3.0] > scores[1.0] + 0.05, scores  # measured 0.90 -> 0.98 of the best score
