"""First-layer convolution filters as motifs: the input windows that activate each filter.

The method of AI-TAC (Maslova et al. 2020), as used by Novakovsky et al. 2021 (Genome Biology):
over a set of one-hot sequences, take each first-layer filter's activations after batch norm and
ReLU; every position where a filter's activation reaches ``threshold`` times its maximum (over
all sequences and positions) contributes the one-hot input window that the filter saw there, and
the windows summed are the filter's position frequency matrix (PFM, counts).

Two passes over the sequences, batch by batch through `epizoo.predict`, keep memory bounded by one
batch: the first finds each filter's maximum, the second counts the windows above its threshold.
The forward pass of each batch stops as soon as the named layer has produced its output.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from epizoo.device import resolve_device
from epizoo.prediction import model_state, predict
from epizoo.progress import progress


@dataclass(frozen=True)
class Geometry:
    """Which input columns a Conv1d's output position reads.

    Output position ``p`` reads input columns ``p * stride - left + j * dilation`` for kernel
    columns ``j = 0 .. width - 1``; columns outside the sequence are the convolution's padding.
    """

    width: int
    stride: int = 1
    dilation: int = 1
    left: int = 0
    right: int = 0

    @property
    def span(self) -> int:
        """Input columns from a window's first to its last, both included."""
        return self.dilation * (self.width - 1) + 1

    def output_length(self, length: int) -> int:
        """The convolution's output length for an input of ``length`` columns."""
        return (length + self.left + self.right - self.span) // self.stride + 1

    @classmethod
    def of(cls, conv: nn.Conv1d) -> Geometry:
        """The geometry of ``conv``, its padding included (``'same'`` as torch pads it)."""
        width, stride, dilation = conv.kernel_size[0], conv.stride[0], conv.dilation[0]
        if conv.padding == "same":
            total = dilation * (width - 1)
            left, right = total // 2, total - total // 2
        elif conv.padding == "valid":
            left = right = 0
        else:
            left = right = conv.padding[0]
        return cls(width, stride, dilation, left, right)


@dataclass(frozen=True)
class FilterMotifs:
    """Each first-layer filter's PFM from the input windows that activate it.

    Attributes
    ----------
    names : list of str
        ``filter0``, ``filter1``, ... in the convolution's channel order.
    pfms : numpy.ndarray
        ``(n_filters, 4, width)`` counts of A, C, G, T at each window column, summed over the
        filter's sites; windows reaching into the padding count nothing there.
    n_sites : numpy.ndarray
        ``(n_filters,)`` number of (sequence, position) pairs at or above the threshold; 0 for a
        filter that never activates (maximum <= 0).
    max_activations : numpy.ndarray
        ``(n_filters,)`` each filter's maximum activation over all sequences and positions.
    thresholds : numpy.ndarray
        ``(n_filters,)`` the activation each site reached, ``threshold * max_activations``; NaN
        for a filter that never activates.
    """

    names: list[str]
    pfms: np.ndarray
    n_sites: np.ndarray
    max_activations: np.ndarray
    thresholds: np.ndarray

    @property
    def width(self) -> int:
        """The motifs' width (the convolution's kernel width)."""
        return self.pfms.shape[-1]

    def motifs(self, min_sites: int = 1) -> dict[str, np.ndarray]:
        """The ``(4, width)`` count matrices of the filters with at least ``min_sites`` sites."""
        return {name: pfm for name, pfm, n in zip(self.names, self.pfms, self.n_sites) if n >= max(min_sites, 1)}

    def sites(self) -> dict[str, int]:
        """Each filter's number of sites, by name (the ``nsites`` of a MEME file)."""
        return {name: int(n) for name, n in zip(self.names, self.n_sites)}


class _Captured(Exception):
    """Raised by the forward hook to end the forward pass once the layer's output is in hand."""

    def __init__(self, output: object) -> None:
        super().__init__()
        self.output = output


def find_module(model: nn.Module, name: str) -> nn.Module:
    """The submodule of ``model`` named ``name`` in ``model.named_modules()``."""
    modules = dict(model.named_modules())
    if name not in modules:
        known = ", ".join(repr(n) for n in modules if n)
        raise KeyError(f"the model has no module {name!r}; its modules are {known}")
    return modules[name]


