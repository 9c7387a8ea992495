"""DeepLIFT / DeepLiftShap with dinucleotide-shuffled references, for every float input.

The multipliers come from tangermeme's DeepLIFT rules (the rescale rule at its registered
non-linear modules, the maxpool rule, LayerNorm, softmax, `BilinearOp` for products). Its public
`deep_lift_shap` attributes one one-hot tensor and holds the model's other inputs fixed; to give
every float input (a DNase track, an expression vector) its own contributions, the pass here
runs tangermeme's hooks (`_attributing`, pinned tangermeme 1.6.0) and differentiates with respect
to all the inputs at once. captum's `DeepLift` is not used: its maxpool rule misses
summation-to-delta by ~1e-2 on a conv-ReLU-maxpool network where tangermeme's holds to 1e-8
(tests/test_interpret_deeplift.py).

A batch holds every (example, reference) pair; the contributions are averaged over each
example's references, which is DeepLiftShap. The references of a one-hot sequence are
dinucleotide shuffles of its bases (`epizoo.plugins.interpret.shuffles`; row ``i`` of a call is
seeded ``random_state + i``, so the results do not depend on the batching); its track channels and every other float input take
``baseline`` (default zeros: no signal). A sequence's contributions are tangermeme's: each
position's contribution is put on its observed base (``hypothetical=True`` gives the
contribution every base would have had there, TF-MoDISco's hypothetical scores).

Summation-to-delta is checked for every pair: the contributions must add up to the change of
the explained value from the reference. Any operation that is not a registered module (a
function such as ``torch.sigmoid``, an LSTM's gates) is treated as linear by DeepLIFT, silently;
a module class with ``elementwise_nonlinearity = True`` (GOPHER's exponential) gets the rescale rule;
here a large delta raises `ConvergenceError`, which names the innermost module whose own
DeepLIFT does not add up (`unconverged_modules`).
"""
from __future__ import annotations

import warnings
from collections.abc import Mapping

import torch
from torch import nn


class ConvergenceError(RuntimeError):
    """DeepLIFT's contributions do not add up to the change of the output."""


def deep_lift_shap_batch(
    explained: nn.Module,
    inputs: tuple[torch.Tensor, ...],
    fixed: tuple[torch.Tensor, ...],
    references: tuple[torch.Tensor, ...],
    onehot_axes: Mapping[int, int],
    hypothetical: bool = False,
    max_delta: float = 1e-3,
) -> tuple[torch.Tensor, ...]:
    """DeepLiftShap contributions of one batch of examples, each against its references.

    Parameters
    ----------
    explained
        The model as a function of ``(*inputs, *fixed)`` to one value per row.
    inputs
        The float inputs, ``(n, ...)`` each.
    fixed
        Inputs passed unchanged (indices).
    references
        Per input, ``(n, n_references, ...)``.
    onehot_axes
        ``{position in inputs: channels axis}`` of the one-hot sequences (bases first).
    hypothetical
        Return the sequences' hypothetical contributions.
    max_delta
        The largest convergence delta allowed, relative to the change of the output.

    Returns
    -------
    tuple of torch.Tensor
        Per input, the contributions averaged over its references.
    """
    n, n_references = len(inputs[0]), references[0].shape[1]
    paired = tuple(x.repeat_interleave(n_references, dim=0) for x in inputs)
    baselines = tuple(r.reshape(n * n_references, *r.shape[2:]).to(x.dtype) for r, x in zip(references, inputs))
    repeated = tuple(f.repeat_interleave(n_references, dim=0) for f in fixed)
    multipliers, observed, reference = deep_lift_multipliers(explained, paired, baselines, repeated)
    contributions = [(x - b) * m for x, b, m in zip(paired, baselines, multipliers)]
    _check_convergence(contributions, observed, reference, max_delta, explained, paired, baselines, repeated)
    for index, axis in onehot_axes.items():
        contributions[index] = _projected(multipliers[index], paired[index], baselines[index], axis, hypothetical)
    return tuple(c.reshape(n, n_references, *c.shape[1:]).mean(dim=1) for c in contributions)


