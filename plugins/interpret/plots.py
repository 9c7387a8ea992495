"""Figures of attributions, motifs and mutagenesis: sequence logos (logomaker), heat maps, tracks.

Every function draws on a matplotlib axis (a new figure when none is given); `save_figure` writes
it as PNG, SVG or PDF by the file's suffix, atomically. Matrices are ``(4, width)`` over A, C, G,
T, as motifs are elsewhere in epizoo (`epizoo.dataloaders.motifs`).
"""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: no display is needed or assumed

import logomaker  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib import pyplot as plt  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from epizoo.atomic import atomic_path  # noqa: E402
from epizoo.dataloaders.motifs import ALPHABET, to_probabilities  # noqa: E402

FORMATS = (".png", ".svg", ".pdf")


def logo(matrix: np.ndarray, ax: Axes | None = None, first: int = 0, title: str | None = None) -> Axes:
    """A sequence logo of a ``(4, width)`` matrix: attributions (letters above and below zero) or
    a motif's letter heights.

    Parameters
    ----------
    matrix
        Rows A, C, G, T; one column per position.
    ax
        Where to draw; default a new figure's axis.
    first
        The coordinate of the first column (the x axis is labelled from it).
    title
        The axis title.
    """
    matrix = np.asarray(matrix, dtype=np.float64)
    if matrix.ndim != 2 or matrix.shape[0] != len(ALPHABET):
        raise ValueError(f"a logo is drawn from a (4, width) matrix, got shape {matrix.shape}")
    ax = ax if ax is not None else plt.figure(figsize=(max(4.0, matrix.shape[1] / 8), 2)).add_subplot()
    frame = pd.DataFrame(matrix.T, columns=list(ALPHABET), index=np.arange(first, first + matrix.shape[1]))
    logomaker.Logo(frame, ax=ax, color_scheme="classic")
    ax.axhline(0, color="black", linewidth=0.5)
    ax.ticklabel_format(axis="x", useOffset=False, style="plain")  # genome coordinates as they are
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    if title:
        ax.set_title(title, fontsize=9)
    return ax


def information_logo(probabilities: np.ndarray, ax: Axes | None = None, title: str | None = None) -> Axes:
    """The logo of a motif's letter probabilities scaled by each column's information (bits)."""
    p = to_probabilities(probabilities)
    bits = 2 + (p * np.log2(np.where(p > 0, p, 1))).sum(axis=0)
    ax = logo(p * bits, ax=ax, title=title)
    ax.set_ylim(0, 2)
    ax.set_ylabel("bits")
    return ax


def ism_heatmap(effects: np.ndarray, ax: Axes | None = None, first: int = 0, title: str | None = None) -> Axes:
    """A heat map of ``(positions, 4)`` saturation-mutagenesis effects (rows A, C, G, T), centred on 0."""
    effects = np.asarray(effects, dtype=np.float64).T
    ax = ax if ax is not None else plt.figure(figsize=(max(4.0, effects.shape[1] / 8), 1.6)).add_subplot()
    limit = float(np.abs(effects).max()) or 1.0
    image = ax.imshow(effects, aspect="auto", cmap="RdBu_r", vmin=-limit, vmax=limit, interpolation="nearest",
                      extent=(first - 0.5, first + effects.shape[1] - 0.5, 3.5, -0.5))
    ax.set_yticks(range(4), list(ALPHABET))
    ax.figure.colorbar(image, ax=ax, fraction=0.03, pad=0.01)
    if title:
        ax.set_title(title, fontsize=9)
    return ax


def attribution_figure(contributions: np.ndarray, tracks: Mapping[str, np.ndarray] | None = None,
                       first: int = 0, title: str | None = None) -> Figure:
    """The logo of a sequence's ``(4, width)`` contributions above one panel per named track
    (a DNase track's input and its attributions, per base), sharing the positions."""
    tracks = dict(tracks or {})
    figure, axes = plt.subplots(1 + len(tracks), 1, sharex=True, squeeze=False,
                                figsize=(max(6.0, contributions.shape[1] / 10), 2 + 1.1 * len(tracks)),
                                gridspec_kw={"height_ratios": [2] + [1] * len(tracks)})
    logo(contributions, ax=axes[0, 0], first=first, title=title)
    axes[0, 0].set_ylabel("sequence")
    positions = np.arange(first, first + contributions.shape[1])
    for ax, (name, values) in zip(axes[1:, 0], tracks.items()):
        ax.fill_between(positions, np.asarray(values, dtype=np.float64), step="mid", color="tab:gray")
        ax.set_ylabel(name, rotation=0, ha="right", fontsize=8)
    axes[-1, 0].set_xlabel("position")
    axes[-1, 0].set_xlim(first - 0.5, first + contributions.shape[1] - 0.5)
    figure.tight_layout()
    return figure


def save_figure(figure: Figure, path: str | Path, dpi: int = 150) -> Path:
    """Write ``figure`` to ``path`` (PNG, SVG or PDF, by its suffix), atomically, and close it."""
    path = Path(path)
    if path.suffix.lower() not in FORMATS:
        raise ValueError(f"{path}: a figure is saved as {', '.join(FORMATS)}")
    with atomic_path(path) as tmp:
        figure.savefig(tmp, format=path.suffix.lower().lstrip("."), dpi=dpi, bbox_inches="tight")
    plt.close(figure)
    return path


