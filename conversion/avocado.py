"""``epizoo convert avocado``: the authors' saved Avocado models as zoo entries.

``avocado-epigenome`` (0.4.x, Keras 2 on Theano) saves a model as ``PREFIX.json`` (its cell types,
assays and hyper-parameters: ``n_celltype_factors``, ``n_assay_factors``, ``n_genomic_positions``,
``n_25bp_factors``, ``n_250bp_factors``, ``n_5kbp_factors``, ``n_layers``, ``n_nodes``,
``batch_size``, and optionally ``experiments``) and ``PREFIX.h5`` (a Keras full-model save with the
layers ``celltype_embedding``, ``assay_embedding``, ``genome_{25bp,250bp,5kbp}_embedding``,
``dense_0`` ... and ``y_pred``; the authors' Roadmap and ENCODE releases, Zenodo 4774412 and
4774521). Both are read with h5py and json alone. The network and the cell-type and assay factors
become ``weights.safetensors``, Dense kernels ``(in, out)`` transposed to PyTorch's ``(out, in)``;
the genome factors are copied block by block into checksummed shards (`epizoo.sharded`), so that
a chromosome's factors never have to fit in memory.

The models know positions, not coordinates: ``layout`` (a BED of the regions whose 25-bp bins are
the positions, in order: ``chr19 0 59128975`` for a chromosome model) maps them to the genome;
without it the entry has the index layout (`epizoo.dataloaders.positions`).
"""
from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np
import torch

from epizoo.atomic import atomic_dir, write_text
from epizoo.dataloaders.positions import PositionLayout
from epizoo.entry_writing import render_template, write_expect
from epizoo.weight_sources import conversion_metadata
from epizoo.weights import FileRef, file_digests, save_safetensors
from epizoo.zoo import ZOO_ROOT
from epizoo.zoo.Avocado.architecture import SCALES
from epizoo.zoo.Avocado.entries import dataloader_yaml, write_entry_files, write_genome_factors

from .keras_h5 import layer_weights, short_name, weight_groups

ARCHITECTURE = "epizoo.zoo.Avocado.architecture.Avocado"
#: the authors' JSON keys -> the architecture's arguments
HYPERPARAMETERS = {"n_celltype_factors": "celltype_factors", "n_assay_factors": "assay_factors",
                   "n_layers": "n_layers", "n_nodes": "n_nodes"}
GENOME_LAYERS = {f"{name}_embedding": name for name in SCALES}


def read_release(prefix: str | Path) -> tuple[dict, dict, dict[str, torch.Tensor]]:
    """``(saved, config, state)`` of ``PREFIX.json`` / ``PREFIX.h5``: the JSON as saved, the
    architecture's config and the state dict of everything but the genome factors."""
    saved = json.loads(_file(prefix, ".json").read_text())
    needed = ("celltypes", "assays", "n_genomic_positions", *HYPERPARAMETERS, *(f"n_{n[7:]}_factors" for n in SCALES))
    missing = [k for k in needed if k not in saved]
    if missing:
        raise ValueError(f"{_file(prefix, '.json')} lacks {', '.join(missing)}: not an avocado-epigenome model")
    config = {"n_celltypes": len(saved["celltypes"]), "n_assays": len(saved["assays"]),
              "n_positions": int(saved["n_genomic_positions"]),
              **{mine: int(saved[theirs]) for theirs, mine in HYPERPARAMETERS.items()},
              "genome_factors": [int(saved[f"n_{name[7:]}_factors"]) for name in SCALES],
              "dropout": 0.0, "genome": "stored"}
    with h5py.File(_file(prefix, ".h5"), "r") as handle:
        state = _network_state(weight_groups(handle), config)
    return saved, config, state


def _file(prefix: str | Path, suffix: str) -> Path:
    """``PREFIX.json`` / ``PREFIX.h5`` (a prefix may hold dots: ``avocado.v2``)."""
    return Path(f"{prefix}{suffix}")


