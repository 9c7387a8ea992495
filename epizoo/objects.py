"""Find a class or function by name: the one resolver of every dotted path in epizoo.

Paths are Kipoi's ``defined_as`` forms:

* ``package.module.Name`` (architectures in model.yaml, recipes, converters, metrics);
* ``file.py::Name``: a Python file beside an entry (a contributor's own architecture), resolved
  against ``base_dir``, as Kipoi resolves a model's or dataloader's ``defined_as``.
"""
from __future__ import annotations

import importlib.util
import sys
from importlib import import_module
from pathlib import Path
from typing import Any


def load_object(path: str, base_dir: str | Path = ".") -> Any:
    """The object that ``path`` names (see the module docstring).

    Raises
    ------
    ValueError
        When the path names no module or the module has no such attribute.
    """
    if "::" in path:
        file, _, name = path.partition("::")
        module = _load_file(Path(base_dir) / file)
    else:
        module_name, _, name = path.rpartition(".")
        if not module_name:
            raise ValueError(f"{path!r} is not a dotted path (package.module.Name) or file.py::Name")
        module = import_module(module_name)
    try:
        return getattr(module, name)
    except AttributeError:
        raise ValueError(f"{path!r}: {module.__name__} has no attribute {name!r}") from None


def _load_file(file: Path) -> Any:
    """Import a Python file as a module of its own (once per path)."""
    file = file.resolve()
    if not file.is_file():
        raise ValueError(f"{file} does not exist (named by a file.py::Name path)")
    name = f"epizoo_entry_{abs(hash(str(file)))}_{file.stem}"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, file)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]
