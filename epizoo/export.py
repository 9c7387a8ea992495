"""``epizoo export``: an entry's network as an ONNX model, for pipelines outside PyTorch, checked
against the PyTorch network before it is kept.

The network is traced by torch's ONNX exporter (``torch.onnx.export(..., dynamo=True)``, which
needs ``onnxscript``) on inputs of the declared kinds and shapes (`epizoo.contract.example_inputs`)
with a free batch axis; its inputs keep the entry's names (``seq``, ``expression``, ...) and its
outputs take the contract's (``counts``, ``profile``). The file is then run by ONNX Runtime on
other inputs, of another batch size, and written only when every output agrees with
`epizoo.predict` to the tolerance (relative to the output's largest magnitude, when above 1).

With the tf extra, `export_keras` turns that ONNX graph into a Keras 3 model (one
`epizoo.keras_graph.OnnxGraph` layer), checked the same way, for Keras pipelines without PyTorch.
"""
from __future__ import annotations

import logging
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from epizoo.atomic import atomic_path
from epizoo.contract import example_inputs
from epizoo.prediction import predict
from epizoo.registry import get_contract, get_model, model_yaml


ANSI_COLOUR = re.compile(r"\x1b\[[0-9;]*m")


class ExportError(ValueError):
    """An entry that does not export, or whose export does not compute what it computes."""


class ExportMismatch(ExportError):
    """An export that runs but does not compute what the network computes."""


@dataclass(frozen=True)
class Exported:
    """An exported entry: the file, its input and output names, and the largest difference from
    the PyTorch network on the check's inputs (relative to an output's largest magnitude above 1)."""

    path: Path
    inputs: list[str]
    outputs: list[str]
    max_difference: float


def export_onnx(model: str | Path, out: str | Path, tolerance: float = 1e-4) -> Exported:
    """Export an entry (zoo name or folder) to the ONNX file ``out``.

    Raises
    ------
    ExportError
        When the exporter cannot trace the network (e.g. Avocado's genome factors, read lazily
        from shards), or ONNX Runtime's outputs differ from PyTorch's by more than ``tolerance``.
    """
    _require_packages()
    if "architecture" not in (model_yaml(model).get("args") or {}):
        raise ExportError(f"{model} is not a network (its model.yaml has no args.architecture): nothing to export")
    network = get_model(model, with_dataloader=False).model.eval()
    contract = get_contract(model)
    traced = example_inputs(contract, n=3, seed=0)
    names = _output_names(predict(network, traced, device="cpu"), contract)
    batch = torch.export.Dim("batch", min=1)
    with atomic_path(out) as tmp:
        try:
            logging.getLogger("torch.onnx").setLevel(logging.ERROR)
            program = torch.onnx.export(network, (), kwargs=traced, dynamic_shapes={k: {0: batch} for k in traced},
                                        input_names=list(traced), output_names=names, dynamo=True, verbose=False)
        except Exception as error:
            raise ExportError(f"{model} does not export to ONNX: {_root_cause(error)}") from error
        program.save(str(tmp))
        difference = _max_difference(tmp, network, example_inputs(contract, n=5, seed=1), names)
        if difference > tolerance:
            raise ExportMismatch(f"{model}'s ONNX export differs from the PyTorch network by {difference:.3g} "
                              f"> {tolerance:g}: not written")
    return Exported(Path(out), list(traced), names, difference)


def _require_packages() -> None:
    import importlib.util

    missing = [name for name in ("onnx", "onnxscript", "onnxruntime") if importlib.util.find_spec(name) is None]
    if missing:
        raise ImportError(f"epizoo export needs {', '.join(missing)}: pip install -r requirements/onnx.txt "
                          "(the onnx extra)")


def _root_cause(error: BaseException) -> str:
    """The first line of the innermost cause (the exporter wraps it in pages of advice)."""
    while error.__cause__ is not None:
        error = error.__cause__
    line = next((line for line in str(error).splitlines() if line.strip()), "")
    return f"{type(error).__name__}: {ANSI_COLOUR.sub('', line).strip()}"


def _output_names(raw: Any, contract) -> list[str]:
    """The outputs' names in the order the exporter flattens them (a mapping's own order)."""
    if isinstance(raw, dict):
        return [str(name) for name in raw]
    return list(contract.outputs) if isinstance(raw, (tuple, list)) else [next(iter(contract.outputs))]


