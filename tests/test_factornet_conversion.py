"""FactorNet: the Keras-1.1/Theano -> PyTorch conversion of the authors' released models.

The exactness tests compare against ``keras_reference.py``, an independent Keras-3 rebuild that
shares no code with the converter (they need the optional TensorFlow extra). Both encode the same
reading of the Keras-1.1.1/Theano source, so the biological tests check the decisive choice, the
Theano kernel flip, against the weights themselves: with it, the FOXA1 model responds to the
FOXA1 motif; without it, hardly at all.
"""
from __future__ import annotations

import functools
import json
import os
import shutil
from pathlib import Path

import h5py
import numpy as np
import pytest
import torch

from epizoo.conversion.factornet import describe_model_dir, read_keras1_factornet
from epizoo.zoo.FactorNet.architecture import FactorNet, reverse_complement

# the same place conftest.py reads ../shared from (EPIZOO_SHARED overrides it)
SHARED = Path(os.environ.get("EPIZOO_SHARED", Path(__file__).resolve().parents[1].parent / "shared"))
SHARED = SHARED / "data" / "factornet"
MODELS = SHARED / "models"
MODEL_DIRS = sorted(p for p in MODELS.glob("*/*") if (p / "model.json").is_file())
IDS = [f"{p.parent.name}/{p.name}" for p in MODEL_DIRS]

pytestmark = pytest.mark.needs("shared_data")


@pytest.fixture(autouse=True, scope="module")
def _two_threads():
    previous = torch.get_num_threads()
    torch.set_num_threads(min(previous, 2))
    yield
    torch.set_num_threads(previous)


@functools.cache
def converted(model_dir: Path, flip: bool | None = None) -> FactorNet:
    """The converted model of a folder (its preferred weights), built once per session."""
    info = describe_model_dir(model_dir)
    config, state = read_keras1_factornet(info["model_json"], info["weights"], flip_conv_kernels=flip)
    model = FactorNet(**config)
    model.load_state_dict(state)
    return model.eval()


def random_inputs(model: FactorNet, n: int, seed: int) -> tuple[np.ndarray, np.ndarray | None]:
    """One-hot sequences with plausible tracks: mappability mostly 1, sparse DNase cuts."""
    rng = np.random.default_rng(seed)
    seq = np.zeros((n, model.seq_len, model.n_channels), dtype=np.float32)
    bases = rng.integers(0, 4, size=(n, model.seq_len))
    seq[np.arange(n)[:, None], np.arange(model.seq_len), bases] = 1.0
    seq[..., -1] = rng.gamma(0.3, 0.5, size=(n, model.seq_len))  # DGF is always the last track
    if model.n_channels == 6:  # Unique35
        seq[..., 4] = np.where(rng.random((n, model.seq_len)) < 0.9, 1.0, rng.random((n, model.seq_len)))
    meta = rng.normal(size=(n, model.n_meta)).astype(np.float32) if model.n_meta else None
    return seq, meta


