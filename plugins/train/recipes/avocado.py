"""Avocado's recipe (Schreiber, Durham, Bilmes & Noble 2020; spec ``seed_004_avocado.md`` §3).

What is particular to the paper ([P] paper, [C] the authors' code ``avocado-epigenome`` 0.4.1), the
rest being the shared trainer:

* data: the observed tracks of a cell type x assay x 25-bp position tensor, one file per track
  (`epizoo.plugins.train.track_matrix`), arcsinh-transformed [P §4.1]; only observed tracks are
  targets (a masked tensor). Whole tracks are held out for validation and test (``valid_tracks``,
  ``test_tracks``; the paper's five-fold cross-validation holds out a fifth of the tracks) and
  predicted at every ``eval_every``-th position; without validation tracks, the fit of the
  training tracks is what validation monitors.
* an epoch visits every position once, each with one observed training track drawn at random
  [P §4.4]; in ``order: permuted`` (the default) a fresh shuffle each epoch, in ``order:
  sequential`` batches of consecutive positions [C ``sequential_data_generator``, the authors'
  default]. On the pilot tracks (2 x 256 ReLU, lr 0.01) sequential batches, each a 1-Mb stretch,
  made the fit oscillate (validation MSE 0.168 after 6 epochs, 0.203 after 8), permuted ones fell
  steadily (0.135 after 6, 0.108 after 10). Under DDP each rank takes every n-th position of the
  epoch, so sequential batches are no longer contiguous there.
* ``model.fit``: ``all`` trains everything (phase 1, on the pilot regions) [P §4.4];
  ``positions`` starts from ``model.pretrained`` and fits genome factors for the tracks' positions
  with the network, cell-type and assay factors frozen (phase 2, per chromosome; what the authors'
  package lacks, its issue #7); ``celltypes`` / ``assays`` fit the factors of the tracks' new cell
  types / assays with everything else frozen [C ``fit_celltypes``, ``fit_assays``]. These take the
  network and its sizes from the pre-trained entry (the run's other ``model`` keys do not apply).
* training: MSE, Adam (beta 0.9, 0.999), batches of 40,000 [C], no early stopping [P §4.4: models
  converge in under 200 epochs without over-fitting]. The learning rate is 0.01 in the text and
  the Keras default 0.001 in the code (spec §3); the default is the text's: on the pilot tracks
  the code's 0.001 had barely started after 8 epochs (held-out Pearson r 0.09, against 0.39 at
  0.01 with sequential batches), and 0.01 with permuted batches fell without a rise.
* the entry stores the genome factors apart from the network, as checksummed shards of 64,000
  positions read lazily (`epizoo.sharded`), with the cell types, assays and layout it knows.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from epizoo.dataloaders.files import SIGNAL_TRANSFORMS, read_names
from epizoo.dataloaders.positions import PositionLayout
from epizoo.zoo.Avocado.architecture import SCALES
from epizoo.zoo.Avocado.entries import dataloader_yaml, write_entry_files, write_genome_factors

from ..config import ConfigError, RunConfig, TrainingConfig
from ..data import IndexBatches, Samples
from ..samplers import random_stream
from ..track_matrix import TrackMatrix, load_tracks
from . import Prepared, Recipe

PAPER = ("Schreiber, Durham, Bilmes & Noble 2020, Genome Biology 21:81, https://doi.org/10.1186/s13059-020-01977-6")
ARCHITECTURES = {"avocado": "epizoo.zoo.Avocado.architecture.Avocado",
                 "dot_product": "epizoo.zoo.Avocado.architecture.DotProduct"}
FITS = ("all", "positions", "celltypes", "assays")
INPUTS = ("celltype", "assay", "position")


@dataclass
class AvocadoData:
    tracks: list[Path]                                 # one file per observed track, <celltype>.<assay>.* (§6)
    layout: Path | None = None                         # BED of the regions whose 25-bp bins are the positions
    transform: str = "none"                            # arcsinh for -log10 p tracks (§4.1); the demo arrays are
    valid_tracks: list[str] = field(default_factory=list)  # <celltype>.<assay> held out to validate on
    test_tracks: list[str] = field(default_factory=list)   # held out to test on (a cross-validation fold)
    eval_every: int = 10                               # validate/test on every n-th position
    order: str = "permuted"                            # or sequential blocks of positions [C] (see above)
    description: str = ""                              # what the data are, for the entry

    def __post_init__(self) -> None:
        if not self.tracks:
            raise ConfigError("data.tracks: give the observed tracks, one file each")
        if self.transform not in SIGNAL_TRANSFORMS:
            raise ConfigError(f"data.transform must be one of {', '.join(SIGNAL_TRANSFORMS)}, not {self.transform!r}")
        if self.order not in ("sequential", "permuted") or self.eval_every < 1:
            raise ConfigError("data.order must be sequential or permuted, and data.eval_every at least 1")
        if set(self.valid_tracks) & set(self.test_tracks):
            raise ConfigError("data.valid_tracks and data.test_tracks overlap")
        if not self.test_tracks:
            raise ConfigError("data.test_tracks: hold out at least one track, on which the entry's metrics are measured")


@dataclass
class AvocadoModel:
    architecture: str = "avocado"                      # or dot_product (a PREDICTD-like baseline, §2.3)
    celltype_factors: int = 32                         # §2.1
    assay_factors: int = 256
    genome_factors: list[int] = field(default_factory=lambda: [25, 40, 45])
    n_layers: int = 2
    n_nodes: int = 2048
    dropout: float = 0.0                               # rate not stated; the code has none (§2.1)
    factors: int = 32                                  # dot_product: factors per axis
    fit: str = "all"                                   # all | positions | celltypes | assays (see the module doc)
    pretrained: Path | None = None                     # the entry that fit != all starts from

    def __post_init__(self) -> None:
        if self.architecture not in ARCHITECTURES:
            raise ConfigError(f"model.architecture must be one of {', '.join(ARCHITECTURES)}")
        if self.fit not in FITS:
            raise ConfigError(f"model.fit must be one of {', '.join(FITS)}, not {self.fit!r}")
        if (self.fit == "all") != (self.pretrained is None):
            raise ConfigError("model.pretrained names the entry that model.fit positions/celltypes/assays starts "
                              "from (and only then)")
        if len(self.genome_factors) != len(SCALES):
            raise ConfigError("model.genome_factors: three sizes, at 25 bp, 250 bp and 5 kbp")


@dataclass
class AvocadoTraining(TrainingConfig):
    batch_size: int = 40_000           # [C]
    learning_rate: float = 0.01        # [P §4.4]; the code: Keras' default 0.001 (§3, see above)
    max_epochs: int = 800              # [P §4.4] phase 1 (200 per chromosome in phase 2)
    patience: int = 800                # no early stopping [P §4.4]
    monitor: str = "val_loss"


class MatrixTargets:
    """Targets of a batch, read from the track matrix at the samples' ``position`` and ``track``."""

    reversed_with_sequence = False

    def __init__(self, values: np.ndarray) -> None:
        self.values = values

    def __call__(self, windows: pd.DataFrame) -> np.ndarray:
        return np.asarray(self.values[windows["position"].to_numpy(), windows["track"].to_numpy()],
                          dtype=np.float32)[:, None]


