"""Variant effects end to end with real FactorNet entries: correctness, accounting, outputs."""
import gzip
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pysam
import pytest

from conftest import REPO, VARIANTS
from epizoo.plugins.veff import score_variants
from epizoo.plugins.veff.entry_model import EntryModel

EXAMPLES = REPO / "examples"
FOXA1 = "FactorNet/FOXA1/onePeak_DGF"
GABPA = "FactorNet/GABPA/metaGENCODE_RNAseq_Unique35_DGF"
ARGS = {"dnase_file": str(EXAMPLES / "dnase.bw")}
ALL_ARGS = {**ARGS, "mappability_file": str(EXAMPLES / "mappability.bw"), "cell_line": "HepG2"}


def run(tmp_path, vcf=EXAMPLES / "variants.vcf", models=(FOXA1,), args=ARGS, name="out.tsv", **kwargs):
    return score_variants(list(models), vcf, EXAMPLES / "genome.fa", args, out=tmp_path / name, **kwargs)


def read_tsv(path):
    return pd.read_csv(path, sep="\t", dtype={"#CHROM": str, "ID": str})


def write_vcf(path, records):
    path.write_text("##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
                    + "".join("\t".join(map(str, r)) + "\t.\t.\t.\n" for r in records))
    return path


def genome_base(pos):
    from epizoo.dataloaders.genome import Genome

    return Genome(EXAMPLES / "genome.fa").sequence("chr22", pos - 1, pos)


def test_ref_scores_are_the_models_own_predictions_of_the_reference_window(mirror, tmp_path):
    from epizoo.registry import get_model

    frame = score_variants(FOXA1, EXAMPLES / "variants.vcf", EXAMPLES / "genome.fa", ARGS, scores=["ref", "alt"])
    snvs = frame[(frame["REF"].str.len() == 1) & (frame["ALT"].str.len() == 1)]
    bed = tmp_path / "windows.bed"
    bed.write_text("".join(f"chr22\t{p - 501}\t{p + 501}\n" for p in snvs["POS"]))
    model = get_model(FOXA1)
    batch = next(model.default_dataloader(bed, EXAMPLES / "genome.fa", ARGS["dnase_file"]).batch_iter(batch_size=1000))
    np.testing.assert_allclose(snvs[f"{FOXA1}/is_binding_site/FOXA1/ref"], model.predict_on_batch(batch["inputs"])[:, 0], atol=1e-6)
    assert (snvs[f"{FOXA1}/is_binding_site/FOXA1/ref"] != snvs[f"{FOXA1}/is_binding_site/FOXA1/alt"]).any()


def test_alt_equal_to_ref_scores_zero_and_swapping_alleles_negates_diff(mirror, tmp_path):
    pos = 120_000
    ref = genome_base(pos)
    alt = "A" if ref != "A" else "C"
    first = score_variants(FOXA1, write_vcf(tmp_path / "a.vcf", [("chr22", pos, "same", ref, ref), ("chr22", pos, "snv", ref, alt)]),
                           EXAMPLES / "genome.fa", ARGS, scores=["diff"])
    assert first[f"{FOXA1}/is_binding_site/FOXA1/diff"].iloc[0] == 0.0
    # the same change seen from a genome that carries the alternative allele
    sequence = "".join((EXAMPLES / "genome.fa").read_text().splitlines()[1:])
    (tmp_path / "alt.fa").write_text(">chr22\n" + sequence[: pos - 1] + alt + sequence[pos:] + "\n")
    swapped = score_variants(FOXA1, write_vcf(tmp_path / "b.vcf", [("chr22", pos, "swap", alt, ref)]),
                             tmp_path / "alt.fa", ARGS, scores=["diff"])
    diff = first[f"{FOXA1}/is_binding_site/FOXA1/diff"].iloc[1]
    assert diff != 0
    np.testing.assert_allclose(swapped[f"{FOXA1}/is_binding_site/FOXA1/diff"].iloc[0], -diff, atol=1e-6)


