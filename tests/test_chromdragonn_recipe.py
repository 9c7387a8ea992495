"""`epizoo train chromdragonn` on a small simulated world: stage 1, then stage 2 from its trunk; the
entries pass epizoo check and kipoi test; `kipoi predict` gives a held-out cell type's accessibility
from a BED, a FASTA and that cell type's expression."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import torch
import yaml

from epizoo.kipoi_model import load_entry
from epizoo.plugins.train.accessibility_bins import genome_bins
from epizoo.plugins.train.config import ConfigError
from epizoo.plugins.train.recipes.chromdragonn import BinLabels, _balanced_pairs
from epizoo.plugins.train.runs import load_config
from epizoo.plugins.train.trainer import train

pytestmark = pytest.mark.needs("shared_data")
VALID, TEST = ["cellG"], ["cellH"]


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    from epizoo.dataloaders.simulate import chromdragonn_config, simulate_config

    return simulate_config(tmp_path_factory.mktemp("chromdragonn"),
                           chromdragonn_config(seed=3, n_chroms=3, chrom_length=20_000, n_cells=8))


def _config(folder, world, stage: int, **model):
    config = {
        "recipe": "chromdragonn", "seed": 1,
        "data": {"fasta": str(world.fasta), "expression": str(world.expression_matrix),
                 "peaks": [str(world.atac_peaks[c]) for c in world.cell_types], "valid_cells": VALID,
                 "test_cells": TEST, "eval_every": 8, "pairs_per_epoch": 256,
                 "description": "Trained on epizoo's synthetic benchmark, not on real data."},
        "model": {"stage": stage, "trunk": "basset", "trunk_options": {"width": 0.05}, "hidden": 16, **model},
        "training": {"max_epochs": 1, "batch_size": 64, "threads": 1},
    }
    path = folder / f"stage{stage}.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.fixture(scope="module")
def entries(world, tmp_path_factory):
    """A stage-1 entry and the stage-2 entry trained from its (frozen) trunk, both checked on writing."""
    folder = tmp_path_factory.mktemp("runs")
    cache = pytest.MonkeyPatch()
    cache.setenv("EPIZOO_CACHE", str(folder / "cache"))
    try:
        stage1 = train(_config(folder, world, 1), folder / "stage1", quiet=True)
        stage2 = train(_config(folder, world, 2, pretrained=str(stage1), freeze_trunk=True), folder / "stage2",
                       quiet=True)
    finally:
        cache.undo()
    return stage1, stage2


@pytest.fixture(scope="module")
def no_mean_entry(entries, world, tmp_path_factory):
    """A stage-2 entry without the mean-accessibility input, its trunk tuned."""
    folder = tmp_path_factory.mktemp("no_mean")
    cache = pytest.MonkeyPatch()
    cache.setenv("EPIZOO_CACHE", str(folder / "cache"))
    try:
        return train(_config(folder, world, 2, pretrained=str(entries[0]), with_mean=False), folder / "stage2",
                     quiet=True)
    finally:
        cache.undo()


def test_a_stage2_entry_without_the_mean_input_predicts_from_the_expression_alone(no_mean_entry, world, tmp_path):
    spec = yaml.safe_load((no_mean_entry / "model.yaml").read_text())
    assert set(spec["schema"]["inputs"]) == {"seq", "expression"}
    assert not (no_mean_entry / "mean_accessibility.bw").exists() and (no_mean_entry / "dataloader.py").is_file()
    genome_bins(world.chrom_sizes).iloc[[20, 120]].to_csv(tmp_path / "bins.bed", sep="\t", header=False, index=False)
    args = {"intervals_file": str(tmp_path / "bins.bed"), "fasta_file": str(world.fasta),
            "expression_file": str(world.expression_matrix), "cell_type": TEST[0]}
    result = _kipoi_predict(no_mean_entry, args, tmp_path / "preds.tsv")
    assert result.returncode == 0, result.stderr[-2000:]
    assert len(pd.read_csv(tmp_path / "preds.tsv", sep="\t")) == 2


def test_stage2_starts_from_the_stage1_trunk_and_keeps_it_frozen(entries):
    stage1, stage2 = (load_entry(e)[0].state_dict() for e in entries)
    trunk = [k for k in stage1 if k.startswith("trunk.")]
    assert trunk and all(torch.equal(stage1[k], stage2[k]) for k in trunk)
    assert any(k.startswith("first.") for k in stage2) and not any(k.startswith("head.") for k in stage2)


def test_the_entries_declare_their_inputs_and_ship_the_tf_list_and_the_mean_track(entries, world):
    stage1, stage2 = entries
    spec1 = yaml.safe_load((stage1 / "model.yaml").read_text())
    spec2 = yaml.safe_load((stage2 / "model.yaml").read_text())
    assert list(spec1["schema"]["inputs"]) == ["seq"] and len(spec1["schema"]["targets"]["column_labels"]) == 6
    tfs = (stage2 / "tfs.txt").read_text().split()
    assert tfs == list(world.load_expression().index)
    assert spec2["schema"]["inputs"]["expression"]["shape"] == f"({len(tfs)},)"
    assert spec2["schema"]["inputs"]["mean_accessibility"]["kind"] == "per_sample"
    assert (stage2 / "mean_accessibility.bw").is_file() and not (stage1 / "tfs.txt").exists()
    assert (stage2 / "dataloader.py").is_file() and not (stage1 / "dataloader.py").exists()
    assert spec2["default_dataloader"] == "." and "synthetic" in spec2["info"]["trained_on"]
    assert "test cellH" in spec2["info"]["trained_on"]


def _kipoi_predict(entry, args: dict, out) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kipoi", "predict", str(entry), "--source", "dir",
                           "--dataloader_args", json.dumps(args), "-o", str(out)],
                          capture_output=True, text=True, env={**os.environ, "HOME": str(out.parent)})


def test_kipoi_predict_gives_a_held_out_cell_types_accessibility(entries, world, tmp_path):
    """From a BED, a FASTA and the cell type's expression alone: the entry's own dataloader.py
    defaults the TF list and the mean track to the entry's files (as if named explicitly)."""
    stage2 = entries[1]
    bins = genome_bins(world.chrom_sizes).iloc[[20, 120, 220]]
    bins.to_csv(tmp_path / "bins.bed", sep="\t", header=False, index=False)
    args = {"intervals_file": str(tmp_path / "bins.bed"), "fasta_file": str(world.fasta),
            "expression_file": str(world.expression_matrix), "cell_type": TEST[0]}
    result = _kipoi_predict(stage2, args, tmp_path / "preds.tsv")
    assert result.returncode == 0, result.stderr[-2000:]
    values = pd.read_csv(tmp_path / "preds.tsv", sep="\t").filter(like="preds").to_numpy()
    assert values.shape == (3, 1) and ((values > 0) & (values < 1)).all()
    explicit = {**args, "tfs_file": str(stage2 / "tfs.txt"), "mean_accessibility_file": str(stage2 / "mean_accessibility.bw")}
    assert _kipoi_predict(stage2, explicit, tmp_path / "explicit.tsv").returncode == 0
    np.testing.assert_array_equal(pd.read_csv(tmp_path / "explicit.tsv", sep="\t").filter(like="preds").to_numpy(),
                                  values)
    result = _kipoi_predict(stage2, {**args, "cell_type": "cell99"}, tmp_path / "none.tsv")
    assert result.returncode != 0 and "no column 'cell99'" in result.stderr