def _max_difference(path: Path, network: torch.nn.Module, inputs: dict[str, torch.Tensor], names: list[str]) -> float:
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    try:  # a batch axis the trace fixed shows here, as inputs of another batch size
        exported = session.run(names, {name: value.numpy() for name, value in inputs.items()})
    except Exception as error:
        raise ExportMismatch(f"the ONNX export does not run on {len(next(iter(inputs.values())))} samples: "
                          f"{_root_cause(error)}") from error
    return _difference(exported, network, inputs)


def _difference(exported: list[np.ndarray], network: torch.nn.Module, inputs: dict[str, torch.Tensor]) -> float:
    """Largest difference of the exported outputs from `epizoo.predict`'s (in the same order),
    relative to an output's largest magnitude when above 1."""
    raw = predict(network, inputs, device="cpu")
    reference = list(raw.values()) if isinstance(raw, dict) else list(raw) if isinstance(raw, (tuple, list)) else [raw]
    return max(float(np.abs(np.asarray(mine) - theirs.numpy()).max() / max(1.0, float(theirs.abs().max())))
               for mine, theirs in zip(exported, reference))


def export_keras(model: str | Path, out: str | Path, tolerance: float = 1e-4) -> Exported:
    """Export an entry to the Keras 3 file ``out`` (``.keras``): its ONNX export (`export_onnx`,
    checked) as an `epizoo.keras_graph.OnnxGraph` layer in a functional model with the entry's
    named inputs and outputs, kept when Keras' outputs on inputs of another batch size agree with
    `epizoo.predict` to ``tolerance``. Loading it needs keras and ``import epizoo.keras_graph``."""
    if Path(out).suffix != ".keras":
        raise ExportError(f"{out}: a Keras 3 model file ends in .keras")
    with tempfile.TemporaryDirectory() as folder:
        onnx_export = export_onnx(model, Path(folder) / "network.onnx", tolerance)
        keras_model = _keras_model(onnx_export.path)
        inputs = example_inputs(get_contract(model), n=5, seed=1)
        outputs = keras_model.predict({name: value.numpy() for name, value in inputs.items()}, verbose=0)
        network = get_model(model, with_dataloader=False).model.eval()
        difference = _difference([outputs[name] for name in onnx_export.outputs], network, inputs)
        if difference > tolerance:
            raise ExportMismatch(f"{model}'s Keras export differs from the PyTorch network by {difference:.3g} "
                                 f"> {tolerance:g}: not written")
        saved = Path(folder) / "model.keras"
        keras_model.save(saved)
        with atomic_path(out) as tmp:
            shutil.move(saved, tmp)
    return Exported(Path(out), onnx_export.inputs, onnx_export.outputs, difference)


def _keras_model(onnx_file: Path):
    """The ONNX graph as a functional Keras model: one `OnnxGraph` layer, its large initializers as
    the layer's weights."""
    import keras
    import onnx
    from onnx import numpy_helper

    from epizoo.keras_graph import CONSTANT_SIZE, OnnxGraph

    graph = onnx.load(str(onnx_file)).graph
    arrays = {tensor.name: numpy_helper.to_array(tensor) for tensor in graph.initializer}
    nodes = []
    for node in graph.node:
        if node.op_type == "Constant":
            arrays[node.output[0]] = numpy_helper.to_array(node.attribute[0].t)
            continue
        attributes = {a.name: _attribute(onnx.helper.get_attribute_value(a)) for a in node.attribute}
        nodes.append({"op": node.op_type, "inputs": list(node.input), "outputs": list(node.output), "attributes": attributes})
    large = {name: array for name, array in arrays.items() if array.size > CONSTANT_SIZE and array.dtype.kind == "f"}
    constants = {name: {"value": array.tolist(), "dtype": str(array.dtype)} for name, array in arrays.items() if name not in large}
    layer = OnnxGraph(nodes, [i.name for i in graph.input], [o.name for o in graph.output], constants,
                      [[name, list(array.shape)] for name, array in large.items()], name="onnx_graph")
    layer.set_weights(list(large.values()))
    inputs = {i.name: keras.Input(shape=tuple(d.dim_value or None for d in i.type.tensor_type.shape.dim[1:]), name=i.name,
                                  dtype=onnx.helper.tensor_dtype_to_np_dtype(i.type.tensor_type.elem_type).name)
              for i in graph.input}
    return keras.Model(inputs, layer(inputs))


def _attribute(value: Any) -> Any:
    """An ONNX attribute's value as plain data (strings decoded, a tensor as its values and dtype)."""
    from onnx import TensorProto, numpy_helper

    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, TensorProto):
        array = numpy_helper.to_array(value)
        return {"value": array.tolist(), "dtype": str(array.dtype)}
    return list(value) if isinstance(value, (list, tuple)) else value
