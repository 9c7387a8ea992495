"""Attributions (epizoo.interpret.attribute): every input, exact on models whose answer is known."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from torch import nn

from conftest import REPO
from epizoo.plugins.interpret.attributions import attribute

EXAMPLES = REPO / "examples"


class LinearTwoInputs(nn.Module):
    """f(seq, vec) = sum(seq * W) + vec . v, per task: integrated gradients from zero are x * weights."""

    def __init__(self, length=20, n_vec=3, tasks=2):
        super().__init__()
        g = torch.Generator().manual_seed(0)
        self.W = nn.Parameter(torch.randn(tasks, length, 4, generator=g))
        self.v = nn.Parameter(torch.randn(tasks, n_vec, generator=g))

    def forward(self, seq, expression):
        return torch.einsum("blc,tlc->bt", seq, self.W) + expression @ self.v.T


class ProfileHeads(nn.Module):
    """Two heads: a profile (batch, bins, tasks) and counts; each bin is one base's value."""

    def forward(self, seq):
        profile = seq[:, :, :2] * torch.tensor([1.0, 2.0])  # bins = positions, tasks = A, C channels
        return {"profile": profile, "counts": profile.sum(dim=1)}


def _one_hot(n, length, seed=0):
    rng = np.random.default_rng(seed)
    x = np.zeros((n, length, 4), np.float32)
    x[np.arange(n)[:, None], np.arange(length), rng.integers(0, 4, (n, length))] = 1
    return x


def test_integrated_gradients_of_a_two_input_linear_model_are_the_inputs_times_the_weights(device):
    model = LinearTwoInputs()
    seq, expression = _one_hot(5, 20), np.random.default_rng(1).normal(size=(5, 3)).astype(np.float32)
    got = attribute(model, {"seq": seq, "expression": expression}, "integrated_gradients", target=1, device=device)
    np.testing.assert_allclose(got["seq"], seq * model.W[1].detach().numpy(), atol=1e-5)
    np.testing.assert_allclose(got["expression"], expression * model.v[1].detach().numpy(), atol=1e-5)
    # completeness: the attributions sum to f(x) - f(0)
    with torch.no_grad():
        f = model(torch.from_numpy(seq), torch.from_numpy(expression))[:, 1]
    np.testing.assert_allclose(got["seq"].sum(dim=(1, 2)) + got["expression"].sum(dim=1), f, atol=1e-4)


class Product(nn.Module):
    """f(seq, vec) = sum(seq) * sum(vec): integrated gradients over vec alone, seq held, are vec * sum(seq)."""

    def forward(self, seq, expression):
        return (seq.sum(dim=(1, 2)) * expression.sum(dim=1))[:, None]


def test_explained_inputs_are_integrated_with_the_others_held_at_their_values():
    seq, expression = _one_hot(4, 10), np.random.default_rng(2).uniform(0, 2, size=(4, 3)).astype(np.float32)
    held = attribute(Product(), {"seq": seq, "expression": expression}, "integrated_gradients",
                     explain=["expression"])
    assert set(held) == {"expression"}
    np.testing.assert_allclose(held["expression"], expression * 10, rtol=1e-4)
    joint = attribute(Product(), {"seq": seq, "expression": expression}, "integrated_gradients")
    np.testing.assert_allclose(joint["expression"], expression * 5, rtol=1e-3)  # both scaled together: half
    with pytest.raises(ValueError, match="not among the float inputs"):
        attribute(Product(), {"seq": seq, "expression": expression}, explain=["rna"])


def test_gradients_of_one_hot_inputs_are_corrected_and_other_inputs_are_not():
    model = LinearTwoInputs()
    seq, expression = _one_hot(2, 20), np.ones((2, 3), np.float32)
    saliency = attribute(model, {"seq": seq, "expression": expression}, "saliency", target=0, device="cpu")
    W = model.W[0].detach().numpy()
    np.testing.assert_allclose(saliency["seq"][0], W - W.mean(axis=1, keepdims=True), atol=1e-6)
    np.testing.assert_allclose(saliency["expression"][0], model.v[0].detach().numpy(), atol=1e-6)
    times_input = attribute(model, {"seq": seq, "expression": expression}, "input_x_gradient", device="cpu")
    np.testing.assert_allclose(times_input["seq"], seq * (W - W.mean(axis=1, keepdims=True)), atol=1e-6)