def first_conv(model: nn.Module) -> nn.Conv1d:
    """The first ``nn.Conv1d`` of ``model`` in ``model.modules()`` order."""
    for module in model.modules():
        if isinstance(module, nn.Conv1d):
            return module
    raise ValueError("the model has no nn.Conv1d: give `width` (or `conv`) explicitly")


def conv_geometry(model: nn.Module, width: int | None = None, conv: str | None = None) -> Geometry:
    """The geometry of the first-layer convolution.

    An explicit ``width`` means an unpadded convolution of stride 1; otherwise the geometry is
    that of the Conv1d named ``conv``, or of the model's first Conv1d.
    """
    if width is not None and conv is not None:
        raise ValueError("give either `width` or `conv`, not both")
    if width is not None:
        if width < 1:
            raise ValueError(f"width must be positive, got {width}")
        return Geometry(width)
    module = first_conv(model) if conv is None else find_module(model, conv)
    if not isinstance(module, nn.Conv1d):
        raise TypeError(f"module {conv!r} is a {type(module).__name__}, not an nn.Conv1d")
    return Geometry.of(module)


def conv_windows(x: torch.Tensor, geometry: Geometry) -> torch.Tensor:
    """The input window under each output position of the convolution.

    Parameters
    ----------
    x : torch.Tensor
        ``(n, channels, length)`` input.
    geometry : Geometry
        The convolution's geometry.

    Returns
    -------
    torch.Tensor
        ``(n, length_out, channels, width)``: ``[i, p, :, j]`` is the input column that kernel
        column ``j`` multiplies at output position ``p`` (zeros where it falls in the padding).
    """
    padded = F.pad(x, (geometry.left, geometry.right))
    windows = padded.unfold(2, geometry.span, geometry.stride)[..., :: geometry.dilation]
    return windows.permute(0, 2, 1, 3)


