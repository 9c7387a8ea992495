"""GOPHER's profile and binary models of ATAC-seq (Toneyan, Tang & Koo 2022; spec ``seed_002_gopher.md`` §2).

Every model takes ``seq``, one-hot ``(batch, length, 4)`` (A, C, G, T; 2,048 bp by default) and
returns, for quantitative models, coverage ``(batch, length / bin_size, n_tasks)`` (softplus), and
for binary models the probability of a peak ``(batch, n_tasks)``; ``logits`` gives the binary
models' pre-sigmoid values (the paper's binary-as-quantitative comparison reads them).

* `Basenji` (§2.1): GELU -> Conv(15) -> BN -> MaxPool(2) -> 11 dilated residual blocks (dilations
  round(1.5^i)) -> final Conv(1) -> average pooling to the bin -> position-wise dense, softplus.
* `BPNet` (§2.2): Conv(25, ReLU) -> 9 dilated convolutions (2, 4, .., 512) each added to its input
  -> per-task transposed convolution at base resolution -> average pooling to the bin, softplus;
  optionally the original BPNet's counts head (``counts_head=True``, the authors' ``ori_bpnet``): the
  profile head's outputs are then logits over the bins (`BPNet.logits`, trained with the multinomial
  NLL) and the counts head predicts ``log(1 + total)`` per task; ``forward`` returns
  ``{"profile": softmax(logits) * exp(counts), "counts": counts}`` (ChromBPNet's predicted coverage:
  positive everywhere, its total one above the predicted total).
* `ConvProfile` (§2.3, CNN-base/CNN-32) and `ResidualBind` (§2.4-2.5, ResidualBind-base/-32):
  convolutional blocks, residual blocks of dilated convolutions, a bottleneck, single or per-task
  heads; the first activation ReLU or exponential.
* `Basset`, `BasenjiBinary`, `ConvBinary`, `ResidualBindBinary` (§2.7): the binary models.

The paper leaves filter counts to its Supplementary Data 2; the defaults are the authors' code's
(spec §2, marked there as unverified), every one a constructor argument. Where paper and code
differ (§9), the paper is the default: GELU is ``nn.GELU`` (``act="sigmoid_gelu"`` is the code's
approximation), and ResidualBind's per-task variant keeps the paper's residual layers.
"""
from __future__ import annotations

import torch
from torch import nn

from .blocks import (BasenjiResidual, DilatedResidual, PositionWise, activation, batch_norm, conv_block, glorot_init,
                     glorot_uniform_init, he_init, same_conv)

__all__ = ["Basenji", "BPNet", "ConvProfile", "ResidualBind", "Basset", "BasenjiBinary", "ConvBinary",
           "ResidualBindBinary", "basenji_dilations"]

SEQ_LEN = 2048


def basenji_dilations(n_blocks: int = 11, rate: float = 1.5) -> list[int]:
    """Basenji's dilation of residual block ``i``: ``round(rate ** i)`` (1, 2, 2, 3, 5, 8, 11, 17, 26, 38, 58)."""
    return [int(round(rate ** i)) for i in range(n_blocks)]


def _bins(seq_len: int, bin_size: int) -> int:
    if bin_size < 1 or seq_len % bin_size:
        raise ValueError(f"the bin size {bin_size} must divide the input length {seq_len}")
    return seq_len // bin_size


class _Model(nn.Module):
    """Channels-last input, channels-first inside, ``(batch, bins, tasks)`` or ``(batch, tasks)`` out."""

    def _init(self) -> None:
        self.apply(he_init)
        self.eval()  # zoo convention: built for inference; training switches modes itself

    @staticmethod
    def _channels_first(seq: torch.Tensor) -> torch.Tensor:
        return seq.transpose(1, 2)


