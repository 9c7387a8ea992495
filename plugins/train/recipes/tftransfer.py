"""Novakovsky et al. 2021's recipe: multi-task pre-training, then single-task fine-tuning.

What is particular to the paper (spec: shared/specs/seed_001_transfer.md; [P] paper, [Repo] the
authors' code), the rest being the shared trainer:

* data: a TF x region binding matrix and the regions' sequences (`binding_matrix`). Several
  tasks make a multi-model: the ``less_sparse`` labels of the regions resolved for every task
  (§1.6). One task makes an individual model: the ``sparse`` labels, bound regions and as many
  unbound ones matched in GC content (10 bins, §1.6), optionally down-sampled to
  ``max_positives`` (Fig. 4). Regions holding N are dropped (§1.1). The sample is split at
  random ``1 - valid - test`` / ``valid`` / ``test`` (80/10/10, §1.6) with ``split_seed``, and the
  reverse complement of every training and validation region is added as a sample of its own
  (§1.1; none in the test set).
* transfer (§2.3): ``model.pretrained`` names a trained entry (e.g. a multi-model); every layer
  but the output (``transfer: all_but_output``, BN statistics included), or only the
  convolutional blocks (``conv_all``, ``conv1``), is copied into the new network, optionally with
  the convolutions frozen. The regions the pre-trained model saw (recorded in its weights'
  provenance) are left out of this run's data: "no overlap between the regions used in the
  pre-training and fine-tuning steps" (§1.6).
* model: `epizoo.zoo.TFTransfer.architecture.TFBindingCNN` (3 conv + 2 dense layers, §2.1).
* training: Adam, batch 100, lr 0.003 (pre-training, scratch) or 0.0003 (fine-tuning: set it in
  the config), binary cross-entropy on the logits [Repo], the weights of the lowest validation
  loss kept [Repo]; 10 epochs for individual models, 15 for multi-models [Repo].
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from epizoo.zoo import ZOO_ROOT
from epizoo.zoo.TFTransfer import dataloader as tf_dataloader
from epizoo.zoo.TFTransfer.architecture import TRANSFER_MODES, transfer_weights

from epizoo.entry_writing import render_template
from epizoo.kipoi_model import load_entry

from ..binding_matrix import BindingMatrix, load_binding_matrix, region_runs, runs_to_indices
from ..config import ConfigError, RunConfig, TrainingConfig
from ..data import Samples
from ..samplers import random_stream
from . import Prepared, Recipe

TEMPLATES = ZOO_ROOT / "TFTransfer"
#: the model contract's declaration of the sequence input (tf_dataloader: channels first, N = 0.25)
SEQUENCE_INPUT = {"kind": "sequence", "alphabet": "ACGT", "axes": ["channels", "length"], "n_value": tf_dataloader.N_VALUE}
PAPER = "Novakovsky et al. 2021, Genome Biology, https://doi.org/10.1186/s13059-021-02499-5"


@dataclass
class TFTransferData:
    labels: Path                                      # labels.npz: sparse / less_sparse (1, 0, -1), tfs, regions
    sequences: Path                                   # FASTA of the regions, in label-row order
    tasks: list[str]                                  # one TF: individual model; several: multi-model (§1.6)
    chroms: list[str] = field(default_factory=list)   # regions of these chromosomes only (default: all)
    valid_fraction: float = 0.1                       # §1.6 80/10/10; [Repo] 0.1 / 0.1
    test_fraction: float = 0.1
    split_seed: int | None = None                     # default: the run's seed (the paper: 5 splits per TF)
    max_positives: int | None = None                  # individual: down-sample positives (Fig. 4: 5000 ... 50)
    max_regions: int | None = None                    # multi-model: at most this many regions (Fig. 6 fixes ~70,000)
    unresolved: str = "drop"                          # multi-model: drop regions unresolved for any task (§1.6),
                                                      # or "mask": keep those resolved for one, ignore the rest
    description: str = ""                             # what the data are, for the entry

    def __post_init__(self) -> None:
        if not self.tasks:
            raise ConfigError("data.tasks: give at least one TF")
        if self.unresolved not in ("drop", "mask"):
            raise ConfigError(f"data.unresolved must be drop or mask, not {self.unresolved!r}")
        if not 0 < self.valid_fraction < 1 or not 0 < self.test_fraction < 1 or self.valid_fraction + self.test_fraction >= 1:
            raise ConfigError("data.valid_fraction and data.test_fraction must be in (0, 1) with a sum below 1")


@dataclass
class TFTransferModel:
    seq_len: int = 200                                             # §1.1
    filters: list[int] = field(default_factory=lambda: [100, 200, 200])   # §2.1
    widths: list[int] = field(default_factory=lambda: [19, 7, 4])         # §2.1
    pool: int = 3                                                   # §2.1 "max pooling (3x3)"
    dense_units: int = 1000                                         # §2.1
    dropout: float = 0.3                                            # §2.1
    pretrained: Path | None = None                                  # entry to fine-tune from (§2.3)
    transfer: str = "all_but_output"                                # §2.3: all_but_output, conv_all, conv1
    freeze_conv: bool = False                                       # §2.3 Table S5 ablation

    def __post_init__(self) -> None:
        if self.seq_len not in (200, 500, 1000):
            raise ConfigError(f"model.seq_len must be 200, 500 or 1000 (the paper's inputs), not {self.seq_len}")
        if self.transfer not in TRANSFER_MODES:
            raise ConfigError(f"model.transfer must be one of {', '.join(TRANSFER_MODES)}, not {self.transfer!r}")


@dataclass
class TFTransferTraining(TrainingConfig):
    batch_size: int = 100         # §3 "batch size 100"
    learning_rate: float = 3e-3   # §3 pre-training and scratch; fine-tuning: 3e-4 ("10-fold lower")
    max_epochs: int = 10          # [Repo] 10 for individual models (15 for multi-models)
    patience: int = 10            # [Repo] keeps the lowest validation loss over all epochs


class TFTransferRecipe(Recipe):
    name = "tftransfer"
    DataConfig = TFTransferData
    ModelConfig = TFTransferModel
    TrainingConfig = TFTransferTraining
    architecture = "epizoo.zoo.TFTransfer.architecture.TFBindingCNN"
    loss = "bce_logits"
    metrics = "epizoo.plugins.train.metrics.binary_metrics"
    default_seed = 42  # [Repo] np.random.seed(42)

    def prepare(self, run: RunConfig) -> Prepared:
        data, model = run.data, run.model
        matrix = load_binding_matrix(data.labels, data.sequences)
        pretrained = _Pretrained.read(model.pretrained) if model.pretrained else None
        excluded = pretrained.regions if pretrained else None
        seed = run.seed if data.split_seed is None else data.split_seed
        rows, targets, mask = _sample(matrix, data, excluded, seed)
        split = _split(len(rows), data, seed)
        genome = matrix.genome()
        windows = _windows(matrix, genome, model.seq_len)
        samples = {role: _samples(windows, rows[idx], targets[idx], None if mask is None else mask[idx],
                                  reverse=role != "test")
                   for role, idx in split.items()}
        return Prepared(
            builders=[getattr(tf_dataloader, tf_dataloader.dataloader_class(model.seq_len))(None, genome)],
            task_names=list(data.tasks),
            model_config=_model_config(model, len(data.tasks)),
            train_epoch=lambda epoch: _shuffled(samples["train"], (run.seed, epoch)),
            valid=samples["valid"],
            test=samples["test"],
            description=_description(matrix, data, rows, targets, split, pretrained, model, seed),
            initialise=pretrained.initialiser(model) if pretrained else None,
        )

    def entry_info(self, run: RunConfig, prepared: Prepared, test_metrics: dict[str, float]) -> dict:
        data, model, tasks = run.data, run.model, prepared.task_names
        described = prepared.description
        summary = ", ".join(f"{k} {test_metrics[k]:.3f}" for k in ("auroc", "auprc") if k in test_metrics)
        kind = "multi-model" if len(tasks) > 1 else "individual model"
        origin = (f"fine-tuned from {described['pretrained']['entry']} ({described['pretrained']['tasks']}; "
                  f"transfer {model.transfer}{', convolutions frozen' if model.freeze_conv else ''})"
                  if described.get("pretrained") else "trained from scratch")
        trained_on = (
            f"{data.description or 'A TF x region binding matrix'} ({data.labels.name}, {data.sequences.name}): "
            f"{described['label_variant']} labels of {', '.join(tasks)} on {described['n_regions']} regions of "
            f"{', '.join(described['chroms'])} (positives: {', '.join(f'{k} {v}' for k, v in described['positives'].items())}; "
            f"{_selection(data)}, "
            f"regions with N dropped{', regions of the pre-trained model left out' if described.get('pretrained') else ''}). "
            f"Random split (seed {described['split_seed']}): {described['split']['train']} train, "
            f"{described['split']['valid']} validation, {described['split']['test']} test regions; reverse "
            f"complements added to training and validation."
        )
        procedure = (
            f"epizoo train tftransfer ({PAPER}): {kind}, {origin}. Adam lr {run.training.learning_rate:g}, batch "
            f"{run.training.batch_size}, binary cross-entropy on the logits, at most {run.training.max_epochs} "
            f"epochs keeping the lowest validation loss (patience {run.training.patience}), seed {run.seed}. "
            f"Test set: {summary} (auprc: average precision)."
        )
        return {
            "name": f"TFTransfer {kind} ({', '.join(tasks)})",
            "doc": ("A Basset/AI-TAC-style CNN (3 convolutional + 2 dense layers) predicting whether a TF "
                    f"binds a {model.seq_len}-bp accessible region, after Novakovsky et al. 2021 "
                    "(biologically relevant transfer learning). Output: probability of binding per TF. "
                    f"{data.description}").strip(),
            "cite_as": "https://doi.org/10.1186/s13059-021-02499-5",
            "trained_on": trained_on,
            "training_procedure": procedure,
            "tags": ["TF binding", "DNA binding", "transfer learning"],
            "inputs": {"seq": {"shape": f"(4, {model.seq_len})", "doc": "One-hot A, C, G, T (rows) by position",
                               "associated_metadata": "ranges", **SEQUENCE_INPUT}},
            "targets": {"shape": f"({len(tasks)},)", "name": "binding_probability", "column_labels": tasks,
                        "doc": "probability that the TF binds the region, per TF", "axes": ["tasks"],
                        "kind": "probability"},
            "dataloader_yaml": render_template(TEMPLATES / "dataloader.yaml.j2",
                                               {"seq_len": model.seq_len, "examples": "example_files",
                                                "dataloader": tf_dataloader.dataloader_class(model.seq_len)}),
        }

    def example_files(self) -> list[Path]:
        return list(tf_dataloader.EXAMPLE_FILES)


@dataclass
class _Pretrained:
    """A trained entry to fine-tune from: its weights and the regions it was trained on."""

    entry: Path
    state: dict
    tasks: list[str]
    regions: np.ndarray

    @classmethod
    def read(cls, entry: Path) -> _Pretrained:
        entry = Path(entry)
        if not (entry / "model.yaml").is_file():
            raise ConfigError(f"model.pretrained: {entry} is not a zoo entry folder (no model.yaml)")
        network, metadata = load_entry(entry)
        data = metadata.get("data") or {}
        return cls(entry, network.state_dict(), list(metadata.get("task_names") or []),
                   runs_to_indices(data.get("regions", [])))

    def initialiser(self, model: TFTransferModel):
        def initialise(network) -> None:
            transfer_weights(self.state, network, model.transfer, model.freeze_conv)
        return initialise


def _selection(data: TFTransferData) -> str:
    """How the regions were chosen, for ``trained_on``."""
    if len(data.tasks) == 1:
        return "GC-matched 50:50 negatives"
    if data.unresolved == "drop":
        return "regions resolved for every task"
    return "regions resolved for at least one task, unresolved labels masked in the loss"


def _sample(matrix: BindingMatrix, data: TFTransferData, excluded: np.ndarray | None, seed: int
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Rows, targets ``(n, tasks)`` and the mask of resolved labels (None: all) of the run's
    regions (§1.6)."""
    unknown = [tf for tf in data.tasks if tf not in matrix.tfs]
    if unknown:
        raise ConfigError(f"data.tasks: {', '.join(unknown)} not in {data.labels} (its TFs: {', '.join(matrix.tfs[:8])}, ...)")
    rows = matrix.usable_rows(data.chroms, excluded)
    rng = random_stream(seed, 1)
    if len(data.tasks) == 1:
        rows, targets = matrix.balanced_rows(data.tasks[0], rows, rng, data.max_positives)
        _check_enough(rows, targets[:, None], data)
        return rows, targets[:, None], None
    rows = matrix.resolved_rows(data.tasks, "less_sparse", rows, every=data.unresolved == "drop")
    if data.max_regions is not None and len(rows) > data.max_regions:
        rows = np.sort(rng.choice(rows, data.max_regions, replace=False))
    labels = matrix.labels["less_sparse"][np.ix_(rows, [matrix.tf_index(tf) for tf in data.tasks])]
    targets = np.clip(labels, 0, 1).astype(np.float32)
    _check_enough(rows, targets, data)
    return rows, targets, None if data.unresolved == "drop" else labels >= 0


