"""`epizoo export`: an entry as ONNX, run by ONNX Runtime, computes what the PyTorch network does."""
from __future__ import annotations

import numpy as np
import pytest

from epizoo.check import check_entry
from epizoo.cli import main
from epizoo.contract import example_inputs
from epizoo.prediction import predict
from epizoo.registry import get_contract, get_model

pytestmark = pytest.mark.onnx


def test_a_profile_entry_exports_with_its_input_and_output_names(tmp_path, capsys):
    out = tmp_path / "bpnet.onnx"
    assert main(["export", "GOPHER/BPNet-base", str(out)]) == 0
    assert "inputs seq -> outputs profile, counts" in capsys.readouterr().out
    import onnxruntime

    session = onnxruntime.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == ["seq"]
    inputs = example_inputs(get_contract("GOPHER/BPNet-base"), n=7, seed=5)  # another batch size than traced
    profile, counts = session.run(["profile", "counts"], {"seq": inputs["seq"].numpy()})
    expected = predict(get_model("GOPHER/BPNet-base", with_dataloader=False).model, inputs, device="cpu")
    np.testing.assert_allclose(profile, expected["profile"].numpy(), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(counts, expected["counts"].numpy(), rtol=1e-4, atol=1e-4)


def test_an_entry_that_cannot_export_says_why_and_writes_nothing(tmp_path, capsys):
    out = tmp_path / "avocado.onnx"
    assert main(["export", "Avocado/pilot", str(out)]) == 2
    assert "Avocado/pilot does not export to ONNX" in capsys.readouterr().err and not out.exists()
    assert list(tmp_path.iterdir()) == []


def test_an_export_that_disagrees_is_not_written(tmp_path, monkeypatch):
    from epizoo import export

    monkeypatch.setattr(export, "_max_difference", lambda *args: 0.5)
    with pytest.raises(export.ExportError, match="differs from the PyTorch network by 0.5"):
        export.export_onnx("TFTransfer/JUND_finetuned", tmp_path / "x.onnx")
    assert list(tmp_path.iterdir()) == []


def test_check_reports_whether_an_entry_exports():
    report = check_entry("ChromDragoNN/ResNet-mean", kipoi_test=False, export=True)
    assert report.ok and any(line.startswith("exports to ONNX; ONNX Runtime agrees") for line in report.passed)


def test_a_factornet_exports_with_a_free_batch_size(tmp_path, mirror):
    """Its CPU pass runs in chunks of rows; the traced graph must not fix the batch size by them."""
    from epizoo.export import export_onnx

    exported = export_onnx("FactorNet/FOXA1/onePeak_DGF", tmp_path / "foxa1.onnx")  # checked on another batch size
    assert exported.max_difference < 1e-5


LOAD_AND_PREDICT = """
import sys, keras, numpy as np
import epizoo.keras_graph  # registers the layer
model = keras.saving.load_model(sys.argv[1])
inputs = dict(np.load(sys.argv[2]))
outputs = model.predict(inputs, verbose=0)
np.savez(sys.argv[3], **outputs)
print("torch imported:", "torch" in sys.modules)
"""


@pytest.mark.tf
@pytest.mark.parametrize("entry", ["GOPHER/BPNet-base", "FactorNet/FOXA1/onePeak_DGF"])
def test_a_keras_export_loads_and_predicts_without_pytorch(entry, tmp_path, mirror, capsys):
    """A profile model with two heads, and FactorNet (an LSTM's loop, shapes computed from the batch)."""
    import subprocess
    import sys

    out = tmp_path / "model.keras"
    assert main(["export", entry, str(out)]) == 0
    assert "Keras agrees with PyTorch" in capsys.readouterr().out
    inputs = example_inputs(get_contract(entry), n=6, seed=9)  # another batch size than checked
    np.savez(tmp_path / "inputs.npz", **{name: value.numpy() for name, value in inputs.items()})
    done = subprocess.run([sys.executable, "-c", LOAD_AND_PREDICT, str(out), str(tmp_path / "inputs.npz"),
                           str(tmp_path / "outputs.npz")], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "torch imported: False" in done.stdout
    expected = predict(get_model(entry, with_dataloader=False).model, inputs, device="cpu")
    expected = expected if isinstance(expected, dict) else {next(iter(get_contract(entry).outputs)): expected}
    outputs = np.load(tmp_path / "outputs.npz")
    for name, value in expected.items():
        np.testing.assert_allclose(outputs[name], value.numpy(), rtol=1e-4, atol=1e-5)


def test_a_keras_file_must_say_so(tmp_path):
    from epizoo.export import ExportError, export_keras

    with pytest.raises(ExportError, match="ends in .keras"):
        export_keras("TFTransfer/JUND_finetuned", tmp_path / "model.h5")
