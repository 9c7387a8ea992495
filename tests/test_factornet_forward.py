"""FactorNet's fast forward pass computes the released graph: the chunked convolution stage equals
the whole batch's, the recurrent step (gates reordered, hard_sigmoid folded into the weights,
in place without autograd) equals Keras-1's step written out plainly, and gradients still flow.
The released models against the independent Keras 3 rebuild: tests/test_factornet_conversion.py."""
from __future__ import annotations

import pytest
import torch

from epizoo.zoo.FactorNet.architecture import ACTIVATIONS, FactorNet, HardSigmoidBiLSTM

CONFIG = dict(n_channels=6, seq_len=240, conv_filters=8, conv_width=11, pool=7, lstm_units=5, dense_units=9,
              n_tasks=3, td_units=6, pool_stride=5)


def _network(seed: int = 0, **changes) -> FactorNet:
    torch.manual_seed(seed)
    network = FactorNet(**(CONFIG | changes))
    with torch.no_grad():  # biases far from zero, so that every gate and clamp is exercised
        for parameter in network.parameters():
            parameter.add_(0.3 * torch.randn_like(parameter))
    return network


def _windows(batch: int, network: FactorNet, seed: int = 1) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    bases = torch.nn.functional.one_hot(torch.randint(0, 4, (batch, network.seq_len), generator=generator), 4).float()
    return torch.cat([bases, torch.rand(batch, network.seq_len, network.n_channels - 4, generator=generator)], -1)


def _keras1_bilstm(layer: HardSigmoidBiLSTM, x: torch.Tensor) -> torch.Tensor:
    """keras 1.1.1 LSTM.step per direction, gates in Keras' order i, f, c, o, nothing folded."""
    hidden, inner, act = layer.hidden_size, ACTIVATIONS[layer.inner_activation_name], ACTIVATIONS[layer.activation_name]
    directions = []
    for d, sequence in ((0, x), (1, x.flip(1))):
        h = c = x.new_zeros(x.shape[0], hidden)
        steps = []
        for t in range(x.shape[1]):
            z = sequence[:, t] @ layer.weight_ih[d] + h @ layer.weight_hh[d] + layer.bias[d]
            i, f, g, o = z.split(hidden, dim=-1)
            c = inner(f) * c + inner(i) * act(g)
            h = inner(o) * act(c)
            steps.append(h)
        directions.append(torch.stack(steps, 1) if d == 0 else torch.stack(steps, 1).flip(1))
    return torch.cat(directions, -1)


@pytest.mark.parametrize("inner, activation", [("hard_sigmoid", "tanh"), ("sigmoid", "tanh"), ("hard_sigmoid", "relu")])
def test_the_recurrent_step_is_keras1s(inner, activation):
    torch.manual_seed(0)
    layer = HardSigmoidBiLSTM(6, 5, activation, inner)
    with torch.no_grad():
        layer.bias.add_(torch.randn_like(layer.bias))
    x = 2 * torch.randn(13, 17, 6)
    with torch.no_grad():
        expected = _keras1_bilstm(layer, x)
        fast = layer(x)  # in place, no autograd
    with_autograd = layer(x.requires_grad_())
    torch.testing.assert_close(fast, expected, rtol=1e-5, atol=1e-6)  # relu lets values grow past 1
    torch.testing.assert_close(with_autograd.detach(), fast, rtol=0, atol=0)


def test_the_chunked_convolution_stage_equals_the_whole_batch(monkeypatch):
    network, seq = _network(), _windows(23, _network())
    with torch.no_grad():
        whole = network(seq)
        monkeypatch.setattr(FactorNet, "CHUNK_BYTES", 6 * 230 * 8 * 4)  # 6 windows' output: 3 rows of each strand
        assert network._chunk_rows(seq) == 6  # 23 rows: 7 chunks and a last one of 2
        chunked = network(seq)
    torch.testing.assert_close(chunked, whole, rtol=0, atol=1e-6)
    with torch.no_grad():
        assert network(seq[:0]).shape == (0, 3)  # an empty BED's batch


def test_gradients_flow_through_the_fast_pass(monkeypatch):
    monkeypatch.setattr(FactorNet, "CHUNK_BYTES", 5 * 230 * 8 * 4)
    network = _network()
    seq = _windows(11, network).requires_grad_()
    network(seq).sum().backward()
    assert torch.isfinite(seq.grad).all() and seq.grad.abs().sum() > 0
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in network.parameters())
