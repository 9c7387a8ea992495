"""The Kipoi model class of every epizoo PyTorch entry.

Kipoi's own ``PyTorchModel`` loads weights with a bare ``torch.load`` (a pickle, and no
``map_location``: kipoi/model.py:934). `ZooModel` keeps its prediction and gradient machinery but
builds the architecture from ``epizoo.zoo`` and loads verified safetensors (see
`epizoo.entry_weights`). A model.yaml uses it as::

    defined_as: epizoo.kipoi_model.ZooModel
    args:
      architecture: epizoo.zoo.FactorNet.architecture.FactorNet
      config: {...}            # keyword arguments of the architecture
      weights: {...}           # see epizoo.entry_weights
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from importlib import import_module
from typing import Any

import numpy as np
import torch
from kipoi.model import PyTorchModel

from .entry_weights import resolve_weights
from .weights import load_safetensors


def load_architecture(path: str) -> type[torch.nn.Module]:
    """The class named by a dotted path such as ``epizoo.zoo.FactorNet.architecture.FactorNet``."""
    module_name, _, name = path.rpartition(".")
    return getattr(import_module(module_name), name)


def build_module(architecture: str, config: Mapping[str, Any], weights: Mapping[str, Any], base_dir: str = ".") -> torch.nn.Module:
    """Instantiate an architecture and load its verified weights (in eval mode, on the CPU)."""
    module = load_architecture(architecture)(**dict(config))
    path, sha256 = resolve_weights(weights, base_dir)
    state_dict, metadata = load_safetensors(path, sha256)
    saved_config = metadata.get("config")
    if saved_config is not None and saved_config != dict(config):
        raise ValueError(
            f"weights {path} were made for config {saved_config}, but model.yaml says {dict(config)}"
        )
    module.load_state_dict(state_dict, strict=True)
    return module.eval()


class ZooModel(PyTorchModel):
    """A zoo entry: an epizoo architecture with safetensors weights, driven by Kipoi.

    Parameters
    ----------
    architecture
        Dotted path of the ``torch.nn.Module`` class.
    config
        Its keyword arguments.
    weights
        The weights specification (see `epizoo.entry_weights`).
    auto_use_cuda
        Run on CUDA when it is available (Kipoi's convention). ``EPIZOO_DEVICE`` overrides.
    """

    MODEL_PACKAGE = "pytorch"

    def __init__(
        self,
        architecture: str,
        config: Mapping[str, Any],
        weights: Mapping[str, Any],
        auto_use_cuda: bool = True,
    ) -> None:
        self.model = build_module(architecture, config, weights, os.getcwd())
        device = os.environ.get("EPIZOO_DEVICE") or (
            "cuda" if auto_use_cuda and torch.cuda.is_available() else "cpu"
        )
        self.model = self.model.to(device)
        self.use_cuda = device.startswith("cuda")
        self.grad_hooks = []

    def predict_on_batch(self, x: Any) -> np.ndarray | dict | list:
        """Predictions for one batch (numpy in, numpy out), without building autograd graphs."""
        with torch.inference_mode():
            return super().predict_on_batch(x)
