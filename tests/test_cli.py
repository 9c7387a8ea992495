"""The epizoo CLI: one entry point, the same through `python -m epizoo`, clear errors."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np

from conftest import REPO
from epizoo.cli import COMMANDS, main


def run(*args, cwd=REPO):
    return subprocess.run([sys.executable, "-m", "epizoo", *args], capture_output=True, text=True, cwd=cwd)


def test_help_lists_every_command_and_module_form_matches_the_script():
    result = run("--help")
    assert result.returncode == 0
    for name in COMMANDS:
        assert name in result.stdout
    # the console script that installing the package makes, beside this Python
    script = subprocess.run([str(Path(sys.executable).parent / "epizoo"), "--help"], capture_output=True, text=True)
    assert script.returncode == 0 and script.stdout.replace("epizoo", "X") == result.stdout.replace("epizoo", "X")


def test_every_command_has_its_own_help():
    for name in COMMANDS:
        result = run(name, "--help")
        assert result.returncode == 0 and f"epizoo {name}" in result.stdout, name


def test_list_shows_the_zoo_and_where_the_weights_come_from(capsys):
    assert main(["list", "FactorNet/FOXA1"]) == 0
    lines = [line.split(None, 2) for line in capsys.readouterr().out.splitlines()]
    assert lines == [["FactorNet/FOXA1/multiTask_DGF", "hg19", "converted from Kipoi's re-save (Zenodo record 1466084)"],
                     ["FactorNet/FOXA1/onePeak_DGF", "hg19",
                      "converted from the authors' release (github.com/uci-cbcl/FactorNet)"]]
    assert main(["list", "GOPHER/BPNet"]) == 0
    assert capsys.readouterr().out.split(None, 2)[1:] == [
        "synthetic", "trained on the synthetic benchmark  pearson_whole 0.598, mse 2.356\n"]
    assert main(["list", "FactorNet/"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 30


def test_onehot_runs_the_data_path_on_the_examples(tmp_path, capsys):
    out = tmp_path / "x.npz"
    assert main(["onehot", str(REPO / "examples/regions.bed"), str(REPO / "examples/genome.fa"),
                 "--width", "1000", "--bigwig", str(REPO / "examples/dnase.bw"), "-o", str(out)]) == 0
    arrays = np.load(out)
    assert arrays["seq"].shape == (10, 1000, 5) and arrays["start"][0] == 136044 - 500


def test_bad_input_is_a_one_line_error_with_exit_status_2(tmp_path, capsys):
    code = main(["onehot", str(tmp_path / "absent.bed"), str(REPO / "examples/genome.fa"), "--width", "10", "-o", str(tmp_path / "x.npz")])
    assert code == 2
    assert "absent.bed does not exist" in capsys.readouterr().err
    assert not (tmp_path / "x.npz").exists()


def test_global_flags_parse_after_the_sub_command_too(mirror, tmp_path, capsys):
    args = ["score-variants", "FactorNet/FOXA1/onePeak_DGF", "--vcf", str(REPO / "examples/variants.vcf"),
            "--fasta", str(REPO / "examples/genome.fa"), "--dataloader-args", json.dumps({"dnase_file": str(REPO / "examples/dnase.bw")})]
    assert main([*args, "--out", str(tmp_path / "a.tsv")]) == 0
    assert "scored" in capsys.readouterr().out
    for quiet in (["-q", *args], [*args, "-q"]):
        assert main([*quiet, "--out", str(tmp_path / "b.tsv")]) == 0
        assert capsys.readouterr().out == ""
