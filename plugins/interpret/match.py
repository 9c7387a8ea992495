"""Each first-layer filter's best match in a motif database (Novakovsky et al. 2021's table), with
the share of its column-shuffled copies that match as well (`best_matches_with_controls`)."""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

from epizoo.dataloaders.motifs import MotifLike, to_probabilities

from .filters import filter_pfms
from .motifs import best_matches_with_controls


def match_filters(
    model: nn.Module,
    X: torch.Tensor | np.ndarray,
    layer: str,
    database: Mapping[str, MotifLike] | str | Path,
    width: int | None = None,
    threshold: float = 0.5,
    conv: str | None = None,
    min_sites: int = 1,
    pseudocount: float = 0.0,
    n_controls: int = 20,
    batch_size: int = 256,
    device: str | None = None,
    verbose: bool = False,
    **tomtom_options: Any,
) -> pd.DataFrame:
    """Each first-layer filter's motif (`filter_pfms`) and its best Tomtom match in ``database``.

    Parameters
    ----------
    model, X, layer, width, threshold, conv, batch_size, device, verbose
        As for `epizoo.plugins.interpret.filters.filter_pfms`.
    database : mapping of str to numpy.ndarray or Motif, or path
        The motif database, or its MEME file.
    min_sites : int
        Filters with fewer sites are not matched.
    pseudocount : float
        Added to each filter's counts before they become letter probabilities.
    n_controls : int
        Column-shuffled copies of each filter matched as controls.
    **tomtom_options
        Passed to `epizoo.plugins.interpret.motifs.best_matches_with_controls` (``q_threshold``,
        ``reverse_complement``, ``n_jobs``, memelite's options).

    Returns
    -------
    pandas.DataFrame
        One row per filter, in channel order: ``filter``, ``n_sites``, ``max_activation``, and the
        best match's ``target``, ``target_alt``, ``p_value``, ``e_value``, ``q_value``, ``score``,
        ``offset``, ``overlap``, ``strand``, ``matched``, ``control_rate``, ``n_controls`` (NaN
        for a filter with fewer than ``min_sites`` sites). The q-value is over the filter's
        p-values against the whole database.
    """
    found = filter_pfms(model, X, layer, width=width, threshold=threshold, conv=conv, batch_size=batch_size,
                        device=device, verbose=verbose)
    queries = {name: to_probabilities(pfm, pseudocount) for name, pfm in found.motifs(min_sites).items()}
    best = best_matches_with_controls(queries, database, n_controls=n_controls, **tomtom_options)
    best = best.rename(columns={"query": "filter"})
    filters = pd.DataFrame({"filter": found.names, "n_sites": found.n_sites,
                            "max_activation": found.max_activations})
    return filters.merge(best, on="filter", how="left")