class AvocadoRecipe(Recipe):
    name = "avocado"
    DataConfig = AvocadoData
    ModelConfig = AvocadoModel
    TrainingConfig = AvocadoTraining
    architecture = ARCHITECTURES["avocado"]
    loss = "mse"
    metrics = "epizoo.plugins.train.metrics.regression_metrics"

    def prepare(self, run: RunConfig) -> Prepared:
        data, model = run.data, run.model
        matrix, start = self._read(run)
        roles = _track_roles(matrix, data, self._names)
        table = _track_table(matrix, self._names)
        targets = MatrixTargets(matrix.values)
        every = np.arange(0, matrix.n_positions, data.eval_every)
        valid = (_pairs(every, roles["valid"], table) if len(roles["valid"])
                 else _random_pairs(every, roles["train"], table, random_stream(run.seed, -1)))

        def train_epoch(epoch: int) -> Samples:
            return Samples(_epoch(matrix.n_positions, roles["train"], table, data.order, random_stream(run.seed, epoch)),
                           targets)

        return Prepared(
            builders=[], task_names=["signal"], train_epoch=train_epoch, valid=Samples(valid, targets),
            test=Samples(_pairs(every, roles["test"], table), targets),
            model_config=(start.model_config(self._names, matrix.n_positions) if start
                          else _model_config(model, self._names, matrix.n_positions)),
            architecture=start.architecture if start else ARCHITECTURES[model.architecture],
            initialise=None if start is None else lambda network: start.initialise(network, model.fit),
            description={"tracks": matrix.names, "roles": {k: [matrix.names[i] for i in v] for k, v in roles.items()},
                         "n_positions": matrix.n_positions, **self._names},
            batches=lambda samples, batch_size: IndexBatches(samples, batch_size, INPUTS),
        )

    def _read(self, run: RunConfig) -> tuple[TrackMatrix, "_Pretrained | None"]:
        """The tracks, the pre-trained entry (if any), and the run's layout, names and entry files."""
        data, model = run.data, run.model
        layout = PositionLayout.from_bed(data.layout) if data.layout else None
        matrix = load_tracks(list(data.tracks), layout, data.transform)
        start = _Pretrained.read(model.pretrained) if model.pretrained else None
        self._names = _axis_names(matrix, model, start)
        self._layout = layout or PositionLayout.indices(matrix.n_positions)
        if self._layout.n_positions != matrix.n_positions:
            raise ConfigError(f"data.layout has {self._layout.n_positions} bins, the tracks {matrix.n_positions} positions")
        if start is not None and model.fit != "positions" and start.n_positions != matrix.n_positions:
            raise ConfigError(f"model.fit {model.fit}: the tracks must cover the pre-trained entry's "
                              f"{start.n_positions} positions, not {matrix.n_positions}")
        self._files = write_entry_files(_cache_folder(self._layout, self._names), self._layout, self._names)
        return matrix, start

    def stored_network(self, network: torch.nn.Module, config: dict, folder: Path) -> tuple[dict, dict, dict]:
        """Avocado's genome factors as shards in ``folder/genome_factors`` and the rest as the weights."""
        if not hasattr(network, "genome"):
            return network.state_dict(), config, {}
        state = {k: v for k, v in network.state_dict().items() if not k.startswith("genome.")}
        tables = {name: table.weight.detach() for name, table in network.genome.tables.items()}
        sha256 = write_genome_factors(folder / "genome_factors", tables, network.genome.n_positions)
        return state, {**config, "genome": "stored"}, {"genome": {"manifest": "genome_factors/manifest.json",
                                                                  "sha256": sha256}}

    def entry_info(self, run: RunConfig, prepared: Prepared, test_metrics: dict[str, float]) -> dict[str, Any]:
        held = prepared.description["roles"]["test"][0].split(".")
        return {**_entry_texts(run, prepared, test_metrics), "tags": ["epigenomics", "imputation", "histone marks"],
                "cite_as": "https://doi.org/10.1186/s13059-020-01977-6", "inputs": INPUT_SCHEMA,
                "targets": {"shape": "(1,)", "axes": ["tasks"], "kind": "value", "column_labels": ["signal"],
                            "doc": "imputed arcsinh(-log10 p-value) of the cell type's assay in the 25-bp bin"},
                "dataloader_yaml": dataloader_yaml(held[0], held[1], self._layout),
                "dataloader_directory": True}

    def example_files(self) -> list[Path]:
        return [self._files["dataloader.py"].parent / "example_files" / "regions.bed"]

    def entry_files(self) -> dict[str, Path]:
        return self._files


