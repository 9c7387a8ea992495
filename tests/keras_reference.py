"""An independent Keras-3 / TensorFlow rebuild of FactorNet's released Keras-1.1 models.

Used only by the conversion tests, as an oracle that shares no code with
``epizoo.conversion.factornet`` or ``epizoo.zoo.FactorNet``: it reads ``model.json`` and the
HDF5 arrays itself (h5py), builds the two-input Siamese graph with Keras-3 layers, and
reproduces the Keras-1.1/Theano semantics by different means:

* Theano's true convolution: ``conv(x, W) = reverse(xcorr(reverse(x), W))`` along length, with the
  stored kernel unchanged (the converter instead reverses the kernel);
* Keras-1's ``hard_sigmoid`` = clip(0.2 x + 0.5, 0, 1) as a custom activation, because Keras-3's
  ``hard_sigmoid`` is relu6(x + 3) / 6;
* Keras-3's own ``Bidirectional(LSTM(return_sequences=True))``, which, like Keras 1.1.1, reverses
  the backward outputs back to input time before concatenating;
* the reverse complement with numpy (position reversed, base channels reordered T, G, C, A).
"""
from __future__ import annotations

import json
from pathlib import Path

import h5py
import keras
import numpy as np
from keras import layers, ops

__all__ = ["keras1_hard_sigmoid", "build_reference", "reverse_complement_np", "predict"]


@keras.saving.register_keras_serializable(package="epizoo_tests")
def keras1_hard_sigmoid(x):
    """Theano/Keras-1 hard sigmoid: clip(0.2 x + 0.5, 0, 1)."""
    return ops.clip(0.2 * x + 0.5, 0.0, 1.0)


def reverse_complement_np(x: np.ndarray) -> np.ndarray:
    """(batch, L, 4 + tracks): reverse positions, complement A<->T and C<->G, keep track order."""
    order = [3, 2, 1, 0] + list(range(4, x.shape[-1]))
    return np.ascontiguousarray(x[:, ::-1, :][:, :, order])


def _arrays(h5: h5py.File, layer: str) -> dict[str, np.ndarray]:
    root = h5["model_weights"] if "model_weights" in h5 else h5
    return {name: np.array(root[layer][name]) for name in root[layer]}


def _one(arrays: dict[str, np.ndarray], ending: str) -> np.ndarray:
    (value,) = [v for k, v in arrays.items() if k.endswith(ending)]
    return value


def _by_class(spec: dict, class_name: str) -> list[dict]:
    return [entry for entry in spec["config"]["layers"] if entry["class_name"] == class_name]


def _activation(name: str):
    return keras1_hard_sigmoid if name == "hard_sigmoid" else name


def _lstm_weights(arrays: dict[str, np.ndarray], direction: str) -> list[np.ndarray]:
    """Keras-3 LSTM [kernel, recurrent_kernel, bias], gates concatenated i, f, c, o."""
    mine = {k: v for k, v in arrays.items() if k.startswith(direction)}
    return [np.concatenate([_one(mine, f"_{kind}_{gate}") for gate in "ifco"], axis=-1)
            for kind in ("W", "U", "b")]


def build_reference(model_dir: Path, weights: str = "best_model.hdf5") -> keras.Model:
    """Build the Keras-3 model for one released folder.

    Returns a model with inputs ``[seq, seq_rc]`` (+ ``meta``) and outputs
    ``[mean probability, forward-strand logits, reverse-strand logits]``.
    """
    model_dir = Path(model_dir)
    spec = json.loads((model_dir / "model.json").read_text())
    inputs_cfg = [e["config"]["batch_input_shape"] for e in _by_class(spec, "InputLayer")]
    seq_shape = [s for s in inputs_cfg if len(s) == 3][0]
    meta_shape = [s for s in inputs_cfg if len(s) == 2]
    conv_cfg = _by_class(spec, "Convolution1D")[0]["config"]
    td_cfg = _by_class(spec, "TimeDistributed")[0]["config"]["layer"]["config"]
    pool_cfg = _by_class(spec, "MaxPooling1D")[0]["config"]
    rnn_cfg = _by_class(spec, "Bidirectional")[0]["config"]["layer"]["config"]
    dense_cfgs = [e["config"] for e in _by_class(spec, "Dense")]

    with h5py.File(model_dir / weights, "r") as h5:
        conv_w = _arrays(h5, _by_class(spec, "Convolution1D")[0]["name"])
        td_w = _arrays(h5, _by_class(spec, "TimeDistributed")[0]["name"])
        rnn_w = _arrays(h5, _by_class(spec, "Bidirectional")[0]["name"])
        dense_w = [_arrays(h5, cfg["name"]) for cfg in dense_cfgs]

    conv = layers.Conv1D(conv_cfg["nb_filter"], conv_cfg["filter_length"], padding="valid",
                         activation=conv_cfg["activation"])
    td = layers.TimeDistributed(layers.Dense(td_cfg["output_dim"], activation=td_cfg["activation"]))
    pool = layers.MaxPooling1D(pool_cfg["pool_length"], strides=pool_cfg["stride"], padding="valid")
    lstm = layers.LSTM(rnn_cfg["output_dim"], activation=rnn_cfg["activation"],
                       recurrent_activation=_activation(rnn_cfg["inner_activation"]),
                       return_sequences=True, unit_forget_bias=False, use_cudnn=False)
    blstm = layers.Bidirectional(lstm, merge_mode="concat")
    denses = [layers.Dense(cfg["output_dim"], activation=cfg["activation"]) for cfg in dense_cfgs[:-1]]
    last = dense_cfgs[-1]
    out_logits = layers.Dense(last["output_dim"], activation="linear")

    seq_in = keras.Input(shape=tuple(seq_shape[1:]), name="seq")
    rc_in = keras.Input(shape=tuple(seq_shape[1:]), name="seq_rc")
    meta_in = keras.Input(shape=(meta_shape[0][1],), name="meta") if meta_shape else None

    def strand(x):
        # Theano true convolution: reverse, cross-correlate with the stored kernel, reverse back.
        y = ops.flip(conv(ops.flip(x, axis=1)), axis=1)
        y = pool(td(y))
        y = layers.Flatten()(blstm(y))
        y = denses[0](y)
        if meta_in is not None:
            y = denses[1](layers.Concatenate(axis=-1)([y, meta_in]))
        return out_logits(y)

    logit_f, logit_r = strand(seq_in), strand(rc_in)
    prob = layers.Average()([layers.Activation(last["activation"])(logit_f),
                             layers.Activation(last["activation"])(logit_r)])
    inputs = [seq_in, rc_in] + ([meta_in] if meta_in is not None else [])
    model = keras.Model(inputs, [prob, logit_f, logit_r])

    conv.set_weights([_one(conv_w, "_W")[:, 0, :, :], _one(conv_w, "_b")])
    td.set_weights([_one(td_w, "_W"), _one(td_w, "_b")])
    blstm.set_weights(_lstm_weights(rnn_w, "forward") + _lstm_weights(rnn_w, "backward"))
    for layer, arrays in zip(denses + [out_logits], dense_w):
        layer.set_weights([_one(arrays, "_W"), _one(arrays, "_b")])
    return model


def predict(model: keras.Model, seq: np.ndarray, meta: np.ndarray | None = None) -> list[np.ndarray]:
    """Run the reference on forward-strand inputs; returns [probability, logit_fwd, logit_rc]."""
    inputs = [seq, reverse_complement_np(seq)] + ([meta] if meta is not None else [])
    return [np.asarray(o) for o in model(inputs, training=False)]
