"""DNA motifs as matrices, and MEME motif files (read with memelite, written by us).

A motif is a ``(4, width)`` matrix over A, C, G, T, either counts (a position frequency matrix)
or letter probabilities; the functions normalise counts to probabilities themselves. The one
motif type and MEME reader of epizoo: the simulator plants these motifs, the interpretation
plugin writes and matches them (`epizoo.plugins.interpret.motifs`).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from memelite.io import read_meme as _memelite_read_meme

from epizoo.atomic import write_text

ALPHABET = "ACGT"
MEME_HEADER = ("MEME version 4\n\nALPHABET= ACGT\n\nstrands: + -\n\n"
               "Background letter frequencies\nA 0.25 C 0.25 G 0.25 T 0.25\n\n")


@dataclass(frozen=True)
class Motif:
    """A motif of a MEME file: its name, its alternate name and its letter probabilities.

    Attributes
    ----------
    name : str
        The identifier (first field of the ``MOTIF`` line), e.g. ``CEBPB_f1``.
    alt : str or None
        The alternate name (the rest of the ``MOTIF`` line), e.g. ``CEBPB``.
    probabilities : numpy.ndarray
        ``(4, width)`` letter probabilities, rows A, C, G, T.
    """

    name: str
    alt: str | None
    probabilities: np.ndarray

    @property
    def width(self) -> int:
        """The number of columns."""
        return self.probabilities.shape[-1]

    @property
    def header(self) -> str:
        """The ``MOTIF`` line's fields: the name, then the alternate name when there is one."""
        return f"{self.name} {self.alt}" if self.alt else self.name


MotifLike = np.ndarray | Motif


def to_probabilities(counts: np.ndarray, pseudocount: float = 0.0) -> np.ndarray:
    """Column-normalised letter probabilities of a ``(4, width)`` count matrix.

    Parameters
    ----------
    counts : numpy.ndarray
        ``(4, width)`` counts (or probabilities, which come back unchanged when
        ``pseudocount`` is 0).
    pseudocount : float
        Added to every count before normalising.

    Returns
    -------
    numpy.ndarray
        ``(4, width)`` float64 columns summing to 1; a column with no counts is uniform.
    """
    counts = np.asarray(counts, dtype=np.float64)
    if counts.ndim != 2 or counts.shape[0] != len(ALPHABET):
        raise ValueError(f"a motif must be a (4, width) matrix, got shape {counts.shape}")
    if (counts < 0).any() or pseudocount < 0:
        raise ValueError("motif counts and the pseudocount must not be negative")
    counts = counts + pseudocount
    totals = counts.sum(axis=0, keepdims=True)
    uniform = np.full_like(counts, 1 / len(ALPHABET))
    return np.divide(counts, totals, out=uniform, where=totals > 0)


def matrix_of(motif: MotifLike) -> np.ndarray:
    """The ``(4, width)`` matrix of a motif or a bare matrix."""
    return motif.probabilities if isinstance(motif, Motif) else motif


def read_meme(path: str | Path) -> dict[str, Motif]:
    """The motifs of a MEME file (version 4, DNA), by name, read with memelite.

    Parameters
    ----------
    path : str or pathlib.Path
        A MEME motif file, e.g. HOCOMOCO's or JASPAR's.

    Returns
    -------
    dict of str to Motif
        In file order, keyed by each ``MOTIF`` line's first field; the rest of that line is the
        alternate name.
    """
    motifs = {}
    for header, matrix in _memelite_read_meme(str(path)).items():
        name, _, alt = header.partition(" ")
        if name in motifs:
            raise ValueError(f"{path}: motif {name!r} occurs more than once")
        motifs[name] = Motif(name, alt or None, np.ascontiguousarray(matrix, dtype=np.float64))
    return motifs


def _meme_motif(name: str, alt: str | None, probabilities: np.ndarray, nsites: int) -> str:
    header = f"MOTIF {name} {alt}" if alt else f"MOTIF {name}"
    rows = "".join(" ".join(f"{p:.6f}" for p in column) + "\n" for column in probabilities.T)
    return (f"{header}\n"
            f"letter-probability matrix: alength= 4 w= {probabilities.shape[1]} nsites= {nsites} E= 0\n"
            f"{rows}\n")


def meme_text(
    motifs: Mapping[str, MotifLike],
    nsites: Mapping[str, int] | None = None,
    pseudocount: float = 0.0,
) -> str:
    """MEME (version 4) text of ``motifs``; see `write_meme`."""
    parts = [MEME_HEADER]
    for name, motif in motifs.items():
        if not name or len(name.split()) != 1 or name != name.strip():
            raise ValueError(f"a motif name must be one word, got {name!r}")
        matrix = np.asarray(matrix_of(motif), dtype=np.float64)
        sites = (nsites or {}).get(name, round(float(matrix.sum(axis=0).max())) if matrix.size else 0)
        alt = motif.alt if isinstance(motif, Motif) else None
        parts.append(_meme_motif(name, alt, to_probabilities(matrix, pseudocount), sites))
    return "".join(parts)


def write_meme(
    path: str | Path,
    motifs: Mapping[str, MotifLike],
    nsites: Mapping[str, int] | None = None,
    pseudocount: float = 0.0,
) -> None:
    """Write ``motifs`` to a MEME (version 4, DNA, both strands, uniform background) file.

    The file is written atomically (`epizoo.atomic.write_text`).

    Parameters
    ----------
    path : str or pathlib.Path
        The file to write.
    motifs : mapping of str to numpy.ndarray or Motif
        ``(4, width)`` counts or probabilities by motif name (one word); a `Motif` keeps its
        alternate name.
    nsites : mapping of str to int, optional
        The ``nsites=`` of each motif; by default its largest column sum, rounded (the number of
        sites of a count matrix, 1 for probabilities).
    pseudocount : float
        Added to every count before column-normalising.
    """
    write_text(path, meme_text(motifs, nsites, pseudocount))
