"""FactorNet's training recipe (Quang & Xie 2019), producing entries shaped like the converted ones.

What is particular to the paper (spec: shared/specs/seed_000_factornet.md; [P] paper, [C] the
authors' code), the rest being the shared trainer:

* samples: 200-bp bins (§2.1). Single-task: one bin per conservative peak, centred on its
  midpoint, in every training cell type, shifted afresh each epoch by up to
  ``peak_end - (peak_mid - 100) - 75 - 1`` [C]; multi-task: every 200/50 ladder bin that covers
  more than half of a peak of any TF, shifted by up to 20 bp [C], labelled per TF. Each epoch adds
  ``negatives_per_positive`` fresh random bins per positive (§2.4), drawn on the training
  chromosomes outside the peaks (relaxed where given) extended by 200 bp and outside the
  blacklist extended by the input length [C].
* validation: the positives of the validation chromosomes (unshifted) and one fixed draw of
  negatives; early stopping on the validation loss (§2.4).
* test: every 200-bp bin every 50 bp of the test chromosomes (§2.1): bound when it covers more than
  half of a conservative peak, ambiguous (ignored) when it only touches a relaxed one (§2.1).
  Metrics: auROC, auPR, recall at 10/25/50% FDR (§3.1).
* model: the released Siamese architecture (`epizoo.zoo.FactorNet.architecture.FactorNet`) with
  Table S1's sizes; its input is the released models' 1,002 bp so that the trained entry uses the
  same dataloaders as the converted ones.
* loss: binary cross-entropy on the strand-averaged probabilities, Adam, batch 100 (§2.4).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from epizoo.dataloaders.genome import Genome
from epizoo.dataloaders.intervals import OverlapIndex, read_bed, resize
from epizoo.entry_writing import render_template
from epizoo.zoo import ZOO_ROOT
from epizoo.zoo.FactorNet import dataloader as factornet_dataloaders

from ..config import ConfigError, RunConfig, TrainingConfig
from ..data import Samples
from ..samplers import BalancedEpochs, RandomWindows, drop_overlapping, random_stream, split_by_chromosome
from . import Prepared, Recipe

BIN = 200  # §2.1: "200 bp bins sliding every 50 bp"
TEMPLATES = ZOO_ROOT / "FactorNet"


@dataclass
class CellData:
    """One cell type: its DNase track, its peaks per TF, optionally its expression PCs."""

    name: str
    dnase: Path                                                 # 1x DNase 5'-cut bigWig (§2.3)
    peaks: dict[str, Path]                                      # TF -> conservative peaks (§2.1)
    relaxed: dict[str, Path] = field(default_factory=dict)     # TF -> relaxed peaks (ambiguous)
    expression: Path | None = None                              # 8 expression PCs, meta.txt (§2.3)


@dataclass
class FactorNetData:
    fasta: Path
    cells: list[CellData]
    tasks: list[str] = field(default_factory=list)              # default: the first cell's TFs
    mappability: Path | None = None                             # Unique35 bigWig: a second track (§2.3)
    blacklist: Path | None = None                               # bins near it are never sampled [C]
    valid_chroms: list[str] = field(default_factory=lambda: ["chr11"])          # Tables S2/S3, [C]
    test_chroms: list[str] = field(default_factory=lambda: ["chr1", "chr8", "chr21"])  # §2.1
    negatives_per_positive: float = 1.0                         # Table S1 ``-n``
    ladder_stride: int = 50                                     # §2.1
    multitask_shift: int = 20                                   # [C] make_features_multiTask
    description: str = ""                                       # what the data are, for the entry


@dataclass
class FactorNetModel:
    seq_len: int = 1002        # the released models' input [C models/*/model.json]; Table S1: 1000
    conv_filters: int = 32     # Table S1 -k
    conv_width: int = 26       # Table S1 -w (pool w // 2 [C])
    lstm_units: int = 32       # Table S1 -r
    dense_units: int = 128     # Table S1 -d
    dropout: float = 0.5       # Table S1 -p
    conv_dropout: float = 0.1  # [C] utils.make_model


@dataclass
class FactorNetTraining(TrainingConfig):
    batch_size: int = 100        # §2.4 "minibatch size 100"
    learning_rate: float = 1e-3  # Tables S2/S3 and [C] (Table S1: 1e-5 "to smooth the learning curves")
    max_epochs: int = 100        # [C] train.py default (Table S2: 20)
    patience: int = 20           # Tables S2/S3
    monitor: str = "val_loss"    # §2.4 early stopping on the validation loss


class FactorNetRecipe(Recipe):
    name = "factornet"
    DataConfig = FactorNetData
    ModelConfig = FactorNetModel
    TrainingConfig = FactorNetTraining
    architecture = "epizoo.zoo.FactorNet.architecture.FactorNet"
    loss = "bce_probabilities"
    metrics = "epizoo.plugins.train.metrics.binary_metrics"
    default_seed = 420  # [C] train.py

    def prepare(self, run: RunConfig) -> Prepared:
        data, model = run.data, run.model
        genome = Genome(data.fasta)
        tasks = data.tasks or sorted(data.cells[0].peaks)
        _validate(data, tasks)
        tracks = ["Unique35", "DGF"] if data.mappability else ["DGF"]
        meta = all(cell.expression for cell in data.cells)
        builders = [self._builder(genome, cell, data, tracks, meta) for cell in data.cells]
        chroms = _chromosome_roles(genome, data)
        excluded = _blacklist(data, model.seq_len)
        cells = [_CellSampling(i, cell, tasks, genome, chroms, excluded, data, model, run.seed)
                 for i, cell in enumerate(data.cells)]
        return Prepared(
            builders=builders,
            task_names=tasks,
            model_config=_model_config(model, tracks, tasks, meta),
            train_epoch=lambda epoch: _concat([c.train(epoch) for c in cells], seed=(run.seed, epoch)),
            valid=_concat([c.valid() for c in cells], seed=(run.seed, -1)),
            test=_concat([c.test() for c in cells], seed=None),
            description={"tracks": tracks, "meta": meta, "chromosomes": chroms, "cells": [c.name for c in data.cells]},
        )

    @staticmethod
    def _builder(genome: Genome, cell: CellData, data: FactorNetData, tracks: list[str], meta: bool):
        features = ["bigwig", "meta"] if meta else ["bigwig"]
        cls = getattr(factornet_dataloaders, factornet_dataloaders.dataloader_class(tracks, features))
        args = {"dnase_file": cell.dnase}
        if "Unique35" in tracks:
            args["mappability_file"] = data.mappability
        if meta:
            args["RNAseq_PC_file"] = cell.expression
        return cls(intervals_file=None, fasta_file=genome, **args)

    def entry_info(self, run: RunConfig, prepared: Prepared, test_metrics: dict[str, float]) -> dict:
        data, tasks = run.data, prepared.task_names
        tracks, meta = prepared.description["tracks"], prepared.description["meta"]
        kind = "meta" if meta else ("multiTask" if len(tasks) > 1 else "onePeak")
        loader_values = {
            "dataloader": factornet_dataloaders.dataloader_class(tracks, ["bigwig", "meta"] if meta else ["bigwig"]),
            "tracks": ",".join(tracks), "kind": kind, "n_channels": 4 + len(tracks),
            "n_meta": 8 if meta else 0, "examples": "example_files",
        }
        summary = ", ".join(f"{k} {test_metrics[k]:.3f}" for k in ("auroc", "auprc", "recall_at_50fdr") if k in test_metrics)
        chroms = prepared.description["chromosomes"]
        trained_on = (
            f"{data.description or 'User data'} ({data.fasta.name}): {', '.join(tasks)} peaks of cell "
            f"type(s) {', '.join(c.name for c in data.cells)}; inputs: sequence, {' and '.join(tracks)} "
            f"bigWig{'s' if len(tracks) > 1 else ''}{', 8 expression PCs' if meta else ''}. Training "
            f"chromosomes: {', '.join(chroms['train'])}; validation: {', '.join(chroms['valid'])}; "
            f"test: {', '.join(chroms['test'])}."
        )
        procedure = (
            f"epizoo train factornet (FactorNet, Quang & Xie 2019, {'multi' if len(tasks) > 1 else 'single'}-task): "
            f"each epoch all positive bins (shifted afresh) and {data.negatives_per_positive:g} fresh random "
            f"negative(s) per positive; Adam lr {run.training.learning_rate:g}, batch {run.training.batch_size}, "
            f"binary cross-entropy on the strand-averaged output, early stopping on the validation loss "
            f"(patience {run.training.patience}, at most {run.training.max_epochs} epochs), seed {run.seed}. "
            f"Test ladder (200-bp bins every {data.ladder_stride} bp): {summary}."
        )
        schema = _schema({**loader_values, "tasks": ",".join(tasks), "seq_len": run.model.seq_len})
        return {
            "name": f"FactorNet trained by epizoo ({', '.join(tasks)})",
            "doc": ("FactorNet (Quang and Xie 2019) trained with epizoo's recipe: a convolutional-recurrent "
                    "Siamese network predicting TF binding in the central 200-bp bin of a window from "
                    "sequence and chromatin tracks; it averages its prediction with the reverse-complement "
                    f"strand's. {data.description}").strip(),
            "cite_as": "https://doi.org/10.1016/j.ymeth.2019.03.020",
            "trained_on": trained_on,
            "training_procedure": procedure,
            "tags": ["TF binding", "DNA binding"],
            "inputs": schema["inputs"],
            "targets": schema["targets"],
            "dataloader_yaml": render_template(TEMPLATES / "dataloader-template.yaml", loader_values),
        }

    def example_files(self) -> list[Path]:
        return list(factornet_dataloaders.EXAMPLE_FILES)


def _schema(values: dict) -> dict:
    """The model.yaml ``schema`` of a FactorNet entry as the zoo's FactorNet template declares it (one
    declaration for converted and trained entries): the template rendered for a stand-alone entry."""
    card = {"model": "-", "tf": values["tasks"], "weights_file": "-", "training_cells": "-", "test_cell": "-",
            "local_weights": "weights.safetensors", "test_expect": "-", **values}
    return yaml.safe_load(render_template(TEMPLATES / "model-template.yaml", card))["schema"]


class _CellSampling:
    """The positives, negatives and test ladder of one cell type."""

    def __init__(self, index, cell: CellData, tasks, genome: Genome, chroms, excluded, data, model, seed) -> None:
        self.index, self.tasks, self.seq_len, self.data = index, tasks, model.seq_len, data
        self.seed = seed
        self.peaks = {tf: read_bed(cell.peaks[tf]) for tf in tasks}
        self.relaxed = {tf: read_bed(cell.relaxed[tf]) for tf in tasks if tf in cell.relaxed}
        self.peak_index = {tf: OverlapIndex(p, str(cell.peaks[tf])) for tf, p in self.peaks.items()}
        self.relaxed_index = {tf: OverlapIndex(p, str(cell.relaxed[tf])) for tf, p in self.relaxed.items()}
        self.genome, self.chroms, self.excluded = genome, chroms, excluded
        positives, negatives, shift = self._positives("train", shifted=True)
        self.epochs = BalancedEpochs(positives, negatives, ratio=data.negatives_per_positive, shift=shift,
                                     seed=(seed, index))

    # -- positives ---------------------------------------------------------------------------
    def _positives(self, role: str, shifted: bool):
        """(positives, negatives sampler[, shift]) on the chromosomes of ``role``."""
        if len(self.tasks) == 1:
            bins, shift = self._peak_bins(role)
        else:
            bins = self._ladder(role)
            bins = bins[self._labels(bins).any(axis=1)].reset_index(drop=True)
            shift = self.data.multitask_shift
        negatives = self._negatives(role)
        return (bins, negatives, shift if shifted else 0)

    def _peak_bins(self, role: str) -> tuple[pd.DataFrame, np.ndarray]:
        """One 200-bp bin per conservative peak, at its midpoint (single-task, §3.2 [C])."""
        peaks = split_by_chromosome(self.peaks[self.tasks[0]], self.chroms["valid"], self.chroms["test"])[role]
        peaks = self._not_excluded(peaks)
        mid = (peaks["start"].to_numpy() + peaks["end"].to_numpy()) // 2
        shift = np.maximum(peaks["end"].to_numpy() - (mid - BIN // 2) - 75 - 1, 0)  # [C] utils.py
        bins = pd.DataFrame({"chrom": peaks["chrom"].to_numpy(), "start": mid - BIN // 2, "end": mid + BIN // 2})
        return bins, shift

    def _ladder(self, role: str) -> pd.DataFrame:
        """Every 200-bp bin every ``ladder_stride`` bp on the chromosomes of ``role`` (§2.1)."""
        frames = []
        for chrom in self.chroms[role]:
            starts = np.arange(0, self.genome.lengths[chrom] - BIN + 1, self.data.ladder_stride)
            frames.append(pd.DataFrame({"chrom": chrom, "start": starts, "end": starts + BIN}))
        ladder = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["chrom", "start", "end"])
        return self._not_excluded(ladder).reset_index(drop=True)

    def _labels(self, bins: pd.DataFrame) -> np.ndarray:
        """Bound per TF: the bin has more than half of its bases in conservative peaks ([C] bedtools
        intersect -f 101/200; here against the union of the peaks, which differs only where two
        overlapping peaks cover the bin together but neither alone)."""
        chroms, starts = bins["chrom"].to_numpy(), bins["start"].to_numpy()
        return np.stack(
            [self.peak_index[tf].covered(chroms, starts, starts + BIN) > BIN // 2 for tf in self.tasks], axis=1
        ).astype(np.float32)

    def _not_excluded(self, bins: pd.DataFrame) -> pd.DataFrame:
        if self.excluded is None or bins.empty:
            return bins
        return drop_overlapping(bins, self.excluded, flank=self.seq_len)

    def _negatives(self, role: str) -> RandomWindows:
        avoid = pd.concat([*self.peaks.values(), *self.relaxed.values()], ignore_index=True)[["chrom", "start", "end"]]
        if self.excluded is not None:
            flank = self.seq_len
            avoid = pd.concat([avoid, self.excluded.assign(start=self.excluded["start"] - flank, end=self.excluded["end"] + flank)[["chrom", "start", "end"]]])
        sizes = {c: self.genome.lengths[c] for c in self.chroms[role]}
        return RandomWindows(sizes, BIN, exclude=avoid, edge=self.seq_len, flank=BIN)

    # -- samples -----------------------------------------------------------------------------
    def _samples(self, bins: pd.DataFrame, targets: np.ndarray, mask: np.ndarray | None = None) -> Samples:
        starts, _ = resize(bins["start"].to_numpy(), bins["end"].to_numpy(), self.seq_len, centring="floor")
        windows = pd.DataFrame({"source": self.index, "chrom": bins["chrom"].to_numpy(), "start": starts})
        return Samples(windows, targets.astype(np.float32), mask)

    def train(self, epoch: int) -> Samples:
        frame = self.epochs.epoch(epoch)
        positives = self.epochs.positives
        targets = np.zeros((len(frame), len(self.tasks)), dtype=np.float32)
        is_positive = frame["row"].to_numpy() >= 0
        if len(self.tasks) == 1:
            targets[is_positive, 0] = 1
        else:
            targets[is_positive] = self._labels(positives.iloc[frame["row"].to_numpy()[is_positive]])
        return self._samples(frame, targets)

    def valid(self) -> Samples:
        positives, negatives, _ = self._positives("valid", shifted=False)
        rng = random_stream(self.seed, self.index, "valid")
        drawn = negatives.sample(int(round(self.data.negatives_per_positive * len(positives))), rng)
        bins = pd.concat([positives[["chrom", "start", "end"]], drawn[["chrom", "start", "end"]]], ignore_index=True)
        targets = np.zeros((len(bins), len(self.tasks)), dtype=np.float32)
        if len(self.tasks) == 1:
            targets[: len(positives), 0] = 1
        else:
            targets[: len(positives)] = self._labels(positives)
        return self._samples(bins, targets)

    def test(self) -> Samples:
        ladder = self._ladder("test")
        labels = self._labels(ladder)
        ambiguous = np.zeros_like(labels, dtype=bool)
        for t, tf in enumerate(self.tasks):
            if tf in self.relaxed_index:
                touches = self.relaxed_index[tf].overlaps(ladder["chrom"].to_numpy(), ladder["start"].to_numpy(), ladder["end"].to_numpy())
                ambiguous[:, t] = touches & (labels[:, t] == 0)
        return self._samples(ladder, labels, mask=~ambiguous)


def _validate(data: FactorNetData, tasks: list[str]) -> None:
    for cell in data.cells:
        missing = [tf for tf in tasks if tf not in cell.peaks]
        if missing:
            raise ConfigError(f"data.cells[{cell.name}].peaks has no {', '.join(missing)} (tasks: {', '.join(tasks)})")
    if any(cell.expression for cell in data.cells) and not all(cell.expression for cell in data.cells):
        raise ConfigError("data.cells: give expression PCs for every cell type or for none")
    if len(tasks) > 1 and len(data.cells) > 1:
        raise ConfigError("multi-task FactorNet trains on one cell type (§2.4.2): give one cell for several tasks")


def _chromosome_roles(genome: Genome, data: FactorNetData) -> dict[str, list[str]]:
    names = list(genome.lengths)
    valid = [genome.resolve(c) for c in data.valid_chroms if c in genome.resolve]
    test = [genome.resolve(c) for c in data.test_chroms if c in genome.resolve]
    if not valid or not test:
        raise ConfigError(
            f"data.valid_chroms {data.valid_chroms} / data.test_chroms {data.test_chroms} are not in "
            f"{data.fasta.name} (it has {', '.join(names[:10])}). Fix: choose chromosomes of the genome."
        )
    train = [c for c in names if c not in valid and c not in test]
    if not train:
        raise ConfigError("no chromosome is left for training once validation and test are set aside")
    return {"train": train, "valid": valid, "test": test}


def _blacklist(data: FactorNetData, seq_len: int) -> pd.DataFrame | None:
    return read_bed(data.blacklist)[["chrom", "start", "end"]] if data.blacklist else None


def _model_config(model: FactorNetModel, tracks: list[str], tasks: list[str], meta: bool) -> dict:
    return {
        "n_channels": 4 + len(tracks), "seq_len": model.seq_len, "conv_filters": model.conv_filters,
        "conv_width": model.conv_width, "pool": model.conv_width // 2, "lstm_units": model.lstm_units,
        "dense_units": model.dense_units, "n_tasks": len(tasks), "n_meta": 8 if meta else 0,
        "td_units": model.conv_filters, "dropout": model.dropout, "conv_dropout": model.conv_dropout,
    }


def _concat(parts: list[Samples], seed) -> Samples:
    windows = pd.concat([p.windows for p in parts], ignore_index=True)
    targets = np.concatenate([p.targets for p in parts])
    masks = [p.mask for p in parts]
    mask = None if all(m is None for m in masks) else np.concatenate(
        [np.ones_like(p.targets, bool) if p.mask is None else p.mask for p in parts])
    samples = Samples(windows, targets, mask)
    if seed is None:
        return samples
    order = random_stream(seed).permutation(len(samples))
    return samples.take(order)
