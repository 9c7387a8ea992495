"""The TFTransfer zoo entries trained by experiments/tftransfer.py: complete, checked, plugin-ready."""
import numpy as np
import pytest
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
    from epizoo.plugins.train.config import load_config

    run = load_config(ZOO_ROOT / "TFTransfer" / "JUND_finetuned" / "config.yaml", {"model.pretrained": None})
    assert run.data.labels.name == "labels.npz" and run.data.labels.is_file()
    assert run.data.sequences.read_bytes()[:2] == b"\x1f\x8b"
