"""Plugins that make zoo entries useful: variant effects, interpretation, training."""
from epizoo._lazy import submodule_getattr

__getattr__ = submodule_getattr(__name__)
