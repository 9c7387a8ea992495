"""FactorNet (Quang & Xie 2019) as released for ENCODE-DREAM: a Siamese reverse-complement network.

The graph is the one the authors' Keras-1.1 ``model.json`` files describe (spec
``seed_000_factornet.md`` §2.2, §2.3 and the "released weights" note)::

    per strand, weights shared:
      Conv1D(valid, relu) -> Dropout -> TimeDistributed Dense(relu) -> MaxPool(pool, stride)
      -> Bidirectional LSTM (return_sequences, concat) -> Dropout -> Flatten -> Dense(relu)
      -> [concat(meta) -> Dense(relu)] -> Dense(sigmoid)
    output = mean of the two strands' sigmoid outputs   (Keras-1 ``Merge(mode='ave')``)

Every size and activation is a constructor argument, so one class covers all released variants
(5 or 6 input channels, 32-128 filters, 0/6/8/14 meta features, 1 or 19 tasks). The converter
``epizoo.conversion.factornet.read_keras1_factornet`` reads them from ``model.json``.

Input convention (Kipoi drop-in): ``forward(seq, seq_rc=None, meta_features=None)`` takes the
forward strand ``seq`` of shape (batch, L, 4 + n_tracks), channels last, bases in A, C, G, T order
followed by the tracks; the module builds the reverse complement itself (spec §2.3:
``seq[::-1, ::-1]`` on the bases, tracks reversed in position only). Kipoi's list form
``[seq, seq_rc(, meta_features)]`` is accepted, its ``seq_rc`` checked against that strand. The LSTM is implemented here because the Keras-1
default gate activation, ``hard_sigmoid`` = clip(0.2 x + 0.5, 0, 1), is not available in
``torch.nn.LSTM``.
"""
from __future__ import annotations

from typing import Callable

import torch
from torch import nn
from torch.nn import functional as F

__all__ = ["FactorNet", "HardSigmoidBiLSTM", "reverse_complement", "ACTIVATIONS"]


def _hard_sigmoid(x: torch.Tensor) -> torch.Tensor:
    # Theano 0.9 theano/tensor/nnet/sigm.py::hard_sigmoid: slope 0.2, shift 0.5, clip to [0, 1];
    # Keras 1.1.1 keras/backend/theano_backend.py::hard_sigmoid calls it. (Keras 3's
    # hard_sigmoid is relu6(x + 3) / 6, slope 1/6: a different function.)
    return torch.clamp(0.2 * x + 0.5, 0.0, 1.0)


def _linear(x: torch.Tensor) -> torch.Tensor:
    return x


ACTIVATIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "linear": _linear,
    "relu": F.relu,
    "sigmoid": torch.sigmoid,
    "hard_sigmoid": _hard_sigmoid,
    "tanh": torch.tanh,
    "softplus": F.softplus,
}


#: In-place forms, for a freshly computed tensor (their gradients need only their results).
IN_PLACE: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "relu": torch.relu_, "sigmoid": torch.sigmoid_, "tanh": torch.tanh_, "linear": _linear,
}


def _activation(name: str, inplace: bool = False) -> Callable[[torch.Tensor], torch.Tensor]:
    """The named activation; ``inplace`` lets it overwrite a freshly computed tensor."""
    if inplace and name in IN_PLACE:
        return IN_PLACE[name]
    try:
        return ACTIVATIONS[name]
    except KeyError:
        raise ValueError(f"unsupported activation {name!r}; known: {sorted(ACTIVATIONS)}") from None


def reverse_complement(seq: torch.Tensor) -> torch.Tensor:
    """Reverse complement of a channels-last batch (batch, L, 4 + n_tracks).

    Positions are reversed; the four base channels are reversed in order (A,C,G,T -> T,G,C,A,
    i.e. complemented); tracks are reversed in position only (spec §2.3, FactorNet
    ``data_iter.py``: ``seq[::-1, ::-1]`` and ``bw[::-1]``; DGF and Unique35 are unstranded).
    """
    flipped = torch.flip(seq, dims=(1,))
    bases = torch.flip(flipped[..., :4], dims=(-1,))
    return torch.cat([bases, flipped[..., 4:]], dim=-1)


