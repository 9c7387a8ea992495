"""The simulator's ATAC world (GOPHER's benchmark): every rule of `simulate.atac` checked on the files."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pyBigWig
import pytest

from epizoo.dataloaders.genome import Genome
from epizoo.dataloaders.intervals import read_bed
from epizoo.dataloaders.simulate import default_meme_file, gopher_config, log_odds, simulate
from epizoo.dataloaders.simulate.atac import best_scores, occupancy
from epizoo.dataloaders.simulate.pwm import load_motifs
from epizoo.dataloaders.variants import VcfVariants

pytestmark = pytest.mark.needs("shared_data")

CELLS = ("cellA", "cellB", "cellC")
EXPRESSED_IN = {"FOXA1": ("cellA",), "GATA1": ("cellB", "cellC")}


@pytest.fixture(autouse=True)
def _private_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("EPIZOO_CACHE", str(tmp_path / "cache"))


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    return simulate(tmp_path_factory.mktemp("atac"), seed=2, n_chroms=2, chrom_length=40_000, cell_types=CELLS,
                    motifs=("CTCF", "FOXA1", "GATA1"), expressed_in=EXPRESSED_IN, sites_per_chrom=20,
                    shared_accessible=1.0, variants_per_kind=4, atac=True, atac_saturation_sites=2,
                    atac_saturation_chrom="chr2")


@pytest.fixture(scope="module")
def sites(world) -> pd.DataFrame:
    return world.load_sites()


def _heights(world, sites) -> np.ndarray:
    """Each site's expected peak height per cell type, from its PWM score (the documented rule)."""
    motifs = load_motifs(default_meme_file(), world.tfs)
    best = sites["tf"].map(best_scores(motifs, 0.41)).to_numpy()
    expressed = np.array([[c in world.expressed_in[tf] for c in CELLS] for tf in sites["tf"]])
    return 12.0 * occupancy(sites["score"].to_numpy(), best, 8.0)[:, None] * expressed


def test_occupancy_is_one_half_at_the_half_drop_and_halves_its_odds_per_bit():
    at = occupancy(np.array([2.0, 1.0, 3.0]), np.array([10.0, 10.0, 10.0]), 8.0)
    assert at[0] == pytest.approx(0.5)
    odds = at / (1 - at)
    assert odds[1] == pytest.approx(0.5) and odds[2] == pytest.approx(2.0)


def test_replicates_are_noisy_draws_of_the_expected_coverage(world, sites):
    heights = _heights(world, sites)
    site = sites.index[heights[:, 0] > 6][0]
    summit, chrom = int(sites.at[site, "summit"]), sites.at[site, "chrom"]
    reps = [pyBigWig.open(str(world.atac_bigwigs["cellA"][r])) for r in ("rep1", "rep2")]
    peak = [np.asarray(r.values(chrom, summit - 20, summit + 20)) for r in reps]
    far = [np.asarray(r.values("chr1", 0, 40_000)) for r in reps]
    assert np.mean(peak[0]) == pytest.approx(1.0 + heights[site, 0], rel=0.25)
    assert not np.array_equal(far[0], far[1])                      # independent noise
    assert np.nanmedian(far[0]) == pytest.approx(1.0, abs=0.1)    # mostly baseline
    genome = Genome(world.fasta)
    n_mask = np.frombuffer(genome.sequence("chr1", 0, 40_000).upper().encode(), dtype=np.uint8) == ord("N")
    assert n_mask.any() and np.isnan(far[0][n_mask]).all() and not np.isnan(far[0][~n_mask]).any()


def test_peaks_are_the_sites_whose_expected_height_reaches_two(world, sites):
    heights = _heights(world, sites)
    for j, cell in enumerate(CELLS):
        peaks = read_bed(world.atac_peaks[cell])
        expected = sites.loc[heights[:, j] >= 2.0, "site_id"].tolist()
        assert peaks["name"].tolist() == expected
    foxa1 = sites["tf"] == "FOXA1"
    assert not set(sites.loc[foxa1, "site_id"]) & set(read_bed(world.atac_peaks["cellB"])["name"])