def test_breaking_a_planted_foxa1_site_changes_foxa1_more_than_neutral_snvs(mirror, tmp_path):
    from epizoo.dataloaders.simulate import simulate

    world = simulate(tmp_path / "sim", seed=3, n_chroms=2, chrom_length=60_000, cell_types=1,
                     motifs=("FOXA1", "CTCF"), sites_per_chrom=40)
    cell = world.cell_types[0]
    frame = score_variants(FOXA1, world.vcf, world.fasta, {"dnase_file": str(world.dnase_bigwigs[cell])}, scores=["diff"])
    truth = world.load_variants_truth().set_index("id")
    frame["kind"] = truth.loc[frame["ID"], "kind"].to_numpy()
    frame["tf"] = truth.loc[frame["ID"], "tf"].to_numpy()
    effect = frame[f"{FOXA1}/is_binding_site/FOXA1/diff"].abs()
    broken = effect[(frame["kind"] == "breaks_site") & (frame["tf"] == "FOXA1")]
    neutral = effect[frame["kind"] == "neutral"]
    assert len(broken) >= 3 and len(neutral) >= 3
    assert broken.mean() > 5 * neutral.mean()


def test_indels_are_scored_and_multi_allelic_records_split(mirror, tmp_path):
    frame = read_tsv(run(tmp_path).out)
    indels = frame[frame["REF"].str.len() != frame["ALT"].str.len()]
    assert len(indels) >= 8 and indels[f"{FOXA1}/is_binding_site/FOXA1/diff"].abs().gt(0).any()
    multi = frame[frame["ID"] == "ex07"]
    assert sorted(multi["ALT"].str.len()) == [1, 2]


@pytest.mark.parametrize("vcf", ["edge_cases.vcf", "kipoiseq_test.vcf.gz", "kipoiseq_test_with_multiple_variants.vcf.gz",
                                 "kipoiseq_chr22_ENST00000319363.vcf.gz", "dbsnp_chr22_29108009.vcf",
                                 "clinvar_donor_acceptor_chr22.vcf", "examples"])
def test_every_allele_is_a_row_or_a_reject(mirror, tmp_path, vcf):
    path = EXAMPLES / "variants.vcf" if vcf == "examples" else VARIANTS / vcf
    summary = run(tmp_path, vcf=path)
    rows, rejects = read_tsv(summary.out), pd.read_csv(summary.rejects, sep="\t")
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rt") as handle:
        records = [line for line in handle if line.strip() and not line.startswith("#")]
    alleles = sum(len(line.split("\t")[4].split(",")) for line in records)
    assert summary.records == len(records)
    assert len(rows) + len(rejects) == summary.alleles == alleles
    assert len(rows) == summary.scored and len(rejects) == summary.n_rejected


def test_fuzzed_records_are_each_accounted_for_with_a_reason(mirror, tmp_path):
    from epizoo.dataloaders.genome import Genome
    from test_variants import fuzz_records, write_vcf as write_fuzz

    genome = Genome(EXAMPLES / "genome.fa")
    records = fuzz_records(genome)
    summary = run(tmp_path, vcf=write_fuzz(tmp_path / "fuzz.vcf", [r for r, _ in records]))
    expected = [reason for _, reasons in records for reason in reasons]
    rejects = pd.read_csv(summary.rejects, sep="\t")
    assert summary.scored == sum(r is None for r in expected) == len(read_tsv(summary.out))
    wanted = sorted(r for r in expected if r)
    base_reasons = [next(w for w in set(wanted) if text == w or text.startswith(w + " "))
                    for text in rejects["reason"]]
    assert sorted(base_reasons) == wanted


