"""An installed (not editable) epizoo works with the files a user passes, from any folder.

The wheel is built from this checkout and installed into a fresh virtual environment whose other
packages come from the test environment (so nothing is downloaded); every command then runs in a
folder outside the checkout.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from conftest import REPO


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The Python of a fresh venv with epizoo installed from its wheel."""
    root = tmp_path_factory.mktemp("wheel")
    # the checkout as it is, without what earlier builds or runs left in it
    source = shutil.copytree(REPO, root / "source", ignore=shutil.ignore_patterns(
        ".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", "out"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", str(source),
                    "-w", str(root / "dist")], check=True, capture_output=True)
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root / "venv")], check=True)
    python = root / "venv" / "bin" / "python"
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             check=True, capture_output=True, text=True).stdout.strip()
    (Path(purelib) / "test-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    (wheel,) = (root / "dist").glob("epizoo-*.whl")
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "-q", "--target", purelib,
                    str(wheel)], check=True, capture_output=True)
    return python


def _epizoo(python: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "HOME": str(cwd / "home"), "EPIZOO_CACHE": str(cwd / "cache")}
    return subprocess.run([str(python), "-m", "epizoo", *args], cwd=cwd, env=env, capture_output=True, text=True)


@pytest.mark.slow
def test_an_installed_wheel_converts_checks_and_scores_the_users_files(installed, shared_data, tmp_path, monkeypatch):
    monkeypatch.setenv("EPIZOO_MIRROR", str(shared_data))
    where = subprocess.run([str(installed), "-c", "import epizoo; print(epizoo.__file__)"], cwd=tmp_path,
                           capture_output=True, text=True)
    assert where.returncode == 0 and not where.stdout.strip().startswith(str(REPO)), where.stdout + where.stderr
    for name in ("genome.fa", "dnase.bw", "variants.vcf"):  # the user's own files, in the user's folder
        shutil.copyfile(REPO / "examples" / name, tmp_path / f"my_{name}")
    source = shared_data / "factornet" / "models" / "REST" / "GENCODE_Unique35_DGF"
    converted = _epizoo(installed, tmp_path, "convert", "factornet", str(source), "my_entry")
    assert converted.returncode == 0, converted.stderr[-2000:]
    checked = _epizoo(installed, tmp_path, "check", "my_entry")
    assert checked.returncode == 0 and "kipoi test passes" in checked.stdout, (checked.stdout + checked.stderr)[-3000:]
    scored = _epizoo(installed, tmp_path, "score-variants", "FactorNet/FOXA1/onePeak_DGF", "--vcf", "my_variants.vcf",
                     "--fasta", "my_genome.fa", "--dataloader-args", json.dumps({"dnase_file": "my_dnase.bw"}),
                     "--out", "effects.tsv")
    assert scored.returncode == 0, scored.stderr[-2000:]
    assert len((tmp_path / "effects.tsv").read_text().splitlines()) == 1 + 47
