"""The model contract with toy entries: profile, two-headed, vector-input and index-input models.

Each toy entry is a real Kipoi entry folder (model.yaml with declared inputs and outputs,
dataloader.yaml, safetensors weights, the architecture in its own ``architecture.py``), built in a
temporary folder from `toy_models`; its expected scores are computed by hand.
"""
from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import yaml

import epizoo
import toy_models
from conftest import REPO
from epizoo import predict
from epizoo.check import check_entry
from epizoo.contract import InputSpec, reverse_complement_inputs
from epizoo.dataloaders.genome import Genome
from epizoo.dataloaders.onehot import one_hot_encode as one_hot
from epizoo.weights import save_safetensors

EXAMPLES = REPO / "examples"
FASTA = EXAMPLES / "genome.fa"
INFO = {"authors": [{"name": "epizoo tests"}], "doc": "A toy model of the contract tests.", "license": "MIT",
        "cite_as": "https://example.org/toy", "trained_on": "nothing: its weights are set by hand",
        "genome": "synthetic", "weights_origin": "trained on the synthetic benchmark"}
SEQ = {"shape": "(100, 4)", "doc": "one-hot window", "kind": "sequence", "alphabet": "ACGT",
       "axes": ["length", "channels"], "n_value": 0}
PROFILE = {"shape": "(10, 2)", "axes": ["bins", "tasks"], "bin_size": 10, "kind": "coverage", "tasks": ["A", "T"],
           "doc": "1 + base counts per 10-bp bin"}


def write_entry(folder: Path, architecture: str, inputs: dict, targets: dict, loader: str, loader_args: dict,
                config: dict | None = None) -> Path:
    """A toy entry folder; ``loader_args`` are ``{name: example}``."""
    folder.mkdir(parents=True)
    shutil.copyfile(Path(toy_models.__file__), folder / "architecture.py")
    module = getattr(toy_models, architecture)(**(config or {}))
    sha256 = save_safetensors(folder / "weights.safetensors", module.state_dict(), {"config": config or {}})
    model = {"defined_as": "epizoo.kipoi_model.ZooModel",
             "args": {"architecture": f"architecture.py::{architecture}",
                      "weights": {"file": "weights.safetensors", "sha256": sha256}},
             "info": INFO, "default_dataloader": ".", "dependencies": {"pip": ["epizoo"]},
             "schema": {"inputs": inputs, "targets": targets}}
    metadata = ({"row": {"type": "int", "doc": "row of the TSV"}} if loader == "IndexRows" else
                {"ranges": {"type": "GenomicRanges", "doc": "the window"}, "padded": {"type": "int", "doc": "N-padded"}})
    dataloader = {"type": "Dataset", "defined_as": f"architecture.py::{loader}",
                  "args": {name: {"doc": name, "example": os.path.relpath(example, folder)}  # no machine paths
                           for name, example in loader_args.items()},
                  "info": {"authors": [{"name": "epizoo tests"}], "doc": "toy inputs"},
                  "dependencies": {"pip": ["epizoo"]}, "output_schema": {"inputs": inputs, "metadata": metadata}}
    (folder / "model.yaml").write_text(yaml.safe_dump(model, sort_keys=False))
    (folder / "dataloader.yaml").write_text(yaml.safe_dump(dataloader, sort_keys=False))
    return folder


WINDOWS = ("ToyWindows", {"intervals_file": EXAMPLES / "regions.bed", "fasta_file": FASTA})


