"""An ONNX graph as a Keras 3 layer: the network of an entry for Keras pipelines, without PyTorch.

`OnnxGraph` holds the nodes of an ONNX graph (as written by `epizoo export`) in its config and
the graph's floating-point initializers as its weights, and runs the nodes in order with
``keras.ops``, so it works on any Keras backend and saves to a ``.keras`` file. Loading one needs
keras and this module only (``import epizoo.keras_graph`` registers the layer). The ONNX operators
covered are those the zoo's networks export to; another is refused by name when the layer is made.
There is no maintained converter to use instead: onnx2tf pins TensorFlow 2.19 and writes Keras 2
models, and onnx-tf is archived.
"""
from __future__ import annotations

from typing import Any, Callable

import keras
import numpy as np
from keras import ops

#: An initializer with at most this many values is a constant of the config (shapes, axes,
#: indices, scalars); larger ones are the layer's weights.
CONSTANT_SIZE = 16


@keras.saving.register_keras_serializable(package="epizoo")
class OnnxGraph(keras.layers.Layer):
    """The nodes of an ONNX graph, run with ``keras.ops``; called on a dict of the graph's inputs,
    it returns a dict of its outputs.

    Parameters
    ----------
    nodes
        ``{"op": ..., "inputs": [...], "outputs": [...], "attributes": {...}}`` per node, in order.
    inputs, outputs
        The graph's input and output names.
    constants
        Small initializers: name -> ``{"value": nested list, "dtype": ...}``.
    weight_specs
        Large initializers: ``[name, shape]`` in the order of the layer's weights.
    """

    def __init__(self, nodes: list[dict], inputs: list[str], outputs: list[str], constants: dict[str, dict],
                 weight_specs: list[list], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        unknown = sorted({node["op"] for node in nodes} - set(OPS))
        if unknown:
            raise ValueError(f"ONNX operators without a Keras counterpart here: {', '.join(unknown)}")
        self.nodes, self.graph_inputs, self.graph_outputs = nodes, inputs, outputs
        self.constants, self.weight_specs = constants, weight_specs
        self.tensors = {name: self.add_weight(name=f"w{k}", shape=tuple(shape), trainable=False, initializer="zeros")
                        for k, (name, shape) in enumerate(weight_specs)}

    def call(self, inputs: dict) -> dict:
        values: dict[str, Any] = {name: np.asarray(spec["value"], dtype=spec["dtype"]) for name, spec in self.constants.items()}
        values |= {name: variable.value for name, variable in self.tensors.items()}
        values |= {name: inputs[name] for name in self.graph_inputs}
        values[""] = None  # an optional input left out
        for node in self.nodes:
            results = OPS[node["op"]](*(values[name] for name in node["inputs"]), **node["attributes"])
            results = results if isinstance(results, tuple) else (results,)
            values.update(zip(node["outputs"], results))
        return {name: values[name] for name in self.graph_outputs}

    def get_config(self) -> dict:
        return super().get_config() | {"nodes": self.nodes, "inputs": self.graph_inputs, "outputs": self.graph_outputs,
                                       "constants": self.constants, "weight_specs": self.weight_specs}


# -- operators -----------------------------------------------------------------------------------
def _channels_last(x):
    return ops.moveaxis(x, 1, -1)


def _channels_first(x):
    return ops.moveaxis(x, -1, 1)


def _padded(x, pads: list[int], value: float = 0.0):
    """Channels-last ``x`` padded by ONNX's ``pads`` (all begins, then all ends) on its spatial axes."""
    spatial = len(pads) // 2
    if not any(pads):
        return x
    widths = [(0, 0)] + [(pads[k], pads[k + spatial]) for k in range(spatial)] + [(0, 0)]
    return ops.pad(x, widths, constant_values=value)


def _conv(x, w, b=None, *, pads=(), strides=(), dilations=(), group=1, kernel_shape=(), auto_pad="NOTSET"):
    if group != 1 or auto_pad != "NOTSET":
        raise ValueError("Conv: only group=1 and explicit pads are covered")
    spatial = len(kernel_shape)
    kernel = ops.transpose(w, list(range(2, 2 + spatial)) + [1, 0])  # (O, I, k...) -> (k..., I, O)
    y = ops.conv(_padded(_channels_last(x), list(pads) or [0] * 2 * spatial), kernel,
                 strides=list(strides) or 1, padding="valid", dilation_rate=list(dilations) or 1)
    return _channels_first(y if b is None else y + b)


def _conv_transpose(x, w, b=None, *, pads=(), strides=(), dilations=(), group=1, kernel_shape=(), output_padding=(),
                    auto_pad="NOTSET"):
    if group != 1 or auto_pad != "NOTSET" or any(output_padding) or any(d != 1 for d in dilations):
        raise ValueError("ConvTranspose: only group=1, dilation 1, no output padding and explicit pads are covered")
    spatial = len(kernel_shape)
    kernel = ops.transpose(w, list(range(2, 2 + spatial)) + [1, 0])  # (I, O, k...) -> (k..., O, I)
    y = ops.conv_transpose(_channels_last(x), kernel, strides=list(strides) or 1, padding="valid")
    pads = list(pads) or [0] * 2 * spatial
    crop = tuple([slice(None)] + [slice(pads[k], y.shape[k + 1] - pads[k + spatial] if y.shape[k + 1] is not None
                                        else -pads[k + spatial] or None) for k in range(spatial)])
    y = y[crop]
    return _channels_first(y if b is None else y + b)


def _pool(reduce: Callable):
    def pool(x, *, kernel_shape, strides=(), pads=(), ceil_mode=0, dilations=(), auto_pad="NOTSET",
             count_include_pad=0, storage_order=0):
        if ceil_mode or any(pads) or any(d != 1 for d in dilations) or auto_pad != "NOTSET":
            raise ValueError("pooling: only valid windows are covered")
        return _channels_first(reduce(_channels_last(x), list(kernel_shape), list(strides) or None, padding="valid"))
    return pool


def _gemm(a, b, c=None, *, alpha=1.0, beta=1.0, transA=0, transB=0):
    y = ops.matmul(ops.transpose(a) if transA else a, ops.transpose(b) if transB else b)
    y = y if alpha == 1 else y * alpha
    return y if c is None else y + (c if beta == 1 else c * beta)


def _axes(axes) -> list[int]:
    return [int(a) for a in np.atleast_1d(np.asarray(axes))]


def _reduce(reduce: Callable):
    def reduced(x, axes=None, *, keepdims=1, noop_with_empty_axes=0):
        return reduce(x, axis=None if axes is None else tuple(_axes(axes)), keepdims=bool(keepdims))
    return reduced


def _unsqueeze(x, axes):
    for axis in sorted(_axes(axes)):
        x = ops.expand_dims(x, axis)
    return x


def _reshape(x, shape, *, allowzero=0):
    if not isinstance(shape, np.ndarray):  # computed from shapes: a tensor
        return ops.reshape(x, shape)
    dims = [ops.shape(x)[k] if d == 0 and not allowzero else int(d) for k, d in enumerate(shape)]
    return ops.reshape(x, dims)


def _bounds(values, n: int) -> list:
    """Slice bounds as ints (ONNX's "to the end", +-2^63 - 1, as None), or scalar tensors when
    computed from shapes."""
    if isinstance(values, np.ndarray):
        return [None if abs(int(v)) >= 2 ** 62 else int(v) for v in values.reshape(-1)]
    return [values[k] for k in range(n)]


def _slice(x, starts, ends, axes=None, steps=None):
    rank = len(x.shape)
    n = int(np.prod(starts.shape))
    axes = _axes(axes) if axes is not None else list(range(n))
    steps = _axes(steps) if steps is not None else [1] * n
    index = [slice(None)] * rank
    for axis, start, end, step in zip(axes, _bounds(starts, n), _bounds(ends, n), steps):
        index[axis % rank] = slice(start, end, step)
    return x[tuple(index)]


def _shape(x, *, start=0, end=None):
    return ops.convert_to_tensor(ops.shape(x)[start:end], dtype="int64")


def _constant_of_shape(shape, *, value=None):
    value = value or {"value": [0.0], "dtype": "float32"}  # ONNX's default
    return ops.full(shape, np.asarray(value["value"]).reshape(-1)[0], dtype=value["dtype"])


def _clip(x, low=None, high=None):
    return ops.clip(x, -np.inf if low is None else low, np.inf if high is None else high)


OPS: dict[str, Callable] = {
    "Add": ops.add, "Sub": ops.subtract, "Mul": ops.multiply, "Div": ops.divide, "Neg": ops.negative,
    "Relu": ops.relu, "Sigmoid": ops.sigmoid, "Tanh": ops.tanh, "Exp": ops.exp, "Softplus": ops.softplus,
    "Gelu": lambda x, approximate="none": ops.gelu(x, approximate=approximate == "tanh"),
    "Softmax": lambda x, axis=-1: ops.softmax(x, axis=axis),
    "Clip": _clip, "MatMul": ops.matmul, "Gemm": _gemm, "Conv": _conv, "ConvTranspose": _conv_transpose,
    "MaxPool": _pool(ops.max_pool), "AveragePool": _pool(ops.average_pool),
    "ReduceMean": _reduce(ops.mean), "ReduceMax": _reduce(ops.max),
    "Reshape": _reshape, "Transpose": lambda x, perm=None: ops.transpose(x, perm),
    "Unsqueeze": _unsqueeze, "Squeeze": lambda x, axes=None: ops.squeeze(x, None if axes is None else tuple(_axes(axes))),
    "Concat": lambda *xs, axis: ops.concatenate([ops.convert_to_tensor(x) for x in xs], axis=axis),
    "Slice": _slice, "Gather": lambda x, indices, axis=0: ops.take(x, ops.convert_to_tensor(indices), axis=axis),
    "Shape": _shape, "ConstantOfShape": _constant_of_shape, "Greater": ops.greater, "Where": ops.where,
    "Identity": lambda x: x, "Cast": lambda x, to: ops.cast(x, _ONNX_DTYPES[to]),
}
_ONNX_DTYPES = {1: "float32", 6: "int32", 7: "int64", 9: "bool", 10: "float16", 11: "float64", 16: "bfloat16"}
