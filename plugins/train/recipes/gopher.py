"""GOPHER's recipe (Toneyan, Tang & Koo 2022): binary and quantitative models of ATAC-seq profiles.

What is particular to the paper (spec: shared/specs/seed_002_gopher.md; [P] paper, [R] the
authors' code), the rest being the shared trainer:

* data (§1.1): a FASTA, one coverage bigWig per cell line (ENCODE's fold change over control,
  replicate 1, used as it is, §1.2) and, for binary models or peak-centred data, its IDR peaks.
* selection (§1.6): ``threshold``: the non-overlapping 3,072-bp chunks whose coverage exceeds
  ``threshold`` (2) in some cell line; ``peaks``: 3,072-bp windows on the merged peaks of all cell
  lines. Binary models: 2,048-bp windows on the merged peaks, labelled 1 for a cell line when one
  of its peaks' summits lies in the window [R].
* augmentation (§1.7): per sample, a random 2,048-bp crop of the 3,072 (shifts of up to 1,024 bp;
  ``max_shift: 0`` is the centre crop) and, with probability 0.5, the reverse complement with the
  coverage reversed; binary models unaugmented [R].
* splits (§1.5): chr8 test, chr9 validation, chrY excluded (the paper; the repo also drops chrX
  and chrM: ``exclude_chroms``). Validation: the selection on chr9, centre crops. Test: every
  non-overlapping 2,048-bp tile of chr8, no threshold (the whole-chromosome test set, §1.6).
* targets: read per batch from the bigWigs and averaged within the model's bins (§1.2), so no
  dense target array is built (`epizoo.plugins.train.profile_windows.ProfileTargets`).
* model (§2): `ARCHITECTURES` by name, ``options`` its keyword arguments.
* training (§3): Adam lr 0.001, batch 64 [R], at most 100 epochs; Basenji/BPNet: early stopping
  after 6 epochs without a better validation loss; CNN, ResidualBind and the binary models:
  patience 10 and the rate x0.2 after 3 such epochs. Loss: Poisson NLL (the paper's best, §2.8),
  binary cross-entropy for binary models, Poisson + the counts head's MSE for BPNet's counts head.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from epizoo.dataloaders.genome import Genome
from epizoo.dataloaders.tracks import BigWigTracks
from epizoo.entry_writing import render_template
from epizoo.zoo import ZOO_ROOT
from epizoo.zoo.GOPHER import dataloader as gopher_dataloader
from epizoo.zoo.GOPHER.architecture import SEQ_LEN

from ..config import ConfigError, RunConfig, TrainingConfig
from ..data import Samples
from ..profile_windows import (ProfileTargets, peak_centred_windows, peak_labels, read_summits, shift_offsets,
                               threshold_chunks)
from ..samplers import random_stream
from . import Prepared, Recipe

PAPER = "Toneyan, Tang & Koo 2022, Nature Machine Intelligence, https://doi.org/10.1038/s42256-022-00570-9"
_MODULE = "epizoo.zoo.GOPHER.architecture"
#: name -> (class, family); binary families predict one probability per cell line
ARCHITECTURES = {
    "basenji": (f"{_MODULE}.Basenji", "basenji"),
    "bpnet": (f"{_MODULE}.BPNet", "bpnet"),
    "conv_profile": (f"{_MODULE}.ConvProfile", "cnn"),
    "residualbind": (f"{_MODULE}.ResidualBind", "cnn"),
    "basset": (f"{_MODULE}.Basset", "binary"),
    "basenji_binary": (f"{_MODULE}.BasenjiBinary", "binary"),
    "conv_binary": (f"{_MODULE}.ConvBinary", "binary"),
    "residualbind_binary": (f"{_MODULE}.ResidualBindBinary", "binary"),
}
SEQUENCE_INPUT = {"kind": "sequence", "alphabet": "ACGT", "axes": ["length", "channels"], "n_value": 0.0}


@dataclass
class GopherData:
    fasta: Path
    bigwigs: list[Path]                          # one coverage track per cell line (§1.1)
    peaks: list[Path] = field(default_factory=list)   # IDR peaks per cell line, same order (binary, peak-centred)
    task_names: list[str] = field(default_factory=list)  # default: the bigWigs' file names
    selection: str = "threshold"                 # §1.6: threshold | peaks
    threshold: float = 2.0                       # §1.6 default
    chunk: int = 3072                            # §1.3 stored length
    merge: int = 200                             # §1.6 [R]: peaks closer than this share a window
    max_shift: int = 1024                        # §1.7: random crops of up to 1,024 bp; 0: centre crop
    reverse_complement: float | None = None      # §1.7: 0.5 (quantitative); binary models 0 [R]
    test_chroms: list[str] = field(default_factory=lambda: ["chr8"])    # §1.5
    valid_chroms: list[str] = field(default_factory=lambda: ["chr9"])   # §1.5
    exclude_chroms: list[str] = field(default_factory=lambda: ["chrY"])  # §1.5 paper; repo: + chrX, chrM
    description: str = ""                        # what the data are, for the entry

    def __post_init__(self) -> None:
        if self.selection not in ("threshold", "peaks"):
            raise ConfigError(f"data.selection must be threshold or peaks, not {self.selection!r}")
        if self.peaks and len(self.peaks) != len(self.bigwigs):
            raise ConfigError(f"data.peaks: {len(self.peaks)} files for {len(self.bigwigs)} bigWigs; give one per cell line")
        if self.task_names and len(self.task_names) != len(self.bigwigs):
            raise ConfigError(f"data.task_names: {len(self.task_names)} names for {len(self.bigwigs)} bigWigs")
        if not 0 <= self.max_shift <= self.chunk - SEQ_LEN:
            raise ConfigError(f"data.max_shift must lie in [0, chunk - {SEQ_LEN}] = [0, {self.chunk - SEQ_LEN}]")


@dataclass
class GopherModel:
    architecture: str = "basenji"                # a key of ARCHITECTURES (§2)
    bin_size: int = 128                          # §1.3 output resolution (profile models)
    options: dict[str, Any] = field(default_factory=dict)  # the architecture's other keyword arguments

    def __post_init__(self) -> None:
        if self.architecture not in ARCHITECTURES:
            raise ConfigError(f"model.architecture must be one of {', '.join(ARCHITECTURES)}, not {self.architecture!r}")
        if SEQ_LEN % self.bin_size:
            raise ConfigError(f"model.bin_size must divide {SEQ_LEN}, not {self.bin_size}")


@dataclass
class GopherTraining(TrainingConfig):
    batch_size: int = 64                 # [R] wandb_train.py
    learning_rate: float = 1e-3          # §3
    max_epochs: int = 100                # §3
    patience: int | None = None          # §3: 6 (Basenji, BPNet), 10 (the others)
    loss: str | None = None              # §2.8: poisson; binary: bce_probabilities; BPNet counts head: multinomial_counts
    lr_decay_factor: float | None = None  # §3: 0.2 (CNN, ResidualBind, binary), none for Basenji/BPNet
    lr_decay_patience: int = 3           # §3


class GopherRecipe(Recipe):
    name = "gopher"
    DataConfig = GopherData
    ModelConfig = GopherModel
    TrainingConfig = GopherTraining
    architecture = ARCHITECTURES["basenji"][0]
    loss = "poisson"
    metrics = "epizoo.plugins.train.metrics.profile_metrics"

    def prepare(self, run: RunConfig) -> Prepared:
        data, model = run.data, run.model
        cls, family = ARCHITECTURES[model.architecture]
        binary = family == "binary"
        if binary and not data.peaks:
            raise ConfigError("data.peaks: binary models learn from the cell lines' peaks; give one peak file per bigWig")
        _resolve_training(run, family, model)
        self.reverse_complement_augmentation = (0.0 if binary else 0.5) if data.reverse_complement is None \
            else data.reverse_complement
        genome = Genome(data.fasta)
        names = list(data.task_names) or [Path(p).name.split(".bw")[0] for p in data.bigwigs]
        splits = _split_chroms(genome.lengths, data)
        tracks = BigWigTracks(data.bigwigs, names, genome)
        summits = read_summits(data.peaks) if data.peaks else None
        windows = _windows(data, genome.lengths, splits, binary, tracks, summits)
        targets = _targets(model, binary, windows, tracks, summits)
        samples = {role: Samples(windows[role].assign(source=0), targets[role]) for role in ("valid", "test")}
        return Prepared(
            builders=[gopher_dataloader.ProfileWindows(None, genome)],
            task_names=names,
            model_config={"n_tasks": len(names), **({} if binary else {"bin_size": model.bin_size}), **model.options},
            train_epoch=lambda epoch: _train_epoch(windows["train"], targets["train"], data, binary, (run.seed, epoch)),
            valid=samples["valid"],
            test=samples["test"],
            description={"chroms": splits, "windows": {k: len(v) for k, v in windows.items()},
                         "selection": "peaks" if binary else data.selection, "family": family},
            architecture=cls,
            loss=run.training.loss,
            metrics="epizoo.plugins.train.metrics.binary_metrics" if binary else self.metrics,
            lr_decay=None if run.training.lr_decay_factor is None else {
                "factor": run.training.lr_decay_factor, "patience": run.training.lr_decay_patience, "min_lr": 1e-7},
        )

    def entry_info(self, run: RunConfig, prepared: Prepared, test_metrics: dict[str, float]) -> dict:
        data, model = run.data, run.model
        _, family = ARCHITECTURES[model.architecture]
        binary, described, names = family == "binary", prepared.description, prepared.task_names
        keys = ("auroc", "auprc") if binary else ("pearson_whole", "pearson_per_peak", "mse")
        summary = ", ".join(f"{k} {test_metrics[k]:.3f}" for k in keys if k in test_metrics)
        chroms = described["chroms"]
        trained_on = (
            f"{data.description or 'Coverage tracks'} ({len(names)} cell lines: {', '.join(names)}; "
            f"{', '.join(Path(p).name for p in data.bigwigs[:3])}{', ...' if len(names) > 3 else ''}). "
            f"Training windows: {described['windows']['train']} "
            f"({'2,048-bp windows on merged peaks' if binary else _selection_text(data)}) on "
            f"{', '.join(chroms['train'])}; validation {', '.join(chroms['valid'])} "
            f"({described['windows']['valid']} windows); test: every 2,048-bp tile of {', '.join(chroms['test'])} "
            f"({described['windows']['test']})."
        )
        procedure = (
            f"epizoo train gopher ({PAPER}): {model.architecture}{'' if binary else f', {model.bin_size}-bp bins'}, "
            f"loss {prepared.loss}, Adam lr {run.training.learning_rate:g}, batch {run.training.batch_size}, at most "
            f"{run.training.max_epochs} epochs keeping the lowest validation loss (patience {run.training.patience}"
            f"{f', rate x{run.training.lr_decay_factor:g} after {run.training.lr_decay_patience} epochs' if run.training.lr_decay_factor else ''}), "
            f"{_augmentation_text(data, self.reverse_complement_augmentation, binary)}, seed {run.seed}. "
            f"Test set: {summary}."
        )
        return {
            "name": f"GOPHER {model.architecture} ({'binary' if binary else f'quantitative, {model.bin_size}-bp bins'})",
            "doc": (f"A GOPHER {model.architecture} model (Toneyan, Tang & Koo 2022) predicting "
                    + ("whether each cell line has an accessible-chromatin peak in a 2,048-bp sequence. "
                       if binary else f"ATAC-seq coverage in {model.bin_size}-bp bins of a 2,048-bp sequence, per cell line. ")
                    + data.description).strip(),
            "cite_as": "https://doi.org/10.1038/s42256-022-00570-9",
            "trained_on": trained_on,
            "training_procedure": procedure,
            "tags": ["DNA accessibility", "ATAC-seq", "binary" if binary else "profile"],
            "inputs": {"seq": {"shape": f"({SEQ_LEN}, 4)", "doc": "One-hot A, C, G, T (columns) by position",
                               "associated_metadata": "ranges", **SEQUENCE_INPUT}},
            "targets": _targets_schema(names, model, binary),
            "dataloader_yaml": render_template(ZOO_ROOT / "GOPHER" / "dataloader.yaml.j2",
                                               {"seq_len": SEQ_LEN, "examples": "example_files"}),
        }

    def example_files(self) -> list[Path]:
        return list(gopher_dataloader.EXAMPLE_FILES)


def _resolve_training(run: RunConfig, family: str, model: GopherModel) -> None:
    """Fill the family's defaults (§3) into the run's training settings, so the entry records them."""
    training = run.training
    if training.patience is None:
        training.patience = 6 if family in ("basenji", "bpnet") else 10
    if training.lr_decay_factor is None and family not in ("basenji", "bpnet"):
        training.lr_decay_factor = 0.2
    if training.loss is None:
        counts = family == "bpnet" and model.options.get("counts_head")
        training.loss = "bce_probabilities" if family == "binary" else "multinomial_counts" if counts else "poisson"


def _split_chroms(lengths: dict[str, int], data: GopherData) -> dict[str, list[str]]:
    usable = [c for c in lengths if c not in data.exclude_chroms]
    missing = [c for c in (*data.test_chroms, *data.valid_chroms) if c not in usable]
    if missing:
        raise ConfigError(f"data.test_chroms / valid_chroms: {', '.join(missing)} not in {data.fasta.name} "
                          f"(its chromosomes: {', '.join(list(lengths)[:10])}). Fix: name chromosomes of the genome")
    held_out = set(data.test_chroms) | set(data.valid_chroms)
    return {"train": [c for c in usable if c not in held_out], "valid": list(data.valid_chroms),
            "test": list(data.test_chroms)}


def _windows(data: GopherData, lengths: dict[str, int], splits: dict[str, list[str]], binary: bool,
             tracks: BigWigTracks, summits: list[pd.DataFrame] | None) -> dict[str, pd.DataFrame]:
    """Stored windows per split: training and validation by the selection, test the chr8 tiles."""
    tiles = pd.concat([pd.DataFrame({"chrom": c, "start": np.arange(lengths[c] // SEQ_LEN) * SEQ_LEN})
                       for c in splits["test"]], ignore_index=True)
    windows = {"test": tiles}
    for role in ("train", "valid"):
        if binary or data.selection == "peaks":
            width = SEQ_LEN if binary else data.chunk
            chosen = peak_centred_windows(summits, lengths, width, data.merge, splits[role])
        else:
            chosen = threshold_chunks(tracks, lengths, data.chunk, data.threshold, splits[role])
        if role == "valid" and not binary:  # centre crops
            chosen = chosen.assign(start=chosen["start"] + (data.chunk - SEQ_LEN) // 2)
        windows[role] = chosen[["chrom", "start"]].reset_index(drop=True)
        if not len(windows[role]):
            raise ConfigError(f"no {role} windows on {', '.join(splits[role])} ({data.selection} selection). "
                              "Fix: lower data.threshold, or check the chromosomes and peak files")
    return windows


def _targets(model: GopherModel, binary: bool, windows: dict[str, pd.DataFrame], tracks: BigWigTracks,
             summits: list[pd.DataFrame] | None) -> dict:
    """Binary labels (arrays) or a `ProfileTargets` reader per split."""
    if binary:
        return {role: peak_labels(frame, SEQ_LEN, summits) for role, frame in windows.items()}
    reader = ProfileTargets(tracks, SEQ_LEN, model.bin_size)
    return {role: reader for role in windows}


def _train_epoch(chunks: pd.DataFrame, targets, data: GopherData, binary: bool, seed: tuple[int, int]) -> Samples:
    """This epoch's samples: each stored window cropped at its own offset (§1.7), in a fresh order."""
    rng = random_stream(seed)
    offsets = 0 if binary else shift_offsets(len(chunks), data.max_shift, rng) if data.max_shift \
        else (data.chunk - SEQ_LEN) // 2
    windows = chunks.assign(start=chunks["start"] + offsets, source=0)
    order = rng.permutation(len(windows))
    return Samples(windows, targets).take(order)