def deep_lift_multipliers(explained: nn.Module, inputs: tuple[torch.Tensor, ...], references: tuple[torch.Tensor, ...],
                          fixed: tuple[torch.Tensor, ...] = ()) -> tuple[tuple[torch.Tensor, ...], torch.Tensor, torch.Tensor]:
    """DeepLIFT's multipliers of each input against its reference, row by row, with the explained
    values of the inputs and of the references: one forward pass of ``[inputs; references]``
    through tangermeme's hooks, one backward pass."""
    from tangermeme._deep_lift_utils import _build_nonlinear_ops, _nonlinear
    from tangermeme.deep_lift_shap import _attributing, _reset_caches

    # a module class that says it is an elementwise non-linearity gets the rescale rule
    elementwise = {type(m): _nonlinear for m in explained.modules() if getattr(m, "elementwise_nonlinearity", False)}
    device = inputs[0].device
    with _attributing(explained, device, _build_nonlinear_ops(elementwise)), torch.enable_grad():
        explained.apply(_reset_caches)
        xs = tuple(x.detach().clone().requires_grad_() for x in inputs)
        rs = tuple(r.detach().clone().requires_grad_() for r in references)
        values = explained(*(torch.cat(pair) for pair in zip(xs, rs)), *(torch.cat([f, f]) for f in fixed))
        multipliers = torch.autograd.grad(values.sum(), xs)
    observed, reference = values.detach().chunk(2)
    return multipliers, observed, reference


def _projected(multipliers, x, reference, axis: int, hypothetical: bool) -> torch.Tensor:
    """A one-hot input's contributions: at each position, what each base would contribute in place of
    the reference (hypothetical), or that of the observed base only. Track channels after the
    alphabet keep their ``(x - reference) * multiplier``."""
    out = (x - reference) * multipliers
    bases_m, bases_ref, bases = multipliers.narrow(axis, 0, 4), reference.narrow(axis, 0, 4), x.narrow(axis, 0, 4)
    # hypothetical contribution of base b: sum over channels of (e_b - reference) * multiplier
    hyp = bases_m - (bases_ref * bases_m).sum(dim=axis, keepdim=True)
    if hypothetical:
        out.narrow(axis, 0, 4).copy_(hyp)
    else:  # an N (no base) keeps (x - reference) * multiplier, so that the contributions still add up
        unknown = bases.sum(dim=axis, keepdim=True) == 0
        out.narrow(axis, 0, 4).copy_(torch.where(unknown, out.narrow(axis, 0, 4), hyp * bases))
    return out


def _check_convergence(contributions, observed, reference, max_delta, explained, paired, baselines, fixed) -> None:
    """Raise `ConvergenceError` when a pair's delta exceeds ``max_delta`` of its change, plus a floor
    of 1e-4 of its outputs' size (float32 rounding); each pair is judged on its own."""
    change = observed - reference
    total = sum(c.flatten(1).sum(dim=1) for c in contributions)
    delta = (total - change).abs()
    allowed = max_delta * change.abs() + 1e-4 * (observed.abs() + reference.abs()) / 2 + 1e-6
    if bool((delta <= allowed).all()):
        return
    worst = int(torch.argmax(delta - allowed))
    pair = (tuple(x[worst:worst + 1] for x in paired), tuple(b[worst:worst + 1] for b in baselines),
            tuple(f[worst:worst + 1] for f in fixed))
    where = _culprits(explained, pair, max_delta)
    raise ConvergenceError(
        f"DeepLIFT does not converge: the contributions of a pair add up to {float(total[worst]):.6g} but the "
        f"output changed by {float(change[worst]):.6g} (delta {float(delta[worst]):.3g}). The non-linearity "
        f"without a DeepLIFT rule is in {where}: DeepLIFT has rules for modules (nn.ReLU, nn.Sigmoid, "
        "nn.Tanh, nn.GELU, nn.MaxPool1d, nn.Softmax, nn.LayerNorm, tangermeme's BilinearOp for products, ...); "
        "a function such as torch.sigmoid or F.relu, or a multiplicative gate (an LSTM's), is treated as "
        "linear. Use integrated_gradients for this model, or write the operation as a module (an elementwise "
        "one whose class sets elementwise_nonlinearity = True gets the rescale rule).")


