"""Global importance analysis on an oracle whose grammar is known exactly, and on a zoo entry."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from epizoo.plugins.interpret.gia import cooperativity, distance_scan, embed, flank_scan, global_importance
from epizoo.plugins.interpret.shuffles import shuffled_backgrounds

CORE, GOOD, PLAIN = "TGACTCA", "ATGACTCAT", "CTGACTCAG"  # PLAIN: a core with flanks that are not good


def _one_hot(text: str) -> torch.Tensor:
    return torch.eye(4)[["ACGT".index(c) for c in text]]


class Oracle(nn.Module):
    """An AP-1-like grammar (GOPHER's simulated rules): each TGACTCA core adds 1, its good flanks
    (A...T) add 2 more, and two cores within 50 bp of each other add 1 (cooperativity)."""

    def forward(self, seq):  # (batch, length, 4)
        hits = {}
        for name, text in (("core", CORE), ("good", GOOD)):
            kernel = _one_hot(text).T[None]  # (1, 4, width)
            hits[name] = F.conv1d(seq.transpose(1, 2), kernel)[:, 0] >= len(text) - 1e-3
        cores = hits["core"].float()
        near = F.conv1d(cores[:, None], torch.ones(1, 1, 101), padding=50)[:, 0] * cores - cores
        together = (near > 0).any(dim=1).float()
        return (cores.sum(dim=1) + 2 * hits["good"].float().sum(dim=1) + together)[:, None]


@pytest.fixture(scope="module")
def backgrounds():
    rng = np.random.default_rng(0)
    sequences = np.eye(4, dtype=np.float32)[rng.integers(0, 4, (6, 300))]
    return shuffled_backgrounds(sequences, n_per_sequence=2)


def test_backgrounds_keep_dinucleotide_counts_and_embedding_keeps_n_and_tracks():
    rng = np.random.default_rng(1)
    sequences = np.concatenate([np.eye(4, dtype=np.float32)[rng.integers(0, 4, (2, 50))],
                                np.full((2, 50, 1), 0.5, np.float32)], axis=2)
    shuffled = shuffled_backgrounds(sequences, n_per_sequence=3)
    assert shuffled.shape == (6, 50, 5) and (shuffled[:, :, 4] == 0.5).all()

    def dinucleotides(x):
        codes = x[:, :4].argmax(axis=1)
        return sorted(zip(codes[:-1], codes[1:]))

    assert dinucleotides(shuffled[4]) == dinucleotides(sequences[1])
    assert not np.array_equal(shuffled[4], sequences[1])
    embedded = embed(sequences, {10: "ANC"})
    assert (embedded[:, 10, :4] == [1, 0, 0, 0]).all() and (embedded[:, 12, :4] == [0, 1, 0, 0]).all()
    np.testing.assert_array_equal(embedded[:, 11], sequences[:, 11])  # N keeps the base
    channels_first = embed(sequences.transpose(0, 2, 1), {10: "ANC"}, channels_axis=1)
    np.testing.assert_array_equal(channels_first, embedded.transpose(0, 2, 1))
    with pytest.raises(ValueError, match="falls outside"):
        embed(sequences, {49: "AC"})


def test_the_flank_scan_ranks_the_good_flanks_first(backgrounds):
    scan = flank_scan(Oracle(), backgrounds, ".TGA.TCA.", device="cpu")
    assert len(scan) == 64 and scan.loc[0, "sequence"] == GOOD
    assert scan.loc[0, "importance"] == pytest.approx(3.0)  # the core's 1, its flanks' 2
    by_sequence = scan.set_index("sequence")["importance"]
    assert by_sequence["CTGACTCAG"] == pytest.approx(1.0) and by_sequence["ATGAGTCAT"] == pytest.approx(0.0)


def test_the_distance_scan_shows_the_cooperative_window_on_both_sides(backgrounds):
    distances = [-120, -60, -40, -10, 3, 10, 40, 50, 60, 120]  # starts to starts
    scan = distance_scan(Oracle(), backgrounds, PLAIN, PLAIN, distances, device="cpu").set_index("distance")
    assert 3 not in scan.index  # the second core would overlap the first
    for distance, importance in scan["importance"].items():
        assert importance == pytest.approx(3.0 if abs(distance) <= 50 else 2.0), distance


def test_cooperativity_is_the_importance_of_both_beyond_the_sum_of_each(backgrounds):
    near = cooperativity(Oracle(), backgrounds, PLAIN, PLAIN, 30, device="cpu")
    assert near == pytest.approx({"first": 1.0, "second": 1.0, "both": 3.0, "interaction": 1.0})
    assert cooperativity(Oracle(), backgrounds, PLAIN, PLAIN, 90, device="cpu")["interaction"] == pytest.approx(0.0)
    with pytest.raises(ValueError, match="overlaps"):
        cooperativity(Oracle(), backgrounds, PLAIN, PLAIN, 4, device="cpu")


def test_the_global_importance_of_foxa1_in_factornet_foxa1(mirror, shared_data):
    import epizoo
    from epizoo.dataloaders.motifs import read_meme

    network = epizoo.get_model("FactorNet/FOXA1/onePeak_DGF", with_dataloader=False).model
    foxa1 = next(m for m in read_meme(shared_data / "factornet" / "resources" / "HOCOMOCOv9.meme").values()
                 if m.name.startswith("FOXA1_"))
    consensus = "".join("ACGT"[i] for i in foxa1.probabilities.argmax(axis=0))
    scrambled = "".join(np.random.default_rng(0).permutation(list(consensus)))
    rng = np.random.default_rng(2)
    sequences = np.concatenate([np.eye(4, dtype=np.float32)[rng.integers(0, 4, (4, 1002))],
                                np.full((4, 1002, 1), 0.05, np.float32)], axis=2)
    backgrounds = shuffled_backgrounds(sequences, n_per_sequence=2)
    site = global_importance(network, backgrounds, {490: consensus}, device="cpu")
    control = global_importance(network, backgrounds, {490: scrambled}, device="cpu")
    assert site.shape == (8,) and site.mean() > 0.2 and site.mean() > 10 * abs(control.mean())


def test_epizoo_gia_on_an_entrys_regions(mirror, tmp_path):
    import pandas as pd

    from conftest import REPO
    from epizoo.cli import main

    examples = REPO / "examples"
    common = ["-q", "gia", "TFTransfer/JUND_finetuned", "--regions", str(examples / "dhs_regions.bed"),
              "--fasta", str(examples / "genome.fa")]
    assert main([*common, "--pattern", "ATGACTCAT", "--out", str(tmp_path / "one.tsv")]) == 0
    one = pd.read_csv(tmp_path / "one.tsv", sep="\t")
    assert list(one.columns) == ["sequence", "importance", "sd"] and len(one) == 1 and one.loc[0, "importance"] > 0
    assert main([*common, "--pattern", "ATGACTCAT", "--second", "ATGACTCAT", "--distances=-40:41:20",
                 "--out", str(tmp_path / "pair.tsv")]) == 0
    pair = pd.read_csv(tmp_path / "pair.tsv", sep="\t")
    assert pair["distance"].tolist() == [-40, -20, 20, 40]  # 0 would overlap
    assert (pair["importance"] > one.loc[0, "importance"]).all()  # two AP-1 sites weigh more than one
