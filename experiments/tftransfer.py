"""Novakovsky et al. 2021's central claim on the real chr21/chr22 slice of their matrix.

Claim: for a target TF with few bound regions, fine-tuning a model pre-trained on other TFs
beats training the same architecture from scratch, and pre-training on biologically relevant
TFs (the target's binding mode) beats pre-training on random ones (Figs. 3, 4, 6).

Design (argued in experiments/README.md):

* pre-training on chr21, fine-tuning and testing on chr22: no region is shared, so there is no
  leakage (§1.6), and chr21 alone holds enough regions resolved for 5 TFs (a 48-TF multi-model
  would leave 1,400; chrY holds at most 139 positives per TF: too thin);
* per target, a 5-TF multi-model of its binding-mode family (the 5 family members, target
  excluded, with the most chr21 regions resolved for all 5) and a 5-TF random multi-model (the
  first seeded draw, from TFs of other families, that leaves at least ``--min-random-regions``
  resolved chr21 regions), both cut to the same number of regions, as the paper fixes
  multi-model sizes (~70,000 in Fig. 6);
* per target and split seed: chr22's bound regions (at most ``--positives``) and as many
  GC-matched unbound ones, split 70/10/20 at random; the same split for the three arms:
  scratch (lr 3e-3), fine-tuned from the relevant model, fine-tuned from the random one (lr 3e-4).

    python experiments/tftransfer.py --out out/tftransfer            # about 25 min on 2 cores
    python experiments/tftransfer.py --out out/tftransfer --publish zoo/TFTransfer

It writes ``runs/`` (one zoo entry per run, with its config), ``results.tsv`` (one row per run),
``summary.md`` (the table of the note and model cards) and, with ``--publish``, the entries of
the zoo: the fine-tuned model of each target (split seed 1) and the first target's multi-model.
"""
from __future__ import annotations

import argparse
import itertools
import json
import logging
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from epizoo.plugins.train.binding_matrix import BindingMatrix, load_binding_matrix
from epizoo.plugins.train.trainer import train

from epizoo.atomic import write_text

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "tf_binding"
#: binding-mode families of the targets (TFClass families; the paper's JASPAR binding modes are
#: HNF4A 2/4, JUND 1/18, MAX 7, SPI1 16, spec §3.1); members present in the matrix
FAMILIES = {
    "JUND": ["JUN", "JUNB", "FOS", "FOSL1", "FOSL2", "ATF3", "BATF", "NFE2", "NFE2L2", "BACH1"],  # bZIP, AP-1 site
    "MAX": ["MYC", "MXI1", "MNT", "MYCN", "USF1", "USF2", "BHLHE40", "MITF"],                  # bHLH, CACGTG E-box
    "SPI1": ["ELF1", "GABPA", "ETS1", "ETV1", "ETV4", "ETV6", "FLI1", "ELK1", "ELK4", "ERG"],  # tryptophan cluster (ETS)
    "HNF4A": ["HNF4G", "NR2F1", "NR2F2", "NR2F6", "RXRA", "NR2C2"],                           # nuclear receptors, DR1
}
#: TFs of families none of the targets belongs to: the random pre-training pool
RANDOM_POOL = ["REST", "NRF1", "YY1", "ZNF143", "RFX5", "TEAD4", "GATA2", "GATA3", "FOXA1", "FOXK2", "E2F4",
               "E2F6", "NFYA", "NFYB", "TP53", "HSF1", "SRF", "RUNX1", "EBF1", "CUX1", "TCF7L2", "ZBTB33",
               "PAX5", "IRF4", "STAT1", "MEF2A"]
#: the paper's figures quoted beside ours (spec §4)
PAPER = {
    "ATF4 (557 bound regions), AUCPR TL vs scratch": "0.941 vs 0.571",
    "TFs improved by TL (49 multi-model TFs)": "39/49, Wilcoxon p = 1.91e-07",
    "down-sampling (Fig. 4)": "TL effective down to 500 regions; to 50 for JUND and MAX",
    "multi-model AUCPR of JUND, MAX, SP1": "0.882, 0.866, 0.796",
    "pentad without target (Fig. 6)": "same binding mode and cofactors best for 4/5 TFs (not SP1)",
}
ARMS = ("scratch", "relevant", "random")
#: what the entries say about their data (the recipe's ``data.description``)
DATA_DESCRIPTION = ("Novakovsky et al. 2021's ReMap 2018 + UniBind TF x DHS binding matrix (hg38, 200-bp DHSs; "
                    "wassermanlab/TF-Binding-Matrix 7a58aec), chr21/chr22/chrY subset")
