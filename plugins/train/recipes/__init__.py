"""Training recipes: what is particular to each paper, behind one interface.

A recipe subclasses `Recipe`, declares its config dataclasses (whose defaults are the paper's
values) and its architecture, and implements `Recipe.prepare` (the builders of model inputs, the
per-epoch training samples, the validation and test samples) and `Recipe.entry_info` (what the
zoo entry says about itself). Registering it in `RECIPES` is all the trainer needs.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from epizoo.dataloaders.interval_dataset import IntervalDataset
from epizoo.objects import load_object

from ..config import ConfigError, RunConfig, TrainingConfig
from ..data import Samples

#: recipe name -> its class (a dotted path, `epizoo.objects.load_object`)
RECIPES: dict[str, str] = {
    "factornet": "epizoo.plugins.train.recipes.factornet.FactorNetRecipe",
    "tftransfer": "epizoo.plugins.train.recipes.tftransfer.TFTransferRecipe",
    "gopher": "epizoo.plugins.train.recipes.gopher.GopherRecipe",
    "chromdragonn": "epizoo.plugins.train.recipes.chromdragonn.ChromDragoNNRecipe",
    "avocado": "epizoo.plugins.train.recipes.avocado.AvocadoRecipe",
}


@dataclass
class Prepared:
    """Everything a run needs from its recipe."""

    builders: list[IntervalDataset]
    task_names: list[str]
    model_config: dict
    train_epoch: Callable[[int], Samples]
    valid: Samples
    test: Samples
    description: dict = field(default_factory=dict)
    #: called on the freshly built network before training (e.g. to copy pre-trained layers)
    initialise: Callable[[Any], None] | None = None
    #: the run's architecture, loss and metrics where the config chooses them (default: the recipe's)
    architecture: str | None = None
    loss: str | None = None
    metrics: str | None = None
    #: ReduceLROnPlateau settings (`epizoo.plugins.train.module.ZooModule`); None: constant rate
    lr_decay: dict | None = None
    #: ``(samples, batch_size) -> dataset of batches`` where the inputs are not windows of the
    #: builders (Avocado's indices, `epizoo.plugins.train.data.IndexBatches`); None: `WindowBatches`
    batches: Callable[[Samples, int], Any] | None = None


class Recipe:
    """Base class of the recipes (see the module docstring)."""

    name: ClassVar[str]
    DataConfig: ClassVar[type]
    ModelConfig: ClassVar[type]
    TrainingConfig: ClassVar[type] = TrainingConfig
    architecture: ClassVar[str]
    loss: ClassVar[str]
    metrics: ClassVar[str] = "epizoo.plugins.train.metrics.binary_metrics"
    default_seed: ClassVar[int] = 0
    reverse_complement_augmentation: ClassVar[float] = 0.0

    def prepare(self, run: RunConfig) -> Prepared:
        raise NotImplementedError

    def entry_info(self, run: RunConfig, prepared: Prepared, test_metrics: dict[str, float]) -> dict[str, Any]:
        """Template values of the entry: ``name, doc, cite_as, trained_on, training_procedure,
        tags, inputs, targets`` (schema mappings) and ``dataloader_yaml`` (its text)."""
        raise NotImplementedError

    def example_files(self) -> list[Path]:
        """Files copied into the entry's ``example_files/`` for ``kipoi test``."""
        return []

    def entry_files(self) -> dict[str, Path]:
        """Files the model needs beside its weights (their names in the entry folder -> their
        sources), copied into the entry folder (default none)."""
        return {}

    def stored_network(self, network: Any, config: dict, folder: Path) -> tuple[dict, dict, dict]:
        """How the trained ``network`` is stored in the entry ``folder``: ``(state_dict of
        weights.safetensors, the architecture's config there, weights.tables)``. Default: the
        whole state dict, the training config, no tables (`epizoo.kipoi_model`)."""
        return network.state_dict(), config, {}


def get_recipe(name: str) -> type[Recipe]:
    """The recipe class registered as ``name``."""
    if name not in RECIPES:
        raise ConfigError(f"unknown recipe {name!r}; available: {', '.join(RECIPES)}")
    return load_object(RECIPES[name])
