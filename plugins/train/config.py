"""Run configuration: the schema of a run's YAML file, validated into typed dataclasses.

A run's YAML has these sections::

    recipe: factornet          # which recipe (epizoo.plugins.train.recipes.RECIPES)
    seed: 420
    data: {...}                # the recipe's DataConfig
    model: {...}               # the recipe's ModelConfig (architecture hyperparameters)
    training: {...}            # TrainingConfig below (engine settings shared by all recipes)
    entry: {genome: hg38}      # EntryConfig below (what the entry says of its data)

Every section is a dataclass whose defaults are the paper's values (the recipe cites the
section of each). Unknown keys, missing required keys and wrong types are errors that name the
file, the key path and what is expected. Reading a file (which needs the recipe it names) is
`epizoo.plugins.train.runs.load_config`: this module does not know the recipe registry.
"""
from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class ConfigError(ValueError):
    """A run configuration that cannot be used as it is."""


@dataclass
class TrainingConfig:
    """Engine settings shared by every recipe (recipes override the paper-specific defaults).

    ``precision``: ``32``, ``bf16-mixed`` or ``16-mixed`` (Lightning's names). ``strategy``:
    ``auto`` or ``ddp`` (one process per device; multi-node through ``num_nodes`` and torchrun or
    SLURM). ``weights_dtype``: ``float32``, or ``float16``/``bfloat16`` to halve the entry's
    weights file (its floating tensors are stored so; the model computes in float32 and its
    ``kipoi test`` expectations are those of the stored weights). ``steps_per_epoch`` caps the
    batches per epoch (FactorNet's epochs are bounded by the positives). ``record_samples`` writes
    each rank's sample list per epoch (for checking data parallelism). ``threads``: CPU threads of
    each process (default: torch's, one per core); when other processes hold cores, fewer threads
    train much faster (on 2 cores with one busy, an epoch took 160 s with 2 threads, 30 s with 1).
    """

    batch_size: int = 100
    learning_rate: float = 1e-3
    max_epochs: int = 100
    patience: int = 20
    monitor: str = "val_loss"
    gradient_clip: float | None = None
    precision: str = "32"
    accelerator: str = "auto"
    devices: int = 1
    num_nodes: int = 1
    strategy: str = "auto"
    num_workers: int = 0
    steps_per_epoch: int | None = None
    deterministic: bool = True
    record_samples: bool = False
    weights_dtype: str = "float32"
    threads: int | None = None

    def __post_init__(self) -> None:
        if self.precision not in ("32", "bf16-mixed", "16-mixed", "64"):
            raise ConfigError(f"training.precision must be 32, bf16-mixed or 16-mixed, not {self.precision!r}")
        if self.weights_dtype not in ("float32", "float16", "bfloat16"):
            raise ConfigError(f"training.weights_dtype must be float32, float16 or bfloat16, not {self.weights_dtype!r}")
        if self.strategy not in ("auto", "ddp", "ddp_spawn"):
            raise ConfigError(f"training.strategy must be auto or ddp, not {self.strategy!r}")
        for name in ("batch_size", "max_epochs", "devices", "num_nodes"):  # None: the recipe's default
            if getattr(self, name) is not None and getattr(self, name) < 1:
                raise ConfigError(f"training.{name} must be at least 1")


@dataclass
class EntryConfig:
    """What the entry says of its data beyond the files (``info.genome``, ``info.weights_origin``;
    `epizoo list` and the catalogue show them): the genome build of its inputs, ``synthetic`` for
    a world of `epizoo simulate` (whose weights are then "trained on the synthetic benchmark")."""

    genome: str = "unspecified"

    @property
    def weights_origin(self) -> str:
        return "trained on the synthetic benchmark" if self.genome == "synthetic" else "trained on real data"


@dataclass
class RunConfig:
    """A whole run: the recipe, its data and model sections, the engine settings and what the
    entry says of its data."""

    recipe: str
    data: Any
    model: Any
    training: TrainingConfig = field(default_factory=TrainingConfig)
    entry: EntryConfig = field(default_factory=EntryConfig)
    seed: int = 0
    source: str = ""

    def to_dict(self) -> dict:
        """The configuration as plain data (stored with the weights as provenance)."""
        return {"recipe": self.recipe, "seed": self.seed, "data": dataclasses.asdict(self.data),
                "model": dataclasses.asdict(self.model), "training": dataclasses.asdict(self.training),
                "entry": dataclasses.asdict(self.entry)}


