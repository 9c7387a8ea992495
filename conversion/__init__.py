"""Published weights -> PyTorch modules + safetensors.

Each converter turns the authors' files into ``(config, state_dict)`` for an epizoo architecture.
`CONVERTERS` names them for model.yaml (``weights: {convert: <name>, ...}``); they are imported
only when used, so that reading a zoo entry never pulls in every converter.
"""
from __future__ import annotations

from typing import Callable

from epizoo._lazy import submodule_getattr
from epizoo.objects import load_object

__getattr__ = submodule_getattr(__name__)

#: converter name -> its function (a dotted path); the function takes {role: Path} and returns
#: (architecture config, state_dict).
CONVERTERS: dict[str, str] = {
    "factornet-keras1": "epizoo.conversion.factornet.convert_files",
    # Kipoi's Keras-2 re-saves of the same models: the same reader, which tells the layouts apart;
    # the name records in the converted weights' provenance where the files came from
    "factornet-kipoi": "epizoo.conversion.factornet.convert_files",
}
# Avocado's saves become whole entries (`epizoo.conversion.avocado.write_entry`): their genome factors
# are sharded, which a (config, state_dict) converter cannot express.


def get_converter(name: str) -> Callable:
    """The converter function registered as ``name``."""
    if name not in CONVERTERS:
        raise ValueError(f"unknown converter {name!r}; known: {', '.join(CONVERTERS)}")
    return load_object(CONVERTERS[name])
