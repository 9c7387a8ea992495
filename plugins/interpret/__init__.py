"""Interpretation of trained models: what their first-layer filters learned.

* `epizoo.plugins.interpret.filters`: each first-layer filter's position frequency matrix from
  the input windows that activate it (`filter_pfms`), as in AI-TAC and Novakovsky et al. 2021;
* `epizoo.plugins.interpret.motifs`: MEME motif files (`read_meme`, `write_meme`) and Tomtom
  matching against a motif database with q-values (`tomtom_matches`);
* `epizoo.plugins.interpret.match`: both in one call, each filter's best database match
  (`match_filters`).

The submodules are imported on first use (torch and memelite/numba are slow to import).
"""
from epizoo._lazy import submodule_getattr

__getattr__ = submodule_getattr(__name__)
