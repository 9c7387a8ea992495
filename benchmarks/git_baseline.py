"""A zoo network as its class was at a git revision: the named baseline of a benchmark that
compares a change to an architecture against the code before it, in the same process and run."""
from __future__ import annotations

import inspect
import json
import subprocess
import sys
import types
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]


def module_at(revision: str, path: str) -> types.ModuleType:
    """The module at ``path`` (relative to the repository) as it was at ``revision``."""
    source = subprocess.run(["git", "show", f"{revision}:{path}"], cwd=REPO, capture_output=True,
                            text=True, check=True).stdout
    module = types.ModuleType(f"baseline_{revision}_{Path(path).stem}")
    module.__file__ = f"{revision}:{path}"
    exec(compile(source, module.__file__, "exec"), module.__dict__)
    return module


def network_at(revision: str, network: torch.nn.Module) -> torch.nn.Module:
    """``network`` (same constructor arguments, same weights) built by its class at ``revision``."""
    path = Path(inspect.getsourcefile(type(network))).resolve().relative_to(REPO).as_posix()
    baseline = getattr(module_at(revision, path), type(network).__name__)(**network.config)
    baseline.load_state_dict(network.state_dict())
    return baseline.to(next(network.parameters()).device).eval()


@contextmanager
def veff_networks_at(revision: str) -> Iterator[None]:
    """Within the block, `epizoo.score_variants` runs each entry with its network's class as at
    ``revision`` (same weights): the end-to-end effect of a change to an architecture."""
    from epizoo.plugins.veff import api

    original = api.get_model

    def at_revision(model, *args, **kwargs):
        loaded = original(model, *args, **kwargs)
        loaded.model = network_at(revision, loaded.model)
        return loaded

    api.get_model = at_revision
    try:
        yield
    finally:
        api.get_model = original


def in_rounds(script: str, arguments: list[str], rounds: int) -> dict[str, list[dict]]:
    """``python script --worker NAME *arguments`` for the contenders baseline and epizoo, in
    ``rounds`` alternating rounds, each run a fresh process; each run's last stdout line as JSON.
    A process of its own per run keeps one contender's allocations (and malloc settings) from
    the other's timings."""
    results: dict[str, list[dict]] = {"baseline": [], "epizoo": []}
    for round_ in range(rounds):
        for name in (list(results) if round_ % 2 == 0 else list(results)[::-1]):
            done = subprocess.run([sys.executable, script, "--worker", name, *arguments],
                                  capture_output=True, text=True, check=True)
            results[name].append(json.loads(done.stdout.splitlines()[-1]))
    return results
