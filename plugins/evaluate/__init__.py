"""Evaluation of zoo entries: GOPHER's profile metrics, conversions between binary and quantitative
models, and the robustness ("variation") score (`epizoo.plugins.evaluate.profiles`)."""
from epizoo._lazy import submodule_getattr

__getattr__ = submodule_getattr(__name__)
