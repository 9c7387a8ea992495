"""The FactorNet zoo entries through stock Kipoi: listing, loading, `kipoi test`, `kipoi predict`."""
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import torch

from conftest import DATA, REPO
from epizoo.registry import get_model, list_entries, register_kipoi_source
from epizoo.zoo import ZOO_ROOT

GROUP = ZOO_ROOT / "FactorNet"
TABLE = pd.read_csv(GROUP / "models.tsv", sep="\t", comment="#", dtype=str)
PINNED = TABLE[TABLE["converted_sha256"] != "-"]["model"].tolist()
EXAMPLES = REPO / "examples"
AUTHORS_ENTRIES = [
    "E2F1/GENCODE_Unique35_DGF", "E2F1/onePeak_Unique35_DGF", "EGR1/meta_RNAseq_Unique35_DGF",
    "EGR1/onePeak_DGF", "FOXA1/onePeak_DGF", "FOXA2/onePeak_Unique35_DGF",
    "GABPA/metaGENCODE_RNAseq_Unique35_DGF", "GABPA/meta_RNAseq_Unique35_DGF",
    "HNF4A/onePeak_Unique35_DGF", "MAX/onePeak_Unique35_DGF", "NANOG/GENCODE_Unique35_DGF",
    "NANOG/onePeak_Unique35_DGF", "REST/GENCODE_Unique35_DGF", "REST/GENCODE_Unique35_DGF_2",
    "TAF1/GENCODE_Unique35_DGF",
]
#: Kipoi's 30 FactorNet entries (kipoi/models FactorNet/models.tsv, mirrored in shared/data)
KIPOI_ENTRIES = pd.read_csv(DATA / "factornet" / "kipoi_models.tsv", sep="\t")["model"].tolist() if DATA.exists() else []
ENTRIES = TABLE["model"].tolist()


def kipoi_cli(*args, cwd=REPO, mirror=True):
    """Run the stock `kipoi` CLI in a subprocess (its HOME is the tests' private one)."""
    env = dict(os.environ)
    if mirror:
        env["EPIZOO_MIRROR"] = str(DATA)
    return subprocess.run([sys.executable, "-m", "kipoi", *args], cwd=cwd, env=env,
                          capture_output=True, text=True)


def test_every_kipoi_factornet_entry_is_an_entry(shared_data):
    assert len(KIPOI_ENTRIES) == 30
    assert sorted(e for e in list_entries() if e.startswith("FactorNet/")) == sorted(f"FactorNet/{m}" for m in KIPOI_ENTRIES)
    converters = TABLE.set_index("model")["converter"]
    assert sorted(converters[converters == "factornet-keras1"].index) == sorted(AUTHORS_ENTRIES)
    kipoi = pd.read_csv(DATA / "factornet" / "kipoi_models.tsv", sep="\t").set_index("model")
    for model in converters[converters == "factornet-kipoi"].index:  # Kipoi's re-saves, by its URLs and md5
        row = TABLE.set_index("model").loc[model]
        assert (row["json_url"], row["json_md5"], row["weights_url"], row["weights_md5"]) == tuple(
            kipoi.loc[model, ["arch_url", "arch_md5", "weights_url", "weights_md5"]])


def test_the_eight_mirrored_models_have_pinned_weights_and_expectations(shared_data):
    mirrored = sorted({str(p.parent.relative_to(DATA / "factornet" / "models")) for p in (DATA / "factornet" / "models").rglob("model.json")})
    assert sorted(PINNED) == mirrored
    for model in PINNED:
        assert (GROUP / TABLE.set_index("model").loc[model, "test_expect"]).exists()


