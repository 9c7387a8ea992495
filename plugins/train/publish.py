"""Write a trained model as a complete zoo entry.

The entry holds ``model.yaml`` (rendered from ``templates/model-template.yaml`` with the
recipe's metadata: trained_on, training procedure, the run's configuration and its test metrics),
the network as the recipe stores it (`Recipe.stored_network`: Avocado's genome factors apart, as
shards),
the recipe's ``dataloader.yaml``, ``weights.safetensors`` (with provenance: recipe, config,
metrics, epizoo version), ``config.yaml`` and ``metrics.json`` of the run, example inputs, the
recipe's own files of the entry (`Recipe.entry_files`: a TF list, a mean-accessibility track, a
dataloader module) and ``expect.h5``, the predictions that ``kipoi test`` checks. It is built
beside ``out`` and renamed into place at the end.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import yaml

from epizoo import __version__
from epizoo.atomic import atomic_dir, write_text
from epizoo.entry_writing import copy_examples, render_template, write_expect
from epizoo.weights import file_record, save_safetensors, sha256sum
from epizoo.zoo import ZOO_ROOT

from .config import RunConfig
from .module import ZooModule
from .recipes import Prepared, Recipe

TEMPLATE = Path(__file__).resolve().parent / "templates" / "model-template.yaml"


def write_trained_entry(out: Path, module: ZooModule, run: RunConfig, recipe: Recipe, prepared: Prepared,
                        test_metrics: dict[str, float], workdir: Path) -> Path:
    """Write the entry ``out`` for a trained ``module`` (replacing an older one)."""
    metrics = {k: float(v) for k, v in test_metrics.items() if np.isfinite(v)}
    config = recorded_config(run)
    with atomic_dir(out) as folder:
        state, model_config, tables = recipe.stored_network(module.model, prepared.model_config, folder)
        sha256 = save_safetensors(folder / "weights.safetensors", _stored(state, run),
                                  _provenance(config, module, prepared, model_config, metrics))
        info = recipe.entry_info(run, prepared, metrics)
        values = {**info, "architecture": module.hparams.architecture, "sha256": sha256, "recipe": run.recipe,
                  "config": config, "test_metrics": metrics, "tables": tables,
                  "genome": run.entry.genome, "weights_origin": run.entry.weights_origin,
                  "dataloader": yaml.safe_load(info["dataloader_yaml"])["defined_as"]}
        write_text(folder / "model.yaml", render_template(TEMPLATE, _json_safe(values)))
        write_text(folder / "dataloader.yaml", info["dataloader_yaml"])
        write_text(folder / "config.yaml", yaml.safe_dump(config, sort_keys=False))
        write_text(folder / "metrics.json", json.dumps(metrics, indent=1) + "\n")
        copy_examples(recipe.example_files(), folder / "example_files")
        for name, path in recipe.entry_files().items():
            shutil.copyfile(path, folder / name)
        _copy_logs(workdir, folder)
        write_expect(folder, folder / "expect.h5")
    return Path(out)


def _stored(state: dict, run: RunConfig) -> dict:
    """The state dict with its floating tensors in ``training.weights_dtype``."""
    dtype = getattr(torch, run.training.weights_dtype)
    return {name: value.to(dtype) if value.is_floating_point() else value for name, value in state.items()}


def recorded_config(run: RunConfig) -> dict:
    """The run's configuration as provenance: each file by its name and sha256 (a folder, such as
    a pre-trained entry, by its name and its weights' sha256), never by a path of this machine."""
    return _json_safe(_named(run.to_dict()))


def _named(value):
    if isinstance(value, Path):
        return file_reference(value)
    if isinstance(value, dict):
        return {key: _named(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_named(item) for item in value]
    return value


def file_reference(path: Path) -> dict:
    """``{file, sha256, bytes}`` of a file, ``{entry, weights_sha256}`` of an entry folder (by its
    zoo name when it is in the zoo), else ``{name}``. (The size lets `epizoo.weights` find the file
    in a mirror without hashing others.)"""
    if path.is_file():
        return file_record(path)
    if (path / "weights.safetensors").is_file():
        inside = path.resolve().is_relative_to(ZOO_ROOT)
        return {"entry": str(path.resolve().relative_to(ZOO_ROOT)) if inside else path.name,
                "weights_sha256": sha256sum(path / "weights.safetensors")}
    return {"name": path.name}


def _provenance(config: dict, module: ZooModule, prepared: Prepared, model_config: dict,
                metrics: dict[str, float]) -> dict:
    """What the weights file records about how it was made (gReLU-style provenance)."""
    return _json_safe({
        "architecture": module.hparams.architecture,
        "config": model_config,
        "recipe": config["recipe"],
        "run": config,
        "data": prepared.description,
        "task_names": prepared.task_names,
        "test_metrics": metrics,
        "epizoo_version": __version__,
    })


def _json_safe(value):
    """Paths and numpy scalars as plain strings and numbers."""
    return json.loads(json.dumps(value, default=lambda v: v.item() if hasattr(v, "item") else str(v)))



def _copy_logs(workdir: Path, folder: Path) -> None:
    """The CSV logs of every session of the run (a resumed run has several), in order."""
    sessions = sorted((workdir / "logs").glob("version_*/metrics.csv"), key=lambda p: int(p.parent.name[8:]))
    if sessions:
        log = pd.concat([pd.read_csv(p) for p in sessions], ignore_index=True)
        write_text(folder / "training_log.csv", log.to_csv(index=False))
