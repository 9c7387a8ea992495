"""Avocado's deep tensor factorisation (Schreiber, Durham, Bilmes & Noble 2020; spec
``seed_004_avocado.md`` §2).

The signal of a (cell type, assay, 25-bp genomic position) triplet is predicted from learned
factors of each axis: a cell-type factor (32 by default), an assay factor (256) and genome
factors of the position at three scales, 25 bp, 250 bp and 5 kbp (25, 40 and 45). The five are
concatenated (398 values; no element-wise product, so each axis has its own size) and passed
through dense ReLU layers (2 x 2,048) to one linear output, the arcsinh-transformed -log10
p-value. Position ``p`` reads row ``p`` of the 25-bp table, ``p // 10`` of the 250-bp and
``p // 200`` of the 5-kbp table, whose sizes are the authors' ``n // 10 + 1`` and ``n // 200 + 1``
(spec §1.2). Embeddings start uniform in [-0.5, 0.5], dense layers Glorot-uniform (§4.4).

The genome factors are trainable parameters (`GenomeFactors`) while a model is trained, and in a
zoo entry they are read lazily from checksummed shards (`StoredGenomeFactors`, which an entry's
``weights.tables`` attaches), since they are far larger than the rest: ~33 million floats over the
ENCODE pilot regions, 3.4 billion over hg19.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import torch
from torch import nn

if TYPE_CHECKING:
    from epizoo.sharded import ShardedTables

__all__ = ["Avocado", "DotProduct", "GenomeFactors", "StoredGenomeFactors", "PositionError", "SCALES", "table_rows"]

#: the genome factors' scales, in 25-bp positions (25 bp, 250 bp, 5 kbp), and their tables' names
SCALES = {"genome_25bp": 1, "genome_250bp": 10, "genome_5kbp": 200}


def table_rows(n_positions: int, scale: int) -> int:
    """Rows of the genome table of ``scale`` for ``n_positions`` 25-bp positions (the authors' sizes)."""
    return n_positions if scale == 1 else n_positions // scale + 1


class PositionError(ValueError):
    """A position the model has no genome factors for (or whose factors the entry does not ship)."""


def _sizes(factors: Sequence[int]) -> dict[str, int]:
    """The tables' sizes by name, for the scales that have factors."""
    if len(factors) != len(SCALES) or min(factors) < 0 or not sum(factors):
        raise ValueError(f"genome_factors: {len(SCALES)} sizes (25 bp, 250 bp, 5 kbp), not {list(factors)}")
    return {name: int(size) for name, size in zip(SCALES, factors) if size}


class _ScaledTables(nn.Module):
    """Factors of ``n_positions`` 25-bp positions at the scales of `SCALES` (``tables``: one module
    per scale that has factors, mapping rows to their factors), concatenated 25 bp first."""

    tables: nn.ModuleDict

    def __init__(self, n_positions: int) -> None:
        super().__init__()
        self.n_positions = n_positions

    def forward(self, position: torch.Tensor) -> torch.Tensor:
        self._check(position)
        return torch.cat([table(position // SCALES[name]) for name, table in self.tables.items()], dim=-1)

    def _check(self, position: torch.Tensor) -> None:
        if not position.numel():
            return
        low, high = (int(v) for v in torch.aminmax(position))  # one synchronisation on a GPU
        if low < 0 or high >= self.n_positions:
            raise PositionError(f"position {high if high >= self.n_positions else low} is outside the model's "
                                f"genome factors (positions 0 to {self.n_positions - 1})")


class GenomeFactors(_ScaledTables):
    """Trainable genome factors (a scale of ``factors`` 0 has no table: ``(110, 0, 0)`` is a
    single-scale model), initialised uniform in [-0.5, 0.5]."""

    def __init__(self, n_positions: int, factors: Sequence[int] = (25, 40, 45)) -> None:
        super().__init__(n_positions)
        self.tables = nn.ModuleDict({name: nn.Embedding(table_rows(n_positions, SCALES[name]), size)
                                     for name, size in _sizes(factors).items()})
        for table in self.tables.values():
            nn.init.uniform_(table.weight, -0.5, 0.5)


class StoredTable(nn.Module):
    """Rows of one table of an `epizoo.sharded.ShardedTables` (attached after construction), as a
    module, so that attributions can hook each scale's output as they hook an embedding's."""

    def __init__(self, name: str, embedding_dim: int) -> None:
        super().__init__()
        self.name, self.embedding_dim, self.store = name, embedding_dim, None

    def forward(self, rows: torch.Tensor) -> torch.Tensor:
        if self.store is None:
            raise RuntimeError(f"the genome factors ({self.name}) are not attached: an Avocado entry names their "
                               "shards under weights.tables in model.yaml (load it with kipoi or epizoo.get_model)")
        return self.store.rows(self.name, rows).to(rows.device)


class StoredGenomeFactors(_ScaledTables):
    """The genome factors of a zoo entry, read from its shards (`attach`); an entry that ships a
    subset of them (``metadata.stored`` of the shards' manifest) refuses positions outside it."""

    def __init__(self, n_positions: int, factors: Sequence[int] = (25, 40, 45)) -> None:
        super().__init__(n_positions)
        self.tables = nn.ModuleDict({name: StoredTable(name, size) for name, size in _sizes(factors).items()})
        self.stored: tuple[int, int] | None = None
        self.regenerate = ""

    def attach(self, tables: ShardedTables) -> None:
        """Serve the factors from ``tables`` (an `epizoo.sharded.ShardedTables`)."""
        for name, table in self.tables.items():
            expected = table_rows(self.n_positions, SCALES[name])
            if name not in tables.tables or tables.n_rows(name) != expected or \
                    tables.tables[name]["dim"] != table.embedding_dim:
                raise ValueError(f"{tables.manifest}: its table {name} is not the {expected} x {table.embedding_dim} "
                                 f"that the model's {self.n_positions} positions need")
            table.store = tables
        self.stored = tuple(tables.metadata.get("stored") or (0, self.n_positions))
        self.regenerate = tables.metadata.get("regenerate", "")

    def _check(self, position: torch.Tensor) -> None:
        super()._check(position)
        first, stop = self.stored or (0, self.n_positions)
        if position.numel() and (first, stop) != (0, self.n_positions):
            low, high = (int(v) for v in torch.aminmax(position))
            if low < first or high >= stop:
                raise PositionError(f"position {low if low < first else high}'s genome factors are not shipped with "
                                    f"this entry: it stores positions {first} to {stop - 1} of {self.n_positions}. Fix: "
                                    f"keep to them, or regenerate the whole entry ({self.regenerate or 'see its README'})")


def genome_module(n_positions: int, factors: Sequence[int], genome: str) -> _ScaledTables:
    """The genome factors of an architecture: trainable (``"parameters"``) or an entry's (``"stored"``)."""
    kinds = {"parameters": GenomeFactors, "stored": StoredGenomeFactors}
    if genome not in kinds:
        raise ValueError(f"genome must be one of {', '.join(kinds)}, not {genome!r}")
    return kinds[genome](n_positions, factors)


class Avocado(nn.Module):
    """Avocado: ``forward(celltype, assay, position)`` -> ``(batch, 1)`` imputed arcsinh signal.

    Parameters
    ----------
    n_celltypes, n_assays
        Rows of the cell-type and assay factor tables.
    n_positions
        25-bp positions with genome factors.
    celltype_factors, assay_factors, genome_factors
        Factor sizes (the paper's 32, 256 and 25/40/45 by default).
    n_layers, n_nodes
        Dense ReLU layers and their width (2 x 2,048).
    dropout
        Dropout after each dense layer (the paper says it helps but gives no rate; the authors'
        code has none: 0 by default).
    genome
        ``"parameters"`` (trainable tables) or ``"stored"`` (a zoo entry's shards).
    """

    def __init__(self, n_celltypes: int, n_assays: int, n_positions: int, celltype_factors: int = 32,
                 assay_factors: int = 256, genome_factors: Sequence[int] = (25, 40, 45), n_layers: int = 2,
                 n_nodes: int = 2048, dropout: float = 0.0, genome: str = "parameters") -> None:
        super().__init__()
        self.celltype_embedding = nn.Embedding(n_celltypes, celltype_factors)
        self.assay_embedding = nn.Embedding(n_assays, assay_factors)
        for table in (self.celltype_embedding, self.assay_embedding):
            nn.init.uniform_(table.weight, -0.5, 0.5)
        factors = tuple(genome_factors)
        self.genome = genome_module(n_positions, factors, genome)
        layers: list[nn.Module] = []
        width = celltype_factors + assay_factors + sum(factors)
        for _ in range(n_layers):
            layers += [nn.Linear(width, n_nodes), nn.ReLU()] + ([nn.Dropout(dropout)] if dropout else [])
            width = n_nodes
        self.dense = nn.Sequential(*layers)
        self.output = nn.Linear(width, 1)
        for module in [*self.dense, self.output]:
            if isinstance(module, nn.Linear):
                nn.init.xavier_uniform_(module.weight)
                nn.init.zeros_(module.bias)

    def forward(self, celltype: torch.Tensor, assay: torch.Tensor, position: torch.Tensor) -> torch.Tensor:
        factors = torch.cat([self.celltype_embedding(celltype), self.assay_embedding(assay), self.genome(position)], -1)
        return self.output(self.dense(factors))

    def latent(self, position: torch.Tensor) -> torch.Tensor:
        """The genome factors of ``position``: ``(batch, 110)``, 25-bp then 250-bp then 5-kbp."""
        return self.genome(position)


class DotProduct(nn.Module):
    """A PREDICTD-like baseline (Durham et al. 2018; spec §2.1): the signal as the generalised dot
    product of a cell-type, an assay and a 25-bp genome factor vector of ``factors`` values each,
    plus a bias of each axis, ``forward(celltype, assay, position)`` -> ``(batch, 1)``. Its genome
    factors are stored as Avocado's are (one table of ``factors + 1`` values per position)."""

    def __init__(self, n_celltypes: int, n_assays: int, n_positions: int, factors: int = 32,
                 genome: str = "parameters") -> None:
        super().__init__()
        self.factors = factors
        self.celltype_embedding = nn.Embedding(n_celltypes, factors + 1)
        self.assay_embedding = nn.Embedding(n_assays, factors + 1)
        for table in (self.celltype_embedding, self.assay_embedding):
            nn.init.uniform_(table.weight, -0.5, 0.5)
        self.genome = genome_module(n_positions, (factors + 1, 0, 0), genome)

    def forward(self, celltype: torch.Tensor, assay: torch.Tensor, position: torch.Tensor) -> torch.Tensor:
        c, a, g = self.celltype_embedding(celltype), self.assay_embedding(assay), self.genome(position)
        k = self.factors
        return ((c[:, :k] * a[:, :k] * g[:, :k]).sum(-1) + c[:, k] + a[:, k] + g[:, k])[:, None]

