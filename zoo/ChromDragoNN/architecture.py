"""ChromDragoNN's models (Nair, Kim, Perricone & Kundaje 2019; spec ``seed_003_chromdragonn.md`` §2).

Accessibility of a 200-bp bin in a cell type from the bin's 1,000-bp sequence (``seq``, one-hot
``(batch, 1000, 4)``, A C G T, N all zeros), the cell type's TF expression (``expression``,
``(batch, n_tfs)``; 1,630 FANTOM5 TFs in the paper) and optionally the bin's mean accessibility
over the training cell types (``mean_accessibility``, ``(batch, 1)``).

* Sequence trunks, each flattening to 200 channels x 21 positions = 4,200 features, channel-major
  as the authors' ``Conv2d`` code flattens (``width`` scales every layer's channels, for CPU-sized
  models; 1 is the paper's): `ResNetTrunk` (ChromDragoNN: 23 convolutions in 8
  post-activation residual blocks, the code's layout of §2.2, its odd paddings kept so the weights
  line up), `FactorizedTrunk` (Wnuk et al. 2017) and `BassetTrunk` (§2.3).
* `Stage1`: a trunk and two dense layers of 1,000 (batch norm, ReLU, dropout 0.3), one sigmoid per
  training cell type (multi-task pre-training, §2.4).
* `Stage2`: the trunk's features joined with the expression vector (and the mean accessibility),
  two dense layers of 1,000, one sigmoid (§2.3). Where the mean enters is ambiguous in the paper
  (§9): ``mean_at="input"`` joins it with the trunk and expression (the paper's layer listing and
  the code's ``simple.py``: the default), ``"hidden"`` with the first dense layer's output (§3.2's
  wording). ``freeze_trunk`` keeps the pre-trained trunk fixed, batch-norm statistics included.
* `MeanAccessibility`: the baseline that predicts the mean accessibility itself (§3.2).

The paper's one sigmoid output is the code's two-way log-softmax up to parameterisation (§9).
Initialisation is PyTorch's default, as the paper's (§2.5).
"""
from __future__ import annotations

import torch
from torch import nn

__all__ = ["ResNetTrunk", "FactorizedTrunk", "BassetTrunk", "TRUNKS", "Stage1", "Stage2", "MeanAccessibility"]

SEQ_LEN = 1000
N_TFS = 1630
FEATURES = 4200  # 200 channels x 21 positions after every trunk


