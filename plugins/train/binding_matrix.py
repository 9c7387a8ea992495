"""A TF x region binding matrix with its region sequences (Novakovsky et al. 2021's data form).

The authors publish a binary matrix over 200-bp DHS regions (rows) and TFs (columns) in two
variants, with 1 = bound, 0 = not bound and -1 = unresolved (spec ``seed_001_transfer.md``
§1.5): ``sparse`` for individual (single-task) models and ``less_sparse`` for multi-models.
The sequences come as a FASTA whose records are the regions, in row order
(``>region_index::chrom:start-end``). `BindingMatrix` reads both, checks that they agree
record by record, and serves them as a `Genome` whose contigs are the regions, so that training
builds its inputs with the zoo entry's own dataloader (the trainer's convention). It also
builds the paper's datasets: a multi-model's fully resolved regions (§1.6) and an individual
model's GC-matched 50:50 sample (§1.6).
"""
from __future__ import annotations

import gzip
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from epizoo.dataloaders.files import is_gzip
from epizoo.dataloaders.genome import Genome

from epizoo.atomic import atomic_path
from epizoo.cache import cache_file_for

from .samplers import RandomState, as_generator, gc_matched

VARIANTS = ("sparse", "less_sparse")
LABEL_KEYS = ("sparse", "less_sparse", "tfs", "region_index", "chrom", "start", "end")


@dataclass
class BindingMatrix:
    """Labels and sequences of the regions.

    Attributes
    ----------
    labels
        ``{"sparse": (n_regions, n_tfs) int8, "less_sparse": ...}``: 1, 0, or -1 (unresolved).
    tfs
        Column names.
    regions
        ``region_index, chrom, start, end, contig, gc, has_n`` per row: ``contig`` is the record's
        name in the sequence FASTA, ``gc`` its G+C fraction, ``has_n`` whether it holds an N.
    fasta
        The sequences as an indexable FASTA (a decompressed copy in the cache when the given
        file is plain gzip).
    """

    labels: dict[str, np.ndarray]
    tfs: list[str]
    regions: pd.DataFrame
    fasta: Path
    source: str = ""

    def genome(self) -> Genome:
        """The sequences as a `Genome`: one contig per region."""
        return Genome(self.fasta)

    def column(self, tf: str, variant: str = "sparse") -> np.ndarray:
        """One TF's labels (1, 0, -1) over all regions."""
        if variant not in VARIANTS:
            raise ValueError(f"label variant {variant!r} is not one of {', '.join(VARIANTS)}")
        return self.labels[variant][:, self.tf_index(tf)]

    def tf_index(self, tf: str) -> int:
        if tf not in self.tfs:
            raise KeyError(f"{self.source}: no TF {tf!r} in the matrix (it has {len(self.tfs)}, e.g. {', '.join(self.tfs[:5])})")
        return self.tfs.index(tf)

    def usable_rows(self, chroms: list[str] | None = None, exclude: np.ndarray | None = None) -> np.ndarray:
        """Rows on ``chroms`` (all when empty), without N (the paper discards them, §1.1) and
        not among the region indices ``exclude`` (e.g. a pre-trained model's regions)."""
        keep = ~self.regions["has_n"].to_numpy()
        if chroms:
            keep &= self.regions["chrom"].isin(chroms).to_numpy()
        if exclude is not None and len(exclude):
            keep &= ~np.isin(self.regions["region_index"].to_numpy(), exclude)
        return np.flatnonzero(keep)

    def resolved_rows(self, tfs: list[str], variant: str, rows: np.ndarray, every: bool = True) -> np.ndarray:
        """The ``rows`` where every TF of ``tfs`` is resolved (a multi-model's regions, §1.6),
        or with ``every=False`` at least one."""
        resolved = self.labels[variant][np.ix_(rows, [self.tf_index(tf) for tf in tfs])] >= 0
        return rows[resolved.all(axis=1) if every else resolved.any(axis=1)]

    def balanced_rows(self, tf: str, rows: np.ndarray, rng: RandomState, max_positives: int | None = None
                      ) -> tuple[np.ndarray, np.ndarray]:
        """An individual model's sample (§1.6): the TF's bound ``rows`` (at most
        ``max_positives``, drawn at random: the paper's down-sampling) and as many unbound ones,
        GC-matched in 10 bins. Returns (rows, 0/1 targets), positives first; empty without
        positives."""
        labels = self.column(tf, "sparse")[rows]
        positives, negatives = rows[labels == 1], rows[labels == 0]
        generator = as_generator(rng)
        if not len(positives):
            return positives, np.zeros(0, np.float32)
        if max_positives is not None and len(positives) > max_positives:
            positives = np.sort(generator.choice(positives, max_positives, replace=False))
        gc = self.regions["gc"].to_numpy()
        chosen = negatives[gc_matched(gc[negatives], gc[positives], len(positives), generator)]
        targets = np.r_[np.ones(len(positives)), np.zeros(len(chosen))].astype(np.float32)
        return np.r_[positives, chosen], targets