def test_tsv_vcf_and_parquet_carry_the_same_scores(mirror, tmp_path):
    kwargs = dict(models=(FOXA1, GABPA), args=ALL_ARGS, scores=["diff", "logit"])
    tsv = read_tsv(run(tmp_path, name="e.tsv", **kwargs).out)
    parquet = pd.read_parquet(run(tmp_path, name="e.parquet", **kwargs).out)
    pd.testing.assert_frame_equal(tsv, parquet, check_dtype=False, atol=1e-6)
    vcf = run(tmp_path, name="e.vcf.gz", **kwargs).out
    with gzip.open(vcf, "rt") as handle:
        lines = handle.read().splitlines()
    assert f'##INFO=<ID=KV:epizoo:{GABPA}/is_binding_site:LOGIT,Number=1,Type=Float,Description="LOGIT' in "\n".join(lines)
    records = [line.split("\t") for line in lines if not line.startswith("#")]
    assert len(records) == len(tsv)
    info = dict(item.split("=") for item in records[0][7].split(";") if "=" in item)
    np.testing.assert_allclose(float(info[f"KV:epizoo:{FOXA1}/is_binding_site:DIFF"]), tsv[f"{FOXA1}/is_binding_site/FOXA1/diff"].iloc[0], rtol=1e-6)


def test_a_crash_leaves_no_output_under_the_final_name(mirror, tmp_path, monkeypatch):
    calls = []
    original = EntryModel.predict

    def failing(self, inputs, **kwargs):
        calls.append(1)
        if len(calls) > 1:
            raise RuntimeError("simulated crash")
        return original(self, inputs, **kwargs)

    monkeypatch.setattr(EntryModel, "predict", failing)
    with pytest.raises(RuntimeError, match="simulated crash"):
        run(tmp_path, batch_size=8)
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_shards_partition_the_records_and_add_up_to_the_whole(mirror, tmp_path):
    whole = score_variants(FOXA1, EXAMPLES / "variants.vcf", EXAMPLES / "genome.fa", ARGS)
    parts = [score_variants(FOXA1, EXAMPLES / "variants.vcf", EXAMPLES / "genome.fa", ARGS, shard=(i, 3))
             for i in (1, 2, 3)]
    pd.testing.assert_frame_equal(pd.concat(parts, ignore_index=True), whole)
    summaries = [p.attrs["summary"] for p in parts]
    assert sum(s.records for s in summaries) == whole.attrs["summary"].records
    assert sum(s.n_rejected for s in summaries) == whole.attrs["summary"].n_rejected


def test_region_of_a_tabix_indexed_vcf(mirror, tmp_path):
    lines = (EXAMPLES / "variants.vcf").read_text().splitlines()
    body = sorted((l for l in lines if not l.startswith("#") and l.startswith("chr22")), key=lambda l: int(l.split("\t")[1]))
    plain = tmp_path / "v.vcf"
    plain.write_text("\n".join([l for l in lines if l.startswith("#")] + body) + "\n")
    pysam.tabix_index(str(plain), preset="vcf", force=True)
    frame = score_variants(FOXA1, tmp_path / "v.vcf.gz", EXAMPLES / "genome.fa", ARGS, region="chr22:100000-200000")
    assert len(frame) and frame["POS"].between(100_000, 200_000).all()


def test_bf16_is_within_1e_2_of_float32(mirror):
    f32 = score_variants(FOXA1, EXAMPLES / "variants.vcf", EXAMPLES / "genome.fa", ARGS, scores=["ref", "alt"])
    bf16 = score_variants(FOXA1, EXAMPLES / "variants.vcf", EXAMPLES / "genome.fa", ARGS, scores=["ref", "alt"], precision="bf16")
    columns = [c for c in f32.columns if c.startswith(FOXA1)]
    np.testing.assert_allclose(bf16[columns], f32[columns], atol=1e-2)