def run(model: FactorNet, seq: np.ndarray, meta: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    with torch.no_grad():
        x = torch.from_numpy(seq)
        m = None if meta is None else torch.from_numpy(meta)
        return model(x, meta_features=m).numpy(), model.strand_logits(x, m).numpy()


# --------------------------------------------------------------------------- converter, torch only
@pytest.mark.parametrize("model_dir", MODEL_DIRS, ids=IDS)
def test_config_agrees_with_model_dir(model_dir: Path) -> None:
    info = describe_model_dir(model_dir)
    config, _ = read_keras1_factornet(info["model_json"], info["weights"])
    json.dumps(config)  # JSON-serialisable
    assert config["seq_len"] == 1002 and config["conv_width"] == 34 and config["pool"] == 17
    assert config["n_channels"] == 4 + len(info["tracks"])
    assert info["tracks"][-1] == "DGF"
    assert config["n_tasks"] == len(info["tasks"]) == 1
    assert config["n_meta"] == len(info["meta_names"])
    assert config["lstm_inner_activation"] == "hard_sigmoid"
    assert info["weights_kind"] == ("final" if model_dir.parent.name == "REST" else "best")


def test_parameter_count_matches_spec() -> None:
    # spec seed_000_factornet.md §2.5: released onePeak_Unique35_DGF (k32 r32 d64) has 257,857
    model = converted(MODELS / "E2F1" / "onePeak_Unique35_DGF")
    assert sum(p.numel() for p in model.parameters()) == 257_857


def test_best_and_final_weights_both_load() -> None:
    model_dir = MODELS / "E2F1" / "onePeak_Unique35_DGF"
    best_cfg, best = read_keras1_factornet(model_dir / "model.json", model_dir / "best_model.hdf5")
    final_cfg, final = read_keras1_factornet(model_dir / "model.json", model_dir / "final_model.hdf5")
    assert best_cfg == final_cfg and best.keys() == final.keys()
    assert any(not torch.equal(best[k], final[k]) for k in best)  # two different epochs


def test_reverse_complement_and_strand_symmetry() -> None:
    model = converted(MODELS / "E2F1" / "onePeak_Unique35_DGF")
    seq = torch.from_numpy(random_inputs(model, 4, seed=1)[0])
    rc = reverse_complement(seq)
    assert torch.equal(rc[:, 0, :4], seq[:, -1, [3, 2, 1, 0]])  # first base = complement of last
    assert torch.equal(rc[:, :, 4:], seq.flip(1)[:, :, 4:])  # tracks: position only
    assert torch.equal(reverse_complement(rc), seq)
    with torch.no_grad():
        assert torch.allclose(model(seq), model(rc), atol=1e-6)
        assert torch.allclose(model(seq), model.forward_pair(seq, rc), atol=0)


def test_meta_features_are_required() -> None:
    model = converted(MODELS / "GABPA" / "metaGENCODE_RNAseq_Unique35_DGF")
    seq, meta = random_inputs(model, 2, seed=2)
    with pytest.raises(ValueError, match="meta_features"):
        model(torch.from_numpy(seq))
    with torch.no_grad():
        assert model(torch.from_numpy(seq), torch.from_numpy(meta)).shape == (2, 1)


def test_gradients_flow_to_the_input() -> None:
    model = converted(MODELS / "FOXA1" / "onePeak_DGF")
    seq = torch.from_numpy(random_inputs(model, 2, seed=3)[0]).requires_grad_(True)
    (grad,) = torch.autograd.grad(model(seq).sum(), seq)
    assert torch.isfinite(grad).all() and grad.abs().sum() > 0


def test_rejects_an_unsupported_strand_merge(tmp_path: Path) -> None:
    source = MODELS / "FOXA1" / "onePeak_DGF"
    spec = json.loads((source / "model.json").read_text())
    for layer in spec["config"]["layers"]:
        if layer["class_name"] == "Merge":
            layer["config"]["mode"] = "max"
    (tmp_path / "model.json").write_text(json.dumps(spec))
    with pytest.raises(ValueError, match="mode 'ave'"):
        read_keras1_factornet(tmp_path / "model.json", source / "final_model.hdf5")


def test_meta_before_dense_in_concat_is_reordered(tmp_path: Path) -> None:
    source = MODELS / "EGR1" / "meta_RNAseq_Unique35_DGF"
    spec = json.loads((source / "model.json").read_text())
    for layer in spec["config"]["layers"]:
        if layer["class_name"] == "Merge" and layer["config"]["mode"] == "concat":
            layer["inbound_nodes"][0].reverse()
    (tmp_path / "model.json").write_text(json.dumps(spec))
    shutil.copy(source / "final_model.hdf5", tmp_path)
    _, plain = read_keras1_factornet(source / "model.json", source / "final_model.hdf5")
    _, swapped = read_keras1_factornet(tmp_path / "model.json", tmp_path / "final_model.hdf5")
    # the file's rows now mean [meta, dense]; the module always concatenates [dense, meta]
    n_meta, w = 8, plain["meta_dense.weight"]
    assert torch.equal(swapped["meta_dense.weight"][:, :-n_meta], w[:, n_meta:])
    assert torch.equal(swapped["meta_dense.weight"][:, -n_meta:], w[:, :n_meta])


# --------------------------------------------------------------------------- other released kinds
def _resize(spec: dict, sizes: dict[str, int]) -> dict:
    """Edit a released model.json's sizes (the kinds in the authors' repository vary them)."""
    for layer in spec["config"]["layers"]:
        c, kind = layer["config"], layer["class_name"]
        if kind == "InputLayer" and len(c["batch_input_shape"]) == 3:
            c["batch_input_shape"] = [None, sizes["L"], sizes["C"]]
        elif kind == "InputLayer":
            c["batch_input_shape"] = [None, sizes["meta"]]
        elif kind == "Convolution1D":
            c.update(nb_filter=sizes["k"], filter_length=sizes["w"], input_dim=sizes["C"])
            c["batch_input_shape"] = [None, None, sizes["C"]]
        elif kind == "TimeDistributed":
            c["layer"]["config"]["output_dim"] = sizes["td"]
        elif kind == "MaxPooling1D":
            c.update(pool_length=sizes["pool"], stride=sizes["pool"])
        elif kind == "Bidirectional":
            c["layer"]["config"].update(output_dim=sizes["r"], input_dim=sizes["td"])
    denses = [layer["config"] for layer in spec["config"]["layers"] if layer["class_name"] == "Dense"]
    for c, units in zip(denses, (sizes["d"], sizes["d_meta"], sizes["tasks"])):
        c["output_dim"] = units
    return spec


def _write_keras1_weights(path: Path, spec: dict, sizes: dict[str, int], seed: int) -> None:
    """A weights-only Keras-1 HDF5 (``save_weights`` layout) with random values of the right shapes."""
    rng = np.random.default_rng(seed)
    names = {layer["class_name"]: layer["name"] for layer in spec["config"]["layers"]}
    denses = [layer["name"] for layer in spec["config"]["layers"] if layer["class_name"] == "Dense"]
    steps = (sizes["L"] - sizes["w"] + 1 - sizes["pool"]) // sizes["pool"] + 1
    shapes = {names["Convolution1D"]: {"convolution1d_1_W": (sizes["w"], 1, sizes["C"], sizes["k"]),
                                       "convolution1d_1_b": (sizes["k"],)},
              names["TimeDistributed"]: {"dense_1_W": (sizes["k"], sizes["td"]),
                                         "dense_1_b": (sizes["td"],)}}
    lstm = {}
    for direction in ("forward", "backward"):
        for gate in "icfo":  # Keras-1 trainable_weights order
            lstm[f"{direction}_lstm_1_W_{gate}"] = (sizes["td"], sizes["r"])
            lstm[f"{direction}_lstm_1_U_{gate}"] = (sizes["r"], sizes["r"])
            lstm[f"{direction}_lstm_1_b_{gate}"] = (sizes["r"],)
    shapes[names["Bidirectional"]] = lstm
    inputs = (steps * 2 * sizes["r"], sizes["d"] + sizes["meta"], sizes["d_meta"])
    for name, fan_in, units in zip(denses, inputs, (sizes["d"], sizes["d_meta"], sizes["tasks"])):
        shapes[name] = {f"{name}_W": (fan_in, units), f"{name}_b": (units,)}
    with h5py.File(path, "w") as h5:
        for layer in spec["config"]["layers"]:
            group = h5.create_group(layer["name"])
            arrays = shapes.get(layer["name"], {})
            group.attrs["weight_names"] = [n.encode() for n in arrays]
            for name, shape in arrays.items():
                scale = 1.0 / np.sqrt(shape[0] * (shape[2] if len(shape) == 4 else 1))
                group[name] = (rng.normal(size=shape) * scale).astype(np.float32)


@pytest.fixture
def resized_model_dir(tmp_path: Path) -> Path:
    """The paper's Table S1 geometry (L 1000, w 26, pool 13) with other sizes and 19 tasks."""
    sizes = dict(L=1000, C=5, w=26, pool=13, k=48, td=40, r=24, d=56, d_meta=44, meta=14, tasks=19)
    source = MODELS / "GABPA" / "metaGENCODE_RNAseq_Unique35_DGF" / "model.json"
    spec = _resize(json.loads(source.read_text()), sizes)
    (tmp_path / "model.json").write_text(json.dumps(spec))
    _write_keras1_weights(tmp_path / "final_model.hdf5", spec, sizes, seed=11)
    return tmp_path


def test_sizes_are_read_not_assumed(resized_model_dir: Path) -> None:
    config, state = read_keras1_factornet(resized_model_dir / "model.json",
                                          resized_model_dir / "final_model.hdf5")
    keys = ("seq_len", "n_channels", "conv_width", "pool", "conv_filters", "td_units", "lstm_units",
            "dense_units", "meta_dense_units", "n_meta", "n_tasks")
    assert [config[k] for k in keys] == [1000, 5, 26, 13, 48, 40, 24, 56, 44, 14, 19]
    model = FactorNet(**config)
    model.load_state_dict(state)
    seq, meta = random_inputs(model, 2, seed=4)
    assert run(model, seq, meta)[0].shape == (2, 19)


# --------------------------------------------------------------------------- biology: FOXA1 motif
def _meme_motif(path: Path, name: str) -> np.ndarray:
    lines = path.read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"MOTIF {name}"))
    rows = []
    for line in lines[start + 1:]:
        if line.startswith("MOTIF"):
            break
        values = line.split()
        if len(values) == 4 and all(v.replace(".", "", 1).isdigit() for v in values):
            rows.append([float(v) for v in values])
    return np.array(rows)


