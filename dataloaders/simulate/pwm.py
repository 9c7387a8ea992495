"""The planted motifs: reading them from a MEME file, PWM scores, and drawing instances."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .config import CODE, N_CODE, PSEUDOCOUNT, check_name


@dataclass(frozen=True)
class Motif:
    """A planted motif: its MEME key, TF name and (4, width) probability matrix over ACGT."""

    key: str
    tf: str
    ppm: np.ndarray

    @property
    def width(self) -> int:
        return self.ppm.shape[1]


def load_motifs(meme_file: str | Path, names: Sequence[str]) -> dict[str, Motif]:
    """Read the motifs of ``names`` (MEME names or full keys) from a MEME file, keyed by TF.

    A name that is not a full key resolves to the first motif (in file order) whose MEME
    name (the part after the space) equals it.
    """
    from memelite.io import read_meme

    meme_file = Path(meme_file)
    if not meme_file.is_file():
        raise FileNotFoundError(f"MEME file {meme_file} does not exist. Fix: pass an existing file.")
    table = read_meme(str(meme_file))
    motifs: dict[str, Motif] = {}
    for name in names:
        key = name if name in table else next((k for k in table if k.split(" ")[-1] == name), None)
        if key is None:
            raise KeyError(
                f"motif {name!r} is not in {meme_file}. Fix: use a MOTIF name or key of that file."
            )
        tf = key.split(" ")[-1]
        check_name(tf, "TF")
        if tf in motifs:
            raise ValueError(f"TF {tf!r} is listed twice in motifs={list(names)}")
        ppm = np.asarray(table[key], dtype=np.float64)
        motifs[tf] = Motif(key, tf, ppm / ppm.sum(axis=0, keepdims=True))
    return motifs


def background_probabilities(gc: float = 0.41) -> np.ndarray:
    """P(A), P(C), P(G), P(T) of the simulated background."""
    return np.array([(1 - gc) / 2, gc / 2, gc / 2, (1 - gc) / 2])


def log_odds(ppm: np.ndarray, gc: float = 0.41, pseudocount: float = PSEUDOCOUNT) -> np.ndarray:
    """(4, width) log2 odds of a probability matrix against the background composition."""
    smoothed = (ppm + pseudocount) / (1 + 4 * pseudocount)
    return np.log2(smoothed / background_probabilities(gc)[:, None])


def information_content(ppm: np.ndarray, gc: float = 0.41) -> np.ndarray:
    """Per-position information (bits): KL divergence of each column from the background."""
    p = np.clip(ppm, 1e-12, 1.0)
    return (p * np.log2(p / background_probabilities(gc)[:, None])).sum(axis=0)


def score_sequence(sequence: str, ppm: np.ndarray, gc: float = 0.41) -> float:
    """Log-odds score of ``sequence`` (motif orientation, length = motif width) under ``ppm``."""
    codes = CODE[np.frombuffer(sequence.upper().encode("ascii"), dtype=np.uint8)]
    if len(codes) != ppm.shape[1] or (codes == N_CODE).any():
        raise ValueError(f"sequence {sequence!r} is not {ppm.shape[1]} bases of ACGT")
    return float(log_odds(ppm, gc)[codes, np.arange(len(codes))].sum())


def sample_instances(rng: np.random.Generator, ppm: np.ndarray, n: int) -> np.ndarray:
    """``n`` sequences (codes, shape (n, width)) drawn column by column from ``ppm``."""
    cumulative = np.cumsum(ppm, axis=0)[:3].T                      # (width, 3) cut points
    draws = rng.random((n, ppm.shape[1]))
    return (draws[:, :, None] >= cumulative[None]).sum(axis=2).astype(np.uint8)
