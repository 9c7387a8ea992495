"""Shared fixtures: the read-only real data beside the repo, and isolated cache/HOME folders."""
from __future__ import annotations

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


def pytest_collection_modifyitems(config, items):
    """Skip tests that need ../shared/data when it is absent (with the reason)."""
    if DATA.is_dir():
        return
    skip = pytest.mark.skip(reason=f"real data folder {DATA} is absent")
    for item in items:
        if "shared_data" in item.fixturenames:
            item.add_marker(skip)


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
