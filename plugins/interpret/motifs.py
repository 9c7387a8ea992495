"""Matching motifs to a database with Tomtom (memelite). Motifs and MEME files live in
`epizoo.dataloaders.motifs`.

`tomtom_matches` runs memelite's Tomtom, which compares letter-probability matrices column by
column with the negated Euclidean distance (MEME Tomtom's ``-dist ed``; MEME's default is
Pearson correlation), over every offset of the two motifs (overhangs score the median of the
query column's scores) and, by default, also against each target's reverse complement (the two
strands' p-values merged as ``1 - (1 - p)**2``). The p-value is that of the best alignment, from a
background built from all the target columns: a database of fewer than ~50 motifs gives unstable
p-values (memelite warns below 25).
"""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from memelite import tomtom

from epizoo.dataloaders.motifs import Motif, MotifLike, matrix_of, read_meme, to_probabilities

MATCH_COLUMNS = ["query", "target", "target_alt", "p_value", "e_value", "q_value", "score", "offset",
                 "overlap", "strand"]


def benjamini_hochberg(p_values: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg q-values of a vector of p-values.

    The q-value of the p-value ranked ``k`` (ascending) of ``n`` is
    ``min(1, min over j >= k of p_(j) * n / j)``.
    """
    p_values = np.asarray(p_values, dtype=np.float64)
    n = p_values.size
    order = np.argsort(p_values, kind="stable")
    ranked = p_values[order] * n / np.arange(1, n + 1)
    q_values = np.empty(n)
    q_values[order] = np.minimum(np.minimum.accumulate(ranked[::-1])[::-1], 1.0)
    return q_values


def _matrices(motifs: Mapping[str, MotifLike]) -> list[np.ndarray]:
    """The motifs as float64 letter probabilities, for memelite (one compiled signature)."""
    return [to_probabilities(matrix_of(motif)) for motif in motifs.values()]


def _targets(database: Mapping[str, MotifLike] | str | Path) -> Mapping[str, MotifLike]:
    """The database's motifs, read from its MEME file when given a path."""
    targets = read_meme(database) if isinstance(database, (str, Path)) else database
    if not targets:
        raise ValueError("the motif database holds no motifs")
    return targets


def _match_frame(queries: Mapping[str, MotifLike], targets: Mapping[str, MotifLike], p_values: np.ndarray,
                 scores: np.ndarray, offsets: np.ndarray, overlaps: np.ndarray, strands: np.ndarray) -> pd.DataFrame:
    """One row per (query, target) pair, the q-values computed per query over all targets."""
    n_queries, n_targets = p_values.shape
    alts = [motif.alt if isinstance(motif, Motif) else None for motif in targets.values()]
    return pd.DataFrame({
        "query": np.repeat(list(queries), n_targets),
        "target": np.tile(np.array(list(targets), dtype=object), n_queries),
        "target_alt": np.tile(np.array(alts, dtype=object), n_queries),
        "p_value": p_values.ravel(),
        "e_value": p_values.ravel() * n_targets,
        "q_value": np.concatenate([benjamini_hochberg(row) for row in p_values]),
        "score": scores.ravel(),
        "offset": offsets.ravel().astype(np.int64),
        "overlap": overlaps.ravel().astype(np.int64),
        "strand": np.where(strands.ravel() > 0, "-", "+"),
    })


def tomtom_matches(
    queries: Mapping[str, MotifLike],
    database: Mapping[str, MotifLike] | str | Path,
    n_best: int | None = None,
    reverse_complement: bool = True,
    n_jobs: int = -1,
    **options: Any,
) -> pd.DataFrame:
    """Match query motifs to a motif database with Tomtom (memelite), with q-values.

    Parameters
    ----------
    queries : mapping of str to numpy.ndarray or Motif
        ``(4, width)`` counts or probabilities by name.
    database : mapping of str to numpy.ndarray or Motif, or path
        The target motifs, or a MEME file of them (`read_meme`).
    n_best : int, optional
        Keep each query's ``n_best`` best matches (by p-value); by default every target.
    reverse_complement : bool
        Also match each target's reverse complement.
    n_jobs : int
        Threads for memelite (-1: all numba threads).
    **options
        Passed to ``memelite.tomtom`` (``n_score_bins``, ``n_median_bins``, ``n_target_bins``,
        ``n_cache``).

    Returns
    -------
    pandas.DataFrame
        Columns ``query``, ``target``, ``target_alt`` (None for a plain matrix), ``p_value``,
        ``e_value`` (p-value times the number of targets), ``q_value``, ``score`` (memelite's
        integerised alignment score), ``offset`` (the target column, 0-based and in the matched
        strand's orientation, aligned with the query's first column: negative when the query
        starts before the target), ``overlap`` (aligned columns) and ``strand`` (``-``: the target's reverse complement),
        sorted by query (in input order) then p-value.

    Notes
    -----
    The q-values are Benjamini-Hochberg's over each query's p-values against every target of
    the database (one p-value per target, the strands merged), as MEME Tomtom estimates them
    "from all the match p-values" of a query; they are computed before ``n_best`` truncates.
    memelite warns when the database holds fewer than 25 motifs: its p-values' background is
    built from the target columns.
    """
    targets = _targets(database)
    if not queries:
        return pd.DataFrame({column: [] for column in MATCH_COLUMNS})
    p_values, scores, offsets, overlaps, strands = tomtom(
        _matrices(queries), _matrices(targets), reverse_complement=reverse_complement, n_jobs=n_jobs, **options)
    frame = _match_frame(queries, targets, p_values, scores, offsets, overlaps, strands)
    frame["rank"] = np.repeat(np.arange(len(queries)), len(targets))
    frame = frame.sort_values(["rank", "p_value", "score"], ascending=[True, True, False], kind="stable")
    if n_best is not None:
        frame = frame.groupby("rank", sort=False).head(n_best)
    return frame.drop(columns="rank").reset_index(drop=True)


def column_shuffled(motif: MotifLike, n: int, rng: np.random.Generator) -> list[np.ndarray]:
    """``n`` copies of a motif with its columns in random order: the same letters, no motif."""
    matrix = to_probabilities(matrix_of(motif))
    return [matrix[:, rng.permutation(matrix.shape[1])] for _ in range(n)]


def best_matches_with_controls(
    queries: Mapping[str, MotifLike],
    database: Mapping[str, MotifLike] | str | Path,
    n_controls: int = 20,
    q_threshold: float = 0.05,
    seed: int = 0,
    **tomtom_options: Any,
) -> pd.DataFrame:
    """Each query's best Tomtom match, and how often its column-shuffled copies match as well.

    memelite's Tomtom scores columns by Euclidean distance, and random motifs often reach small
    q-values against a large database (about a quarter of random filters reach q < 0.05 against
    HOCOMOCO v9). Each query is therefore matched alongside ``n_controls`` copies of itself with
    its columns shuffled; the share of copies whose best match reaches ``q_threshold`` says how
    far the query's own q-value can be read as evidence.

    Parameters
    ----------
    queries, database, tomtom_options
        As for `tomtom_matches`.
    n_controls
        Shuffled copies per query.
    q_threshold
        A match counts when its q-value is below it.
    seed
        Seed of the column shuffles (query ``i``'s copies are drawn from ``default_rng([seed, i])``).

    Returns
    -------
    pandas.DataFrame
        One row per query, in input order: the best match's columns of `tomtom_matches`,
        ``matched`` (its q-value is below ``q_threshold``), ``control_rate`` (the share of the
        query's shuffled copies whose best match is below it) and ``n_controls``.
    """
    if not queries:
        return pd.DataFrame({column: [] for column in [*MATCH_COLUMNS, "matched", "control_rate", "n_controls"]})
    # query i's copies come from its own stream: they do not depend on the other queries
    controls = {f"{name}#control{k}": matrix for i, (name, motif) in enumerate(queries.items())
                for k, matrix in enumerate(column_shuffled(motif, n_controls, np.random.default_rng([seed, i])))}
    best = tomtom_matches({**queries, **controls}, database, n_best=1, **tomtom_options)
    is_control = best["query"].str.contains("#control", regex=False)
    own = best[~is_control].reset_index(drop=True)
    hits = best[is_control].assign(query=lambda f: f["query"].str.split("#control").str[0])
    rate = (hits["q_value"] < q_threshold).groupby(hits["query"]).mean()
    return own.assign(matched=own["q_value"] < q_threshold,
                      control_rate=own["query"].map(rate).to_numpy(),
                      n_controls=n_controls)