def test_several_models_in_one_pass_equal_separate_runs(mirror):
    both = score_variants([FOXA1, GABPA], EXAMPLES / "variants.vcf", EXAMPLES / "genome.fa", ALL_ARGS, scores=["diff"])
    alone = score_variants(GABPA, EXAMPLES / "variants.vcf", EXAMPLES / "genome.fa", ALL_ARGS, scores=["diff"])
    column = f"{GABPA}/is_binding_site/GABPA/diff"
    np.testing.assert_allclose(both[column], alone[column], atol=1e-7)


def test_dataloader_argument_errors_name_the_fix(mirror):
    with pytest.raises(ValueError, match="no model takes the dataloader argument"):
        score_variants(FOXA1, EXAMPLES / "variants.vcf", EXAMPLES / "genome.fa", {**ARGS, "dnase": "x"})
    with pytest.raises(ValueError, match="needs the dataloader argument.*dnase_file"):
        score_variants(FOXA1, EXAMPLES / "variants.vcf", EXAMPLES / "genome.fa", {})


def test_cli_writes_output_rejects_and_summary(mirror, tmp_path):
    out = tmp_path / "effects.tsv"
    result = subprocess.run(
        [sys.executable, "-m", "epizoo", "score-variants", FOXA1, "--vcf", str(EXAMPLES / "variants.vcf"),
         "--fasta", str(EXAMPLES / "genome.fa"), "--dataloader-args", f'{{"dnase_file": "{ARGS["dnase_file"]}"}}',
         "--scores", "diff,logit", "--out", str(out)],
        capture_output=True, text=True, env=dict(os.environ), cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "47 records, 53 alleles: 47 scored, 6 rejected" in result.stdout
    assert (tmp_path / "effects.rejects.tsv").exists() and len(read_tsv(out)) == 47


def test_kipoi_predict_variant_effects_entry_writes_every_allele(mirror, tmp_path):
    out = tmp_path / "kipoi.tsv"
    args = (f'{{"vcf_file": "{EXAMPLES}/variants.vcf", "fasta_file": "{EXAMPLES}/genome.fa", '
            f'"dnase_file": "{ARGS["dnase_file"]}"}}')
    result = subprocess.run(
        [sys.executable, "-m", "kipoi", "predict", f"zoo/VariantEffects/{FOXA1}", "--source", "dir",
         "--dataloader_args", args, "-o", str(out)],
        capture_output=True, text=True, env=dict(os.environ), cwd=REPO,
    )
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    table = pd.read_csv(out, sep="\t", keep_default_na=False, na_values=[""], dtype={"preds/variant/reason": str})
    assert len(table) == 53
    scored = table[table["preds/variant/reason"].isna()]
    ours = score_variants(FOXA1, EXAMPLES / "variants.vcf", EXAMPLES / "genome.fa", ARGS, scores=["diff"])
    np.testing.assert_allclose(scored["preds/is_binding_site/FOXA1/diff"], ours[f"{FOXA1}/is_binding_site/FOXA1/diff"], atol=1e-6)
    assert table["preds/variant/reason"].notna().sum() == 6


def test_variant_effects_group_lists_every_sequence_entry():
    from epizoo.plugins.veff import kipoi_group

    assert (kipoi_group.GROUP / "models.tsv").read_text() == kipoi_group.render(), (
        "zoo/VariantEffects/models.tsv is stale: run `python -m epizoo.plugins.veff.kipoi_group`"
    )


def test_scores_on_every_device_are_the_cpu_scores(mirror, device):
    kwargs = dict(vcf=EXAMPLES / "variants.vcf", fasta=EXAMPLES / "genome.fa", dataloader_args=ARGS,
                  scores=["ref", "diff"], rc_merging="mean")
    on_cpu = score_variants(FOXA1, **kwargs, device="cpu")
    here = score_variants(FOXA1, **kwargs, device=device)
    columns = [c for c in on_cpu.columns if c.startswith(FOXA1)]
    # float32 on the CPU is byte-equal; on CUDA cuDNN may use TF32 convolutions
    np.testing.assert_allclose(here[columns], on_cpu[columns], rtol=0, atol=0 if device == "cpu" else 2e-3)