def build(cls: type, data: Mapping[str, Any], where: str, base: Path | None = None):
    """A dataclass ``cls`` from a mapping, checking keys and types; ``Path`` fields are inputs:
    relative ones are relative to ``base`` (the config file's folder), and they must exist."""
    if not isinstance(data, Mapping):
        raise ConfigError(f"{where}: expected a mapping, got {type(data).__name__}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(unknown)}; valid keys: {', '.join(fields)}")
    values = {}
    for name, spec in fields.items():
        if name in data:
            values[name] = coerce_value(hints[name], data[name], f"{where}.{name}", base)
        elif spec.default is dataclasses.MISSING and spec.default_factory is dataclasses.MISSING:
            raise ConfigError(f"{where}: missing required key {name!r}")
    try:
        return cls(**values)
    except ConfigError as error:
        raise ConfigError(f"{where}: {error}") from None


def coerce_value(kind, value, where: str, base: Path | None = None):
    """``value`` checked against (and converted to) the annotated type ``kind``."""
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        options = [a for a in args if a is not type(None)]
        errors = []
        for option in options:
            try:
                return coerce_value(option, value, where, base)
            except ConfigError as error:
                errors.append(str(error))
        raise ConfigError(errors[0] if len(errors) == 1 else f"{where}: {value!r} fits none of {options}")
    if origin in (list, tuple):
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{where}: expected a list, got {value!r}")
        return [coerce_value(args[0], item, f"{where}[{i}]", base) for i, item in enumerate(value)]
    if origin is dict:
        if not isinstance(value, Mapping):
            raise ConfigError(f"{where}: expected a mapping, got {value!r}")
        return {str(k): coerce_value(args[1], v, f"{where}.{k}", base) for k, v in value.items()}
    if dataclasses.is_dataclass(kind):
        return build(kind, value, where, base)
    return _scalar(kind, value, where, base)


def _scalar(kind, value, where: str, base: Path | None):
    if kind is Path:
        if isinstance(value, Mapping):
            return _recorded_file(value, where, base)
        if not isinstance(value, str):
            raise ConfigError(f"{where}: expected a path, got {value!r}")
        path = Path(value).expanduser()
        path = path if path.is_absolute() or base is None else (base / path)
        if base is not None and not path.exists():
            relative = "" if Path(value).expanduser().is_absolute() else f" (relative paths are relative to the config's folder, {base})"
            raise ConfigError(f"{where}: {path} does not exist{relative}. Fix: correct the path")
        return path
    if kind is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: expected true or false, got {value!r}")
        return value
    if kind is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where}: expected an integer, got {value!r}")
        return value
    if kind is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{where}: expected a number, got {value!r}")
        return float(value)
    if kind is str:
        if not isinstance(value, (str, int, float)) or isinstance(value, bool):
            raise ConfigError(f"{where}: expected a string, got {value!r}")
        return str(value)
    if kind is Any:
        return value
    raise ConfigError(f"{where}: unsupported type {kind}")


def _recorded_file(reference: Mapping[str, Any], where: str, base: Path | None) -> Path:
    """The file that a recorded configuration names by ``{file, sha256[, bytes]}`` (an entry's
    config.yaml): the one of that name beside the configuration, else any file with that
    checksum in the ``EPIZOO_MIRROR`` folders. ``{entry, weights_sha256}`` names a zoo entry."""
    from epizoo.weights import FileRef, WeightStore, sha256sum

    if "entry" in reference:
        return _recorded_entry(reference, where)
    if "sha256" not in reference:
        raise ConfigError(f"{where}: {dict(reference)} names a folder, not a file by its checksum; give its path")
    beside = (base or Path(".")) / str(reference.get("file", ""))
    if beside.is_file() and sha256sum(beside) == reference["sha256"]:
        return beside
    found = WeightStore().find_in_mirrors(FileRef(sha256=reference["sha256"], bytes=reference.get("bytes")))
    if found is None:
        raise ConfigError(f"{where}: {reference.get('file')} (sha256 {reference['sha256']}) is in no mirror. Fix: "
                          "set EPIZOO_MIRROR to a folder that holds it, or give its path")
    return found


def _recorded_entry(reference: Mapping[str, Any], where: str) -> Path:
    """The folder of the zoo entry ``{entry, weights_sha256}`` names, if its weights are those."""
    from epizoo.registry import resolve
    from epizoo.weights import sha256sum

    try:
        root, name = resolve(reference["entry"])
    except ValueError:
        raise ConfigError(f"{where}: {reference['entry']!r} is not a zoo entry. Fix: give the entry's folder") from None
    weights = root / name / "weights.safetensors"
    if reference.get("weights_sha256") and (not weights.is_file() or sha256sum(weights) != reference["weights_sha256"]):
        raise ConfigError(f"{where}: the zoo's {reference['entry']} is not the model this run used (its weights' "
                          f"sha256 is not {reference['weights_sha256']}). Fix: give that model's folder")
    return root / name
