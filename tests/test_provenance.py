"""No committed file names a path of the machine that made it: entries record their data by name
and checksum (tests are left out: they name such paths on purpose)."""
from __future__ import annotations

import re
import subprocess

from safetensors import safe_open

from conftest import REPO

#: an absolute path of a machine: a POSIX path under a usual root folder, or a Windows drive
ABSOLUTE = re.compile(r"(?<![\w.~})])/(?:home|tmp|work|Users|root|mnt|scratch|private|var|opt|srv|data|media|net)/[^\s\"',]+"
                      r"|\b[A-Za-z]:\\[^\s\"',]+")
TEXT = (".yaml", ".yml", ".tsv", ".csv", ".json", ".md", ".txt", ".j2", ".py", ".sh", ".toml", "Snakefile", "/run")


def _committed() -> list[str]:
    listed = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True)
    return [path for path in listed.stdout.split() if not path.startswith("tests/")]


def _text_of(path: str) -> str:
    if path.endswith(".safetensors"):
        with safe_open(str(REPO / path), framework="pt") as handle:
            return repr(handle.metadata())
    return (REPO / path).read_text(errors="replace") if path.endswith(TEXT) else ""


def test_no_committed_file_holds_an_absolute_path():
    offenders = {path: found[:3] for path in _committed() if (found := ABSOLUTE.findall(_text_of(path)))}
    assert not offenders, f"files naming paths of a machine: {offenders}"


def test_the_check_finds_an_absolute_path():
    assert ABSOLUTE.findall('data: {fasta: /work/shared/data/genome.fa}, "C:\\\\Users\\\\x\\\\run.yaml"')
    assert not ABSOLUTE.findall("url: https://zenodo.org/record/1466084/files/x?download=1 and ../../examples/genome.fa")
