"""From attributions to motifs: a model trained on the simulator and the real FactorNet-FOXA1 give back
the motif planted, with q-values and shuffled-control rates; the report, the files and the figures."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from conftest import REPO
from epizoo.plugins.interpret.attributions import attribute
from epizoo.plugins.interpret.ism import saturation_mutagenesis
from epizoo.plugins.interpret.modisco import call_seqlets, tfmodisco
from epizoo.plugins.interpret.motifs import best_matches_with_controls, column_shuffled, tomtom_matches
from epizoo.plugins.interpret.regions import load_arrays, save_arrays

EXAMPLES = REPO / "examples"
WIDTH = 200


@pytest.fixture(scope="module")
def hocomoco(shared_data):
    return shared_data / "factornet" / "resources" / "HOCOMOCOv9.meme"


class SiteCNN(nn.Module):
    """Channels-last conv -> ReLU -> max pool -> dense -> ReLU -> logit, every non-linearity a module."""

    def __init__(self):
        super().__init__()
        self.conv, self.relu, self.pool = nn.Conv1d(4, 32, 19, padding=9), nn.ReLU(), nn.MaxPool1d(20)
        self.fc, self.relu2, self.out = nn.Linear(32 * WIDTH // 20, 32), nn.ReLU(), nn.Linear(32, 1)

    def forward(self, seq):
        return self.out(self.relu2(self.fc(self.pool(self.relu(self.conv(seq.transpose(1, 2)))).flatten(1))))


@pytest.fixture(scope="module")
def simulated(tmp_path_factory, hocomoco):
    """A CNN trained on the simulator: windows holding a planted CTCF site against background windows.

    Returns the model, the site windows (one-hot) and each window's planted core ``(first, stop)``.
    """
    from epizoo.dataloaders.genome import Genome
    from epizoo.dataloaders.onehot import one_hot_encode
    from epizoo.dataloaders.simulate import simulate

    world = simulate(tmp_path_factory.mktemp("world"), seed=1, n_chroms=2, chrom_length=400_000, cell_types=1,
                     motifs=("CTCF",), meme_file=hocomoco, sites_per_chrom=300)
    genome, sites, rng = Genome(world.fasta), world.load_sites(), np.random.default_rng(0)
    centres = sites["summit"].to_numpy() + rng.integers(-40, 41, len(sites))
    starts = centres - WIDTH // 2
    positives = [genome.sequence(c, s, s + WIDTH) for c, s in zip(sites["chrom"], starts)]
    cores = np.stack([sites["core_start"] - starts, sites["core_end"] - starts], axis=1)
    occupied = {chrom: np.zeros(length, bool) for chrom, length in world.chrom_sizes.items()}
    for site in sites.itertuples():
        occupied[site.chrom][site.start:site.end] = True
    negatives = []
    while len(negatives) < len(positives):
        chrom = str(rng.choice(list(world.chrom_sizes)))
        start = int(rng.integers(0, world.chrom_sizes[chrom] - WIDTH))
        sequence = genome.sequence(chrom, start, start + WIDTH)
        if not occupied[chrom][start:start + WIDTH].any() and "N" not in sequence.upper():
            negatives.append(sequence)
    X = torch.from_numpy(np.stack([one_hot_encode(s) for s in positives + negatives]))
    y = torch.cat([torch.ones(len(positives)), torch.zeros(len(negatives))])
    torch.manual_seed(0)
    model = SiteCNN()
    optimiser = torch.optim.Adam(model.parameters(), 3e-3)
    for _ in range(30):
        for batch in torch.randperm(len(X)).split(50):
            loss = nn.functional.binary_cross_entropy_with_logits(model(X[batch])[:, 0], y[batch])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
    model.eval()
    return model, X[:len(positives)].numpy(), cores


def _site_over_elsewhere(per_position: np.ndarray, cores: np.ndarray) -> float:
    inside = np.zeros(per_position.shape, bool)
    for row, (first, stop) in enumerate(cores):
        inside[row, max(first, 0):stop] = True
    return float(per_position[inside].mean() / per_position[~inside].mean())


def test_attributions_and_ism_of_a_simulator_trained_model_peak_on_the_planted_sites(simulated):
    model, X, cores = simulated
    contributions = attribute(model, X[:100], "deep_lift_shap", n_shuffles=10, device="cpu").numpy()
    assert _site_over_elsewhere(np.abs(contributions).sum(axis=2), cores[:100]) > 5
    effects = saturation_mutagenesis(model, X[:20], batch_size=512, device="cpu")
    assert _site_over_elsewhere(np.abs(effects).sum(axis=2), cores[:20]) > 5
    seqlets = call_seqlets(contributions)
    centres = (seqlets["start"] + seqlets["end"]) // 2
    first, stop = cores[seqlets["example_idx"], 0], cores[seqlets["example_idx"], 1]
    assert ((centres >= first) & (centres < stop)).mean() > 0.8  # seqlets are the sites


@pytest.fixture(scope="module")
def simulated_patterns(simulated, tmp_path_factory):
    model, X, _ = simulated
    hypothetical = attribute(model, X[:300], "deep_lift_shap", hypothetical=True, batch_size=400, device="cpu")
    h5 = tmp_path_factory.mktemp("modisco") / "results.h5"
    patterns = tfmodisco(X[:300], hypothetical.numpy(), out_h5=h5, max_seqlets=1000, n_leiden_runs=2)
    return patterns, h5, hypothetical.numpy()


def test_tfmodisco_and_tomtom_recover_the_planted_motif_with_a_low_control_rate(simulated_patterns, hocomoco):
    patterns, h5, _ = simulated_patterns
    assert patterns[0].name == "pos_patterns.pattern_0" and patterns[0].n_seqlets > 200
    best = best_matches_with_controls({p.name: p.ppm for p in patterns}, hocomoco)
    top = best.iloc[0]
    assert top["target_alt"] == "CTCF" and top["q_value"] < 1e-6 and top["control_rate"] <= 0.1, top.to_dict()
    import h5py

    with h5py.File(h5) as results:  # TF-MoDISco's own layout, which `modisco report` reads
        assert results["pos_patterns/pattern_0/seqlets/n_seqlets"][0] == patterns[0].n_seqlets


def test_epizoo_motifs_writes_the_report_from_saved_attributions(simulated, simulated_patterns, hocomoco, tmp_path):
    from epizoo.cli import main

    _, X, _ = simulated
    hypothetical = simulated_patterns[2]
    saved = save_arrays(tmp_path / "attributions.npz", {
        "seq": hypothetical * X[:300], "input.seq": X[:300], "hypothetical.seq": hypothetical,
        "channels_axis.seq": np.array(-1), "chrom": np.full(300, "chr1"), "start": np.arange(300),
        "end": np.arange(300) + WIDTH})
    out = tmp_path / "report"
    assert main(["-q", "motifs", str(saved), "--database", str(hocomoco), "--out-dir", str(out),
                 "--max-seqlets", "1000", "--leiden-runs", "2", "--n-controls", "10"]) == 0
    table = pd.read_csv(out / "motifs.tsv", sep="\t")
    assert table.loc[0, "target_alt"] == "CTCF" and table.loc[0, "n_controls"] == 10
    page = (out / "report.html").read_text()
    assert "CTCF_f2" in page and "sha256" in page and str(tmp_path) not in page  # provenance by checksum
    for image in ("logos/pattern0.cwm.png", "logos/match0.png", "modisco/motifs.html"):
        assert (out / image).is_file(), image


def test_the_top_motif_of_factornet_foxa1_matches_foxa(mirror, hocomoco):
    import epizoo
    from epizoo.dataloaders.motifs import read_meme
    from epizoo.dataloaders.simulate.pwm import sample_instances

    network = epizoo.get_model("FactorNet/FOXA1/onePeak_DGF", with_dataloader=False).model
    foxa1 = next(m for m in read_meme(hocomoco).values() if m.name.startswith("FOXA1_"))
    rng, n = np.random.default_rng(0), 150
    bases = rng.integers(0, 4, (n, 1002))
    for row in range(n):  # one FOXA1 instance per sequence, either strand, within the central 400 bp
        instance = sample_instances(rng, foxa1.probabilities, 1)[0]
        at = rng.integers(320, 680 - foxa1.width)
        bases[row, at:at + foxa1.width] = instance if rng.random() < 0.5 else 3 - instance[::-1]
    X = np.zeros((n, 1002, 5), np.float32)
    X[np.arange(n)[:, None], np.arange(1002), bases] = 1
    X[:, :, 4] = 0.05  # a weak, even DNase track
    hypothetical = attribute(network, X, "input_x_gradient", hypothetical=True, device="cpu").numpy()
    central = slice(300, 700)
    patterns = tfmodisco(X[:, central, :4], hypothetical[:, central, :4], n_leiden_runs=2)
    top = best_matches_with_controls({p.name: p.ppm for p in patterns[:1]}, hocomoco).iloc[0]
    print(f"FactorNet-FOXA1 top pattern ({patterns[0].n_seqlets} seqlets): {top['target']} "
          f"q={top['q_value']:.2g}, shuffled-control rate {top['control_rate']:.0%}")
    assert top["target_alt"].startswith("FOXA") and top["q_value"] < 1e-4 and top["control_rate"] <= 0.1


# -- matching with controls ----------------------------------------------------------------------
def test_controls_are_column_permutations_and_their_rate_is_the_share_that_matches(hocomoco):
    from epizoo.dataloaders.motifs import read_meme, to_probabilities

    database = read_meme(hocomoco)
    ctcf = database["CTCF_f2"]
    copies = column_shuffled(ctcf, 5, np.random.default_rng(0))
    columns = sorted(map(tuple, to_probabilities(ctcf.probabilities).T))
    for copy in copies:
        assert sorted(map(tuple, copy.T)) == columns
    queries = {"ctcf": ctcf, "flat": np.full((4, 12), 0.25)}
    best = best_matches_with_controls(queries, hocomoco, n_controls=10, seed=3)
    assert list(best["query"]) == ["ctcf", "flat"]
    assert best.loc[0, "target"] == "CTCF_f2" and best.loc[0, "matched"] and best.loc[0, "control_rate"] <= 0.1
    for row, (name, motif) in enumerate(queries.items()):  # the same copies, matched on their own
        copies = {f"copy{k}": copy for k, copy in enumerate(column_shuffled(motif, 10, np.random.default_rng([3, row])))}
        alone = tomtom_matches(copies, hocomoco, n_best=1)
        assert best.loc[row, "control_rate"] == pytest.approx((alone["q_value"] < 0.05).mean())


# -- files and figures --------------------------------------------------------------------------
@pytest.mark.parametrize("suffix", [".npz", ".h5"])
def test_saved_attributions_round_trip(tmp_path, suffix):
    arrays = {"seq": np.random.default_rng(0).normal(size=(3, 10, 4)).astype(np.float32),
              "channels_axis.seq": np.array(-1), "chrom": np.array(["chr1", "chr2", "chr10"]),
              "start": np.array([0, 5, 9])}
    loaded = load_arrays(save_arrays(tmp_path / f"a{suffix}", arrays))
    assert loaded.keys() == arrays.keys()
    for key, values in arrays.items():
        np.testing.assert_array_equal(loaded[key], values)
    assert loaded["chrom"].dtype.kind == "U"


@pytest.mark.parametrize("suffix, magic", [(".png", b"\x89PNG"), (".svg", b"<?xml"), (".pdf", b"%PDF")])
def test_the_strongest_region_is_drawn_in_each_format(tmp_path, suffix, magic):
    from epizoo.plugins.interpret.plots import plot_strongest_region

    scores = np.zeros((3, 300, 5), np.float32)
    scores[2, 140:150, 0] = 1.0  # region 2 is the strongest, at positions 140-149
    arrays = {"seq": scores, "input.seq": np.ones_like(scores), "channels_axis.seq": np.array(-1),
              "chrom": np.array(["chr1"] * 3), "start": np.array([0, 1000, 2000])}
    region = plot_strongest_region(arrays, tmp_path / f"logo{suffix}", width=20)
    chrom, span = region.split(":")
    first, stop = map(int, span.split("-"))
    assert chrom == "chr1" and stop - first == 20 and first <= 2140 and stop >= 2150  # around the signal
    assert (tmp_path / f"logo{suffix}").read_bytes().startswith(magic)
    with pytest.raises(ValueError, match="saved as"):
        plot_strongest_region(arrays, tmp_path / "logo.jpg")


def test_no_queries_give_an_empty_table_with_every_column(hocomoco):
    empty = best_matches_with_controls({}, hocomoco)
    assert empty.empty and {"q_value", "control_rate", "n_controls"} <= set(empty.columns)
