"""GOPHER's claims (Toneyan, Tang & Koo 2022) on epizoo's synthetic ATAC-seq benchmark, and the model cards.

There is no real ATAC-seq coverage here, so everything runs on the simulator's GOPHER world
(`epizoo.dataloaders.simulate.gopher_config`: 15 cell lines, each expressing its own combination
of four lineage TFs plus CTCF; chr8 test, chr9 validation; the exact effect of every variant of a
saturation mutagenesis of six chr8 sites). Claims checked (spec §8):

* quantitative vs binary on held-out classification: a Basenji-128 scored as a binary model
  (its mean predicted coverage per 2,048-bp tile) against a Basenji-binary of the same trunk,
  auPR over chr8's tiles (§4.4; claim 9);
* the bin size: Basenji at 32, 128 and 512 bp, whole-chromosome Pearson r at its own resolution
  and after re-binning to 2,048 bp (§4.2; claims 2, 3);
* robustness against variant-effect accuracy: each quantitative model's variation score (§4.5)
  and the mean over the saturated sites of the Pearson r between predicted and true effects,
  with the standard and the robust (20 shifts) score (§4.6; claims 10, 11); one Basenji-128 is
  trained without random shifts, as the paper finds robust scoring helps those most.

    python experiments/gopher.py claims --out out/gopher          # about an hour on 2 CPU cores
    python experiments/gopher.py publish out/Basenji-128 out/BPNet-base out/Basset-binary --zoo zoo/GOPHER
    python experiments/gopher.py motifs zoo/GOPHER/BPNet-base --out out/gopher-motifs   # its motifs.meme

``motifs`` writes an entry's ``motifs.meme``, which the catalogue draws: TF-MoDISco's patterns of
the input x gradient attributions of one cell line's counts over its peaks on chr8 and chr9 (which
the model never trained on), each named by its best HOCOMOCO v9 match.

``publish`` copies entries trained with ``epizoo train gopher experiments/gopher/<config>.yaml``
into the zoo (their examples pointing at the repository's examples/), with a README model card of
their held-out metrics, variant-effect accuracy and, when given ``--claims``, the claims table.

Every run has the same budget (``--epochs`` epochs, no early stopping) so that models compare.
"""
from __future__ import annotations

import argparse
import json
import logging
import shutil
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from scipy.stats import pearsonr

from epizoo.atomic import write_text

HERE = Path(__file__).resolve().parent / "gopher"
HOCOMOCO = HERE.parents[2] / "shared" / "data" / "factornet" / "resources" / "HOCOMOCOv9.meme"
WORLD = HERE / "world"
CELLS = [f"cell{chr(ord('A') + i)}" for i in range(15)]
TINY = {"filters": 32, "final_filters": 64, "dropout": 0.1}
#: published entry -> the experiments/gopher/ config it was trained from (the others: basenji128 with overrides)
CONFIGS = {"BPNet-base": "bpnet_base", "Basset-binary": "basset_binary"}
#: run name -> (base config, overrides)
RUNS = {
    **{f"basenji128-seed{s}": ("basenji128", {"seed": s}) for s in (1, 2)},
    **{f"binary-seed{s}": ("basenji128", {"seed": s, "model.architecture": "basenji_binary"}) for s in (1, 2)},
    "basenji32-seed1": ("basenji128", {"seed": 1, "model.bin_size": 32}),
    "basenji512-seed1": ("basenji128", {"seed": 1, "model.bin_size": 512}),
    "basenji128-noshift-seed1": ("basenji128", {"seed": 1, "data.max_shift": 0}),
}
PAPER = {
    "quantitative vs binary": "on peak-centred data binary models can match quantitative ones in auROC/auPR; "
                              "all quantitative models are better on the whole chromosome (§4.4, Fig. 4)",
    "bin size": "Basenji-style models improve with bin size up to ~1 kb; re-binning a fixed model's predictions "
                "raises whole-chromosome Pearson r (§4.2, Fig. 2c)",
    "robustness and variant effects": "robust predictions improved CAGI5 correlation for 50/56 models, most for "
                                      "models trained without random shifts; quantitative > binary (§4.6, Fig. 5)",
}


