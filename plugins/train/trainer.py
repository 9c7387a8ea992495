"""`train`: run a recipe on PyTorch Lightning and write the trained model as a zoo entry.

The engine is Lightning's: CPU or CUDA (``accelerator``, ``devices``), several machines
(``num_nodes`` with ``strategy: ddp``, launched by ``torchrun`` or SLURM), mixed precision
(``precision: bf16-mixed``), gradient clipping, early stopping on the validation loss, the best
and last checkpoints, a CSV log of losses and metrics. A run's state lives in ``<out>.run/``: run
the same command again after an interruption and it resumes from ``checkpoints/last.ckpt``
(loaded with ``weights_only=True``). Each epoch's training windows are drawn anew (fresh
negatives), deterministically from the seed and the epoch, and split between DDP ranks, so that
every rank sees different windows and a resumed run sees what the uninterrupted one would have.
"""
from __future__ import annotations

import logging
import os
import sys
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import torch
from lightning.pytorch.callbacks import EarlyStopping, ModelCheckpoint
from lightning.pytorch.loggers import CSVLogger

from .config import RunConfig
from .runs import load_config
from .data import Samples, WindowBatches, loader
from .publish import write_trained_entry
from .module import ZooModule
from .samplers import shard_for_rank
from .recipes import Prepared, Recipe, get_recipe

logger = logging.getLogger(__name__)
# Lightning 2.6 calls a torch API that torch 2.13 deprecates; nothing for a user to act on.
warnings.filterwarnings("ignore", message=r"`isinstance\(treespec, LeafSpec\)` is deprecated")


class EpochData(L.LightningDataModule):
    """Serves each epoch's freshly drawn windows (this rank's share), and the fixed valid/test sets."""

    def __init__(self, prepared: Prepared, run: RunConfig, recipe: Recipe, workdir: Path) -> None:
        super().__init__()
        self.prepared, self.run, self.recipe, self.workdir = prepared, run, recipe, workdir

    def _batches(self, samples: Samples, augment: bool = False, seed: tuple[int, ...] = (0,)) -> torch.utils.data.DataLoader:
        if self.prepared.batches is not None:
            return loader(self.prepared.batches(samples, self.run.training.batch_size), self.run.training.num_workers)
        rc = self.recipe.reverse_complement_augmentation if augment else 0.0
        dataset = WindowBatches(self.prepared.builders, samples, self.run.training.batch_size, rc, seed)
        return loader(dataset, self.run.training.num_workers)

    def train_dataloader(self) -> torch.utils.data.DataLoader:
        epoch = self.trainer.current_epoch
        samples = self.prepared.train_epoch(epoch)
        rank, world = self.trainer.global_rank, self.trainer.world_size
        # DDP ranks must run as many steps each: even shares, disjoint but for the padding
        mine = samples.take(shard_for_rank(np.arange(len(samples)), rank, world, even=True))
        if self.run.training.record_samples:
            _record(self.workdir / "samples" / f"epoch{epoch}_rank{rank}.tsv", mine)
        return self._batches(mine, augment=True, seed=(self.run.seed, epoch, rank))

    def val_dataloader(self) -> torch.utils.data.DataLoader:
        return self._batches(self.prepared.valid)

    def test_dataloader(self) -> torch.utils.data.DataLoader:
        return self._batches(self.prepared.test)


def train(
    config: str | Path | RunConfig,
    out: str | Path,
    overrides: Mapping[str, Any] | None = None,
    restart: bool = False,
    check: bool = True,
    quiet: bool = False,
) -> Path:
    """Train a recipe and write the zoo entry ``out``.

    Parameters
    ----------
    config
        The run's YAML file (or a loaded `RunConfig`).
    out
        The entry folder to write (model.yaml, dataloader.yaml, weights.safetensors, ...).
    overrides
        ``{"training.max_epochs": 3}``-style replacements of config values.
    restart
        Start afresh even when ``<out>.run/checkpoints/last.ckpt`` exists.
    check
        Run ``epizoo check`` on the written entry (and fail when it fails).
    quiet
        No progress bar.

    Returns
    -------
    pathlib.Path
        The entry folder.
    """
    # Lightning's deterministic mode switches torch's global flag on (and training.threads sets the
    # thread count): give the caller its own settings back
    deterministic = torch.are_deterministic_algorithms_enabled(), torch.is_deterministic_algorithms_warn_only_enabled()
    threads = torch.get_num_threads()
    try:
        return _train(config, Path(out), overrides, restart, check, quiet)
    finally:
        torch.use_deterministic_algorithms(deterministic[0], warn_only=deterministic[1])
        torch.set_num_threads(threads)