def conv_bn_relu(in_channels: int, out_channels: int, kernel: int, padding: int | None = None) -> nn.Sequential:
    """Conv1d -> BatchNorm -> ReLU; ``padding`` defaults to keeping the length (``kernel // 2``)."""
    return nn.Sequential(nn.Conv1d(in_channels, out_channels, kernel, padding=kernel // 2 if padding is None else padding),
                         nn.BatchNorm1d(out_channels), nn.ReLU())


class Residual(nn.Module):
    """He et al.'s post-activation block: (conv -> BN -> ReLU) ... conv -> BN, plus the input, ReLU."""

    def __init__(self, channels: int, kernels: tuple[int, ...]) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        for i, kernel in enumerate(kernels):
            layers += [nn.Conv1d(channels, channels, kernel, padding=kernel // 2), nn.BatchNorm1d(channels)]
            if i < len(kernels) - 1:
                layers.append(nn.ReLU())
        self.body = nn.Sequential(*layers)
        self.relu = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.relu(x + self.body(x))


def _blocks(channels: int, kernels: tuple[int, ...], n: int = 2) -> nn.Sequential:
    return nn.Sequential(*(Residual(channels, kernels) for _ in range(n)))


def _channels(width: float, *counts: int) -> list[int]:
    if width <= 0:
        raise ValueError(f"width must be positive, not {width}")
    return [max(1, int(round(c * width))) for c in counts]


class _Trunk(nn.Module):
    """Channels-last one-hot in, ``(batch, features)`` out: 200 x width channels x 21 positions."""

    features: int

    def forward(self, seq: torch.Tensor) -> torch.Tensor:
        return self.layers(seq.transpose(1, 2)).flatten(1)


class ResNetTrunk(_Trunk):
    """ChromDragoNN's residual trunk as the authors' code builds it (spec §2.2).

    Parameters
    ----------
    l1_depth
        Convolutions per block of the first (64-channel) stage: 2 in the code, whose total of 23
        convolutions is the paper's; the paper's layer listing says 3 (§9).
    width
        Channel multiplier (1: the paper's 48, 64, 128, 200).
    """

    def __init__(self, l1_depth: int = 2, width: float = 1.0) -> None:
        super().__init__()
        c48, c64, c128, c200 = _channels(width, 48, 64, 128, 200)
        self.features = c200 * 21
        self.layers = nn.Sequential(
            conv_bn_relu(4, c48, 3), conv_bn_relu(c48, c64, 3),           # pre-layers
            _blocks(c64, (3,) * l1_depth), conv_bn_relu(c64, c128, 3),   # stage 1, transition
            _blocks(c128, (7, 7)), nn.MaxPool1d(3),                      # stage 2: 1000 -> 333
            conv_bn_relu(c128, c200, 1, padding=3),                      # the code's 1x1 transition pads 3: 339
            _blocks(c200, (7, 3, 3)), nn.MaxPool1d(4),                   # stage 3: 339 -> 84
            _blocks(c200, (7, 7)),                                       # stage 4
            conv_bn_relu(c200, c200, 7, padding=4), nn.MaxPool1d(4),     # final transition: 86 -> 21
        )


class FactorizedTrunk(_Trunk):
    """Factorized Basset (Wnuk et al. 2017): Basset's three convolutions as nine narrower ones (§2.3)."""

    def __init__(self, width: float = 1.0) -> None:
        super().__init__()
        c48, c64, c100, c150, c300, c200 = _channels(width, 48, 64, 100, 150, 300, 200)
        self.features = c200 * 21
        self.layers = nn.Sequential(
            conv_bn_relu(4, c48, 3), conv_bn_relu(c48, c64, 3), conv_bn_relu(c64, c100, 3),
            conv_bn_relu(c100, c150, 7), conv_bn_relu(c150, c300, 7), nn.MaxPool1d(3),
            conv_bn_relu(c300, c200, 7), conv_bn_relu(c200, c200, 3), conv_bn_relu(c200, c200, 3), nn.MaxPool1d(4),
            conv_bn_relu(c200, c200, 7, padding=4), nn.MaxPool1d(4),
        )


class BassetTrunk(_Trunk):
    """Basset's three convolutions (widths 19, 11, 7) with batch norm and max pooling (§2.3)."""

    def __init__(self, width: float = 1.0) -> None:
        super().__init__()
        c300, c200 = _channels(width, 300, 200)
        self.features = c200 * 21
        self.layers = nn.Sequential(
            conv_bn_relu(4, c300, 19), nn.MaxPool1d(3),
            conv_bn_relu(c300, c200, 11), nn.MaxPool1d(4),
            conv_bn_relu(c200, c200, 7, padding=4), nn.MaxPool1d(4),
        )


TRUNKS = {"resnet": ResNetTrunk, "factorized": FactorizedTrunk, "basset": BassetTrunk}


def _trunk(name: str, options: dict | None) -> _Trunk:
    if name not in TRUNKS:
        raise ValueError(f"trunk must be one of {', '.join(TRUNKS)}, not {name!r}")
    return TRUNKS[name](**(options or {}))


def dense_bn_relu(in_features: int, out_features: int, dropout: float) -> nn.Sequential:
    """Linear -> BatchNorm -> ReLU -> Dropout: the fully connected layers of every head."""
    return nn.Sequential(nn.Linear(in_features, out_features), nn.BatchNorm1d(out_features), nn.ReLU(),
                         nn.Dropout(dropout))


class Stage1(nn.Module):
    """The multi-task sequence model of stage 1: one accessibility probability per training cell type.

    Parameters
    ----------
    n_tasks
        Training cell types (103 in the paper's fixed split).
    trunk, trunk_options
        One of `TRUNKS` and its arguments.
    hidden, dropout
        The two dense layers' width and dropout (1,000 and 0.3).
    """

    def __init__(self, n_tasks: int, trunk: str = "resnet", trunk_options: dict | None = None, hidden: int = 1000,
                 dropout: float = 0.3) -> None:
        super().__init__()
        self.trunk = _trunk(trunk, trunk_options)
        self.head = nn.Sequential(dense_bn_relu(self.trunk.features, hidden, dropout), dense_bn_relu(hidden, hidden, dropout),
                                  nn.Linear(hidden, n_tasks))
        self.eval()  # zoo convention: built for inference

    def logits(self, seq: torch.Tensor) -> torch.Tensor:
        return self.head(self.trunk(seq))

    def forward(self, seq: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.logits(seq))


class Stage2(nn.Module):
    """Sequence, TF expression and (optionally) mean accessibility -> one accessibility probability.

    Parameters
    ----------
    n_tfs
        Length of the expression vector (1,630 in the paper).
    trunk, trunk_options
        One of `TRUNKS` and its arguments; `Stage1`'s trained trunk is loaded into it (stage 2).
    with_mean
        Take ``mean_accessibility`` as a third input.
    mean_at
        ``"input"``: joined with the trunk's features and the expression (default); ``"hidden"``:
        with the first dense layer's output.
    freeze_trunk
        Keep the trunk's weights and batch-norm statistics fixed in training (the paper's "Freeze";
        its best models "Tune").
    hidden, dropout
        The two dense layers' width and dropout (1,000 and 0.3).
    """

    def __init__(self, n_tfs: int = N_TFS, trunk: str = "resnet", trunk_options: dict | None = None,
                 with_mean: bool = True, mean_at: str = "input", freeze_trunk: bool = False, hidden: int = 1000,
                 dropout: float = 0.3) -> None:
        super().__init__()
        if mean_at not in ("input", "hidden"):
            raise ValueError(f"mean_at must be 'input' or 'hidden', not {mean_at!r}")
        self.with_mean, self.mean_at, self.n_tfs = bool(with_mean), mean_at, int(n_tfs)
        self.trunk = _trunk(trunk, trunk_options)
        at_input, at_hidden = int(with_mean and mean_at == "input"), int(with_mean and mean_at == "hidden")
        self.first = dense_bn_relu(self.trunk.features + self.n_tfs + at_input, hidden, dropout)
        self.second = dense_bn_relu(hidden + at_hidden, hidden, dropout)
        self.output = nn.Linear(hidden, 1)
        self.freeze_trunk = bool(freeze_trunk)
        self.trunk.requires_grad_(not self.freeze_trunk)
        self.eval()

    def train(self, mode: bool = True) -> Stage2:
        super().train(mode)
        if self.freeze_trunk:
            self.trunk.eval()  # frozen batch-norm statistics too, as the authors' code keeps them
        return self

    def logits(self, seq: torch.Tensor, expression: torch.Tensor,
               mean_accessibility: torch.Tensor | None = None) -> torch.Tensor:
        """The pre-sigmoid output, ``(batch, 1)``: the logit the paper's attributions differentiate (§5)."""
        if expression.shape[-1] != self.n_tfs:
            raise ValueError(f"expression has {expression.shape[-1]} values per sample; this model takes {self.n_tfs}")
        if self.with_mean and mean_accessibility is None:
            raise ValueError("this model takes mean_accessibility (the bin's mean over the training cell types)")
        mean = mean_accessibility.reshape(-1, 1).to(expression.dtype) if self.with_mean else None
        parts = [self.trunk(seq), expression] + ([mean] if self.with_mean and self.mean_at == "input" else [])
        x = self.first(torch.cat(parts, dim=1))
        if self.with_mean and self.mean_at == "hidden":
            x = torch.cat([x, mean], dim=1)
        return self.output(self.second(x))

    def forward(self, seq: torch.Tensor, expression: torch.Tensor,
                mean_accessibility: torch.Tensor | None = None) -> torch.Tensor:
        return torch.sigmoid(self.logits(seq, expression, mean_accessibility))


class MeanAccessibility(nn.Module):
    """The mean-accessibility baseline: a bin's accessibility is its mean over the training cell
    types, whatever the cell type (§3.2: AUPRC 0.579, AUROC 0.902 in the paper)."""

    def forward(self, seq: torch.Tensor, expression: torch.Tensor, mean_accessibility: torch.Tensor) -> torch.Tensor:
        return mean_accessibility.reshape(-1, 1).to(torch.float32)
