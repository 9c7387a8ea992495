"""`epizoo train gopher` on the simulator's ATAC world: lazy binned targets, strand flips, peak windows, entries."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pyBigWig
import pytest
import yaml

from epizoo.dataloaders.genome import Genome
from epizoo.dataloaders.tracks import BigWigTracks
from epizoo.plugins.train.config import ConfigError
from epizoo.plugins.train.data import Samples, WindowBatches
from epizoo.plugins.train.profile_windows import ProfileTargets, peak_centred_windows, peak_labels, read_summits
from epizoo.plugins.train.runs import load_config
from epizoo.zoo.GOPHER.dataloader import ProfileWindows

pytestmark = pytest.mark.needs("shared_data")
CELLS = ("cellA", "cellB", "cellC")


@pytest.fixture(autouse=True)
def _private_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("EPIZOO_CACHE", str(tmp_path / "cache"))


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    from epizoo.dataloaders.simulate import simulate

    return simulate(tmp_path_factory.mktemp("atac"), seed=5, n_chroms=9, chrom_length=25_000, cell_types=CELLS,
                    motifs=("CTCF", "FOXA1", "GATA1"), expressed_in={"FOXA1": ("cellA",), "GATA1": ("cellB",)},
                    sites_per_chrom=16, shared_accessible=1.0, variants_per_kind=2, atac=True)


def write_config(folder, world, model, training=None, **data):
    config = {
        "recipe": "gopher", "seed": 3,
        "data": {"fasta": str(world.fasta), "bigwigs": [str(world.atac_bigwigs[c]["rep1"]) for c in CELLS],
                 "peaks": [str(world.atac_peaks[c]) for c in CELLS], "task_names": list(CELLS),
                 "description": "epizoo's simulator, seed 5.", **data},
        "model": model,
        "training": {"max_epochs": 2, "threads": 1, **(training or {})},
    }
    path = folder / "run.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def test_profile_targets_are_the_bigwig_means_within_bins(world):
    tracks = BigWigTracks([world.atac_bigwigs[c]["rep1"] for c in CELLS])
    windows = pd.DataFrame({"chrom": ["chr1", "chr2"], "start": [1000, 7000]})
    binned = ProfileTargets(tracks, 2048, 128)(windows)
    assert binned.shape == (2, 16, 3)
    handle = pyBigWig.open(str(world.atac_bigwigs["cellB"]["rep1"]))
    raw = np.nan_to_num(np.asarray(handle.values("chr2", 7000 + 5 * 128, 7000 + 6 * 128)))
    assert binned[1, 5, 1] == pytest.approx(raw.mean(), rel=1e-5)


def test_a_flipped_window_gets_the_reverse_complement_and_the_reversed_profile(world):
    genome = Genome(world.fasta)
    reader = ProfileTargets(BigWigTracks([world.atac_bigwigs[c]["rep1"] for c in CELLS]), 2048, 64)
    windows = pd.DataFrame({"source": 0, "chrom": ["chr3", "chr3"], "start": [4000, 4000],
                            "reverse": [False, True]})
    inputs, targets, _ = WindowBatches([ProfileWindows(None, genome)], Samples(windows, reader), 2)[0]
    assert np.array_equal(inputs["seq"][1].numpy(), inputs["seq"][0].numpy()[::-1, ::-1])
    assert np.array_equal(targets[1].numpy(), targets[0].numpy()[::-1])
    assert not np.array_equal(targets[0].numpy(), targets[1].numpy())


def test_peak_windows_merge_close_summits_and_labels_follow_the_summits():
    summits = [pd.DataFrame({"chrom": ["c1", "c1"], "summit": [5000, 5100]}),
               pd.DataFrame({"chrom": ["c1"], "summit": [9000]})]
    windows = peak_centred_windows(summits, {"c1": 20_000}, 2048, merge=200)
    assert windows["start"].tolist() == [5050 - 1024, 9000 - 1024]
    labels = peak_labels(windows, 2048, summits)
    assert labels.tolist() == [[1, 0], [0, 1]]
    shifted = windows.assign(start=windows["start"] + 1100)   # 5050 and 9000 now left of the windows
    assert peak_labels(shifted, 2048, summits).tolist() == [[0, 0], [0, 0]]


def test_the_simulators_peaks_are_read_at_their_summits(world):
    summits = read_summits([world.atac_peaks["cellA"]])[0]
    sites = world.load_sites().set_index("site_id")
    names = pd.read_csv(world.atac_peaks["cellA"], sep="\t", header=None)[3]
    assert summits["summit"].tolist() == sites.loc[names, "summit"].tolist()


def test_config_errors_name_the_key(tmp_path, world):
    with pytest.raises(ConfigError, match="model.architecture must be one of"):
        load_config(write_config(tmp_path, world, {"architecture": "lstm"}))
    with pytest.raises(ConfigError, match="data.max_shift"):
        load_config(write_config(tmp_path, world, {"architecture": "basenji"}, max_shift=2000))
    with pytest.raises(ConfigError, match="model.bin_size must divide"):
        load_config(write_config(tmp_path, world, {"architecture": "basenji", "bin_size": 100}))


MODELS = {
    "profile": {"architecture": "basenji", "bin_size": 128, "options": {"filters": 8, "final_filters": 16, "n_blocks": 2}},
    "two-headed": {"architecture": "bpnet", "bin_size": 1, "options": {"filters": 8, "n_dilated": 2, "counts_head": True}},
    "binary": {"architecture": "conv_binary", "options": {}},
}


@pytest.fixture(scope="module")
def entries(world, tmp_path_factory):
    """One trained entry per kind (`train` runs epizoo check, kipoi test included, on each)."""
    from epizoo.plugins.train.trainer import train

    folders = {}
    for kind, model in MODELS.items():
        folder = tmp_path_factory.mktemp(kind.replace("-", "_"))
        folders[kind] = train(write_config(folder, world, model), folder / "entry", quiet=True)
    return folders


@pytest.mark.parametrize("kind", list(MODELS))
def test_training_writes_an_entry_that_passes_epizoo_check(entries, kind):
    from epizoo.kipoi_model import load_entry

    out = entries[kind]
    spec = yaml.safe_load((out / "model.yaml").read_text())
    targets = spec["schema"]["targets"]
    config = yaml.safe_load((out / "config.yaml").read_text())
    if kind == "binary":
        assert targets["kind"] == "probability" and targets["column_labels"] == list(CELLS)
        assert config["training"]["loss"] == "bce_probabilities" and config["training"]["patience"] == 10
    elif kind == "two-headed":
        assert set(targets) == {"profile", "counts"} and targets["counts"]["kind"] == "log_counts"
        assert config["training"]["loss"] == "multinomial_counts"
    else:
        assert targets["shape"] == "(16, 3)" and targets["tasks"] == list(CELLS) and targets["bin_size"] == 128
        assert config["training"]["patience"] == 6 and config["training"]["lr_decay_factor"] is None
    assert config["data"]["bigwigs"][0]["file"] == "cellA.atac.rep1.bw" and "sha256" in config["data"]["bigwigs"][0]
    network, metadata = load_entry(out)
    assert metadata["task_names"] == list(CELLS)


def _evaluate(world, entry, **kwargs):
    from epizoo.plugins.evaluate.entry import evaluate_entry

    return evaluate_entry(entry, world.fasta, [world.atac_bigwigs[c]["rep1"] for c in CELLS],
                          [world.atac_peaks[c] for c in CELLS], **kwargs)


@pytest.mark.parametrize("kind", ["profile", "two-headed"])
def test_evaluation_streams_the_trainers_whole_chromosome_metrics(world, entries, kind):
    """The trainer's test set is chr8's 2,048-bp tiles: its metrics (profile_metrics on all
    predictions at once) are what the streaming evaluator computes."""
    import json

    trained = json.loads((entries[kind] / "metrics.json").read_text())
    metrics = _evaluate(world, entries[kind], bin_sizes=[256, 2048] if kind == "profile" else [], n_shifts=4)
    for task in CELLS:
        assert metrics[f"pearson_whole/{task}"] == pytest.approx(trained[f"pearson_whole/{task}"], abs=1e-4)
        assert metrics[f"pearson_per_seq/{task}"] == pytest.approx(trained[f"pearson_per_peak/{task}"], abs=1e-4)
        assert metrics[f"mse/{task}"] == pytest.approx(trained[f"mse/{task}"], rel=1e-4)
    assert 0 <= metrics["variation"] and "as_binary_auroc" in metrics


def test_a_binary_entrys_evaluation_is_its_training_test_auroc(world, entries):
    import json

    trained = json.loads((entries["binary"] / "metrics.json").read_text())
    metrics = _evaluate(world, entries["binary"])
    for task in CELLS:
        assert metrics[f"auroc/{task}"] == pytest.approx(trained[f"auroc/{task}"], abs=1e-6)
    assert -1 <= metrics["pearson_logit"] <= 1


def test_streaming_moments_are_pearson_and_the_scaled_mse():
    from scipy.stats import pearsonr

    from epizoo.plugins.evaluate.entry import Moments

    rng = np.random.default_rng(0)
    x, y = rng.gamma(2.0, size=(50, 8, 2)), rng.gamma(2.0, size=(50, 8, 2))
    sums = Moments.empty(2)
    sums.add(x[:20], y[:20])
    sums.add(x[20:], y[20:])
    for task in range(2):
        a, b = x[..., task].ravel(), y[..., task].ravel()
        assert sums.pearson()[task] == pytest.approx(pearsonr(a, b)[0], rel=1e-9)
        factor = b.mean() / a.mean()
        assert sums.scale_factor()[task] == pytest.approx(factor)
        assert sums.mse(sums.scale_factor())[task] == pytest.approx(np.mean((factor * a - b) ** 2))


def test_training_leaves_torchs_determinism_setting_as_it_found_it(entries):
    """Lightning's deterministic mode would otherwise stay on and break later code (max-unpooling has no
    deterministic CPU kernel)."""
    import torch

    assert not torch.are_deterministic_algorithms_enabled()
