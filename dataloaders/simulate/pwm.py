"""The planted motifs (`epizoo.dataloaders.motifs.Motif`): choosing them, PWM scores, drawing instances."""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from epizoo.dataloaders.motifs import Motif, read_meme, to_probabilities

from .config import CODE, N_CODE, PSEUDOCOUNT, check_name


def load_motifs(meme_file: str | Path, names: Sequence[str]) -> dict[str, Motif]:
    """Read the motifs of ``names`` from a MEME file, keyed by TF, as probabilities.

    A name is a full ``MOTIF`` header (``"CTCF_f2 CTCF"``) or a TF: the alternate name of the
    first motif (in file order) that has it. The TF is a motif's alternate name (else its name).
    """
    meme_file = Path(meme_file)
    if not meme_file.is_file():
        raise FileNotFoundError(f"MEME file {meme_file} does not exist. Fix: pass an existing file.")
    table = {motif.header: motif for motif in read_meme(meme_file).values()}
    motifs: dict[str, Motif] = {}
    for name in names:
        header = name if name in table else next((h for h in table if h.split(" ")[-1] == name), None)
        if header is None:
            raise KeyError(
                f"motif {name!r} is not in {meme_file}. Fix: use a MOTIF name or key of that file."
            )
        motif = table[header]
        tf = motif.alt or motif.name
        check_name(tf, "TF")
        if tf in motifs:
            raise ValueError(f"TF {tf!r} is listed twice in motifs={list(names)}")
        motifs[tf] = Motif(motif.name, motif.alt, to_probabilities(motif.probabilities))
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
