"""Published weights -> PyTorch modules + safetensors.

Each converter turns the authors' files into ``(config, state_dict)`` for an epizoo architecture.
`CONVERTERS` names them for model.yaml (``weights: {convert: <name>, ...}``); they are imported
only when used, so that reading a zoo entry never pulls in every converter.
"""
from __future__ import annotations

from importlib import import_module
from typing import Callable

from epizoo._lazy import submodule_getattr

__getattr__ = submodule_getattr(__name__)

#: converter name -> "module:function"; the function takes {role: Path} and returns
#: (architecture config, state_dict).
CONVERTERS: dict[str, str] = {
    "factornet-keras1": "epizoo.conversion.factornet:convert_files",
}


def get_converter(name: str) -> Callable:
    """The converter function registered as ``name``."""
    try:
        module_name, function = CONVERTERS[name].split(":")
    except KeyError:
        raise ValueError(f"unknown converter {name!r}; known: {', '.join(CONVERTERS)}") from None
    return getattr(import_module(module_name), function)
