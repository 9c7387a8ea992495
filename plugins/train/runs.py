"""Reading a run's YAML file: its recipe (from the registry) validates each section (`.config`)."""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from .config import ConfigError, EntryConfig, RunConfig, build, coerce_value
from .recipes import get_recipe


def load_config(path: str | Path, overrides: Mapping[str, Any] | None = None) -> RunConfig:
    """Read and validate a run's YAML file.

    Parameters
    ----------
    path
        The YAML file.
    overrides
        ``{"training.max_epochs": 2, ...}``: values replacing the file's (dotted key paths).
    """
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as error:
        raise ConfigError(f"{path} is not valid YAML: {error}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping with recipe, data, model, training")
    for dotted, value in (overrides or {}).items():
        _set_dotted(raw, dotted, value)
    unknown = set(raw) - {"recipe", "seed", "data", "model", "training", "entry"}
    if unknown:
        raise ConfigError(f"{path}: unknown section(s) {', '.join(sorted(unknown))}; "
                          "expected recipe, seed, data, model, training, entry")
    if "recipe" not in raw:
        raise ConfigError(f"{path}: no 'recipe' (e.g. recipe: factornet)")
    recipe = get_recipe(raw["recipe"])
    where = str(path)
    return RunConfig(
        recipe=raw["recipe"],
        data=build(recipe.DataConfig, raw.get("data") or {}, f"{where}: data", base=path.parent),
        model=build(recipe.ModelConfig, raw.get("model") or {}, f"{where}: model", base=path.parent),
        training=build(recipe.TrainingConfig, raw.get("training") or {}, f"{where}: training"),
        entry=build(EntryConfig, raw.get("entry") or {}, f"{where}: entry"),
        seed=coerce_value(int, raw.get("seed", recipe.default_seed), f"{where}: seed"),
        source=str(path),
    )


def _set_dotted(raw: dict, dotted: str, value) -> None:
    *parents, leaf = dotted.split(".")
    node = raw
    for key in parents:
        node = node.setdefault(key, {})
    node[leaf] = value
