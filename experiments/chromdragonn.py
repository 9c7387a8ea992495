"""ChromDragoNN's claims (Nair, Kim, Perricone & Kundaje 2019) on epizoo's synthetic accessibility benchmark,
and the model cards.

There is no ChromDragoNN data here (the authors' set is ~30 GB), so everything runs on the simulator's
ChromDragoNN world (`epizoo.dataloaders.simulate.chromdragonn_config`: 40 cell types, each expressing its
own draw of eight lineage TFs plus CTCF; a site opens only in cell types that express its TF). Four cell
types validate and four test; a held-out cell type is predictable only through its expression. Claims
checked on the test cell types (spec §8), auPRC and auROC pooled over their (bin, cell type) pairs:

* the mean-accessibility baseline is strong (claim 1);
* sequence + expression beats the mean baseline and a sequence-only model (claim 3); the sequence-only
  model is stage 1 averaged over its training cell types, the one prediction it can make for a cell
  type it has no task for;
* adding the mean accessibility as an input helps (claim 4);
* tuning the trunk in stage 2 beats freezing it (claim 7);
* the expression attributions of a held-out cell type rank the TFs that drive its accessibility
  (those it expresses) first: integrated gradients over the expression alone, the sequence held,
  averaged over sites bound in that cell type; AUROC of its TFs among the 33 genes, and precision
  at k (k its TFs, CTCF included).

    python experiments/chromdragonn.py claims --out out/chromdragonn --seeds 0      # ~45 min a seed, 2 cores
    python experiments/chromdragonn.py attributions --out out/chromdragonn --seeds 0  # again, from the runs
    python experiments/chromdragonn.py publish out/chromdragonn/runs/stage1-s0 out/chromdragonn/runs/expr_mean-s0 \
        --names ResNet-stage1 ResNet-mean --zoo zoo/ChromDragoNN

Every stage-2 run starts from the stage-1 run of its seed (`experiments/chromdragonn/stage1.yaml`).
"""
from __future__ import annotations

import argparse
import logging
import shutil
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sklearn.metrics import average_precision_score, roc_auc_score

from epizoo.atomic import write_text

HERE = Path(__file__).resolve().parent / "chromdragonn"
WORLD = HERE / "world"
#: stage-2 variant -> its overrides of stage2.yaml
VARIANTS = {
    "expr": {"model.with_mean": False},
    "expr_mean": {"model.with_mean": True},
    "expr_mean_freeze": {"model.with_mean": True, "model.freeze_trunk": True},
}
PAPER = {
    "mean baseline": "AUPRC 0.579, AUROC 0.902 (fixed split)",
    "sequence + expression": "ResNet+expr 0.700, Factorized+expr 0.692, Basset+expr 0.656 vs mean 0.579",
    "adding mean accessibility": "improves AUPRC by as much as 0.09; the best model 0.76 / AUROC 0.954",
    "tune vs freeze": "tuning the trunk consistently beats freezing it",
    "attributions": "grad x input of the ResNet without mean; TF-MoDISco motifs linked to the TFs whose "
                    "expression correlates with them (CTCF, HNF1A/HNF4A, RUNX1, ...)",
}


def ensure_world() -> Path:
    """The benchmark world the configs name (`epizoo simulate experiments/chromdragonn/world --preset chromdragonn`)."""
    from epizoo.dataloaders.simulate import chromdragonn_config, simulate_config

    if not (WORLD / "manifest.json").is_file():
        logging.info("simulating the benchmark world into %s", WORLD)
        simulate_config(WORLD, chromdragonn_config(seed=0))
    return WORLD


def train_run(out: Path, name: str, base: str, overrides: dict) -> Path:
    from epizoo.plugins.train.runs import load_config
    from epizoo.plugins.train.trainer import train

    entry = (out / "runs" / name).resolve()  # absolute: stage-2 configs name their stage-1 entry by it
    if not (entry / "model.yaml").is_file():
        train(load_config(HERE / f"{base}.yaml", overrides), entry, check=False, quiet=True)
    return entry


def test_pairs():
    """The test pairs of stage2.yaml (the recipe's own) and their batches, with the mean-accessibility input."""
    from epizoo.plugins.train.data import WindowBatches
    from epizoo.plugins.train.recipes.chromdragonn import ChromDragoNNRecipe
    from epizoo.plugins.train.runs import load_config

    run = load_config(HERE / "stage2.yaml", {"model.pretrained": None, "model.with_mean": True})
    prepared = ChromDragoNNRecipe().prepare(run)
    return WindowBatches(prepared.builders, prepared.test, 512)


def baselines(batches, stage1: Path) -> dict[str, dict[str, float]]:
    """The mean-accessibility baseline and the sequence-only model (stage 1's mean over its tasks)."""
    from epizoo.kipoi_model import load_entry

    network = load_entry(stage1)[0].eval()
    scores: dict[str, list] = {"mean_accessibility": [], "sequence_only": []}
    labels = []
    with torch.no_grad():
        for i in range(len(batches)):
            inputs, targets, _ = batches[i]
            scores["mean_accessibility"].append(inputs["mean_accessibility"][:, 0].numpy())
            scores["sequence_only"].append(network(inputs["seq"]).mean(dim=1).numpy())
            labels.append(targets[:, 0].numpy())
    y = np.concatenate(labels)
    return {name: {"auprc": average_precision_score(y, np.concatenate(s)), "auroc": roc_auc_score(y, np.concatenate(s))}
            for name, s in scores.items()}