def ensure_world() -> Path:
    """The benchmark world the configs name (`epizoo simulate experiments/gopher/world --preset gopher ...`)."""
    from epizoo.dataloaders.simulate import gopher_config, simulate_config

    if not (WORLD / "manifest.json").is_file():
        logging.info("simulating the benchmark world into %s", WORLD)
        simulate_config(WORLD, gopher_config(seed=0, n_chroms=10, chrom_length=300_000))
    return WORLD


def train_run(name: str, out: Path, epochs: int) -> Path:
    from epizoo.plugins.train.runs import load_config
    from epizoo.plugins.train.trainer import train

    base, overrides = RUNS[name]
    overrides = {"training.max_epochs": epochs, "training.patience": epochs, "training.lr_decay_factor": None,
                 "training.threads": 1, "model.options": TINY, **overrides}
    entry = out / "runs" / name
    if not (entry / "model.yaml").is_file():
        train(load_config(HERE / f"{base}.yaml", overrides), entry, check=False, quiet=True)
    return entry


def evaluate(entry: Path) -> dict[str, float]:
    from epizoo.plugins.evaluate.entry import evaluate_entry

    world = WORLD
    metrics = evaluate_entry(entry, world / "genome" / "genome.fa",
                             [world / "tracks" / f"{c}.atac.rep1.bw" for c in CELLS],
                             [world / "peaks" / f"{c}.atac.narrowPeak" for c in CELLS], bin_sizes=_coarser(entry))
    return {k: v for k, v in metrics.items() if "/" not in k}


def _coarser(entry: Path) -> list[int]:
    spec = yaml.safe_load((entry / "model.yaml").read_text())["schema"]["targets"]
    spec = spec.get("profile", spec)
    return [b for b in (512, 2048) if "bin_size" in spec and b > spec["bin_size"]]


def variant_accuracy(entry: Path) -> dict[str, float]:
    """Mean over the saturated sites of Pearson r (predicted vs true cross-cell-type log2 effect),
    standard (one window) and robust (20 shifts of up to 512 bp, totals over the central 1,024 bp)."""
    from epizoo.veff import score_variants

    truth = pd.read_csv(WORLD / "atac" / "saturation_truth.tsv", sep="\t")
    binary = "probability" in json.dumps(yaml.safe_load((entry / "model.yaml").read_text())["schema"]["targets"])
    result = {}
    for mode, options in (("standard", {}), ("robust", {"shifts": 20, "max_shift": 512, "profile_window": 1024})):
        scores = ["ref", "alt"] if binary else ["gopher_log2fc"]
        if binary:
            options = {k: v for k, v in options.items() if k != "profile_window"}
        frame = score_variants(str(entry), WORLD / "atac" / "saturation.vcf", WORLD / "genome" / "genome.fa",
                               scores=scores, batch_size=32, **options)
        predicted = _cross_task_effect(frame, binary)
        joined = truth.assign(predicted=predicted.to_numpy())
        per_site = [pearsonr(g["predicted"], g["log2fc"])[0] for _, g in joined.groupby("site_id")
                    if g["predicted"].std() > 0 and g["log2fc"].std() > 0]
        result[f"vep_{mode}"] = float(np.mean(per_site))
    return result


def _cross_task_effect(frame: pd.DataFrame, binary: bool) -> pd.Series:
    if not binary:
        return frame[[c for c in frame.columns if c.endswith("/gopher_log2fc")][0]]
    ref = frame[[c for c in frame.columns if c.endswith("/ref")]].mean(axis=1)
    alt = frame[[c for c in frame.columns if c.endswith("/alt")]].mean(axis=1)
    return np.log2(alt / ref)


def claims(out: Path, epochs: int) -> pd.DataFrame:
    ensure_world()
    rows = []
    for name in RUNS:
        entry = train_run(name, out, epochs)
        row = {"run": name, **evaluate(entry), **variant_accuracy(entry)}
        rows.append(row)
        logging.info("%s", row)
        pd.DataFrame(rows).to_csv(out / "results.tsv", sep="\t", index=False)
    table = pd.DataFrame(rows)
    write_text(out / "summary.md", summary(table, epochs))
    return table


