"""`predict`: the one batched forward pass of epizoo (``epizoo.predict``).

Every path that runs a network goes through it: the variant-effect engine, ``epizoo check``, the
entries' Kipoi model class (so ``kipoi predict`` and ``kipoi test``) and the interpretation
plugin. The call shape is tangermeme's (``model, X, args, batch_size, device, dtype,
verbose``, the model's device and train/eval mode restored afterwards). tangermeme's own
``predict`` is not used because zoo entries need four things it does not do:

* named inputs: ``X`` may be a mapping, passed to ``forward`` as keyword arguments (Kipoi
  entries take ``seq``, ``meta_features``, ...);
* index inputs kept as integers: only floating-point and 8-bit (one-hot) inputs are cast to the
  model's dtype; int16/32/64 inputs (Avocado's cell type / assay / position) and booleans pass
  unchanged;
* named outputs: a model returning a mapping (``{"profile": ..., "counts": ...}``) gets one back;
* a fixed batch shape: the last batch is padded to ``batch_size`` (repeating its last row) and
  the padding dropped, so every forward pass has the same shape and a row's outputs never depend
  on how many other rows came with it. CPU kernels chosen for other shapes round differently, in
  the 7th digit; with fixed shapes a sharded run equals a single run byte for byte.

On the CPU it first sets glibc's malloc to keep freed memory for reuse (`epizoo.cpu_memory`: a
fresh tensor per operation otherwise page-faults from the system).
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import torch

from .cpu_memory import reuse_freed_memory
from .device import autocast, autocast_dtype, resolve_device
from .progress import progress

Tensors = torch.Tensor | Sequence[torch.Tensor] | Mapping[str, torch.Tensor]


def predict(
    model: torch.nn.Module,
    X: Any,
    *,
    args: Sequence[Any] | None = None,
    batch_size: int = 64,
    device: str | torch.device | None = None,
    dtype: str | torch.dtype | None = None,
    verbose: bool = False,
) -> Tensors:
    """The model's outputs for every row of ``X``, in batches.

    Parameters
    ----------
    model
        A ``torch.nn.Module``; it runs in eval mode on ``device`` and is returned to its own
        device and mode afterwards.
    X
        A tensor or numpy array (the first positional input), or a mapping of named inputs
        (keyword arguments of ``forward``). Rows are the first axis.
    args
        More positional inputs, each with as many rows as ``X`` (tangermeme's ``args``).
    batch_size
        Rows per forward pass. Every pass has exactly this many rows: the last batch is padded.
    device
        Where to run; default `epizoo.device.default_device` (``EPIZOO_DEVICE``, else CUDA when
        available, else CPU). Inputs stay where they are and are moved per batch.
    dtype
        ``None`` (the model's own precision) or an autocast precision: ``"bf16"``, ``"fp16"``,
        ``torch.bfloat16``, ...
    verbose
        Show a progress bar (on a terminal).

    Returns
    -------
    torch.Tensor, tuple of torch.Tensor, or dict of torch.Tensor
        The outputs on the CPU, in the structure the model returns; half-precision outputs are
        returned as float32.
    """
    inputs = _as_inputs(X, args)
    n = _rows(inputs)
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, not {batch_size}")
    device, precision = resolve_device(device), autocast_dtype(dtype)
    if device.type == "cpu":
        reuse_freed_memory()
    outputs = []
    with model_state(model, device), torch.no_grad():
        float_dtype = _float_dtype(model)
        starts = progress(range(0, n, batch_size), quiet=not verbose, desc="predict", unit=" batches")
        for start in starts:
            positional, named = _batch(inputs, start, batch_size, device, float_dtype)
            with autocast(device, precision):
                output = model(*positional, **named)
            outputs.append(_cpu(output, min(batch_size, n - start)))
    return _concatenate(outputs)


@contextmanager
def model_state(model: torch.nn.Module, device: torch.device | str) -> Iterator[None]:
    """Run ``model`` on ``device`` in eval mode, then restore its device and the mode of every
    submodule. Around several `predict` calls, it moves the model once instead of each time."""
    device = torch.device(device)
    tensor = next(iter([*model.parameters(), *model.buffers()]), None)
    original = None if tensor is None else tensor.device
    modes = {module: module.training for module in model.modules()}
    model.to(device).eval()
    try:
        yield
    finally:
        for module, training in modes.items():
            module.training = training
        if original is not None and original != device:
            model.to(original)


def _float_dtype(model: torch.nn.Module) -> torch.dtype:
    """The dtype of the model's first floating-point parameter (float32 when it has none)."""
    for parameter in model.parameters():
        if parameter.is_floating_point():
            return parameter.dtype
    return torch.float32


def _as_inputs(X: Any, args: Sequence[Any] | None) -> dict[str | int, torch.Tensor]:
    """All inputs as tensors, keyed by name (keyword inputs) or position (positional ones)."""
    inputs: dict[str | int, torch.Tensor] = {}
    if isinstance(X, Mapping):
        inputs.update({str(name): _tensor(value) for name, value in X.items()})
    else:
        inputs[0] = _tensor(X)
    for position, value in enumerate(args or (), start=1):
        inputs[position] = _tensor(value)
    return inputs


def _tensor(value: Any) -> torch.Tensor:
    if isinstance(value, torch.Tensor):
        return value
    array = np.asarray(value)
    if any(stride < 0 for stride in array.strides):  # torch refuses negative strides
        array = array.copy()
    return torch.from_numpy(array)


def _rows(inputs: Mapping[str | int, torch.Tensor]) -> int:
    lengths = {key: len(value) for key, value in inputs.items()}
    if len(set(lengths.values())) > 1:
        raise ValueError(f"every input needs the same number of rows; got {lengths}")
    n = next(iter(lengths.values()), 0)
    if n == 0:
        raise ValueError("predict needs at least one row of inputs")
    return n


def _batch(inputs, start: int, batch_size: int, device: torch.device, float_dtype: torch.dtype):
    """Positional and keyword inputs of one batch, padded to ``batch_size`` rows, on ``device``."""
    batch = {key: _to_device(_pad(value[start:start + batch_size], batch_size), device, float_dtype)
             for key, value in inputs.items()}
    positional = [value for key, value in batch.items() if isinstance(key, int)]
    return positional, {key: value for key, value in batch.items() if isinstance(key, str)}


def _pad(part: torch.Tensor, batch_size: int) -> torch.Tensor:
    """``part`` with its last row repeated up to ``batch_size`` rows (always a valid input)."""
    missing = batch_size - len(part)
    if missing <= 0:
        return part
    return torch.cat([part, part[-1:].expand(missing, *part.shape[1:])])


def _to_device(part: torch.Tensor, device: torch.device, float_dtype: torch.dtype) -> torch.Tensor:
    """Floating-point and 8-bit (one-hot) inputs as ``float_dtype``; other integers and booleans
    unchanged (index inputs are int16/32/64).

    8-bit inputs are moved first and cast on the device, where they are smaller to copy.
    """
    if part.is_floating_point():
        return part.to(device=device, dtype=float_dtype)
    if part.dtype in (torch.uint8, torch.int8):
        return part.to(device).to(float_dtype)
    return part.to(device)


def _cpu(output: Any, keep: int) -> Tensors:
    """The first ``keep`` rows of a batch's output (tensor, sequence or mapping) on the CPU."""
    if isinstance(output, torch.Tensor):
        if output.dim() == 0:
            raise ValueError("the model returned a 0-d tensor: outputs need a batch axis, (batch, ...)")
        output = output[:keep].detach().cpu()
        return output.float() if output.dtype in (torch.float16, torch.bfloat16) else output
    if isinstance(output, Mapping):
        return {name: _cpu(value, keep) for name, value in output.items()}
    if isinstance(output, (list, tuple)):
        return tuple(_cpu(value, keep) for value in output)
    raise TypeError(f"cannot interpret a model output of type {type(output).__name__}: return a "
                    "tensor, a tuple of tensors or a mapping of tensors")


def _concatenate(outputs: list[Tensors]) -> Tensors:
    first = outputs[0]
    if isinstance(first, torch.Tensor):
        return torch.cat(outputs)
    if isinstance(first, Mapping):
        return {name: _concatenate([o[name] for o in outputs]) for name in first}
    return tuple(_concatenate(list(parts)) for parts in zip(*outputs))
