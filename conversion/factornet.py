"""Convert FactorNet's published Keras-1.1 (Theano backend) models to `FactorNet` in PyTorch.

Also read: Kipoi's re-saves of them (Zenodo record 1466084), see (g).

Only ``json`` and ``h5py`` are used: no Keras, no Theano. Each semantic decision cites the Keras
1.1.1 / Theano 0.9 source it comes from (read from the PyPI sdists ``Keras-1.1.1.tar.gz`` and
``Theano-0.9.0.tar.gz``; Keras 1.1.0, which saved FOXA1/onePeak_DGF, is identical in the parts
used here):

(a) Convolution1D is a *true* convolution under Theano. ``keras/layers/convolutional.py``
    ``Convolution1D.call`` expands the input to (B, L, 1, C) and calls ``K.conv2d(x, W,
    dim_ordering='tf')`` with ``W`` of shape (filter_length, 1, input_dim, nb_filter);
    ``keras/backend/theano_backend.py::conv2d`` dimshuffles the kernel to (nb_filter, input_dim,
    filter_length, 1) and calls ``T.nnet.conv2d`` without ``filter_flip``, whose default
    (``theano/tensor/nnet/__init__.py::conv2d``) is ``filter_flip=True``: "flip the filter rows
    and columns before sliding them over the input ... normally referred to as a convolution".
    PyTorch's ``conv1d`` is a cross-correlation, so the kernel is reversed along its width.
    Keras 1.1.1 says the same in ``keras/utils/np_utils.py::convert_kernel`` and
    ``layer_utils.convert_all_kernels_in_model`` (which lists 'Convolution1D'), and so does
    the authors' own ``utils.inject_pwm``, which writes a PWM into a kernel as ``pwm[::-1]``.
    Empirically (tests): with the flip, FOXA1's first-layer kernels correlate 0.92 with the
    HOCOMOCO FOXA1 PWM (0.61 without) and the model responds to a planted FOXA1 site. Keras 1.x HDF5
    files do not record the backend (the ``backend`` attribute arrived with Keras 2), so Theano
    is assumed unless the file says otherwise; FactorNet's README states Theano.
(b) LSTM weights: with ``consume_less`` 'cpu' or 'mem', ``LSTM.build`` creates 12 arrays, saved
    in ``trainable_weights`` order W_i U_i b_i W_c U_c b_c W_f U_f b_f W_o U_o b_o (names
    ``<layer>_W_i`` ...); they are read here by name. W is (input_dim, units), U (units, units).
    With 'gpu' there are three (W, U, b) with gates concatenated i, f, c, o. ``LSTM.step``:
    i, f, o = inner_activation(.), c = f*c + i*activation(.), h = o*activation(c); zero initial
    states (``Recurrent.get_initial_states``). ``forget_bias_init`` only initialises ``b_f``;
    the trained value is in the file. ``inner_activation`` comes from the config; Theano's
    ``hard_sigmoid`` is clip(0.2x + 0.5, 0, 1) (``theano/tensor/nnet/sigm.py``).
(c) Bidirectional (``keras/layers/wrappers.py``): the backward layer is the same LSTM with
    ``go_backwards`` negated; ``theano_backend.rnn`` scans the reversed sequence and returns
    outputs in processing order, and ``Bidirectional.call`` reverses them back
    (``if self.return_sequences: Y_rev = K.reverse(Y_rev, 1)``) before
    ``K.concatenate([Y, Y_rev])``: forward units first, both aligned to input time.
    Weights: forward layer's arrays, then the backward layer's (``forward_``/``backward_``
    name prefixes).
(d) Dense (also inside TimeDistributed): ``output = K.dot(x, W) + b`` with W (input_dim,
    output_dim) (``keras/layers/core.py::Dense``), i.e. the transpose of ``nn.Linear.weight``.
    Flatten is ``K.batch_flatten`` (C-order reshape of (B, T, F)): index t * F + f, as torch.
(e) ``Merge(mode='ave')`` (``keras/engine/topology.py::Merge.call``): sum of inputs divided by
    their number: the two strands' sigmoid outputs are averaged (probabilities, not logits).
    ``Merge(mode='concat')`` concatenates in inbound order (dense, meta in all releases; the
    converter reorders the weight rows if a file has meta first).
(f) Graph: the released files are flat functional models (``class_name: Model``). The
    authors' "hidden_layers" (``utils.make_model``) is a Python list of layer objects applied to
    both inputs, not a nested Model, so each shared layer is listed once with two inbound nodes
    (one per strand) and default names (convolution1d_1, dense_2, ...). The meta input is
    concatenated by two separate Merge layers (one per strand) that feed a shared Dense. The
    strand chain is followed here from the first sequence input, layer by layer.
(g) Kipoi's re-saves (kipoi/models ``FactorNet/Snakefile`` rule ``model_files``): Keras 2
    ``model_from_json`` on the authors' JSON, ``load_weights``, ``convert_all_kernels_in_model``,
    ``save_weights``, and ``model.to_json()``. So the JSON uses Keras 2's layer classes and
    configuration keys (``Conv1D`` with ``filters``, ``units``, ``recurrent_activation``, ``rate``,
    ...: read here by translating them to Keras 1's, `_as_keras1`), layer names kept. The weights
    are in Keras 2's layout (``preprocess_weights_for_loading`` of Keras 2.0/2.1): each
    Convolution1D kernel (width, in, out), each LSTM direction three arrays ``kernel``,
    ``recurrent_kernel``, ``bias`` with the gates concatenated i, f, c, o (the 'gpu' layout of
    (b)), under names such as ``bidirectional_1/forward_forward_lstm_1/kernel:0``
    (`_keras1_name`). ``convert_all_kernels_in_model`` reversed the kernels along their width,
    i.e. did (a)'s flip, and the file records ``backend: tensorflow``, so no flip is applied here.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import torch

from .keras_h5 import layer_weights, weight_groups

__all__ = ["read_keras1_factornet", "describe_model_dir", "GENCODE_FEATURES"]

log = logging.getLogger(__name__)

#: The 6 bin-level annotation flags of the GENCODE feature group, in the code's order
#: (FactorNet ``utils.extract_data_from_bed``; spec §1.1).
GENCODE_FEATURES = ("cpg", "cds", "intron", "promoter", "utr5", "utr3")
_DROPOUT_LAYERS = {"Dropout"}


@dataclass
class _Layer:
    name: str
    class_name: str
    config: dict[str, Any]
    inbound: list[list[tuple[str, int]]]  # per node: [(layer, node_index), ...]


# --------------------------------------------------------------------------- model.json graph
def _load_layers(model_json: Path) -> tuple[dict[str, _Layer], dict[str, Any]]:
    spec = json.loads(Path(model_json).read_text())
    if spec.get("class_name") != "Model" or not isinstance(spec.get("config"), dict):
        raise ValueError(f"{model_json}: not a Keras-1 functional model.json (class_name Model)")
    layers = {}
    for entry in spec["config"]["layers"]:
        nodes = [[(ref[0], int(ref[1])) for ref in node] for node in entry.get("inbound_nodes", [])]
        class_name, config = _as_keras1(entry["class_name"], entry["config"])
        layers[entry["name"]] = _Layer(entry["name"], class_name, config, nodes)
    return layers, spec


def _first(value: Any) -> Any:
    """Keras 2 writes 1-D sizes as one-element lists (``kernel_size: [34]``)."""
    return value[0] if isinstance(value, (list, tuple)) else value


def _as_keras1(class_name: str, config: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """A Keras 2 layer configuration (Kipoi's re-saved JSON, see (g)) in Keras 1's vocabulary;
    Keras 1 configurations are returned unchanged."""
    if class_name == "Conv1D":
        if _first(config.get("dilation_rate", 1)) != 1:
            raise ValueError(f"layer {config.get('name')}: dilated convolutions are not FactorNet's")
        return "Convolution1D", {**config, "nb_filter": config["filters"],
                                 "filter_length": _first(config["kernel_size"]),
                                 "border_mode": config.get("padding", "valid"),
                                 "subsample_length": _first(config.get("strides", 1))}
    if class_name == "MaxPooling1D" and "pool_size" in config:
        return class_name, {**config, "pool_length": _first(config["pool_size"]),
                            "stride": _first(config.get("strides") or config["pool_size"]),
                            "border_mode": config.get("padding", "valid")}
    if class_name == "Dropout" and "rate" in config:
        return class_name, {**config, "p": config["rate"]}
    if class_name == "Dense" and "units" in config:
        return class_name, {**config, "output_dim": config["units"]}
    if class_name == "LSTM" and "units" in config:
        return class_name, {**config, "output_dim": config["units"], "inner_activation": config["recurrent_activation"],
                            "dropout_W": config.get("dropout", 0.0), "dropout_U": config.get("recurrent_dropout", 0.0)}
    if class_name in ("TimeDistributed", "Bidirectional"):
        inner_class, inner = _as_keras1(config["layer"]["class_name"], config["layer"]["config"])
        return class_name, {**config, "layer": {"class_name": inner_class, "config": inner}}
    return class_name, config


def _sequence_inputs(layers: dict[str, _Layer], spec: dict[str, Any]) -> tuple[list[str], str | None]:
    """Names of the 3-D (sequence) inputs and of the 2-D meta input, in model input order."""
    names = [ref[0] for ref in spec["config"]["input_layers"]]
    seq = [n for n in names if len(layers[n].config["batch_input_shape"]) == 3]
    meta = [n for n in names if len(layers[n].config["batch_input_shape"]) == 2]
    if len(seq) != 2 or len(meta) > 1:
        raise ValueError(f"expected 2 sequence inputs and at most 1 meta input, got {seq} and {meta}")
    return seq, (meta[0] if meta else None)


def _consumer(layers: dict[str, _Layer], tensor: tuple[str, int]) -> tuple[_Layer, int]:
    """The layer (and its node index) that consumes ``tensor`` = (layer name, node index)."""
    hits = [(layer, i) for layer in layers.values() for i, node in enumerate(layer.inbound)
            if tensor in node]
    if len(hits) != 1:
        raise ValueError(f"output {tensor} feeds {len(hits)} layers; expected a single chain")
    return hits[0]


def _strand_chain(layers: dict[str, _Layer], start: str) -> list[tuple[_Layer, int]]:
    """Layers from one sequence input to the strand merge, with the node used at each."""
    chain, tensor = [], (start, 0)
    while True:
        layer, node = _consumer(layers, tensor)
        chain.append((layer, node))
        if layer.class_name == "Merge" and layer.config.get("mode") != "concat":
            return chain
        tensor = (layer.name, node)


# --------------------------------------------------------------------------- config
def _inner(layer: _Layer) -> dict[str, Any]:
    return layer.config["layer"]["config"]


def _parse_chain(chain: list[tuple[_Layer, int]],
                 meta_input: str | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """Walk one strand's chain, in order, into FactorNet kwargs and the layer-name plan."""
    cfg: dict[str, Any] = {"td_units": None, "lstm_units": 0, "n_meta": 0}
    plan: dict[str, Any] = {"meta_first": False}
    stage = "conv"
    for layer, node in chain:
        c, kind = layer.config, layer.class_name
        if kind in _DROPOUT_LAYERS:
            key = {"td": "conv_dropout", "flatten": "dropout"}.get(stage)  # where FactorNet has them
            if key is None:  # identity at inference; FactorNet has no slot for it in training
                log.info("%s: dropout %s at stage %r is not reproduced in training mode",
                         layer.name, c["p"], stage)
            else:
                cfg[key] = float(c["p"])
        elif kind == "Convolution1D" and stage == "conv":
            _expect(c.get("border_mode") == "valid" and int(c.get("subsample_length", 1)) == 1,
                    layer, "only valid, stride-1 convolutions are supported")
            cfg.update(conv_filters=int(c["nb_filter"]), conv_width=int(c["filter_length"]),
                       conv_activation=c["activation"])
            plan["conv"], stage = layer.name, "td"
        elif kind == "TimeDistributed" and stage == "td":
            inner = _inner(layer)
            _expect(layer.config["layer"]["class_name"] == "Dense", layer, "TimeDistributed(Dense) only")
            cfg.update(td_units=int(inner["output_dim"]), td_activation=inner["activation"])
            plan["td"], stage = layer.name, "pool"
        elif kind == "MaxPooling1D" and stage in {"td", "pool"}:
            _expect(c.get("border_mode", "valid") == "valid", layer, "only valid pooling is supported")
            cfg.update(pool=int(c["pool_length"]), pool_stride=int(c.get("stride") or c["pool_length"]))
            stage = "rnn"
        elif kind == "Bidirectional" and stage == "rnn":
            _parse_bidirectional(layer, cfg)
            plan["blstm"], stage = layer.name, "flatten"
        elif kind == "Flatten" and stage in {"rnn", "flatten"}:
            stage = "dense"
        elif kind == "Dense" and stage == "dense":
            cfg.update(dense_units=int(c["output_dim"]), dense_activation=c["activation"])
            plan["dense"], stage = layer.name, "head"
        elif kind == "Merge" and c.get("mode") == "concat" and stage == "head" and meta_input:
            names = [ref[0] for ref in layer.inbound[node]]
            _expect(len(names) == 2 and meta_input in names, layer, "concat of dense and meta expected")
            plan["meta_first"], stage = names[0] == meta_input, "meta_dense"
        elif kind == "Dense" and stage == "meta_dense":
            cfg.update(meta_dense_units=int(c["output_dim"]), meta_dense_activation=c["activation"])
            plan["meta_dense"], stage = layer.name, "head"
        elif kind == "Dense" and stage == "head":
            cfg.update(n_tasks=int(c["output_dim"]), output_activation=c["activation"])
            plan["out"], stage = layer.name, "merge"
        elif kind == "Merge" and stage == "merge":
            _expect(c.get("mode") == "ave", layer, "the strands must be merged with mode 'ave'")
            stage = "done"
        else:
            raise ValueError(f"unsupported layer {layer.name} ({kind}) at stage {stage!r}")
    _expect(stage == "done", chain[-1][0], "the graph ended before the strand merge")
    return cfg, plan


def _parse_bidirectional(layer: _Layer, cfg: dict[str, Any]) -> None:
    inner = _inner(layer)
    _expect(layer.config["layer"]["class_name"] == "LSTM", layer, "Bidirectional(LSTM) only")
    _expect(layer.config.get("merge_mode", "concat") == "concat", layer, "merge_mode must be concat")
    _expect(inner.get("return_sequences") is True, layer, "return_sequences=True expected")
    _expect(not inner.get("go_backwards") and not inner.get("stateful"), layer,
            "go_backwards/stateful inner LSTMs are not supported")
    cfg.update(lstm_units=int(inner["output_dim"]), lstm_activation=inner["activation"],
               lstm_inner_activation=inner["inner_activation"],
               lstm_dropout_W=float(inner.get("dropout_W", 0.0)),
               lstm_dropout_U=float(inner.get("dropout_U", 0.0)))


def _expect(condition: bool, layer: _Layer, message: str) -> None:
    if not condition:
        raise ValueError(f"layer {layer.name} ({layer.class_name}): {message}")


def _architecture(model_json: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    layers, spec = _load_layers(model_json)
    (first, second), meta_input = _sequence_inputs(layers, spec)
    chain = _strand_chain(layers, first)
    other = _strand_chain(layers, second)
    shared = [l.name for l, _ in chain if l.class_name != "Merge"]
    if shared != [l.name for l, _ in other if l.class_name != "Merge"]:
        raise ValueError(f"{model_json}: the two strands do not share the same layers")
    cfg, plan = _parse_chain(chain, meta_input)
    shape = layers[first].config["batch_input_shape"]
    cfg.update(seq_len=int(shape[1]), n_channels=int(shape[2]))
    if meta_input:
        cfg["n_meta"] = int(layers[meta_input].config["batch_input_shape"][1])
    plan["keras_version"] = spec.get("keras_version")
    return cfg, plan


# --------------------------------------------------------------------------- weights
def _layer_arrays(group: h5py.Group, layer: str) -> dict[str, np.ndarray]:
    return {_keras1_name(name): np.asarray(data, dtype=np.float32) for name, data in layer_weights(group, layer).items()}


#: Keras 2 weight names -> Keras 1 suffixes (recurrent_kernel before kernel, which it ends with)
_KERAS2_SUFFIXES = {"recurrent_kernel:0": "_U", "kernel:0": "_W", "bias:0": "_b"}


def _keras1_name(name: str) -> str:
    """A Keras 2 weight name in Keras 1's form, see (g): ``bidirectional_1/forward_lstm_1/kernel:0``
    -> ``forward_lstm_1_W``; Keras 1 names are returned unchanged."""
    for suffix, keras1 in _KERAS2_SUFFIXES.items():
        if name.endswith("/" + suffix):
            return name[: -len(suffix) - 1].split("/")[-1] + keras1
    return name


def _pick(arrays: dict[str, np.ndarray], suffix: str, prefix: str = "") -> np.ndarray:
    hits = [a for n, a in arrays.items() if n.endswith(suffix) and n.startswith(prefix)]
    if len(hits) != 1:
        raise KeyError(f"expected one weight {prefix}*{suffix}, found {len(hits)} in {sorted(arrays)}")
    return hits[0]


def _conv_kernel(w: np.ndarray, flip: bool) -> np.ndarray:
    """Keras-1 (width, 1, in, out) or Keras-2 (width, in, out) -> torch (out, in, width);
    reversed along width if Theano."""
    if not (w.ndim == 3 or (w.ndim == 4 and w.shape[1] == 1)):
        raise ValueError(f"unexpected Convolution1D kernel shape {w.shape}")
    kernel = w if w.ndim == 3 else w[:, 0, :, :]
    if flip:
        kernel = kernel[::-1]  # Theano true convolution -> cross-correlation, see (a)
    return np.ascontiguousarray(kernel.transpose(2, 1, 0))


def _lstm_direction(arrays: dict[str, np.ndarray], prefix: str) -> tuple[np.ndarray, ...]:
    """One direction's (W (in, 4H), U (H, 4H), b (4H)), gates in Keras-1 order i, f, c, o."""
    mine = {n: a for n, a in arrays.items() if n.startswith(prefix)}
    if len(mine) == 3:  # consume_less='gpu': W, U, b already concatenated i, f, c, o
        return _pick(mine, "_W"), _pick(mine, "_U"), _pick(mine, "_b")
    stacked = [np.concatenate([_pick(mine, f"_{kind}_{gate}") for gate in "ifco"], axis=-1)
               for kind in ("W", "U", "b")]
    return tuple(stacked)


def _linear(arrays: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Keras Dense W (in, out), b (out) -> nn.Linear weight (out, in), bias; see (d)."""
    return np.ascontiguousarray(_pick(arrays, "_W").T), _pick(arrays, "_b")


def _state_dict(group: h5py.Group, cfg: dict[str, Any], plan: dict[str, Any],
                flip: bool) -> dict[str, np.ndarray]:
    conv = _layer_arrays(group, plan["conv"])
    state = {"conv.weight": _conv_kernel(_pick(conv, "_W"), flip), "conv.bias": _pick(conv, "_b")}
    if "td" in plan:
        state["td.weight"], state["td.bias"] = _linear(_layer_arrays(group, plan["td"]))
    if "blstm" in plan:
        arrays = _layer_arrays(group, plan["blstm"])
        fwd, bwd = _lstm_direction(arrays, "forward_"), _lstm_direction(arrays, "backward_")
        for i, key in enumerate(("blstm.weight_ih", "blstm.weight_hh", "blstm.bias")):
            state[key] = np.stack([fwd[i], bwd[i]])
    state["dense.weight"], state["dense.bias"] = _linear(_layer_arrays(group, plan["dense"]))
    if "meta_dense" in plan:
        weight, bias = _linear(_layer_arrays(group, plan["meta_dense"]))
        if plan["meta_first"]:  # torch concatenates [dense, meta]; see (e)
            n_meta = cfg["n_meta"]
            weight = np.concatenate([weight[:, n_meta:], weight[:, :n_meta]], axis=1)
        state["meta_dense.weight"], state["meta_dense.bias"] = weight, bias
    state["out.weight"], state["out.bias"] = _linear(_layer_arrays(group, plan["out"]))
    return state


def _theano_file(handle: h5py.File) -> bool:
    backend = handle.attrs.get("backend")
    if backend is None:
        return True  # Keras 1.x files carry no backend attribute; FactorNet used Theano
    backend = backend.decode() if isinstance(backend, bytes) else str(backend)
    return backend == "theano"


def read_keras1_factornet(model_json: Path, weights_hdf5: Path, *,
                          flip_conv_kernels: bool | None = None) -> tuple[dict, dict[str, torch.Tensor]]:
    """Read a released FactorNet model into a `FactorNet` config and state dict.

    Parameters
    ----------
    model_json
        The Keras-1 architecture (``model.json``), or Kipoi's Keras-2 re-save of it.
    weights_hdf5
        ``best_model.hdf5`` (full save, weights under ``model_weights/``),
        ``final_model.hdf5`` (weights only), or Kipoi's Keras-2 re-save (see (g)).
    flip_conv_kernels
        Reverse the convolution kernels (Theano true convolution -> cross-correlation).
        ``None`` (default) decides from the file: Theano unless it records another backend.

    Returns
    -------
    config, state_dict
        ``FactorNet(**config).load_state_dict(state_dict)`` rebuilds the model; ``config`` is
        JSON-serialisable and holds ``seq_len``, ``n_channels``, ``n_meta`` and ``n_tasks``.
    """
    cfg, plan = _architecture(Path(model_json))
    with h5py.File(weights_hdf5, "r") as handle:
        flip = _theano_file(handle) if flip_conv_kernels is None else flip_conv_kernels
        arrays = _state_dict(weight_groups(handle), cfg, plan, flip)
    _check_shapes(cfg, arrays, Path(weights_hdf5))
    log.debug("read %s (keras %s), conv kernels flipped: %s", weights_hdf5, plan["keras_version"], flip)
    return cfg, {key: torch.from_numpy(np.ascontiguousarray(a)) for key, a in arrays.items()}


def _check_shapes(cfg: dict[str, Any], arrays: dict[str, np.ndarray], path: Path) -> None:
    """Build the module on the meta device and compare every parameter shape."""
    from epizoo.zoo.FactorNet.architecture import FactorNet

    with torch.device("meta"):
        expected = FactorNet(**cfg).state_dict()
    if set(expected) != set(arrays):
        raise ValueError(f"{path}: weights {sorted(arrays)} do not match "
                         f"the architecture {sorted(expected)}")
    for key, tensor in expected.items():
        if tuple(tensor.shape) != arrays[key].shape:
            raise ValueError(f"{path}: {key} has shape {arrays[key].shape}, "
                             f"the model.json implies {tuple(tensor.shape)}")


# --------------------------------------------------------------------------- model directory
def _read_names(path: Path) -> list[str]:
    """Non-empty lines' first tab-separated field (the files hold one name a line)."""
    if not path.is_file():
        return []
    return [line.split("\t")[0].strip() for line in path.read_text().splitlines() if line.strip()]


def describe_model_dir(model_dir: Path) -> dict:
    """Summarise a released model folder: inputs, tasks, features and the weights to use.

    Parameters
    ----------
    model_dir
        ``models/<TF>/<variant>/`` of the FactorNet repository.

    Returns
    -------
    dict
        ``tracks`` (bigwig.txt, channel order after A, C, G, T), ``tasks`` (chip.txt),
        ``feature_groups`` (feature.txt), ``meta_names`` (the meta vector in order: meta.txt's
        expression PCs, then the 6 GENCODE flags when ``gencode`` is a feature group),
        ``model_json`` and ``weights`` (best_model.hdf5, else final_model.hdf5) as paths, and
        ``weights_kind`` ('best' or 'final').
    """
    model_dir = Path(model_dir)
    groups = _read_names(model_dir / "feature.txt")
    meta_names = _read_names(model_dir / "meta.txt") if "meta" in groups else []
    if "gencode" in groups:
        meta_names += list(GENCODE_FEATURES)  # utils.py: meta PCs first, then the flags
    weights = next((model_dir / name for name in ("best_model.hdf5", "final_model.hdf5")
                    if (model_dir / name).is_file()), None)
    if weights is None:
        raise FileNotFoundError(f"{model_dir}: neither best_model.hdf5 nor final_model.hdf5")
    return {
        "name": f"{model_dir.parent.name}/{model_dir.name}",
        "tracks": _read_names(model_dir / "bigwig.txt"),
        "tasks": _read_names(model_dir / "chip.txt"),
        "feature_groups": groups,
        "meta_names": meta_names,
        "model_json": model_dir / "model.json",
        "weights": weights,
        "weights_kind": weights.name.split("_")[0],
    }


def convert_files(paths: dict[str, Path]) -> tuple[dict, dict[str, torch.Tensor]]:
    """The ``factornet-keras1`` converter of `epizoo.conversion.CONVERTERS`.

    ``paths`` maps ``model_json`` and ``weights_hdf5`` to the authors' files.
    """
    return read_keras1_factornet(paths["model_json"], paths["weights_hdf5"])