def summary(table: pd.DataFrame, epochs: int) -> str:
    def fmt(value) -> str:
        return "" if pd.isna(value) else f"{value:.3f}"

    columns = [c for c in ("run", "pearson_whole", "pearson_whole@512", "pearson_whole@2048", "pearson_per_seq",
                           "as_binary_auprc", "auprc", "variation", "vep_standard", "vep_robust") if c in table]
    lines = [f"Synthetic GOPHER benchmark (15 cell lines, chr8 test), {epochs} epochs per run, "
             "`python experiments/gopher.py claims`.", "",
             "| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for _, row in table.iterrows():
        lines.append("| " + " | ".join(str(row[c]) if c == "run" else fmt(row[c]) for c in columns) + " |")
    lines += ["", "The paper (spec §8):", ""] + [f"- {k}: {v}" for k, v in PAPER.items()]
    return "\n".join(lines) + "\n"


def publish(entries: list[Path], zoo: Path, claims_summary: Path | None) -> None:
    """Copy trained entries into the zoo with README model cards (what they are, how they were
    trained, their held-out metrics); their examples point to the repository's examples/."""
    ensure_world()
    extra = f"\n## The paper's claims on this benchmark\n\n{claims_summary.read_text()}" if claims_summary else ""
    for entry in entries:
        target = zoo / entry.name
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(entry, target, ignore=shutil.ignore_patterns("example_files"))
        loader = target / "dataloader.yaml"
        write_text(loader, loader.read_text().replace("example: example_files/", "example: ../../../examples/"))
        spec = yaml.safe_load((target / "model.yaml").read_text())
        metrics = evaluate(target) | variant_accuracy(target)
        write_text(target / "README.md", card(target, spec, metrics) + extra)


def motifs(entry: Path, cell: str, out: Path, n: int = 5, leiden_runs: int = 10) -> Path:
    """The entry's ``motifs.meme`` from TF-MoDISco on ``cell``'s held-out peaks (`write_entry_motifs`)."""
    from epizoo.cli import main as epizoo

    world = ensure_world()
    peaks = pd.read_csv(world / "peaks" / f"{cell}.atac.narrowPeak", sep="\t", header=None, usecols=[0, 1, 2])
    out.mkdir(parents=True, exist_ok=True)
    write_text(out / "regions.bed", peaks[peaks[0].isin(["chr8", "chr9"])].to_csv(sep="\t", header=False, index=False))
    assert epizoo(["-q", "interpret", str(entry), "--regions", str(out / "regions.bed"), "--fasta",
                   str(world / "genome" / "genome.fa"), "--method", "input_x_gradient", "--output", "counts",
                   "--target", cell, "--hypothetical", "--out", str(out / "attributions.npz")]) == 0
    assert epizoo(["-q", "motifs", str(out / "attributions.npz"), "--database", str(HOCOMOCO), "--out-dir",
                   str(out / "report"), "--leiden-runs", str(leiden_runs)]) == 0
    return write_entry_motifs(entry, out / "report", n)


def write_entry_motifs(entry: Path, report: Path, n: int = 5) -> Path:
    """The ``n`` positive patterns of an ``epizoo motifs`` report with the most seqlets, each named
    by its best match (or none at q <= 0.05), as the entry's ``motifs.meme``, and a section of its
    model card that says so."""
    from epizoo.dataloaders.motifs import Motif, read_meme, write_meme

    table = pd.read_csv(report / "motifs.tsv", sep="\t")
    table = table[table["pattern"].str.startswith("pos_")].sort_values("n_seqlets", ascending=False).head(n)
    patterns = read_meme(report / "patterns.meme")
    named = {row.pattern: Motif(row.pattern, f"{row.n_seqlets} seqlets, " + (
        f"{row.target} q {row.q_value:.1g}" if row.q_value <= 0.05 else "no HOCOMOCO match"),
        patterns[row.pattern].probabilities) for row in table.itertuples()}
    write_meme(entry / "motifs.meme", named)
    card = entry / "README.md"
    section = ("## Motifs\n\n`motifs.meme` holds the TF-MoDISco patterns with the most seqlets (positive "
               "contributions), of input x gradient attributions of one cell line's log counts over its peaks on "
               "chr8 and chr9, which the model never trained on; each is named by its best HOCOMOCO v9 match "
               "(Tomtom, q <= 0.05). `python experiments/gopher.py motifs zoo/GOPHER/BPNet-base --out "
               "out/gopher-motifs` remakes it.\n\n| pattern | seqlets | best match | q-value |\n|---|---|---|---|\n"
               + "".join(f"| {row.pattern} | {row.n_seqlets} | {row.target} | {row.q_value:.2g} |\n"
                         for row in table.itertuples()))
    text = card.read_text().split("\n## Motifs\n")[0].rstrip() if card.exists() else ""
    write_text(card, f"{text}\n\n{section}")
    return entry / "motifs.meme"


def card(entry: Path, spec: dict, metrics: dict[str, float]) -> str:
    info = spec["info"]
    rows = "\n".join(f"| {k} | {v:.4f} |" for k, v in metrics.items() if np.isfinite(v))
    name = entry.name
    return f"""# GOPHER/{name}

{info['doc']}

**Trained on the synthetic benchmark, not on real data.** {info['trained_on']}

## Training
{info['training_procedure']}

Reproduce: `epizoo simulate experiments/gopher/world --preset gopher --chroms 10 --length 300000 --seed 0`, then
`epizoo train gopher experiments/gopher/{CONFIGS.get(name, "basenji128")}.yaml --out OUT` with the values of this
entry's config.yaml (architecture, options, training; `--set key=value`), which names every input file by name
and checksum.

## Held-out metrics (chr8, every 2,048-bp tile; `epizoo evaluate`)
| metric | value |
|---|---|
{rows}

`vep_standard` / `vep_robust`: mean over the six saturated chr8 sites of the Pearson r between the predicted
cross-cell-type effect (`gopher_log2fc`; a binary model: the log2 ratio of its mean probabilities; robust: 20
shifts of up to 512 bp, totals over the central 1,024 bp) and the simulator's exact effect.{_counts_note(spec)}

## Limitations
Trained on synthetic sequence with five planted motifs (CTCF, FOXA1, GATA1, HNF4A, MAX): its predictions on
real DNA mean nothing biologically. It shows the method and the tooling; retrain on real ATAC-seq with
`epizoo train gopher` (see docs) for a real model.

## Citation
Toneyan S, Tang Z, Koo PK. Evaluating deep learning for predicting epigenomic profiles. Nature Machine
Intelligence 4, 1088-1100 (2022). {info['cite_as']}
"""


def _counts_note(spec: dict) -> str:
    if "counts" not in spec["schema"]["targets"]:
        return ""
    return ("\nThe standard score of this two-headed model reads the whole window's total, which its counts head\n"
            "predicts from the mean-pooled trunk and a single base barely moves; score its variants with the\n"
            "robust score over the central kilobase (`--shifts 20 --max-shift 512 --profile-window 1024`).\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("claims")
    run.add_argument("--out", type=Path, required=True)
    run.add_argument("--epochs", type=int, default=25)
    publishing = sub.add_parser("publish")
    publishing.add_argument("entries", nargs="+", type=Path, help="entries written by epizoo train gopher")
    publishing.add_argument("--zoo", type=Path, required=True, help="e.g. zoo/GOPHER")
    publishing.add_argument("--claims", type=Path, default=None, help="summary.md of `claims`, quoted in the cards")
    motif_run = sub.add_parser("motifs")
    motif_run.add_argument("entry", type=Path, help="a profile entry with a counts head, e.g. zoo/GOPHER/BPNet-base")
    motif_run.add_argument("--out", type=Path, required=True, help="the attributions and the TF-MoDISco report")
    motif_run.add_argument("--cell", default="cellO", help="the cell line whose counts are explained")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    if args.command == "claims":
        args.out.mkdir(parents=True, exist_ok=True)
        print(claims(args.out, args.epochs).to_string(index=False))
    elif args.command == "motifs":
        print(motifs(args.entry, args.cell, args.out))
    else:
        publish(args.entries, args.zoo, args.claims)
    return 0


if __name__ == "__main__":
    sys.exit(main())