def _check_enough(rows: np.ndarray, targets: np.ndarray, data: TFTransferData) -> None:
    positives = targets.sum(axis=0)
    empty = [tf for tf, n in zip(data.tasks, positives) if n == 0]
    if len(rows) < 20 or empty:
        raise ConfigError(
            f"{data.labels}: {len(rows)} usable regions for {', '.join(data.tasks)} on "
            f"{', '.join(data.chroms) or 'all chromosomes'}{'; no positives for ' + ', '.join(empty) if empty else ''}. "
            "Fix: choose TFs with more bound regions, more chromosomes, or (multi-model) fewer TFs"
        )


def _split(n: int, data: TFTransferData, seed: int) -> dict[str, np.ndarray]:
    """Random train / valid / test indices into the sample (scikit-learn-style permutation)."""
    order = random_stream(seed, 2).permutation(n)
    n_test, n_valid = round(n * data.test_fraction), round(n * data.valid_fraction)
    return {"test": np.sort(order[:n_test]), "valid": np.sort(order[n_test:n_test + n_valid]),
            "train": np.sort(order[n_test + n_valid:])}


def _windows(matrix: BindingMatrix, genome, seq_len: int) -> pd.DataFrame:
    """The model-width window of every region: its record, centred (floor) when longer."""
    lengths = np.array([genome.lengths[c] for c in matrix.regions["contig"]])
    short = np.flatnonzero(lengths < seq_len)
    if len(short):
        raise ConfigError(f"{matrix.fasta}: record {matrix.regions['contig'][short[0]]!r} has {lengths[short[0]]} bp, "
                          f"fewer than model.seq_len {seq_len}; give longer sequences or a shorter seq_len")
    return pd.DataFrame({"source": 0, "chrom": matrix.regions["contig"].to_numpy(), "start": (lengths - seq_len) // 2})


def _samples(windows: pd.DataFrame, rows: np.ndarray, targets: np.ndarray, mask: np.ndarray | None,
             reverse: bool) -> Samples:
    """Samples of ``rows``; with ``reverse``, each region again as its reverse complement (§1.1)."""
    forward = windows.iloc[rows].reset_index(drop=True).assign(reverse=False)
    if not reverse:
        return Samples(forward, targets, mask)
    both = pd.concat([forward, forward.assign(reverse=True)], ignore_index=True)
    return Samples(both, np.concatenate([targets, targets]), None if mask is None else np.concatenate([mask, mask]))


def _shuffled(samples: Samples, seed: tuple[int, int]) -> Samples:
    return samples.take(random_stream(seed).permutation(len(samples)))


def _model_config(model: TFTransferModel, n_tasks: int) -> dict:
    return {"n_tasks": n_tasks, "seq_len": model.seq_len, "filters": list(model.filters),
            "widths": list(model.widths), "pool": model.pool, "dense_units": model.dense_units,
            "dropout": model.dropout}


def _description(matrix: BindingMatrix, data: TFTransferData, rows, targets, split, pretrained, model,
                 seed: int) -> dict:
    """What the run trained on, recorded with the weights (``regions`` lets a later fine-tuning
    leave them out)."""
    chroms = sorted(set(matrix.regions["chrom"].to_numpy()[rows]))
    described = {
        "label_variant": "sparse" if len(data.tasks) == 1 else "less_sparse",
        "chroms": chroms,
        "n_regions": len(rows),
        "positives": {tf: int(n) for tf, n in zip(data.tasks, targets.sum(axis=0))},
        "split": {role: len(idx) for role, idx in split.items()},
        "split_seed": seed,
        "regions": region_runs(matrix.regions["region_index"].to_numpy()[rows]),
    }
    if pretrained:
        described["pretrained"] = {"entry": pretrained.entry.name, "tasks": ", ".join(pretrained.tasks),
                                   "transfer": model.transfer, "freeze_conv": model.freeze_conv,
                                   "excluded_regions": len(pretrained.regions)}
    return described
