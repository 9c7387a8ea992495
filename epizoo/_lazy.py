"""Attribute access that imports subpackages on demand.

Kipoi resolves ``defined_as: epizoo.zoo.FactorNet.dataloader.DGF`` by importing the top-level
package ``epizoo`` and then walking the attributes (kipoi_utils.utils.load_obj), so every package
on such a path must expose its submodules as attributes without importing all of them up front.
"""
from __future__ import annotations

from importlib import import_module
from importlib.util import find_spec
from types import ModuleType
from typing import Any, Callable


def submodule_getattr(package: str) -> Callable[[str], Any]:
    """A module ``__getattr__`` for ``package`` that imports ``package.<name>`` when it exists."""

    def __getattr__(name: str) -> ModuleType:
        qualified = f"{package}.{name}"
        if not name.startswith("__") and find_spec(qualified) is not None:
            return import_module(qualified)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return __getattr__
