"""DeepLIFT / DeepLiftShap (attribute(..., "deep_lift_shap")): tangermeme's numbers, every input, loud failures."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from epizoo.plugins.interpret.attributions import attribute
from epizoo.plugins.interpret.deeplift import ConvergenceError
from epizoo.plugins.interpret.shuffles import shuffled_backgrounds


def _one_hot(n, length, seed=0):
    x = np.zeros((n, length, 4), np.float32)
    x[np.arange(n)[:, None], np.arange(length), np.random.default_rng(seed).integers(0, 4, (n, length))] = 1
    return x


class ConvNet(nn.Module):
    """Channels-last conv -> ReLU -> max pool -> dense -> sigmoid, every non-linearity a module."""

    def __init__(self, length=60, functional_relu_in=None):
        super().__init__()
        torch.manual_seed(0)
        self.conv, self.relu, self.pool = nn.Conv1d(4, 8, 7), nn.ReLU(), nn.MaxPool1d(4)
        self.head = Head(8 * ((length - 6) // 4), functional=functional_relu_in == "head")
        self.functional = functional_relu_in == "model"

    def forward(self, seq):
        x = self.conv(seq.transpose(1, 2))
        x = F.relu(x) if self.functional else self.relu(x)
        return self.head(self.pool(x).flatten(1))


class Head(nn.Module):
    def __init__(self, n_in, functional=False):
        super().__init__()
        self.fc, self.out, self.sigmoid, self.relu, self.functional = nn.Linear(n_in, 6), nn.Linear(6, 2), nn.Sigmoid(), nn.ReLU(), functional

    def forward(self, x):
        x = self.fc(x)
        return self.sigmoid(self.out(F.relu(x) if self.functional else self.relu(x)))


class ChannelsFirst(nn.Module):
    """tangermeme's layout, (batch, 4, length), around a channels-last model."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        return self.model(x.transpose(1, 2))


def test_deep_lift_shap_equals_tangermeme_and_sums_to_the_change_from_the_references(device):
    from tangermeme.deep_lift_shap import deep_lift_shap

    model, seq = ConvNet(), _one_hot(5, 60)
    ours = attribute(model, seq, "deep_lift_shap", target=1, n_shuffles=8, random_state=3, batch_size=16,
                     device=device)
    references = torch.from_numpy(shuffled_backgrounds(seq, 8, random_state=3)).reshape(5, 8, 60, 4)
    theirs = deep_lift_shap(ChannelsFirst(model), torch.from_numpy(seq).transpose(1, 2), target=1,
                            references=references.transpose(2, 3).contiguous(), device=device)
    torch.testing.assert_close(ours, theirs.transpose(1, 2).float(), atol=1e-6, rtol=0)
    with torch.no_grad():
        f_x = model(torch.from_numpy(seq))[:, 1]
        f_ref = model(references.reshape(-1, 60, 4)).reshape(5, 8, 2)[:, :, 1].mean(dim=1)
    torch.testing.assert_close(ours.sum(dim=(1, 2)), f_x - f_ref, atol=1e-5, rtol=0)
    assert ((ours != 0).sum(dim=2) <= 1).all()  # each position's contribution on its observed base