def test_each_stage2_batch_holds_one_positive_to_three_negatives():
    rng = np.random.default_rng(0)
    bins = genome_bins({"chr1": 5200})
    labels = (rng.random((len(bins), 4)) < 0.05).astype(np.uint8)
    usable = np.arange(len(bins))
    positives = np.argwhere(labels == 1)
    pairs = _balanced_pairs(BinLabels(bins, labels, ("a", "b", "c", "d")), labels, positives, usable,
                            np.arange(4), n=640, batch=64, fraction=0.25, rng=rng)
    assert len(pairs) == 640 and set(pairs["cell"]) <= {0, 1, 2, 3}
    per_batch = labels[pairs["bin"], pairs["cell"]].reshape(10, 64).sum(axis=1)
    np.testing.assert_array_equal(per_batch, 16)
    np.testing.assert_array_equal(pairs["start"], bins["start"].to_numpy()[pairs["bin"]] - 400)


def test_configs_name_held_out_cell_types_that_have_labels(world, tmp_path):
    path = _config(tmp_path, world, 2)
    config = yaml.safe_load(path.read_text())
    config["data"]["test_cells"] = ["cell42"]
    path.write_text(yaml.safe_dump(config))
    from epizoo.plugins.train.recipes.chromdragonn import ChromDragoNNRecipe

    with pytest.raises(ConfigError, match="cell42 have no labels"):
        ChromDragoNNRecipe().prepare(load_config(path))
    config["data"]["test_cells"] = VALID
    path.write_text(yaml.safe_dump(config))
    with pytest.raises(ConfigError, match="overlap"):
        load_config(path)
