"""First-layer filters as motifs (epizoo.plugins.interpret): PFMs, MEME files, Tomtom matches."""
from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pytest
import torch
from torch import nn

from epizoo.plugins.interpret.filters import Geometry, conv_windows, filter_pfms
from epizoo.plugins.interpret.match import match_filters
from epizoo.dataloaders.motifs import Motif, read_meme, to_probabilities, write_meme
from epizoo.plugins.interpret.motifs import benjamini_hochberg, tomtom_matches

A, C, G, T = range(4)
PLANTED = "NRF1_f1"  # 12 columns, high information content, no close relative in HOCOMOCO v9


def onehot(seq: np.ndarray) -> np.ndarray:
    return np.eye(4, dtype=np.float32)[seq].transpose(0, 2, 1)


def random_onehot(seed: int, n: int = 60, length: int = 50) -> np.ndarray:
    return onehot(np.random.default_rng(seed).integers(0, 4, (n, length)))


def single_filter(width: int, column: int, weights: dict[int, float], **conv_options) -> nn.Sequential:
    """Conv1d(4, 1, width) -> ReLU whose only non-zero weights are at kernel column ``column``."""
    model = nn.Sequential(OrderedDict(conv=nn.Conv1d(4, 1, width, **conv_options), relu=nn.ReLU()))
    with torch.no_grad():
        model.conv.weight.zero_()
        model.conv.bias.zero_()
        for base, weight in weights.items():
            model.conv.weight[0, base, column] = weight
    return model


@pytest.fixture(scope="module")
def hocomoco(shared_data):
    return read_meme(shared_data / "factornet" / "resources" / "HOCOMOCOv9.meme")


# --- geometry ---------------------------------------------------------------------------------

@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel:UserWarning")
@pytest.mark.parametrize("width, padding, stride, dilation", [
    (5, 0, 1, 1), (5, 2, 1, 1), (4, "same", 1, 1), (5, "same", 1, 2), (3, 1, 2, 1), (6, "valid", 1, 1),
    (4, 3, 3, 2),
])
def test_windows_reproduce_the_convolution(width, padding, stride, dilation):
    torch.manual_seed(0)
    conv = nn.Conv1d(4, 3, width, padding=padding, stride=stride, dilation=dilation)
    x = torch.as_tensor(random_onehot(1, n=5, length=23))
    geometry = Geometry.of(conv)
    windows = conv_windows(x, geometry)
    expected = conv(x).detach()
    assert geometry.output_length(23) == expected.shape[-1]
    rebuilt = torch.einsum("npcw,fcw->nfp", windows, conv.weight.detach()) + conv.bias.detach()[:, None]
    torch.testing.assert_close(rebuilt, expected, rtol=1e-5, atol=1e-5)


# --- PFMs -------------------------------------------------------------------------------------

def test_a_base_seen_at_kernel_column_j_lands_in_pfm_column_j(device):
    X = random_onehot(2)
    model = single_filter(7, 3, {G: 1.0})
    found = filter_pfms(model, X, "relu", device=device)
    n_sites = int(X[:, G, 3:-3].sum())  # output p sees input p..p+6: a G at input 3..L-4
    assert found.n_sites.tolist() == [n_sites]
    assert found.pfms.shape == (1, 4, 7)
    np.testing.assert_array_equal(found.pfms[0, :, 3], [0, 0, n_sites, 0])
    np.testing.assert_array_equal(found.pfms[0].sum(axis=0), np.full(7, n_sites))
    assert (found.pfms[0, G, [0, 1, 2, 4, 5, 6]] < 0.5 * n_sites).all()
    assert found.max_activations.tolist() == [1.0] and found.thresholds.tolist() == [0.5]
    # neighbouring columns hold the neighbouring bases: column 4 counts the base after each G
    after = X[:, :, 4:-2][np.broadcast_to(X[:, G:G + 1, 3:-3] == 1, X[:, :, 4:-2].shape)].reshape(-1)
    assert found.pfms[0, :, 4].sum() == n_sites and after.sum() == n_sites
    batched = filter_pfms(model, X, "relu", batch_size=7, device=device)
    np.testing.assert_array_equal(batched.pfms, found.pfms)


@pytest.mark.parametrize("column", [0, 2, 4])
def test_padding_counts_nothing_outside_the_sequence(column):
    X = random_onehot(3)
    length = X.shape[-1]
    found = filter_pfms(single_filter(5, column, {G: 1.0}, padding=2), X, "relu")
    # output p (0..L-1) reads input p - 2 + j at kernel column j: the sites are the Gs at inputs
    # i = p - 2 + column, and column j of a site reads input i - column + j, counted when inside
    first, last = max(0, column - 2), min(length - 1, length - 3 + column)
    assert found.n_sites[0] == X[:, G, first:last + 1].sum()
    np.testing.assert_array_equal(found.pfms[0, :, column], [0, 0, found.n_sites[0], 0])
    for j in range(5):
        inside = X[:, G, max(first, column - j):min(last, length - 1 + column - j) + 1].sum()
        assert found.pfms[0, :, j].sum() == inside
    assert found.pfms[0].sum(axis=0).min() < found.n_sites[0]  # some windows reach into the padding


