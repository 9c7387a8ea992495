"""ChromDragoNN's two-stage recipe (Nair, Kim, Perricone & Kundaje 2019; spec ``seed_003_chromdragonn.md`` §3).

What is particular to the paper ([P] paper, [C] the authors' code), the rest being the shared trainer:

* data: 200-bp bins every 50 bp, 1,000 bp of sequence centred on each (bins whose window leaves
  the chromosome are dropped); a bin is accessible in a cell type when more than half of it lies
  in that cell type's peaks (`epizoo.plugins.train.accessibility_bins`; or the authors' label
  matrix, ``data.labels``); TF expression per cell type from a genes x cell types TSV (TPM,
  transformed as ``data.expression_transform``); cell types held out for validation and test, all
  chromosomes used [P §2.4]. The mean accessibility of a bin is its mean over the training cell
  types only [C].
* stage 1 (``model.stage: 1``): the sequence trunk and a multi-task head, one sigmoid per training
  cell type, binary cross-entropy [P §2.4]; bins of ``data.stage1_valid_chroms`` validate and
  those of ``data.stage1_test_chroms`` test it (its tasks are the training cell types).
* stage 2 (``model.stage: 2``): the trunk (copied from the stage-1 entry ``model.pretrained``,
  frozen or tuned) joined with the expression (and the mean accessibility), one sigmoid per
  (bin, cell type) pair; each batch holds 1 positive to 3 negatives, the positives drawn from all
  accessible (bin, training cell type) pairs, the negatives from random pairs [P §2.5; C
  ``positive_proportion = 0.25``; exactly so on one device, on average under DDP, where each rank
  takes every n-th pair]; validated and tested on every ``data.eval_every``-th bin in
  the held-out cell types [C: every 500th], auPRC pooled over their pairs [C "OVERALL"]; the
  checkpoint of the best validation auPRC kept [C].
* training: Adam; the code's defaults [C]: stage 1 batch 256 and lr 0.002, stage 2 batch 512 and
  lr 1e-4 (the paper's search ranges: {128, 256} x {2e-2, 2e-3, 2e-4} and {256, 512, 1024} x
  {1e-3, 1e-4}, §3.3).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from epizoo.zoo import ZOO_ROOT
from epizoo.zoo.ChromDragoNN import dataloader as cd_dataloader
from epizoo.zoo.ChromDragoNN.architecture import SEQ_LEN

from epizoo.atomic import write_text
from epizoo.cache import cache_dir
from epizoo.dataloaders.files import SIGNAL_TRANSFORMS, read_names
from epizoo.dataloaders.genome import Genome
from epizoo.entry_writing import render_template
from epizoo.kipoi_model import load_entry

from ..accessibility_bins import (BIN_WIDTH, BinLabels, mean_accessibility, peak_bin_labels, read_label_matrix,
                                  write_mean_bigwig)
from ..config import ConfigError, RunConfig, TrainingConfig
from ..data import Samples
from ..samplers import random_stream
from . import Prepared, Recipe

PAPER = "Nair, Kim, Perricone & Kundaje 2019, Bioinformatics 35(14):i108, https://doi.org/10.1093/bioinformatics/btz352"
_MODULE = "epizoo.zoo.ChromDragoNN.architecture"
SEQUENCE_INPUT = {"kind": "sequence", "alphabet": "ACGT", "axes": ["length", "channels"], "n_value": 0.0}
#: the model window's offset from its bin's start (the bin centred in 1,000 bp)
WINDOW_OFFSET = (BIN_WIDTH - SEQ_LEN) // 2


@dataclass
class ChromDragoNNData:
    fasta: Path
    expression: Path                                   # genes x cell types TSV, TPM (§2.2)
    peaks: list[Path] = field(default_factory=list)    # one peak file per cell type (§2.1) ...
    labels: Path | None = None                         # ... or the authors' label matrix (chr start end cells...)
    cell_types: list[str] = field(default_factory=list)  # the peak files' cell types (default: name to the 1st '.')
    valid_cells: list[str] = field(default_factory=list)  # held-out cell types (§3.1)
    test_cells: list[str] = field(default_factory=list)
    tfs: list[str] = field(default_factory=list)       # the expression rows the model takes (default: all, in order)
    expression_transform: str = "arcsinh"              # [C] README: arcsinh(TPM); the paper: log(TPM) (§9)
    stage1_valid_chroms: list[str] = field(default_factory=list)  # default: the genome's first chromosome [C]
    stage1_test_chroms: list[str] = field(default_factory=list)   # default: its second
    eval_every: int = 4                                # validate/test on every n-th bin [C: 500 genome-wide]
    positive_fraction: float = 0.25                    # stage 2: 1 positive : 3 negatives per batch (§2.5)
    pairs_per_epoch: int | None = None                 # stage 2 (default: 4 x the positive training pairs)
    description: str = ""                              # what the data are, for the entry

    def __post_init__(self) -> None:
        if bool(self.peaks) == (self.labels is not None):
            raise ConfigError("data: give either peaks (one file per cell type) or labels (a bins x cell types matrix)")
        if self.cell_types and self.peaks and len(self.cell_types) != len(self.peaks):
            raise ConfigError(f"data.cell_types: {len(self.cell_types)} names for {len(self.peaks)} peak files")
        if not self.valid_cells or not self.test_cells:
            raise ConfigError("data.valid_cells and data.test_cells: name the held-out cell types (§3.1)")
        if set(self.valid_cells) & set(self.test_cells):
            raise ConfigError("data.valid_cells and data.test_cells overlap")
        if self.expression_transform not in SIGNAL_TRANSFORMS:
            raise ConfigError(f"data.expression_transform must be one of {', '.join(SIGNAL_TRANSFORMS)}")
        if not 0 < self.positive_fraction < 1 or self.eval_every < 1:
            raise ConfigError("data.positive_fraction must lie in (0, 1) and data.eval_every be at least 1")


@dataclass
class ChromDragoNNModel:
    stage: int = 2                                     # 1: multi-task sequence model; 2: + expression (§2.4)
    trunk: str = "resnet"                              # resnet | factorized | basset (§2.3)
    trunk_options: dict[str, Any] = field(default_factory=dict)   # e.g. width (CPU-sized), l1_depth
    pretrained: Path | None = None                     # stage 2: the stage-1 entry whose trunk it starts from
    with_mean: bool = True                             # stage 2: the mean-accessibility input (§3.2)
    mean_at: str = "input"                             # input | hidden (§9)
    freeze_trunk: bool = False                         # the paper's best models tune it (§3.1)
    hidden: int = 1000                                 # §2.3
    dropout: float = 0.3                               # §2.3

    def __post_init__(self) -> None:
        if self.stage not in (1, 2):
            raise ConfigError(f"model.stage must be 1 or 2, not {self.stage}")
        if self.stage == 1 and self.pretrained is not None:
            raise ConfigError("model.pretrained is for stage 2 (the stage-1 entry whose trunk it starts from)")


@dataclass
class ChromDragoNNTraining(TrainingConfig):
    batch_size: int | None = None      # [C] stage 1: 256, stage 2: 512
    learning_rate: float | None = None  # [C] stage 1: 0.002, stage 2: 1e-4
    max_epochs: int = 100              # [C]
    patience: int = 10                 # not stated; the code keeps the best epoch without stopping
    monitor: str = "val_auprc"         # [C] the best validation auPRC


class LabelReader:
    """Targets of a batch read from the uint8 label matrix by the windows' ``bin`` (and ``cell``) columns."""

    reversed_with_sequence = False

    def __init__(self, labels: np.ndarray, columns: np.ndarray | None = None) -> None:
        self.labels, self.columns = labels, columns

    def __call__(self, windows: pd.DataFrame) -> np.ndarray:
        rows = windows["bin"].to_numpy()
        if self.columns is None:  # stage 2: the pair's own cell type
            return self.labels[rows, windows["cell"].to_numpy()][:, None].astype(np.float32)
        return self.labels[np.ix_(rows, self.columns)].astype(np.float32)