def _targets_schema(names: list[str], model: GopherModel, binary: bool) -> dict:
    if binary:
        return {"shape": f"({len(names)},)", "name": "peak_probability", "column_labels": names, "axes": ["tasks"],
                "kind": "probability", "doc": "probability of a peak in the sequence, per cell line"}
    bins = SEQ_LEN // model.bin_size
    profile = {"shape": f"({bins}, {len(names)})", "axes": ["bins", "tasks"], "bin_size": model.bin_size,
               "kind": "coverage", "tasks": names,
               "doc": f"mean coverage per {model.bin_size}-bp bin (rows), per cell line (columns)"}
    if not model.options.get("counts_head"):
        return {"name": "profile", **profile}
    counts = {"shape": f"({len(names)},)", "axes": ["tasks"], "kind": "log_counts", "column_labels": names,
              "doc": "log(1 + summed binned coverage) per cell line"}
    return {"profile": profile, "counts": counts}


def _selection_text(data: GopherData) -> str:
    if data.selection == "peaks":
        return f"{data.chunk}-bp windows on the merged peaks"
    return f"{data.chunk}-bp chunks with coverage above {data.threshold:g} in some cell line"


def _augmentation_text(data: GopherData, rc: float, binary: bool) -> str:
    if binary:
        return "no shifts" + (f", reverse complements with p {rc:g}" if rc else ", no reverse complements")
    shift = f"random shifts of up to {data.max_shift} bp" if data.max_shift else "centre crops"
    return shift + (f", reverse complements with p {rc:g}" if rc else "")
