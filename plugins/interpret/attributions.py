"""Attributions for every differentiable input of a model, for one chosen output value per sample.

`attribute` has tangermeme's call shape (``model, X, args, batch_size, device, dtype, verbose``,
the model's state restored) and takes ``X`` as `epizoo.predict` does: one tensor, or a mapping of
named inputs (a FactorNet's ``seq`` and ``meta_features``, ChromDragoNN's expression vector, ...).
Every float input gets attributions of its own shape (or those named in ``explain``, the others
held at their values); integer inputs (indices) get none.

The value explained is one number per sample, chosen from the model's outputs with ``output``
(a head of a model that returns several), ``target`` (a task index) and, for profile outputs
``(batch, bins, tasks)`` or ``(batch, tasks, bins)`` with ``bins_axis``, ``window`` (the bins
summed; default all of them).

Methods (captum computes the gradients; captum's own classes do the work where they fit):

* ``saliency``: the gradient.
* ``input_x_gradient``: input times gradient.
* ``integrated_gradients``: captum's `IntegratedGradients` from a baseline (default zeros).
* ``deep_lift_shap``: DeepLIFT's rescale rule averaged over ``n_shuffles`` dinucleotide-shuffled
  references of each sequence (`epizoo.plugins.interpret.deeplift`), the summation-to-delta
  checked for every pair: a model with an operation DeepLIFT has no rule for raises
  `ConvergenceError` naming the module.

For one-hot sequence inputs (declared ``kind: sequence``, or given in ``sequence_inputs``) the
gradient of saliency and input x gradient is corrected as Majdandzic et al. 2022 propose: the mean over the alphabet's channels is
subtracted at every position, so that the off-simplex component of the gradient, which no
one-hot input can follow, does not count. Track channels after the alphabet are left as they are.
Integrated gradients and DeepLiftShap are not corrected: their attributions add up to the change
of the output from the baseline, which a correction would break.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from captum.attr import IntegratedGradients, Saliency

from epizoo.device import autocast, autocast_dtype, default_device
from epizoo.prediction import model_state, predict
from epizoo.progress import progress

from .deeplift import deep_lift_shap_batch
from .shuffles import shuffled_backgrounds

METHODS = ("saliency", "input_x_gradient", "integrated_gradients", "deep_lift_shap")


def attribute(
    model: torch.nn.Module | str | Path,
    X: torch.Tensor | np.ndarray | Mapping[str, Any],
    method: str = "input_x_gradient",
    *,
    args: Sequence[Any] | None = None,
    target: int | str = 0,
    output: str | int | None = None,
    window: tuple[int, int] | None = None,
    bins_axis: int = 1,
    sequence_inputs: Mapping[str, int] | int | None = None,
    baseline: Mapping[str, Any] | None = None,
    explain: Sequence[str] | None = None,
    n_steps: int = 50,
    n_shuffles: int = 20,
    hypothetical: bool = False,
    random_state: int = 0,
    batch_size: int = 64,
    device: str | torch.device | None = None,
    dtype: str | torch.dtype | None = None,
    verbose: bool = False,
) -> torch.Tensor | tuple[torch.Tensor | None, ...] | dict[str, torch.Tensor]:
    """Attributions of each input for one output value per sample.

    Parameters
    ----------
    model
        The network (a zoo entry's ``model.model``), or a zoo entry by name or folder: then the
        task may be named, and the head, the bins axis and the sequence inputs' channel axes
        come from its declared contract.
    X
        The input (a tensor), or named inputs (keyword arguments of the model's forward).
    method
        One of `METHODS`.
    args
        More positional inputs after a tensor ``X`` (tangermeme's ``args``), one row per row of ``X``.
    target
        The task (index along the tasks axis, or its name for an entry) to explain.
    output
        The head, for a model that returns a mapping (its key) or a tuple (its index).
    window
        ``(first, stop)`` bins summed, for a profile output; default all bins.
    bins_axis
        The bins axis of a profile output (1: ``(batch, bins, tasks)``, 2: ``(batch, tasks, bins)``).
    sequence_inputs
        ``{input name: channels axis}`` of the one-hot inputs whose gradients are corrected (their
        first four channels are A, C, G, T), or the channels axis of a lone tensor ``X``; default
        ``{"seq": -1}`` when there is such an input (a lone tensor: channels last).
    baseline
        Per input, the reference of integrated gradients, and of DeepLiftShap for the inputs and
        channels that are not one-hot bases; default zeros.
    explain
        The named inputs attributed (default every float input); the others are held at their
        values: integrated gradients over a cell type's expression alone keep the sequence.
    n_steps
        Integration steps of integrated gradients.
    hypothetical
        For ``input_x_gradient`` and ``deep_lift_shap``: a sequence's contributions are the
        hypothetical ones of every base at each position (TF-MoDISco's input) rather than the
        observed base's.
    n_shuffles, random_state
        DeepLiftShap: the references per sequence; the seed of example ``i``'s shuffles is
        ``random_state + i``.
    batch_size, device, dtype, verbose
        As in `epizoo.predict` (``dtype``: an autocast precision); for DeepLiftShap,
        ``batch_size`` counts (example, reference) pairs.

    Returns
    -------
    torch.Tensor, tuple or dict of str to torch.Tensor
        On the CPU, float32, shaped as the inputs: a tensor when ``X`` was one; with ``args``, a
        tuple of it and each argument's (None for an integer one); for named inputs, one per
        float input.
    """
    _check_method(method, hypothetical, dtype)
    if isinstance(model, (str, Path)):
        model, (target, output, bins_axis, sequence_inputs) = _from_entry(model, X, target, output, sequence_inputs)
    named = dict(X) if isinstance(X, Mapping) else {"_x": X} | {f"_arg{i}": a for i, a in enumerate(args or ())}
    tensors = {k: _as_tensor(v) for k, v in named.items()}
    floats = _explained_inputs(tensors, explain)
    if not floats:
        raise ValueError("the inputs are all indices, which have no attributions of their own: explain their "
                         "embeddings with attribute_layer(model, X, layer)")
    if len(tensors[floats[0]]) == 0:
        raise ValueError("no rows to explain")
    corrected = {k: axis for k, axis in _corrected_inputs(X, floats, sequence_inputs).items() if k in floats}
    for name, axis in corrected.items():
        _check_one_hot(name, tensors[name], axis)
    device = torch.device(device) if device is not None else default_device()
    selection = {"target": target, "output": output, "window": window, "bins_axis": bins_axis}
    explained = _Explained(model, floats, [k for k in tensors if k not in floats], selection,
                           [] if isinstance(X, Mapping) else list(named), autocast_dtype(dtype), device)
    options = {"method": method, "corrected": corrected, "baseline": baseline,
               "n_steps": n_steps, "n_shuffles": n_shuffles, "hypothetical": hypothetical,
               "random_state": random_state}
    parts: dict[str, list[torch.Tensor]] = {k: [] for k in floats}
    step = max(1, batch_size // n_shuffles) if method == "deep_lift_shap" else batch_size
    starts = progress(range(0, len(tensors[floats[0]]), step), quiet=not verbose, desc="attributions", unit="batch")
    with model_state(model, device):
        for start in starts:
            batch = {k: v[start:start + step].to(device) for k, v in tensors.items()}
            for name, values in _attribute_batch(explained, batch, start, **options).items():
                parts[name].append(values.detach().float().cpu())
    result = {name: torch.cat(values) for name, values in parts.items()}
    if isinstance(X, Mapping):
        return result
    return tuple(result.get(k) for k in named) if args else result["_x"]


def _explained_inputs(tensors: Mapping[str, torch.Tensor], explain: Sequence[str] | None) -> list[str]:
    """The float inputs attributed: all of them, or those ``explain`` names."""
    floats = [k for k, v in tensors.items() if v.is_floating_point()]
    if explain is None:
        return floats
    unknown = [k for k in explain if k not in floats]
    if unknown:
        raise ValueError(f"explain={list(explain)}: {', '.join(unknown)} not among the float inputs "
                         f"({', '.join(floats)})")
    return [k for k in floats if k in explain]


def _from_entry(entry, X, target, output, sequence_inputs) -> tuple[torch.nn.Module, tuple]:
    """An entry's network, and ``target`` (an index), ``output``, ``bins_axis`` and
    ``sequence_inputs`` from its contract (a lone tensor is its first sequence input)."""
    from .regions import entry_explanation

    network, declared = entry_explanation(entry, target, output)
    if sequence_inputs is None:
        axes = declared["sequence_inputs"]
        sequence_inputs = axes if isinstance(X, Mapping) else next(iter(axes.values()), None)
    return network, (declared["target"], declared["output"], declared["bins_axis"], sequence_inputs)


def _as_tensor(value: Any) -> torch.Tensor:
    """A tensor of ``value``; 8-bit one-hot is cast to float32, as `epizoo.predict` casts it."""
    tensor = torch.as_tensor(np.asarray(value) if not torch.is_tensor(value) else value)
    return tensor.float() if tensor.dtype in (torch.uint8, torch.int8) else tensor


def _check_one_hot(name: str, tensor: torch.Tensor, axis: int) -> None:
    """A sequence input has its bases first along ``axis``, at most one per position."""
    if tensor.dim() < 2 or tensor.shape[axis] < 4 or bool((tensor.narrow(axis, 0, 4).sum(dim=axis) > 1.001).any()):
        raise ValueError(f"input {name!r} {tuple(tensor.shape)} is not one-hot along axis {axis}: its bases must be "
                         "the first 4 channels there, at most one per position (channels first? sequence_inputs=1)")


def _corrected_inputs(X, floats: list[str], sequence_inputs) -> dict[str, int]:
    """``{input: channels axis}`` of the one-hot inputs; default the ``seq`` input (or a lone tensor),
    channels last."""
    default = "seq" if isinstance(X, Mapping) else "_x"  # a lone tensor is the sequence
    if isinstance(sequence_inputs, int):
        return {default: sequence_inputs}
    if sequence_inputs is not None:
        return dict(sequence_inputs)
    return {default: -1} if default in floats else {}


def _check_method(method: str, hypothetical: bool, dtype) -> None:
    if method not in METHODS:
        raise ValueError(f"unknown attribution method {method!r}; use one of {', '.join(METHODS)}")
    if hypothetical and method not in ("input_x_gradient", "deep_lift_shap"):
        raise ValueError("hypothetical contributions are those of input_x_gradient and deep_lift_shap, "
                         f"not of {method}")
    if method == "deep_lift_shap" and autocast_dtype(dtype) is not None:
        raise ValueError("deep_lift_shap runs in float32: its summation-to-delta check is meaningless in "
                         f"{dtype}; drop dtype, or use another method")


class _Explained(torch.nn.Module):
    """The model as a function of its inputs (the float ones first) to one value per sample;
    the ``positional`` ones (``_x``, ``_arg0``, ...) are passed in that order, the others by name."""

    def __init__(self, model, floats, others, selection, positional=(), precision=None, device=None):
        super().__init__()
        self.model, self.floats, self.others, self.selection = model, floats, others, selection
        self.positional, self.precision, self.device = list(positional), precision, device

    def forward(self, *values: torch.Tensor) -> torch.Tensor:
        named = dict(zip(self.floats + self.others, values))
        positional = [named.pop(k) for k in self.positional]
        with autocast(torch.device(self.device or "cpu"), self.precision):
            return select_value(self.model(*positional, **named), **self.selection).float()


def select_value(raw: Any, target: int = 0, output: str | int | None = None, window: tuple[int, int] | None = None,
                 bins_axis: int = 1) -> torch.Tensor:
    """One value per sample of a forward pass: the head ``output``, the task ``target`` and, for a
    profile, the sum over the bins of ``window`` (default all)."""
    if isinstance(raw, (Mapping, list, tuple)):
        if output is None:
            raise ValueError("the model returns several outputs: choose one with output=")
        raw = raw[output]
    if raw.dim() == 2:
        return raw[:, target]
    if raw.dim() != 3:
        raise ValueError(f"cannot explain an output of shape {tuple(raw.shape)}: (batch, tasks) or a profile expected")
    profile = raw.movedim(bins_axis, 1)[:, :, target]  # (batch, bins)
    first, stop = window if window is not None else (0, profile.shape[1])
    return profile[:, first:stop].sum(dim=1)


def attribute_layer(
    model: torch.nn.Module,
    X: torch.Tensor | np.ndarray | Mapping[str, Any],
    layer: str | Sequence[str],
    method: str = "input_x_gradient",
    *,
    target: int = 0,
    output: str | int | None = None,
    window: tuple[int, int] | None = None,
    bins_axis: int = 1,
    n_steps: int = 50,
    batch_size: int = 64,
    device: str | torch.device | None = None,
) -> torch.Tensor | dict[str, torch.Tensor]:
    """Attributions of layers' outputs: the gradient of the explained value there (``saliency``),
    activation times gradient (``input_x_gradient``), or integrated gradients from a zero output
    of every named layer at once (``integrated_gradients``: the layers' outputs scaled together
    from 0 to their values, so that the attributions of all of them add up to the change of the
    value from the model with those outputs zeroed). For inputs that are indices (Avocado's cell
    type, assay and position), whose own attributions are not defined, the layers are their
    embeddings: how much each factor drives the prediction (spec ``seed_004_avocado.md`` §5).

    Parameters
    ----------
    model, X, target, output, window, bins_axis, batch_size, device
        As in `attribute` (``X`` a tensor or named inputs, integer ones allowed).
    layer
        A submodule by its name in ``model.named_modules()`` (``celltype_embedding``), or several.
    method
        ``saliency``, ``input_x_gradient`` or ``integrated_gradients``.
    n_steps
        Integrated gradients' steps (Gauss-Legendre, captum's default rule).

    Returns
    -------
    torch.Tensor or dict of str to torch.Tensor
        On the CPU, float32, shaped as the layer's output (its first tensor, for a tuple); for
        several layers, one per layer by name.
    """
    if method not in ("saliency", "input_x_gradient", "integrated_gradients"):
        raise ValueError(f"layer attributions are saliency, input_x_gradient or integrated_gradients, not {method!r}")
    names = [layer] if isinstance(layer, str) else list(layer)
    modules = dict(model.named_modules())
    unknown = [name for name in names if name not in modules]
    if unknown:
        raise ValueError(f"{type(model).__name__} has no layer {unknown[0]!r}; its layers are "
                         f"{', '.join(name for name in modules if name)}")
    named = dict(X) if isinstance(X, Mapping) else {"_x": X}
    tensors = {k: torch.as_tensor(np.asarray(v) if not torch.is_tensor(v) else v) for k, v in named.items()}
    explained = _Explained(model, list(tensors), [], {"target": target, "output": output, "window": window,
                                                      "bins_axis": bins_axis}, [] if isinstance(X, Mapping) else ["_x"])
    device = torch.device(device) if device is not None else default_device()
    parts: list[list[torch.Tensor]] = [[] for _ in names]
    with model_state(model, device):
        for start in range(0, len(next(iter(tensors.values()))), batch_size):
            batch = [v[start:start + batch_size].to(device) for v in tensors.values()]
            for part, values in zip(parts, _layer_attributions(explained, [modules[n] for n in names], batch, method,
                                                               n_steps)):
                part.append(values.float().cpu())
    result = {name: torch.cat(part) for name, part in zip(names, parts)}
    return result[names[0]] if isinstance(layer, str) else result


def _layer_attributions(explained: torch.nn.Module, modules: list[torch.nn.Module], batch: list[torch.Tensor],
                        method: str, n_steps: int) -> list[torch.Tensor]:
    """One batch's attributions of the ``modules``' outputs (see `attribute_layer`)."""
    if method != "integrated_gradients":
        activations, gradients = _layer_gradients(explained, modules, batch, 1.0)
        return gradients if method == "saliency" else [a * g for a, g in zip(activations, gradients)]
    # Gauss-Legendre on [0, 1], captum's default rule for integrated gradients
    nodes, weights = np.polynomial.legendre.leggauss(n_steps)
    total = None
    for step, alpha in zip((weights / 2).tolist(), ((nodes + 1) / 2).tolist()):
        activations, gradients = _layer_gradients(explained, modules, batch, alpha)
        weighted = [step * g for g in gradients]
        total = weighted if total is None else [t + w for t, w in zip(total, weighted)]
    return [a * t for a, t in zip(activations, total)]


def _layer_gradients(explained: torch.nn.Module, modules: list[torch.nn.Module], batch: list[torch.Tensor],
                     scale: float) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """The layers' outputs on ``batch`` and the gradient of the explained values' sum with respect to
    them, each output replaced by ``scale`` times itself in the forward pass."""
    seen: dict[int, tuple[torch.Tensor, torch.Tensor]] = {}

    def replace(index):
        def hook(module, args, out):
            first = next(o for o in out if torch.is_tensor(o)) if isinstance(out, (tuple, list)) else out
            if index in seen:  # a module called twice: only its first call is attributed
                return None
            scaled = (scale * first.detach()).requires_grad_()
            seen[index] = (first.detach(), scaled)
            if isinstance(out, (tuple, list)):
                return type(out)(scaled if o is first else o for o in out)
            return scaled
        return hook

    handles = [module.register_forward_hook(replace(k)) for k, module in enumerate(modules)]
    try:
        with torch.enable_grad():
            values = explained(*batch)
            gradients = torch.autograd.grad(values.sum(), [seen[k][1] for k in range(len(modules))])
    finally:
        for handle in handles:
            handle.remove()
    return [seen[k][0] for k in range(len(modules))], list(gradients)


def explained_values(model: torch.nn.Module, X: Mapping[str, Any], batch_size: int = 256,
                     device: str | torch.device | None = None, **selection: Any) -> np.ndarray:
    """The value explained (`select_value` of ``selection``) of each row of the named inputs ``X``,
    predicted with `epizoo.predict`; float32."""
    return select_value(predict(model, X, batch_size=batch_size, device=device), **selection).numpy()


def _attribute_batch(explained: _Explained, batch, first: int, method, corrected, baseline, n_steps, n_shuffles,
                     hypothetical, random_state) -> dict[str, torch.Tensor]:
    inputs = tuple(batch[k].float().requires_grad_() for k in explained.floats)
    fixed = tuple(batch[k] for k in explained.others)

    def forward(*values):
        return explained(*values, *fixed)

    if method == "deep_lift_shap":
        references = tuple(_shap_references(name, x.detach(), corrected, baseline, n_shuffles, random_state + first)
                           for name, x in zip(explained.floats, inputs))
        onehot = {i: corrected[name] for i, name in enumerate(explained.floats) if name in corrected}
        values = deep_lift_shap_batch(explained, tuple(x.detach() for x in inputs), fixed, references, onehot,
                                      hypothetical)
        return dict(zip(explained.floats, values))
    if method == "integrated_gradients":
        references = tuple(_baseline(baseline, k, x) for k, x in zip(explained.floats, inputs))
        # the interpolated inputs go through the model a batch at a time
        values = IntegratedGradients(forward).attribute(inputs, references, n_steps=n_steps,
                                                        internal_batch_size=len(inputs[0]))
        return dict(zip(explained.floats, values))
    gradients = Saliency(forward).attribute(inputs, abs=False)
    result = {}
    for name, x, gradient in zip(explained.floats, inputs, gradients):
        if name in corrected:
            gradient = _corrected(gradient, corrected[name])
        result[name] = gradient if method == "saliency" else x.detach() * gradient
        if hypothetical and name in corrected:  # what each base would contribute: its corrected gradient
            result[name].narrow(corrected[name], 0, 4).copy_(gradient.narrow(corrected[name], 0, 4))
    return result


def _corrected(gradient: torch.Tensor, axis: int) -> torch.Tensor:
    """The gradient minus its mean over the four base channels at each position (Majdandzic et al.)."""
    bases = gradient.narrow(axis, 0, 4)
    out = gradient.clone()
    out.narrow(axis, 0, 4).copy_(bases - bases.mean(dim=axis, keepdim=True))
    return out


def _shap_references(name, x, corrected, baseline, n_shuffles, first_seed) -> torch.Tensor:
    """``(n, n_shuffles, ...)`` references of one input: the sequences' bases shuffled (example ``i``
    with seed ``first_seed + i``), the rest (track channels, other inputs) from ``baseline``."""
    others = _baseline(baseline, name, x).unsqueeze(1).expand(-1, n_shuffles, *x.shape[1:])
    if name not in corrected:
        return others
    axis = corrected[name]
    shuffled = shuffled_backgrounds(x.cpu().numpy(), n_shuffles, axis, first_seed)
    references = torch.from_numpy(shuffled).reshape(len(x), n_shuffles, *x.shape[1:]).to(x.device)
    tracks = others.narrow(axis + 1 if axis >= 0 else axis, 4, x.shape[axis] - 4)
    references.narrow(axis + 1 if axis >= 0 else axis, 4, x.shape[axis] - 4).copy_(tracks)
    return references


def _baseline(baseline: Mapping[str, Any] | None, name: str, x: torch.Tensor) -> torch.Tensor:
    if baseline is None or name not in baseline:
        return torch.zeros_like(x)
    reference = torch.as_tensor(np.asarray(baseline[name]) if not torch.is_tensor(baseline[name]) else baseline[name])
    return reference.to(x.device, x.dtype).expand_as(x)