class ChromDragoNNRecipe(Recipe):
    name = "chromdragonn"
    DataConfig = ChromDragoNNData
    ModelConfig = ChromDragoNNModel
    TrainingConfig = ChromDragoNNTraining
    architecture = f"{_MODULE}.Stage2"
    loss = "bce_logits"

    def prepare(self, run: RunConfig) -> Prepared:
        data, model = run.data, run.model
        _resolve_training(run)
        genome = Genome(data.fasta)
        labels = _labels(data, genome.lengths)
        cells = _split_cells(data, labels)
        bins = _usable_bins(labels.bins, genome.lengths, str(data.labels.name if data.labels else "data.peaks"))
        self._files = _entry_artefacts(data, labels, cells["train"], genome.lengths,
                                       with_mean=model.stage == 2 and model.with_mean)
        self._entry_files = {} if model.stage == 1 else {
            "dataloader.py": cd_dataloader.ENTRY_DATALOADER, "tfs.txt": self._files["tfs"],
            **({"mean_accessibility.bw": self._files["mean"]} if "mean" in self._files else {})}
        if model.stage == 1:
            return self._stage1(run, genome, labels, bins, cells)
        return self._stage2(run, genome, labels, bins, cells)

    def _stage1(self, run, genome: Genome, labels: BinLabels, bins: np.ndarray, cells: dict) -> Prepared:
        data, model = run.data, run.model
        chroms = labels.bins["chrom"].to_numpy()[bins]
        first = list(genome.lengths)
        valid_chroms = data.stage1_valid_chroms or first[:1]
        test_chroms = data.stage1_test_chroms or first[1:2]
        unknown = sorted(set(valid_chroms + test_chroms) - set(chroms))
        if unknown:
            raise ConfigError(f"data.stage1_valid_chroms / stage1_test_chroms: no usable bins on {', '.join(unknown)} "
                              f"(the labelled chromosomes: {', '.join(dict.fromkeys(chroms))})")
        columns = np.array([labels.cell_types.index(c) for c in cells["train"]])
        reader = LabelReader(labels.labels, columns)
        held_out = np.isin(chroms, valid_chroms + test_chroms)
        train_bins = bins[~held_out]
        windows = {role: _windows(labels, bins[np.isin(chroms, where)][::data.eval_every])
                   for role, where in (("valid", valid_chroms), ("test", test_chroms))}
        self._examples = _example_files(data, genome, labels, bins, self._files["tfs"].parent, tfs=None)
        return Prepared(
            builders=[cd_dataloader.SequenceBins(None, genome)],
            task_names=list(cells["train"]),
            model_config={"n_tasks": len(columns), "trunk": model.trunk, "trunk_options": model.trunk_options,
                          "hidden": model.hidden, "dropout": model.dropout},
            train_epoch=lambda epoch: Samples(_windows(labels, random_stream(run.seed, epoch).permutation(train_bins)),
                                              reader),
            valid=Samples(windows["valid"], reader),
            test=Samples(windows["test"], reader),
            description=_description(labels, cells, bins, stage=1, valid_chroms=valid_chroms, test_chroms=test_chroms,
                                     train_bins=len(train_bins)),
            architecture=f"{_MODULE}.Stage1",
        )

    def _stage2(self, run, genome: Genome, labels: BinLabels, bins: np.ndarray, cells: dict) -> Prepared:
        data, model = run.data, run.model
        every = cells["train"] + cells["valid"] + cells["test"]
        mean = self._files.get("mean")
        builders = [cd_dataloader.CellTypeBins(None, genome, data.expression, cell, self._files["tfs"], mean,
                                               data.expression_transform) for cell in every]
        source = {cell: i for i, cell in enumerate(every)}
        column = np.array([labels.cell_types.index(c) for c in every])
        # the reader indexes label columns by source: reorder the matrix once to the builders' order
        ordered = np.ascontiguousarray(labels.labels[:, column])
        reader = LabelReader(ordered)
        train_sources = np.array([source[c] for c in cells["train"]])
        positives = np.argwhere(ordered[np.ix_(bins, train_sources)] == 1)
        positives = np.column_stack([bins[positives[:, 0]], train_sources[positives[:, 1]]])
        if not len(positives):
            raise ConfigError("no accessible (bin, training cell type) pair: check the peak files or the label matrix")
        pairs = data.pairs_per_epoch or 4 * len(positives)
        batch = run.training.batch_size
        evaluation = {role: _pairs(labels, bins[::data.eval_every], [source[c] for c in cells[role]])
                      for role in ("valid", "test")}
        tfs = read_names(self._files["tfs"])
        self._examples = _example_files(data, genome, labels, bins, self._files["tfs"].parent, tfs)
        pretrained = _Pretrained.read(model.pretrained, model) if model.pretrained else None
        return Prepared(
            builders=builders,
            task_names=["accessible"],
            model_config={"n_tfs": len(tfs), "trunk": model.trunk,
                          "trunk_options": model.trunk_options, "with_mean": model.with_mean,
                          "mean_at": model.mean_at, "freeze_trunk": model.freeze_trunk, "hidden": model.hidden,
                          "dropout": model.dropout},
            train_epoch=lambda epoch: Samples(
                _balanced_pairs(labels, ordered, positives, bins, train_sources, pairs, batch,
                                data.positive_fraction, random_stream(run.seed, epoch)), reader),
            valid=Samples(evaluation["valid"], reader),
            test=Samples(evaluation["test"], reader),
            description=_description(labels, cells, bins, stage=2, positives=len(positives), pairs=pairs,
                                     pretrained=str(model.pretrained.name) if model.pretrained else None),
            initialise=pretrained.initialise if pretrained else None,
        )

    def entry_info(self, run: RunConfig, prepared: Prepared, test_metrics: dict[str, float]) -> dict:
        tfs = read_names(self._files["tfs"]) if run.model.stage == 2 else []
        return {**_entry_texts(run, prepared, test_metrics), **_entry_schema(run, prepared, tfs),
                "tags": ["DNA accessibility", "DNase-seq", "cell-type generalisation"],
                "cite_as": "https://doi.org/10.1093/bioinformatics/btz352",
                "dataloader_yaml": _dataloader_yaml(run, prepared), "dataloader_directory": True}

    def example_files(self) -> list[Path]:
        return list(self._examples)

    def entry_files(self) -> dict[str, Path]:
        return self._entry_files


