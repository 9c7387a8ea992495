"""The Basset/AI-TAC-style CNN of Novakovsky et al. 2021 and its weight transfer.

Layers (spec ``seed_001_transfer.md`` §2.1, [P: Methods › Model architecture], in the authors'
``ConvNetDeep`` order Conv -> BN -> ReLU -> MaxPool and Linear -> BN -> ReLU -> Dropout)::

    conv1 (100 filters x 19) -> bn1 -> relu1 -> pool1 (3, stride 3)
    conv2 (200 x 7)          -> bn2 -> relu2 -> pool2
    conv3 (200 x 4)          -> bn3 -> relu3 -> pool3
    flatten -> fc1 (1000) -> bn4 -> relu4 -> drop4 (0.3)
            -> fc2 (1000) -> bn5 -> relu5 -> drop5 (0.3)
            -> output (1, 5 or 50 tasks) -> sigmoid

No padding, stride 1; the flatten size follows from ``seq_len`` (1,000 for 200 bp). The input is
``seq`` of shape (batch, 4, seq_len), channels first, A, C, G, T. The output is the probability
of binding per task; `TFBindingCNN.logits` gives the pre-sigmoid values (the authors train with
``BCEWithLogitsLoss``). ``relu1`` is the post-BN+ReLU first-layer map that the paper converts to
motifs (§5).
"""
from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import nn

__all__ = ["CONV_LAYERS", "TRANSFER_MODES", "TFBindingCNN", "transfer_weights"]

#: the convolutional blocks' parameter prefixes (frozen by ``freeze_conv``, §2.3 Table S5)
CONV_LAYERS = ("conv1", "bn1", "conv2", "bn2", "conv3", "bn3")
#: what each transfer mode copies from the pre-trained model (§2.3)
TRANSFER_MODES: dict[str, tuple[str, ...]] = {
    "all_but_output": (*CONV_LAYERS, "fc1", "bn4", "fc2", "bn5"),
    "conv_all": CONV_LAYERS,
    "conv1": ("conv1", "bn1"),
}


class TFBindingCNN(nn.Module):
    """Three convolutional and two dense layers predicting TF binding in a short window.

    Parameters
    ----------
    n_tasks
        Outputs: 1 for an individual (single-task) model, 5 or 50 for a multi-model.
    seq_len
        Input length (200 in the paper; 500 and 1,000 in its Figs. S8-S9).
    filters, widths
        Filters and kernel widths of the three convolutions.
    pool
        Max-pooling width and stride.
    dense_units
        Units of the two dense layers.
    dropout
        Dropout after each dense layer.
    """

    def __init__(self, n_tasks: int = 1, seq_len: int = 200, filters: tuple[int, int, int] = (100, 200, 200),
                 widths: tuple[int, int, int] = (19, 7, 4), pool: int = 3, dense_units: int = 1000,
                 dropout: float = 0.3) -> None:
        super().__init__()
        channels, length = 4, int(seq_len)
        for i, (n_filters, width) in enumerate(zip(filters, widths), start=1):
            self.add_module(f"conv{i}", nn.Conv1d(channels, n_filters, width))
            self.add_module(f"bn{i}", nn.BatchNorm1d(n_filters))
            self.add_module(f"relu{i}", nn.ReLU())
            self.add_module(f"pool{i}", nn.MaxPool1d(pool, pool))
            channels, length = n_filters, (length - width + 1) // pool
        if length < 1:
            raise ValueError(f"seq_len {seq_len} is too short for the convolutions {list(widths)}")
        self.flatten_size = channels * length
        self.fc1, self.bn4 = nn.Linear(self.flatten_size, dense_units), nn.BatchNorm1d(dense_units)
        self.relu4, self.drop4 = nn.ReLU(), nn.Dropout(dropout)
        self.fc2, self.bn5 = nn.Linear(dense_units, dense_units), nn.BatchNorm1d(dense_units)
        self.relu5, self.drop5 = nn.ReLU(), nn.Dropout(dropout)
        self.output = nn.Linear(dense_units, int(n_tasks))
        self.sigmoid = nn.Sigmoid()  # a module, so that DeepLIFT applies its rule to it
        self.eval()  # zoo convention: built for inference; training switches modes itself

    def logits(self, seq: torch.Tensor) -> torch.Tensor:
        """Pre-sigmoid outputs, ``(batch, n_tasks)``."""
        x = seq
        for i in (1, 2, 3):
            x = getattr(self, f"conv{i}")(x)
            x = getattr(self, f"pool{i}")(getattr(self, f"relu{i}")(getattr(self, f"bn{i}")(x)))
        x = x.flatten(1)
        x = self.drop4(self.relu4(self.bn4(self.fc1(x))))
        x = self.drop5(self.relu5(self.bn5(self.fc2(x))))
        return self.output(x)

    def forward(self, seq: torch.Tensor) -> torch.Tensor:
        """Probabilities of binding, ``(batch, n_tasks)``."""
        return self.sigmoid(self.logits(seq))


def transfer_weights(source: Mapping[str, torch.Tensor], target: nn.Module, mode: str = "all_but_output",
                     freeze_conv: bool = False) -> list[str]:
    """Copy a pre-trained model's layers into ``target`` (the fine-tuning initialisation, §2.3).

    Parameters
    ----------
    source
        State dict of the pre-trained (multi-task) model.
    target
        The model to fine-tune; its other layers keep their fresh initialisation.
    mode
        ``all_but_output`` (the paper's default: every layer but the output, BN statistics
        included), ``conv_all`` (the three convolutional blocks) or ``conv1`` (the first block).
    freeze_conv
        Stop gradients to the convolutional blocks (the paper's frozen-conv ablation).

    Returns
    -------
    list of str
        The parameter and buffer names copied.
    """
    if mode not in TRANSFER_MODES:
        raise ValueError(f"transfer mode {mode!r} is not one of {', '.join(TRANSFER_MODES)}")
    prefixes = tuple(f"{layer}." for layer in TRANSFER_MODES[mode])
    own = target.state_dict()
    copied = {name: value for name, value in source.items() if name.startswith(prefixes)}
    mismatched = [n for n, v in copied.items() if n not in own or own[n].shape != v.shape]
    if mismatched:
        raise ValueError(f"the pre-trained weights do not fit this architecture: {', '.join(mismatched[:5])} "
                         "(different seq_len or layer sizes?)")
    target.load_state_dict({**own, **copied})
    if freeze_conv:
        for name, parameter in target.named_parameters():
            if name.startswith(tuple(f"{layer}." for layer in CONV_LAYERS)):
                parameter.requires_grad_(False)
    return sorted(copied)