def _plant(seq: np.ndarray, motif: str, start: int) -> np.ndarray:
    out = seq.copy()
    out[:, start:start + len(motif), :4] = 0.0
    out[:, np.arange(start, start + len(motif)), ["ACGT".index(b) for b in motif]] = 1.0
    return out


def _motif_response(model: FactorNet) -> tuple[float, float]:
    """Mean probability with the FOXA1 consensus vs a shuffled consensus planted mid-window."""
    pwm = _meme_motif(SHARED / "resources" / "HOCOMOCOv9.meme", "FOXA1_")
    consensus = "".join("ACGT"[i] for i in pwm.argmax(axis=1))  # TGTTTACTTTG
    shuffled = "".join(np.random.default_rng(1).permutation(list(consensus)))
    rng = np.random.default_rng(0)
    bases = rng.choice(4, size=(64, model.seq_len), p=[0.295, 0.205, 0.205, 0.295])
    seq = np.zeros((64, model.seq_len, model.n_channels), dtype=np.float32)
    seq[np.arange(64)[:, None], np.arange(model.seq_len), bases] = 1.0
    seq[..., -1] = 0.05  # weak uniform DNase: an accessible-but-unremarkable background
    middle = model.seq_len // 2 - len(consensus) // 2
    with torch.no_grad():
        planted = model(torch.from_numpy(_plant(seq, consensus, middle))).mean().item()
        control = model(torch.from_numpy(_plant(seq, shuffled, middle))).mean().item()
    return planted, control


