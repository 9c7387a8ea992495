"""Shared fixtures: the read-only real data beside the repo, and isolated cache/HOME folders."""
from __future__ import annotations

import importlib.util
import os
import shutil
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("EPIZOO_SHARED", REPO.parent / "shared"))
DATA = SHARED / "data"
SLICE_FASTA = DATA / "genome" / "hg38_chr22_32000000_32300000.fa"
VARIANTS = DATA / "variants"


def _importable(*names: str) -> bool:
    return all(importlib.util.find_spec(name) is not None for name in names)


def chromium() -> str | None:
    """A headless-capable Chromium or Chrome: ``$EPIZOO_CHROMIUM``, else the first on the PATH."""
    names = [os.environ.get("EPIZOO_CHROMIUM", ""), "chromium", "chromium-browser", "google-chrome", "google-chrome-stable"]
    return next((found for name in names if name and (found := shutil.which(name))), None)


#: The one skip mechanism: what some tests need, whether it is here, and how to get it. A test
#: states a need with ``@pytest.mark.needs(NAME)`` (the ``shared_data`` fixture, the ``tf`` and
#: ``gpu`` markers state theirs); ``--require NAME`` (CI) turns a missing need into an error, so
#: that the oracle tests (the Keras-3 rebuild, the real data) cannot vanish in silence.
NEEDS = {
    "shared_data": (lambda: DATA.is_dir(), f"the real data folder {DATA} (or set EPIZOO_SHARED)"),
    "tensorflow": (lambda: _importable("tensorflow", "keras"), "the tf extra: pip install -r requirements/tf.txt"),
    "cuda": (lambda: __import__("torch").cuda.is_available(), "a CUDA device"),
    "onnx": (lambda: _importable("onnx", "onnxscript", "onnxruntime"), "the onnx extra: pip install -r requirements/onnx.txt"),
    "chromium": (lambda: chromium() is not None,
                 "Chromium or Chrome (Debian: apt-get install chromium), or EPIZOO_CHROMIUM naming its binary"),
}
IMPLIED = {"shared_data": "shared_data", "tf": "tensorflow", "gpu": "cuda", "onnx": "onnx"}  # fixture / marker -> need


def pytest_addoption(parser):
    parser.addoption("--require", action="append", default=[], choices=sorted(NEEDS),
                     help="fail, rather than skip, when this need of a test is missing (CI)")


def _needs(item) -> set[str]:
    needs = {IMPLIED[name] for name in item.fixturenames if name in IMPLIED}
    needs |= {IMPLIED[mark.name] for mark in item.iter_markers() if mark.name in IMPLIED}
    return needs | {need for mark in item.iter_markers("needs") for need in mark.args}


def pytest_collection_modifyitems(config, items):
    """Skip a test whose needs are missing (saying how to get them); fail for --require ones."""
    missing = {name for name, (present, _) in NEEDS.items() if not present()}
    required = missing & set(config.getoption("require"))
    if required and any(required & _needs(item) for item in items):
        raise pytest.UsageError("required but missing: " + "; ".join(f"{name} ({NEEDS[name][1]})" for name in sorted(required)))
    for item in items:
        for name in sorted(_needs(item) & missing):
            item.add_marker(pytest.mark.skip(reason=f"needs {NEEDS[name][1]}"))


@pytest.fixture(params=["cpu", pytest.param("cuda", marks=pytest.mark.gpu)])
def device(request) -> str:
    """Each device a test should run on: the CPU, and CUDA where there is a GPU (tangermeme's way)."""
    return request.param


@pytest.fixture(scope="session")
def shared_data() -> Path:
    return DATA


_SCRATCH: list[str] = []


def pytest_configure(config):
    """A private HOME and cache for the whole run, set before any test module is imported.

    kipoi writes ~/.kipoi/config.yaml on import (and would try to clone its git source), and
    epizoo builds FASTA indexes in its cache: nothing may land in ~ or in ../shared.
    """
    scratch = tempfile.mkdtemp(prefix="epizoo-tests-")
    _SCRATCH.append(scratch)
    for name in ("home", "cache"):
        os.makedirs(os.path.join(scratch, name))
    os.environ["HOME"] = os.path.join(scratch, "home")
    os.environ["EPIZOO_CACHE"] = os.path.join(scratch, "cache")
    os.environ.pop("EPIZOO_MIRROR", None)


def pytest_unconfigure(config):
    for scratch in _SCRATCH:
        shutil.rmtree(scratch, ignore_errors=True)


@pytest.fixture
def mirror(monkeypatch, shared_data) -> Path:
    """EPIZOO_MIRROR pointed at ../shared/data, as in CI."""
    monkeypatch.setenv("EPIZOO_MIRROR", str(shared_data))
    return shared_data