def load_binding_matrix(labels: str | Path, sequences: str | Path) -> BindingMatrix:
    """Read ``labels.npz`` and the region FASTA, checking that they describe the same regions.

    Parameters
    ----------
    labels
        ``np.savez`` archive (read with ``allow_pickle=False``) with ``sparse`` and
        ``less_sparse`` int8 ``(n_regions, n_tfs)`` arrays (1, 0, -1), ``tfs``, and per region
        ``region_index``, ``chrom``, ``start``, ``end``.
    sequences
        FASTA of the regions in row order, plain, gzip or bgzip, with headers
        ``>region_index::chrom:start-end`` (``bedtools getfasta -name``) or ``>chrom:start-end``.
    """
    labels, sequences = Path(labels), Path(sequences)
    with np.load(labels, allow_pickle=False) as archive:
        missing = [k for k in LABEL_KEYS if k not in archive.files]
        if missing:
            raise ValueError(f"{labels} lacks {', '.join(missing)}; expected keys {', '.join(LABEL_KEYS)}")
        arrays = {k: archive[k] for k in LABEL_KEYS}
    regions = pd.DataFrame({k: arrays[k] for k in ("region_index", "chrom", "start", "end")})
    names, gc, has_n = _read_records(sequences, len(regions))
    _check_headers(names, regions, sequences)
    regions["contig"], regions["gc"], regions["has_n"] = names, gc, has_n
    return BindingMatrix(
        labels={v: arrays[v].astype(np.int8) for v in VARIANTS},
        tfs=[str(t) for t in arrays["tfs"]],
        regions=regions,
        fasta=_indexable(sequences),
        source=str(labels),
    )


def _read_records(path: Path, expected: int) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Record names, G+C fractions and N flags of a FASTA (any case)."""
    opener = gzip.open if is_gzip(path) else open
    names, chunks = [], []
    with opener(path, "rb") as handle:
        for line in handle:
            if line.startswith(b">"):
                names.append(line[1:].split()[0].decode())
                chunks.append([])
            elif chunks:
                chunks[-1].append(line.strip())
    if len(names) != expected:
        raise ValueError(f"{path} has {len(names)} records but the labels have {expected} regions; "
                         "give the sequence file that matches the label file")
    gc, has_n = np.empty(len(names)), np.zeros(len(names), bool)
    for i, chunk in enumerate(chunks):
        sequence = b"".join(chunk).upper()
        acgt = sum(sequence.count(base) for base in b"ACGT")
        gc[i] = (sequence.count(b"G") + sequence.count(b"C")) / acgt if acgt else np.nan
        has_n[i] = acgt < len(sequence)
    return names, gc, has_n


def _check_headers(names: list[str], regions: pd.DataFrame, path: Path) -> None:
    """Each record's ``[index::]chrom:start-end`` must be its label row's region."""
    expected = (regions["chrom"].astype(str) + ":" + regions["start"].astype(str) + "-" + regions["end"].astype(str)).to_numpy()
    found = np.array([name.rpartition("::")[2] for name in names], dtype=object)
    bad = np.flatnonzero(found != expected)
    if len(bad):
        i = int(bad[0])
        raise ValueError(f"{path}, record {i + 1} ({names[i]!r}) is not the region of label row {i} "
                         f"({expected[i]}); the sequences must be in the label file's row order")


def _indexable(path: Path) -> Path:
    """``path`` itself when pysam can index it (plain or bgzip); else a plain copy in the cache."""
    if not is_gzip(path) or _is_bgzip(path):
        return path
    copy = cache_file_for(path, "sequences", ".fa")
    if not copy.exists():
        copy.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(copy) as tmp, gzip.open(path, "rb") as source, open(tmp, "wb") as target:
            while block := source.read(1 << 22):
                target.write(block)
    return copy


def _is_bgzip(path: Path) -> bool:
    """bgzip blocks carry the ``BC`` extra subfield (SAM spec §4.1)."""
    with open(path, "rb") as handle:
        header = handle.read(16)
    return len(header) >= 14 and header[3] & 4 and header[12:14] == b"BC"


def region_runs(region_index: np.ndarray) -> list[list[int]]:
    """Sorted region indices as ``[first, last]`` runs (compact provenance of a model's regions)."""
    values = np.unique(np.asarray(region_index, dtype=np.int64))
    if not len(values):
        return []
    breaks = np.flatnonzero(np.diff(values) != 1)
    starts, ends = np.r_[values[0], values[breaks + 1]], np.r_[values[breaks], values[-1]]
    return [[int(a), int(b)] for a, b in zip(starts, ends)]


def runs_to_indices(runs: list[list[int]]) -> np.ndarray:
    """Inverse of `region_runs`."""
    if not runs:
        return np.empty(0, np.int64)
    return np.concatenate([np.arange(a, b + 1, dtype=np.int64) for a, b in runs])