@pytest.fixture(scope="module")
def entries(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("toy_entries")
    expression = root / "expression.txt"
    expression.write_text("1.5\tTF1\n-0.5\tTF2\n")
    rows = root / "rows.tsv"
    rows.write_text("cell_type\tassay\tposition\n0\t1\t5\n2\t3\t40000\n")
    return {
        "last_bin": write_entry(root / "last_bin", "LastBinProfile", {"seq": SEQ}, PROFILE, *WINDOWS),
        "profile": write_entry(root / "profile", "BaseCountProfile", {"seq": SEQ}, PROFILE, *WINDOWS),
        "tasks_first": write_entry(root / "tasks_first", "BaseCountProfile", {"seq": SEQ},
                                   {"shape": "(2, 10)", "axes": ["tasks", "bins"], "bin_size": 10, "kind": "coverage",
                                    "column_labels": ["A", "T"]}, *WINDOWS, config={"tasks_first": True}),
        "two_heads": write_entry(root / "two_heads", "ProfileAndCounts", {"seq": SEQ},
                                 {"profile": PROFILE, "counts": {"shape": "(2,)", "axes": ["tasks"], "kind": "log_counts",
                                                                 "column_labels": ["A", "T"]}}, *WINDOWS),
        "expression": write_entry(root / "expression", "ExpressionModel",
                                  {"seq": SEQ, "expression": {"shape": "(2,)", "kind": "per_sample"}},
                                  {"shape": "(1,)", "axes": ["tasks"], "kind": "probability", "column_labels": ["bound"]},
                                  "ToyExpressionWindows", {**WINDOWS[1], "expression_file": expression}),
        "track": write_entry(root / "track", "TrackModel",
                             {"seq": {**SEQ, "shape": "(100, 5)", "tracks": ["DGF"]}},
                             {"shape": "(1,)", "axes": ["tasks"], "kind": "value", "column_labels": ["signal"]},
                             "ToyTrackWindows", {**WINDOWS[1], "dnase_file": EXAMPLES / "dnase.bw"}),
        "index": write_entry(root / "index", "IndexModel",
                             {name: {"shape": "()", "kind": "index"} for name in ("cell_type", "assay", "position")},
                             {"shape": "(1,)", "axes": ["tasks"], "kind": "value", "column_labels": ["signal"]},
                             "IndexRows", {"rows_file": rows}),
    }


# -- variant effects on hand-checked toys --------------------------------------------------------
def snv_vcf(path: Path, positions: list[int], alt: str = "A") -> tuple[Path, list[str]]:
    """SNVs to ``alt`` at positions whose reference base is neither A nor T (so C or G)."""
    genome = Genome(FASTA)
    refs = [genome.sequence("chr22", p - 1, p) for p in positions]
    assert all(r in "CG" for r in refs), refs
    path.write_text("##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
                    + "".join(f"chr22\t{p}\tv{p}\t{r}\t{alt}\t.\t.\t.\n" for p, r in zip(positions, refs)))
    return path, refs


def cg_positions(n: int, start: int = 20_000) -> list[int]:
    sequence = Genome(FASTA).sequence("chr22", start, start + 20 * n * 50)
    return [start + i + 1 for i in range(0, len(sequence), 997) if sequence[i] in "CG"][:n]


def score(entry: Path, vcf: Path, **kwargs) -> pd.DataFrame:
    from epizoo.veff import score_variants

    return score_variants(str(entry), vcf, FASTA, **kwargs)


def test_an_effect_in_the_last_bin_of_a_profile_is_scored(entries, tmp_path):
    positions = cg_positions(5)
    vcf, _ = snv_vcf(tmp_path / "v.vcf", positions)
    frame = score(entries["last_bin"], vcf, scores=["total_diff", "max_abs_diff"])
    name = str(entries["last_bin"])
    assert frame.shape[1] == 5 + 4
    for task, effect in (("A", 1.0), ("T", 2.0)):  # one more A in the window: +1 x (task + 1)
        np.testing.assert_allclose(frame[f"{name}/output/{task}/total_diff"], effect)
        np.testing.assert_allclose(frame[f"{name}/output/{task}/max_abs_diff"], effect)
    # what the old (batch, -1)[:, task] path scored: the first values, i.e. bin 0, which never moves
    ref = Genome(FASTA).sequence("chr22", positions[0] - 50, positions[0] + 50)
    alt = ref[:49] + "A" + ref[50:]
    flat = predict(toy_models.LastBinProfile(), np.stack([one_hot(ref), one_hot(alt)]), device="cpu").reshape(2, -1)
    assert torch.equal(flat[0, :2], flat[1, :2]) and not torch.equal(flat[0], flat[1])


def test_reverse_complement_merging_flips_the_bins_of_a_strand_asymmetric_profile(entries, tmp_path):
    vcf, _ = snv_vcf(tmp_path / "v.vcf", cg_positions(4))
    name = str(entries["profile"])
    forward = score(entries["profile"], vcf, scores=["total_diff"], profile_window=1)
    merged = score(entries["profile"], vcf, scores=["total_diff"], profile_window=1, rc_merging="mean")
    # forward strand: the new A is in the variant's bin; on the reverse strand it is a new T in
    # the mirrored bin, which the flip brings back under the variant
    np.testing.assert_array_equal(forward[f"{name}/output/A/total_diff"], 1.0)
    np.testing.assert_array_equal(forward[f"{name}/output/T/total_diff"], 0.0)
    np.testing.assert_array_equal(merged[f"{name}/output/A/total_diff"], 0.5)
    np.testing.assert_array_equal(merged[f"{name}/output/T/total_diff"], 0.5)


def test_reverse_complement_views_reverse_the_track_and_complement_the_bases(entries, tmp_path):
    import pyBigWig

    dnase = pyBigWig.open(str(EXAMPLES / "dnase.bw"))
    genome = Genome(FASTA)

    def window(pos):
        sequence = genome.sequence("chr22", pos - 50, pos + 50)
        return sequence, np.nan_to_num(dnase.values("chr22", pos - 50, pos + 50, numpy=True))

    def value(sequence, track):  # TrackModel by hand
        return track[:50].sum() + 0.1 * sequence[:50].count("A")

    # variants whose window's DNase differs between its halves (so a wrong flip shows)
    positions = [p for p in cg_positions(200) if window(p)[1][:50].sum() != window(p)[1][50:].sum()][:4]
    assert len(positions) == 4
    vcf, _ = snv_vcf(tmp_path / "v.vcf", positions)
    frame = score(entries["track"], vcf, dataloader_args={"dnase_file": str(EXAMPLES / "dnase.bw")},
                  scores=["ref"], rc_merging="mean")
    complement = str.maketrans("ACGT", "TGCA")
    for row, pos in enumerate(positions):
        sequence, track = window(pos)
        reverse = value(sequence.translate(complement)[::-1], track[::-1])
        np.testing.assert_allclose(frame.loc[row, f"{entries['track']}/output/signal/ref"],
                                   (value(sequence, track) + reverse) / 2, rtol=1e-5)


def test_both_axis_orders_of_a_profile_give_the_same_scores(entries, tmp_path):
    vcf, _ = snv_vcf(tmp_path / "v.vcf", cg_positions(4))
    kwargs = dict(scores=["total_diff", "jsd", "log2fc"], rc_merging="max", shifts=2, max_shift=20)
    ours, theirs = score(entries["profile"], vcf, **kwargs), score(entries["tasks_first"], vcf, **kwargs)
    np.testing.assert_allclose(ours.iloc[:, 5:].to_numpy(), theirs.iloc[:, 5:].to_numpy(), atol=1e-6)
    assert (ours.iloc[:, 5:].abs().to_numpy() > 0).any()


def test_shift_averaging_equals_the_mean_of_separately_computed_shifted_scores(entries, tmp_path):
    positions = cg_positions(3)
    vcf, refs = snv_vcf(tmp_path / "v.vcf", positions)
    name = str(entries["profile"])
    frame = score(entries["profile"], vcf, scores=["jsd", "log2fc"], shifts=2, max_shift=10)
    genome = Genome(FASTA)
    model = toy_models.BaseCountProfile().eval()
    for row, pos in enumerate(positions):
        jsd, log2fc = [], []
        for shift in (0, 10, -10):  # views.shift_offsets(2, 10)
            start = pos - 50 + shift  # the 100-bp window centred on the variant, moved
            ref = genome.sequence("chr22", start, start + 100)
            alt = ref[:49 - shift] + "A" + ref[50 - shift:]
            with torch.no_grad():
                p_ref, p_alt = (model(torch.from_numpy(one_hot(s))[None])[0].T.double().numpy() for s in (ref, alt))
            jsd.append(_jsd(p_ref / p_ref.sum(1, keepdims=True), p_alt / p_alt.sum(1, keepdims=True)))
            log2fc.append(np.log2((p_alt.sum(1) + 1) / (p_ref.sum(1) + 1)))
        for label, expected in (("jsd", jsd), ("log2fc", log2fc)):
            got = frame.loc[row, [f"{name}/output/{t}/{label}" for t in "AT"]].to_numpy(dtype=float)
            np.testing.assert_allclose(got, np.mean(expected, 0), atol=1e-6)


def test_gophers_scores_average_the_coverage_over_shifts_before_the_ratio(entries, tmp_path):
    positions = cg_positions(3)
    vcf, _ = snv_vcf(tmp_path / "v.vcf", positions)
    name = str(entries["profile"])
    frame = score(entries["profile"], vcf, scores=["gopher_log2fc", "gopher_mean_log2fc"], shifts=2, max_shift=10)
    assert list(frame.columns[5:]) == [f"{name}/output/all/gopher_log2fc", f"{name}/output/all/gopher_mean_log2fc"]
    genome, model = Genome(FASTA), toy_models.BaseCountProfile().eval()
    for row, pos in enumerate(positions):
        totals = {"ref": [], "alt": []}
        for shift in (0, 10, -10):
            start = pos - 50 + shift
            ref = genome.sequence("chr22", start, start + 100)
            alt = ref[:49 - shift] + "A" + ref[50 - shift:]
            with torch.no_grad():
                for allele, seq in (("ref", ref), ("alt", alt)):
                    totals[allele].append(model(torch.from_numpy(one_hot(seq))[None])[0].double().numpy().sum(0))
        ref_total, alt_total = np.mean(totals["ref"], 0), np.mean(totals["alt"], 0)  # (tasks,) shift means
        np.testing.assert_allclose(frame.loc[row, f"{name}/output/all/gopher_log2fc"],
                                   np.log2(alt_total.mean() / ref_total.mean()), atol=1e-6)
        np.testing.assert_allclose(frame.loc[row, f"{name}/output/all/gopher_mean_log2fc"],
                                   np.mean(np.log2(alt_total / ref_total)), atol=1e-6)


def test_the_active_allele_quantile_ranks_each_allele_among_the_background_totals(entries, tmp_path):
    positions = cg_positions(4)
    vcf, _ = snv_vcf(tmp_path / "v.vcf", positions)
    regions = tmp_path / "background.bed"  # the examples' regions, and the variants' own windows (ties)
    regions.write_text((EXAMPLES / "regions.bed").read_text() + "".join(f"chr22\t{p - 1}\t{p}\n" for p in positions))
    name = str(entries["profile"])
    frame = score(entries["profile"], vcf, scores=["active_allele_quantile"], background=regions)
    genome = Genome(FASTA)
    bed = pd.read_csv(regions, sep="\t", header=None)
    mids = (bed[1] + bed[2]) // 2
    # BaseCountProfile: task A's total over its 10 bins is 10 + the window's A count
    background = np.sort([10 + genome.sequence("chr22", m - 49, m + 51).count("A") for m in mids])
    for row, pos in enumerate(positions):
        ref_total = 10 + genome.sequence("chr22", pos - 50, pos + 50).count("A")
        expected = max(np.sum(background <= ref_total), np.sum(background <= ref_total + 1)) / len(background)
        assert frame.loc[row, f"{name}/output/A/active_allele_quantile"] == pytest.approx(expected)
    with pytest.raises(ValueError, match="background set"):
        score(entries["profile"], vcf, scores=["active_allele_quantile"])
    from epizoo.veff.scores import SCORES
    bound = dataclasses.replace(SCORES["active_allele_quantile"], background=np.array([[1.0, 2.0, 2.0, 3.0]]))
    np.testing.assert_allclose(bound(np.array([[2.0], [0.5]]), np.array([[1.0], [3.5]]))[:, 0], [0.75, 1.0])


def _jsd(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    from scipy.spatial.distance import jensenshannon

    return np.array([jensenshannon(a, b, base=2) for a, b in zip(p, q)])


def test_both_heads_of_a_profile_and_counts_model_are_scored(entries, tmp_path):
    positions = cg_positions(3)
    vcf, _ = snv_vcf(tmp_path / "v.vcf", positions)
    frame = score(entries["two_heads"], vcf, scores=["diff", "total_diff"])
    name = str(entries["two_heads"])
    assert list(frame.columns[5:]) == [f"{name}/profile/A/total_diff", f"{name}/profile/T/total_diff",
                                       f"{name}/counts/A/diff", f"{name}/counts/T/diff"]
    np.testing.assert_array_equal(frame[f"{name}/profile/A/total_diff"], 1.0)
    np.testing.assert_array_equal(frame[f"{name}/profile/T/total_diff"], 0.0)
    for row, pos in enumerate(positions):  # counts = log(10 bins x 1 + the window's A count)
        total = 10 + Genome(FASTA).sequence("chr22", pos - 50, pos + 50).count("A")
        np.testing.assert_allclose(frame.loc[row, f"{name}/counts/A/diff"], np.log(total + 1) - np.log(total), atol=2e-6)
    np.testing.assert_allclose(frame[f"{name}/counts/T/diff"], 0.0, atol=1e-7)


@pytest.mark.parametrize("window, expected", [(1, (499, 500)), (2, (499, 501)), (10, (495, 505)), (100, (450, 550))])
def test_a_bins_window_covers_exactly_its_bp_around_the_variant(window, expected):
    from epizoo.contract import OutputSpec
    from epizoo.veff.engine import profile_bins

    base_pair = OutputSpec("p", ("bins", "tasks"), "coverage", ("a",), (1000, 1), 1)  # 1-bp bins, no crop
    bins = profile_bins(base_pair, 1000, 0, window)
    assert (bins.start, bins.stop) == expected  # the variant's base is 499
    cropped = OutputSpec("p", ("bins", "tasks"), "coverage", ("a",), (8, 1), 100)  # 800 bp in a 1,000-bp window
    assert profile_bins(cropped, 1000, 0, 1) == slice(3, 4)  # base 499 is base 399 of the profile: bin 3
    assert profile_bins(cropped, 1000, 300, 1) == slice(0, 1)  # shifted: base 99 of the profile
    with pytest.raises(ValueError, match="lies outside the profile"):
        profile_bins(cropped, 1000, 450, 1)
    with pytest.raises(ValueError, match="at least 1 bp"):
        profile_bins(base_pair, 1000, 0, 0)


def test_outputs_of_another_shape_than_declared_stop_scoring_naming_the_field(entries, tmp_path):
    wrong = tmp_path / "wrong"
    shutil.copytree(entries["profile"], wrong)
    model = yaml.safe_load((wrong / "model.yaml").read_text())
    model["schema"]["targets"].update(shape="(2, 10)", axes=["tasks", "bins"])  # the network gives (10, 2)
    (wrong / "model.yaml").write_text(yaml.safe_dump(model, sort_keys=False))
    vcf, _ = snv_vcf(tmp_path / "v.vcf", cg_positions(2))
    with pytest.raises(ValueError, match=r"wrong: schema.targets.shape: declared \(2, 10\).*gives \(10, 2\)"):
        score(wrong, vcf, scores=["total_diff"])


def test_a_score_that_applies_to_no_output_is_an_error_naming_both(entries, tmp_path):
    vcf, _ = snv_vcf(tmp_path / "v.vcf", cg_positions(1))
    with pytest.raises(ValueError, match=r"score 'logit' does not apply to .*profile.*coverage"):
        score(entries["profile"], vcf, scores=["logit"])
    with pytest.raises(ValueError, match=r"score 'jsd' does not apply to .*output \(per-task, probability\)"):
        score(entries["expression"], vcf, scores=["jsd"],
              dataloader_args={"expression_file": str(entries["expression"].parent / "expression.txt")})


def test_the_vector_input_model_scores_with_its_reference_vector(entries, tmp_path):
    positions = cg_positions(4)
    vcf, _ = snv_vcf(tmp_path / "v.vcf", positions)
    expression = entries["expression"].parent / "expression.txt"
    frame = score(entries["expression"], vcf, dataloader_args={"expression_file": str(expression)},
                  scores=["ref", "alt"])
    genome = Genome(FASTA)
    for row, pos in enumerate(positions):
        a_count = genome.sequence("chr22", pos - 5, pos + 5).count("A")  # the window's centre 10 bp
        name = str(entries["expression"])
        expected_ref = 1 / (1 + np.exp(-(1.0 + a_count - 5)))
        expected_alt = 1 / (1 + np.exp(-(1.0 + a_count + 1 - 5)))
        np.testing.assert_allclose(frame.loc[row, f"{name}/output/bound/ref"], expected_ref, rtol=1e-6)
        np.testing.assert_allclose(frame.loc[row, f"{name}/output/bound/alt"], expected_alt, rtol=1e-6)


def test_variant_effects_refuse_the_index_model_saying_why(entries, tmp_path):
    vcf, _ = snv_vcf(tmp_path / "v.vcf", cg_positions(1))
    with pytest.raises(ValueError, match=r"takes no sequence input \(its inputs: cell_type \(index\), assay "
                                         r"\(index\), position \(index\)\)"):
        score(entries["index"], vcf)


def test_the_kipoi_form_reports_every_score_that_applies_to_each_head(entries, tmp_path):
    from epizoo.veff.kipoi_classes import VariantDataset, VariantEffectModel

    vcf, _ = snv_vcf(tmp_path / "v.vcf", cg_positions(3))
    entry = str(entries["two_heads"])
    batch = next(VariantDataset(vcf, FASTA, entry).batch_iter(batch_size=8))
    out = VariantEffectModel(entry).predict_on_batch(batch["inputs"])
    assert sorted(out) == ["counts", "profile", "variant"]
    assert sorted(out["profile"]["A"]) == ["jsd", "log2fc", "max_abs_diff", "total_alt", "total_diff", "total_ref"]
    assert sorted(out["counts"]["T"]) == ["alt", "diff", "ref"]  # log counts: no logit scores
    np.testing.assert_array_equal(out["profile"]["A"]["total_diff"], 1.0)


# -- epizoo check --------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["last_bin", "profile", "tasks_first", "two_heads", "expression", "track", "index"])
def test_every_toy_entry_passes_epizoo_check(entries, name):
    report = check_entry(entries[name])
    assert report.ok, report.lines()
    assert any("declared outputs" in line for line in report.passed)


def test_outputs_that_do_not_match_the_declaration_fail_check_naming_the_field(entries, tmp_path):
    bad = tmp_path / "bad"
    shutil.copytree(entries["two_heads"], bad)
    model = yaml.safe_load((bad / "model.yaml").read_text())
    model["schema"]["targets"]["profile"]["shape"] = "(10, 3)"
    model["schema"]["targets"]["profile"]["tasks"] = ["A", "T", "G"]
    model["schema"]["targets"]["counts"]["kind"] = "probability"
    (bad / "model.yaml").write_text(yaml.safe_dump(model, sort_keys=False))
    report = check_entry(bad, kipoi_test=False)
    assert not report.ok
    text = "\n".join(report.problems)
    assert f"{bad}: schema.targets.profile.shape: declared (10, 3)" in text and "gives (10, 2)" in text
    assert f"{bad}: schema.targets.counts.kind: declared probability" in text


def test_undeclared_inputs_fail_check(entries, tmp_path):
    bare = tmp_path / "bare"
    shutil.copytree(entries["expression"], bare)
    model = yaml.safe_load((bare / "model.yaml").read_text())
    del model["schema"]["inputs"]["expression"]["kind"]
    (bare / "model.yaml").write_text(yaml.safe_dump(model, sort_keys=False))
    report = check_entry(bare, kipoi_test=False)
    assert any("declare the kind of schema.inputs.expression" in p for p in report.problems), report.lines()


# -- kipoi predict and epizoo.predict on non-sequence inputs -------------------------------------
@pytest.mark.parametrize("name", ["expression", "index"])
def test_kipoi_predict_runs_the_vector_and_index_models(entries, tmp_path, name):
    description = yaml.safe_load((entries[name] / "dataloader.yaml").read_text())
    args = {key: str(entries[name] / spec["example"]) for key, spec in description["args"].items()}
    out = tmp_path / "preds.tsv"
    result = subprocess.run([sys.executable, "-m", "kipoi", "predict", entries[name].name, "--source", "dir",
                             "--dataloader_args", json.dumps(args), "-o", str(out)],
                            cwd=entries[name].parent, capture_output=True, text=True)
    assert result.returncode == 0 and "not compatible" not in result.stderr, result.stderr[-3000:]
    predictions = pd.read_csv(out, sep="\t")
    if name == "index":  # 10 * cell_type + assay + position / 1000
        np.testing.assert_allclose(predictions["preds/0"], [1.005, 63.0], rtol=1e-6)
    else:
        n_regions = len((EXAMPLES / "regions.bed").read_text().splitlines())
        assert predictions["preds/0"].between(0, 1).all() and len(predictions) == n_regions


def test_predict_keeps_index_inputs_integer_and_casts_one_hot_bytes():
    model = toy_models.IndexModel()
    out = predict(model, {"cell_type": np.array([1, 2]), "assay": np.array([0, 3]), "position": np.array([0, 2000])},
                  batch_size=4, device="cpu")
    np.testing.assert_allclose(out[:, 0].numpy(), [10.0, 25.0])
    seen = {}

    class Recorder(toy_models.BaseCountProfile):
        def forward(self, seq):
            seen["dtype"] = seq.dtype
            return super().forward(seq)

    onehot = np.eye(4, dtype=np.uint8)[np.random.default_rng(0).integers(0, 4, (3, 100))]
    np.testing.assert_array_equal(predict(Recorder(), onehot, device="cpu").numpy(),
                                  predict(Recorder(), onehot.astype(np.float32), device="cpu").numpy())
    assert seen["dtype"] == torch.float32


class _Watcher(toy_models.BaseCountProfile):
    """Records what its forward pass sees: the mode, and the dtype of an intermediate."""

    def __init__(self):
        super().__init__()
        self.linear = torch.nn.Linear(2, 2)
        self.seen = {}

    def forward(self, seq):
        hidden = self.linear(super().forward(seq))
        self.seen.update(training=self.training, hidden=hidden.dtype, device=seq.device.type)
        return hidden


def test_predict_restores_the_mode_and_bf16_autocast_really_runs(device):
    model = _Watcher().train()
    x = np.eye(4, dtype=np.float32)[np.random.default_rng(1).integers(0, 4, (5, 100))]
    full = predict(model, x, batch_size=2, device=device)
    assert model.training and model.seen == {"training": False, "hidden": torch.float32, "device": device}
    half = predict(model, x, batch_size=2, device=device, dtype="bf16")
    assert model.seen["hidden"] == torch.bfloat16 and half.dtype == torch.float32
    assert model.training and torch.allclose(half, full, rtol=2e-2, atol=1e-2) and not torch.equal(half, full)


def test_predict_restores_the_mode_of_every_submodule():
    model = _Watcher().train()
    model.linear.eval()  # frozen on purpose
    predict(model, np.zeros((2, 100, 4), np.float32), device="cpu")
    assert model.training and not model.linear.training


def test_predict_returns_named_heads_and_drops_the_padding():
    out = predict(toy_models.ProfileAndCounts(), np.zeros((3, 100, 4), np.float32), batch_size=8, device="cpu")
    assert set(out) == {"profile", "counts"} and out["profile"].shape == (3, 10, 2) and out["counts"].shape == (3, 2)


def test_predict_runs_on_the_device_and_returns_the_model_where_it_was(device):
    model = _Watcher()
    x = np.zeros((3, 100, 4), np.float32)
    out = predict(model, x, device=device)
    assert model.seen["device"] == device and out.device.type == "cpu"
    assert next(model.parameters()).device.type == "cpu"


# -- the one reverse complement of model inputs --------------------------------------------------
def test_reverse_complement_inputs_follow_each_kind():
    seq = np.array([[[1, 0, 0, 0, 0.1], [0, 0, 1, 0, 0.2], [0, 0, 0, 0, 0.3]]], np.float32)  # A G N + a track
    inputs = {"seq": seq, "dnase": np.array([[[1.0], [2.0], [3.0]]]), "expression": np.array([[5.0, 6.0]]),
              "cell": np.array([3])}
    specs = {"seq": InputSpec("seq", "sequence", tracks=("t",)), "dnase": InputSpec("dnase", "per_base"),
             "expression": InputSpec("expression", "per_sample"), "cell": InputSpec("cell", "index")}
    flipped = reverse_complement_inputs(inputs, specs)
    expected = np.array([[[0, 0, 0, 0, 0.3], [0, 1, 0, 0, 0.2], [0, 0, 0, 1, 0.1]]], np.float32)  # N C T
    np.testing.assert_array_equal(flipped["seq"], expected)
    np.testing.assert_array_equal(flipped["dnase"], [[[3.0], [2.0], [1.0]]])
    np.testing.assert_array_equal(flipped["expression"], inputs["expression"])
    np.testing.assert_array_equal(flipped["cell"], inputs["cell"])
    channels_first = reverse_complement_inputs({"seq": np.swapaxes(seq, 1, 2)},
                                               {"seq": InputSpec("seq", "sequence", axes=("channels", "length"))})
    np.testing.assert_array_equal(np.swapaxes(channels_first["seq"], 1, 2), flipped["seq"])


def test_public_names_are_the_plugin_modules_themselves():
    import epizoo.plugins.veff.scores
    import epizoo.veff.scores
    from epizoo.interpret import filters
    from epizoo.train import recipes

    assert epizoo.veff.scores is epizoo.plugins.veff.scores  # so a score registered here is seen there
    assert filters.__name__ == "epizoo.plugins.interpret.filters"
    assert recipes.__name__ == "epizoo.plugins.train.recipes"
    assert epizoo.predict.__module__ == "epizoo.prediction"


def test_a_vector_inputs_column_labels_name_its_entries():
    from epizoo.contract import ContractError, read_contract

    targets = {"shape": "(1,)", "axes": ["tasks"], "kind": "probability"}
    vector = {"shape": "(3,)", "kind": "per_sample", "column_labels": ["CTCF", "FOXA1", "GATA1"]}
    contract = read_contract("toy", {"inputs": {"expression": vector}, "targets": targets})
    assert contract.inputs["expression"].labels == ("CTCF", "FOXA1", "GATA1")
    with pytest.raises(ContractError, match="2 names for a vector of 3"):
        read_contract("toy", {"inputs": {"expression": {**vector, "column_labels": ["CTCF", "FOXA1"]}},
                              "targets": targets})