def claims(out: Path, seeds: list[int]) -> pd.DataFrame:
    ensure_world()
    rows = []
    for seed in seeds:
        stage1 = train_run(out, f"stage1-s{seed}", "stage1", {"seed": seed})
        for variant, overrides in VARIANTS.items():
            entry = train_run(out, f"{variant}-s{seed}", "stage2",
                              {"seed": seed, "model.pretrained": str(stage1), **overrides})
            metrics = pd.read_json(entry / "metrics.json", typ="series")
            rows.append({"seed": seed, "model": variant, "auprc": metrics["auprc"], "auroc": metrics["auroc"]})
            logging.info("%s", rows[-1])
        for name, metrics in baselines(test_pairs(), stage1).items():
            rows.append({"seed": seed, "model": name, **metrics})
        pd.DataFrame(rows).to_csv(out / "results.tsv", sep="\t", index=False)
    attributions(out, seeds)
    return pd.DataFrame(rows)


def attributions(out: Path, seeds: list[int]) -> pd.DataFrame:
    """The attribution claim of each seed's stage-2 runs (`attribution_ranks`), and the summary."""
    from epizoo.plugins.train.runs import load_config

    cells = load_config(HERE / "stage2.yaml", {"model.pretrained": None}).data.test_cells
    rows = [{"seed": seed, "model": variant, **row} for seed in seeds for variant in ("expr", "expr_mean")
            if (out / "runs" / f"{variant}-s{seed}" / "model.yaml").is_file()
            for row in attribution_ranks(out / "runs" / f"{variant}-s{seed}", list(cells))]
    table = pd.DataFrame(rows)
    table.to_csv(out / "attributions.tsv", sep="\t", index=False)
    write_text(out / "summary.md", summary(pd.read_csv(out / "results.tsv", sep="\t"), table))
    return table


