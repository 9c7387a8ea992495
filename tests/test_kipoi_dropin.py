"""No silent wrong answers for Kipoi's FactorNet users (issue: a true drop-in for Kipoi).

Each test runs the paths a user has (stock ``kipoi predict``, the Python API, ``score-variants``)
on inputs that do not fit, and requires an error that names the file and the fix, or an
explicitly requested fallback that warns.
"""
from __future__ import annotations

import json
from pathlib import Path
import re
import subprocess
import sys
import warnings

import numpy as np
import pyBigWig
import pytest

from conftest import DATA, REPO

EXAMPLES = REPO / "examples"
FOXA1 = "FactorNet/FOXA1/onePeak_DGF"


def _bigwig(path, chroms: dict[str, int]):
    """A bigWig with the example DNase values on the chromosomes given (chr22 cut to its length)."""
    source = pyBigWig.open(str(EXAMPLES / "dnase.bw"))
    with pyBigWig.open(str(path), "w") as out:
        out.addHeader(list(chroms.items()))
        for chrom, length in chroms.items():
            values = np.nan_to_num(source.values("chr22", 0, min(length, 300_000), numpy=True)) if chrom == "chr22" \
                else np.ones(length)
            out.addEntries(chrom, 0, values=values.astype(float).tolist(), span=1, step=1)
    return path


