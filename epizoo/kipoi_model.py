"""The Kipoi model class of every epizoo PyTorch entry.

Kipoi's own ``PyTorchModel`` loads weights with a bare ``torch.load`` (a pickle, and no
``map_location``: kipoi/model.py:934). `ZooModel` keeps its prediction and gradient machinery but
builds the architecture from ``epizoo.zoo`` and loads verified safetensors (see
`epizoo.weight_sources`). A model.yaml uses it as::

    defined_as: epizoo.kipoi_model.ZooModel
    args:
      architecture: epizoo.zoo.FactorNet.architecture.FactorNet   # or architecture.py::MyNet
      weights: {...}           # see epizoo.weight_sources
      config: {...}            # optional: keyword arguments of the architecture

Tables too large to load whole (Avocado's genome factors) are stored apart, as checksummed
shards read lazily (`epizoo.sharded`): ``weights.tables`` maps a submodule's name to its shards'
``{manifest: ..., sha256: ...}``, and the submodule's ``attach`` serves its rows from them.
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
import yaml
from kipoi.model import PyTorchModel

from .device import default_device
from .weight_sources import resolve_weights
from .objects import load_object
from .prediction import predict
from .weights import load_safetensors


def lists_torch(dependencies) -> bool:
    """Kipoi's dependency check (``BaseModel._sufficient_deps``) for PyTorch entries: it wants a
    dependency called 'pytorch' and warns otherwise; epizoo entries list pip's torch."""
    return any("torch" in str(d) for d in getattr(dependencies, "pip", []))


def build_module(
    architecture: str,
    weights: Mapping[str, Any],
    config: Mapping[str, Any] | None = None,
    base_dir: str = ".",
) -> torch.nn.Module:
    """Instantiate an architecture and load its verified weights (in eval mode, on the CPU).

    ``config`` defaults to the one recorded in the weights' metadata (every epizoo safetensors
    file records the configuration it was made with); when both are given they must agree.
    """
    return _build(architecture, weights, config, base_dir)[0]


def load_entry(entry: str | Path) -> tuple[torch.nn.Module, dict[str, Any]]:
    """An entry folder's network (as `build_module` makes it) and its weights' metadata (the
    provenance: config, task names, data, ...), reading the weights once."""
    args = yaml.safe_load((Path(entry) / "model.yaml").read_text()).get("args") or {}
    if "architecture" not in args or "weights" not in args:
        raise ValueError(f"{entry}/model.yaml has no args.architecture and args.weights (not an epizoo entry)")
    return _build(args["architecture"], args["weights"], args.get("config"), str(entry))


def _build(architecture: str, weights: Mapping[str, Any], config: Mapping[str, Any] | None,
           base_dir: str) -> tuple[torch.nn.Module, dict[str, Any]]:
    path, sha256 = resolve_weights(weights, base_dir)
    state_dict, metadata = load_safetensors(path, sha256)
    saved = metadata.get("config")
    if config is None and saved is None:
        raise ValueError(f"{path} records no architecture config; give `config` in model.yaml")
    if config is not None and saved is not None and dict(saved) != dict(config):
        raise ValueError(f"weights {path} were made for config {saved}, but model.yaml says {dict(config)}")
    module = load_object(architecture, base_dir)(**dict(config if config is not None else saved))
    module.load_state_dict(state_dict, strict=True)
    _attach_tables(module, weights.get("tables") or {}, base_dir)
    return module.eval(), metadata


def _attach_tables(module: torch.nn.Module, tables: Mapping[str, Any], base_dir: str) -> None:
    """Attach each table set that ``weights.tables`` names (submodule name -> ``{manifest,
    sha256}``: Avocado's genome factors) to its submodule, which reads its rows lazily from the
    checksummed shards (`epizoo.sharded`)."""
    from .sharded import ShardedTables

    for name, spec in tables.items():
        try:
            submodule = module.get_submodule(name)
        except AttributeError:
            raise ValueError(f"weights.tables names {name!r}, which {type(module).__name__} has no submodule of") from None
        submodule.attach(ShardedTables(Path(base_dir) / spec["manifest"], spec["sha256"]))


class ZooModel(PyTorchModel):
    """A zoo entry: an epizoo architecture with safetensors weights, driven by Kipoi.

    Parameters
    ----------
    architecture
        The ``torch.nn.Module`` class: a dotted path, or ``file.py::Class`` beside the entry
        (`epizoo.objects.load_object`).
    weights
        The weights specification (see `epizoo.weight_sources`).
    config
        Keyword arguments of the architecture; default: those recorded in the weights.
    auto_use_cuda
        Run on CUDA when it is available (Kipoi's convention); with False, on the CPU.
        ``EPIZOO_DEVICE`` overrides (`epizoo.device.default_device`).
    """

    MODEL_PACKAGE = "pytorch"

    def __init__(
        self,
        architecture: str,
        weights: Mapping[str, Any],
        config: Mapping[str, Any] | None = None,
        auto_use_cuda: bool = True,
    ) -> None:
        self._entry_dir = os.getcwd()  # Kipoi builds the model inside the entry's folder
        self.model = build_module(architecture, weights, config, self._entry_dir)
        explicit = os.environ.get("EPIZOO_DEVICE")
        self.device = default_device() if explicit or auto_use_cuda else torch.device("cpu")
        self.model = self.model.to(self.device)
        self.use_cuda = self.device.type == "cuda"
        self.grad_hooks = []

    @property
    def test(self):
        """The entry's ``test`` section (Kipoi's ``ModelTest``)."""
        return self._test

    @test.setter
    def test(self, test) -> None:
        # kipoi test opens a relative test.expect against the caller's working directory
        # (kipoi/cli/main.py cli_test); resolve it against the entry's folder instead.
        expect = getattr(test, "expect", None)
        if isinstance(expect, str) and not os.path.isabs(expect):
            test.expect = os.path.join(self._entry_dir, expect)
        self._test = test

    _sufficient_deps = staticmethod(lists_torch)

    def predict_on_batch(self, x: Any) -> np.ndarray | dict | list:
        """Predictions for one batch (numpy in, numpy out) through `epizoo.predict`: a mapping
        of inputs as keyword arguments, a list as positional ones, an array as the only one."""
        if _rows(x) == 0:  # nothing to batch: Kipoi's own path keeps the empty shapes
            return super().predict_on_batch(x)
        if isinstance(x, (list, tuple)):
            X, args = x[0], list(x[1:])
        else:
            X, args = x, None
        output = predict(self.model, X, args=args, batch_size=_rows(x), device=self.device)
        return _to_numpy(output)


def _rows(x: Any) -> int:
    first = next(iter(x.values())) if isinstance(x, Mapping) else x[0] if isinstance(x, (list, tuple)) else x
    return len(first)


def _to_numpy(output: Any) -> np.ndarray | dict | list:
    """Kipoi's output structure: an array, a dict of arrays or a list of arrays."""
    if isinstance(output, Mapping):
        return {name: _to_numpy(value) for name, value in output.items()}
    if isinstance(output, (list, tuple)):
        return [_to_numpy(value) for value in output]
    return output.numpy()