def test_variant_effects_follow_the_rescored_site(world, sites):
    effects = pd.read_csv(world.atac_variant_effects, sep="\t")
    truth = world.load_variants_truth().merge(effects, on=["id", "kind"])
    outside = truth["kind"].isin(["neutral", "indel_outside"])
    assert (truth.loc[outside].filter(like="log2fc") == 0).all().all()
    breaks = truth[truth["kind"] == "breaks_site"]
    assert (breaks["log2fc"] < 0).all()
    for row in breaks.itertuples():
        expressed = world.expressed_in[row.tf]
        for cell in CELLS:
            value = getattr(row, f"log2fc_{cell}")
            assert (value < 0) if cell in expressed else (value == 0), (row.id, cell)


def test_one_snv_effect_by_hand(world, sites):
    """log2 of (window total + change in height x peak mass) / window total, with the site re-scored."""
    truth = world.load_variants_truth()
    row = truth[(truth["kind"] == "breaks_site") & (truth["tf"] == "CTCF")].iloc[0]
    effect = pd.read_csv(world.atac_variant_effects, sep="\t").set_index("id").loc[row["id"]]
    site = sites.set_index("site_id").loc[row["site_id"]]
    motif = load_motifs(default_meme_file(), ["CTCF"])["CTCF"]
    codes = np.array(["ACGT".index(b) for b in site["sequence"]])
    codes[int(row["motif_offset"])] = "ACGT".index(row["alt"]) if site["strand"] == "+" else 3 - "ACGT".index(row["alt"])
    alt_score = log_odds(motif.probabilities)[codes, np.arange(len(codes))].sum()
    best = best_scores({"CTCF": motif}, 0.41)["CTCF"]
    change = 12.0 * (occupancy(np.array([alt_score]), np.array([best]), 8.0)[0]
                     - occupancy(np.array([site["score"]]), np.array([best]), 8.0)[0])
    mass = np.exp(-0.5 * (np.arange(-150, 150) / 60.0) ** 2).sum()
    expected_ref = np.zeros(40_000)
    chrom_sites = sites[sites["chrom"] == row["chrom"]]
    heights = _heights(world, sites)[chrom_sites.index, 0]
    expected_ref += 1.0
    for summit, height in zip(chrom_sites["summit"], heights):
        expected_ref[summit - 150 : summit + 150] += height * np.exp(-0.5 * (np.arange(-150, 150) / 60.0) ** 2)
    start = max(0, row["pos"] - 1 - 1024)
    total = expected_ref[start : start + 2048].sum()
    assert effect["log2fc_cellA"] == pytest.approx(np.log2((total + change * mass) / total), abs=1e-5)


def test_saturation_mutagenesis_covers_every_core_base_and_reads_as_a_vcf(world, sites):
    truth = pd.read_csv(world.saturation_truth, sep="\t")
    assert truth["site_id"].nunique() == 2
    for site_id, rows in truth.groupby("site_id"):
        site = sites.set_index("site_id").loc[site_id]
        width = site["core_end"] - site["core_start"]
        assert len(rows) == 3 * (width + 10)
        inside = rows["pos"].between(site["core_start"] + 1, site["core_end"])
        assert (rows.loc[~inside, "log2fc"] == 0).all() and (rows.loc[inside, "log2fc"] != 0).any()
    records = list(VcfVariants(world.saturation_vcf, genome=Genome(world.fasta)))
    assert len(records) == len(truth)


def test_the_gopher_preset_gives_fifteen_distinct_grammars():
    config = gopher_config(n_chroms=9, chrom_length=30_000)
    grammars = {tuple(tf for tf, cells in config.expressed_in.items() if cell in cells) for cell in config.cell_types}
    assert len(config.cell_types) == 15 and len(grammars) == 15 and () not in grammars
    assert config.atac and config.atac_saturation_chrom == "chr8"
