"""Tables too large to load whole, stored as row-range shards that are read and checked lazily.

Avocado's genome factors are ~28 million floats per factor set over the ENCODE pilot regions
and ~100 times that for a genome; predicting one region must not read or hash all of them (as
`epizoo.weights.load_safetensors` does for an entry's ordinary weights). A sharded folder holds::

    manifest.json           {"format": "epizoo-sharded/1",
                             "tables": {name: {"rows": n, "dim": d, "dtype": "float32"}, ...},
                             "shards": [{"file": ..., "sha256": ..., "bytes": ...,
                                         "rows": {name: [first, stop], ...}}, ...],
                             "metadata": {...}}
    shard-00000.safetensors one tensor per table: that table's rows [first, stop)
    ...

An entry pins the manifest's sha256 and the manifest pins each shard's, so every byte read is
checked: `ShardedTables.rows` opens only the shards that hold the rows asked for, hashing each
the first time this process reads it, and keeps the most recently used few in memory.
"""
from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file

from .atomic import write_text
from .weights import IntegrityError, save_safetensors, sha256sum

FORMAT = "epizoo-sharded/1"
MANIFEST = "manifest.json"


def write_sharded(folder: str | Path, tables: Mapping[str, Any], blocks: Iterable[Mapping[str, tuple[int, int]]],
                  dtype: torch.dtype = torch.float32, metadata: Mapping[str, Any] | None = None) -> str:
    """Write the rows that ``blocks`` name of ``tables`` as shards, one per block (table name ->
    ``(first, stop)`` rows of it), then the manifest; return the manifest's sha256.

    ``tables`` are 2-D arrays that slice by rows (tensors, numpy arrays, h5py datasets: a block
    at a time is read). Blocks must not overlap; rows in no block are not stored (a subset of a
    table: reading them is a `RowsNotStoredError`). Each file is written atomically, the manifest last,
    so a folder with a manifest is complete.
    """
    folder = Path(folder)
    blocks = [{name: (int(a), int(b)) for name, (a, b) in block.items()} for block in blocks]
    _check_blocks(tables, blocks)
    shards = []
    for number, block in enumerate(blocks):
        name = f"shard-{number:05d}.safetensors"
        part = {table: torch.as_tensor(np.asarray(tables[table][a:b])).to(dtype) for table, (a, b) in block.items()}
        rows = {t: list(r) for t, r in block.items()}
        digest = save_safetensors(folder / name, part, {"rows": rows})
        shards.append({"file": name, "sha256": digest, "bytes": (folder / name).stat().st_size, "rows": rows})
    manifest = {"format": FORMAT, "shards": shards, "metadata": dict(metadata or {}),
                "tables": {name: {"rows": len(t), "dim": int(t.shape[1]), "dtype": str(dtype).replace("torch.", "")}
                           for name, t in tables.items()}}
    write_text(folder / MANIFEST, json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    return sha256sum(folder / MANIFEST)


def _check_blocks(tables: Mapping[str, Any], blocks: list[dict[str, tuple[int, int]]]) -> None:
    for name, table in tables.items():
        ranges = sorted(block[name] for block in blocks if name in block)
        stops = [0] + [b for _, b in ranges]
        if any(a >= b or a < stop for (a, b), stop in zip(ranges, stops)) or (ranges and ranges[-1][1] > len(table)):
            raise ValueError(f"the shards' rows of table {name!r} ({ranges}) must be non-empty, within its "
                             f"{len(table)} rows and stored once")


class RowsNotStoredError(ValueError):
    """Rows a sharded folder does not hold (outside the table, or in a part of it not stored)."""


class ShardedTables:
    """Row access to a sharded folder (see the module docstring).

    Parameters
    ----------
    manifest
        The folder's ``manifest.json``.
    sha256
        Its expected sha256 (None only for a folder this process just wrote).
    max_open
        Shards kept in memory at once.
    """

    def __init__(self, manifest: str | Path, sha256: str | None, max_open: int = 8) -> None:
        self.manifest = Path(manifest)
        if sha256 is not None and sha256sum(self.manifest) != sha256:
            raise IntegrityError(f"{self.manifest} has sha256 {sha256sum(self.manifest)}, expected {sha256}: the "
                                 "shards' manifest is corrupt or not the one this entry was made with. Fix: restore it")
        content = json.loads(self.manifest.read_text())
        if content.get("format") != FORMAT:
            raise ValueError(f"{self.manifest} is not an {FORMAT} manifest")
        self.tables: dict[str, dict] = content["tables"]
        self.shards: list[dict] = content["shards"]
        self.metadata: dict = content.get("metadata", {})
        self.max_open = max_open
        self._open: OrderedDict[str, dict[str, torch.Tensor]] = OrderedDict()
        self._verified: set[str] = set()
        self._ranges = {name: self._index(name) for name in self.tables}

    def _index(self, name: str) -> tuple[np.ndarray, np.ndarray, list[int]]:
        """Sorted first rows, stop rows and shard numbers of table ``name``."""
        order = sorted((shard["rows"][name][0], shard["rows"][name][1], k)
                       for k, shard in enumerate(self.shards) if name in shard["rows"])
        return (np.array([o[0] for o in order], dtype=np.int64), np.array([o[1] for o in order], dtype=np.int64),
                [o[2] for o in order])

    def n_rows(self, name: str) -> int:
        """Rows of table ``name`` (stored or not)."""
        return int(self.tables[name]["rows"])

    def rows(self, name: str, index: np.ndarray | torch.Tensor) -> torch.Tensor:
        """Rows ``index`` of table ``name``, float32, ``(*index.shape, dim)``.

        Raises
        ------
        RowsNotStoredError
            For a row that no shard holds, naming the table and the rows stored.
        """
        index = np.asarray(index.cpu() if torch.is_tensor(index) else index, dtype=np.int64)
        flat = index.ravel()
        firsts, stops, numbers = self._ranges[name]
        slot = np.searchsorted(firsts, flat, side="right") - 1
        outside = (slot < 0) | (flat >= stops[np.clip(slot, 0, None)]) if len(firsts) else np.ones(len(flat), bool)
        if outside.any():
            held = ", ".join(f"{a}-{b - 1}" for a, b in zip(firsts, stops))
            raise RowsNotStoredError(f"row {int(flat[outside][0])} of {name!r} is not stored in "
                                     f"{self.manifest.parent.name}/ (its shards hold rows {held or 'none'} of "
                                     f"{self.n_rows(name)})")
        out = torch.empty((len(flat), int(self.tables[name]["dim"])), dtype=torch.float32)
        for shard in np.unique(slot):
            chosen = np.flatnonzero(slot == shard)
            table = self._shard(numbers[shard])[name]
            out[torch.from_numpy(chosen)] = table[torch.from_numpy(flat[chosen] - firsts[shard])].float()
        return out.reshape(*index.shape, -1)

    def table(self, name: str) -> torch.Tensor:
        """The whole table ``name``, float32 (reads every shard that holds it)."""
        return self.rows(name, np.arange(self.n_rows(name)))

    def _shard(self, number: int) -> dict[str, torch.Tensor]:
        shard = self.shards[number]
        if shard["file"] in self._open:
            self._open.move_to_end(shard["file"])
            return self._open[shard["file"]]
        path = self.manifest.parent / shard["file"]
        if shard["file"] not in self._verified:
            if not path.is_file():
                raise FileNotFoundError(f"{path} is missing: {MANIFEST} lists it. Fix: restore the folder's shards")
            if sha256sum(path) != shard["sha256"]:
                raise IntegrityError(f"{path} has not the sha256 {MANIFEST} gives ({shard['sha256']}): a corrupt "
                                     "shard. Fix: restore it")
            self._verified.add(shard["file"])
        self._open[shard["file"]] = load_file(str(path))
        while len(self._open) > self.max_open:
            self._open.popitem(last=False)
        return self._open[shard["file"]]