class Basenji(_Model):
    """Basenji-B: dilated residual blocks, a bin-resolution head (§2.1)."""

    def __init__(self, n_tasks: int = 15, bin_size: int = 128, seq_len: int = SEQ_LEN, filters: int = 256,
                 final_filters: int = 2048, kernel: int = 15, n_blocks: int = 11, dilation_rate: float = 1.5,
                 dropout: float = 0.3, final_dropout: float = 0.05, act: str = "gelu",
                 first_activation: str | None = None) -> None:
        super().__init__()
        self.n_bins = _bins(seq_len, bin_size)
        first_pool = 1 if bin_size == 1 else 2
        # the binary version's exponential variant: an activation after the first BN (the code's activation_end)
        first_activation = activation(first_activation) if first_activation else nn.Identity()
        self.stem = nn.Sequential(activation(act), same_conv(4, filters, kernel, bias=False), batch_norm(filters, 0.1),
                                  first_activation, nn.MaxPool1d(first_pool) if first_pool > 1 else nn.Identity())
        self.tower = nn.Sequential(*(BasenjiResidual(filters, filters // 2, d, dropout, act)
                                     for d in basenji_dilations(n_blocks, dilation_rate)))
        self.final = nn.Sequential(activation(act), same_conv(filters, final_filters, 1, bias=False),
                                   batch_norm(final_filters, 0.1), nn.Dropout(final_dropout))
        pool = bin_size // first_pool
        self.pool = nn.AvgPool1d(pool) if pool > 1 else nn.Identity()
        self.head, self.softplus = PositionWise(final_filters, n_tasks), nn.Softplus()
        self._init()  # he_init leaves batch norm alone: each residual block's last BN scale stays 0

    def features(self, seq: torch.Tensor) -> torch.Tensor:
        """The final convolution's output, ``(batch, final_filters, length / first pool)``."""
        return self.final(self.tower(self.stem(self._channels_first(seq))))

    def forward(self, seq: torch.Tensor) -> torch.Tensor:
        return self.softplus(self.head(self.pool(self.features(seq)))).transpose(1, 2)


#: BPNet's initialisations. The default is the authors' code's (Keras' Glorot uniform): the stack has no
#: normalisation, so He's doubles the activations' variance at each of the 9 residual additions, and the
#: untrained profile is ~50x the coverage (measured: mean 57 vs 3.5 at 32 filters), which the first
#: Adam steps answer by killing the profile (test Pearson r 0.008 after 25 epochs, against 0.3+).
_INITS = {"glorot_uniform": glorot_uniform_init, "he": he_init}


class BPNet(_Model):
    """BPNet-B: dilated convolutions with residual connections, per-task transposed-convolution
    heads at base resolution, average-pooled to the bin (§2.2); the counts head is an option."""

    def __init__(self, n_tasks: int = 15, bin_size: int = 1, seq_len: int = SEQ_LEN, filters: int = 256,
                 first_kernel: int = 25, n_dilated: int = 9, head_kernel: int = 7, counts_head: bool = False,
                 output_activation: str = "softplus", init: str = "glorot_uniform") -> None:
        super().__init__()
        self.n_bins = _bins(seq_len, bin_size)
        if head_kernel % 2 == 0:
            raise ValueError(f"the head's transposed convolution keeps the length for odd kernels only, not {head_kernel}")
        self.stem = nn.Sequential(same_conv(4, filters, first_kernel), nn.ReLU())
        self.dilated = nn.ModuleList(nn.Sequential(same_conv(filters, filters, 3, dilation=2 ** i), nn.ReLU())
                                     for i in range(1, n_dilated + 1))
        # one output channel per task: each task's transposed convolution has its own kernel
        self.profile = nn.ConvTranspose1d(filters, n_tasks, head_kernel, padding=(head_kernel - 1) // 2)
        self.pool = nn.AvgPool1d(bin_size) if bin_size > 1 else nn.Identity()
        self.output_activation = nn.Softplus() if output_activation == "softplus" else nn.Identity()
        self.counts = nn.Linear(filters, n_tasks) if counts_head else None
        if init not in _INITS:
            raise ValueError(f"init must be one of {', '.join(_INITS)}, not {init!r}")
        self.apply(_INITS[init])
        self.eval()

    def features(self, seq: torch.Tensor) -> torch.Tensor:
        """The last dilated layer's output, ``(batch, filters, length)``."""
        x = self.stem(self._channels_first(seq))
        for layer in self.dilated:
            x = x + layer(x)
        return x

    def logits(self, seq: torch.Tensor) -> dict[str, torch.Tensor]:
        """The counts-head model's heads before they are combined: profile logits over the bins
        ``(batch, bins, tasks)`` and ``log(1 + total)`` per task ``(batch, tasks)``."""
        if self.counts is None:
            raise TypeError("BPNet.logits is the counts-head model's (counts_head=True); this one predicts coverage")
        x = self.features(seq)
        return {"profile": self.pool(self.profile(x)).transpose(1, 2), "counts": self.counts(x.mean(dim=2))}

    @staticmethod
    def from_logits(heads: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Coverage from the heads of `logits`: ``exp(counts)`` per task spread by the softmax over its bins."""
        totals = torch.exp(heads["counts"]).unsqueeze(1)
        return {"profile": torch.softmax(heads["profile"], dim=1) * totals, "counts": heads["counts"]}

    def forward(self, seq: torch.Tensor) -> torch.Tensor | dict[str, torch.Tensor]:
        if self.counts is not None:
            return self.from_logits(self.logits(seq))
        return self.output_activation(self.pool(self.profile(self.features(seq)))).transpose(1, 2)


class _Flat(nn.Module):
    """Flatten ``(batch, channels, length)`` as Keras flattens ``(batch, length, channels)``."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.transpose(1, 2).flatten(1)


class _Heads(nn.Module):
    """A single position-wise softplus output, or per task: conv block -> position-wise dense(1), softplus."""

    def __init__(self, channels: int, n_tasks: int, task_heads: bool, head_filters: int = 64) -> None:
        super().__init__()
        if task_heads:
            self.heads = nn.ModuleList(nn.Sequential(conv_block(channels, head_filters, 7, dropout=0.1),
                                                     PositionWise(head_filters, 1)) for _ in range(n_tasks))
        else:
            self.heads = nn.ModuleList([PositionWise(channels, n_tasks)])
        self.softplus = nn.Softplus()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.softplus(torch.cat([head(x) for head in self.heads], dim=1)).transpose(1, 2)


class _Bottleneck(nn.Module):
    """Flatten -> Dense -> BN -> ReLU -> Dropout (the bottleneck), then Dense(bins * 8) -> BN -> ReLU,
    reshaped to ``(batch, 8, bins)`` -> Dropout (§2.3 steps 4-5)."""

    def __init__(self, in_features: int, units: int, n_bins: int, dropout: float = 0.3) -> None:
        super().__init__()
        self.n_bins = n_bins
        self.bottleneck = nn.Sequential(_Flat(), nn.Linear(in_features, units), batch_norm(units), nn.ReLU(),
                                        nn.Dropout(dropout))
        self.expand = nn.Sequential(nn.Linear(units, n_bins * 8), batch_norm(n_bins * 8), nn.ReLU())
        self.dropout = nn.Dropout(0.1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # Keras reshapes a channels-last (bins, 8): unit j of bin b is b * 8 + j
        expanded = self.expand(self.bottleneck(x))
        return self.dropout(expanded.view(len(x), self.n_bins, 8).transpose(1, 2))


class ConvProfile(_Model):
    """CNN-baseline (CNN-base at ``bin_size=1``, CNN-32 at 32): three conv blocks, a bottleneck
    reshaped to ``(bins, 8)``, a conv block, single or per-task heads (§2.3)."""

    def __init__(self, n_tasks: int = 15, bin_size: int = 32, seq_len: int = SEQ_LEN, first_activation: str = "relu",
                 filters: tuple[int, int, int] = (192, 256, 512), bottleneck: int = 256, task_heads: bool = False) -> None:
        super().__init__()
        self.n_bins = _bins(seq_len, bin_size)
        self.trunk = nn.Sequential(conv_block(4, filters[0], 19, first_activation, pool=8, dropout=0.1),
                                   conv_block(filters[0], filters[1], 7, pool=4, dropout=0.1),
                                   conv_block(filters[1], filters[2], 7, pool=4, dropout=0.2))
        self.bottleneck = _Bottleneck(filters[2] * (seq_len // 128), bottleneck, self.n_bins)
        self.conv = conv_block(8, 256, 7, dropout=0.2)
        self.heads = _Heads(256, n_tasks, task_heads)
        self._init()

    def forward(self, seq: torch.Tensor) -> torch.Tensor:
        return self.heads(self.conv(self.bottleneck(self.trunk(self._channels_first(seq)))))


def _residual_trunk(first_activation: str, filters: tuple[int, int, int], layers: tuple[int, int, int],
                    pools: tuple[int, int, int], dropouts: tuple[float, float, float], first_kernel: int = 19
                    ) -> nn.Sequential:
    """ResidualBind's trunk: per stage Conv -> BN -> act -> residual block -> MaxPool -> Dropout (§2.4)."""
    stages, channels = [], 4
    for i, (out, n_layers, pool, dropout) in enumerate(zip(filters, layers, pools, dropouts)):
        stages += [same_conv(channels, out, first_kernel if i == 0 else 7), batch_norm(out),
                   activation(first_activation if i == 0 else "relu"), DilatedResidual(out, n_layers),
                   nn.MaxPool1d(pool), nn.Dropout(dropout)]
        channels = out
    return nn.Sequential(*stages)


class ResidualBind(_Model):
    """ResidualBind-base (``bin_size=1``) or ResidualBind-32 (``bin_size=32``) (§2.4-2.5).

    base: residual blocks of 5, 5 and 4 dilated layers after the three conv layers, the bottleneck
    reshaped to ``(2048, 8)``, a conv block and another residual block of 5. 32: residual blocks of
    5, 5 and 3 on 256/512/1024 filters pooled to 64 positions, no bottleneck, then a position-wise
    dense block (single head) or a conv block and per-task heads.
    """

    def __init__(self, n_tasks: int = 15, bin_size: int = 1, seq_len: int = SEQ_LEN, first_activation: str = "relu",
                 task_heads: bool = False) -> None:
        super().__init__()
        self.n_bins = _bins(seq_len, bin_size)
        self.thirty_two = bin_size == 32
        if self.thirty_two:
            self.trunk = _residual_trunk(first_activation, (256, 512, 1024), (5, 5, 3), (4, 4, 2), (0.2, 0.2, 0.5))
            self.neck = (conv_block(1024, 256, 7, dropout=0.2) if task_heads else
                         nn.Sequential(PositionWise(1024, 256), batch_norm(256), nn.ReLU(), nn.Dropout(0.3)))
        elif bin_size == 1:
            self.trunk = _residual_trunk(first_activation, (192, 256, 512), (5, 5, 4), (4, 4, 4), (0.1, 0.1, 0.2))
            self.neck = nn.Sequential(_Bottleneck(512 * (seq_len // 64), 512, self.n_bins),
                                      conv_block(8, 256, 7, dropout=0.1), DilatedResidual(256, 5))
        else:
            raise ValueError(f"ResidualBind is defined at base resolution and at 32 bp, not {bin_size}")
        self.heads = _Heads(256, n_tasks, task_heads)
        self._init()

    def forward(self, seq: torch.Tensor) -> torch.Tensor:
        return self.heads(self.neck(self.trunk(self._channels_first(seq))))


class _Binary(_Model):
    """A binary model: ``logits`` ``(batch, tasks)``, ``forward`` their sigmoid."""

    def logits(self, seq: torch.Tensor) -> torch.Tensor:
        return self.output(self.representation(self._channels_first(seq)))

    def forward(self, seq: torch.Tensor) -> torch.Tensor:
        return self.sigmoid(self.logits(seq))


class Basset(_Binary):
    """Basset (§2.7): 3 x [Conv -> BN -> act -> MaxPool] -> 2 x [Dense -> Dropout] -> Dense, sigmoid."""

    def __init__(self, n_tasks: int = 15, seq_len: int = SEQ_LEN, first_activation: str = "relu",
                 filters: tuple[int, int, int] = (300, 200, 200), kernels: tuple[int, int, int] = (10, 11, 7),
                 pools: tuple[int, int, int] = (3, 4, 4), dense: tuple[int, int] = (1000, 1000),
                 dropout: float = 0.3) -> None:
        super().__init__()
        layers, channels, length = [], 4, seq_len
        for i, (out, kernel, pool) in enumerate(zip(filters, kernels, pools)):
            # Keras 'same' padding of an even kernel puts the extra column on the right
            layers += [nn.ConstantPad1d(((kernel - 1) // 2, kernel // 2), 0.0), nn.Conv1d(channels, out, kernel),
                       batch_norm(out), activation(first_activation if i == 0 else "relu"), nn.MaxPool1d(pool)]
            channels, length = out, length // pool
        layers.append(_Flat())
        units = channels * length
        for width in dense:
            layers += [nn.Linear(units, width), nn.ReLU(), nn.Dropout(dropout)]
            units = width
        self.representation, self.output, self.sigmoid = nn.Sequential(*layers), nn.Linear(units, n_tasks), nn.Sigmoid()
        self.apply(glorot_init)  # the authors' Basset: glorot_normal
        self.eval()


class BasenjiBinary(_Binary):
    """Basenji-binary (§2.7): the Basenji trunk, global average pooling, Dense, sigmoid; the
    exponential version applies ``first_activation="exponential"`` after the first batch norm."""

    def __init__(self, n_tasks: int = 15, seq_len: int = SEQ_LEN, first_activation: str | None = None,
                 **basenji) -> None:
        super().__init__()
        trunk = Basenji(n_tasks, bin_size=2, seq_len=seq_len, first_activation=first_activation, **basenji)  # any bin > 1: the first pool is 2
        self.trunk = nn.Sequential(trunk.stem, trunk.tower, trunk.final)
        self.output, self.sigmoid = nn.Linear(trunk.head.dense.in_features, n_tasks), nn.Sigmoid()
        self._init()

    def representation(self, x: torch.Tensor) -> torch.Tensor:
        return self.trunk(x).mean(dim=2)


class ConvBinary(_Binary):
    """CNN-binary (§2.7): the CNN-baseline's conv blocks and bottleneck, Dense, sigmoid."""

    def __init__(self, n_tasks: int = 15, seq_len: int = SEQ_LEN, first_activation: str = "relu",
                 filters: tuple[int, int, int] = (192, 256, 512), bottleneck: int = 256) -> None:
        super().__init__()
        self.representation = nn.Sequential(
            conv_block(4, filters[0], 19, first_activation, pool=8, dropout=0.1),
            conv_block(filters[0], filters[1], 7, pool=4, dropout=0.1),
            conv_block(filters[1], filters[2], 7, pool=4, dropout=0.2), _Flat(),
            nn.Linear(filters[2] * (seq_len // 128), bottleneck), batch_norm(bottleneck), nn.ReLU(), nn.Dropout(0.3))
        self.output, self.sigmoid = nn.Linear(bottleneck, n_tasks), nn.Sigmoid()
        self._init()


class ResidualBindBinary(_Binary):
    """ResidualBind-binary (§2.7): the ResidualBind-base trunk and bottleneck, Dense, sigmoid."""

    def __init__(self, n_tasks: int = 15, seq_len: int = SEQ_LEN, first_activation: str = "relu") -> None:
        super().__init__()
        self.representation = nn.Sequential(
            _residual_trunk(first_activation, (192, 256, 512), (5, 5, 4), (4, 4, 4), (0.1, 0.1, 0.2)), _Flat(),
            nn.Linear(512 * (seq_len // 64), 512), batch_norm(512), nn.ReLU(), nn.Dropout(0.3))
        self.output, self.sigmoid = nn.Linear(512, n_tasks), nn.Sigmoid()
        self._init()

