"""`epizoo convert avocado` against files written in the authors' layout by an independent path: a
Keras 3 model built as avocado-epigenome builds it (its layer names, concatenation order and
index arithmetic), saved as a legacy full-model HDF5 beside the authors' JSON, converted, and
compared with Keras' own predictions."""
from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np
import pytest
import torch

from epizoo.kipoi_model import load_entry

pytestmark = pytest.mark.tf
SIZES = {"n_celltypes": 3, "n_assays": 2, "n_positions": 1_000, "factors": (4, 3, 2, 3, 4), "n_layers": 2, "n_nodes": 8}


def _keras_avocado(n_celltypes, n_assays, n_positions, factors, n_layers, n_nodes, seed: int = 0):
    """The authors' build_model (avocado/model.py): five Input(1) -> named Embedding -> Flatten,
    concatenated as cell type, assay, 25 bp, 250 bp, 5 kbp -> dense_0 ... (ReLU) -> y_pred (linear)."""
    import keras

    rows = (n_celltypes, n_assays, n_positions, n_positions // 10 + 1, n_positions // 200 + 1)
    names = ("celltype", "assay", "genome_25bp", "genome_250bp", "genome_5kbp")
    inputs, parts = [], []
    for name, count, size in zip(names, rows, factors):
        layer_input = keras.Input(shape=(1,), name=f"{name}_input")
        inputs.append(layer_input)
        parts.append(keras.layers.Flatten()(keras.layers.Embedding(count, size, name=f"{name}_embedding")(layer_input)))
    x = keras.layers.concatenate(parts)
    for k in range(n_layers):
        x = keras.layers.Dense(n_nodes, activation="relu", name=f"dense_{k}")(x)
    model = keras.Model(inputs, keras.layers.Dense(1, name="y_pred")(x))
    rng = np.random.default_rng(seed)  # weights far from Keras' small initial values, biases included
    model.set_weights([rng.normal(0, 0.7, w.shape).astype(np.float32) for w in model.get_weights()])
    return model


def _save_release(tmp_path, **sizes):
    model = _keras_avocado(**sizes)
    prefix = tmp_path / "avocado.pilot-v2"  # a dotted prefix: PREFIX.json, PREFIX.h5
    model.save(str(Path(f"{prefix}.h5")))
    c, a, g25, g250, g5k = sizes["factors"]
    Path(f"{prefix}.json").write_text(json.dumps({  # avocado.Avocado.save's keys
        "celltypes": ["E003", "E017", "E065"][:sizes["n_celltypes"]], "assays": ["H3K4me3", "H3K27me3"][:sizes["n_assays"]],
        "experiments": [["E003", "H3K4me3"], ["E017", "H3K27me3"]], "n_celltype_factors": c, "n_assay_factors": a,
        "n_genomic_positions": sizes["n_positions"], "n_25bp_factors": g25, "n_250bp_factors": g250,
        "n_5kbp_factors": g5k, "n_layers": sizes["n_layers"], "n_nodes": sizes["n_nodes"], "batch_size": 40000},
        separators=(",", " : "), indent=4))
    return model, prefix


def _keras_predictions(model, celltype, assay, position) -> np.ndarray:
    return model.predict([celltype, assay, position, position // 10, position // 200], verbose=0)[:, 0]


def test_a_keras_save_in_the_authors_layout_converts_exactly(tmp_path, monkeypatch):
    from epizoo.check import check_entry
    from epizoo.conversion.avocado import write_entry

    monkeypatch.setenv("EPIZOO_CACHE", str(tmp_path / "cache"))
    model, prefix = _save_release(tmp_path, **SIZES)
    with h5py.File(Path(f"{prefix}.h5")) as handle:  # the layout the converter reads
        assert "model_weights/dense_0/dense_0/kernel" in handle and "model_weights/y_pred/y_pred/bias" in handle
    entry = write_entry(prefix, tmp_path / "entry")
    rng = np.random.default_rng(1)
    celltype, assay = rng.integers(0, 3, 500), rng.integers(0, 2, 500)
    position = np.concatenate([[0, 9, 10, 199, 200, 999], rng.integers(0, 1_000, 494)])
    network = load_entry(entry)[0]
    with torch.no_grad():
        ours = network(*(torch.from_numpy(v) for v in (celltype, assay, position)))[:, 0].numpy()
    np.testing.assert_allclose(ours, _keras_predictions(model, celltype, assay, position), rtol=0, atol=1e-5)
    assert (entry / "celltypes.txt").read_text().split() == ["E003", "E017", "E065"]
    report = check_entry(entry)
    assert report.ok, report.lines()


def test_keras2_tensorflow_weight_names_convert_the_same(tmp_path, monkeypatch):
    """Keras 2 on TensorFlow names the datasets ``kernel:0``; on Theano (the authors') and Keras 3, ``kernel``."""
    from epizoo.conversion.avocado import read_release

    monkeypatch.setenv("EPIZOO_CACHE", str(tmp_path / "cache"))
    _, prefix = _save_release(tmp_path, **SIZES)
    plain = read_release(prefix)[2]
    with h5py.File(Path(f"{prefix}.h5"), "r+") as handle:
        for layer in handle["model_weights"].values():
            names = [n.decode() if isinstance(n, bytes) else n for n in layer.attrs["weight_names"]]
            for name in names:
                layer.move(name, name + ":0")
            layer.attrs["weight_names"] = [(n + ":0").encode() for n in names]
    renamed = read_release(prefix)[2]
    assert set(plain) == set(renamed) and all(torch.equal(plain[k], renamed[k]) for k in plain)


def test_a_layout_that_does_not_fit_the_positions_is_refused(tmp_path, monkeypatch):
    from epizoo.conversion.avocado import write_entry

    monkeypatch.setenv("EPIZOO_CACHE", str(tmp_path / "cache"))
    _, prefix = _save_release(tmp_path, **SIZES)
    (tmp_path / "chr19.bed").write_text("chr19\t0\t20000\n")  # 800 bins, not 1,000
    with pytest.raises(ValueError, match="800 bins of 25 bp, the model 1000 positions"):
        write_entry(prefix, tmp_path / "entry", tmp_path / "chr19.bed")
    (tmp_path / "chr19.bed").write_text("chr19\t0\t25000\n")
    entry = write_entry(prefix, tmp_path / "entry", tmp_path / "chr19.bed", expect=False)
    assert (entry / "layout.bed").read_text() == "chr19\t0\t25000\n"