def test_captums_maxpool_rule_misses_summation_to_delta_which_is_why_tangermeme_computes_ours():
    from captum.attr import DeepLift

    model, seq = ConvNet(), torch.from_numpy(_one_hot(6, 60))
    references = torch.from_numpy(_one_hot(6, 60, seed=1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, delta = DeepLift(model).attribute(seq, references, target=1, return_convergence_delta=True)
    assert delta.abs().max() > 1e-3


def test_every_float_input_gets_contributions_and_the_batching_does_not_change_them():
    class SeqAndVector(nn.Module):
        def __init__(self):
            super().__init__()
            torch.manual_seed(1)
            self.seq_net, self.vec = ConvNet(), nn.Linear(3, 2)

        def forward(self, seq, expression):
            return self.seq_net(seq) + self.vec(expression)

    model = SeqAndVector()
    seq, expression = _one_hot(4, 60), np.random.default_rng(2).normal(size=(4, 3)).astype(np.float32)
    inputs = {"seq": seq, "expression": expression}
    got = attribute(model, inputs, "deep_lift_shap", target=0, n_shuffles=6, batch_size=6, device="cpu")
    # the vector's reference is zeros and its path is linear: contributions are x * weights
    np.testing.assert_allclose(got["expression"], expression * model.vec.weight[0].detach().numpy(), atol=1e-6)
    again = attribute(model, inputs, "deep_lift_shap", target=0, n_shuffles=6, batch_size=24, device="cpu")
    torch.testing.assert_close(got["seq"], again["seq"], atol=1e-6, rtol=0)
    hypothetical = attribute(model, inputs, "deep_lift_shap", target=0, n_shuffles=6, hypothetical=True, device="cpu")
    torch.testing.assert_close(hypothetical["seq"] * torch.from_numpy(seq), got["seq"], atol=1e-6, rtol=0)
    assert (hypothetical["seq"] != 0).sum() > 3 * (got["seq"] != 0).sum() // 2  # every base, not only the observed


def test_a_track_channel_is_explained_against_its_baseline():
    class TrackWeight(nn.Module):
        def forward(self, seq):  # bases matter through a ReLU, the track linearly
            return torch.relu(seq[:, :, 0]).sum(dim=1, keepdim=True) * 0 + (seq[:, :, 4] * 2).sum(dim=1, keepdim=True)

    seq = np.concatenate([_one_hot(2, 30), np.full((2, 30, 1), 0.5, np.float32)], axis=2)
    got = attribute(TrackWeight(), seq, "deep_lift_shap", n_shuffles=4, device="cpu")
    np.testing.assert_allclose(got[:, :, 4], 1.0, atol=1e-6)  # (0.5 - 0) * 2 at every position
    np.testing.assert_allclose(got[:, :, :4], 0, atol=1e-6)


@pytest.mark.parametrize("where, named", [("model", r"ConvNet\.forward"), ("head", r"ConvNet\.head \(Head\)")])
def test_an_operation_without_a_rule_fails_loudly_naming_its_module(where, named):
    with pytest.raises(ConvergenceError, match=named):
        attribute(ConvNet(functional_relu_in=where), _one_hot(3, 60), "deep_lift_shap", n_shuffles=4, device="cpu")


def test_factornets_lstm_is_named_as_the_layer_deeplift_cannot_explain():
    from zoo.FactorNet.architecture import FactorNet

    torch.manual_seed(0)
    model = FactorNet(n_channels=4, seq_len=100, conv_filters=8, conv_width=9, pool=5, lstm_units=4,
                      dense_units=8, n_tasks=1).eval()
    with pytest.raises(ConvergenceError, match=r"FactorNet\.blstm \(HardSigmoidBiLSTM\)"):
        attribute(model, _one_hot(2, 100), "deep_lift_shap", n_shuffles=4, device="cpu")


@pytest.mark.parametrize("build", ["exponential", "sigmoid_gelu"])
def test_gophers_own_activations_get_deeplifts_rescale_rule(build):
    from zoo.GOPHER.architecture import Basenji, ConvProfile

    torch.manual_seed(0)
    model = (ConvProfile(n_tasks=2, bin_size=32, first_activation="exponential", filters=(8, 8, 8), bottleneck=8)
             if build == "exponential" else Basenji(n_tasks=2, bin_size=128, filters=8, final_filters=8,
                                                    act="sigmoid_gelu"))
    seq = _one_hot(2, 2048)
    got = attribute(model, seq, "deep_lift_shap", target=1, n_shuffles=3, device="cpu")  # converges: no error
    assert got.shape == (2, 2048, 4) and torch.isfinite(got).all() and got.abs().sum() > 0
