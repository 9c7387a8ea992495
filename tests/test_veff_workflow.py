"""The scatter/gather workflow of ``epizoo score-variants``: `gather` on its own, then Snakemake end to end.

The end-to-end test runs the shipped Snakefile locally with 2 cores and 4 shards on a VCF made of
real records (../shared/data/variants) and the repo's example records, and checks that the
gathered output and rejects equal a single-process run and add up to the input's alleles.
"""
from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
import yaml

from epizoo.plugins.veff.gather import Counts, GatherError, gather, read_summary, vcf_counts

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"
FOXA1 = "FactorNet/FOXA1/onePeak_DGF"
ARGS = {"dnase_file": str(EXAMPLES / "dnase.bw")}
HEADER = "#CHROM\tPOS\tID\tREF\tALT\tm/t/diff\n"
REJECTS_HEADER = "#CHROM\tPOS\tID\tREF\tALT\treason\n"


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def _rows(prefix: str, n: int, reason: str | None = None) -> str:
    last = f"\t{reason}" if reason else "\t0.5"
    return "".join(f"chr1\t{i + 1}\t{prefix}{i}\tA\tC{last}\n" for i in range(n))


def _shards(tmp_path: Path, scored: list[int], rejected: list[int], empty_output: tuple[int, ...] = ()):
    """Hand-written shard files: outputs (0 bytes for ``empty_output``), rejects, summaries."""
    outs, rejects, summaries = [], [], []
    for k, (n_scored, n_rejected) in enumerate(zip(scored, rejected), start=1):
        text = "" if k in empty_output else HEADER + _rows(f"s{k}_", n_scored)
        outs.append(_write(tmp_path / f"shard_{k}.tsv", text))
        rejects.append(_write(tmp_path / f"shard_{k}.rejects.tsv", REJECTS_HEADER + _rows(f"r{k}_", n_rejected, "why")))
        counts = {"records": n_scored + n_rejected, "alleles": n_scored + n_rejected, "scored": n_scored, "rejected": n_rejected}
        summaries.append(_write(tmp_path / f"shard_{k}.summary.json", json.dumps(counts)))
    return outs, rejects, summaries


# -- gather ----------------------------------------------------------------------------------
def test_gather_concatenates_in_shard_order_with_one_header(tmp_path):
    outs, rejects, summaries = _shards(tmp_path, scored=[2, 0, 3], rejected=[1, 2, 0], empty_output=(2,))
    counts = gather(outs, rejects, tmp_path / "all.tsv", tmp_path / "all.rejects.tsv", summaries=summaries)
    assert (tmp_path / "all.tsv").read_text() == HEADER + _rows("s1_", 2) + _rows("s3_", 3)
    assert (tmp_path / "all.rejects.tsv").read_text() == REJECTS_HEADER + _rows("r1_", 1, "why") + _rows("r2_", 2, "why")
    assert counts == Counts(records=8, alleles=8, scored=5, rejected=3)


def test_gather_header_only_and_all_empty_shards(tmp_path):
    outs, rejects, _ = _shards(tmp_path, scored=[0, 0], rejected=[0, 0])
    gather(outs, rejects, tmp_path / "all.tsv", tmp_path / "all.rejects.tsv")
    assert (tmp_path / "all.tsv").read_text() == HEADER  # header-only shards: header once
    assert (tmp_path / "all.rejects.tsv").read_text() == REJECTS_HEADER
    for path in outs + rejects:
        path.write_text("")  # writers that never started: nothing, and the rejects keep their header
    gather(outs, rejects, tmp_path / "none.tsv", tmp_path / "none.rejects.tsv")
    assert (tmp_path / "none.tsv").read_text() == ""
    assert (tmp_path / "none.rejects.tsv").read_text() == REJECTS_HEADER


def test_gather_tsv_gz_is_gzip_and_deterministic(tmp_path):
    outs, rejects, _ = _shards(tmp_path, scored=[2, 3], rejected=[0, 1])
    gz_outs = []
    for path in outs:
        gz_outs.append(path.with_suffix(".tsv.gz"))
        gz_outs[-1].write_bytes(gzip.compress(path.read_bytes()))
    gather(gz_outs, rejects, tmp_path / "a.tsv.gz", tmp_path / "a.rejects.tsv")
    gather(gz_outs, rejects, tmp_path / "b.tsv.gz", tmp_path / "b.rejects.tsv")
    assert gzip.decompress((tmp_path / "a.tsv.gz").read_bytes()).decode() == HEADER + _rows("s1_", 2) + _rows("s2_", 3)
    assert (tmp_path / "a.tsv.gz").read_bytes() == (tmp_path / "b.tsv.gz").read_bytes()


