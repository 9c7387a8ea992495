"""``epizoo convert factornet``: a complete Kipoi entry from one of the authors' model folders.

The entry is rendered from the same templates as the zoo's FactorNet group
(``zoo/FactorNet/model-template.yaml`` and ``dataloader-template.yaml``), with the converted
weights committed beside it (``weights.safetensors``), the task names, example inputs and the
expected predictions that ``kipoi test`` checks.
"""
from __future__ import annotations

from pathlib import Path

from epizoo.atomic import atomic_dir, write_text
from epizoo.entry_writing import copy_examples, render_template, write_expect
from epizoo.weight_sources import conversion_metadata
from epizoo.weights import FileRef, file_digests, save_safetensors
from epizoo.zoo import ZOO_ROOT
from epizoo.zoo.FactorNet.dataloader import EXAMPLE_FILES, dataloader_class

from .factornet import describe_model_dir, read_keras1_factornet

TEMPLATES = ZOO_ROOT / "FactorNet"


def model_kind(feature_groups: list[str], n_tasks: int) -> str:
    """The authors' name for the kind of model (the prefix of their folder names)."""
    meta, gencode = "meta" in feature_groups, "gencode" in feature_groups
    if meta and gencode:
        return "metaGENCODE"
    if meta:
        return "meta"
    if gencode:
        return "GENCODE"
    return "multiTask" if n_tasks > 1 else "onePeak"


def template_values(description: dict, config: dict, sha256: str) -> dict:
    """One row of template values for a converted model folder."""
    tasks = description["tasks"]
    return {
        "model": description["name"],
        "tf": ",".join(tasks) if len(tasks) <= 3 else f"{len(tasks)} TFs",
        "tasks": ",".join(tasks),
        "kind": model_kind(description["feature_groups"], len(tasks)),
        "dataloader": dataloader_class(description["tracks"], description["feature_groups"]),
        "tracks": ",".join(description["tracks"]),
        "n_channels": config["n_channels"],
        "n_meta": config["n_meta"],
        "weights_file": description["weights"].name,
        "training_cells": "-",
        "test_cell": "the challenge's evaluation cell type",
        "local_weights": "weights.safetensors",
        "converted_sha256": sha256,
        "test_expect": "expect.h5",
        "examples": "example_files",
    }


def write_entry(model_dir: str | Path, out_dir: str | Path, expect: bool = True) -> Path:
    """Convert the authors' ``models/<TF>/<variant>`` folder into a Kipoi entry at ``out_dir``.

    Parameters
    ----------
    model_dir
        Folder with ``model.json``, ``best_model.hdf5`` or ``final_model.hdf5``, ``bigwig.txt``,
        ``chip.txt``, ``feature.txt`` (and ``meta.txt``).
    out_dir
        The entry folder to write. It is built beside it under a temporary name and renamed
        into place at the end (replacing an existing one; `epizoo.atomic.atomic_dir`), so a
        failure leaves nothing half-made.
    expect
        Also write ``expect.h5``, the predictions ``kipoi test`` compares against.

    Returns
    -------
    pathlib.Path
        ``out_dir``.
    """
    with atomic_dir(out_dir) as building:
        _write_entry(Path(model_dir), building, expect)
    return Path(out_dir)


def _write_entry(model_dir: Path, out: Path, expect: bool) -> None:
    description = describe_model_dir(model_dir)
    config, state_dict = read_keras1_factornet(description["model_json"], description["weights"])
    sources = {
        "model_json": FileRef(**file_digests(description["model_json"])),
        "weights_hdf5": FileRef(**file_digests(description["weights"])),
    }
    sha256 = save_safetensors(
        out / "weights.safetensors", state_dict, conversion_metadata("factornet-keras1", config, sources)
    )
    values = template_values(description, config, sha256)
    if not expect:
        values["test_expect"] = "-"
    write_text(out / "model.yaml", render_template(TEMPLATES / "model-template.yaml", values))
    write_text(out / "dataloader.yaml", render_template(TEMPLATES / "dataloader-template.yaml", values))
    write_text(out / "tasks.txt", "\n".join(description["tasks"]) + "\n")
    copy_examples(EXAMPLE_FILES, out / "example_files")
    if expect:
        write_expect(out, out / "expect.h5")

