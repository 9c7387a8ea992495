"""The Avocado zoo entry trained on the Roadmap pilot tracks: checked, small, honest about what it
holds, and imputing a track it never saw from the real data."""
from __future__ import annotations

import json

import numpy as np
import pytest
import yaml

from epizoo.check import check_entry
from epizoo.dataloaders.positions import PositionLayout
from epizoo.zoo import ZOO_ROOT

ENTRY = ZOO_ROOT / "Avocado" / "pilot"
pytestmark = pytest.mark.needs("shared_data")


@pytest.fixture(autouse=True)
def _private_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("EPIZOO_CACHE", str(tmp_path / "cache"))


def test_the_entry_passes_epizoo_check_and_kipoi_test_offline():
    report = check_entry(ENTRY)
    assert report.ok, "\n".join(report.lines())


def test_the_entry_is_small_and_names_its_data_by_checksum():
    sizes = sum(p.stat().st_size for p in ENTRY.rglob("*") if p.is_file())
    assert sizes < 10_000_000  # float16 genome factors of 128,000 positions, a 2 x 256 network
    config = yaml.safe_load((ENTRY / "config.yaml").read_text())
    assert all(set(track) == {"file", "sha256", "bytes"} for track in config["data"]["tracks"])
    manifest = json.loads((ENTRY / "genome_factors" / "manifest.json").read_text())
    assert manifest["metadata"]["stored"] == [0, 128_000] and "experiments/avocado.py" in manifest["metadata"]["regenerate"]


def test_a_held_out_track_is_imputed_from_the_real_arrays(shared_data, tmp_path):
    """E065's H3K36me3 was a test track: the entry imputes it where the layout says its positions lie."""
    from epizoo.plugins.impute import impute

    layout = PositionLayout.from_bed(ENTRY / "layout.bed")
    table = impute(ENTRY, ENTRY / "layout.bed", "E065", "H3K36me3")
    observed = np.load(shared_data / "avocado" / "pilot" / "E065.H3K36me3.pilot.arcsinh.npz")["arr_0"]
    assert len(table) == layout.n_positions == 128_000
    index = table["start"].to_numpy() // 25  # the layout's coordinates are 25 bp per array position
    r = np.corrcoef(observed[index], table["value"])[0, 1]
    assert r > 0.4  # 0.54 when trained; a shuffled layout gives none
    assert np.corrcoef(observed[np.roll(index, 12_345)], table["value"])[0, 1] < 0.1
