"""Public names for the plugins: ``epizoo.veff`` is ``epizoo.plugins.veff``, and so on.

An import of ``epizoo.veff`` or of any module below it (``epizoo.veff.scores``) returns the very
module of the plugin (``epizoo.plugins.veff.scores``), never a second copy: a score registered
through one name is seen through the other.
"""
from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
from types import ModuleType

ALIASES = {
    "epizoo.veff": "epizoo.plugins.veff",
    "epizoo.interpret": "epizoo.plugins.interpret",
    "epizoo.train": "epizoo.plugins.train",
}


def _target(fullname: str) -> str | None:
    for alias, real in ALIASES.items():
        if fullname == alias or fullname.startswith(alias + "."):
            return real + fullname[len(alias):]
    return None


class _ExistingModule(importlib.abc.Loader):
    """Loads an alias as the module it names (imported on first use)."""

    def __init__(self, real: str) -> None:
        self.real = real

    def create_module(self, spec) -> ModuleType:
        return importlib.import_module(self.real)

    def exec_module(self, module: ModuleType) -> None:
        """Nothing to run: the real module is already imported."""


class AliasFinder(importlib.abc.MetaPathFinder):
    """Finds the `ALIASES` names and every module below them."""

    def find_spec(self, fullname, path=None, target=None):
        real = _target(fullname)
        if real is None or importlib.util.find_spec(real) is None:
            return None
        return importlib.util.spec_from_loader(fullname, _ExistingModule(real))


def install() -> None:
    """Put the finder first on ``sys.meta_path`` (once)."""
    if not any(isinstance(finder, AliasFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, AliasFinder())