def test_gather_refuses_counts_that_do_not_add_up_and_writes_nothing(tmp_path):
    outs, rejects, summaries = _shards(tmp_path, scored=[2, 3], rejected=[1, 1])
    summaries[1].write_text(json.dumps({"records": 4, "alleles": 4, "scored": 2, "rejected": 2}))  # says 2, file has 3
    with pytest.raises(GatherError, match=r"shard 2 does not add up.*shard_2.summary.json.*--forcerun"):
        gather(outs, rejects, tmp_path / "all.tsv", tmp_path / "all.rejects.tsv", summaries=summaries)
    assert not (tmp_path / "all.tsv").exists() and not (tmp_path / "all.rejects.tsv").exists()
    assert list(tmp_path.glob(".all*")) == []  # no temporary files left behind


def test_gather_refuses_a_missing_shard_against_the_whole_vcf(tmp_path):
    vcf = _write(tmp_path / "v.vcf", "##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\n"
                 + "".join(f"chr1\t{i}\t.\tA\tC,G\n" for i in range(1, 6)))  # 5 records, 10 alleles
    assert vcf_counts(vcf) == Counts(records=5, alleles=10)
    outs, rejects, summaries = _shards(tmp_path, scored=[4, 4], rejected=[0, 0])
    with pytest.raises(GatherError, match=r"read 8 records but .*v.vcf has 5"):
        gather(outs, rejects, tmp_path / "all.tsv", tmp_path / "all.rejects.tsv", summaries=summaries, vcf=vcf)
    with pytest.raises(GatherError, match=r"8 in all, but .*v.vcf has 10 alleles"):
        gather(outs, rejects, tmp_path / "all.tsv", tmp_path / "all.rejects.tsv", vcf=vcf)
    assert not (tmp_path / "all.tsv").exists()


def test_gather_refuses_shards_of_other_columns_or_formats(tmp_path):
    outs, rejects, _ = _shards(tmp_path, scored=[1, 1], rejected=[0, 0])
    outs[1].write_text(HEADER.replace("diff", "logit") + _rows("x", 1))
    with pytest.raises(GatherError, match="shard_2.tsv has other columns than .*shard_1.tsv"):
        gather(outs, rejects, tmp_path / "all.tsv", tmp_path / "all.rejects.tsv")
    with pytest.raises(GatherError, match="is not .parquet"):
        gather(outs, rejects, tmp_path / "all.parquet", tmp_path / "all.rejects.tsv")
    with pytest.raises(GatherError, match="2 shard outputs but 1 rejects"):
        gather(outs, rejects[:1], tmp_path / "all.tsv", tmp_path / "all.rejects.tsv")


def test_read_summary_names_the_file_when_it_holds_no_summary(tmp_path):
    with pytest.raises(GatherError, match="empty.json holds no summary"):
        read_summary(_write(tmp_path / "empty.json", ""))


@pytest.mark.parametrize("suffix", [".vcf.gz", ".parquet"])
def test_gathered_real_shards_equal_the_whole_run(mirror, tmp_path, suffix):
    from epizoo.plugins.veff import score_variants

    vcf, fasta = EXAMPLES / "variants.vcf", EXAMPLES / "genome.fa"
    whole = score_variants(FOXA1, vcf, fasta, ARGS, out=tmp_path / f"whole{suffix}")
    parts = [score_variants(FOXA1, vcf, fasta, ARGS, shard=(i, 3), out=tmp_path / f"shard_{i}{suffix}") for i in (1, 2, 3)]
    counts = gather([p.out for p in parts], [p.rejects for p in parts], tmp_path / f"all{suffix}",
                    tmp_path / "all.rejects.tsv", vcf=vcf)
    assert (counts.records, counts.alleles, counts.scored, counts.rejected) == (
        whole.records, whole.alleles, whole.scored, whole.n_rejected)
    assert (tmp_path / "all.rejects.tsv").read_bytes() == whole.rejects.read_bytes()
    if suffix == ".parquet":
        assert pq.read_table(tmp_path / f"all{suffix}").equals(pq.read_table(whole.out))
    else:
        assert gzip.decompress((tmp_path / f"all{suffix}").read_bytes()) == gzip.decompress(whole.out.read_bytes())


