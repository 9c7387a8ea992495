"""The training plugin's metrics agree with sklearn / scipy and with the ENCODE-DREAM definitions."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy.stats import pearsonr, spearmanr
from sklearn.metrics import average_precision_score, precision_recall_curve, roc_auc_score

from epizoo.plugins.train.metrics import binary_metrics, profile_metrics, regression_metrics


def dream_recall_at_fdr(labels: np.ndarray, scores: np.ndarray, fdr: float) -> float:
    """ENCODE-DREAM's scoring: recall at the first curve point (increasing threshold) with FDR <= fdr."""
    precision, recall, _ = precision_recall_curve(labels, scores)
    return float(recall[np.flatnonzero(1 - precision <= fdr)[0]])


@pytest.fixture
def binary_data():
    rng = np.random.default_rng(7)
    targets = (rng.random((400, 3)) < [0.1, 0.3, 0.5]).astype(np.float32)
    # informative but noisy scores, rounded so that ties occur
    predictions = np.round(targets * rng.normal(1.0, 1.0, targets.shape) + rng.normal(0, 1, targets.shape), 1)
    return predictions, targets


def test_binary_metrics_match_sklearn(binary_data):
    predictions, targets = binary_data
    metrics = binary_metrics(predictions, targets, task_names=["a", "b", "c"])
    for task, name in enumerate("abc"):
        y, s = targets[:, task], predictions[:, task]
        assert metrics[f"auroc/{name}"] == pytest.approx(roc_auc_score(y, s), abs=1e-6)
        assert metrics[f"auprc/{name}"] == pytest.approx(average_precision_score(y, s), abs=1e-6)
        for fdr, key in [(0.1, "10"), (0.25, "25"), (0.5, "50")]:
            expected = dream_recall_at_fdr(y, s, fdr)
            assert metrics[f"recall_at_{key}fdr/{name}"] == pytest.approx(expected, abs=1e-6)
        assert metrics[f"positives/{name}"] == pytest.approx(y.mean())
    assert metrics["auroc"] == pytest.approx(np.mean([metrics[f"auroc/{n}"] for n in "abc"]))
    per_task = [metrics[f"recall_at_50fdr/{n}"] for n in "abc"]
    assert metrics["recall_at_50fdr"] == pytest.approx(np.mean(per_task))
    assert all(isinstance(v, float) for v in metrics.values())


def test_recall_at_fdr_by_hand():
    scores = np.array([0.9, 0.8, 0.7, 0.6, 0.5])
    labels = np.array([1, 1, 0, 1, 0])
    # precision by threshold: 1, 1, 2/3, 3/4, 3/5; recall: 1/3, 2/3, 2/3, 1, 1
    m = binary_metrics(scores, labels, fdrs=(0.1, 0.25, 0.4, 0.5))
    assert m["recall_at_10fdr"] == pytest.approx(2 / 3)
    assert m["recall_at_25fdr"] == pytest.approx(1.0)  # precision exactly 0.75 qualifies
    assert m["recall_at_40fdr"] == pytest.approx(1.0)
    # precision exactly 90% qualifies at 10% FDR (9 of the top 10 are positives)
    labels = np.array([1, 1, 1, 1, 0, 1, 1, 1, 1, 1] + [0] * 5 + [1])
    scores = -np.arange(len(labels), dtype=np.float64)
    m = binary_metrics(scores, labels, fdrs=(0.1,))
    assert m["recall_at_10fdr"] == pytest.approx(0.9) == dream_recall_at_fdr(labels, scores, 0.1)
    # no threshold reaches 90% precision: the top-scored example is a negative
    m = binary_metrics(np.array([0.9, 0.1]), np.array([0, 1]), fdrs=(0.1, 0.5))
    assert m["recall_at_10fdr"] == 0.0
    assert m["recall_at_50fdr"] == pytest.approx(1.0)


def test_mask_excludes_entries(binary_data):
    predictions, targets = binary_data
    mask = np.random.default_rng(1).random(targets.shape) < 0.7
    garbage = np.where(mask, targets, -1.0)  # ambiguous labels only where masked out
    masked = binary_metrics(predictions, garbage, mask)
    for task in range(3):
        keep = mask[:, task]
        y, s = targets[keep, task], predictions[keep, task]
        assert masked[f"auroc/{task}"] == pytest.approx(roc_auc_score(y, s), abs=1e-6)
        assert masked[f"auprc/{task}"] == pytest.approx(average_precision_score(y, s), abs=1e-6)
        assert masked[f"positives/{task}"] == pytest.approx(y.mean())
    with pytest.raises(ValueError, match="0 or 1"):
        binary_metrics(predictions, garbage)


