"""Interpretation of trained models: attributions, motifs, and what their first-layer filters learned.

* `epizoo.plugins.interpret.attributions`: `attribute`, the attributions of every input of a model
  (saliency, input x gradient, integrated gradients, DeepLiftShap) for one chosen output value
  per sample, and `attribute_layer`, those of a layer's output (index inputs' embeddings);
  `epizoo.plugins.interpret.deeplift` holds DeepLIFT's pass and its convergence check;
* `epizoo.plugins.interpret.regions`: `attribute_regions`, attributions of a zoo entry on a BED's
  regions through its own dataloader (``epizoo interpret``), and `feature_importance`, which
  entries of a per-sample input (a cell type's TF expression) drive them;
* `epizoo.plugins.interpret.ism`: `saturation_mutagenesis`, every single-base substitution of a
  window, batched, scored with a variant-effect score;
* `epizoo.plugins.interpret.filters`: each first-layer filter's position frequency matrix from
  the input windows that activate it (`filter_pfms`), as in AI-TAC and Novakovsky et al. 2021;
* `epizoo.plugins.interpret.motifs`: Tomtom matching against a motif database with q-values
  (`tomtom_matches`); motifs and MEME files are `epizoo.dataloaders.motifs`;
* `epizoo.plugins.interpret.match`: both in one call, each filter's best database match
  (`match_filters`);
* `epizoo.plugins.interpret.modisco`: seqlets (`call_seqlets`) and TF-MoDISco (`tfmodisco`);
* `epizoo.plugins.interpret.report`: `motif_report`, patterns with their matches and the share of
  shuffled controls that match (``epizoo motifs``);
* `epizoo.plugins.interpret.plots`: logos, ISM heat maps, attributions beside their tracks;
* `epizoo.plugins.interpret.gia`: global importance analysis (GOPHER): patterns embedded in
  shuffled backgrounds, flank and distance scans, cooperativity.

The submodules are imported on first use (torch and memelite/numba are slow to import).
"""
from importlib import import_module

from epizoo._lazy import submodule_getattr

#: functions reachable from the package itself (``epizoo.interpret.attribute``)
_FUNCTIONS = {"attribute": "attributions", "attribute_layer": "attributions", "attribute_regions": "regions",
              "feature_importance": "regions", "saturation_mutagenesis": "ism", "call_seqlets": "modisco",
              "tfmodisco": "modisco", "motif_report": "report", "best_matches_with_controls": "motifs",
              "global_importance": "gia", "flank_scan": "gia", "distance_scan": "gia", "cooperativity": "gia",
              "shuffled_backgrounds": "shuffles"}
_submodule = submodule_getattr(__name__)


def __getattr__(name: str):
    if name in _FUNCTIONS:
        return getattr(import_module(f"{__name__}.{_FUNCTIONS[name]}"), name)
    return _submodule(name)
