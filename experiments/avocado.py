"""Avocado's claims (Schreiber, Durham, Bilmes & Noble 2020) on the real Roadmap pilot tracks, and the
zoo entry.

Data: `../shared/data/avocado/pilot/`, 25 Roadmap tracks (E003, E017, E065, E116, E117 x H3K4me3,
H3K27me3, H3K36me3, H3K9me3, H3K4me1), arcsinh(-log10 p) at 25 bp over the ENCODE pilot regions
(1,126,469 positions).

* ``cv``: five-fold cross-validation over the tracks (whole tracks held out, spec §4.1). Fold ``k``
  holds out cell type ``i``'s assay ``(i + k) mod 5`` for every ``i`` (a Latin square), so every
  track is held out once and every cell type and assay keeps four training tracks. Per held-out
  track: MSE, MSE at the top 1% of observed and of imputed signal, Pearson r, for Avocado, a
  PREDICTD-like dot product of as many genome parameters per position, and the average of the
  same assay in the other (training) cell types (ChromImpute's simplest stand-in). The paper's
  Table 1: Avocado 0.100 / 1.66 / 0.845 (MSE / 1obs / 1imp), PREDICTD 0.100 / 1.76 / 0.897,
  ChromImpute 0.113 / 0.941 / 1.09.
  The paper trains 800 epochs, each position seen once per epoch with a random track: a position's
  factors are fitted from many draws of its tracks. On 2 CPU cores that regime fits
  ``--stretches`` evenly spaced stretches of ``--stretch`` positions of the pilot arrays (by
  default 5 x 25,600 = 128,000 positions, 3.2 Mb, 60 epochs), not the whole pilot (12 epochs
  over all 1.1 million positions fitted the training tracks but left held-out tracks worse than
  their own mean: MSE 0.281 against a variance of 0.266). The stretches' tracks and their layout
  (the pseudo-chromosome ``positions`` of the pilot arrays, 25 bp per position) are written
  into ``OUT/tracks``. Dropout (0.5 after each dense layer) is on: the paper says it
  "significantly boosts Avocado's performance" without giving a rate, and here, with fold 0's
  other four held-out tracks as validation, the held-out MSE without it was lowest at epoch 10
  (0.290) and rose to 0.38 by epoch 40 as the network memorised its 20 (cell type, assay) pairs;
  with it, it fell to 0.260 by epoch 30 and stayed there (the assay mean: 0.260).
* ``downstream``: the authors' downstream task sets (``downstream/``): gene expression in E017
  (16,724 genes, expressed when the mean RNA-seq over the gene body >= 0.5, the 24 assays' signal
  at each promoter) and FIREs in E116 (the label file holds all 72,036 loci, the feature files
  only the first 3,000, which the authors' demo uses). Observed Roadmap, ChromImpute, PREDICTD and
  Avocado imputations (and Avocado's factors, FIREs only) as feature sets of gradient boosting
  (scikit-learn's histogram boosting, the spec's stand-in for XGBoost: max depth 6, up to 5,000
  rounds, early stopping after 20 on a validation fold), 20-fold cross-validation (18 train, 1
  validation, 1 test), average precision per fold (spec §4.4).
* ``attributions``: fold 0's integrated gradients over the factors of its held-out tracks, at
  peaks (observed signal above arcsinh(2), the paper's threshold) and elsewhere: the paper finds
  the genome components positive where there are peaks, the cell-type component negative where
  there are none (spec §5, claim 11).
* ``publish``: a cross-validation run as the zoo entry, its genome factors at reduced precision
  (or a documented subset of positions) so that the entry stays small; its model card gives the
  command that regenerates it.

    python experiments/avocado.py cv --out out/avocado            # ~1 h on 2 CPU cores (the defaults)
    python experiments/avocado.py downstream --out out/avocado     # ~10 min
    python experiments/avocado.py attributions --out out/avocado   # after cv, ~5 min
    python experiments/avocado.py publish out/avocado/runs/avocado-f0 --zoo zoo/Avocado --name pilot \
        --claims out/avocado/summary.md
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

from epizoo.atomic import write_text

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "avocado"
CELLS = ["E003", "E017", "E065", "E116", "E117"]
MARKS = ["H3K4me3", "H3K27me3", "H3K36me3", "H3K9me3", "H3K4me1"]
N_POSITIONS = 1_126_469
METHODS = ("avocado", "dot_product", "assay_mean")
PAPER = {"mse": {"avocado": 0.100, "dot_product": 0.100, "assay_mean": 0.113},
         "mse_1obs": {"avocado": 1.66, "dot_product": 1.76, "assay_mean": 0.941},
         "mse_1imp": {"avocado": 0.845, "dot_product": 0.897, "assay_mean": 1.09}}
DESCRIPTION = ("Roadmap Epigenomics consolidated -log10 p-value tracks, arcsinh-transformed, at 25 bp over the ENCODE "
               "pilot regions of hg19 (the authors' demo arrays, jmschrei/avocado 35961b6b): 5 cell types x 5 histone "
               "marks")
log = logging.getLogger("avocado")


def held_out(fold: int) -> list[str]:
    """The fold's test tracks: cell type i's mark (i + fold) mod 5."""
    return [f"{cell}.{MARKS[(i + fold) % len(MARKS)]}" for i, cell in enumerate(CELLS)]


def track_file(track: str) -> Path:
    """The pilot array of a track (``celltype.assay``)."""
    return DATA / "pilot" / f"{track}.pilot.arcsinh.npz"


def stretch_tracks(out: Path, stretches: int, length: int) -> tuple[Path, Path]:
    """The pilot tracks cut to ``stretches`` evenly spaced stretches of ``length`` positions
    (``OUT/tracks/<track>.npy``) and their layout (``OUT/tracks/layout.bed``, on the arrays' index)."""
    folder = out.resolve() / "tracks"
    starts = np.linspace(0, N_POSITIONS - length, stretches).astype(int) // 200 * 200  # whole 5-kb blocks
    rows = np.concatenate([np.arange(s, s + length) for s in starts])
    for cell in CELLS:
        for mark in MARKS:
            target = folder / f"{cell}.{mark}.npy"
            if not target.is_file():
                folder.mkdir(parents=True, exist_ok=True)
                np.save(target, np.load(track_file(f"{cell}.{mark}"))["arr_0"][rows])
    write_text(folder / "layout.bed", "".join(f"positions\t{s * 25}\t{(s + length) * 25}\n" for s in starts))
    return folder, folder / "layout.bed"


def run_config(out: Path, fold: int, architecture: str, args) -> Path:
    """The YAML of one cross-validation run (tracks named by absolute path: the runs folder is the user's)."""
    folder, layout = stretch_tracks(out, args.stretches, args.stretch)
    tracks = [str(folder / f"{c}.{m}.npy") for c in CELLS for m in MARKS]
    model = {"architecture": architecture}
    model |= ({"n_nodes": args.nodes, "dropout": args.dropout} if architecture == "avocado"
              else {"factors": 28})  # 29 genome values per position, as Avocado's 25 + 40 / 10 + 45 / 200
    config = {"recipe": "avocado", "seed": fold,
              "data": {"tracks": tracks, "layout": str(layout), "test_tracks": held_out(fold), "eval_every": 10,
                       "order": args.order, "description": f"{DESCRIPTION}; {args.stretches} stretches of "
                                                          f"{args.stretch:,} positions (layout.bed)"},
              "model": model,
              "training": {"learning_rate": args.lr, "max_epochs": args.epochs, "batch_size": args.batch_size,
                           "threads": args.threads},
              "entry": {"genome": "hg19"}}
    path = out / "configs" / f"{architecture}-f{fold}.yaml"
    write_text(path, yaml.safe_dump(config, sort_keys=False))
    return path


def train_run(out: Path, fold: int, architecture: str, args) -> Path:
    """The entry of one cross-validation run, trained unless it is already there."""
    from epizoo.plugins.train.runs import load_config
    from epizoo.plugins.train.trainer import train

    entry = out / "runs" / f"{architecture}-f{fold}"
    if not (entry / "model.yaml").is_file():
        log.info("training %s", entry.name)
        train(load_config(run_config(out, fold, architecture, args)), entry, check=False, quiet=True)
    return entry


def imputed_track(entry: Path, track: str, layout: Path) -> np.ndarray:
    """An entry's imputation of a whole track (every position of its layout, through its dataloader)."""
    from epizoo.plugins.impute import impute

    celltype, assay = track.split(".")
    return impute(entry, layout, celltype, assay)["value"].to_numpy()


def assay_mean(tracks: Path, track: str, fold: int) -> np.ndarray:
    """The average of the track's assay over the cell types where it is a training track."""
    celltype, assay = track.split(".")
    others = [f"{c}.{assay}" for c in CELLS if c != celltype and f"{c}.{assay}" not in held_out(fold)]
    return np.mean([_observed(tracks, t) for t in others], axis=0)


def _observed(tracks: Path, track: str) -> np.ndarray:
    return np.load(tracks / f"{track}.npy").astype(np.float64)


def cross_validation(out: Path, args) -> pd.DataFrame:
    from epizoo.plugins.evaluate.imputation import imputation_metrics

    rows = []
    tracks, layout = stretch_tracks(out, args.stretches, args.stretch)
    for fold in args.folds:
        entries = {name: train_run(out, fold, name, args) for name in ("avocado", "dot_product")}
        for track in held_out(fold):
            observed = _observed(tracks, track)
            imputed = {name: imputed_track(entry, track, layout) for name, entry in entries.items()}
            imputed["assay_mean"] = assay_mean(tracks, track, fold)
            for method, values in imputed.items():
                rows.append({"fold": fold, "track": track, "method": method, **imputation_metrics(observed, values)})
        table = pd.DataFrame(rows)
        write_text(out / "cv.tsv", table.to_csv(sep="\t", index=False))
        log.info("fold %d done", fold)
    write_text(out / "summary.md", summary(table, args))
    return table


def summary(table: pd.DataFrame, args) -> str:
    """The cross-validation's table: means over the held-out tracks, wins and paired t-tests."""
    from scipy.stats import ttest_rel

    metrics = ("mse", "mse_1obs", "mse_1imp", "pearson")
    wide = table.pivot_table(index="track", columns="method", values=list(metrics))
    lines = [f"Five-fold cross-validation over the 25 pilot tracks ({len(wide)} held out, {args.stretches} stretches of "
             f"{args.stretch:,} positions), `python experiments/avocado.py cv --out OUT --epochs {args.epochs} --nodes "
             f"{args.nodes} --dropout {args.dropout} --lr {args.lr} --batch-size {args.batch_size} --order {args.order}`; "
             "means over the "
             "held-out tracks (the paper's Table 1 beside: 1,014 tracks, the whole genome).", "",
             "| method | MSE | MSE 1% obs | MSE 1% imp | Pearson r | paper MSE / 1obs / 1imp |", "|---|---|---|---|---|---|"]
    for method in METHODS:
        if method not in wide["mse"]:
            continue
        paper = " / ".join(f"{PAPER[m][method]:g}" for m in ("mse", "mse_1obs", "mse_1imp"))
        lines.append(f"| {method} | " + " | ".join(f"{wide[m][method].mean():.4f}" for m in metrics) + f" | {paper} |")
    lines += ["", "Avocado against each (tracks where Avocado is better, of all; paired t-test p):", ""]
    for other in METHODS[1:]:
        if other not in wide["mse"]:
            continue
        parts = []
        for m in metrics:
            ours, theirs = wide[m]["avocado"], wide[m][other]
            better = int(((ours > theirs) if m == "pearson" else (ours < theirs)).sum())
            parts.append(f"{m} {better}/{len(ours)} (p {ttest_rel(ours, theirs).pvalue:.2g})")
        lines.append(f"- vs {other}: " + ", ".join(parts))
    return "\n".join(lines) + "\n"


# -- attributions (spec §5, claim 11) -----------------------------------------------------------------
PEAK = float(np.arcsinh(2.0))  # -log10 p of 2 (p = 0.01), the paper's peak threshold in arcsinh space (§4.3)


def attribution_structure(out: Path, args, per_track: int = 4_000) -> pd.DataFrame:
    """Integrated gradients over the factors of each held-out track of fold 0's Avocado (from all-zero
    factors): the mean attribution of each component at positions with a peak (observed signal above
    arcsinh(2)) and without, ``per_track`` positions of each (or all there are)."""
    import tempfile

    from epizoo.plugins.impute import factor_attributions

    tracks, layout = stretch_tracks(out, args.stretches, args.stretch)
    entry = out / "runs" / "avocado-f0"
    starts = [int(line.split()[1]) for line in layout.read_text().splitlines()]
    rows = []
    for track in held_out(0):
        observed = _observed(tracks, track)
        rng = np.random.default_rng(0)
        for peak in (True, False):
            where = np.flatnonzero((observed > PEAK) == peak)
            chosen = np.sort(rng.choice(where, min(per_track, len(where)), replace=False))
            with tempfile.TemporaryDirectory() as folder:
                bed = Path(folder) / "bins.bed"
                stretch, offset = chosen // args.stretch, chosen % args.stretch
                coordinates = np.asarray(starts)[stretch] + offset * 25
                write_text(bed, "".join(f"positions\t{c}\t{c + 25}\n" for c in coordinates))
                table = factor_attributions(entry, bed, *track.split("."))
            parts = table[["celltype", "assay", "genome_25bp", "genome_250bp", "genome_5kbp"]]
            rows.append({"track": track, "peak": peak, "positions": len(chosen), **parts.mean().to_dict(),
                         "genome": parts.iloc[:, 2:].sum(axis=1).mean(), "value": table["value"].mean()})
    table = pd.DataFrame(rows)
    write_text(out / "attributions.tsv", table.to_csv(sep="\t", index=False))
    return table


# -- downstream tasks -------------------------------------------------------------------------------
#: task -> (file prefix, label rule, rows used): the authors' demo notebook (jmschrei/avocado, "Avocado
#: Downstream Task Demo") labels genes by y >= 0.5 and uses the first 3,000 of the 72,036 FIRE loci, the
#: only rows its FIRE feature files hold
TASKS = {"gene expression, E017": ("RNAseq.E017", lambda y: y >= 0.5, None),
         "FIREs, E116": ("FIREs.E116", lambda y: y > 0.5, 3_000)}
FEATURE_SETS = ("Roadmap", "ChromImpute", "PREDICTD", "AvocadoImp", "AvocadoFac")


def downstream(out: Path, folds: int = 20, seed: int = 0) -> pd.DataFrame:
    """Average precision of each feature set of each task in ``folds``-fold CV (one fold tests, the
    next validates the early stopping, the rest train), and the majority baseline."""
    from sklearn.metrics import average_precision_score

    rows = []
    for task, (prefix, rule, n) in TASKS.items():
        labels = rule(np.load(DATA / "downstream" / f"{prefix}.y.npy")[:n])
        order = np.random.default_rng(seed).permutation(len(labels))
        parts = [order[k::folds] for k in range(folds)]
        rows += [{"task": task, "features": "majority", "fold": k,
                  "ap": average_precision_score(labels[part], np.full(len(part), labels.mean()))}
                 for k, part in enumerate(parts)]
        for name in FEATURE_SETS:
            path = DATA / "downstream" / f"{prefix}.{name}.npy"
            if path.is_file():
                features = np.load(path)[:n].astype(np.float32)
                rows += [{"task": task, "features": name, "fold": k, "ap": _fold_ap(features, labels, parts, k, seed)}
                         for k in range(folds)]
    table = pd.DataFrame(rows)
    write_text(out / "downstream.tsv", table.to_csv(sep="\t", index=False))
    write_text(out / "downstream.md", downstream_summary(table))
    return table


def _fold_ap(features: np.ndarray, labels: np.ndarray, parts: list[np.ndarray], k: int, seed: int) -> float:
    """Gradient boosting (max depth 6, up to 5,000 rounds, stopped after 20 without gain on the
    validation fold) trained on the other folds; its average precision on fold ``k``."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.metrics import average_precision_score

    test, valid = parts[k], parts[(k + 1) % len(parts)]
    train = np.concatenate([p for j, p in enumerate(parts) if j not in (k, (k + 1) % len(parts))])
    model = HistGradientBoostingClassifier(max_depth=6, max_iter=5000, early_stopping=True, n_iter_no_change=20,
                                           random_state=seed)
    model.fit(features[train], labels[train], X_val=features[valid], y_val=labels[valid])
    return average_precision_score(labels[test], model.predict_proba(features[test])[:, 1])


def downstream_summary(table: pd.DataFrame) -> str:
    """The downstream table: mean AP per task and feature set, with Avocado's paired comparisons."""
    from scipy.stats import ttest_rel

    lines = ["Downstream tasks (`python experiments/avocado.py downstream`): mean average precision over 20 folds "
             "(paired t-test of Avocado's imputations against each other feature set).", "",
             "| task | features | MAP | folds Avocado (imputed) is better | p |", "|---|---|---|---|---|"]
    for task, part in table.groupby("task", sort=False):
        wide = part.pivot(index="fold", columns="features", values="ap")
        for name in wide.columns:
            ours, theirs = wide["AvocadoImp"], wide[name]
            versus = "" if name == "AvocadoImp" else f"{int((ours > theirs).sum())}/{len(ours)}"
            p = "" if name == "AvocadoImp" else f"{ttest_rel(ours, theirs).pvalue:.2g}"
            lines.append(f"| {task} | {name} | {theirs.mean():.4f} | {versus} | {p} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    cv = sub.add_parser("cv", help="five-fold cross-validation over the pilot tracks")
    cv.add_argument("--out", type=Path, required=True)
    cv.add_argument("--folds", type=int, nargs="+", default=list(range(5)))
    cv.add_argument("--stretches", type=int, default=5, help="evenly spaced stretches of the pilot arrays")
    cv.add_argument("--stretch", type=int, default=25_600, help="positions per stretch (a multiple of 200)")
    cv.add_argument("--epochs", type=int, default=60)
    cv.add_argument("--nodes", type=int, default=256, help="dense width (the paper: 2,048)")
    cv.add_argument("--dropout", type=float, default=0.5,
                    help="after each dense layer (the paper: it helps, rate not given; the code: none)")
    cv.add_argument("--lr", type=float, default=0.01)
    cv.add_argument("--order", default="permuted", choices=("sequential", "permuted"))
    cv.add_argument("--batch-size", type=int, default=10_000, help="the authors': 40,000 (on 1.1 M positions)")
    cv.add_argument("--threads", type=int, default=None)
    attributed = sub.add_parser("attributions", help="fold 0's factor attributions at peaks and elsewhere")
    attributed.add_argument("--out", type=Path, required=True)
    attributed.add_argument("--stretches", type=int, default=5)
    attributed.add_argument("--stretch", type=int, default=25_600)
    down = sub.add_parser("downstream", help="the gene-expression and FIRE feature sets")
    down.add_argument("--out", type=Path, required=True)
    publishing = sub.add_parser("publish", help="a run as a zoo entry, with a subset of its genome factors")
    publishing.add_argument("run", type=Path)
    publishing.add_argument("--zoo", type=Path, required=True)
    publishing.add_argument("--name", required=True)
    publishing.add_argument("--positions", default=None, help="first:stop positions whose factors are kept (default all)")
    publishing.add_argument("--dtype", default="float16", choices=("float32", "float16", "bfloat16"))
    publishing.add_argument("--claims", type=Path, default=None, help="summary.md of `cv`, quoted in the card")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stdout)
    for noisy in ("lightning", "lightning.pytorch", "lightning.fabric", "epizoo"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    if args.command == "cv":
        print(cross_validation(args.out, args).groupby("method")[["mse", "mse_1obs", "mse_1imp", "pearson"]].mean())
    elif args.command == "attributions":
        print(attribution_structure(args.out, args).round(4).to_string(index=False))
    elif args.command == "downstream":
        print(downstream_summary(downstream(args.out)))
    else:
        positions = tuple(int(v) for v in args.positions.split(":")) if args.positions else None
        publish(args.run, args.zoo / args.name, positions, args.dtype, args.claims)
    return 0


def publish(run: Path, target: Path, positions: tuple[int, int] | None, dtype: str, claims: Path | None = None) -> None:
    """Copy ``run`` to ``target`` with its genome factors in ``dtype``, of ``positions`` (first, stop)
    only where given (a documented subset), and a model card quoting ``claims`` (summary.md of ``cv``)."""
    import torch

    from epizoo.atomic import atomic_dir
    from epizoo.entry_writing import write_expect
    from epizoo.sharded import ShardedTables
    from epizoo.zoo.Avocado.entries import write_genome_factors

    spec = yaml.safe_load((run / "model.yaml").read_text())["args"]["weights"]["tables"]["genome"]
    stored = ShardedTables(run / spec["manifest"], spec["sha256"])
    n = int(stored.metadata["n_positions"])
    fold = yaml.safe_load((run / "config.yaml").read_text())["seed"]
    regenerate = f"python experiments/avocado.py cv --out OUT --folds {fold}"
    with atomic_dir(target) as folder:
        shutil.copytree(run, folder, dirs_exist_ok=True, ignore=shutil.ignore_patterns("genome_factors"))
        tables = {name: stored.table(name) for name in stored.tables}
        sha256 = write_genome_factors(folder / "genome_factors", tables, n, positions, getattr(torch, dtype),
                                      metadata={"regenerate": regenerate})
        stored = tuple(ShardedTables(folder / "genome_factors" / "manifest.json", sha256).metadata["stored"])
        write_text(folder / "model.yaml", (folder / "model.yaml").read_text().replace(spec["sha256"], sha256))
        write_expect(folder, folder / "expect.h5")
        metrics = json.loads((run / "metrics.json").read_text())
        card = model_card(target.name, folder, metrics, stored, n, dtype, regenerate)
        extra = f"\n## The paper's imputation claims on these tracks\n\n{claims.read_text()}" if claims else ""
        write_text(folder / "README.md", card + extra)


def model_card(name: str, entry: Path, metrics: dict, positions: tuple[int, int], n: int, dtype: str,
               regenerate: str) -> str:
    """The entry's README: what it is, its data, training, held-out metrics, the factors shipped, use."""
    spec = yaml.safe_load((entry / "model.yaml").read_text())
    info = spec["info"]
    every = yaml.safe_load((entry / "config.yaml").read_text())["data"]["eval_every"]
    return f"""# Avocado/{name}

{info['doc']}

**Trained here on real data**: {info['trained_on']}

## Training
{info['training_procedure']}

## Held-out metrics (whole tracks never seen in training, every {every}th position)
| metric | value |
|---|---|
""" + "\n".join(f"| {k} | {v:.4f} |" for k, v in metrics.items() if "/" not in k) + f"""

## Genome factors shipped
The entry ships the genome factors of its positions {positions[0]:,} to {positions[1] - 1:,} (of {n:,}) in {dtype}, to
keep the repository small (the network predicts from them in float32; its `kipoi test` expectations are those
of the stored factors); a position outside them is an error naming the subset. Regenerate the trained entry,
every factor in float32, with `{regenerate}` (about 10 min on 2 CPU cores).

## Use
```bash
epizoo impute zoo/Avocado/{name} --regions regions.bed --celltype E116 --assay H3K4me1 --out E116.H3K4me1.bw
epizoo impute zoo/Avocado/{name} --regions regions.bed --celltype E116 --assay H3K4me1 --attributions --out split.tsv
epizoo impute zoo/Avocado/{name} --regions regions.bed --latent --out factors.tsv
kipoi predict zoo/Avocado/{name} --source dir -o preds.tsv --dataloader_args '{{"intervals_file": "regions.bed",
  "celltype": "E116", "assay": "H3K4me1"}}'
```
`regions.bed` is in the coordinates of the entry's `layout.bed`: the pseudo-chromosome `positions` of the
pilot arrays, 25 bp per array position (`positions 0 25000` is the arrays' first 1,000 positions), of which the
entry holds the stretches listed there. The arrays concatenate the ENCODE pilot regions of hg19 in order: with
those regions' coordinates, the same stretches in hg19 make a layout that `--dataloader-args '{{"layout_file":
"stretches.hg19.bed"}}'` takes, and then regions are given in hg19.

## Limitations
Five cell types and five marks: the cell-type and assay factors know only these, and the network is far
smaller than the paper's (see config.yaml). Variant effects do not apply (no sequence input).

## Citation
Schreiber J, Durham T, Bilmes J, Noble WS. Avocado: a multi-scale deep tensor factorization method learns a
latent representation of the human epigenome. Genome Biology 21:81 (2020). {info['cite_as']}
"""


if __name__ == "__main__":
    sys.exit(main())
