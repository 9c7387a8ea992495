"""Kipoi's re-save of a FactorNet model, written without Keras, for testing the reader of that layout.

kipoi/models ``FactorNet/Snakefile`` rule ``model_files`` ran, in Keras 2.0/2.1 with TensorFlow:
``model_from_json`` on the authors' Keras-1 JSON, ``load_weights`` (whose
``preprocess_weights_for_loading`` squeezes Keras 1's (width, 1, in, out) convolution kernels to
(width, in, out) and merges each LSTM direction's 12 arrays, saved i, c, f, o, into kernel,
recurrent_kernel and bias in the order i, f, c, o), ``convert_all_kernels_in_model`` (reverses each
convolution kernel along its width), ``save_weights`` (layer groups at the root, weight names
``<layer>/<weight>:0``, ``backend: tensorflow``) and ``to_json`` (Keras 2's class names and keys).
This module does the same to the authors' files, independently of the converter's code.
"""
from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np

KERAS2 = "2.1.6"


def write_kipoi_resave(model_dir: Path, out_dir: Path) -> tuple[Path, Path]:
    """``(model.json, best_model.hdf5)`` in Kipoi's layout, made from the authors' folder."""
    out_dir.mkdir(parents=True, exist_ok=True)
    spec = json.loads((model_dir / "model.json").read_text())
    weights = next(model_dir / n for n in ("best_model.hdf5", "final_model.hdf5") if (model_dir / n).is_file())
    json_path, hdf5_path = out_dir / "model.json", out_dir / "best_model.hdf5"
    json_path.write_text(json.dumps(_keras2_spec(spec)))
    with h5py.File(weights, "r") as source, h5py.File(hdf5_path, "w") as target:
        group = source["model_weights"] if "model_weights" in source else source
        _write_weights(group, spec["config"]["layers"], target)
    return json_path, hdf5_path


# -- to_json ----------------------------------------------------------------------------------------
def _keras2_spec(spec: dict) -> dict:
    layers = [{"class_name": _class(entry["class_name"]), "name": entry["name"],
               "config": _config(entry["class_name"], entry["config"]),
               "inbound_nodes": [[[ref[0], ref[1], ref[2], {}] for ref in node] for node in entry["inbound_nodes"]]}
              for entry in spec["config"]["layers"]]
    config = {**spec["config"], "layers": layers}
    return {"class_name": "Model", "config": config, "keras_version": KERAS2, "backend": "tensorflow"}


def _class(name: str) -> str:
    return {"Convolution1D": "Conv1D"}.get(name, name)


def _config(class_name: str, c: dict) -> dict:
    base = {"name": c.get("name"), "trainable": True}
    if class_name == "Convolution1D":
        return {**base, "filters": c["nb_filter"], "kernel_size": [c["filter_length"]], "strides": [c["subsample_length"]],
                "padding": c["border_mode"], "dilation_rate": [1], "activation": c["activation"], "use_bias": True}
    if class_name == "Dropout":
        return {**base, "rate": c["p"], "noise_shape": None, "seed": None}
    if class_name == "Dense":
        return {**base, "units": c["output_dim"], "activation": c["activation"], "use_bias": True}
    if class_name == "MaxPooling1D":
        return {**base, "pool_size": [c["pool_length"]], "strides": [c["stride"]], "padding": c["border_mode"]}
    if class_name == "LSTM":
        return {**base, "units": c["output_dim"], "activation": c["activation"],
                "recurrent_activation": c["inner_activation"], "return_sequences": c["return_sequences"],
                "go_backwards": c["go_backwards"], "stateful": c["stateful"], "dropout": c["dropout_W"],
                "recurrent_dropout": c["dropout_U"], "implementation": 0, "unroll": False}
    if class_name in ("TimeDistributed", "Bidirectional"):
        inner = c["layer"]
        wrapped = {"class_name": inner["class_name"], "config": _config(inner["class_name"], inner["config"])}
        return {**base, "layer": wrapped, **({"merge_mode": c["merge_mode"]} if "merge_mode" in c else {})}
    return {**c}


# -- load_weights + convert_all_kernels_in_model + save_weights -------------------------------------
def _write_weights(group: h5py.Group, layers: list[dict], target: h5py.File) -> None:
    target.attrs["layer_names"] = [entry["name"].encode() for entry in layers]
    target.attrs["backend"] = b"tensorflow"
    target.attrs["keras_version"] = KERAS2.encode()
    for entry in layers:
        name = entry["name"]
        arrays = _keras2_arrays(entry, _read(group[name])) if name in group else {}
        layer_group = target.create_group(name)
        layer_group.attrs["weight_names"] = [key.encode() for key in arrays]
        for key, value in arrays.items():
            layer_group.create_dataset(key, data=value)


def _read(layer: h5py.Group) -> list[np.ndarray]:
    return [np.asarray(layer[n]) for n in layer.attrs["weight_names"]]


def _keras2_arrays(entry: dict, values: list[np.ndarray]) -> dict[str, np.ndarray]:
    name, kind = entry["name"], entry["class_name"]
    if not values:
        return {}
    if kind == "Convolution1D":
        kernel = values[0][:, 0, :, :][::-1]  # squeezed on load, then convert_kernel's flip
        return {f"{name}/kernel:0": np.ascontiguousarray(kernel), f"{name}/bias:0": values[1]}
    if kind == "Bidirectional":
        inner = entry["config"]["layer"]["config"]["name"]
        half = len(values) // 2
        return {**_lstm(f"{name}/forward_{inner}", values[:half]), **_lstm(f"{name}/backward_{inner}", values[half:])}
    return {f"{name}/kernel:0": values[0], f"{name}/bias:0": values[1]}  # Dense, TimeDistributed(Dense)


def _lstm(prefix: str, values: list[np.ndarray]) -> dict[str, np.ndarray]:
    """Keras 1's W_i U_i b_i W_c U_c b_c W_f U_f b_f W_o U_o b_o -> kernel, recurrent, bias (i, f, c, o)."""
    order = (0, 6, 3, 9)  # i, f, c, o
    merged = [np.concatenate([values[k + j] for k in order], axis=-1) for j in range(3)]
    return {f"{prefix}/kernel:0": merged[0], f"{prefix}/recurrent_kernel:0": merged[1], f"{prefix}/bias:0": merged[2]}
