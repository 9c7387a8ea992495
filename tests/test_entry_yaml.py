"""`epizoo check`'s stricter half: model.yaml and dataloader.yaml problems with their line and fix,
paths of a machine in any file, the plugins' applicability, and its JSON report."""
from __future__ import annotations

import json
import shutil

from epizoo.check import check_entry
from epizoo.cli import main
from epizoo.entry_yaml import dataloader_yaml_problems, model_yaml_problems
from epizoo.zoo import ZOO_ROOT

MODEL = """\
defined_as: epizoo.kipoi_model.ZooModel
args:
  architecture: model.py::Model
info:
  authors: [{name: A}]
  doc: what it does
  cite_as: https://doi.org/10.1/x
  trained_on: data.npz (sha256 ab12)
  licence: MIT
  genome: hg38
  weights_origin: trained on my laptop
schema:
  inputs:
    seq: {shape: (100, 4), kind: sequnce}
  targets: {shape: (1,), kind: probability, axes: [task]}
tests:
  expect: expect.h5
"""


def _by_field(problems):
    return {problem.field: problem for problem in problems}


def test_each_problem_names_its_line_field_and_fix():
    problems = _by_field(model_yaml_problems(MODEL))
    assert set(problems) == {"info.licence", "info.license", "info.weights_origin", "schema.inputs.seq.kind",
                             "schema.targets.axes", "tests"}
    assert (problems["info.licence"].line, problems["info.licence"].fix) == (9, "did you mean 'license'?")
    assert problems["info.license"].line == 4 and "missing" in problems["info.license"].message  # at its parent
    assert problems["info.weights_origin"].line == 11 and "trained on real data" in problems["info.weights_origin"].fix
    assert problems["schema.inputs.seq.kind"].line == 14 and "sequence" in problems["schema.inputs.seq.kind"].fix
    assert problems["schema.targets.axes"].line == 15 and problems["tests"].fix == "did you mean 'test'?"
    assert str(problems["tests"]).startswith("model.yaml:16: tests: unknown key")


def test_a_network_must_say_its_genome_and_where_its_weights_come_from():
    text = MODEL.replace("  genome: hg38\n", "").replace("trained on my laptop", "converted")
    assert "info.genome" in _by_field(model_yaml_problems(text))
    records = text.replace("  architecture: model.py::Model\n", "  entry: X\n")  # not a network: optional
    assert "info.genome" not in _by_field(model_yaml_problems(records))


def test_a_yaml_syntax_error_is_one_problem_at_its_line():
    (problem,) = model_yaml_problems(MODEL.replace("  doc: what it does", "  doc: [unclosed"))
    assert problem.line in (6, 7) and "not valid YAML" in problem.message


def test_dataloader_arguments_need_a_doc():
    problems = _by_field(dataloader_yaml_problems(
        "defined_as: x.Y\nargs:\n  fasta_file: {doc: the genome}\n  intervals_file: {example: a.bed}\noutput_schema: {}\n"))
    assert set(problems) == {"args.intervals_file"} and problems["args.intervals_file"].line == 4


def test_check_finds_a_machine_path_and_reports_in_json(tmp_path, capsys):
    entry = tmp_path / "BPNet"
    shutil.copytree(ZOO_ROOT / "GOPHER" / "BPNet-base", entry)
    assert check_entry(entry, kipoi_test=False).ok
    (entry / "README.md").write_text("trained on /home/me/data/atac.bw\n")
    with (entry / "model.yaml").open("a") as handle:
        handle.write("postprocessing: {}\n")
    assert main(["check", str(entry), "--no-kipoi-test", "--json"]) == 1
    (report,) = json.loads(capsys.readouterr().out)
    assert not report["ok"] and any("/home/me/data/atac.bw" in p and "README.md" in p for p in report["problems"])
    assert any(p.startswith("model.yaml:") and "postprocessing: unknown key" in p for p in report["problems"])
    assert any(p.startswith("variant effects apply to seq") for p in report["passed"])
    assert "attributions of seq are finite and shaped as the inputs" in report["passed"]


def test_a_template_members_dataloader_is_its_groups_template_rendered_and_checked(tmp_path):
    """A member of a Kipoi template group has no dataloader.yaml: its group's
    dataloader-template.yaml, rendered from its row of models.tsv, is what Kipoi reads and checks."""
    from epizoo.check import CheckReport, _check_yaml
    from epizoo.registry import dataloader_yaml_text

    group = tmp_path / "Group"
    group.mkdir()
    (group / "models.tsv").write_text("model\tlength\nA\t100\n")
    (group / "model-template.yaml").write_text(MODEL.replace("(100, 4)", "({{ length }}, 4)"))
    (group / "dataloader-template.yaml").write_text(
        "type: Dataset\ndefined_as: dataloader.py::Loader\nargs:\n  fasta_file: {example: x.fa}\n"
        "info: {doc: windows of {{ length }} bp}\noutput_schema: {inputs: {seq: {shape: ({{ length }}, 4)}}}\n")
    text, label = dataloader_yaml_text(group / "A")
    assert "windows of 100 bp" in text and label == "dataloader-template.yaml (row A of models.tsv, rendered)"
    report = CheckReport("Group/A")
    _check_yaml(group / "A", report)
    assert any(p.startswith("dataloader-template.yaml (row A of models.tsv, rendered):4: args.fasta_file: has no doc")
               for p in report.problems), report.problems