def test_a_profile_head_is_explained_over_a_window_of_bins():
    seq = _one_hot(3, 10)
    whole = attribute(ProfileHeads(), seq, "saliency", output="profile", target=1, sequence_inputs={})
    window = attribute(ProfileHeads(), seq, "saliency", output="profile", target=1, window=(2, 5), sequence_inputs={})
    assert whole[:, :, 1].eq(2.0).all() and whole[:, :, [0, 2, 3]].eq(0).all()
    assert window[:, 2:5, 1].eq(2.0).all() and window[:, :2].eq(0).all() and window[:, 5:].eq(0).all()
    counts = attribute(ProfileHeads(), seq, "saliency", output="counts", target=0, sequence_inputs={})
    assert counts[:, :, 0].eq(1.0).all()
    with pytest.raises(ValueError, match="choose one with output="):
        attribute(ProfileHeads(), seq, "saliency")


def test_the_model_is_returned_in_its_mode_and_batches_do_not_change_the_result():
    model = LinearTwoInputs().train()
    seq, expression = _one_hot(7, 20), np.zeros((7, 3), np.float32)
    one = attribute(model, {"seq": seq, "expression": expression}, batch_size=7, device="cpu")
    split = attribute(model, {"seq": seq, "expression": expression}, batch_size=3, device="cpu")
    assert model.training
    torch.testing.assert_close(one["seq"], split["seq"])


def test_foxa1_attributions_peak_on_a_planted_foxa1_site_and_cover_the_dnase_track(mirror, shared_data):
    import epizoo
    from epizoo.dataloaders.motifs import read_meme

    network = epizoo.get_model("FactorNet/FOXA1/onePeak_DGF", with_dataloader=False).model
    foxa1 = next(m for m in read_meme(shared_data / "factornet" / "resources" / "HOCOMOCOv9.meme").values()
                 if m.name.startswith("FOXA1_"))
    consensus = foxa1.probabilities.argmax(axis=0)
    seq = _one_hot(8, 1002, seed=3)
    seq = np.concatenate([seq, np.full((8, 1002, 1), 0.05, np.float32)], axis=2)  # a weak, even DNase track
    middle = 501 - len(consensus) // 2
    seq[:, middle:middle + len(consensus), :4] = np.eye(4, dtype=np.float32)[consensus]
    scores = attribute(network, seq, "input_x_gradient", batch_size=4, device="cpu")
    assert scores.shape == (8, 1002, 5)
    per_base = scores[:, :, :4].sum(dim=2).abs()
    site = per_base[:, middle:middle + len(consensus)].mean()
    elsewhere = torch.cat([per_base[:, :middle - 50], per_base[:, middle + len(consensus) + 50:]], dim=1).mean()
    assert site > 10 * elsewhere, (float(site), float(elsewhere))
    assert torch.isfinite(scores[:, :, 4]).all() and scores[:, :, 4].abs().sum() > 0  # the DNase channel's own


# -- saturation mutagenesis --------------------------------------------------------------------
def _naive_ism(model, seq, positions):
    """One forward pass per mutant, identity included (the baseline the batched ISM must equal)."""
    first, stop = positions
    effects = np.zeros((len(seq), stop - first, 4), np.float32)
    with torch.no_grad():
        for i in range(len(seq)):
            reference = model(torch.from_numpy(seq[i:i + 1]))[0, 0]
            for p in range(first, stop):
                for base in range(4):
                    mutant = seq[i:i + 1].copy()
                    mutant[0, p, :4] = np.eye(4)[base]
                    effects[i, p - first, base] = model(torch.from_numpy(mutant))[0, 0] - reference
    return effects