@pytest.mark.parametrize("model", ENTRIES)
def test_entry_descriptions_are_complete_and_kipoi_drop_in(model):
    from epizoo.registry import get_model_description
    from kipoi.sources import LocalSource

    description = get_model_description(f"FactorNet/{model}")
    row = TABLE.set_index("model").loc[model]
    assert description.schema.inputs["seq"].shape == (1002, int(row["n_channels"]))
    assert description.schema.targets.column_labels == row["tasks"].split(",")
    assert len(row["tasks"].split(",")) == (19 if "multiTask" in model else 1)
    info = description.info
    assert info.cite_as and "hg19" in info.trained_on and "DGF" in info.trained_on
    assert [a.name for a in info.authors][:2] == ["Daniel Quang", "Xiaohui Xie"]
    loader = LocalSource(str(ZOO_ROOT)).get_dataloader_descr(f"FactorNet/{model}")
    expected_args = {"intervals_file", "fasta_file", "dnase_file", "use_linecache", "allow_missing_tracks"}
    if "Unique35" in model:
        expected_args.add("mappability_file")
    if "meta" in model:
        expected_args |= {"cell_line", "RNAseq_PC_file"}
        assert description.schema.inputs["meta_features"].shape[0] in (8, 14)
    if "GENCODE" in model:
        expected_args |= {"GENCODE_dir", "cell_line"}  # Kipoi's signature has cell_line there too
    resave = row["converter"] == "factornet-kipoi"
    assert ("Kipoi's re-save" in info.doc) == resave and ("Zenodo record 1466084" in info.training_procedure) == resave
    assert set(loader.args) == expected_args


@pytest.mark.parametrize("model", PINNED)
def test_kipoi_test_passes_offline_from_the_mirror(shared_data, model):
    result = kipoi_cli("test", f"zoo/FactorNet/{model}", "--source", "dir")
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    assert "All predictions match" in result.stdout + result.stderr


def test_unmirrored_entry_fails_offline_with_the_fix(tmp_path):
    with pytest.raises(FileNotFoundError, match="EPIZOO_MIRROR"):
        get_model("FactorNet/TAF1/GENCODE_Unique35_DGF", with_dataloader=False)


def test_python_api_predicts_probabilities_on_arrays_in_kipois_layout(mirror):
    import kipoi
    from kipoi.sources import LocalSource

    model = kipoi.get_model("FactorNet/GABPA/metaGENCODE_RNAseq_Unique35_DGF", source=LocalSource(str(ZOO_ROOT)))
    rng = np.random.default_rng(0)
    seq = np.zeros((3, 1002, 6), np.float32)
    seq[np.arange(3)[:, None], np.arange(1002), rng.integers(0, 4, (3, 1002))] = 1
    seq[:, :, 4], seq[:, :, 5] = 1.0, rng.poisson(0.3, (3, 1002))
    meta = np.concatenate([rng.normal(0, 0.2, (3, 8)), rng.integers(0, 2, (3, 6))], axis=1).astype(np.float32)
    preds = model.predict_on_batch({"seq": seq, "meta_features": meta})
    assert preds.shape == (3, 1) and ((preds >= 0) & (preds <= 1)).all()
    with torch.no_grad():
        direct = model.model(torch.from_numpy(seq), torch.from_numpy(meta)).numpy()
    np.testing.assert_allclose(preds, direct, rtol=0, atol=1e-7)


def test_kipoi_predict_on_a_bed_with_metadata(shared_data, tmp_path):
    out = tmp_path / "preds.tsv"
    args = ('{"intervals_file": "examples/regions.bed", "fasta_file": "examples/genome.fa", '
            '"dnase_file": "examples/dnase.bw", "mappability_file": "examples/mappability.bw"}')
    result = kipoi_cli("predict", "zoo/FactorNet/MAX/onePeak_Unique35_DGF", "--source", "dir",
                       "--dataloader_args", args, "-m", "-o", str(out))
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    table = pd.read_csv(out, sep="\t")
    assert len(table) == 10 and (table["metadata/ranges/end"] - table["metadata/ranges/start"] == 1002).all()
    assert table["preds/0"].between(0, 1).all()


