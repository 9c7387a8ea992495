"""`epizoo train factornet` on the simulator: entries, learning, resume, bf16, DDP on CPU."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pyBigWig
import pytest
import torch
import yaml

from epizoo.plugins.train.config import ConfigError
from epizoo.plugins.train.runs import load_config
from epizoo.weights import load_safetensors, sha256sum

TINY_MODEL = {"conv_filters": 8, "lstm_units": 8, "dense_units": 16}


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    from epizoo.dataloaders.simulate import simulate

    return simulate(tmp_path_factory.mktemp("sim"), seed=7, n_chroms=4, chrom_length=200_000, cell_types=2,
                    motifs=("CTCF", "FOXA1"), sites_per_chrom=150)


def write_config(folder: Path, world, tasks=("CTCF",), cells=("cellA", "cellB"), model=None, training=None, **data):
    config = {
        "recipe": "factornet",
        "seed": 420,
        "data": {
            "description": "epizoo's simulator, seed 7",
            "fasta": str(world.fasta),
            "tasks": list(tasks),
            "cells": [{"name": c, "dnase": str(world.dnase_bigwigs[c]),
                       "peaks": {tf: str(world.chip_peaks[c][tf]) for tf in tasks}} for c in cells],
            "valid_chroms": ["chr3"],
            "test_chroms": ["chr4"],
            **data,
        },
        "model": model or TINY_MODEL,
        "training": {"max_epochs": 2, "patience": 2, **(training or {})},
    }
    path = folder / "run.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def epizoo(*args, **kwargs):
    return subprocess.run([sys.executable, "-m", "epizoo", *args], capture_output=True, text=True, **kwargs)


# -- configuration -------------------------------------------------------------------------------
def test_config_errors_name_the_key_and_the_fix(tmp_path, world):
    path = write_config(tmp_path, world)
    config = load_config(path)
    assert config.training.batch_size == 100 and config.model.conv_width == 26  # the paper's defaults
    assert config.data.fasta == world.fasta
    raw = yaml.safe_load(path.read_text())
    for change, message in [
        (lambda r: r["training"].update(batch_sise=3), "unknown key\\(s\\) batch_sise; valid keys: batch_size"),
        (lambda r: r["training"].update(max_epochs="many"), "training.max_epochs: expected an integer"),
        (lambda r: r["data"].pop("fasta"), "data: missing required key 'fasta'"),
        (lambda r: r["training"].update(precision="half"), "precision must be 32, bf16-mixed or 16-mixed"),
        (lambda r: r.update(recipe="factornets"), "unknown recipe 'factornets'"),
        (lambda r: r["data"]["cells"][0].update(dnase="cellA.bw"),
         r"data.cells\[0\].dnase: .*cellA.bw does not exist \(relative paths are relative to the config's folder"),
    ]:
        broken = json.loads(json.dumps(raw))
        change(broken)
        (tmp_path / "bad.yaml").write_text(yaml.safe_dump(broken))
        with pytest.raises(ConfigError, match=message):
            load_config(tmp_path / "bad.yaml")


def test_relative_paths_are_relative_to_the_config_file(tmp_path, world, monkeypatch):
    path = write_config(tmp_path, world)
    raw = yaml.safe_load(path.read_text())
    raw["data"]["fasta"] = os.path.relpath(world.fasta, tmp_path)
    path.write_text(yaml.safe_dump(raw))
    monkeypatch.chdir("/")
    assert load_config(path).data.fasta.resolve() == Path(world.fasta).resolve()


# -- training ------------------------------------------------------------------------------------
def test_factornet_learns_the_planted_motif_and_writes_a_checked_entry(tmp_path, world, mirror):
    from epizoo.plugins.train.trainer import train

    config = write_config(tmp_path, world, model={"conv_filters": 16, "lstm_units": 16, "dense_units": 32},
                          training={"max_epochs": 6, "patience": 3})
    entry = train(config, tmp_path / "CTCF")  # runs epizoo check, kipoi test included
    metrics = json.loads((entry / "metrics.json").read_text())
    assert metrics["auprc"] > 3 * metrics["positives"], metrics
    assert metrics["auroc"] > 0.85, metrics
    model_yaml = yaml.safe_load((entry / "model.yaml").read_text())
    assert "simulator" in model_yaml["info"]["trained_on"] and "chr4" in model_yaml["info"]["trained_on"]
    assert "auprc" in (entry / "model.yaml").read_text() and "Adam lr 0.001" in model_yaml["info"]["training_procedure"]
    assert model_yaml["schema"]["targets"]["column_labels"] == ["CTCF"]
    # the run said nothing of its genome: the entry says so, and that it learnt from real data
    assert (model_yaml["info"]["genome"], model_yaml["info"]["weights_origin"]) == ("unspecified", "trained on real data")
    log = pd.read_csv(entry / "training_log.csv")
    assert log["val_loss"].notna().sum() >= 2
    # provenance names the data by file name and checksum, never by a path of this machine
    recorded = yaml.safe_load((entry / "config.yaml").read_text())
    assert recorded["data"]["fasta"] == {"file": "genome.fa", "sha256": sha256sum(world.fasta),
                                         "bytes": world.fasta.stat().st_size}
    for text in ((entry / "config.yaml").read_text(), (entry / "model.yaml").read_text(),
                 json.dumps(load_safetensors(entry / "weights.safetensors", None)[1])):
        assert str(tmp_path) not in text and str(world.fasta.parent) not in text


def test_multi_task_through_the_cli_with_one_thread(tmp_path, world, mirror):
    result = epizoo("-q", "train", "factornet", str(write_config(tmp_path, world, tasks=("CTCF", "FOXA1"), cells=("cellA",))),
                    "--out", str(tmp_path / "multi"), "--set", "training.max_epochs=1", "--set", "training.threads=1",
                    "--set", "entry.genome=synthetic")
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().endswith("checked with epizoo check and kipoi test"), result.stdout
    model_yaml = yaml.safe_load((tmp_path / "multi" / "model.yaml").read_text())
    assert model_yaml["schema"]["targets"]["column_labels"] == ["CTCF", "FOXA1"]
    assert model_yaml["info"]["weights_origin"] == "trained on the synthetic benchmark"
    recorded = yaml.safe_load((tmp_path / "multi" / "config.yaml").read_text())
    assert recorded["training"]["threads"] == 1 and recorded["entry"] == {"genome": "synthetic"}


def test_bf16_mixed_precision_runs_the_forward_pass_in_bf16_on_cpu(tmp_path, world, mirror, monkeypatch):
    from epizoo.plugins.train.module import ZooModule
    from epizoo.plugins.train.trainer import train

    dtypes = []
    training_step = ZooModule.training_step

    def recording(self, batch, batch_index):  # the dtype a dense layer computes in, every step
        dense = next(m for m in self.model.modules() if isinstance(m, torch.nn.Linear))
        hook = dense.register_forward_hook(lambda module, args, output: dtypes.append(output.dtype))
        try:
            return training_step(self, batch, batch_index)
        finally:
            hook.remove()

    monkeypatch.setattr(ZooModule, "training_step", recording)
    config = write_config(tmp_path, world, cells=("cellA",), training={"max_epochs": 1, "precision": "bf16-mixed"})
    entry = train(config, tmp_path / "bf16", check=False)
    assert dtypes and set(dtypes) == {torch.bfloat16}
    assert "bf16-mixed" in (entry / "config.yaml").read_text()


def test_training_resumes_after_being_killed(tmp_path, world, mirror):
    config = write_config(tmp_path, world, training={"max_epochs": 5, "patience": 5, "record_samples": True})
    command = [sys.executable, "-m", "epizoo", "-v", "train", "factornet", str(config), "--out", str(tmp_path / "run")]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # the event: epoch 1 drew its windows, so epoch 0 ended and its checkpoint was saved before
    second_epoch = tmp_path / "run.run" / "samples" / "epoch1_rank0.tsv"
    deadline = time.time() + 300
    while not second_epoch.exists() and time.time() < deadline and process.poll() is None:
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert second_epoch.exists() and (tmp_path / "run.run" / "checkpoints" / "last.ckpt").exists()
    assert not (tmp_path / "run").exists()  # the entry is written only at the end
    logs = list((tmp_path / "run.run" / "logs").glob("version_*/metrics.csv"))
    epochs_before = len(pd.concat([pd.read_csv(p) for p in logs])["epoch"].dropna().unique()) if logs else 0
    result = subprocess.run(command, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "resuming from" in result.stdout + result.stderr
    log = pd.read_csv(tmp_path / "run" / "training_log.csv")
    assert set(log["epoch"].dropna().astype(int)) >= set(range(5)) and epochs_before < 5


def test_ddp_on_two_cpu_processes_splits_the_data(tmp_path, world, mirror):
    config = write_config(tmp_path, world, training={"max_epochs": 1, "strategy": "ddp", "devices": 2,
                                                     "accelerator": "cpu", "record_samples": True})
    result = epizoo("-q", "train", "factornet", str(config), "--out", str(tmp_path / "ddp"))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    samples = tmp_path / "ddp.run" / "samples"
    ranks = [pd.read_csv(samples / f"epoch0_rank{r}.tsv", sep="\t") for r in (0, 1)]
    keys = [set(map(tuple, r[["source", "chrom", "start"]].to_numpy())) for r in ranks]
    assert len(keys[0] & keys[1]) <= 1  # disjoint but for the one window that evens the shares
    assert abs(len(ranks[0]) - len(ranks[1])) == 0
    assert (tmp_path / "ddp" / "model.yaml").exists()


def test_meta_model_with_expression_pcs_and_mappability(tmp_path, world, mirror):
    mappability = tmp_path / "map.bw"
    with pyBigWig.open(str(mappability), "w") as bw:
        bw.addHeader(list(world.chrom_sizes.items()))
        for chrom, size in world.chrom_sizes.items():
            bw.addEntries([chrom], [0], ends=[size], values=[1.0])
    config = write_config(tmp_path, world, mappability=str(mappability))
    raw = yaml.safe_load(config.read_text())
    for cell in raw["data"]["cells"]:
        cell["expression"] = str(world.meta[cell["name"]])
    config.write_text(yaml.safe_dump(raw))
    result = epizoo("-q", "train", "factornet", str(config), "--out", str(tmp_path / "meta"), "--set", "training.max_epochs=1")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    model_yaml = yaml.safe_load((tmp_path / "meta" / "model.yaml").read_text())
    assert model_yaml["schema"]["inputs"]["seq"]["shape"] == "(1002, 6)"
    assert model_yaml["schema"]["inputs"]["meta_features"]["shape"] == "(8,)"
    assert "MetaUnique35DGF" in (tmp_path / "meta" / "dataloader.yaml").read_text()


def test_training_runs_on_every_device(tmp_path, world, mirror, device):
    from epizoo.plugins.train.trainer import train

    accelerator = {"cpu": "cpu", "cuda": "gpu"}[device]
    config = write_config(tmp_path, world, cells=("cellA",),
                          training={"max_epochs": 1, "accelerator": accelerator, "steps_per_epoch": 5})
    entry = train(config, tmp_path / "entry", check=False)
    assert (entry / "weights.safetensors").is_file() and json.loads((entry / "metrics.json").read_text())["auroc"] > 0


def test_trained_and_converted_factornet_entries_share_one_schema_declaration():
    from epizoo.plugins.train.recipes.factornet import _schema
    from epizoo.registry import model_yaml

    values = {"dataloader": "MetaUnique35DGF", "tracks": "Unique35,DGF", "kind": "meta", "n_channels": 6, "n_meta": 8,
              "tasks": "EGR1", "seq_len": 1002}
    assert _schema(values) == model_yaml("FactorNet/EGR1/meta_RNAseq_Unique35_DGF")["schema"]
    assert _schema({**values, "seq_len": 500})["inputs"]["seq"]["shape"] == "(500, 6)"
