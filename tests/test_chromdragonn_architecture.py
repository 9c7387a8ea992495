"""ChromDragoNN's architectures (spec seed_003_chromdragonn.md §2): the code's layer layout, the
spec's parameter counts (§2.5), the two places the mean accessibility may enter, and Freeze."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from zoo.ChromDragoNN.architecture import (FEATURES, BassetTrunk, FactorizedTrunk, MeanAccessibility, ResNetTrunk,
                                           Stage1, Stage2)


def _parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def _inputs(n: int = 3, n_tfs: int = 1630):
    torch.manual_seed(0)
    seq = nn.functional.one_hot(torch.randint(0, 4, (n, 1000)), 4).float()
    return seq, torch.rand(n, n_tfs), torch.rand(n, 1)


@pytest.mark.parametrize("trunk, millions", [(ResNetTrunk, 3.02), (FactorizedTrunk, 1.39), (BassetTrunk, 0.96)])
def test_every_trunk_gives_4200_features_with_the_specs_parameter_count(trunk, millions):
    model = trunk().eval()
    assert model(_inputs()[0]).shape == (3, FEATURES)
    assert _parameters(model) / 1e6 == pytest.approx(millions, abs=0.005)


def test_a_width_multiplier_scales_every_trunk_for_cpu_sized_models():
    seq = _inputs()[0]
    for trunk in (ResNetTrunk(width=0.25), FactorizedTrunk(width=0.25), BassetTrunk(width=0.25)):
        assert trunk.features == 50 * 21 and trunk.eval()(seq).shape == (3, 50 * 21)
    small = Stage2(n_tfs=16, trunk_options={"width": 0.25})
    assert small.first[0].in_features == 50 * 21 + 16 + 1
    with pytest.raises(ValueError, match="width must be positive"):
        ResNetTrunk(width=0)


def test_the_resnet_has_the_papers_23_convolutions_in_8_residual_blocks():
    trunk = ResNetTrunk()
    assert sum(isinstance(m, nn.Conv1d) for m in trunk.modules()) == 23
    assert sum(type(m).__name__ == "Residual" for m in trunk.modules()) == 8
    assert sum(isinstance(m, nn.Conv1d) for m in ResNetTrunk(l1_depth=3).modules()) == 25  # the paper's listing


def test_stage_models_match_the_specs_counts():
    stage1 = Stage1(n_tasks=103)
    assert _parameters(stage1) / 1e6 == pytest.approx(8.33, abs=0.005)
    assert _parameters(stage1.head) / 1e6 == pytest.approx(5.31, abs=0.005)
    stage2 = Stage2()
    assert (_parameters(stage2) - _parameters(stage2.trunk)) / 1e6 == pytest.approx(6.84, abs=0.005)
    assert _parameters(stage2) / 1e6 == pytest.approx(9.86, abs=0.005)


def test_stage2_takes_expression_and_the_mean_at_the_input_or_after_the_first_dense_layer():
    seq, expression, mean = _inputs()
    at_input, at_hidden, without = Stage2(), Stage2(mean_at="hidden"), Stage2(with_mean=False)
    assert at_input.first[0].in_features == FEATURES + 1630 + 1 and at_input.second[0].in_features == 1000
    assert at_hidden.first[0].in_features == FEATURES + 1630 and at_hidden.second[0].in_features == 1001
    assert without.first[0].in_features == FEATURES + 1630
    with torch.no_grad():
        for model in (at_input, at_hidden):
            probability = model(seq, expression, mean)
            assert probability.shape == (3, 1) and ((probability > 0) & (probability < 1)).all()
            torch.testing.assert_close(probability, torch.sigmoid(model.logits(seq, expression, mean)))
            assert not torch.allclose(model(seq, expression, mean), model(seq, expression, 1 - mean))
        assert without(seq, expression).shape == (3, 1)
    with pytest.raises(ValueError, match="takes mean_accessibility"):
        at_input(seq, expression)
    with pytest.raises(ValueError, match="1630"):
        at_input(seq, expression[:, :10], mean)
    with pytest.raises(ValueError, match="mean_at"):
        Stage2(mean_at="output")


def test_a_frozen_trunk_keeps_its_weights_and_batch_norm_statistics_in_training():
    seq, expression, mean = _inputs(8, n_tfs=16)
    model = Stage2(n_tfs=16, freeze_trunk=True).train()
    statistics = [b.running_mean.clone() for b in model.trunk.modules() if isinstance(b, nn.BatchNorm1d)]
    weights = [p.clone() for p in model.trunk.parameters()]
    optimiser = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=0.1)
    model(seq, expression, mean).sum().backward()
    optimiser.step()
    assert not model.trunk.training and model.first.training
    assert all(torch.equal(a, b.running_mean) for a, b in
               zip(statistics, (b for b in model.trunk.modules() if isinstance(b, nn.BatchNorm1d))))
    assert all(torch.equal(a, b) for a, b in zip(weights, model.trunk.parameters()))
    tuned = Stage2(n_tfs=16).train()
    tuned(seq, expression, mean).sum().backward()
    assert all(p.grad is not None for p in tuned.trunk.parameters())


def test_the_mean_baseline_returns_the_mean_whatever_the_cell_type():
    seq, expression, mean = _inputs()
    torch.testing.assert_close(MeanAccessibility()(seq, expression, mean), mean)
    torch.testing.assert_close(MeanAccessibility()(seq, expression * 0, mean), mean)
