"""GOPHER's architectures (spec seed_002_gopher.md §2): geometry, receptive fields and parameter counts by hand."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from zoo.GOPHER.architecture import (Basenji, BasenjiBinary, Basset, BPNet, ConvBinary, ConvProfile, ResidualBind,
                                     ResidualBindBinary, basenji_dilations)
from zoo.GOPHER.blocks import Exponential


def _onehot(n=2, length=2048, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.eye(4)[torch.randint(0, 4, (n, length), generator=g)]


def _parameters(model):
    return sum(p.numel() for p in model.parameters())


def test_basenji_dilations_grow_by_1_5():
    assert basenji_dilations() == [1, 2, 2, 3, 5, 8, 11, 17, 26, 38, 58]


@pytest.mark.parametrize("bin_size", [1, 32, 64, 128, 256, 512, 1024, 2048])
def test_the_profile_models_predict_2048_over_bin_size_bins_of_every_task(bin_size):
    x = _onehot()
    for model in (Basenji(n_tasks=3, bin_size=bin_size, filters=8, final_filters=16),
                  BPNet(n_tasks=3, bin_size=bin_size, filters=8)):
        with torch.no_grad():
            y = model(x)
        assert y.shape == (2, 2048 // bin_size, 3) and (y >= 0).all()  # softplus coverage


def test_the_other_models_shapes_heads_and_activations():
    x = _onehot()
    with torch.no_grad():
        assert ConvProfile(n_tasks=3, bin_size=32)(x).shape == (2, 64, 3)
        assert ConvProfile(n_tasks=3, bin_size=1, task_heads=True)(x).shape == (2, 2048, 3)
        assert ResidualBind(n_tasks=3)(x).shape == (2, 2048, 3)
        assert ResidualBind(n_tasks=3, bin_size=32, task_heads=True)(x).shape == (2, 64, 3)
        two_headed = BPNet(n_tasks=3, bin_size=4, filters=8, counts_head=True)
        both, heads = two_headed(x), two_headed.logits(x)
        assert both["profile"].shape == (2, 512, 3) and both["counts"].shape == (2, 3)
        # ChromBPNet's coverage: exp(counts) per task spread by the softmax over the bins
        torch.testing.assert_close(both["profile"].sum(dim=1), torch.exp(heads["counts"]))
        torch.testing.assert_close(both["profile"] / both["profile"].sum(dim=1, keepdim=True),
                                   torch.softmax(heads["profile"], dim=1))
        for binary in (Basset(n_tasks=3), BasenjiBinary(n_tasks=3, filters=8, final_filters=16), ConvBinary(n_tasks=3),
                       ResidualBindBinary(n_tasks=3)):
            torch.testing.assert_close(binary(x), torch.sigmoid(binary.logits(x)))
            assert binary(x).shape == (2, 3)
    exponential = ResidualBind(n_tasks=3, bin_size=32, first_activation="exponential")
    assert isinstance(exponential.trunk[2], Exponential) and isinstance(exponential.trunk[8], nn.ReLU)
    with pytest.raises(ValueError, match="must divide"):
        Basenji(bin_size=3)
    with pytest.raises(ValueError, match="base resolution and at 32 bp"):
        ResidualBind(bin_size=64)


def test_bpnets_receptive_field_is_its_kernels_and_dilations():
    model = BPNet(n_tasks=1, seq_len=4096, filters=4)
    model.stem[1] = nn.Identity()  # linear, so that every position in the field has a gradient
    for layer in model.dilated:
        layer[1] = nn.Identity()
    model.output_activation = nn.Identity()
    x = _onehot(1, 4096).requires_grad_()
    model(x)[0, 2048, 0].backward()
    reached = torch.nonzero(x.grad.abs().sum(dim=2)[0]).flatten()
    # 1 + sum of (kernel - 1) * dilation: the first conv (25), nine k=3 convs (dilations 2 .. 512), the head (7)
    assert int(reached.max() - reached.min() + 1) == 1 + 24 + sum(2 * 2 ** i for i in range(1, 10)) + 6 == 2075


def test_bpnet_starts_from_keras_glorot_uniform_weights_unless_asked_for_he():
    def widest(model):  # the largest convolution weight over Glorot uniform's bound sqrt(6 / (fan_in + fan_out))
        ratios = []
        for conv in (m for m in model.modules() if isinstance(m, nn.Conv1d)):
            out_channels, in_channels, kernel = conv.weight.shape
            bound = (6 / (in_channels * kernel + out_channels * kernel)) ** 0.5
            ratios.append(float(conv.weight.abs().max()) / bound)
        return max(ratios)
    assert widest(BPNet(n_tasks=2, filters=16)) <= 1.0
    assert widest(BPNet(n_tasks=2, filters=16, init="he")) > 1.0
    with pytest.raises(ValueError, match="init must be one of"):
        BPNet(init="lecun")


def test_parameter_counts_match_the_layers_by_hand():
    bpnet = BPNet(n_tasks=2, filters=8, counts_head=True)
    # stem 4*8*25 + 8; 9 dilated 8*8*3 + 8; transposed head 8*2*7 + 2; counts 8*2 + 2
    assert _parameters(bpnet) == (4 * 8 * 25 + 8) + 9 * (8 * 8 * 3 + 8) + (8 * 2 * 7 + 2) + (8 * 2 + 2)
    basenji = Basenji(n_tasks=2, filters=8, final_filters=16)
    # stem conv (no bias) + BN; 11 blocks of conv(8->4, k3) + BN(4) + conv(4->8, k1) + BN(8); final conv + BN; head
    block = 8 * 4 * 3 + 2 * 4 + 4 * 8 + 2 * 8
    assert _parameters(basenji) == (4 * 8 * 15 + 2 * 8) + 11 * block + (8 * 16 + 2 * 16) + (16 * 2 + 2)
    assert all(float(b.body[5].weight.detach().abs().sum()) == 0 for b in basenji.tower)  # residual branches start at 0


def test_the_binary_basenjis_exponential_version_and_keras_batch_norm():
    model = BasenjiBinary(n_tasks=2, filters=8, final_filters=16, first_activation="exponential")
    assert isinstance(model.trunk[0][3], Exponential)  # after the first batch norm
    norms = [m for m in Basset(n_tasks=2).modules() if isinstance(m, nn.BatchNorm1d)]
    assert norms and all(m.eps == 1e-3 and m.momentum == pytest.approx(0.01) for m in norms)
    assert all(m.momentum == pytest.approx(0.1) for m in Basenji(filters=8, final_filters=16).modules()
               if isinstance(m, nn.BatchNorm1d))  # the authors' 0.9 in Keras terms
    with pytest.raises(ValueError, match="odd kernels"):
        BPNet(head_kernel=8)