def _entry_schema(run: RunConfig, prepared: Prepared, tfs: list[str]) -> dict[str, dict]:
    """The entry's declared ``inputs`` and ``targets``: sequence (stage 1), with the TF expression,
    named by the TFs, and the mean accessibility where the model takes it (stage 2)."""
    data, model = run.data, run.model
    inputs = {"seq": {"shape": f"({SEQ_LEN}, 4)", "doc": "One-hot A, C, G, T (columns) by position",
                      "associated_metadata": "ranges", **SEQUENCE_INPUT}}
    if model.stage == 1:
        return {"inputs": inputs, "targets": {
            "shape": f"({len(prepared.task_names)},)", "axes": ["tasks"], "kind": "probability",
            "column_labels": prepared.task_names, "doc": "probability that the bin is accessible, per training cell type"}}
    inputs["expression"] = {"shape": f"({len(tfs)},)", "kind": "per_sample", "column_labels": tfs,
                            "doc": f"{data.expression_transform}(TPM) of the model's {len(tfs)} TFs (tfs.txt), "
                                   "in that order, in the cell type predicted for"}
    if model.with_mean:
        inputs["mean_accessibility"] = {"shape": "(1,)", "kind": "per_sample", "doc": "the bin's mean accessibility "
                                        "over the training cell types (mean_accessibility.bw)"}
    return {"inputs": inputs, "targets": {
        "shape": "(1,)", "axes": ["tasks"], "kind": "probability", "column_labels": ["accessible"],
        "doc": "probability that the bin is accessible in the cell type of the expression input"}}


