"""`epizoo train avocado` on a slice of the real Roadmap pilot tracks (5 cell types x 5 marks): it
learns held-out tracks; its entry stores the genome factors as shards and passes epizoo check and
kipoi test; kipoi predict, `epizoo impute` and the bigWig agree; phase 2 (new positions) and new
cell types fit only their own factors."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pyBigWig
import pytest
import torch
import yaml

from epizoo.kipoi_model import load_entry
from epizoo.plugins.train.config import ConfigError
from epizoo.plugins.train.runs import load_config
from epizoo.plugins.train.trainer import train

CELLS = ["E003", "E017", "E065", "E116", "E117"]
MARKS = ["H3K4me3", "H3K27me3", "H3K36me3", "H3K9me3", "H3K4me1"]
TEST = ["E003.H3K4me3", "E017.H3K27me3"]
N = 20_000  # positions of the slice (500 kb)


@pytest.fixture(scope="module")
def pilot(shared_data, tmp_path_factory):
    """Two stretches of each pilot track: tracks/ holds positions 0-20,000, later/ 60,000-70,000."""
    folder = tmp_path_factory.mktemp("pilot")
    for sub, (a, b) in (("tracks", (0, N)), ("later", (60_000, 70_000))):
        (folder / sub).mkdir()
        for cell in CELLS:
            for mark in MARKS:
                values = np.load(shared_data / "avocado" / "pilot" / f"{cell}.{mark}.pilot.arcsinh.npz")["arr_0"]
                np.save(folder / sub / f"{cell}.{mark}.npy", values[a:b])
    return folder


def _config(folder, name: str, sub: str = "tracks", cells=CELLS, test=TEST, epochs: int = 20, **model) -> object:
    config = {"recipe": "avocado", "seed": 2,
              "data": {"tracks": [f"{sub}/{c}.{m}.npy" for c in cells for m in MARKS], "test_tracks": test,
                       "eval_every": 4, "description": "Roadmap pilot tracks, a 500-kb slice (a test)."},
              "model": {"celltype_factors": 8, "assay_factors": 16, "genome_factors": [8, 8, 8], "n_nodes": 64, **model},
              "training": {"learning_rate": 0.01, "batch_size": 2000, "max_epochs": epochs, "threads": 1}}
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(config))
    return load_config(path)


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    patch = pytest.MonkeyPatch()
    patch.setenv("EPIZOO_CACHE", str(tmp_path_factory.mktemp("cache")))
    yield
    patch.undo()


@pytest.fixture(scope="module")
def entry(pilot, cache):
    """Every track but two held out; checked (epizoo check, kipoi test) as it is written."""
    return train(_config(pilot, "all"), pilot / "entry", quiet=True)


def test_training_learns_the_held_out_tracks(entry, pilot):
    metrics = json.loads((entry / "metrics.json").read_text())
    held = np.concatenate([np.load(pilot / "tracks" / f"{t}.npy")[::4] for t in TEST])
    assert metrics["pearson"] > 0.5
    assert metrics["mse"] < 0.7 * held.var()  # far better than the held-out tracks' own mean


def test_the_entry_keeps_its_genome_factors_in_shards_that_it_reads_back(entry):
    spec = yaml.safe_load((entry / "model.yaml").read_text())
    tables = spec["args"]["weights"]["tables"]["genome"]
    manifest = json.loads((entry / tables["manifest"]).read_text())
    assert manifest["tables"]["genome_25bp"] == {"rows": N, "dim": 8, "dtype": "float32"}
    assert manifest["tables"]["genome_5kbp"]["rows"] == N // 200 + 1
    network, metadata = load_entry(entry)
    assert not any(key.startswith("genome") for key in network.state_dict())
    assert metadata["config"]["genome"] == "stored"
    stored = network.latent(torch.tensor([0, 19_999]))
    assert stored.shape == (2, 24) and torch.isfinite(stored).all()
    assert (entry / "celltypes.txt").read_text().split() == sorted(CELLS)


def _kipoi_predict(entry, args: dict, out) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kipoi", "predict", str(entry), "--source", "dir", "-o", str(out),
                           "--batch_size", "1000", "--keep_metadata", "--dataloader_args", json.dumps(args)],
                          capture_output=True, text=True, env=dict(os.environ))


def test_kipoi_predict_impute_and_the_bigwig_agree(entry, tmp_path):
    from epizoo.cli import main

    bed = tmp_path / "regions.bed"
    bed.write_text("positions\t100000\t101000\npositions\t0\t60\n")  # positions 4,000-4,039, then 0-2
    result = _kipoi_predict(entry, {"intervals_file": str(bed), "celltype": "E003", "assay": "H3K4me3"},
                            tmp_path / "kipoi.tsv")
    assert result.returncode == 0, result.stderr[-2000:]
    kipoi_values = pd.read_csv(tmp_path / "kipoi.tsv", sep="\t")
    assert len(kipoi_values) == 43 and list(kipoi_values["metadata/ranges/start"][:2]) == [100000, 100025]
    assert main(["-q", "impute", str(entry), "--regions", str(bed), "--celltype", "E003", "--assay", "H3K4me3",
                 "--out", str(tmp_path / "x.tsv")]) == 0
    assert main(["-q", "impute", str(entry), "--regions", str(bed), "--celltype", "E003", "--assay", "H3K4me3",
                 "--out", str(tmp_path / "x.bw")]) == 0
    table = pd.read_csv(tmp_path / "x.tsv", sep="\t")
    assert list(table["position"][:2]) == [4000, 4001] and list(table["region"][-3:]) == [1, 1, 1]
    np.testing.assert_allclose(table["value"], kipoi_values.filter(like="preds").iloc[:, 0], rtol=0, atol=1e-6)
    network = load_entry(entry)[0]
    positions = torch.tensor(table["position"].to_numpy())
    direct = network(torch.zeros_like(positions), torch.full_like(positions, sorted(MARKS).index("H3K4me3")), positions)
    np.testing.assert_allclose(table["value"], direct[:, 0].detach().numpy(), rtol=0, atol=1e-6)
    with pyBigWig.open(str(tmp_path / "x.bw")) as handle:
        assert handle.chroms() == {"positions": N * 25}
        np.testing.assert_allclose(handle.values("positions", 100000, 100050)[::25], table["value"][:2], atol=1e-6)


def test_unknown_names_and_regions_outside_the_model_are_clear_errors(entry, tmp_path):
    bed = tmp_path / "regions.bed"
    bed.write_text("positions\t0\t100\n")
    result = _kipoi_predict(entry, {"intervals_file": str(bed), "celltype": "E999", "assay": "H3K4me3"},
                            tmp_path / "out.tsv")
    assert result.returncode != 0 and "no cell type 'E999'" in result.stderr and "E003" in result.stderr
    bed.write_text("positions\t499990\t500100\n")
    result = _kipoi_predict(entry, {"intervals_file": str(bed), "celltype": "E003", "assay": "H3K4me3"},
                            tmp_path / "out.tsv")
    assert result.returncode != 0 and "line 1: positions:499990-500100 is not within" in result.stderr


def test_phase_two_fits_new_positions_with_the_network_frozen(entry, pilot):
    # the run's own network sizes do not apply: the network is the pre-trained entry's
    later = train(_config(pilot, "positions", sub="later", epochs=40, fit="positions", pretrained=str(entry),
                          dropout=0.5, n_nodes=32), pilot / "later_entry", quiet=True, check=False)
    before, after = load_entry(entry)[0].state_dict(), load_entry(later)[0].state_dict()
    assert set(before) == set(after) and all(torch.equal(before[k], after[k]) for k in before)
    assert load_entry(later)[0].genome.n_positions == 10_000
    metrics = json.loads((later / "metrics.json").read_text())
    assert metrics["pearson"] > 0.4  # the frozen network and factors impute the new stretch's held-out tracks (0.55)


def test_a_new_cell_type_fits_only_its_own_factors(pilot, cache):
    four = train(_config(pilot, "four", cells=CELLS[:4], test=["E003.H3K4me3"], epochs=10),
                 pilot / "four", quiet=True, check=False)
    five = train(_config(pilot, "new_cell", epochs=10, fit="celltypes", pretrained=str(four), test=["E117.H3K4me3"]),
                 pilot / "five", quiet=True, check=False)
    (old, _), (new, _) = load_entry(four), load_entry(five)
    assert (five / "celltypes.txt").read_text().split() == CELLS[:4] + ["E117"]
    old_state, new_state = old.state_dict(), new.state_dict()
    for key, value in old_state.items():
        kept = new_state[key][:4] if key == "celltype_embedding.weight" else new_state[key]
        assert torch.equal(kept, value), key
    assert not torch.equal(new_state["celltype_embedding.weight"][4], torch.zeros(8))
    assert torch.equal(old.latent(torch.arange(0, N, 97)), new.latent(torch.arange(0, N, 97)))


def test_held_out_tracks_need_their_cell_type_and_assay_in_training(pilot, cache):
    config = _config(pilot, "bad", cells=CELLS[:1], test=["E003.H3K4me3"])
    config.data.tracks = [p for p in config.data.tracks if p.name.startswith("E003.H3K4me3") or "E017" in p.name]
    with pytest.raises(ConfigError, match="E003.H3K4me3 needs its cell type and its assay"):
        train(config, pilot / "bad", quiet=True)


def test_attributions_split_each_value_between_the_components_and_add_up(entry, tmp_path):
    from epizoo.plugins.impute import factor_attributions, genome_factors

    bed = tmp_path / "regions.bed"
    bed.write_text("positions\t0\t250\npositions\t250000\t250100\n")
    table = factor_attributions(entry, bed, "E017", "H3K4me1", n_steps=400)  # ReLU kinks: error ~ 1 / n_steps
    parts = table[["celltype", "assay", "genome_25bp", "genome_250bp", "genome_5kbp"]].sum(axis=1)
    np.testing.assert_allclose(parts, table["value"] - table["reference"], atol=2e-3)  # completeness (spec §5)
    assert table[["celltype", "genome_25bp"]].abs().to_numpy().max() > 1e-3  # both components do work
    factors = genome_factors(entry, bed)
    assert list(factors.columns[5:8]) == ["f25_0", "f25_1", "f25_2"] and factors.shape == (14, 5 + 24)
    network = load_entry(entry)[0]
    np.testing.assert_array_equal(factors.iloc[:, 5:].to_numpy(), network.latent(torch.tensor(factors["position"])).numpy())


def test_variant_effects_refuse_an_entry_without_a_sequence_input(entry, tmp_path):
    import epizoo
    from conftest import REPO

    examples = REPO / "examples"
    with pytest.raises(ValueError, match="takes no sequence input.*celltype \\(index\\).*position \\(index\\)"):
        epizoo.score_variants(entry, examples / "variants.vcf", examples / "genome.fa", out=tmp_path / "effects.tsv")


def test_the_documented_full_configuration_is_the_papers(shared_data):
    from conftest import REPO

    run = load_config(REPO / "experiments" / "avocado" / "pilot.yaml")
    model, training = run.model, run.training
    assert (model.celltype_factors, model.assay_factors, model.genome_factors, model.n_layers, model.n_nodes) == \
        (32, 256, [25, 40, 45], 2, 2048)
    assert (training.learning_rate, training.batch_size, training.max_epochs) == (0.01, 40_000, 800)
    assert len(run.data.tracks) == 25 and all(path.is_file() for path in run.data.tracks)


def test_a_layout_of_genomic_regions_maps_coordinates_and_names_the_bigwig_chromosomes(entry, tmp_path):
    from epizoo.dataloaders.positions import PositionLayout
    from epizoo.plugins.impute import impute, write_bigwig

    layout = tmp_path / "pilot_regions.bed"  # the regions in the order the arrays concatenate them: 10,000 bins each
    layout.write_text("chr7\t1000000\t1250000\nchr2\t500000\t750000\n")
    bed = tmp_path / "query.bed"
    bed.write_text("2\t500000\t500050\nchr7\t1249975\t1250000\n")  # chr2's first bins (named '2'), chr7's last
    table = impute(entry, bed, "E116", "H3K4me1", {"layout_file": str(layout)})
    assert list(table["position"]) == [10_000, 10_001, 9_999] and list(table["chrom"]) == ["chr2", "chr2", "chr7"]
    by_index = tmp_path / "index.bed"
    by_index.write_text("positions\t250000\t250050\npositions\t249975\t250000\n")
    np.testing.assert_array_equal(table["value"], impute(entry, by_index, "E116", "H3K4me1")["value"])
    sizes = PositionLayout.from_bed(layout).chrom_sizes()
    write_bigwig(tmp_path / "x.bw", table, sizes)
    with pyBigWig.open(str(tmp_path / "x.bw")) as handle:
        assert handle.chroms() == {"chr7": 1_250_000, "chr2": 750_000}
        assert handle.values("chr2", 500025, 500026)[0] == pytest.approx(table["value"][1], abs=1e-6)


def test_ddp_on_two_cpu_processes_splits_the_positions(pilot, tmp_path):
    _config(pilot, "ddp", epochs=1)  # writes ddp.yaml
    config = yaml.safe_load((pilot / "ddp.yaml").read_text())
    config["training"] |= {"strategy": "ddp", "devices": 2, "accelerator": "cpu", "record_samples": True}
    (pilot / "ddp.yaml").write_text(yaml.safe_dump(config))
    env = {**os.environ, "EPIZOO_CACHE": str(tmp_path / "cache")}
    result = subprocess.run([sys.executable, "-m", "epizoo", "-q", "train", "avocado", str(pilot / "ddp.yaml"),
                             "--out", str(tmp_path / "ddp")], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    ranks = [pd.read_csv(tmp_path / "ddp.run" / "samples" / f"epoch0_rank{r}.tsv", sep="\t") for r in (0, 1)]
    assert len(ranks[0]) == len(ranks[1]) == N // 2
    assert not set(ranks[0]["position"]) & set(ranks[1]["position"])  # every position once, on one rank
    assert (tmp_path / "ddp" / "genome_factors" / "manifest.json").is_file()


def test_bf16_imputation_is_close_to_float32(entry, tmp_path):
    from epizoo.plugins.impute import impute

    bed = tmp_path / "regions.bed"
    bed.write_text("positions\t0\t25000\n")
    full, half = (impute(entry, bed, "E003", "H3K4me3", precision=p)["value"].to_numpy() for p in ("float32", "bf16"))
    assert not np.array_equal(full, half) and np.abs(full - half).max() < 0.05 * max(1.0, np.abs(full).max())
