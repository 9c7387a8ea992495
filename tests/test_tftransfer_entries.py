"""The TFTransfer zoo entries trained by experiments/tftransfer.py: complete, checked, plugin-ready."""
import json

import numpy as np
import pytest
import torch
import yaml

from conftest import REPO
from epizoo.check import check_entry
from epizoo.registry import get_model, list_entries
from epizoo.weights import load_safetensors
from epizoo.zoo import ZOO_ROOT

ENTRIES = sorted(p.parent.name for p in (ZOO_ROOT / "TFTransfer").glob("*/model.yaml"))


def test_the_zoo_lists_a_multi_model_and_fine_tuned_models():
    assert any(e.startswith("multimodel_") for e in ENTRIES)
    assert sum(e.endswith("_finetuned") for e in ENTRIES) >= 3
    assert {f"TFTransfer/{e}" for e in ENTRIES} <= set(list_entries())


@pytest.mark.parametrize("entry", ENTRIES)
def test_entry_passes_epizoo_check_and_kipoi_test_offline(entry):
    report = check_entry(ZOO_ROOT / "TFTransfer" / entry)
    assert report.ok, "\n".join(report.lines())


@pytest.mark.parametrize("entry", ENTRIES)
def test_entry_says_what_it_was_trained_on(entry):
    folder = ZOO_ROOT / "TFTransfer" / entry
    info = yaml.safe_load((folder / "model.yaml").read_text())["info"]
    _, provenance = load_safetensors(folder / "weights.safetensors", None)
    chroms = provenance["data"]["chroms"]
    assert all(c in info["trained_on"] for c in chroms) and "labels.npz" in info["trained_on"]
    assert provenance["data"]["label_variant"] in info["trained_on"]
    assert "10.1186/s13059-021-02499-5" in info["cite_as"]
    card = (folder / "README.md").read_text()
    assert "| target |" in card and "The paper" in card  # the experiment's table, with the paper's figures
    if entry.endswith("_finetuned"):
        assert chroms == ["chr22"] and "fine-tuned from" in info["training_procedure"]
        pretraining = provenance["data"]["pretrained"]
        assert pretraining["excluded_regions"] > 0


def test_fine_tuned_model_predicts_the_example_regions(tmp_path):
    entry = next(e for e in ENTRIES if e.endswith("_finetuned"))
    model = get_model(ZOO_ROOT / "TFTransfer" / entry)
    predictions = model.pipeline.predict({"intervals_file": str(REPO / "examples" / "dhs_regions.bed"),
                                          "fasta_file": str(REPO / "examples" / "genome.fa")})
    assert predictions.shape == (113, 1) and np.isfinite(predictions).all()
    assert 0 <= predictions.min() and predictions.max() <= 1 and predictions.std() > 0


def test_fine_tuned_entry_reproduces_its_model_cards_test_metrics(mirror):
    """Random or mis-loaded weights give an auROC near 0.5, not the model card's 0.648."""
    from epizoo.kipoi_model import load_entry
    from epizoo.plugins.train.runs import load_config
    from epizoo.plugins.train.data import WindowBatches
    from epizoo.plugins.train.metrics import binary_metrics
    from epizoo.plugins.train.recipes import get_recipe

    folder = ZOO_ROOT / "TFTransfer" / "JUND_finetuned"
    run = load_config(folder / "config.yaml")  # the pre-trained entry is found by name and weights sha256
    prepared = get_recipe(run.recipe)().prepare(run)
    network = load_entry(folder)[0]
    outputs, targets, masks = [], [], []
    batches = WindowBatches(prepared.builders, prepared.test, 256)
    with torch.no_grad():
        for inputs, target, mask in (batches[k] for k in range(len(batches))):
            outputs.append(network(**inputs).numpy())
            targets.append(target.numpy())
            masks.append(None if mask is None else mask.numpy())
    mask = None if masks[0] is None else np.concatenate(masks).astype(bool)
    metrics = binary_metrics(np.concatenate(outputs), np.concatenate(targets), mask, task_names=["JUND"])
    card = json.loads((folder / "metrics.json").read_text())
    assert abs(metrics["auroc"] - card["auroc"]) < 0.01 and abs(metrics["auprc"] - card["auprc"]) < 0.01, (metrics, card)


@pytest.mark.parametrize("entry", ENTRIES)
def test_entry_names_its_data_by_file_and_checksum_not_by_path(entry, shared_data):
    from epizoo.weights import sha256sum

    folder = ZOO_ROOT / "TFTransfer" / entry
    sha256 = yaml.safe_load((folder / "model.yaml").read_text())["args"]["weights"]["sha256"]
    run = load_safetensors(folder / "weights.safetensors", sha256)[1]["run"]
    assert run == yaml.safe_load((folder / "config.yaml").read_text())
    labels = shared_data / "tf_binding" / "labels.npz"
    assert run["data"]["labels"] == {"file": "labels.npz", "sha256": sha256sum(labels), "bytes": labels.stat().st_size}
    for path in (folder / "model.yaml", folder / "config.yaml"):
        assert "/work/" not in path.read_text() and '": "/' not in path.read_text()


def test_a_recorded_configuration_loads_again_with_its_files_found_by_checksum(mirror):
    from epizoo.plugins.train.runs import load_config

    run = load_config(ZOO_ROOT / "TFTransfer" / "JUND_finetuned" / "config.yaml", {"model.pretrained": None})
    assert run.data.labels.name == "labels.npz" and run.data.labels.is_file()
    assert run.data.sequences.read_bytes()[:2] == b"\x1f\x8b"