def test_sites_are_activations_at_least_threshold_times_the_maximum():
    X = random_onehot(4)
    model = single_filter(3, 1, {G: 2.0, A: 1.0})
    inner = X[:, :, 1:-1]
    half = filter_pfms(model, X, "relu", threshold=0.5)  # max 2: A (1.0) and G (2.0) are sites
    assert half.n_sites[0] == inner[:, G].sum() + inner[:, A].sum()
    np.testing.assert_array_equal(half.pfms[0, :, 1], [inner[:, A].sum(), 0, inner[:, G].sum(), 0])
    strict = filter_pfms(model, X, "relu", threshold=0.6)
    assert strict.n_sites[0] == inner[:, G].sum()


def test_a_filter_that_never_activates_has_no_motif():
    model = single_filter(4, 0, {G: -1.0})
    found = filter_pfms(model, random_onehot(5), "relu")
    assert found.n_sites.tolist() == [0] and not found.pfms.any()
    assert np.isnan(found.thresholds[0]) and found.motifs() == {}


def test_the_layer_must_be_the_first_convolutions_activation_map():
    model = nn.Sequential(OrderedDict(conv=nn.Conv1d(4, 2, 5), relu=nn.ReLU(), pool=nn.MaxPool1d(2)))
    model.train()
    X = random_onehot(6)
    with pytest.raises(ValueError, match="before any pooling"):
        filter_pfms(model, X, "pool")
    with pytest.raises(KeyError, match="no module 'relu2'"):
        filter_pfms(model, X, "relu2")
    with pytest.raises(ValueError, match="has length 47"):
        filter_pfms(model, X, "relu", width=4)
    assert filter_pfms(model, X, "relu", conv="conv").width == 5
    assert model.training


# --- MEME files -------------------------------------------------------------------------------

def test_read_meme_keeps_names_alternate_names_and_matrices(hocomoco):
    assert len(hocomoco) == 428
    assert hocomoco["CEBPB_f1"].alt == "CEBPB" and hocomoco["ATF2+ATF4_f1"].alt == "ATF2+ATF4"
    ahr = hocomoco["AHR_si"]
    assert ahr.probabilities.shape == (4, 9)
    np.testing.assert_allclose(ahr.probabilities[:, 0], [0.266234, 0.116883, 0.363636, 0.253247])
    np.testing.assert_allclose(ahr.probabilities[:, 7], [0, 0, 1, 0])
    for motif in hocomoco.values():
        np.testing.assert_allclose(motif.probabilities.sum(axis=0), 1, atol=2e-3)


def test_write_meme_round_trips(tmp_path, hocomoco):
    counts = np.array([[3, 0, 1], [0, 0, 1], [1, 4, 1], [0, 0, 1]], dtype=float)
    motifs = {"filter0": counts, "filter1": np.zeros((4, 3)), "CEBPB_f1": hocomoco["CEBPB_f1"]}
    path = tmp_path / "out" / "filters.meme"
    write_meme(path, motifs, nsites={"filter1": 0})
    text = path.read_text()
    assert text.startswith("MEME version 4\n\nALPHABET= ACGT\n\nstrands: + -\n\n")
    assert "A 0.25 C 0.25 G 0.25 T 0.25" in text
    assert "MOTIF filter0\nletter-probability matrix: alength= 4 w= 3 nsites= 4 E= 0\n" in text
    assert "nsites= 0" in text and "MOTIF CEBPB_f1 CEBPB\n" in text
    assert [p.name for p in path.parent.iterdir()] == ["filters.meme"]  # no temporary file left
    back = read_meme(path)
    assert list(back) == list(motifs) and back["CEBPB_f1"].alt == "CEBPB" and back["filter0"].alt is None
    np.testing.assert_allclose(back["filter0"].probabilities, counts / 4, atol=1e-6)
    np.testing.assert_allclose(back["filter1"].probabilities, 0.25)  # no counts: uniform
    np.testing.assert_allclose(back["CEBPB_f1"].probabilities, hocomoco["CEBPB_f1"].probabilities, atol=1e-6)
    write_meme(path, {"filter0": counts}, pseudocount=1.0)
    np.testing.assert_allclose(read_meme(path)["filter0"].probabilities, (counts + 1) / 8, atol=1e-6)
    with pytest.raises(ValueError, match="one word"):
        write_meme(path, {"two words": counts})


# --- Tomtom -----------------------------------------------------------------------------------

def test_benjamini_hochberg():
    np.testing.assert_allclose(benjamini_hochberg(np.array([0.01, 0.04, 0.03, 0.5])),
                               [0.04, 0.04 * 4 / 3, 0.04 * 4 / 3, 0.5])
    np.testing.assert_allclose(benjamini_hochberg(np.array([0.9, 0.8])), [0.9, 0.9])