def _entry_texts(run: RunConfig, prepared: Prepared, test_metrics: dict[str, float]) -> dict[str, str]:
    """The entry's ``name``, ``doc``, ``trained_on`` and ``training_procedure``."""
    data, model, training, described = run.data, run.model, run.training, prepared.description
    stage1, cells = model.stage == 1, described["cells"]
    summary = ", ".join(f"{k} {test_metrics[k]:.3f}" for k in ("auprc", "auroc") if k in test_metrics)
    what = (f"stage-1 multi-task sequence model ({model.trunk} trunk): the accessibility of a 200-bp bin in each "
            f"of {len(prepared.task_names)} training cell types from its 1,000-bp sequence" if stage1 else
            f"stage-2 model ({model.trunk} trunk, {'with' if model.with_mean else 'without'} mean accessibility, "
            f"trunk {'frozen' if model.freeze_trunk else 'tuned'}): the accessibility of a 200-bp bin in any cell "
            "type, seen or not, from its 1,000-bp sequence and the cell type's TF expression")
    held = (f"test: one bin in {data.eval_every} of {', '.join(described['test_chroms'])} in the training cell "
            "types" if stage1 else f"test: one bin in {data.eval_every} of the genome in the held-out cell types "
            f"{', '.join(cells['test'])} (auPRC pooled over their pairs)")
    pretrained = described.get("pretrained")
    return {
        "name": f"ChromDragoNN {'stage 1' if stage1 else 'stage 2'} ({model.trunk}"
                f"{'' if stage1 else ', with mean' if model.with_mean else ', no mean'})",
        "doc": f"A ChromDragoNN {what} (Nair et al. 2019). {data.description}".strip(),
        "trained_on": (f"{data.description or 'Accessibility peaks'} ({len(cells['train'])} training cell types; "
                       f"validation {', '.join(cells['valid'])}; test {', '.join(cells['test'])}); "
                       f"{described['bins']} bins of 200 bp every 50 bp, {described['positive_rate']:.1%} "
                       f"accessible. {held}."),
        "training_procedure": (
            f"epizoo train chromdragonn ({PAPER}): stage {model.stage}, {model.trunk} trunk "
            f"{model.trunk_options or ''}, binary cross-entropy on the logits, Adam lr {training.learning_rate:g}, "
            f"batch {training.batch_size}"
            f"{'' if stage1 else f', 1 positive : {1 / data.positive_fraction - 1:g} negatives per batch'}"
            f"{', from the stage-1 entry ' + pretrained if pretrained else ''}, at most {training.max_epochs} epochs "
            f"keeping the best validation auPRC (patience {training.patience}), seed {run.seed}. "
            f"Test set: {summary}."),
    }


