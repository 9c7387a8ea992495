"""The contributor's path: `epizoo new` renders model-template/, a small module is trained, `epizoo
weights` installs its state dict, and the entry passes `epizoo check` (kipoi test included)."""
from __future__ import annotations

import sys

import pytest
import torch
import yaml
from safetensors.torch import save_file

from epizoo.check import check_entry
from epizoo.cli import main

pytestmark = pytest.mark.needs("shared_data")  # kipoi test through the stock CLI, as the other entries


def _new(tmp_path, name: str, *answers: str) -> object:
    sets = [arg for answer in answers for arg in ("--set", answer)]
    assert main(["-q", "new", name, "--no-input", "--out", str(tmp_path), *sets]) == 0
    return tmp_path / name


def _trained_state(entry, steps: int = 20) -> dict:
    """A few optimiser steps of the entry's own network on random one-hot windows."""
    sys.path.insert(0, str(entry))
    try:
        from model import Model
    finally:
        sys.path.remove(str(entry))
        sys.modules.pop("model", None)
    config = yaml.safe_load((entry / "model.yaml").read_text())["args"]["config"]
    torch.manual_seed(0)
    network = Model(**config)
    shape = tuple(int(d) for d in yaml.safe_load((entry / "model.yaml").read_text())["schema"]["inputs"]["seq"]
                  ["shape"].strip("()").split(","))
    x = torch.nn.functional.one_hot(torch.randint(0, 4, (32, config["sequence_length"])), 4).float()
    x = x if shape[-1] == 4 else x.transpose(1, 2)
    y = torch.randint(0, 2, (32, config["n_tasks"])).float()
    optimiser = torch.optim.Adam(network.parameters(), lr=1e-2)
    for _ in range(steps):
        optimiser.zero_grad()
        torch.nn.functional.mse_loss(network(x), y).backward()
        optimiser.step()
    return network.state_dict()


@pytest.mark.parametrize("answers", [("method=Demo", "tasks=CTCF,REST", "sequence_length=500"),
                                     ("channels=first", "n_value=0.25", "output_kind=logit", "tasks=JUND")])
def test_a_new_entry_passes_epizoo_check_once_its_weights_are_in(tmp_path, monkeypatch, answers):
    monkeypatch.setenv("EPIZOO_CACHE", str(tmp_path / "cache"))
    entry = _new(tmp_path, "MyModel", *answers)
    before = check_entry(entry, kipoi_test=False)
    assert not before.ok and any("weights" in problem or "sha256" in problem for problem in before.problems)
    save_file(_trained_state(entry), str(tmp_path / "state.safetensors"))
    assert main(["-q", "weights", str(entry), str(tmp_path / "state.safetensors")]) == 0
    report = check_entry(entry)
    assert report.ok, "\n".join(report.lines())
    assert "kipoi test passes and matches test.expect" in report.passed


def test_a_state_of_another_network_is_refused_before_anything_is_written(tmp_path, monkeypatch):
    monkeypatch.setenv("EPIZOO_CACHE", str(tmp_path / "cache"))
    entry = _new(tmp_path, "MyModel")
    save_file({"conv.weight": torch.zeros(3, 3)}, str(tmp_path / "other.safetensors"))
    assert main(["-q", "weights", str(entry), str(tmp_path / "other.safetensors")]) == 2
    assert not (entry / "weights.safetensors").exists()
    assert "ADD-WEIGHTS-WITH-epizoo-weights" in (entry / "model.yaml").read_text()


def test_the_template_refuses_answers_an_entry_cannot_have(tmp_path, capfd):
    assert main(["-q", "new", "MyModel", "--no-input", "--out", str(tmp_path), "--set", "sequence_length=long"]) == 2
    assert "sequence_length 'long'" in capfd.readouterr().err and not (tmp_path / "MyModel").exists()


def test_held_out_metrics_must_say_their_split(tmp_path, monkeypatch):
    import json

    from epizoo.entry_summary import summarize

    monkeypatch.setenv("EPIZOO_CACHE", str(tmp_path / "cache"))
    entry = _new(tmp_path, "MyModel")
    save_file(_trained_state(entry, steps=1), str(tmp_path / "state.safetensors"))
    assert main(["-q", "weights", str(entry), str(tmp_path / "state.safetensors")]) == 0
    (entry / "metrics.json").write_text(json.dumps({"auroc": 0.91}))
    report = check_entry(entry, kipoi_test=False)
    assert any(problem.startswith("metrics.json: the held-out data are not said") for problem in report.problems)
    (entry / "metrics.json").write_text(json.dumps({"auroc": 0.91, "split": "chr8 and chr9, never trained on"}))
    assert check_entry(entry, kipoi_test=False).ok
    summary = summarize(entry)
    assert summary.metrics == {"auroc": 0.91} and summary.split == "chr8 and chr9, never trained on"
