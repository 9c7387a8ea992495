"""GOPHER's losses and evaluation (spec seed_002_gopher.md §2.8, §4.3-4.5), each against scipy, torch or a hand value."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.stats import multinomial, pearsonr

from epizoo.plugins.evaluate.profiles import (binary_as_quantitative, quantitative_as_binary, scaled_predictions,
                                              shifted_windows, variation_score)
from epizoo.plugins.train.losses import (bin_mean, binary_cross_entropy, multinomial_counts, multinomial_nll, pearson_loss,
                                         poisson_nll)

RNG = np.random.default_rng(0)


def test_bin_mean_averages_within_non_overlapping_bins():
    coverage = torch.arange(16.0).reshape(1, 8, 2)  # position p, task t: 2p + t
    binned = bin_mean(coverage, 4)
    torch.testing.assert_close(binned, torch.tensor([[[3.0, 4.0], [11.0, 12.0]]]))
    with pytest.raises(ValueError, match="must divide"):
        bin_mean(coverage, 3)


def test_the_losses_equal_their_definitions():
    predictions = torch.rand(4, 16, 3) + 0.1
    targets = torch.poisson(torch.rand(4, 16, 3) * 5)
    expected = torch.nn.PoissonNLLLoss(log_input=False, eps=1e-7, full=False)(predictions, targets)
    torch.testing.assert_close(poisson_nll(predictions, targets), expected)
    rs = [pearsonr(predictions[..., t].flatten(), targets[..., t].flatten())[0] for t in range(3)]
    assert float(pearson_loss(predictions, targets)) == pytest.approx(-np.mean(rs), abs=1e-5)
    logits = torch.randn(2, 16, 3)
    by_scipy = sum(multinomial.logpmf(targets[i, :, t].numpy(), int(targets[i, :, t].sum()),
                                      torch.softmax(logits[i, :, t].double(), 0).numpy())
                   for i in range(2) for t in range(3))
    assert float(multinomial_nll(logits, targets[:2])) == pytest.approx(-by_scipy, rel=1e-5)
    log_totals = torch.randn(2, 3) + 3
    squared = ((log_totals - torch.log1p(targets[:2].sum(dim=1))) ** 2).mean()
    bpnet = multinomial_counts({"profile": logits, "counts": log_totals}, targets[:2], weight=10.0)
    assert float(bpnet) == pytest.approx(-by_scipy / 2 + 10 * float(squared), rel=1e-5)
    p, y = torch.tensor([0.9, 0.2]), torch.tensor([1, 0])
    assert float(binary_cross_entropy(p, y)) == pytest.approx(-(np.log(0.9) + np.log(0.8)) / 2, rel=1e-6)


def test_scaled_predictions_match_the_target_mean_per_task():
    predictions, targets = RNG.random((5, 8, 2)), RNG.random((5, 8, 2)) * [3.0, 0.5]
    scaled, factor = scaled_predictions(predictions, targets)
    np.testing.assert_allclose(scaled.mean(axis=(0, 1)), targets.mean(axis=(0, 1)))
    np.testing.assert_allclose(factor, targets.mean(axis=(0, 1)) / predictions.mean(axis=(0, 1)))


def test_binary_and_quantitative_models_scored_the_other_way():
    predictions = RNG.random((6, 4, 2))
    np.testing.assert_allclose(quantitative_as_binary(predictions), predictions.mean(axis=1))
    targets, logits = RNG.random((6, 4, 2)), RNG.normal(size=(6, 2))
    r = binary_as_quantitative(logits, targets)
    assert r[1] == pytest.approx(pearsonr(logits[:, 1], targets[:, :, 1].mean(axis=1))[0])
    assert np.isnan(binary_as_quantitative(np.ones((6, 2)), targets)).all()


def _predictions(model, sequence, offsets, length=2048):
    return np.stack([model(sequence[o:o + length]) for o in offsets])


def test_the_variation_score_is_zero_for_a_translation_equivariant_model_and_not_for_a_positional_one():
    sequence = RNG.random(3072)
    offsets = shifted_windows(20, seed=1)
    assert offsets.min() >= 0 and offsets.max() < 1024 and len(set(offsets)) > 10

    def equivariant(window):  # coverage at each base from the base itself, at base resolution
        return (2 + np.sin(window * 7))[:, None]

    def positional(window):  # the same, scaled by where the base sits in the window
        return equivariant(window) * np.linspace(1, 2, len(window))[:, None]

    window = (1024, 2048)
    assert variation_score(_predictions(equivariant, sequence, offsets), offsets, 1, window)[0] == pytest.approx(0)
    moving = variation_score(_predictions(positional, sequence, offsets), offsets, 1, window)[0]
    assert moving > 0.05
    # scale invariant
    doubled = variation_score(2 * _predictions(positional, sequence, offsets), offsets, 1, window)[0]
    assert doubled == pytest.approx(moving)
    # binned predictions are repeated base by base before they are aligned
    binned = _predictions(positional, sequence, offsets).reshape(20, 16, 128, 1).mean(axis=2)
    by_hand = np.stack([np.repeat(b, 128, axis=0)[1024 - o:2048 - o] for b, o in zip(binned, offsets)])
    assert variation_score(binned, offsets, 128, window)[0] == pytest.approx(
        by_hand.std(axis=0).mean() / by_hand.mean())
    with pytest.raises(ValueError, match="must cover"):
        variation_score(binned, offsets + 1100, 128, window)