def test_registered_source_serves_zoo_names_without_source_dir(shared_data, tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    register_kipoi_source("kipoi")
    args = (f'{{"intervals_file": "{EXAMPLES}/regions.bed", "fasta_file": "{EXAMPLES}/genome.fa", '
            f'"dnase_file": "{EXAMPLES}/dnase.bw"}}')
    result = kipoi_cli("predict", "FactorNet/EGR1/onePeak_DGF", "--dataloader_args", args,
                       "-o", str(tmp_path / "out.tsv"), cwd=tmp_path)
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    assert len(pd.read_csv(tmp_path / "out.tsv", sep="\t")) == 10
    result = kipoi_cli("test", "FactorNet/EGR1/onePeak_DGF", "--source", "kipoi", cwd=tmp_path)
    assert "All predictions match" in result.stdout + result.stderr


def test_dataloader_uses_kipois_factornet_centring_and_channel_order(shared_data):
    from epizoo.zoo.FactorNet.dataloader import Unique35DGF

    dataset = Unique35DGF(EXAMPLES / "regions.bed", EXAMPLES / "genome.fa", EXAMPLES / "dnase.bw",
                          EXAMPLES / "mappability.bw")
    batch = next(dataset.batch_iter(batch_size=10))
    ranges = batch["metadata"]["ranges"]
    np.testing.assert_array_equal(ranges["start"][:2], [(136018 + 136069) // 2 - 501, (136351 + 136402) // 2 - 501])
    seq = batch["inputs"]["seq"]
    assert seq.shape == (10, 1002, 6)
    expected_dnase = dataset.tracks.values("chr22", int(ranges["start"][0]), int(ranges["end"][0]))
    np.testing.assert_array_equal(seq[0, :, 4], expected_dnase[:, 0])  # Unique35 first
    np.testing.assert_array_equal(seq[0, :, 5], expected_dnase[:, 1])  # then DGF


@pytest.mark.filterwarnings("ignore::epizoo.dataloaders.tracks.MissingTrackWarning")
def test_gencode_flags_are_overlaps_of_the_input_interval(mirror, tmp_path):
    from epizoo.dataloaders.intervals import read_bed
    from epizoo.zoo.FactorNet.dataloader import GencodeUnique35DGF

    cpg = read_bed(DATA / "factornet" / "resources" / "cpgisland.bed.gz")
    first = cpg.iloc[0]
    bed = tmp_path / "bins.bed"
    # a bin inside the first CpG island, one ending exactly where it starts (no overlap), one elsewhere
    bed.write_text(f"{first['chrom']}\t{first['start'] + 1}\t{first['start'] + 201}\n"
                   f"{first['chrom']}\t{first['start'] - 200}\t{first['start']}\nchr22\t100\t300\n")
    (tmp_path / "genome.fa").write_text(f">{first['chrom']}\n" + "A" * (int(first["end"]) + 2000) + "\n>chr22\n" + "C" * 1000 + "\n")
    dataset = GencodeUnique35DGF(bed, tmp_path / "genome.fa", EXAMPLES / "dnase.bw", mappability_file=EXAMPLES / "mappability.bw",
                                 allow_missing_tracks=True)  # the bigWigs have chr22 only
    flags = next(dataset.batch_iter(batch_size=3))["inputs"]["meta_features"]
    assert flags.shape == (3, 6)
    assert flags[:, 0].tolist() == [1.0, 0.0, 0.0]  # cpg: overlap, touching only, other chromosome


def test_epizoo_convert_writes_an_entry_kipoi_test_accepts(mirror, tmp_path):
    from epizoo.cli import main

    source = DATA / "factornet" / "models" / "REST" / "GENCODE_Unique35_DGF"  # final_model.hdf5 only
    out = tmp_path / "REST_entry"
    assert main(["convert", "factornet", str(source), str(out)]) == 0
    assert {p.name for p in out.iterdir()} >= {"model.yaml", "dataloader.yaml", "weights.safetensors", "tasks.txt", "expect.h5"}
    result = kipoi_cli("test", str(out), "--source", "dir", cwd=tmp_path)
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    assert "All predictions match" in result.stdout + result.stderr


def test_convert_refuses_unknown_track_sets_clearly(tmp_path, shared_data):
    import shutil

    from epizoo.conversion.factornet_writer import write_entry

    source = tmp_path / "MODEL"
    shutil.copytree(DATA / "factornet" / "models" / "FOXA1" / "onePeak_DGF", source)
    (source / "bigwig.txt").write_text("H3K27ac\n")
    with pytest.raises(ValueError, match="no FactorNet dataloader for tracks"):
        write_entry(source, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_epizoo_check_passes_a_pinned_entry_and_reports_a_broken_one(mirror, tmp_path):
    from epizoo.check import check_entry

    report = check_entry("FactorNet/EGR1/onePeak_DGF")
    assert report.ok, report.lines()
    assert any("matches test.expect" in line for line in report.passed)
    broken = tmp_path / "broken"
    import shutil

    from epizoo.conversion.factornet_writer import write_entry

    write_entry(DATA / "factornet" / "models" / "FOXA1" / "onePeak_DGF", broken, expect=False)
    (broken / "weights.safetensors").write_bytes((broken / "weights.safetensors").read_bytes()[:-8] + b"12345678")
    report = check_entry(broken, kipoi_test=False)
    assert not report.ok and "sha256" in report.problems[0]
    shutil.rmtree(broken)