def strongest_window(contributions: np.ndarray, width: int) -> tuple[int, int]:
    """``(first, stop)`` of ``width`` positions of ``(4, length)`` contributions centred on their
    strongest 10-bp stretch (largest total absolute value), kept inside the sequence."""
    per_position = np.abs(np.asarray(contributions)).sum(axis=0)
    width = min(width, len(per_position))
    smoothed = np.convolve(per_position, np.ones(min(10, width)), mode="same")
    first = int(np.clip(int(np.argmax(smoothed)) - width // 2, 0, len(per_position) - width))
    return first, first + width


def columns(values: np.ndarray, channels_axis: int) -> np.ndarray:
    """``(channels, length)`` of one example of a batch whose channels are on ``channels_axis``
    (1: ``(n, channels, length)``, -1: ``(n, length, channels)``)."""
    example_axis = channels_axis - 1 if channels_axis > 0 else channels_axis
    return np.moveaxis(np.asarray(values), example_axis, 0)


def plot_strongest_region(arrays: Mapping[str, np.ndarray], path: str | Path, width: int = 100,
                          title: str | None = None) -> str:
    """Draw, from `attribute_regions`' arrays, the region with the largest total absolute
    attribution (or ISM effect) with `plot_region`. Returns it as ``chrom:start-end``."""
    return plot_region(arrays, int(strongest_regions(arrays)[0]), path, width, title)


def strongest_regions(arrays: Mapping[str, np.ndarray]) -> np.ndarray:
    """The regions' indices, the largest total absolute attribution (or ISM effect) first."""
    name, _ = _sequence_input(arrays)
    values = arrays[f"ism.{name}"] if f"ism.{name}" in arrays else arrays[name]
    return np.argsort(-np.abs(values).reshape(len(values), -1).sum(axis=1), kind="stable")


def plot_region(arrays: Mapping[str, np.ndarray], index: int, path: str | Path, width: int = 100,
                title: str | None = None) -> str:
    """Draw region ``index`` of `attribute_regions`' arrays around its strongest ``width`` positions:
    the logo of its sequence's contributions above each track channel's input and attribution, or
    for ISM a logo of the observed bases above the heat map of every substitution. Returns the
    window drawn as ``chrom:start-end``."""
    name, axis = _sequence_input(arrays)
    if f"ism.{name}" in arrays:
        return _plot_ism_region(arrays, index, name, axis, path, width, title)
    values, given = columns(arrays[name][index], axis), columns(arrays[f"input.{name}"][index], axis)
    first, stop = strongest_window(values[:4], width)
    names = [str(t) for t in arrays.get(f"tracks.{name}", [])]
    tracks = {}
    for channel in range(4, len(values)):
        label = names[channel - 4] if channel - 4 < len(names) else f"track {channel - 3}"
        tracks[label] = given[channel, first:stop]
        tracks[f"{label}\nattribution"] = values[channel, first:stop]
    start = int(arrays["start"][index])
    region = f"{arrays['chrom'][index]}:{start + first}-{start + stop}"
    save_figure(attribution_figure(values[:4, first:stop], tracks, first=start + first,
                                   title=f"{title or name}: {region}"), path)
    return region


def _sequence_input(arrays: Mapping[str, np.ndarray]) -> tuple[str, int]:
    """The first sequence input of the arrays, and its channel axis."""
    sequences = [key.split(".", 1)[1] for key in arrays if key.startswith("channels_axis.")]
    drawable = [name for name in sequences if name in arrays or f"ism.{name}" in arrays]
    if not drawable:
        raise ValueError("the attributions hold no sequence input to draw")
    if len(arrays["start"]) == 0:
        raise ValueError("there are no regions to draw")
    return drawable[0], int(arrays[f"channels_axis.{drawable[0]}"])


def _plot_ism_region(arrays: Mapping[str, np.ndarray], best: int, name: str, axis: int, path: str | Path,
                     width: int, title: str | None) -> str:
    """A region's mutagenesis: each observed base's logo height is minus the mean effect of
    replacing it, above the heat map of every substitution."""
    effects, (offset, _) = arrays[f"ism.{name}"], arrays[f"ism_positions.{name}"][0]
    first, stop = strongest_window(effects[best].T, width)
    bases = columns(arrays[f"input.{name}"][best], axis)[:4, offset + first:offset + stop]
    importance = -effects[best, first:stop].sum(axis=1) / 3  # identities are 0
    start = int(arrays["start"][best]) + int(offset) + first
    figure, (top, bottom) = plt.subplots(2, 1, sharex=True, figsize=(max(6.0, (stop - first) / 10), 3.6),
                                         gridspec_kw={"height_ratios": [1.3, 1]})
    region = f"{arrays['chrom'][best]}:{start}-{start + stop - first}"
    logo(bases * importance, ax=top, first=start, title=f"{title or name}: {region}")
    ism_heatmap(effects[best, first:stop], ax=bottom, first=start)
    bottom.set_xlabel("position")
    bottom.set_xlim(start - 0.5, start + stop - first - 0.5)
    figure.tight_layout()
    save_figure(figure, path)
    return region