def _train(config, out: Path, overrides, restart: bool, check: bool, quiet: bool) -> Path:
    run = config if isinstance(config, RunConfig) else load_config(config, overrides)
    workdir = out.with_name(out.name + ".run")
    recipe = get_recipe(run.recipe)()
    if run.training.threads:
        torch.set_num_threads(run.training.threads)
    L.seed_everything(run.seed, workers=True, verbose=False)
    prepared = recipe.prepare(run)
    module = ZooModule(prepared.architecture or recipe.architecture, prepared.model_config,
                       prepared.loss or recipe.loss, run.training.learning_rate,
                       prepared.metrics or recipe.metrics, prepared.task_names, prepared.lr_decay)
    if prepared.initialise is not None:
        prepared.initialise(module.model)  # a resumed run then loads its checkpoint over this
    data = EpochData(prepared, run, recipe, workdir)
    checkpoints = ModelCheckpoint(dirpath=workdir / "checkpoints", monitor=run.training.monitor,
                                  mode="min" if run.training.monitor.endswith("loss") else "max",
                                  save_last=True, filename="best")
    trainer = _trainer(run, workdir, checkpoints, quiet)
    resume = workdir / "checkpoints" / "last.ckpt"
    resume_from = str(resume) if resume.exists() and not restart else None
    if resume_from:
        logger.info("resuming from %s", resume_from)
    trainer.fit(module, datamodule=data, ckpt_path=resume_from, weights_only=True)
    _load_best(module, checkpoints)
    trainer.test(module, datamodule=data, verbose=False)
    if trainer.global_rank != 0:
        return out
    write_trained_entry(out, module, run, recipe, prepared, module.test_metrics, workdir)
    if check:
        _check(out)
    return out


def _trainer(run: RunConfig, workdir: Path, checkpoints: ModelCheckpoint, quiet: bool) -> L.Trainer:
    settings = run.training
    return L.Trainer(
        default_root_dir=workdir,
        max_epochs=settings.max_epochs,
        accelerator=settings.accelerator,
        devices=settings.devices,
        num_nodes=settings.num_nodes,
        strategy=settings.strategy,
        precision=settings.precision,
        gradient_clip_val=settings.gradient_clip,
        deterministic=settings.deterministic,
        limit_train_batches=settings.steps_per_epoch,
        callbacks=[EarlyStopping(monitor=settings.monitor, patience=settings.patience,
                                 mode="min" if settings.monitor.endswith("loss") else "max"), checkpoints],
        logger=CSVLogger(workdir, name="logs"),  # version_<k>: one per (resumed) session
        reload_dataloaders_every_n_epochs=1,
        use_distributed_sampler=False,
        num_sanity_val_steps=0,
        log_every_n_steps=1,
        enable_progress_bar=not quiet and sys.stderr.isatty(),
        enable_model_summary=False,
    )


def _load_best(module: ZooModule, checkpoints: ModelCheckpoint) -> None:
    """Put the best checkpoint's weights back into the module (the run may have gone past it)."""
    best = checkpoints.best_model_path
    if best and os.path.exists(best):
        state = torch.load(best, map_location="cpu", weights_only=True)["state_dict"]
        module.load_state_dict(state)


def _check(out: Path) -> None:
    from epizoo.check import check_entry

    report = check_entry(out)
    for line in report.lines():
        logger.info("%s", line)
    if not report.ok:
        raise RuntimeError(f"the trained entry {out} fails epizoo check:\n  " + "\n  ".join(report.problems))


def _record(path: Path, samples: Samples) -> None:
    from epizoo.atomic import write_text

    write_text(path, samples.windows.to_csv(sep="\t", index=False))