def test_one_class_task_is_nan_and_left_out_of_means(binary_data):
    predictions, targets = binary_data
    targets = targets.copy()
    targets[:, 1] = 0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        m = binary_metrics(predictions, targets)
    assert np.isnan(m["auroc/1"]) and np.isnan(m["auprc/1"]) and np.isnan(m["recall_at_50fdr/1"])
    assert m["positives/1"] == 0.0
    assert m["auroc"] == pytest.approx(np.mean([m["auroc/0"], m["auroc/2"]]))
    everything_masked = binary_metrics(predictions[:, 0], targets[:, 0], np.zeros(len(targets), bool))
    assert np.isnan(everything_masked["auroc"]) and np.isnan(everything_masked["positives"])


def test_binary_metrics_shape_errors(binary_data):
    predictions, targets = binary_data
    with pytest.raises(ValueError, match="same shape"):
        binary_metrics(predictions, targets[:, :2])
    with pytest.raises(ValueError, match="task names"):
        binary_metrics(predictions, targets, task_names=["a"])
    with pytest.raises(ValueError, match="mask"):
        binary_metrics(predictions, targets, np.ones(len(targets), bool))


def test_regression_metrics_match_scipy():
    rng = np.random.default_rng(3)
    targets = rng.normal(size=(300, 2))
    predictions = targets * [1.0, -0.3] + rng.normal(size=targets.shape)
    m = regression_metrics(predictions, targets, task_names=["x", "y"])
    for task, name in enumerate("xy"):
        p, t = predictions[:, task], targets[:, task]
        assert m[f"pearson/{name}"] == pytest.approx(pearsonr(p, t)[0], abs=1e-9)
        assert m[f"spearman/{name}"] == pytest.approx(spearmanr(p, t)[0], abs=1e-6)
        assert m[f"mse/{name}"] == pytest.approx(np.mean((p - t) ** 2))
    assert m["pearson"] == pytest.approx((m["pearson/x"] + m["pearson/y"]) / 2)


def test_regression_constant_column_is_nan():
    rng = np.random.default_rng(4)
    targets = rng.normal(size=(50, 2))
    predictions = targets.copy()
    predictions[:, 1] = 2.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        m = regression_metrics(predictions, targets)
    assert np.isnan(m["pearson/1"]) and np.isnan(m["spearman/1"])
    assert m["pearson"] == pytest.approx(1.0)
    assert m["mse/1"] == pytest.approx(np.mean((2.0 - targets[:, 1]) ** 2))


def test_profile_metrics_whole_and_per_peak():
    rng = np.random.default_rng(5)
    targets = rng.poisson(3.0, size=(20, 16, 2)).astype(float)
    predictions = targets + rng.normal(0, 2.0, targets.shape)
    predictions[3, :, 0] = 1.5  # a flat predicted profile: skipped in the per-peak mean
    m = profile_metrics(predictions, targets, task_names=["atac", "dnase"])
    for task, name in enumerate(["atac", "dnase"]):
        p, t = predictions[:, :, task], targets[:, :, task]
        assert m[f"pearson_whole/{name}"] == pytest.approx(pearsonr(p.ravel(), t.ravel())[0], abs=1e-9)
        rows = [pearsonr(p[i], t[i])[0] for i in range(len(p)) if np.ptp(p[i]) > 0 and np.ptp(t[i]) > 0]
        assert len(rows) == (19 if task == 0 else 20)
        assert m[f"pearson_per_peak/{name}"] == pytest.approx(np.mean(rows), abs=1e-9)
        assert m[f"mse/{name}"] == pytest.approx(np.mean((p - t) ** 2))
    # one task given as (n, length)
    single = profile_metrics(predictions[:, :, 1], targets[:, :, 1])
    assert single["pearson_per_peak"] == pytest.approx(m["pearson_per_peak/dnase"])


def test_profile_metrics_mask():
    rng = np.random.default_rng(6)
    targets = rng.normal(size=(10, 12))
    predictions = targets + rng.normal(size=targets.shape)
    mask = rng.random(targets.shape) < 0.6
    m = profile_metrics(predictions, np.where(mask, targets, 1e6), mask)
    assert m["pearson_whole"] == pytest.approx(pearsonr(predictions[mask], targets[mask])[0], abs=1e-9)
    rows = [pearsonr(predictions[i, mask[i]], targets[i, mask[i]])[0] for i in range(10) if mask[i].sum() > 2]
    assert m["pearson_per_peak"] == pytest.approx(np.mean(rows), abs=1e-9)