def test_batched_ism_equals_naive_ism_and_skips_identities(mirror):
    import epizoo
    from epizoo.plugins.interpret.ism import saturation_mutagenesis

    network = epizoo.get_model("FactorNet/FOXA1/onePeak_DGF", with_dataloader=False).model
    seq = np.concatenate([_one_hot(2, 1002, seed=5), np.full((2, 1002, 1), 0.05, np.float32)], axis=2)
    calls = []
    hook = network.register_forward_hook(lambda module, args, out: calls.append(len(out)))
    try:
        effects = saturation_mutagenesis(network, seq, positions=(490, 510), batch_size=64, device="cpu")
    finally:
        hook.remove()
    rows = 2 * (1 + 20 * 3)  # per sequence its reference and 3 substitutions per position, no identities
    assert len(calls) == -(-rows // 64) and max(calls) - min(calls) <= 1 and sum(calls) == rows  # even, unpadded
    np.testing.assert_allclose(effects, _naive_ism(network.eval(), seq, (490, 510)), rtol=0, atol=1e-6)
    present = seq[:, 490:510, :4] == 1
    assert (effects[present] == 0).all() and (effects[~present] != 0).mean() > 0.9


def test_ism_of_a_linear_model_is_the_weight_difference():
    from epizoo.plugins.interpret.ism import saturation_mutagenesis

    model = LinearTwoInputs(length=12)
    seq, expression = _one_hot(3, 12), np.zeros((3, 3), np.float32)
    effects = saturation_mutagenesis(model, {"seq": seq, "expression": expression}, target=1, device="cpu")
    W = model.W[1].detach().numpy()
    expected = W[None] - (seq * W[None]).sum(axis=2, keepdims=True)  # W[p, new base] - W[p, old base]
    np.testing.assert_allclose(effects, expected, atol=1e-5)


# -- on a zoo entry's regions, and the command line ------------------------------------------
def test_epizoo_interpret_explains_an_entrys_regions_through_its_dataloader(mirror, tmp_path):
    from epizoo.cli import main
    from epizoo.plugins.interpret.regions import attribute_regions

    out = tmp_path / "attributions.npz"
    args = ["interpret", "FactorNet/FOXA1/onePeak_DGF", "--regions", str(EXAMPLES / "regions.bed"),
            "--fasta", str(EXAMPLES / "genome.fa"), "--dataloader-args", json.dumps({"dnase_file": str(EXAMPLES / "dnase.bw")}),
            "--target", "FOXA1", "--out", str(out)]
    assert main(["-q", *args]) == 0
    saved = np.load(out)
    assert saved["seq"].shape == (10, 1002, 5) and saved["start"][0] == (136018 + 136069) // 2 - 501
    direct = attribute_regions("FactorNet/FOXA1/onePeak_DGF", EXAMPLES / "regions.bed", EXAMPLES / "genome.fa",
                               {"dnase_file": str(EXAMPLES / "dnase.bw")}, batch_size=4)
    np.testing.assert_allclose(saved["seq"], direct["seq"], atol=1e-6)
    with pytest.raises(ValueError, match="has no task 'FOXA2'; its tasks are FOXA1"):
        attribute_regions("FactorNet/FOXA1/onePeak_DGF", EXAMPLES / "regions.bed", EXAMPLES / "genome.fa",
                          {"dnase_file": str(EXAMPLES / "dnase.bw")}, target="FOXA2")


def test_channels_first_and_vector_inputs_of_entries(mirror):
    from epizoo.plugins.interpret.regions import attribute_regions

    tf_binding = attribute_regions("TFTransfer/JUND_finetuned", EXAMPLES / "dhs_regions.bed", EXAMPLES / "genome.fa",
                                   method="saliency", device="cpu")
    assert tf_binding["seq"].shape == (113, 4, 200)
    np.testing.assert_allclose(tf_binding["seq"].sum(axis=1), 0, atol=1e-6)  # corrected along the channels axis
    meta = attribute_regions("FactorNet/GABPA/metaGENCODE_RNAseq_Unique35_DGF", EXAMPLES / "regions.bed",
                             EXAMPLES / "genome.fa", {"dnase_file": str(EXAMPLES / "dnase.bw"),
                                                      "mappability_file": str(EXAMPLES / "mappability.bw"),
                                                      "cell_line": "HepG2"}, method="integrated_gradients")
    assert meta["seq"].shape == (10, 1002, 6) and meta["meta_features"].shape == (10, 14)
    assert np.isfinite(meta["meta_features"]).all() and np.abs(meta["meta_features"]).sum() > 0


def test_an_entry_is_explained_by_name_with_its_declared_task_and_layout(mirror):
    import epizoo

    network = epizoo.get_model("TFTransfer/JUND_finetuned", with_dataloader=False).model
    seq = _one_hot(3, 200).transpose(0, 2, 1).copy()  # the entry's channels-first layout
    by_name = attribute("TFTransfer/JUND_finetuned", seq, "saliency", target="JUND", device="cpu")
    torch.testing.assert_close(by_name, attribute(network, seq, "saliency", sequence_inputs=1, device="cpu"))
    np.testing.assert_allclose(by_name.sum(dim=1), 0, atol=1e-6)  # corrected along the declared channel axis
    with pytest.raises(ValueError, match="has no task 'MAX'"):
        attribute("TFTransfer/JUND_finetuned", seq, target="MAX")


def test_positional_args_are_attributed_as_tangermeme_passes_them():
    class Positional(LinearTwoInputs):
        def forward(self, seq, expression):  # called positionally
            return super().forward(seq, expression)

    model = Positional()
    seq, expression = _one_hot(4, 20), np.random.default_rng(3).normal(size=(4, 3)).astype(np.float32)
    got = attribute(model, seq, "integrated_gradients", args=(expression,), target=1, device="cpu")
    named = attribute(model, {"seq": seq, "expression": expression}, "integrated_gradients", target=1, device="cpu")
    assert isinstance(got, tuple) and len(got) == 2
    torch.testing.assert_close(got[0], named["seq"])
    torch.testing.assert_close(got[1], named["expression"])


def test_bf16_autocast_attributions_follow_the_float32_ones():
    model = nn.Sequential(nn.Flatten(), nn.Linear(80, 16), nn.ReLU(), nn.Linear(16, 2))
    seq = _one_hot(6, 20)
    exact = attribute(model, seq, "input_x_gradient", device="cpu")
    bf16 = attribute(model, seq, "input_x_gradient", dtype="bf16", device="cpu")
    assert bf16.dtype == torch.float32 and not torch.equal(bf16, exact)  # it did run in bf16
    assert np.corrcoef(bf16.flatten(), exact.flatten())[0, 1] > 0.99


def test_ism_of_a_channels_first_entry_through_its_dataloader_and_the_command(mirror, tmp_path):
    import epizoo
    from epizoo.cli import main
    from epizoo.plugins.interpret.regions import attribute_regions, load_arrays

    arrays = attribute_regions("TFTransfer/JUND_finetuned", EXAMPLES / "dhs_regions.bed", EXAMPLES / "genome.fa",
                               method="ism", positions=(90, 110), batch_size=128, device="cpu")
    effects, seq = arrays["ism.seq"], arrays["input.seq"]
    assert effects.shape == (113, 20, 4) and seq.shape == (113, 4, 200)
    network = epizoo.get_model("TFTransfer/JUND_finetuned", with_dataloader=False).model
    mutant = seq[:1].copy()
    mutant[0, :, 95] = np.eye(4, dtype=np.float32)[(seq[0, :, 95].argmax() + 1) % 4]  # another base
    with torch.no_grad():
        expected = network(torch.from_numpy(mutant))[0, 0] - network(torch.from_numpy(seq[:1]))[0, 0]
    base = int(mutant[0, :, 95].argmax())
    assert effects[0, 5, base] == pytest.approx(float(expected), abs=1e-6)
    assert (effects[0][seq[0, :, 90:110].T == 1] == 0).all()  # identities
    out, figure = tmp_path / "ism.h5", tmp_path / "ism.svg"
    assert main(["-q", "interpret", "TFTransfer/JUND_finetuned", "--regions", str(EXAMPLES / "dhs_regions.bed"),
                 "--fasta", str(EXAMPLES / "genome.fa"), "--method", "ism", "--positions", "90:110",
                 "--out", str(out), "--plot", str(figure), "--plot-width", "20"]) == 0
    np.testing.assert_allclose(load_arrays(out)["ism.seq"], effects, atol=1e-6)
    assert figure.read_bytes().startswith(b"<?xml")


def test_epizoo_interpret_writes_a_report_of_its_strongest_regions(mirror, tmp_path):
    from epizoo.cli import main

    report = tmp_path / "report"
    assert main(["-q", "interpret", "FactorNet/FOXA1/onePeak_DGF", "--regions", str(EXAMPLES / "regions.bed"),
                 "--fasta", str(EXAMPLES / "genome.fa"), "--dataloader-args",
                 json.dumps({"dnase_file": str(EXAMPLES / "dnase.bw")}), "--out", str(tmp_path / "a.npz"),
                 "--report", str(report), "--plot-width", "40"]) == 0
    page = (report / "report.html").read_text()
    assert page.count('<img class="region"') == 5 and all((report / "regions" / f"{i}.png").is_file() for i in range(1, 6))
    assert "dnase.bw (sha256 " in page and str(tmp_path) not in page and str(EXAMPLES) not in page


def test_index_inputs_are_explained_through_their_embeddings():
    from epizoo.plugins.interpret.attributions import attribute_layer

    class Factors(nn.Module):  # Avocado-shaped: cell type and position embeddings -> a linear read-out
        def __init__(self):
            super().__init__()
            torch.manual_seed(0)
            self.celltype_embedding, self.genome_embedding = nn.Embedding(5, 3), nn.Embedding(100, 4)
            self.out = nn.Linear(7, 1)

        def forward(self, cell_type, position):
            return self.out(torch.cat([self.celltype_embedding(cell_type), self.genome_embedding(position)], 1))

    model = Factors()
    X = {"cell_type": np.array([0, 3, 4]), "position": np.array([7, 50, 99])}
    factors = attribute_layer(model, X, "celltype_embedding", batch_size=2, device="cpu")
    embedded = model.celltype_embedding(torch.as_tensor(X["cell_type"])).detach()
    torch.testing.assert_close(factors, embedded * model.out.weight[0, :3].detach())  # activation x weight
    gradient = attribute_layer(model, X, "genome_embedding", "saliency", device="cpu")
    torch.testing.assert_close(gradient, model.out.weight[0, 3:].detach().expand(3, 4))
    with pytest.raises(ValueError, match="all indices.*attribute_layer"):
        attribute(model, X, device="cpu")  # indices have no attributions of their own
    with pytest.raises(ValueError, match="no layer 'assay_embedding'"):
        attribute_layer(model, X, "assay_embedding")


def test_a_report_never_replaces_a_folder_of_other_files(tmp_path):
    from epizoo.cli import main

    keep = tmp_path / "results" / "att.npz"
    keep.parent.mkdir()
    keep.write_bytes(b"mine")
    args = ["-q", "interpret", "TFTransfer/JUND_finetuned", "--regions", str(EXAMPLES / "dhs_regions.bed"),
            "--fasta", str(EXAMPLES / "genome.fa")]
    with pytest.raises(SystemExit, match="would delete --out"):
        main([*args, "--out", str(keep), "--report", str(keep.parent)])
    with pytest.raises(SystemExit, match="not an epizoo report"):
        main([*args, "--out", str(tmp_path / "other.npz"), "--report", str(keep.parent)])
    assert keep.read_bytes() == b"mine"
