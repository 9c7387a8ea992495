"""kipoi-veff's scores and reverse-complement merging, on hand-made predictions."""
import numpy as np
import pytest

from epizoo.plugins.veff.scores import RC_MERGES, SCORES, Score, get_merge, get_scores, logit, register_score

REF = np.array([[0.2, 0.9], [0.5, 0.01]])
ALT = np.array([[0.6, 0.8], [0.5, 0.02]])
REF_RC = np.array([[0.3, 0.7], [0.4, 0.01]])
ALT_RC = np.array([[0.1, 0.9], [0.6, 0.05]])


def kipoi_logit(p):
    return np.log(p / (1 - p))


def test_forward_scores_follow_kipoi_veff_definitions():
    np.testing.assert_allclose(SCORES["diff"](REF, ALT), ALT - REF)
    np.testing.assert_allclose(SCORES["logit"](REF, ALT), kipoi_logit(ALT) - kipoi_logit(REF))
    np.testing.assert_allclose(SCORES["logit_ref"](REF, ALT), kipoi_logit(REF))
    np.testing.assert_allclose(SCORES["logit_alt"](REF, ALT), kipoi_logit(ALT))
    np.testing.assert_allclose(SCORES["deepsea_effect"](REF, ALT),
                               np.abs(kipoi_logit(ALT) - kipoi_logit(REF)) * np.abs(ALT - REF))
    np.testing.assert_array_equal(SCORES["ref"](REF, ALT), REF)
    np.testing.assert_array_equal(SCORES["alt"](REF, ALT), ALT)


@pytest.mark.parametrize("name", sorted(RC_MERGES))
def test_rc_merging_is_applied_after_scoring(name):
    merge = get_merge(name)
    forward, reverse = ALT - REF, ALT_RC - REF_RC
    expected = {"mean": (forward + reverse) / 2, "median": (forward + reverse) / 2,
                "max": np.maximum(forward, reverse), "min": np.minimum(forward, reverse),
                "absmax": np.where(np.abs(forward) < np.abs(reverse), reverse, forward)}[name]
    np.testing.assert_allclose(SCORES["diff"](REF, ALT, REF_RC, ALT_RC, merge), expected)


def test_deepsea_effect_merges_its_parts_before_multiplying():
    merge = get_merge("max")
    logit_part = np.maximum(kipoi_logit(ALT) - kipoi_logit(REF), kipoi_logit(ALT_RC) - kipoi_logit(REF_RC))
    diff_part = np.maximum(ALT - REF, ALT_RC - REF_RC)
    np.testing.assert_allclose(SCORES["deepsea_effect"](REF, ALT, REF_RC, ALT_RC, merge),
                               np.abs(logit_part) * np.abs(diff_part))


def test_saturated_probabilities_give_finite_logits():
    assert np.isfinite(logit(np.array([0.0, 1.0]))).all()
    assert logit(np.array([1.0]))[0] > 15


def test_a_new_score_plugs_in_by_name():
    register_score(Score("log2_ratio", lambda ref, alt: np.log2(alt / ref), "log2(alt / ref)"))
    (score,) = get_scores(["log2_ratio"])
    np.testing.assert_allclose(score(REF, ALT), np.log2(ALT / REF))
    del SCORES["log2_ratio"]


def test_unknown_names_are_clear_errors():
    with pytest.raises(ValueError, match="available: ref, alt, diff"):
        get_scores(["dif"])
    with pytest.raises(ValueError, match="absmax"):
        get_merge("average")
