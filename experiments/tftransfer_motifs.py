"""Do a fine-tuned model's first-layer filters match its TF's known motif? (Novakovsky et al. §5)

For each trained TFTransfer entry: the one-hot sequences of the regions of its own sample (the
run's config rebuilds them) that the model predicts correctly (probability on the right side of
0.5: the paper's "correctly predicted regions"), each first-layer filter's PFM from every 19-mer
activating it to at least half its maximum (AI-TAC's rule, `epizoo.plugins.interpret.filters`),
and Tomtom (memelite) against HOCOMOCO v9. Per entry it reports the filter that matches the
target's own HOCOMOCO motif best (its q-value, and that motif's rank among the filter's matches)
and how many filters have that motif as their best match at q <= 0.05.

memelite's Tomtom compares columns by Euclidean distance, so weak filters reach q < 0.05 against
low-information motifs fairly often (the interpretation tests measured ~25% for random filters):
the same numbers for the model with its freshly initialised weights are given as the null.

    python experiments/tftransfer_motifs.py zoo/TFTransfer/*_finetuned out/tftransfer/runs/*-scratch-seed1
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from epizoo.plugins.interpret.filters import filter_pfms
from epizoo.dataloaders.motifs import read_meme, to_probabilities
from epizoo.plugins.interpret.motifs import tomtom_matches
from epizoo.plugins.train.runs import load_config
from epizoo.plugins.train.recipes.tftransfer import TFTransferRecipe

from epizoo.kipoi_model import load_entry

HOCOMOCO = Path(__file__).resolve().parents[2] / "shared" / "data" / "factornet" / "resources" / "HOCOMOCOv9.meme"


def trained_and_initial(entry: Path) -> tuple[torch.nn.Module, torch.nn.Module]:
    """The entry's network, and the same architecture freshly initialised (seed 0)."""
    trained, metadata = load_entry(entry)
    torch.manual_seed(0)
    return trained, type(trained)(**metadata["config"]).eval()


def correctly_predicted(entry: Path, model: torch.nn.Module) -> tuple[torch.Tensor, str]:
    """One-hot sequences of the entry's regions that it predicts correctly, and its TF."""
    # the files by their checksums (EPIZOO_MIRROR); the sample is the run's own, so its
    # pre-training is not needed
    run = load_config(entry / "config.yaml", {"model.pretrained": None})
    prepared = TFTransferRecipe().prepare(run)
    samples = [prepared.train_epoch(0), prepared.valid, prepared.test]
    windows = pd.concat([s.windows[~s.windows["reverse"]] for s in samples], ignore_index=True)
    targets = np.concatenate([s.targets[~s.windows["reverse"].to_numpy(), 0] for s in samples])
    X = torch.from_numpy(prepared.builders[0].batch_for_windows(windows["chrom"], windows["start"])["inputs"]["seq"])
    with torch.no_grad():
        predictions = torch.cat([model(x) for x in X.split(512)])[:, 0].numpy()
    return X[(predictions > 0.5) == (targets == 1)], prepared.task_names[0]


def motif_report(model: torch.nn.Module, X: torch.Tensor, tf: str, database: dict) -> dict:
    """The target motif's best filter (q-value, rank among its matches) and the filters whose best
    match it is."""
    found = filter_pfms(model, X, layer="relu1")
    queries = {name: to_probabilities(pfm) for name, pfm in found.motifs().items()}
    matches = tomtom_matches(queries, database)
    matches["rank"] = matches.groupby("query").cumcount() + 1
    own = matches[matches["target_alt"] == tf]
    best = own.sort_values("p_value").iloc[0]
    top = matches[matches["rank"] == 1]
    hits = top[(top["target_alt"] == tf) & (top["q_value"] <= 0.05)]
    return {"tf": tf, "motif": best["target"], "best_filter": best["query"], "q_value": best["q_value"],
            "rank": int(best["rank"]), "filters_best_matching_q05": len(hits),
            "filters_any_match_q05": int((top["q_value"] <= 0.05).sum()), "filters_with_sites": len(queries)}


def markdown(table: pd.DataFrame) -> str:
    """A markdown table, floats with 3 significant digits."""
    cells = table.map(lambda v: f"{v:.3g}" if isinstance(v, float) else str(v))
    lines = ["| " + " | ".join(table.columns) + " |", "|" + "---|" * len(table.columns)]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in cells.to_numpy()]) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("entries", nargs="+", type=Path)
    parser.add_argument("--database", type=Path, default=HOCOMOCO)
    parser.add_argument("--out", type=Path, help="the table as TSV, and as markdown beside it (.md)")
    args = parser.parse_args(argv)
    database = read_meme(args.database)
    rows = []
    for entry in args.entries:
        trained, fresh = trained_and_initial(entry)
        X, tf = correctly_predicted(entry, trained)
        for weights, model in (("trained", trained), ("initial (null)", fresh)):
            rows.append({"entry": entry.name, "weights": weights, "sequences": len(X), **motif_report(model, X, tf, database)})
            print("\t".join(str(v) for v in rows[-1].values()), flush=True)
    table = pd.DataFrame(rows)
    if args.out:
        from epizoo.atomic import write_text

        write_text(args.out, table.to_csv(sep="\t", index=False))
        write_text(args.out.with_suffix(".md"), markdown(table))
    print(markdown(table))
    return 0


if __name__ == "__main__":
    sys.exit(main())