INPUT_SCHEMA = {
    "celltype": {"shape": "()", "kind": "index", "doc": "row of the cell type in celltypes.txt"},
    "assay": {"shape": "()", "kind": "index", "doc": "row of the assay in assays.txt"},
    "position": {"shape": "()", "kind": "index", "associated_metadata": "ranges",
                 "doc": "the 25-bp bin's position in the genome factors (layout.bed)"},
}


def _axis_names(matrix: TrackMatrix, model: AvocadoModel, start: "_Pretrained | None") -> dict[str, list[str]]:
    """The cell types and assays of the model, in table order: the pre-trained entry's, then the
    new ones that ``model.fit`` celltypes / assays adds (sorted, as the authors' code)."""
    found = {"celltypes": sorted({n.split(".")[0] for n in matrix.names}),
             "assays": sorted({n.split(".")[1] for n in matrix.names})}
    if start is None:
        return found
    names = {axis: list(start.names[axis]) for axis in found}
    for axis in found:
        new = [n for n in found[axis] if n not in names[axis]]
        if new and model.fit != axis:
            raise ConfigError(f"data.tracks: {', '.join(new)} not among the pre-trained entry's {axis} "
                              f"({', '.join(names[axis])}); fit them with model.fit: {axis}")
        if model.fit == axis and not new:
            raise ConfigError(f"model.fit {axis}: the tracks hold no {axis[:-1]} the pre-trained entry lacks")
        names[axis] += new
    return names