def test_tomtom_offsets_strands_and_per_query_q_values(hocomoco):
    target = hocomoco[PLANTED].probabilities
    queries = {"inside": target[:, 3:10], "reverse": target[::-1, ::-1][:, 1:9],
               "overhang": np.concatenate([np.full((4, 2), 0.25), target], axis=1)}
    every = tomtom_matches(queries, hocomoco)
    assert len(every) == 3 * 428 and list(every["query"].unique()) == list(queries)
    for _, rows in every.groupby("query"):
        np.testing.assert_allclose(rows["q_value"], benjamini_hochberg(rows["p_value"].to_numpy()))
        assert rows["p_value"].is_monotonic_increasing
    best = tomtom_matches(queries, hocomoco, n_best=1).set_index("query")
    assert (best["target"] == PLANTED).all() and (best["target_alt"] == "NRF1").all()
    assert (best["q_value"] < 1e-6).all()
    assert best.loc["inside", ["offset", "overlap", "strand"]].tolist() == [3, 7, "+"]
    assert best.loc["reverse", ["offset", "overlap", "strand"]].tolist() == [1, 8, "-"]
    assert best.loc["overhang", ["offset", "overlap", "strand"]].tolist() == [-2, 12, "+"]
    top = every.groupby("query", sort=False).head(1).reset_index(drop=True)
    np.testing.assert_allclose(best["q_value"].to_numpy(), top["q_value"].to_numpy())


def _planted_model(pwm: np.ndarray, kernel: int, start: int) -> nn.Sequential:
    """filter0: the motif's log-odds at kernel columns start..; filter1: blind to the sequence
    (bias only); filter2: never active; filters 3-5: small random weights."""
    model = nn.Sequential(OrderedDict(conv=nn.Conv1d(4, 6, kernel), bn=nn.BatchNorm1d(6), relu=nn.ReLU(),
                                      pool=nn.MaxPool1d(4), flat=nn.Flatten(), dense=nn.LazyLinear(1)))
    weights = np.zeros((6, 4, kernel), dtype=np.float32)
    weights[0, :, start:start + pwm.shape[1]] = np.log2((pwm + 0.01) / 0.25)
    weights[3:] = np.random.default_rng(7).normal(0, 0.3, (3, 4, kernel))
    with torch.no_grad():
        model.conv.weight.copy_(torch.as_tensor(weights))
        model.conv.bias.copy_(torch.tensor([0.0, 1.0, -1.0, 0.0, 0.0, 0.0]))
    return model


def test_a_planted_motif_is_recovered_and_matched(hocomoco):
    pwm = to_probabilities(hocomoco[PLANTED].probabilities)
    width, kernel, start = pwm.shape[1], 15, 2
    rng = np.random.default_rng(0)
    seq = rng.integers(0, 4, (300, 100))
    planted = np.flatnonzero(rng.random(len(seq)) < 0.5)
    for i in planted:
        at = rng.integers(0, seq.shape[1] - width)
        seq[i, at:at + width] = [rng.choice(4, p=column) for column in pwm.T]
    X = onehot(seq)
    model = _planted_model(pwm, kernel, start)

    found = filter_pfms(model, X, "relu", batch_size=64)
    assert found.width == kernel and found.n_sites[2] == 0
    assert len(planted) * 0.7 < found.n_sites[0] < len(planted) * 1.3
    recovered = to_probabilities(found.pfms[0])[:, start:start + width]
    np.testing.assert_array_equal(recovered.argmax(axis=0), pwm.argmax(axis=0))
    assert np.corrcoef(recovered.ravel(), pwm.ravel())[0, 1] > 0.95

    matches = match_filters(model, X, "relu", hocomoco, batch_size=64).set_index("filter")
    assert matches.index.tolist() == [f"filter{i}" for i in range(6)]
    best = matches.loc["filter0"]
    assert (best["target"], best["target_alt"], best["strand"]) == (PLANTED, "NRF1", "+")
    assert best["offset"] == -start and best["overlap"] == width and best["q_value"] < 1e-10
    assert best["control_rate"] <= 0.1 and best["n_controls"] == 20  # its shuffled copies do not match
    assert matches.loc["filter2", "n_sites"] == 0 and np.isnan(matches.loc["filter2", "q_value"])
    others = matches.loc[["filter1", "filter3", "filter4", "filter5"]]
    assert (others["target"] != PLANTED).all() and (others["q_value"] > 1e-3).all()


def test_tomtom_matches_reads_a_database_file_and_accepts_counts(tmp_path, hocomoco):
    path = tmp_path / "db.meme"
    write_meme(path, hocomoco)
    counts = {"q": 50 * hocomoco[PLANTED].probabilities}
    best = tomtom_matches(counts, path, n_best=3)
    assert len(best) == 3 and best.loc[0, "target"] == PLANTED and best.loc[0, "p_value"] < 1e-10
    empty = tomtom_matches({}, path)
    assert empty.empty and "q_value" in empty.columns
    assert isinstance(read_meme(path)[PLANTED], Motif)