def _culprits(explained: nn.Module, pair: tuple, max_delta: float) -> str:
    """The unconverged modules of the explained model, named from the model's class."""
    model, named = explained.model, dict(explained.named_modules())
    culprits = [f"{type(model).__name__}.forward" if path == "model" else
                f"{type(model).__name__}{path.removeprefix('model')} ({type(named[path]).__name__})"
                for path in unconverged_modules(explained, *pair, max_delta=max_delta)]
    return ", ".join(culprits) if culprits else "an operation outside any module"


def unconverged_modules(model: nn.Module, inputs: tuple[torch.Tensor, ...], references: tuple[torch.Tensor, ...],
                        fixed: tuple[torch.Tensor, ...] = (), max_delta: float = 1e-3) -> list[str]:
    """The innermost modules whose own DeepLIFT does not add up, for one (input, reference) pair.

    Each module is run on its own with the inputs it received for the pair (batch-first tensors),
    explaining a random projection of its output; a module is named when its delta is large and
    none of its submodules' is. The paths are those of ``model.named_modules()`` (``""``: the
    model itself).
    """
    calls = _record_calls(model, inputs, references, fixed)
    failing = {name for name, call in calls.items() if _module_delta(*call, max_delta=max_delta)}
    innermost = [name for name in failing if not any(other.startswith(f"{name}.") or (name == "" and other)
                                                      for other in failing)]
    return sorted(innermost)


def _record_calls(model, inputs, references, fixed) -> dict[str, tuple]:
    """Each module's first call on the batch ``[input; reference]``: ``(module, args, kwargs)``."""
    calls: dict[str, tuple] = {}
    handles = []
    for name, module in model.named_modules():
        def hook(module, args, kwargs, name=name):
            calls.setdefault(name, (module, args, kwargs))
        handles.append(module.register_forward_pre_hook(hook, with_kwargs=True))
    try:
        with torch.no_grad():
            model(*(torch.cat([x, r]) for x, r in zip(inputs, references)), *(torch.cat([f, f]) for f in fixed))
    finally:
        for handle in handles:
            handle.remove()
    return calls


def _module_delta(module: nn.Module, args: tuple, kwargs: dict, max_delta: float) -> bool:
    """Whether ``module``'s own DeepLIFT misses its output change between two of the rows it saw.

    The first and the last row of its batch are compared (the input and the reference, or two
    strands of them): summation-to-delta holds between any two inputs where every operation has
    a rule.
    """
    floats = [i for i, a in enumerate(args) if torch.is_tensor(a) and a.is_floating_point() and a.dim() > 0]
    if not floats or len(args[floats[0]]) < 2:
        return False
    probe = _Probe(module, args, kwargs, floats, len(args[floats[0]]))
    x = tuple(args[i][:1].clone() for i in floats)
    r = tuple(args[i][-1:].clone() for i in floats)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            multipliers, observed, reference = deep_lift_multipliers(probe, x, r)
    except Exception:  # a module that cannot run alone (shapes, state) is not judged
        return False
    change = float(observed - reference)
    delta = abs(float(sum(((a - b) * m).sum() for a, b, m in zip(x, r, multipliers))) - change)
    return delta > max_delta * abs(change) + 1e-5


class _Probe(nn.Module):
    """A module as a function of its float arguments to a fixed random projection of its output;
    its other batch-shaped arguments are held at their first row."""

    def __init__(self, module: nn.Module, args: tuple, kwargs: dict, floats: list[int], batch: int) -> None:
        super().__init__()
        self.module, self.args, self.kwargs, self.floats, self.batch = module, args, kwargs, floats, batch
        self.weights: torch.Tensor | None = None

    def _held(self, value, n: int):
        batched = torch.is_tensor(value) and value.dim() > 0 and len(value) == self.batch
        return value[:1].expand(n, *value.shape[1:]) if batched else value

    def forward(self, *values: torch.Tensor) -> torch.Tensor:
        n = len(values[0])
        args = [self._held(a, n) for a in self.args]
        for i, value in zip(self.floats, values):
            args[i] = value
        out = self.module(*args, **{k: self._held(v, n) for k, v in self.kwargs.items()})
        out = next(o for o in out if torch.is_tensor(o)) if isinstance(out, (tuple, list)) else out
        if self.weights is None:
            self.weights = torch.randn(out.shape[1:], generator=torch.Generator().manual_seed(0)).to(out)
        return (out * self.weights).flatten(1).sum(dim=1)