# -- the workflow, end to end ----------------------------------------------------------------
def _epizoo(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, "-m", "epizoo", *args], capture_output=True, text=True, cwd=cwd)
    assert result.returncode == 0, result.stderr
    return result


def _data_lines(path: Path) -> list[str]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt") as handle:
        return [line for line in handle if line.strip() and not line.startswith("#")]


def _mixed_vcf(path: Path, shared_data: Path) -> Path:
    """The example header; real records (mostly outside the example slice) with the example
    records spread evenly among them, so that every shard both scores and rejects."""
    real = [line for name in ("kipoiseq_chr22_ENST00000319363.vcf.gz", "edge_cases.vcf")
            for line in _data_lines(shared_data / "variants" / name)]
    ours = _data_lines(EXAMPLES / "variants.vcf")
    step = len(real) // len(ours)
    records = []
    for k, line in enumerate(ours):
        records += real[k * step:(k + 1) * step] + [line]
    records += real[len(ours) * step:]
    header = [line for line in (EXAMPLES / "variants.vcf").read_text().splitlines(keepends=True) if line.startswith("#")]
    path.write_text("".join(header + records))
    return path


def _alleles(vcf: Path) -> int:
    """Allele rows of a VCF, counted independently: one per ALT, one per short or ALT-less line."""
    fields = [line.rstrip("\n").split("\t") for line in _data_lines(vcf)]
    return sum(len(f[4].split(",")) if len(f) >= 5 else 1 for f in fields)


@pytest.mark.slow
def test_snakemake_workflow_gathers_what_a_single_run_writes(mirror, shared_data, tmp_path):
    printed = _epizoo("workflow", "score-variants").stdout
    _epizoo("workflow", "score-variants", "--write", str(tmp_path / "wf"))
    assert (tmp_path / "wf" / "Snakefile").read_text() == printed
    assert yaml.safe_load((tmp_path / "wf" / "config.yaml").read_text())["shards"] == 8  # the example parses

    vcf = _mixed_vcf(tmp_path / "mixed.vcf", shared_data)
    common = {"vcf": str(vcf), "fasta": str(EXAMPLES / "genome.fa"), "dataloader_args": ARGS}
    config = {**common, "models": [FOXA1], "scores": "diff,logit", "out": "gathered/effects.tsv.gz", "shards": 4}
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    run = subprocess.run(
        [sys.executable, "-m", "snakemake", "--cores", "2", "--snakefile", str(tmp_path / "wf" / "Snakefile"),
         "--configfile", str(tmp_path / "config.yaml"), "--directory", str(tmp_path / "run")],
        capture_output=True, text=True,
    )
    assert run.returncode == 0, run.stderr[-5000:]
    _epizoo("score-variants", FOXA1, "--vcf", str(vcf), "--fasta", common["fasta"], "--dataloader-args",
            str(ARGS).replace("'", '"'), "--scores", "diff,logit", "--out", str(tmp_path / "single" / "effects.tsv.gz"))

    gathered, single = tmp_path / "run" / "gathered", tmp_path / "single"
    assert (gathered / "effects.rejects.tsv").read_bytes() == (single / "effects.rejects.tsv").read_bytes()
    ours, theirs = (pd.read_csv(folder / "effects.tsv.gz", sep="\t") for folder in (gathered, single))
    pd.testing.assert_frame_equal(ours, theirs, rtol=1e-6)  # same rows, same order; scores to float32

    summaries = [read_summary(gathered / "effects.tsv.gz.shards" / f"shard_{i}.summary.json") for i in range(1, 5)]
    assert all(s.scored > 0 and s.rejected > 0 for s in summaries)  # the scatter really split both
    assert sum(s.records for s in summaries) == len(_data_lines(vcf))
    n_rejected = len(_data_lines(gathered / "effects.rejects.tsv"))
    assert len(ours) + n_rejected == _alleles(vcf) == sum(s.alleles for s in summaries)
    assert len(ours) == 47  # the example's scoreable alleles; every real record falls outside the slice