class HardSigmoidBiLSTM(nn.Module):
    """Keras-1.1 ``Bidirectional(LSTM(return_sequences=True), merge_mode='concat')``.

    Parameters
    ----------
    input_size, hidden_size
        Input features and units per direction.
    activation, inner_activation
        Keras-1 ``activation`` (cell/output) and ``inner_activation`` (gates).

    Notes
    -----
    Weights per direction d (0 forward, 1 backward), gates concatenated in Keras-1's own order
    i, f, c, o (keras 1.1.1 ``LSTM.build``: ``K.concatenate([W_i, W_f, W_c, W_o])``):
    ``weight_ih[d]`` (input_size, 4H), ``weight_hh[d]`` (H, 4H), ``bias[d]`` (4H). The step is
    keras 1.1.1 ``LSTM.step``: i, f, o = inner(x W + h U + b); c = f c + i act(.); h = o act(c),
    from zero initial states. The backward output is reversed back to input time order before
    the concatenation (keras 1.1.1 ``Bidirectional.call``: ``Y_rev = K.reverse(Y_rev, 1)``).
    """

    def __init__(self, input_size: int, hidden_size: int, activation: str = "tanh",
                 inner_activation: str = "hard_sigmoid") -> None:
        super().__init__()
        self.input_size, self.hidden_size = input_size, hidden_size
        self.activation_name, self.inner_activation_name = activation, inner_activation
        self._act, self._inner = _activation(activation), _activation(inner_activation)
        self.weight_ih = nn.Parameter(torch.empty(2, input_size, 4 * hidden_size))
        self.weight_hh = nn.Parameter(torch.empty(2, hidden_size, 4 * hidden_size))
        self.bias = nn.Parameter(torch.zeros(2, 4 * hidden_size))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Keras-1 defaults: glorot_uniform W, orthogonal U, zero bias with forget bias one."""
        hidden = self.hidden_size
        with torch.no_grad():
            for d in range(2):
                nn.init.xavier_uniform_(self.weight_ih[d])
                for g in range(4):
                    nn.init.orthogonal_(self.weight_hh[d, :, g * hidden:(g + 1) * hidden])
            self.bias.zero_()
            self.bias[:, hidden:2 * hidden] = 1.0

    def _step_weights(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The weights in the order the step uses: gates i, f, o, then the cell input c, with the
        gates' affine part folded in when the gate activation is ``hard_sigmoid`` (clamp(0.2 z +
        0.5, 0, 1): the step then clamps only). One slice per activation and one clamp instead of
        three operations: fewer passes over the step's tensors."""
        hidden = self.hidden_size
        order = torch.cat([torch.arange(0, 2 * hidden), torch.arange(3 * hidden, 4 * hidden),
                           torch.arange(2 * hidden, 3 * hidden)]).to(self.bias.device)
        scale, shift = (0.2, 0.5) if self.inner_activation_name == "hard_sigmoid" else (1.0, 0.0)
        gate_scale = torch.ones(4 * hidden, dtype=self.bias.dtype, device=self.bias.device)
        gate_scale[:3 * hidden] = scale
        gate_shift = torch.zeros_like(gate_scale)
        gate_shift[:3 * hidden] = shift
        return (self.weight_ih[..., order] * gate_scale, self.weight_hh[..., order] * gate_scale,
                self.bias[..., order] * gate_scale + gate_shift)

    def _activated(self, z: torch.Tensor, in_place: bool) -> tuple[torch.Tensor, torch.Tensor]:
        """Gates i, f, o and the cell input from the step's pre-activations ``z`` (the gates'
        already scaled for hard_sigmoid); ``in_place`` (no autograd) overwrites ``z`` rather than
        making a fresh tensor per operation."""
        gates, cell = z[..., :3 * self.hidden_size], z[..., 3 * self.hidden_size:]
        if self.inner_activation_name == "hard_sigmoid":
            gates = gates.clamp_(0.0, 1.0) if in_place else gates.clamp(0.0, 1.0)
        else:
            gates = self._inner(gates)
        if in_place and self.activation_name in IN_PLACE:
            return gates, IN_PLACE[self.activation_name](cell)
        return gates, self._act(cell)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(batch, T, input_size) -> (batch, T, 2 * hidden_size), forward units first."""
        batch, steps, _ = x.shape
        hidden = self.hidden_size
        weight_ih, weight_hh, bias = self._step_weights()
        # Both directions advance together: the backward one reads the sequence reversed
        # (go_backwards=True), so its input is flipped here and step t of the loop is step t of
        # each. The input projection is made step by step, from a small slice that is in the cache,
        # rather than for all steps at once (4H values per step and row, read back from memory).
        inputs = torch.stack((x.transpose(0, 1), x.flip(1).transpose(0, 1)))  # (2, T, batch, input)
        h = x.new_zeros(2, batch, hidden)
        c = x.new_zeros(2, batch, hidden)
        outputs, in_place = [], not torch.is_grad_enabled()
        for t in range(steps):
            z = torch.baddbmm(torch.baddbmm(bias[:, None], inputs[:, t], weight_ih), h, weight_hh)
            gates, cell_input = self._activated(z, in_place)  # gates i, f, o
            c = torch.addcmul(gates[..., hidden:2 * hidden] * c, gates[..., :hidden], cell_input)
            h = gates[..., 2 * hidden:] * self._act(c)
            outputs.append(h)
        # the backward outputs come in processing order; put them back in input time order,
        # as keras 1.1.1 Bidirectional.call does (K.reverse(Y_rev, 1)) before concatenating
        outputs = torch.stack(outputs)  # (T, 2, batch, H)
        return torch.cat((outputs[:, 0], outputs[:, 1].flip(0)), dim=-1).transpose(0, 1)


class FactorNet(nn.Module):
    """FactorNet's released Siamese network; see the module docstring for the graph.

    Parameters
    ----------
    n_channels
        Input channels: 4 bases (A, C, G, T) plus the tracks.
    seq_len
        Input length L (1002 for the released models).
    conv_filters, conv_width, conv_activation
        Convolution1D ``nb_filter``, ``filter_length``, activation (valid padding, stride 1).
    td_units, td_activation
        The TimeDistributed Dense after the convolution; ``td_units=None`` leaves it out.
    pool, pool_stride
        MaxPooling1D ``pool_length`` and ``stride`` (valid); stride defaults to ``pool``.
    lstm_units, lstm_activation, lstm_inner_activation
        Units per direction of the bidirectional LSTM; ``lstm_units=0`` leaves it out (pooled
        features are flattened directly). The authors' GlobalMaxPooling1D variant
        (``utils.make_model`` with ``num_recurrent == 0``) is not covered.
    dense_units, dense_activation
        The Dense layer after Flatten.
    n_tasks, output_activation
        Output units (1 or 19 in the releases) and their activation.
    n_meta, meta_dense_units, meta_dense_activation
        Meta features concatenated after the dense layer (8 expression PCs, 6 GENCODE flags, or
        both), followed by one more Dense (default: ``dense_units`` units).
    conv_dropout, dropout, lstm_dropout_W, lstm_dropout_U
        Training-time dropout rates as recorded in model.json. ``conv_dropout`` and ``dropout``
        (after the BLSTM) are applied in train mode; the LSTM's own input/recurrent dropout is
        recorded only (not applied). All are identities in eval mode.

    Notes
    -----
    The module is constructed in eval mode (inference semantics, dropout off); call
    ``.train()`` to train it.
    """

    #: The output averages the two strands, so a window and its reverse complement predict alike.
    reverse_complement_invariant = True
    #: Convolution output per chunk on a CPU. The convolution, the time-distributed dense and the
    #: pooling run chunk by chunk, so that the convolution's output (the pass's largest tensor,
    #: 124 kB per window at 32 filters) is read back from the cache rather than from memory: the
    #: three stages ran 1.2x as fast in 4 MiB chunks as on a batch of 256 windows, and 2x with
    #: malloc's default settings (epizoo.cpu_memory; benchmarks/bench_factornet.py).
    CHUNK_BYTES = 4 << 20

    def __init__(self, n_channels: int, seq_len: int, conv_filters: int, conv_width: int,
                 pool: int, lstm_units: int, dense_units: int, n_tasks: int, n_meta: int = 0, *,
                 td_units: int | None = None, pool_stride: int | None = None,
                 conv_activation: str = "relu", td_activation: str = "relu",
                 lstm_activation: str = "tanh", lstm_inner_activation: str = "hard_sigmoid",
                 dense_activation: str = "relu", meta_dense_units: int | None = None,
                 meta_dense_activation: str = "relu", output_activation: str = "sigmoid",
                 conv_dropout: float = 0.0, dropout: float = 0.0,
                 lstm_dropout_W: float = 0.0, lstm_dropout_U: float = 0.0) -> None:
        super().__init__()
        if n_channels < 4:
            raise ValueError(f"n_channels must count the 4 bases plus tracks, got {n_channels}")
        self.config = dict(
            n_channels=n_channels, seq_len=seq_len, conv_filters=conv_filters,
            conv_width=conv_width, pool=pool, lstm_units=lstm_units, dense_units=dense_units,
            n_tasks=n_tasks, n_meta=n_meta, td_units=td_units, pool_stride=pool_stride or pool,
            conv_activation=conv_activation, td_activation=td_activation,
            lstm_activation=lstm_activation, lstm_inner_activation=lstm_inner_activation,
            dense_activation=dense_activation, meta_dense_units=meta_dense_units,
            meta_dense_activation=meta_dense_activation, output_activation=output_activation,
            conv_dropout=conv_dropout, dropout=dropout, lstm_dropout_W=lstm_dropout_W,
            lstm_dropout_U=lstm_dropout_U)
        self.n_channels, self.seq_len, self.n_meta, self.n_tasks = n_channels, seq_len, n_meta, n_tasks
        self.pool, self.pool_stride = pool, pool_stride or pool

        self.conv = nn.Conv1d(n_channels, conv_filters, conv_width)
        self._conv_act = _activation(conv_activation, inplace=True)  # on the conv's own output
        self.conv_dropout = nn.Dropout(conv_dropout)
        features = conv_filters
        self.td = nn.Linear(features, td_units) if td_units else None
        self._td_act = _activation(td_activation, inplace=True)
        features = td_units or features
        steps = self.pooled_length(seq_len)
        self.blstm = (HardSigmoidBiLSTM(features, lstm_units, lstm_activation, lstm_inner_activation)
                      if lstm_units else None)
        features = 2 * lstm_units if lstm_units else features
        self.dropout = nn.Dropout(dropout)
        self.dense = nn.Linear(steps * features, dense_units)
        self._dense_act = _activation(dense_activation)
        head_in = dense_units
        self.meta_dense = None
        if n_meta:
            self.meta_dense = nn.Linear(dense_units + n_meta, meta_dense_units or dense_units)
            head_in = meta_dense_units or dense_units
        self._meta_act = _activation(meta_dense_activation)
        self.out = nn.Linear(head_in, n_tasks)
        self._out_act = _activation(output_activation)
        self.eval()

    def conv_length(self, seq_len: int) -> int:
        """Positions after the valid convolution."""
        return seq_len - self.config["conv_width"] + 1

    def pooled_length(self, seq_len: int) -> int:
        """Steps after the valid convolution and the valid max pooling."""
        conv_len = self.conv_length(seq_len)
        if conv_len < self.pool:
            raise ValueError(f"sequence length {seq_len} is too short for this network")
        return (conv_len - self.pool) // self.pool_stride + 1

    def _conv_channels_last(self, x: torch.Tensor) -> torch.Tensor:
        """Valid conv1d of (B, L, C) to (B, L-w+1, k) without transposing copies.

        A (B, L, C) tensor viewed as (B, C, 1, L) already has channels-last strides, and oneDNN's
        channels-last conv2d is markedly faster on CPU than conv1d for these shapes (few input
        channels, wide kernels); its output viewed back is (B, L-w+1, k) and contiguous.
        """
        weight = self.conv.weight.unsqueeze(2).contiguous(memory_format=torch.channels_last)
        image = x.transpose(1, 2).unsqueeze(2).contiguous(memory_format=torch.channels_last)
        y = F.conv2d(image, weight, self.conv.bias)  # (B, k, 1, L-w+1), channels last
        return y.squeeze(2).transpose(1, 2)

    def _max_pool(self, y: torch.Tensor) -> torch.Tensor:
        """Valid max pooling over time of (B, L', F) (Keras-1 MaxPooling1D, border 'valid')."""
        steps = (y.shape[1] - self.pool) // self.pool_stride + 1
        if self.pool_stride == self.pool:
            return y[:, :steps * self.pool].unflatten(1, (steps, self.pool)).amax(dim=2)
        return F.max_pool1d(y.transpose(1, 2), self.pool, self.pool_stride).transpose(1, 2)

    def _pooled(self, x: torch.Tensor) -> torch.Tensor:
        """(rows, L, C) -> (rows, T, features): convolution, time-distributed dense, pooling."""
        y = self.conv_dropout(self._conv_act(self._conv_channels_last(x)))  # (rows, L-w+1, k)
        if self.td is not None:
            y = self._td_act(self.td(y))
        return self._max_pool(y)

    def _chunk_rows(self, x: torch.Tensor) -> int:
        """Rows per chunk: CHUNK_BYTES of convolution output."""
        per_row = self.conv_length(self.seq_len) * self.conv.out_channels * x.element_size()
        return max(1, self.CHUNK_BYTES // per_row)

    def pooled_features(self, *strands: torch.Tensor) -> list[torch.Tensor]:
        """Each strand's pooled features (rows, T, features); the strands' rows of a chunk go
        through the convolution together (see CHUNK_BYTES). Off the CPU, and in a traced graph
        (ONNX export: a loop over the rows would fix the batch size), one chunk."""
        if strands[0].device.type != "cpu" or torch.compiler.is_compiling():
            pooled, rows = self._pooled(torch.cat(strands)), strands[0].shape[0]
            return [pooled[k * rows:(k + 1) * rows] for k in range(len(strands))]
        rows = max(1, self._chunk_rows(strands[0]) // len(strands))
        parts: list[list[torch.Tensor]] = [[] for _ in strands]
        for start in range(0, strands[0].shape[0], rows) or [0]:  # an empty batch: one empty chunk
            chunk = [strand[start:start + rows] for strand in strands]
            pooled = self._pooled(torch.cat(chunk) if len(chunk) > 1 else chunk[0])
            for part, piece in zip(parts, pooled.tensor_split(len(strands))):  # strands have equal rows
                part.append(piece)
        return [torch.cat(part) if len(part) > 1 else part[0] for part in parts]

    def _dense_features(self, pooled: torch.Tensor) -> torch.Tensor:
        """Pooled features -> the dense layer's activations (batch, dense_units)."""
        y = self.blstm(pooled) if self.blstm is not None else pooled
        y = self.dropout(y).flatten(1)  # (B, T * features): time-major, like Keras batch_flatten
        return self._dense_act(self.dense(y))

    def trunk(self, x: torch.Tensor) -> torch.Tensor:
        """One strand, (batch, L, C) -> the dense layer's activations (batch, dense_units)."""
        return self._dense_features(self.pooled_features(x)[0])

    def head_logits(self, hidden: torch.Tensor, meta_features: torch.Tensor | None) -> torch.Tensor:
        """Dense activations (+ meta) -> pre-activation outputs (batch, n_tasks)."""
        if self.meta_dense is not None:
            if meta_features is None:
                raise ValueError(f"this FactorNet needs meta_features of shape (batch, {self.n_meta})")
            meta = meta_features.to(hidden.dtype).reshape(hidden.shape[0], self.n_meta)
            hidden = self._meta_act(self.meta_dense(torch.cat([hidden, meta], dim=-1)))
        return self.out(hidden)

    def strand_logits(self, x: torch.Tensor, meta_features: torch.Tensor | None = None) -> torch.Tensor:
        """Pre-activation outputs of one strand, as given (no reverse complement)."""
        return self.head_logits(self.trunk(x), meta_features)

    def forward_pair(self, seq: torch.Tensor, seq_rc: torch.Tensor,
                     meta_features: torch.Tensor | None = None) -> torch.Tensor:
        """The authors' two-input form: mean of the two strands' output activations."""
        batch = seq.shape[0]
        hidden = self._dense_features(torch.cat(self.pooled_features(seq, seq_rc)))  # both strands' rows
        meta = None if meta_features is None else torch.cat([meta_features, meta_features], dim=0)
        probs = self._out_act(self.head_logits(hidden, meta))
        return 0.5 * (probs[:batch] + probs[batch:])  # Keras-1 Merge(mode='ave')

    def forward(self, seq: torch.Tensor, seq_rc: torch.Tensor | None = None,
                meta_features: torch.Tensor | None = None) -> torch.Tensor:
        """Averaged strand probabilities (batch, n_tasks) for a forward-strand batch (batch, L, C).

        ``seq_rc`` is accepted for Kipoi's input form ``[seq, seq_rc(, meta_features)]``; the
        module builds the reverse strand itself, so a given ``seq_rc`` must be exactly that strand.
        A 2-D second argument is ``meta_features`` (the form ``(seq, meta_features)``).
        """
        if seq_rc is not None and seq_rc.dim() == 2 and meta_features is None:
            seq_rc, meta_features = None, seq_rc
        if seq.dim() != 3 or tuple(seq.shape[1:]) != (self.seq_len, self.n_channels):
            raise ValueError(f"expected seq of shape (batch, {self.seq_len}, {self.n_channels}) "
                             f"(channels last: A, C, G, T, then tracks), got {tuple(seq.shape)}")
        if self.meta_dense is None and meta_features is not None:
            raise ValueError("this FactorNet takes no meta_features (its inputs are seq, or Kipoi's [seq, seq_rc])")
        seq = seq.to(self.conv.weight.dtype)
        reverse = reverse_complement(seq)
        if seq_rc is not None:
            _check_reverse_strand(seq_rc.to(seq.dtype), reverse)
        return self.forward_pair(seq, reverse, meta_features)


def _check_reverse_strand(given: torch.Tensor, expected: torch.Tensor) -> None:
    """Kipoi's FactorNet entries took the reverse strand as an input; one that is not the reverse
    complement of ``seq`` (a mutated forward strand whose reverse was left as it was) would give
    an answer for two different sequences, so it is refused."""
    if given.shape != expected.shape:
        raise ValueError(f"the second input is seq_rc (Kipoi's order: seq, seq_rc, meta_features), of seq's shape "
                         f"{tuple(expected.shape)}; got {tuple(given.shape)}. Fix: pass a mapping "
                         "{'seq': ..., 'meta_features': ...}")
    differs = (given != expected).flatten(1).any(dim=1)
    if differs.any():
        row = int(torch.nonzero(differs)[0])
        raise ValueError(f"seq_rc is not the reverse complement of seq (first in batch row {row}, "
                         f"{int(differs.sum())} row(s) differ). FactorNet builds the reverse strand itself: "
                         "pass seq alone, or the reverse complement of this seq")