def test_foxa1_model_responds_to_its_motif() -> None:
    planted, control = _motif_response(converted(MODELS / "FOXA1" / "onePeak_DGF"))
    assert planted - control > 0.5, (planted, control)  # measured: 0.95 vs 0.19


def test_theano_kernel_flip_is_what_makes_the_motif_work() -> None:
    planted, control = _motif_response(converted(MODELS / "FOXA1" / "onePeak_DGF", flip=False))
    assert abs(planted - control) < 0.1, (planted, control)


# --------------------------------------------------------------------------- Keras-3 reference
@pytest.fixture(scope="module")
def keras_reference():  # the tests using it are marked tf: skipped (or, with --require, failed) without it
    import keras_reference as reference

    return reference


@pytest.mark.tf
def test_keras3_hard_sigmoid_is_not_keras1s(keras_reference) -> None:
    import keras

    x = np.linspace(-4, 4, 81, dtype=np.float32)
    keras1 = np.clip(0.2 * x + 0.5, 0.0, 1.0)
    assert np.allclose(np.asarray(keras_reference.keras1_hard_sigmoid(x)), keras1)
    assert np.abs(np.asarray(keras.activations.hard_sigmoid(x)) - keras1).max() > 0.05


@pytest.mark.tf
@pytest.mark.parametrize("model_dir", MODEL_DIRS, ids=IDS)
def test_matches_independent_keras3_rebuild(model_dir: Path, keras_reference) -> None:
    model = converted(model_dir)
    reference = keras_reference.build_reference(model_dir, describe_model_dir(model_dir)["weights"].name)
    seq, meta = random_inputs(model, 6, seed=7)
    prob_ref, logit_ref, _ = keras_reference.predict(reference, seq, meta)
    prob, logit = run(model, seq, meta)
    assert np.abs(prob - prob_ref).max() < 1e-5
    assert np.abs(logit - logit_ref).max() < 1e-4 * max(1.0, np.abs(logit_ref).max())


