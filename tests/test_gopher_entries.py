"""The GOPHER zoo entries trained on the synthetic benchmark: complete, checked, honest, and useful
for variant effects on a world they never saw."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml

from epizoo.check import check_entry
from epizoo.registry import list_entries
from epizoo.zoo import ZOO_ROOT

ENTRIES = sorted(p.parent.name for p in (ZOO_ROOT / "GOPHER").glob("*/model.yaml"))
pytestmark = pytest.mark.needs("shared_data")


@pytest.fixture(autouse=True)
def _private_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("EPIZOO_CACHE", str(tmp_path / "cache"))


def _targets(entry: str) -> dict:
    return yaml.safe_load((ZOO_ROOT / "GOPHER" / entry / "model.yaml").read_text())["schema"]["targets"]


def test_the_zoo_has_quantitative_basenji_and_two_headed_bpnet_models_and_a_binary_one():
    assert {"Basenji-128", "BPNet-base", "Basenji-binary"} <= set(ENTRIES)
    assert {f"GOPHER/{e}" for e in ENTRIES} <= set(list_entries())
    basenji, bpnet, binary = _targets("Basenji-128"), _targets("BPNet-base"), _targets("Basenji-binary")
    assert basenji["bin_size"] == 128 and basenji["shape"] == "(16, 15)" and len(basenji["tasks"]) == 15
    assert bpnet["profile"]["bin_size"] == 1 and bpnet["profile"]["shape"] == "(2048, 15)"
    assert bpnet["counts"]["kind"] == "log_counts" and bpnet["counts"]["shape"] == "(15,)"
    assert binary["kind"] == "probability" and binary["shape"] == "(15,)"


@pytest.mark.parametrize("entry", ENTRIES)
def test_entry_passes_epizoo_check_and_kipoi_test_offline(entry):
    report = check_entry(ZOO_ROOT / "GOPHER" / entry)
    assert report.ok, "\n".join(report.lines())


@pytest.mark.parametrize("entry", ENTRIES)
def test_entry_says_it_was_trained_on_the_synthetic_benchmark(entry):
    folder = ZOO_ROOT / "GOPHER" / entry
    info = yaml.safe_load((folder / "model.yaml").read_text())["info"]
    assert "synthetic" in info["trained_on"] and "synthetic" in info["doc"] and "not on real data" in info["doc"]
    assert "10.1038/s42256-022-00570-9" in info["cite_as"]
    card = (folder / "README.md").read_text()
    assert "| metric | value |" in card and "vep_robust" in card and "Limitations" in card


@pytest.fixture(scope="module")
def fresh_world(tmp_path_factory):
    """A world the entries never saw, with the benchmark's rules (the same motifs and grammars)."""
    from epizoo.dataloaders.simulate import gopher_config, simulate_config

    return simulate_config(tmp_path_factory.mktemp("fresh"), gopher_config(seed=11, n_chroms=9, chrom_length=40_000))


def test_basenji_scores_motif_breaking_variants_of_an_unseen_world_below_neutral_ones(fresh_world):
    """The standard and the robust GOPHER score both rank the world's exact effects: breaking a
    motif's most informative base lowers the predicted coverage; a far-away change does not."""
    from epizoo.veff import score_variants

    truth = pd.read_csv(fresh_world.atac_variant_effects, sep="\t")
    column = "GOPHER/Basenji-128/profile/all/gopher_log2fc"
    for options in ({}, {"shifts": 4, "max_shift": 256, "profile_window": 1024}):
        frame = score_variants("GOPHER/Basenji-128", fresh_world.vcf, fresh_world.fasta, scores=["gopher_log2fc"],
                               **options)
        joined = truth.merge(frame.rename(columns={"ID": "id"})[["id", column]], on="id")
        assert len(joined) == len(truth)
        by_kind = joined.groupby("kind")[column].mean()
        assert by_kind["breaks_site"] < -0.05 and abs(by_kind["neutral"]) < 0.02, by_kind
        snvs = joined[joined["kind"].isin(["breaks_site", "weakens_site", "neutral"])]
        assert np.corrcoef(snvs[column], snvs["log2fc"])[0, 1] > 0.5


def test_bpnets_robust_score_ranks_motif_breaking_variants_of_an_unseen_world_below_neutral_ones(fresh_world):
    """BPNet's profile carries the effect over the central kilobase (its standard score reads the
    whole window's total, which its counts head predicts and barely moves: see the model card)."""
    from epizoo.veff import score_variants

    truth = pd.read_csv(fresh_world.atac_variant_effects, sep="\t")
    column = "GOPHER/BPNet-base/profile/all/gopher_log2fc"
    frame = score_variants("GOPHER/BPNet-base", fresh_world.vcf, fresh_world.fasta, scores=["gopher_log2fc"],
                           shifts=4, max_shift=256, profile_window=1024)
    joined = truth.merge(frame.rename(columns={"ID": "id"})[["id", column]], on="id")
    assert len(joined) == len(truth)
    by_kind = joined.groupby("kind")[column].mean()
    assert by_kind["breaks_site"] < by_kind["neutral"] - 0.05, by_kind
    snvs = joined[joined["kind"].isin(["breaks_site", "weakens_site", "neutral"])]
    assert np.corrcoef(snvs[column], snvs["log2fc"])[0, 1] > 0.5  # measured 0.63 (standard score: 0.28)


def test_alleles_in_elements_rank_high_among_the_models_own_peak_predictions(fresh_world):
    from epizoo.veff import score_variants

    frame = score_variants("GOPHER/Basenji-128", fresh_world.vcf, fresh_world.fasta,
                           scores=["active_allele_quantile"], background=fresh_world.atac_peaks["cellO"])
    quantiles = frame.filter(like="/active_allele_quantile").to_numpy()
    assert quantiles.shape[1] == 15 and ((0 <= quantiles) & (quantiles <= 1)).all()
    truth = pd.read_csv(fresh_world.variants_truth, sep="\t").set_index("id").loc[frame["ID"]]
    in_sites = truth["kind"].isin(["breaks_site", "weakens_site", "indel_in_site"]).to_numpy()
    cell_o = frame["GOPHER/Basenji-128/profile/cellO/active_allele_quantile"].to_numpy()
    assert cell_o[in_sites].mean() > cell_o[~in_sites].mean() + 0.2  # alleles in elements look like peaks