def _arrays(group: h5py.Group, layer: str) -> dict[str, torch.Tensor]:
    return {short_name(name): torch.from_numpy(np.asarray(data, dtype=np.float32))
            for name, data in layer_weights(group, layer).items()}


def _network_state(group: h5py.Group, config: dict) -> dict[str, torch.Tensor]:
    state = {"celltype_embedding.weight": _arrays(group, "celltype_embedding")["embeddings"],
             "assay_embedding.weight": _arrays(group, "assay_embedding")["embeddings"]}
    for k in range(config["n_layers"]):  # nn.Sequential(Linear, ReLU, ...): Linear k is module 2k
        dense = _arrays(group, f"dense_{k}")
        state[f"dense.{2 * k}.weight"], state[f"dense.{2 * k}.bias"] = dense["kernel"].T.contiguous(), dense["bias"]
    out = _arrays(group, "y_pred")
    state["output.weight"], state["output.bias"] = out["kernel"].T.contiguous(), out["bias"]
    for key, size in (("celltype_embedding.weight", config["n_celltypes"]), ("assay_embedding.weight", config["n_assays"])):
        if state[key].shape[0] != size:
            raise ValueError(f"{group.file.filename}: {key.split('.')[0]} has {state[key].shape[0]} rows, the JSON "
                             f"names {size}")
    return state


def write_entry(prefix: str | Path, out_dir: str | Path, layout: str | Path | None = None, expect: bool = True,
                genome: str = "hg19") -> Path:
    """Convert ``PREFIX.json`` + ``PREFIX.h5`` into an entry at ``out_dir`` (built beside it and
    renamed into place; `epizoo.atomic.atomic_dir`), whose positions lie where ``layout`` says, on
    the ``genome`` build (the authors' Roadmap models: hg19)."""
    prefix = Path(prefix)
    saved, config, state = read_release(prefix)
    positions = PositionLayout.from_bed(layout) if layout else PositionLayout.indices(config["n_positions"])
    if positions.n_positions != config["n_positions"]:
        raise ValueError(f"{layout} holds {positions.n_positions} bins of 25 bp, the model {config['n_positions']} "
                         "positions: give the layout of the regions it was fitted on, in order")
    with atomic_dir(out_dir) as out:
        _write(prefix, out, saved, config, state, positions, expect, genome)
    return Path(out_dir)


def _write(prefix: Path, out: Path, saved: dict, config: dict, state: dict, layout: PositionLayout, expect: bool,
           genome: str) -> None:
    sources = {role: FileRef(**file_digests(_file(prefix, "." + role))) for role in ("json", "h5")}
    with h5py.File(_file(prefix, ".h5"), "r") as handle:
        group = weight_groups(handle)
        tables = {name: next(iter(layer_weights(group, layer).values())) for layer, name in GENOME_LAYERS.items()}
        tables_sha256 = write_genome_factors(out / "genome_factors", tables, config["n_positions"])
    sha256 = save_safetensors(out / "weights.safetensors", state, conversion_metadata("avocado-keras2", config, sources))
    names = {"celltypes": [str(c) for c in saved["celltypes"]], "assays": [str(a) for a in saved["assays"]]}
    write_entry_files(out, layout, names)
    write_text(out / "dataloader.yaml", dataloader_yaml(names["celltypes"][0], names["assays"][0], layout))
    values = {"sha256": sha256, "tables": {"genome": {"manifest": "genome_factors/manifest.json",
                                                      "sha256": tables_sha256}},
              "source": prefix.name, "h5_md5": sources["h5"].md5, "config": config,
              "n_experiments": len(saved.get("experiments") or []), **names, "expect": expect, "genome": genome}
    write_text(out / "model.yaml", render_template(ZOO_ROOT / "Avocado" / "converted-model.yaml.j2", values))
    if expect:
        write_expect(out, out / "expect.h5")