@pytest.mark.tf
def test_the_keras3_comparison_would_catch_a_missing_flip(keras_reference) -> None:
    model_dir = MODELS / "FOXA1" / "onePeak_DGF"
    reference = keras_reference.build_reference(model_dir)
    seq, meta = random_inputs(converted(model_dir), 6, seed=7)
    _, logit_ref, _ = keras_reference.predict(reference, seq, meta)
    _, logit = run(converted(model_dir, flip=False), seq, meta)
    assert np.abs(logit - logit_ref).max() > 1.0


@pytest.mark.tf
def test_resized_model_matches_keras3_rebuild(resized_model_dir: Path, keras_reference) -> None:
    config, state = read_keras1_factornet(resized_model_dir / "model.json",
                                          resized_model_dir / "final_model.hdf5")
    model = FactorNet(**config)
    model.load_state_dict(state)
    reference = keras_reference.build_reference(resized_model_dir, "final_model.hdf5")
    seq, meta = random_inputs(model, 4, seed=8)
    prob_ref, logit_ref, _ = keras_reference.predict(reference, seq, meta)
    prob, logit = run(model, seq, meta)
    assert np.abs(prob - prob_ref).max() < 1e-5
    assert np.abs(logit - logit_ref).max() < 1e-4 * max(1.0, np.abs(logit_ref).max())


# --------------------------------------------------------------------------- Kipoi's re-saves
@pytest.mark.parametrize("model_dir", MODEL_DIRS, ids=IDS)
def test_kipois_keras2_resave_converts_to_the_same_model(model_dir: Path, tmp_path: Path) -> None:
    """Kipoi's layout (tests/kipoi_resave.py) of each exactly converted model gives that model."""
    from kipoi_resave import write_kipoi_resave

    info = describe_model_dir(model_dir)
    want_config, want_state = read_keras1_factornet(info["model_json"], info["weights"])
    config, state = read_keras1_factornet(*write_kipoi_resave(model_dir, tmp_path))
    assert config == want_config
    assert all(torch.equal(state[key], want_state[key]) for key in want_state)
    resaved = FactorNet(**config)
    resaved.load_state_dict(state)
    seq, meta = random_inputs(resaved, 8, seed=3)
    for got, want in zip(run(resaved.eval(), seq, meta), run(converted(model_dir), seq, meta)):
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-6)