def _dataloader_yaml(run: RunConfig, prepared: Prepared) -> str:
    stage2 = run.model.stage == 2
    return render_template(ZOO_ROOT / "ChromDragoNN" / "dataloader.yaml.j2",
                           {"seq_len": SEQ_LEN, "with_expression": stage2, "with_mean": stage2 and run.model.with_mean,
                            "examples": "example_files", "cell_type": prepared.description["cells"]["test"][0],
                            "transform": run.data.expression_transform})


def _resolve_training(run: RunConfig) -> None:
    """The code's per-stage defaults (§3.3), filled into the run so that the entry records them."""
    stage1 = run.model.stage == 1
    if run.training.batch_size is None:
        run.training.batch_size = 256 if stage1 else 512
    if run.training.learning_rate is None:
        run.training.learning_rate = 0.002 if stage1 else 1e-4


def _labels(data: ChromDragoNNData, lengths: dict[str, int]) -> BinLabels:
    if data.labels is not None:
        return read_label_matrix(data.labels)
    names = data.cell_types or [Path(p).name.split(".")[0] for p in data.peaks]
    if len(set(names)) != len(names):
        raise ConfigError(f"data.cell_types: the peak files' cell types repeat ({', '.join(names)}); name them")
    return peak_bin_labels(dict(zip(names, data.peaks)), lengths)