def _track_roles(matrix: TrackMatrix, data: AvocadoData, names: dict) -> dict[str, np.ndarray]:
    """Columns of the training, validation and test tracks."""
    unknown = sorted(set(data.valid_tracks + data.test_tracks) - set(matrix.names))
    if unknown:
        raise ConfigError(f"data.valid_tracks / test_tracks: {', '.join(unknown)} are not among the tracks "
                          f"({', '.join(matrix.names[:10])}, ...)")
    held = set(data.valid_tracks) | set(data.test_tracks)
    train = [i for i, n in enumerate(matrix.names) if n not in held]
    for track in held:
        celltype, assay = track.split(".")
        if not any(matrix.names[i].split(".")[0] == celltype for i in train) or \
                not any(matrix.names[i].split(".")[1] == assay for i in train):
            raise ConfigError(f"data: the held-out track {track} needs its cell type and its assay in some training "
                              "track, or their factors are never trained")
    return {"train": np.array(train), "valid": np.array([matrix.names.index(t) for t in data.valid_tracks], int),
            "test": np.array([matrix.names.index(t) for t in data.test_tracks], int)}


def _track_table(matrix: TrackMatrix, names: dict) -> np.ndarray:
    """``(n_tracks, 2)``: each track's cell-type and assay rows."""
    return np.array([[names["celltypes"].index(n.split(".")[0]), names["assays"].index(n.split(".")[1])]
                     for n in matrix.names], dtype=np.int64)


def _model_config(model: AvocadoModel, names: dict, n_positions: int) -> dict:
    shape = {"n_celltypes": len(names["celltypes"]), "n_assays": len(names["assays"]), "n_positions": n_positions}
    if model.architecture == "dot_product":
        return {**shape, "factors": model.factors}
    return {**shape, "celltype_factors": model.celltype_factors, "assay_factors": model.assay_factors,
            "genome_factors": list(model.genome_factors), "n_layers": model.n_layers, "n_nodes": model.n_nodes,
            "dropout": model.dropout}


