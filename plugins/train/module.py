"""The one LightningModule of the training plugin: any zoo architecture, any recipe.

It holds the architecture (built from its dotted class path and a plain config, exactly as a zoo
entry builds it, so a trained network is saved and reloaded without pickling code), computes the
recipe's loss, and evaluates the recipe's metrics on the whole validation / test set at the end of
each epoch. Its hyperparameters are plain data, so Lightning checkpoints load with
``weights_only=True``.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import lightning as L
import numpy as np
import torch

from epizoo.objects import load_object

from .losses import LOGIT_LOSSES, LOSSES


class ZooModule(L.LightningModule):
    """Train an epizoo architecture.

    Parameters
    ----------
    architecture
        Dotted path of the ``torch.nn.Module`` class (e.g. ``epizoo.zoo.FactorNet.architecture.FactorNet``).
    config
        Its keyword arguments (plain data).
    loss
        A key of `epizoo.plugins.train.losses.LOSSES`.
    learning_rate
        Adam's learning rate.
    lr_decay
        ``{"factor", "patience", "min_lr"}``: multiply the learning rate by ``factor`` when the
        validation loss has not improved for ``patience`` epochs (Keras' ReduceLROnPlateau);
        None: a constant rate.
    metrics
        Dotted path of the metric function ``(predictions, targets, mask) -> {name: value}``.
    task_names
        Names of the outputs, for per-task metrics.
    """

    def __init__(self, architecture: str, config: Mapping[str, Any], loss: str, learning_rate: float,
                 metrics: str, task_names: list[str], lr_decay: Mapping[str, float] | None = None) -> None:
        super().__init__()
        self.save_hyperparameters()
        # zoo architectures start in eval mode (inference); Lightning keeps submodules' modes
        self.model = load_object(architecture)(**dict(config)).train()
        self.loss_function = LOSSES[loss]
        self.metric_function = load_object(metrics)
        self._outputs: dict[str, list] = {"val": [], "test": []}
        self.test_metrics: dict[str, float] = {}

    def forward(self, inputs: Mapping[str, torch.Tensor]) -> torch.Tensor:
        return self.model(**inputs)

    def _loss(self, batch) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The loss, and the model's outputs (probabilities for the metrics) and targets."""
        inputs, targets, mask = batch
        on_logits = self.hparams.loss in LOGIT_LOSSES
        outputs = self.model.logits(**inputs) if on_logits else self(inputs)
        if isinstance(outputs, Mapping):  # named heads: the loss takes them all, metrics the profile
            outputs = {name: value.float() for name, value in outputs.items()}
            heads = self.model.from_logits(outputs) if on_logits else outputs
            return self.loss_function(outputs, targets), heads["profile"], targets
        outputs = outputs.float()
        if mask is not None:
            loss = self.loss_function(outputs[mask], targets[mask])
        else:
            loss = self.loss_function(outputs, targets)
        return loss, torch.sigmoid(outputs) if on_logits else outputs, targets

    def training_step(self, batch, batch_index: int) -> torch.Tensor:
        loss, _, _ = self._loss(batch)
        self.log("train_loss", loss, prog_bar=True, on_step=True, on_epoch=True, batch_size=len(batch[1]), sync_dist=True)
        return loss

    def validation_step(self, batch, batch_index: int) -> None:
        self._evaluate_step("val", batch)

    def test_step(self, batch, batch_index: int) -> None:
        self._evaluate_step("test", batch)

    def _evaluate_step(self, stage: str, batch) -> None:
        loss, predictions, targets = self._loss(batch)
        self.log(f"{stage}_loss", loss, prog_bar=True, on_epoch=True, batch_size=len(targets), sync_dist=True)
        mask = batch[2]
        self._outputs[stage].append(tuple(
            None if t is None else t.detach().float().cpu().numpy() for t in (predictions, targets, mask)
        ))

    def on_validation_epoch_end(self) -> None:
        self._log_metrics("val")

    def on_test_epoch_end(self) -> None:
        self.test_metrics = self._log_metrics("test")

    def _log_metrics(self, stage: str) -> dict[str, float]:
        outputs, self._outputs[stage] = self._outputs[stage], []
        if not outputs:
            return {}
        predictions = np.concatenate([o[0] for o in outputs])
        targets = np.concatenate([o[1] for o in outputs])
        mask = None if outputs[0][2] is None else np.concatenate([o[2] for o in outputs]).astype(bool)
        metrics = self.metric_function(predictions, targets, mask, task_names=self.hparams.task_names)
        finite = {f"{stage}_{k}": float(v) for k, v in metrics.items() if np.isfinite(v)}
        self.log_dict(finite, sync_dist=True)
        return metrics

    def configure_optimizers(self):
        optimizer = torch.optim.Adam(self.parameters(), lr=self.hparams.learning_rate)
        decay = self.hparams.lr_decay
        if not decay:
            return optimizer
        schedule = torch.optim.lr_scheduler.ReduceLROnPlateau(
            optimizer, factor=decay["factor"], patience=int(decay["patience"]), min_lr=decay.get("min_lr", 0.0))
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": schedule, "monitor": "val_loss"}}