log = logging.getLogger("tftransfer")


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stdout)
    for noisy in ("lightning", "lightning.pytorch", "lightning.fabric", "epizoo"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    matrix = load_binding_matrix(args.labels, args.sequences)
    out = Path(args.out)
    plan = _plan(matrix, args)
    write_text(out / "plan.json", json.dumps(plan, indent=1) + "\n")
    rows = []
    for target in args.targets:
        pretrained = {arm: _pretrain(out, args, arm, target, plan[target]) for arm in ("relevant", "random")}
        for seed in range(1, args.seeds + 1):
            for arm in ARMS:
                rows.append(_finetune(out, args, target, seed, arm, pretrained.get(arm)))
                write_text(out / "results.tsv", pd.DataFrame(rows).to_csv(sep="\t", index=False))
    results = pd.DataFrame(rows)
    write_text(out / "summary.md", summary(results, plan, args))
    print(summary(results, plan, args))
    if args.publish:
        publish(out, Path(args.publish), args, plan)
    return 0


def _parse(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--labels", default=DATA / "labels.npz", type=Path)
    parser.add_argument("--sequences", default=DATA / "sequences.200bp.chr21_chr22_chrY.fa.gz", type=Path)
    parser.add_argument("--targets", nargs="+", default=list(FAMILIES))
    parser.add_argument("--seeds", type=int, default=3, help="split seeds per target (the paper: 5)")
    parser.add_argument("--positives", type=int, default=500, help="at most this many bound chr22 regions per target")
    parser.add_argument("--min-random-regions", type=int, default=2500)
    parser.add_argument("--pretrain-epochs", type=int, default=10, help="the authors' code: 15")
    parser.add_argument("--unresolved", choices=("drop", "mask"), default="mask",
                        help="multi-models: drop regions unresolved for any TF (the paper) or mask those labels")
    parser.add_argument("--finetune-epochs", type=int, default=10)
    parser.add_argument("--monitor", default="val_loss",
                        help="validation value that picks the kept epoch: val_loss (the authors' code) or val_auprc")
    parser.add_argument("--publish", help="zoo folder to copy the chosen entries into")
    return parser.parse_args(argv)


# -- pre-training sets --------------------------------------------------------------------------


def _plan(matrix: BindingMatrix, args) -> dict:
    """Per target: its relevant and random 5-TF sets and their common region count on chr21."""
    chr21 = matrix.usable_rows(["chr21"])
    random_set = _random_set(matrix, chr21, args.min_random_regions)
    random_regions = _regions(matrix, random_set, chr21, args.unresolved)
    plan = {}
    for target in args.targets:
        relevant = _relevant_set(matrix, chr21, target)
        relevant_regions = _regions(matrix, relevant, chr21, args.unresolved)
        plan[target] = {"relevant": relevant, "random": random_set,
                        "regions": min(relevant_regions, random_regions),
                        "available": {"relevant": relevant_regions, "random": random_regions}}
        log.info("%s: relevant %s (%d regions), random %s (%d); both cut to %d", target, relevant,
                 relevant_regions, random_set, random_regions, plan[target]["regions"])
    return plan


def _regions(matrix: BindingMatrix, tfs: list[str], rows: np.ndarray, unresolved: str) -> int:
    """Regions a multi-model of ``tfs`` trains on: resolved for all (drop) or one (mask)."""
    return len(matrix.resolved_rows(tfs, "less_sparse", rows, every=unresolved == "drop"))


def _relevant_set(matrix: BindingMatrix, rows: np.ndarray, target: str) -> list[str]:
    """The 5 family members (target excluded) with the most regions resolved for all 5."""
    members = [tf for tf in FAMILIES[target] if tf in matrix.tfs and (matrix.column(tf, "less_sparse")[rows] == 1).any()]
    return list(max(itertools.combinations(members, 5),
                    key=lambda s: len(matrix.resolved_rows(list(s), "less_sparse", rows))))


def _random_set(matrix: BindingMatrix, rows: np.ndarray, minimum: int, seed: int = 7) -> list[str]:
    """The first seeded draw of 5 pool TFs leaving at least ``minimum`` regions resolved for all."""
    rng = np.random.default_rng(seed)
    for _ in range(1000):
        chosen = sorted(rng.choice(RANDOM_POOL, 5, replace=False).tolist())
        if len(matrix.resolved_rows(chosen, "less_sparse", rows)) >= minimum:
            return chosen
    raise RuntimeError(f"no random 5-TF set leaves {minimum} resolved regions; lower --min-random-regions")


# -- runs ---------------------------------------------------------------------------------------


def _config(args, tasks, chroms, seed, epochs, lr, data=None, model=None) -> dict:
    """A run's YAML content: the experiment's data files and training settings."""
    data = {"labels": str(Path(args.labels).resolve()), "sequences": str(Path(args.sequences).resolve()),
            "tasks": tasks, "chroms": chroms, "split_seed": seed, **(data or {})}
    training = {"max_epochs": epochs, "patience": epochs, "learning_rate": lr, "monitor": args.monitor,
                "weights_dtype": "float16"}
    return {"recipe": "tftransfer", "seed": seed, "data": data, "model": model or {}, "training": training,
            "entry": {"genome": "hg38"}}


def _run(out: Path, name: str, config: dict) -> Path:
    entry = out / "runs" / name
    if (entry / "metrics.json").exists():
        return entry
    path = out / "configs" / f"{name}.yaml"
    write_text(path, yaml.safe_dump(config, sort_keys=False))
    started = time.time()
    train(path, entry, check=False, quiet=True, restart=True)
    log.info("%s: %.0f s", name, time.time() - started)
    return entry


def _pretrain(out: Path, args, arm: str, target: str, plan: dict) -> Path:
    tasks, regions = plan[arm], plan["regions"]
    name = f"multimodel-{target if arm == 'relevant' else 'random'}-{regions}"
    config = _config(args, tasks, ["chr21"], 42, args.pretrain_epochs, 3e-3,
                     data={"max_regions": regions, "valid_fraction": 0.1, "test_fraction": 0.1,
                           "unresolved": args.unresolved, "description": DATA_DESCRIPTION})
    return _run(out, name, config)


def _finetune(out: Path, args, target: str, seed: int, arm: str, pretrained: Path | None) -> dict:
    data = {"max_positives": args.positives, "valid_fraction": 0.1, "test_fraction": 0.2, "description": DATA_DESCRIPTION}
    if pretrained is None:
        config = _config(args, [target], ["chr22"], seed, args.finetune_epochs, 3e-3, data=data)
    else:
        config = _config(args, [target], ["chr22"], seed, args.finetune_epochs, 3e-4, data=data,
                         model={"pretrained": str(pretrained.resolve())})
    entry = _run(out, f"{target}-{arm}-seed{seed}", config)
    metrics = json.loads((entry / "metrics.json").read_text())
    return {"target": target, "arm": arm, "seed": seed, "entry": str(entry.relative_to(out)),
            "auprc": metrics["auprc"], "auroc": metrics["auroc"], "auprc_trapezoid": metrics["auprc_trapezoid"]}


# -- report -------------------------------------------------------------------------------------


def summary(results: pd.DataFrame, plan: dict, args) -> str:
    """The markdown table of the experiment, with the paired comparisons and the paper's figures."""
    from scipy.stats import wilcoxon

    intro = (f"Targets fine-tuned on chr22 (at most {args.positives} bound regions + as many GC-matched "
             f"unbound, split 70/10/20), {args.seeds} split seeds; pre-trained on chr21. auPR = average "
             f"precision, auROC; mean ± sd over seeds. Multi-models' unresolved labels: {args.unresolved}; "
             f"kept epoch: best {args.monitor}.")
    header = ("| target | relevant pre-training set | random set | regions | scratch auPR | TL random auPR | "
              "TL relevant auPR | scratch auROC | TL random auROC | TL relevant auROC |")
    lines = [intro, "", header, "|---|---|---|---|---|---|---|---|---|---|"]
    for target, group in results.groupby("target", sort=False):
        cells = {(arm, m): _mean_sd(group[group.arm == arm][m]) for arm in ARMS for m in ("auprc", "auroc")}
        lines.append(f"| {target} | {', '.join(plan[target]['relevant'])} | {', '.join(plan[target]['random'])} | "
                     f"{plan[target]['regions']} | {cells['scratch', 'auprc']} | {cells['random', 'auprc']} | "
                     f"{cells['relevant', 'auprc']} | {cells['scratch', 'auroc']} | {cells['random', 'auroc']} | "
                     f"{cells['relevant', 'auroc']} |")
    paired = results.pivot_table(index=["target", "seed"], columns="arm", values="auprc")
    lines += ["", "Paired over (target, seed), auPR:", ""]
    for better, worse in (("relevant", "scratch"), ("random", "scratch"), ("relevant", "random")):
        diff = paired[better] - paired[worse]
        p = wilcoxon(paired[better], paired[worse]).pvalue if len(diff) > 1 and diff.any() else float("nan")
        lines.append(f"- {better} vs {worse}: better in {(diff > 0).sum()}/{len(diff)}, mean difference "
                     f"{diff.mean():+.3f}, Wilcoxon signed-rank p = {p:.3g}")
    lines += ["", "The paper (spec §4):", ""] + [f"- {k}: {v}" for k, v in PAPER.items()]
    return "\n".join(lines) + "\n"


def _mean_sd(values: pd.Series) -> str:
    return f"{values.mean():.3f} ± {values.std(ddof=1):.3f}" if len(values) > 1 else f"{values.mean():.3f}"


def publish(out: Path, zoo: Path, args, plan: dict) -> None:
    """Copy the fine-tuned entry of each target (split seed 1, relevant pre-training) and the
    first target's relevant multi-model into the zoo, with the experiment's tables as model card
    (``motifs.md``, from tftransfer_motifs.py, when present). The entries' examples point to the
    repository's examples/ instead of copies."""
    card = (out / "summary.md").read_text()
    if (out / "motifs.md").exists():
        card += "\n## First-layer filters vs HOCOMOCO v9 (experiments/tftransfer_motifs.py)\n\n" + (out / "motifs.md").read_text()
    chosen = {f"{t}_finetuned": out / "runs" / f"{t}-relevant-seed1" for t in args.targets}
    first = args.targets[0]
    chosen[f"multimodel_{first}_family"] = out / "runs" / f"multimodel-{first}-{plan[first]['regions']}"
    renamed = {entry.name: name for name, entry in chosen.items()}  # run names in the entries' texts
    for name, entry in chosen.items():
        target = zoo / name
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(entry, target, ignore=shutil.ignore_patterns("example_files"))
        model_yaml = (target / "model.yaml").read_text()
        for older in ("A TF x region binding matrix", *(f"Pre-training: {arm} TFs for {t}" for arm in ("relevant", "random")
                                                       for t in args.targets)):  # runs made before DATA_DESCRIPTION
            model_yaml = model_yaml.replace(older, DATA_DESCRIPTION)
        for run_name, zoo_name in renamed.items():
            model_yaml = model_yaml.replace(f"fine-tuned from {run_name} ", f"fine-tuned from {zoo_name} ")
        write_text(target / "model.yaml", model_yaml)
        loader = target / "dataloader.yaml"
        write_text(loader, loader.read_text().replace("example: example_files/", "example: ../../../examples/"))
        write_text(target / "README.md", f"# TFTransfer {name}\n\nTrained by `python experiments/tftransfer.py "
                   f"--out {args.out} --publish {zoo}` (run {entry.relative_to(out)}).\n\n"
                   f"## The experiment this entry comes from\n\n{card}")
        log.info("published %s", target)


if __name__ == "__main__":
    sys.exit(main())