def _frame(positions: np.ndarray, tracks: np.ndarray, table: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame({"celltype": table[tracks, 0], "assay": table[tracks, 1], "position": positions,
                         "track": tracks})


def _epoch(n_positions: int, train: np.ndarray, table: np.ndarray, order: str, rng: np.random.Generator) -> pd.DataFrame:
    """Every position once, each with a random training track [P §4.4]."""
    positions = np.arange(n_positions) if order == "sequential" else rng.permutation(n_positions)
    return _frame(positions, rng.choice(train, n_positions), table)


def _pairs(positions: np.ndarray, tracks: np.ndarray, table: np.ndarray) -> pd.DataFrame:
    """Every (position, track) pair, positions in order within each track."""
    return _frame(np.tile(positions, len(tracks)), np.repeat(tracks, len(positions)), table)


def _random_pairs(positions: np.ndarray, train: np.ndarray, table: np.ndarray, rng: np.random.Generator) -> pd.DataFrame:
    return _frame(positions, rng.choice(train, len(positions)), table)


def _cache_folder(layout: PositionLayout, names: dict) -> Path:
    """A folder of the cache for the files of entries with this layout and these names."""
    import hashlib

    from epizoo.cache import cache_dir

    digest = hashlib.sha256(("\n".join([layout.digest(), *names["celltypes"], "", *names["assays"]])).encode())
    return cache_dir() / "avocado" / digest.hexdigest()[:16]


def _shape(config: dict) -> str:
    """The network's sizes, in words."""
    if "factors" in config:
        return f"a dot product of {config['factors']} factors per axis"
    dropout = f", dropout {config['dropout']:g}" if config.get("dropout") else ""
    return (f"{config['celltype_factors']} cell-type, {config['assay_factors']} assay and "
            f"{'/'.join(map(str, config['genome_factors']))} genome factors, {config['n_layers']} x "
            f"{config['n_nodes']} ReLU{dropout}")


def _entry_texts(run: RunConfig, prepared: Prepared, test_metrics: dict[str, float]) -> dict[str, str]:
    """The entry's ``name``, ``doc``, ``trained_on`` and ``training_procedure``."""
    data, model, training, described = run.data, run.model, run.training, prepared.description
    roles = described["roles"]
    summary = ", ".join(f"{k} {test_metrics[k]:.3f}" for k in ("mse", "pearson") if k in test_metrics)
    shape = _shape(prepared.model_config)
    fit = {"all": "every parameter", "positions": "the genome factors (network and cell-type/assay factors frozen)",
           "celltypes": "the new cell types' factors (the rest frozen)",
           "assays": "the new assays' factors (the rest frozen)"}[model.fit]
    return {
        "name": f"Avocado ({len(described['celltypes'])} cell types x {len(described['assays'])} assays, "
                f"{described['n_positions']:,} positions)",
        "doc": (f"Avocado deep tensor factorisation ({shape}): the imputed arcsinh(-log10 p-value) signal of any of its "
                f"cell types' assays in any 25-bp bin it has genome factors for. {data.description}").strip(),
        "trained_on": (f"{data.description or 'Observed tracks'}: {len(described['tracks'])} tracks over "
                       f"{described['n_positions']:,} positions ({len(roles['train'])} training; validation "
                       f"{', '.join(roles['valid']) or 'the training tracks fit'}; test {', '.join(roles['test'])}, "
                       f"every {data.eval_every}th position)."),
        "training_procedure": (
            f"epizoo train avocado ({PAPER}): fitting {fit}, MSE, Adam lr {training.learning_rate:g}, batch "
            f"{training.batch_size}, each epoch every position once with a random observed track ({data.order}), "
            f"{training.max_epochs} epochs at most (patience {training.patience}), seed {run.seed}"
            f"{', from the entry ' + model.pretrained.name if model.pretrained else ''}. Test tracks: {summary}."),
    }


@dataclass
class _Pretrained:
    """The entry that ``model.fit`` positions / celltypes / assays starts from: its network (genome
    factors attached), architecture, configuration and names."""

    entry: Path
    network: torch.nn.Module
    architecture: str
    config: dict
    names: dict[str, list[str]]

    @property
    def n_positions(self) -> int:
        return self.network.genome.n_positions

    @classmethod
    def read(cls, entry: Path) -> "_Pretrained":
        from epizoo.kipoi_model import load_entry
        from epizoo.registry import model_yaml

        if not (Path(entry) / "model.yaml").is_file():
            raise ConfigError(f"model.pretrained: {entry} is not a zoo entry folder (no model.yaml)")
        network, metadata = load_entry(entry)
        names = {axis: read_names(Path(entry) / f"{axis}.txt") for axis in ("celltypes", "assays")}
        return cls(Path(entry), network, model_yaml(entry)["args"]["architecture"], dict(metadata["config"]), names)

    def model_config(self, names: dict[str, list[str]], n_positions: int) -> dict:
        """The pre-trained network's configuration with the run's tables' sizes, its genome trainable
        (the run's ``model`` sizes are not used: the network is the pre-trained one)."""
        return {**self.config, "n_celltypes": len(names["celltypes"]), "n_assays": len(names["assays"]),
                "n_positions": n_positions, "genome": "parameters"}

    def initialise(self, network: torch.nn.Module, fit: str) -> None:
        """Copy the pre-trained factors and network into ``network`` and freeze all but what ``fit`` fits."""
        target = network.state_dict()
        for key, value in self.network.state_dict().items():
            target[key][:len(value)] = value  # the factor tables of new cell types / assays have more rows
        if fit != "positions":  # the same positions: their factors too
            for name, table in network.genome.tables.items():
                target[f"genome.tables.{name}.weight"] = self.network.genome.tables[name].store.table(name)
        network.load_state_dict(target)
        network.requires_grad_(False)
        if fit == "positions":
            network.genome.requires_grad_(True)
            return
        table = network.celltype_embedding if fit == "celltypes" else network.assay_embedding
        old = len(self.names[fit])
        table.weight.requires_grad_(True)
        table.weight.register_hook(lambda gradient: torch.cat([torch.zeros_like(gradient[:old]), gradient[old:]]))
