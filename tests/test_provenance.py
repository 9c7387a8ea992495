"""No committed file names a path of the machine that made it: entries record their data by name
and checksum (tests are left out: they name such paths on purpose)."""
from __future__ import annotations

import subprocess

from conftest import REPO
from epizoo.machine_paths import ABSOLUTE, machine_paths


def _committed() -> list[str]:
    listed = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True)
    return [path for path in listed.stdout.split() if not path.startswith("tests/")]


def test_no_committed_file_holds_an_absolute_path():
    offenders = {path: found[:3] for path in _committed() if (found := machine_paths(REPO / path))}
    assert not offenders, f"files naming paths of a machine: {offenders}"


def test_the_check_finds_an_absolute_path():
    assert ABSOLUTE.findall('data: {fasta: /work/shared/data/genome.fa}, "C:\\\\Users\\\\x\\\\run.yaml"')
    assert not ABSOLUTE.findall("url: https://zenodo.org/record/1466084/files/x?download=1 and ../../examples/genome.fa")