def layer_output(model: nn.Module, module: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The output of ``module`` on the first call in the forward pass of ``model`` on ``x``.

    The rest of the forward pass is skipped.
    """
    def hook(_module: nn.Module, _inputs: object, output: object) -> None:
        raise _Captured(output)

    handle = module.register_forward_hook(hook)
    try:
        model(x)
    except _Captured as captured:
        output = captured.output
    else:
        raise RuntimeError("the model's forward pass never called the layer")
    finally:
        handle.remove()
    if not isinstance(output, torch.Tensor):
        raise TypeError(f"the layer returned a {type(output).__name__}, not a tensor")
    return output


class LayerActivations(nn.Module):
    """``model`` cut after ``module``: its forward returns the layer's ``(n, n_filters, length_out)``
    output, checked against the first convolution's geometry, so `epizoo.predict` can batch it."""

    def __init__(self, model: nn.Module, module: nn.Module, geometry: Geometry) -> None:
        super().__init__()
        self.model, self.geometry = model, geometry
        self.__dict__["layer"] = module  # not a submodule of its own: it is one of model's

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        output = layer_output(self.model, self.layer, x)
        expected = self.geometry.output_length(x.shape[-1])
        if output.ndim != 3 or output.shape[0] != x.shape[0] or output.shape[-1] != expected:
            raise ValueError(
                f"the layer's output has shape {tuple(output.shape)}, but the first convolution's output on "
                f"{tuple(x.shape)} has length {expected}: name the activation right after the first "
                "convolution (before any pooling)")
        return output


def _as_tensor(X: torch.Tensor | np.ndarray) -> torch.Tensor:
    """``X`` as a tensor, checked to be ``(n, 4, length)`` with ``n > 0``."""
    X = torch.as_tensor(X)
    if X.ndim != 3 or X.shape[1] != 4:
        raise ValueError(f"X must be one-hot sequences of shape (n, 4, length), got {tuple(X.shape)}")
    if len(X) == 0:
        raise ValueError("X holds no sequences")
    return X


def _batches(X: torch.Tensor, batch_size: int, verbose: bool, desc: str) -> Iterator[torch.Tensor]:
    """``X`` in batches, each run by its own `predict` call: memory holds one batch's activations."""
    return progress((X[start:start + batch_size] for start in range(0, len(X), batch_size)), quiet=not verbose,
                    total=-(-len(X) // batch_size), desc=desc, unit=" batches")


def _max_activations(activations: LayerActivations, X: torch.Tensor, batch_size: int, device: str,
                     verbose: bool) -> torch.Tensor:
    """First pass: each filter's maximum over all sequences and positions."""
    maxima = [predict(activations, x, batch_size=batch_size, device=device).amax(dim=(0, 2))
              for x in _batches(X, batch_size, verbose, "filter maxima")]
    return torch.stack(maxima).amax(dim=0)


def _count_windows(activations: LayerActivations, X: torch.Tensor, thresholds: torch.Tensor, batch_size: int,
                   device: str, verbose: bool) -> tuple[np.ndarray, np.ndarray]:
    """Second pass: the summed input windows ``(n_filters, 4, width)`` and each filter's sites."""
    counts, n_sites = 0.0, 0
    active = thresholds > 0
    for x in _batches(X, batch_size, verbose, "filter sites"):
        output = predict(activations, x, batch_size=batch_size, device=device)
        sites = (output >= thresholds[:, None]) & active[:, None]
        windows = conv_windows(x.to(output.dtype), activations.geometry)
        # Sums of at most batch_size * length_out ones: exact in float32 below 2**24 sites a batch.
        counts = counts + torch.einsum("nfp,npcw->fcw", sites.to(windows.dtype), windows).double().numpy()
        n_sites = n_sites + sites.sum(dim=(0, 2)).numpy()
    return counts, n_sites


def filter_pfms(
    model: nn.Module,
    X: torch.Tensor | np.ndarray,
    layer: str,
    width: int | None = None,
    threshold: float = 0.5,
    conv: str | None = None,
    batch_size: int = 256,
    device: str | None = None,
    verbose: bool = False,
) -> FilterMotifs:
    """Each first-layer filter's position frequency matrix, from the windows that activate it.

    Parameters
    ----------
    model : torch.nn.Module
        The model; it runs on ``device`` in eval mode without gradients, and its device and
        training mode are restored afterwards (`epizoo.predict`).
    X : torch.Tensor or numpy.ndarray
        ``(n, 4, length)`` one-hot sequences, channels first, in A, C, G, T order.
    layer : str
        Name (in ``model.named_modules()``) of the module whose output is the first layer's
        activation map after batch norm and ReLU, ``(n, n_filters, length_out)``. Its first call
        in a forward pass must see ``X`` itself (a model that also scores the reverse complement
        through the same layer must run the forward strand first).
    width : int, optional
        The kernel width, for a model whose first convolution is not an ``nn.Conv1d``; it is then
        taken to be unpadded with stride 1. By default the geometry (width, padding, stride,
        dilation) is that of ``conv``.
    threshold : float
        A position is a site of a filter when its activation is at least ``threshold`` times the
        filter's maximum over all of ``X``; in (0, 1].
    conv : str, optional
        Name of the first-layer ``nn.Conv1d``; by default the model's first ``nn.Conv1d``.
    batch_size : int
        Sequences per forward pass; memory holds one batch's activations and its input windows
        (``batch_size * length_out * 4 * width`` values).
    device : str
        Device to run the model on (default: `epizoo.device.default_device`).
    verbose : bool
        Show progress bars (on a terminal).

    Returns
    -------
    FilterMotifs
        The counts, sites, maxima and thresholds of every filter; a filter whose maximum is not
        positive has no sites and a zero PFM.
    """
    if not 0 < threshold <= 1:
        raise ValueError(f"threshold must be in (0, 1], got {threshold}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be positive, got {batch_size}")
    X = _as_tensor(X)
    geometry = conv_geometry(model, width, conv)
    activations = LayerActivations(model, find_module(model, layer), geometry)
    device = resolve_device(device)
    with model_state(activations, device):  # one move to the device for all the batches
        maxima = _max_activations(activations, X, batch_size, device, verbose)
        thresholds = threshold * maxima
        counts, n_sites = _count_windows(activations, X, thresholds, batch_size, device, verbose)
    maxima = maxima.double().cpu().numpy()
    return FilterMotifs(
        names=[f"filter{i}" for i in range(len(maxima))],
        pfms=np.asarray(counts, dtype=np.float64),
        n_sites=np.asarray(n_sites, dtype=np.int64),
        max_activations=maxima,
        thresholds=np.where(maxima > 0, threshold * maxima, np.nan),
    )