def attribution_ranks(entry: Path, cells: list[str], n_sites: int = 150) -> list[dict]:
    """Per held-out cell type: integrated gradients over the expression alone (zero baseline, the
    authors' code), averaged over ``n_sites`` sites bound there; how its TFs rank among all genes."""
    import tempfile

    from epizoo.dataloaders.simulate.world import SimulatedGenome
    from epizoo.plugins.interpret import attribute_regions, feature_importance

    world = SimulatedGenome.from_manifest(ensure_world())
    sites, rows = world.load_sites(), []
    for cell in cells:
        bound = sites[sites[f"bound_{cell}"] == 1]
        bound = bound.sample(min(n_sites, len(bound)), random_state=0)
        centres = ((bound["core_start"] + bound["core_end"]) // 2).to_numpy()
        with tempfile.TemporaryDirectory() as folder:
            bed = Path(folder) / "bound.bed"
            pd.DataFrame({"chrom": bound["chrom"], "start": centres - 100, "end": centres + 100}).to_csv(
                bed, sep="\t", header=False, index=False)
            arrays = attribute_regions(entry, bed, world.fasta, {"expression_file": str(world.expression_matrix),
                                                                 "cell_type": cell},
                                       method="integrated_gradients", explain=["expression"], n_steps=20)
        ranked = feature_importance(arrays, "expression")
        drivers = [tf for tf in world.tfs if cell in world.expressed_in[tf]]
        rows.append({"cell": cell, "tfs": len(drivers),
                     "precision_at_k": len(set(ranked.index[:len(drivers)]) & set(drivers)) / len(drivers),
                     "auroc": roc_auc_score(ranked.index.isin(drivers), ranked.to_numpy()),
                     "top": ",".join(ranked.index[:len(drivers)])})
        logging.info("%s %s", entry.name, rows[-1])
    return rows


def summary(table: pd.DataFrame, attributed: pd.DataFrame | None = None) -> str:
    means = table.groupby("model", sort=False)[["auprc", "auroc"]].agg(["mean", "min", "max"])
    lines = [f"Synthetic ChromDragoNN benchmark (40 cell types, 4 test), seeds {sorted(set(table['seed']))}, "
             "`python experiments/chromdragonn.py claims`; auPRC and auROC pooled over the test cell types' pairs.", "",
             "| model | auPRC | auROC |", "|---|---|---|"]
    for model, row in means.iterrows():
        lines.append(f"| {model} | {row[('auprc', 'mean')]:.3f} ({row[('auprc', 'min')]:.3f}-{row[('auprc', 'max')]:.3f}) "
                     f"| {row[('auroc', 'mean')]:.3f} |")
    if attributed is not None and len(attributed):
        lines += ["", "Expression attributions of the test cell types (integrated gradients over the expression, "
                  "sites bound there): how the TFs each expresses rank among the 33 genes.", "",
                  "| model | AUROC | precision at k |", "|---|---|---|"]
        for model, row in attributed.groupby("model", sort=False)[["auroc", "precision_at_k"]].mean().iterrows():
            lines.append(f"| {model} | {row['auroc']:.3f} | {row['precision_at_k']:.3f} |")
    lines += ["", "The paper (spec §4.2, §8):", ""] + [f"- {k}: {v}" for k, v in PAPER.items()]
    return "\n".join(lines) + "\n"


def publish(entries: list[Path], names: list[str], zoo: Path, claims_summary: Path | None) -> None:
    """Copy trained entries into the zoo under ``names`` with README model cards."""
    extra = f"\n## The paper's claims on this benchmark\n\n{claims_summary.read_text()}" if claims_summary else ""
    for entry, name in zip(entries, names):
        target = zoo / name
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(entry, target)
        write_text(target / "README.md", card(target, name) + extra)


def card(entry: Path, name: str) -> str:
    import yaml

    spec = yaml.safe_load((entry / "model.yaml").read_text())
    info, inputs = spec["info"], spec["schema"]["inputs"]
    metrics = pd.read_json(entry / "metrics.json", typ="series")
    rows = "\n".join(f"| {k} | {metrics[k]:.4f} |" for k in ("auprc", "auroc", "recall_at_10fdr", "recall_at_50fdr")
                     if k in metrics)
    stage2 = "expression" in inputs
    usage = ("""```bash
kipoi predict zoo/ChromDragoNN/{name} --source dir -o preds.tsv --dataloader_args '{{"intervals_file": "bins.bed",
  "fasta_file": "genome.fa", "expression_file": "rna_tpm.tsv", "cell_type": "MY_CELL"}}'
```
`rna_tpm.tsv`: genes (rows) x cell types (columns), TPM, holding every TF of `tfs.txt`. The entry's
`dataloader.py` takes its own `tfs.txt`{mean}; name others with `tfs_file`{mean_arg}.""".format(
        name=name, mean=" and `mean_accessibility.bw`" if "mean_accessibility" in inputs else "",
        mean_arg=" and `mean_accessibility_file`" if "mean_accessibility" in inputs else "")
             if stage2 else f"""```bash
kipoi predict zoo/ChromDragoNN/{name} --source dir -o preds.tsv \\
  --dataloader_args '{{"intervals_file": "bins.bed", "fasta_file": "genome.fa"}}'
```""")
    return f"""# ChromDragoNN/{name}

{info['doc']}

**Trained on the synthetic benchmark, not on real data.** {info['trained_on']}

## Training
{info['training_procedure']}

Reproduce: `epizoo simulate experiments/chromdragonn/world --preset chromdragonn --seed 0`, then
`epizoo train chromdragonn experiments/chromdragonn/{'stage2' if stage2 else 'stage1'}.yaml --out OUT` with this entry's
config.yaml values (`--set key=value`; it names every input file by name and checksum).

## Held-out metrics ({'the test cell types, pooled over their (bin, cell type) pairs' if stage2 else
                       'held-out chromosome, the training cell types'})
| metric | value |
|---|---|
{rows}

## Use
{usage}

## Limitations
Trained on synthetic sequence with nine planted motifs (CTCF and eight lineage TFs) and a 33-gene
"transcriptome": its predictions on real DNA and real expression profiles mean nothing biologically. It
shows the method and the tooling; retrain on real DNase-seq peaks and RNA-seq with `epizoo train
chromdragonn` for a real model (the authors' 1,630 FANTOM5 TFs, `data.tfs`).

## Citation
Nair S, Kim DS, Perricone J, Kundaje A. Integrating regulatory DNA sequence and gene expression to predict
genome-wide chromatin accessibility across cellular contexts. Bioinformatics 35(14):i108-i116 (2019).
{info['cite_as']}
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("claims")
    run.add_argument("--out", type=Path, required=True)
    run.add_argument("--seeds", type=int, nargs="+", default=[0])
    attributed = sub.add_parser("attributions", help="the attribution claim again, from the runs of `claims`")
    attributed.add_argument("--out", type=Path, required=True)
    attributed.add_argument("--seeds", type=int, nargs="+", default=[0])
    publishing = sub.add_parser("publish")
    publishing.add_argument("entries", nargs="+", type=Path, help="entries written by epizoo train chromdragonn")
    publishing.add_argument("--names", nargs="+", required=True, help="their names in the zoo, in order")
    publishing.add_argument("--zoo", type=Path, required=True, help="e.g. zoo/ChromDragoNN")
    publishing.add_argument("--claims", type=Path, default=None, help="summary.md of `claims`, quoted in the cards")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    if args.command == "claims":
        args.out.mkdir(parents=True, exist_ok=True)
        print(claims(args.out, args.seeds).to_string(index=False))
    elif args.command == "attributions":
        print(attributions(args.out, args.seeds).to_string(index=False))
    else:
        if len(args.names) != len(args.entries):
            parser.error("give one --names value per entry")
        publish(args.entries, args.names, args.zoo, args.claims)
    return 0


if __name__ == "__main__":
    sys.exit(main())