def _split_cells(data: ChromDragoNNData, labels: BinLabels) -> dict[str, list[str]]:
    unknown = [c for c in (*data.valid_cells, *data.test_cells) if c not in labels.cell_types]
    if unknown:
        raise ConfigError(f"data.valid_cells / test_cells: {', '.join(unknown)} have no labels "
                          f"(cell types: {', '.join(labels.cell_types[:12])}, ...)")
    expression = pd.read_csv(data.expression, sep="\t", index_col=0, nrows=0).columns
    missing = [c for c in labels.cell_types if c not in expression]
    if missing:
        raise ConfigError(f"{data.expression.name}: no expression for cell types {', '.join(missing[:10])}. Fix: add "
                          "their columns, or leave their peaks out")
    held = set(data.valid_cells) | set(data.test_cells)
    train = [c for c in labels.cell_types if c not in held]
    if not train:
        raise ConfigError("no training cell types left after the held-out ones")
    return {"train": train, "valid": list(data.valid_cells), "test": list(data.test_cells)}


def _usable_bins(bins: pd.DataFrame, lengths: dict[str, int], source: str) -> np.ndarray:
    """Rows of bins whose 1,000-bp window lies on the chromosome (§7.2: the others are dropped)."""
    missing = sorted(set(bins["chrom"]) - set(lengths))
    if missing:
        raise ConfigError(f"{source}: bins on {', '.join(missing[:5])}, which the FASTA lacks (its chromosomes: "
                          f"{', '.join(list(lengths)[:5])}, ...). Fix: use labels of the FASTA's assembly and naming")
    starts = bins["start"].to_numpy() + WINDOW_OFFSET
    sizes = bins["chrom"].map(lengths).to_numpy()
    return np.flatnonzero((starts >= 0) & (starts + SEQ_LEN <= sizes))


def _windows(labels: BinLabels, rows: np.ndarray) -> pd.DataFrame:
    bins = labels.bins
    return pd.DataFrame({"source": 0, "chrom": bins["chrom"].to_numpy()[rows],
                         "start": bins["start"].to_numpy()[rows] + WINDOW_OFFSET, "bin": rows})


def _pairs(labels: BinLabels, rows: np.ndarray, sources: list[int]) -> pd.DataFrame:
    """Every (bin, cell type) pair of ``rows`` x ``sources``, bins in order within each cell type."""
    frames = [_windows(labels, rows).assign(source=s, cell=s) for s in sources]
    return pd.concat(frames, ignore_index=True)