@pytest.fixture(scope="module")
def misfit_tracks(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tracks")
    return {"no_chr22": _bigwig(folder / "no_chr22.bw", {"chr1": 1000}),
            "short_chr22": _bigwig(folder / "short_chr22.bw", {"chr22": 200_000})}


MESSAGES = {"no_chr22": r"no_chr22.bw has no chromosome 'chr22' \(the FASTA's is 300,000 bp\)",
            "short_chr22": r"short_chr22.bw's chromosome 'chr22' is 200,000 bp, shorter than the FASTA's 300,000 bp"}


def _kipoi_predict(dnase, tmp_path, **extra):
    args = {"intervals_file": str(EXAMPLES / "regions.bed"), "fasta_file": str(EXAMPLES / "genome.fa"),
            "dnase_file": str(dnase), **extra}
    return subprocess.run([sys.executable, "-m", "kipoi", "predict", f"zoo/{FOXA1}", "--source", "dir",
                           "--dataloader_args", json.dumps(args), "-o", str(tmp_path / "preds.tsv")],
                          cwd=REPO, capture_output=True, text=True)


@pytest.mark.parametrize("kind", ["no_chr22", "short_chr22"])
def test_a_bigwig_that_does_not_cover_the_genome_fails_kipoi_predict(mirror, tmp_path, misfit_tracks, kind):
    result = _kipoi_predict(misfit_tracks[kind], tmp_path)
    assert result.returncode != 0
    assert re.search(MESSAGES[kind], result.stderr), result.stderr[-2000:]
    assert "allow_missing_tracks" in result.stderr


@pytest.mark.parametrize("kind", ["no_chr22", "short_chr22"])
def test_a_bigwig_that_does_not_cover_the_genome_fails_the_python_api_and_score_variants(mirror, misfit_tracks, kind):
    import epizoo
    from epizoo.dataloaders.tracks import TrackMismatchError

    model = epizoo.get_model(FOXA1)
    with pytest.raises(TrackMismatchError, match=MESSAGES[kind]):
        model.pipeline.predict({"intervals_file": str(EXAMPLES / "regions.bed"), "fasta_file": str(EXAMPLES / "genome.fa"),
                                "dnase_file": str(misfit_tracks[kind])})
    with pytest.raises(TrackMismatchError, match=MESSAGES[kind]):
        epizoo.score_variants(FOXA1, EXAMPLES / "variants.vcf", EXAMPLES / "genome.fa",
                              {"dnase_file": str(misfit_tracks[kind])})


def test_zeros_asked_for_explicitly_warn_once_in_every_path(mirror, tmp_path, misfit_tracks):
    import epizoo
    from epizoo.dataloaders.tracks import MissingTrackWarning

    result = _kipoi_predict(misfit_tracks["no_chr22"], tmp_path, allow_missing_tracks=True)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stderr.count("reading the missing signal as zeros") == 1
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        frame = epizoo.score_variants(FOXA1, EXAMPLES / "variants.vcf", EXAMPLES / "genome.fa",
                                      {"dnase_file": str(misfit_tracks["no_chr22"]), "allow_missing_tracks": True})
    assert len(frame) == 47
    assert sum(issubclass(w.category, MissingTrackWarning) for w in caught) == 1


def test_an_interval_wholly_past_the_chromosome_end_is_refused_with_file_and_line(mirror, tmp_path):
    import epizoo
    from epizoo.dataloaders.intervals import BedFormatError

    bed = tmp_path / "regions.bed"
    bed.write_text("chr22\t1000\t1200\nchr22\t299900\t300100\nchr22\t310000\t310200\n")
    args = {"intervals_file": str(bed), "fasta_file": str(EXAMPLES / "genome.fa"), "dnase_file": str(EXAMPLES / "dnase.bw")}
    message = r"regions.bed, line 3: chr22:310000-310200 lies wholly past the end of chr22 \(300,000 bp in genome.fa\)"
    with pytest.raises(BedFormatError, match=message):
        epizoo.get_model(FOXA1).pipeline.predict(args)
    result = subprocess.run([sys.executable, "-m", "kipoi", "predict", f"zoo/{FOXA1}", "--source", "dir",
                             "--dataloader_args", json.dumps(args), "-o", str(tmp_path / "p.tsv")],
                            cwd=REPO, capture_output=True, text=True)
    assert result.returncode != 0 and re.search(message, result.stderr), result.stderr[-2000:]
    # a window that only reaches past the end is kept, N-padded and flagged
    bed.write_text("chr22\t1000\t1200\nchr22\t299900\t300100\n")
    batch = next(epizoo.get_model(FOXA1).default_dataloader(**args).batch_iter(batch_size=4))
    assert batch["metadata"]["padded"].tolist() == [False, True]


def _bcf_and_vcf(tmp_path):
    """The example's chr22 records as a VCF with its contig declared, and the same as BCF."""
    import pysam

    lines = (EXAMPLES / "variants.vcf").read_text().splitlines()
    header = [l for l in lines if l.startswith("##") and not l.startswith("##contig")]
    records = [l for l in lines if not l.startswith("#") and l.split("\t")[0] == "chr22" and "<" not in l.split("\t")[4]]
    vcf = tmp_path / "v.vcf"
    vcf.write_text("\n".join([*header, "##contig=<ID=chr22,length=300000>", lines[[l.startswith("#CHROM") for l in lines].index(True)],
                              *records]) + "\n")
    with pysam.VariantFile(str(vcf)) as source, pysam.VariantFile(str(tmp_path / "v.bcf"), "wb", header=source.header) as out:
        for record in source:
            out.write(record)
    return vcf, tmp_path / "v.bcf"


def test_a_bcf_is_read_as_its_vcf_in_score_variants_and_the_kipoi_form(mirror, tmp_path):
    import epizoo
    import pandas as pd

    vcf, bcf = _bcf_and_vcf(tmp_path)
    args = {"dnase_file": str(EXAMPLES / "dnase.bw")}
    from_vcf = epizoo.score_variants(FOXA1, vcf, EXAMPLES / "genome.fa", args, scores=["diff"])
    from_bcf = epizoo.score_variants(FOXA1, bcf, EXAMPLES / "genome.fa", args, scores=["diff"])
    pd.testing.assert_frame_equal(from_bcf, from_vcf)
    assert len(from_bcf) == 46 and from_bcf.attrs["summary"].n_rejected == from_vcf.attrs["summary"].n_rejected == 4
    out = tmp_path / "effects.tsv"
    result = subprocess.run([sys.executable, "-m", "kipoi", "predict", f"zoo/VariantEffects/{FOXA1}", "--source", "dir",
                             "--dataloader_args", json.dumps({"vcf_file": str(bcf), "fasta_file": str(EXAMPLES / "genome.fa"),
                                                              **args}), "-o", str(out)],
                            cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    table = pd.read_csv(out, sep="\t")
    assert len(table) == 50 and set(table["preds/variant/chrom"]) == {"chr22"}  # text, not BCF bytes
    assert table["preds/variant/reason"].isna().sum() == 46


ENTRIES = {  # one entry of each kind, with its dataloader arguments, and the rows it writes
    FOXA1: ({"intervals_file": "examples/regions.bed", "fasta_file": "examples/genome.fa",
             "dnase_file": "examples/dnase.bw"}, 10),
    "TFTransfer/JUND_finetuned": ({"intervals_file": "examples/dhs_regions.bed", "fasta_file": "examples/genome.fa"},
                                  len((EXAMPLES / "dhs_regions.bed").read_text().splitlines())),
    f"VariantEffects/{FOXA1}": ({"vcf_file": "examples/variants.vcf", "fasta_file": "examples/genome.fa",
                                "dnase_file": "examples/dnase.bw"}, 53),
}


@pytest.mark.parametrize("suffix", [".h5", ".tsv", ".parquet"])
@pytest.mark.parametrize("entry", list(ENTRIES))
def test_stock_kipoi_predict_writes_every_format_with_metadata(mirror, tmp_path, entry, suffix):
    import h5py
    import pandas as pd

    args, n_rows = ENTRIES[entry]
    out = tmp_path / f"preds{suffix}"
    result = subprocess.run([sys.executable, "-m", "kipoi", "predict", f"zoo/{entry}", "--source", "dir",
                             "--dataloader_args", json.dumps(args), "-m", "-o", str(out)],
                            cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    if suffix == ".h5":
        with h5py.File(out) as handle:
            names = []
            handle.visit(names.append)
            datasets = [n for n in names if isinstance(handle[n], h5py.Dataset)]
            assert all(len(handle[n]) == n_rows for n in datasets) and any(n.startswith("preds") for n in datasets)
            if "metadata/ranges/chr" in datasets:
                assert handle["metadata/ranges/chr"][0] == b"chr22"
    else:
        table = pd.read_csv(out, sep="\t") if suffix == ".tsv" else pd.read_parquet(out)
        assert len(table) == n_rows and any(c.startswith("preds") for c in table.columns)


def test_an_empty_bed_says_so_and_writes_a_header_only_file(mirror, tmp_path):
    bed = tmp_path / "empty.bed"
    bed.write_text("")
    args = {"intervals_file": str(bed), "fasta_file": str(EXAMPLES / "genome.fa"), "dnase_file": str(EXAMPLES / "dnase.bw")}
    out = tmp_path / "preds.tsv"
    result = subprocess.run([sys.executable, "-m", "kipoi", "predict", f"zoo/{FOXA1}", "--source", "dir",
                             "--dataloader_args", json.dumps(args), "-m", "-o", str(out)],
                            cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0 and f"no intervals in {bed}" in result.stderr, result.stderr[-2000:]
    lines = out.read_text().splitlines()
    assert len(lines) == 1 and "preds/0" in lines[0] and "metadata/ranges/chr" in lines[0]


def test_dataloader_argument_mistakes_name_the_valid_arguments(mirror, tmp_path):
    from epizoo.zoo.FactorNet.dataloader import DGF

    with pytest.raises(TypeError, match=r"DGF takes no argument 'dnase_fle'; needs 'dnase_file'\. Its arguments are "
                                        r"intervals_file, fasta_file, dnase_file, use_linecache, allow_missing_tracks"):
        DGF(EXAMPLES / "regions.bed", EXAMPLES / "genome.fa", dnase_fle=EXAMPLES / "dnase.bw")
    args = {"intervals_file": None, "fasta_file": str(EXAMPLES / "genome.fa"), "dnase_file": str(EXAMPLES / "dnase.bw")}
    result = subprocess.run([sys.executable, "-m", "kipoi", "predict", f"zoo/{FOXA1}", "--source", "dir",
                             "--dataloader_args", json.dumps(args), "-o", str(tmp_path / "p.tsv")],
                            cwd=REPO, capture_output=True, text=True)
    assert result.returncode != 0 and "DGF needs intervals_file, a BED of the regions" in result.stderr
    del args["intervals_file"]
    args["dnase_fle"] = args.pop("dnase_file")  # Kipoi drops the unknown name and then misses dnase_file
    result = subprocess.run([sys.executable, "-m", "kipoi", "predict", f"zoo/{FOXA1}", "--source", "dir",
                             "--dataloader_args", json.dumps({**args, "intervals_file": str(EXAMPLES / "regions.bed")}),
                             "-o", str(tmp_path / "p.tsv")], cwd=REPO, capture_output=True, text=True)
    assert result.returncode != 0 and "DGF needs 'dnase_file'. Its arguments are" in result.stderr


# -- Kipoi's FactorNet input forms (item 6) ------------------------------------------------------
KIPOI_SCRIPT = """
import json, sys
import kipoi
import numpy as np

model = kipoi.get_model("FactorNet/FOXA1/onePeak_DGF")
examples = sys.argv[1]
dl = model.default_dataloader(intervals_file=f"{examples}/stranded.bed", fasta_file=f"{examples}/genome.fa",
                              dnase_file=f"{examples}/dnase.bw", use_linecache=True)
batch = next(dl.batch_iter(batch_size=4))
seq = batch["inputs"]["seq"]
seq_rc = np.concatenate([seq[:, ::-1, 3::-1], seq[:, ::-1, 4:]], axis=-1)  # Kipoi's dataloader's seq_rc
ranges, ranges_rc = batch["metadata"]["ranges"], batch["metadata"]["ranges_rc"]
print(json.dumps({"list": model.predict_on_batch([seq, seq_rc]).tolist(),
                  "mapping": model.predict_on_batch(batch["inputs"]).tolist(),
                  "strand": list(ranges["strand"]), "strand_rc": list(ranges_rc["strand"]),
                  "same_window": bool((ranges["start"] == ranges_rc["start"]).all())}))
"""


def test_a_script_written_for_kipois_factornet_entry_runs_unchanged(mirror, tmp_path):
    import os

    folder = tmp_path / "examples"
    folder.mkdir()
    for name in ("genome.fa", "dnase.bw"):
        (folder / name).symlink_to(EXAMPLES / name)
    rows = [line.split("\t")[:3] for line in (EXAMPLES / "regions.bed").read_text().splitlines()[:4]]
    (folder / "stranded.bed").write_text("".join(f"{c}\t{s}\t{e}\tr{k}\t0\t{'+-'[k % 2]}\n"
                                                 for k, (c, s, e) in enumerate(rows)))
    env = {**os.environ, "HOME": str(tmp_path / "home")}
    subprocess.run([sys.executable, "-m", "epizoo", "source", "register", "--default"], env=env, check=True,
                   capture_output=True)
    result = subprocess.run([sys.executable, "-c", KIPOI_SCRIPT, str(folder)], env=env, cwd=tmp_path,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    out = json.loads(result.stdout.strip().splitlines()[-1])
    np.testing.assert_array_equal(out["list"], out["mapping"])
    assert out["strand"] == ["+", "-", "+", "-"] and out["strand_rc"] == ["-"] * 4 and out["same_window"]


def _foxa1_batch(n=3):
    import epizoo

    model = epizoo.get_model(FOXA1)
    dl = model.default_dataloader(intervals_file=str(EXAMPLES / "regions.bed"), fasta_file=str(EXAMPLES / "genome.fa"),
                                  dnase_file=str(EXAMPLES / "dnase.bw"))
    return model, next(dl.batch_iter(batch_size=n))["inputs"]


def _kipoi_seq_rc(seq: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(np.concatenate([seq[:, ::-1, 3::-1], seq[:, ::-1, 4:]], axis=-1))


def test_a_seq_rc_that_is_not_the_reverse_strand_is_refused(mirror):
    model, inputs = _foxa1_batch()
    seq = inputs["seq"]
    stale = _kipoi_seq_rc(seq)
    mutated = seq.copy()
    mutated[1, 500, :4] = mutated[1, 500, [1, 2, 3, 0]]  # a substitution on the forward strand only
    with pytest.raises(ValueError, match=r"seq_rc is not the reverse complement of seq \(first in batch row 1, 1 row"):
        model.predict_on_batch([mutated, stale])
    with pytest.raises(ValueError, match=r"the second input is seq_rc .* got \(3, 500, 5\)"):
        model.predict_on_batch([seq, np.ascontiguousarray(seq[:, :500])])
    with pytest.raises(ValueError, match="this FactorNet takes no meta_features"):
        model.predict_on_batch([seq, np.zeros((3, 8), np.float32)])
    with pytest.raises(ValueError, match="this FactorNet takes no meta_features"):
        model.predict_on_batch({"seq": seq, "meta_features": np.zeros((3, 8), np.float32)})


def test_kipois_three_input_form_equals_the_mapping_for_meta_models(mirror):
    import epizoo

    model = epizoo.get_model("FactorNet/EGR1/meta_RNAseq_Unique35_DGF")
    dl = model.default_dataloader(intervals_file=str(EXAMPLES / "regions.bed"), fasta_file=str(EXAMPLES / "genome.fa"),
                                  dnase_file=str(EXAMPLES / "dnase.bw"), mappability_file=str(EXAMPLES / "mappability.bw"),
                                  cell_line="hepg2")
    inputs = next(dl.batch_iter(batch_size=3))["inputs"]
    listed = model.predict_on_batch([inputs["seq"], _kipoi_seq_rc(inputs["seq"]), inputs["meta_features"]])
    np.testing.assert_array_equal(listed, model.predict_on_batch(inputs))


def test_cell_lines_follow_kipois_rules(mirror, tmp_path):
    from epizoo.zoo.FactorNet.dataloader import GencodeUnique35DGF, MetaUnique35DGF

    common = dict(intervals_file=EXAMPLES / "regions.bed", fasta_file=EXAMPLES / "genome.fa",
                  dnase_file=EXAMPLES / "dnase.bw", mappability_file=EXAMPLES / "mappability.bw")
    hepg2 = MetaUnique35DGF(**common, cell_line="HepG2").cell_features
    np.testing.assert_array_equal(MetaUnique35DGF(**common, cell_line="hepG2").cell_features, hepg2)
    pc3 = MetaUnique35DGF(**common, cell_line="pc-3").cell_features
    assert pc3.shape == (8,) and not np.array_equal(pc3, hepg2)
    other = tmp_path / "meta.txt"
    other.write_text("".join(f"{k}\tGEPC{k + 1}\n" for k in range(8)))
    with pytest.warns(UserWarning, match="using cell_line 'HepG2'.* ignoring .*meta.txt, as Kipoi"):
        both = MetaUnique35DGF(**common, cell_line="HepG2", RNAseq_PC_file=other).cell_features
    np.testing.assert_array_equal(both, hepg2)
    with pytest.raises(ValueError, match="unknown cell_line 'HepG3'"):
        MetaUnique35DGF(**common, cell_line="HepG3")
    gencode = GencodeUnique35DGF(**common, cell_line="K562", use_linecache=False)  # Kipoi's signature
    assert gencode.cell_features is None


# -- outputs after kill -9 (item 11) -----------------------------------------------------------
KILLED_WRITER = """
import os, signal, sys
from epizoo.atomic import atomic_path, atomic_dir
target = sys.argv[1]
with atomic_path(target) as tmp:
    tmp.write_text("partial")
    with atomic_dir(target + ".d") as folder:
        (folder / "part").write_text("partial")
        os.kill(os.getpid(), signal.SIGKILL)
"""


def test_temporaries_of_a_killed_run_are_removed_by_the_next_successful_write(tmp_path):
    import os
    import socket

    from epizoo.atomic import atomic_dir, write_text

    target = tmp_path / "effects.tsv"
    result = subprocess.run([sys.executable, "-c", KILLED_WRITER, str(target)], capture_output=True)
    assert result.returncode == -9
    left = sorted(p.name for p in tmp_path.iterdir())
    assert len(left) == 2 and all(name.startswith(".effects.tsv") and name.endswith(".tmp") for name in left)
    host = socket.gethostname()
    live = tmp_path / f".effects.tsv.{host}.{os.getpid()}-abc.tmp"  # a concurrent writer in this process
    other_host = tmp_path / ".effects.tsv.another-node.1-abc.tmp"
    for in_flight in (live, other_host):
        in_flight.write_text("in flight")
    write_text(target, "done\n")
    with atomic_dir(tmp_path / "effects.tsv.d") as folder:
        (folder / "part").write_text("done")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([
        "effects.tsv", "effects.tsv.d", live.name, other_host.name])
    assert target.read_text() == "done\n"


# -- the weights store's messages (item 10) ----------------------------------------------------
@pytest.fixture
def fresh_cache(monkeypatch, tmp_path):
    cache = tmp_path / "cache"
    monkeypatch.setenv("EPIZOO_CACHE", str(cache))
    return cache


def _corrupt_conversion(cache):
    import epizoo

    epizoo.get_model(FOXA1, with_dataloader=False)
    (converted,) = cache.glob("converted/*/*/weights.safetensors")
    with open(converted, "ab") as handle:
        handle.write(b"junk")
    return converted


def test_a_corrupt_cached_conversion_is_named_removed_and_redone(mirror, fresh_cache, caplog):
    import epizoo

    converted = _corrupt_conversion(fresh_cache)
    with caplog.at_level("WARNING"):
        epizoo.get_model(FOXA1, with_dataloader=False)
    assert f"the cached conversion {converted} had sha256" in caplog.text and "it was removed" in caplog.text


def test_a_corrupt_cached_conversion_without_its_sources_says_what_was_done(mirror, fresh_cache, monkeypatch):
    import epizoo

    import shutil

    converted = _corrupt_conversion(fresh_cache)
    shutil.rmtree(fresh_cache / "files", ignore_errors=True)
    monkeypatch.setenv("EPIZOO_MIRROR", "")
    with pytest.raises(FileNotFoundError, match=rf"the cached conversion {re.escape(str(converted))} had sha256 .* "
                                                r"it was removed; converting again needs the published files"):
        epizoo.get_model(FOXA1, with_dataloader=False)
    assert not converted.exists()


def test_a_corrupt_committed_weights_file_says_to_restore_it(tmp_path):
    import shutil

    import epizoo
    from epizoo.weights import IntegrityError

    entry = tmp_path / "JUND_finetuned"
    shutil.copytree(REPO / "zoo" / "TFTransfer" / "JUND_finetuned", entry)
    with open(entry / "weights.safetensors", "ab") as handle:
        handle.write(b"junk")
    with pytest.raises(IntegrityError, match=r"it is the entry's own file: restore it") as caught:
        epizoo.get_model(str(entry), with_dataloader=False)
    assert "delete it" not in str(caught.value)


def test_an_unwritable_cache_is_one_line(mirror, tmp_path, monkeypatch, capsys):
    import tempfile

    import epizoo
    from epizoo.atomic import NotWritableError
    from epizoo.cli import main

    afile = tmp_path / "afile"
    afile.write_text("")
    monkeypatch.setenv("EPIZOO_CACHE", str(afile / "cache"))
    assert main(["score-variants", FOXA1, "--vcf", str(EXAMPLES / "variants.vcf"), "--fasta", str(EXAMPLES / "genome.fa"),
                 "--out", str(tmp_path / "out.tsv")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "cannot be created" in err[0] and "Fix: set EPIZOO_CACHE to a writable folder" in err[0]
    read_only = tmp_path / "read-only"
    monkeypatch.setenv("EPIZOO_CACHE", str(read_only))
    real_mkstemp = tempfile.mkstemp

    def refuse_in_cache(*args, dir=None, **kwargs):  # what a read-only folder does (root ignores modes)
        if read_only in Path(dir).parents or Path(dir) == read_only:
            raise PermissionError(13, "Permission denied")
        return real_mkstemp(*args, dir=dir, **kwargs)

    monkeypatch.setattr("epizoo.atomic.tempfile.mkstemp", refuse_in_cache)
    with pytest.raises(NotWritableError, match=r"Permission denied\. EPIZOO_CACHE \(.*read-only\) must be writable"):
        epizoo.get_model(FOXA1, with_dataloader=False)


def test_a_mirror_file_with_the_right_name_and_the_wrong_checksum_is_named(tmp_path, fresh_cache, monkeypatch):
    import epizoo

    stale = tmp_path / "mirror" / "FOXA1" / "model.json"
    stale.parent.mkdir(parents=True)
    stale.write_text("{}")
    monkeypatch.setenv("EPIZOO_MIRROR", str(tmp_path / "mirror"))
    with pytest.raises(FileNotFoundError, match=rf"{re.escape(str(stale))} in EPIZOO_MIRROR has the name of model.json "
                                                r"but md5 99914b932bd37a50b983c5e7c90ae93b, not .*Fix: replace it"):
        epizoo.get_model(FOXA1, with_dataloader=False)


def test_fetch_gets_what_it_can_and_then_reports(mirror, capsys):
    from epizoo.cli import main

    assert main(["fetch", "FactorNet/TAF1/GENCODE_Unique35_DGF", FOXA1]) == 1
    captured = capsys.readouterr()
    assert captured.out.splitlines()[0].startswith("FAILED  FactorNet/TAF1/GENCODE_Unique35_DGF: ")
    assert captured.out.splitlines()[1] == f"ok      {FOXA1}"
    assert "1 of 2 could not be fetched: FactorNet/TAF1/GENCODE_Unique35_DGF" in captured.err


def test_a_corrupt_cached_download_is_named_and_removed(tmp_path, caplog):
    from epizoo.weights import FileRef, WeightStore, file_digests

    good = tmp_path / "mirror" / "weights.bin"
    good.parent.mkdir()
    good.write_bytes(b"the published bytes")
    ref = FileRef(url="https://example.org/weights.bin", **file_digests(good))
    store = WeightStore(cache=tmp_path / "cache", mirrors=[good.parent], allow_download=False)
    corrupt = tmp_path / "cache" / "files" / ref.key / "weights.bin"
    corrupt.parent.mkdir(parents=True)
    corrupt.write_bytes(b"the published byte")
    with caplog.at_level("WARNING"):
        assert store.fetch(ref) == good
    assert f"{corrupt} did not match its checksums (a corrupt copy): removed it" in caplog.text and not corrupt.exists()


# -- htslib-readable VCF output (item 12) ---------------------------------------------------------
READ_INFO = """
import json, sys
import pysam
record = next(iter(pysam.VariantFile(sys.argv[1])))
print(json.dumps({key: value for key, value in record.info.items()}))
"""


@pytest.mark.parametrize("style", ["kipoi", "vcf"])
def test_vcf_scores_are_floats_to_htslib_and_spec_valid_ids_on_request(mirror, tmp_path, style):
    from epizoo.veff import score_variants

    out = tmp_path / "effects.vcf.gz"
    score_variants(FOXA1, EXAMPLES / "variants.vcf", EXAMPLES / "genome.fa", {"dnase_file": str(EXAMPLES / "dnase.bw")},
                   scores=["diff", "logit"], out=out, info_ids=style)
    result = subprocess.run([sys.executable, "-c", READ_INFO, str(out)], capture_output=True, text=True)
    info = json.loads(result.stdout)
    kipoi_id = f"KV:epizoo:{FOXA1}/is_binding_site:DIFF"
    key = kipoi_id if style == "kipoi" else re.sub(r"[^0-9A-Za-z_.]", "_", kipoi_id)
    assert key == (kipoi_id if style == "kipoi" else "KV_epizoo_FactorNet_FOXA1_onePeak_DGF_is_binding_site_DIFF")
    assert isinstance(info[key], float)
    assert ("Invalid tag name" in result.stderr) == (style == "kipoi")


def test_multi_task_scores_are_one_vcf_list_value_per_task(tmp_path):
    from types import SimpleNamespace

    import pysam

    from epizoo.dataloaders.variants import Variant
    from epizoo.plugins.veff.writers import VcfWriter

    group = SimpleNamespace(entry="toy", output="out", score="diff", tasks=("A", "B"), names=("toy/out/A/diff", "toy/out/B/diff"))
    header = ["##fileformat=VCFv4.2", "##contig=<ID=chr1,length=1000>"]
    variant = Variant("chr1", 10, "rs1", "A", "G", qual_filter_info=".\t.\t.")
    with VcfWriter(tmp_path / "toy.vcf", header, [group], info_ids="vcf") as writer:
        writer.write([variant], {"toy/out/A/diff": np.array([0.25]), "toy/out/B/diff": np.array([-0.5])})
    record = next(iter(pysam.VariantFile(str(tmp_path / "toy.vcf"))))
    assert record.info["KV_epizoo_toy_out_DIFF"] == (0.25, -0.5)


# -- example files (item 5) ----------------------------------------------------------------------
@pytest.mark.parametrize("entry", [FOXA1, "FactorNet/GABPA/metaGENCODE_RNAseq_Unique35_DGF", "TFTransfer/JUND_finetuned"])
def test_kipoi_get_example_copies_the_files_and_its_kwargs_work_from_the_users_folder(mirror, tmp_path, entry):
    import filecmp
    import os

    env = {**os.environ, "HOME": str(tmp_path / "home")}
    subprocess.run([sys.executable, "-m", "epizoo", "source", "register", "--default"], env=env, check=True,
                   capture_output=True)
    kipoi = [sys.executable, "-m", "kipoi"]
    result = subprocess.run([*kipoi, "get-example", entry, "-o", "example"], cwd=tmp_path, env=env,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    kwargs = json.loads(result.stdout.strip().splitlines()[-1])
    files = {key: value for key, value in kwargs.items() if key.endswith("_file")}
    assert files and all(value.startswith("example/") for value in files.values())
    for value in files.values():
        assert filecmp.cmp(tmp_path / value, EXAMPLES / Path(value).name, shallow=False)
    result = subprocess.run([*kipoi, "predict", entry, "--dataloader_args", json.dumps(kwargs), "-o", "preds.tsv"],
                            cwd=tmp_path, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    regions = (tmp_path / files["intervals_file"]).read_text().splitlines()
    assert len((tmp_path / "preds.tsv").read_text().splitlines()) == 1 + len(regions)


def test_predict_example_works_from_anywhere(mirror, tmp_path, monkeypatch):
    import epizoo

    monkeypatch.chdir(tmp_path)
    for entry in (FOXA1, "TFTransfer/JUND_finetuned", f"VariantEffects/{FOXA1}"):
        predictions = epizoo.get_model(entry).pipeline.predict_example()
        assert len(predictions) if not isinstance(predictions, dict) else predictions
    assert not list(tmp_path.iterdir())  # nothing copied or written here
    assert not (REPO / "zoo" / "FactorNet" / "downloaded").exists()  # nor into the zoo


def test_each_kipoi_description_annotates_its_own_class(mirror, tmp_path):
    import pickle

    from kipoi.specs import RemoteFile

    from epizoo.registry import get_dataloader
    from epizoo.zoo.FactorNet.dataloader import DGF

    from_yaml = get_dataloader("FactorNet/EGR1/onePeak_DGF")  # Kipoi's dataloader.yaml route
    assert from_yaml is not DGF and issubclass(from_yaml, DGF)
    assert from_yaml.args["fasta_file"].example == "../../examples/genome.fa"
    assert isinstance(DGF.args["fasta_file"].example, RemoteFile)  # the imported class keeps its own
    dataset = from_yaml(intervals_file=str(EXAMPLES / "regions.bed"), fasta_file=str(EXAMPLES / "genome.fa"),
                        dnase_file=str(EXAMPLES / "dnase.bw"))
    clone = pickle.loads(pickle.dumps(dataset))  # worker processes get the importable class
    assert type(clone) is DGF and len(clone) == len(dataset)


# -- epizoo check compares the two published copies of a FactorNet model (item 7) ----------------
def _entry_with_a_kipoi_copy(tmp_path, perturb: float = 0.0):
    import os

    import h5py
    import yaml
    from kipoi_resave import write_kipoi_resave

    from epizoo.registry import model_yaml
    from epizoo.weights import file_digests

    model_json, weights = write_kipoi_resave(DATA / "factornet" / "models" / "FOXA1" / "onePeak_DGF", tmp_path / "kipoi")
    if perturb:  # the output layer's bias: the last weight Keras saved
        with h5py.File(weights, "r+") as handle:
            last = [name for name in handle.attrs["layer_names"] if len(handle[name].attrs["weight_names"])][-1]
            handle[last][handle[last].attrs["weight_names"][-1]][...] += perturb
    description = model_yaml(FOXA1)
    description["args"]["weights"]["cross_check"]["from"] = {
        role: {"url": f"https://zenodo.org/record/1/files/{path.name}?download=1", "md5": file_digests(path)["md5"]}
        for role, path in (("model_json", model_json), ("weights_hdf5", weights))}
    entry = tmp_path / "entry"
    entry.mkdir()
    (entry / "model.yaml").write_text(yaml.safe_dump(description))
    return entry, os.pathsep.join([str(DATA), str(tmp_path / "kipoi")])


@pytest.mark.parametrize("perturb", [0.0, 0.5])
def test_epizoo_check_compares_kipois_copy_when_it_is_at_hand(mirror, fresh_cache, tmp_path, monkeypatch, perturb):
    from epizoo.check import CheckReport, _check_cross_conversion

    entry, mirrors = _entry_with_a_kipoi_copy(tmp_path, perturb)
    monkeypatch.setenv("EPIZOO_MIRROR", mirrors)
    report = CheckReport(str(entry))
    _check_cross_conversion(str(entry), report)
    if perturb:
        assert report.problems and "the other published copy (factornet-kipoi) differs" in report.problems[0]
    else:
        assert not report.problems and "predicts the same (max |difference| 0)" in report.passed[0]
