"""The building blocks of GOPHER's models (Toneyan, Tang & Koo 2022; spec ``seed_002_gopher.md`` §2).

Tensors inside the models are channels first, ``(batch, channels, length)``; every convolution pads
as Keras's ``'same'`` does (odd kernels: ``dilation * (kernel - 1) // 2`` on each side), so a
layer keeps the length it is given.
"""
from __future__ import annotations

import torch
from torch import nn


class Exponential(nn.Module):
    """``exp(x)``: the exponential first-layer activation (Koo & Ploenzke 2021), after batch norm as
    in the authors' code (which keeps it from overflowing)."""

    elementwise_nonlinearity = True  # DeepLIFT's rescale rule applies (epizoo.plugins.interpret.deeplift)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.exp(x)


class SigmoidGELU(nn.Module):
    """``x * sigmoid(1.702 x)``: the authors' code's approximation of GELU (the paper says GELU)."""

    elementwise_nonlinearity = True

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.sigmoid(1.702 * x)


ACTIVATIONS = {"relu": nn.ReLU, "exponential": Exponential, "gelu": nn.GELU, "sigmoid_gelu": SigmoidGELU}


def activation(name: str) -> nn.Module:
    """The activation module named ``name`` (one of `ACTIVATIONS`)."""
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; use one of {', '.join(ACTIVATIONS)}")
    return ACTIVATIONS[name]()


def batch_norm(channels: int, momentum: float = 0.01) -> nn.BatchNorm1d:
    """Keras's BatchNormalization in torch's terms: epsilon 1e-3, and torch's momentum is 1 - Keras's
    (Keras's default 0.99 -> 0.01; Basenji's 0.9 -> 0.1)."""
    return nn.BatchNorm1d(channels, eps=1e-3, momentum=momentum)


def same_conv(in_channels: int, out_channels: int, kernel: int, dilation: int = 1, bias: bool = True) -> nn.Conv1d:
    """A Conv1d that keeps the length (Keras ``padding='same'``, odd kernels)."""
    if kernel % 2 == 0:
        raise ValueError(f"'same' padding is symmetric for odd kernels only, not {kernel}")
    return nn.Conv1d(in_channels, out_channels, kernel, padding=dilation * (kernel - 1) // 2, dilation=dilation,
                     bias=bias)


def conv_block(in_channels: int, out_channels: int, kernel: int, act: str = "relu", pool: int = 1,
               dropout: float = 0.0) -> nn.Sequential:
    """Conv -> BatchNorm -> activation (-> MaxPool) (-> Dropout), the CNN-baseline's block (§2.3)."""
    layers: list[nn.Module] = [same_conv(in_channels, out_channels, kernel), batch_norm(out_channels),
                               activation(act)]
    if pool > 1:
        layers.append(nn.MaxPool1d(pool))
    if dropout:
        layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers)


class DilatedResidual(nn.Module):
    """ResidualBind's residual block of ``n_layers`` dilated convolutions (§2.4): Conv(k=3, dil 1) ->
    BN, then for i = 1 .. n-1: ReLU -> Dropout -> Conv(k=3, dil 2^i) -> BN; the input added; ReLU."""

    def __init__(self, channels: int, n_layers: int, dropout: float = 0.1) -> None:
        super().__init__()
        layers: list[nn.Module] = [same_conv(channels, channels, 3), batch_norm(channels)]
        for i in range(1, n_layers):
            layers += [nn.ReLU(), nn.Dropout(dropout), same_conv(channels, channels, 3, dilation=2 ** i),
                       batch_norm(channels)]
        self.body, self.relu = nn.Sequential(*layers), nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.relu(x + self.body(x))


class BasenjiResidual(nn.Module):
    """Basenji's dilated residual block (§2.1): act -> dilated Conv(k=3, half the filters) -> BN ->
    act -> Conv(k=1, back to the filters) -> BN (its scale initialised to 0) -> Dropout, plus the input."""

    def __init__(self, channels: int, inner: int, dilation: int, dropout: float, act: str = "gelu") -> None:
        super().__init__()
        self.body = nn.Sequential(activation(act), same_conv(channels, inner, 3, dilation, bias=False),
                                  batch_norm(inner, 0.1), activation(act), same_conv(inner, channels, 1, bias=False),
                                  batch_norm(channels, 0.1), nn.Dropout(dropout))
        nn.init.zeros_(self.body[5].weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class PositionWise(nn.Module):
    """A dense layer applied at every position of ``(batch, channels, length)``."""

    def __init__(self, in_features: int, out_features: int) -> None:
        super().__init__()
        self.dense = nn.Linear(in_features, out_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dense(x.transpose(1, 2)).transpose(1, 2)


def glorot_init(module: nn.Module) -> None:
    """Glorot (Xavier) normal initialisation of convolution and dense weights, biases zero (Basset)."""
    if isinstance(module, (nn.Conv1d, nn.Linear)):
        nn.init.xavier_normal_(module.weight)
        if module.bias is not None:
            nn.init.zeros_(module.bias)


def glorot_uniform_init(module: nn.Module) -> None:
    """Keras' default initialisation (Glorot uniform weights, zero biases) of convolutions and dense layers."""
    if isinstance(module, (nn.Conv1d, nn.ConvTranspose1d, nn.Linear)):
        nn.init.xavier_uniform_(module.weight)
        if module.bias is not None:
            nn.init.zeros_(module.bias)


def he_init(module: nn.Module) -> None:
    """He (Kaiming) normal initialisation of convolution and dense weights, biases zero (§2, [P L193])."""
    if isinstance(module, (nn.Conv1d, nn.ConvTranspose1d, nn.Linear)):
        nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
        if module.bias is not None:
            nn.init.zeros_(module.bias)