def _balanced_pairs(labels: BinLabels, ordered: np.ndarray, positives: np.ndarray, bins: np.ndarray,
                    sources: np.ndarray, n: int, batch: int, fraction: float, rng: np.random.Generator) -> pd.DataFrame:
    """``n`` training pairs, batch by batch ``fraction`` positives (drawn from all positive pairs) and the
    rest negatives (random pairs that are not accessible), shuffled within each batch [C data_iterator]."""
    n_batches = -(-n // batch)
    per_batch = max(1, int(round(batch * fraction)))
    chosen_positives = positives[rng.integers(0, len(positives), n_batches * per_batch)]
    need = n_batches * (batch - per_batch)
    negatives = np.empty((0, 2), dtype=np.int64)
    while len(negatives) < need:  # rejection sampling: most random pairs are negatives (3-10% positive)
        draw = np.column_stack([rng.choice(bins, 2 * need), rng.choice(sources, 2 * need)])
        negatives = np.concatenate([negatives, draw[ordered[draw[:, 0], draw[:, 1]] == 0]])
    pairs = []
    for b in range(n_batches):
        chunk = np.concatenate([chosen_positives[b * per_batch:(b + 1) * per_batch],
                                negatives[b * (batch - per_batch):(b + 1) * (batch - per_batch)]])
        pairs.append(chunk[rng.permutation(len(chunk))])
    pairs = np.concatenate(pairs)[:n]
    return _windows(labels, pairs[:, 0]).assign(source=pairs[:, 1], cell=pairs[:, 1])


def _entry_artefacts(data: ChromDragoNNData, labels: BinLabels, training: list[str],
                     lengths: dict[str, int], with_mean: bool) -> dict[str, Path]:
    """The model's TF list and (``with_mean``) its mean-accessibility bigWig, written once per data set into the cache."""
    genes = pd.read_csv(data.expression, sep="\t", index_col=0, usecols=[0]).index.astype(str)
    repeated = sorted(set(genes[genes.duplicated()]))
    if repeated:
        raise ConfigError(f"{data.expression.name}: genes listed twice: {', '.join(repeated[:10])}. Fix: one row per gene")
    tfs = [str(tf) for tf in data.tfs] or list(genes)
    digest = hashlib.sha256("\n".join([*tfs, "", *training, "", *map(str, lengths.items())]).encode())
    for column in (labels.bins["chrom"].to_numpy(dtype=str), labels.bins["start"].to_numpy(np.int64), labels.labels):
        digest.update(np.ascontiguousarray(column).tobytes())
    folder = cache_dir() / "chromdragonn" / digest.hexdigest()[:16]
    folder.mkdir(parents=True, exist_ok=True)
    files = {"tfs": folder / "tfs.txt"}
    write_text(files["tfs"], "\n".join(tfs) + "\n")
    if with_mean:  # only the models that take it (stage 1 never does)
        files["mean"] = folder / "mean_accessibility.bw"
        if not files["mean"].is_file():
            write_mean_bigwig(files["mean"], labels.bins, mean_accessibility(labels, training), lengths)
    return files


def _example_files(data: ChromDragoNNData, genome: Genome, labels: BinLabels, bins: np.ndarray, cache: Path,
                   tfs: list[str] | None) -> list[Path]:
    """``kipoi test``'s inputs: 20 bins of the first chromosome, a FASTA of the stretch they span, and
    (stage 2, ``tfs`` given) the expression table's rows of the model's TFs."""
    folder = cache / "examples"  # beside the data set's TF list and mean track: another run's data cannot replace them
    folder.mkdir(parents=True, exist_ok=True)
    chroms, starts = labels.bins["chrom"].to_numpy(), labels.bins["start"].to_numpy()
    chrom = chroms[bins[0]]
    rows = bins[chroms[bins] == chrom][:80:4]
    end = int(starts[rows[-1]] + WINDOW_OFFSET + SEQ_LEN)
    sequence = genome.sequence(chrom, 0, end)
    write_text(folder / "regions.bed", "".join(f"{chrom}\t{s}\t{s + BIN_WIDTH}\n" for s in starts[rows]))
    write_text(folder / "genome.fa", f">{chrom}\n" + "\n".join(sequence[i:i + 60] for i in range(0, end, 60)) + "\n")
    files = [folder / "regions.bed", folder / "genome.fa"]
    if tfs is not None:
        table = pd.read_csv(data.expression, sep="\t", index_col=0)
        write_text(folder / "expression.tsv", table.loc[tfs].to_csv(sep="\t"))
        files.append(folder / "expression.tsv")
    return files


def _description(labels: BinLabels, cells: dict, bins: np.ndarray, stage: int, **extra) -> dict:
    return {"stage": stage, "cells": cells, "bins": int(len(bins)),
            "positive_rate": float(labels.labels[bins].mean()), **extra}


@dataclass
class _Pretrained:
    """The stage-1 entry whose trunk stage 2 starts from (§2.4: "initializing the sequence-mode's
    convolutional layer weights using the pre-trained model")."""

    entry: Path
    trunk: dict

    @classmethod
    def read(cls, entry: Path, model: ChromDragoNNModel) -> _Pretrained:
        if not (Path(entry) / "model.yaml").is_file():
            raise ConfigError(f"model.pretrained: {entry} is not a zoo entry folder (no model.yaml)")
        network, metadata = load_entry(entry)
        config = (metadata.get("run") or {}).get("model", {})  # the stage-1 run's model section
        if config.get("stage") != 1 or config.get("trunk") != model.trunk or \
                (config.get("trunk_options") or {}) != (model.trunk_options or {}):
            raise ConfigError(f"model.pretrained: {entry} is not a stage-1 model with trunk {model.trunk} "
                              f"{model.trunk_options or ''} (it has {config.get('trunk')} {config.get('trunk_options')})")
        return cls(Path(entry), {k[len("trunk."):]: v for k, v in network.state_dict().items() if k.startswith("trunk.")})

    def initialise(self, network) -> None:
        network.trunk.load_state_dict(self.trunk)
