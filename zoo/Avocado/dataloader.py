"""Avocado's dataloader: every 25-bp bin of a BED's regions, for one cell type and one assay.

Each sample is one bin: its ``position`` in the model's index space, and the indices of the named
``celltype`` and ``assay`` in the model's tables (without them, only the position: the latent-factor
entries). The BED's coordinates are mapped to positions through the model's layout
(`epizoo.dataloaders.positions.PositionLayout`, ``layout_file``: the BED of the regions whose bins
the model has factors for, in index order); a model whose regions are not known in coordinates
(the ENCODE pilot arrays) has the index layout, one pseudo-chromosome ``positions`` on which
``positions 2500 5000`` means positions 100 to 199. A region outside the layout, and a cell type or
assay the model does not know, are errors naming the file and the fix.
"""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import numpy as np
from kipoi.data import Dataset

from epizoo.dataloaders.descriptions import OwnDescription
from epizoo.dataloaders.files import read_names, sample
from epizoo.dataloaders.intervals import read_bed
from epizoo.dataloaders.positions import PositionLayout


def name_index(name: str, names: list[str], what: str, path: str | Path) -> int:
    """The row of ``name`` in the model's ``names``, or an error listing them."""
    if name not in names:
        raise KeyError(f"the model has no {what} {name!r} ({Path(path).name}: {', '.join(names[:30])}"
                       f"{' ...' if len(names) > 30 else ''}). Fix: name one of them, or fit the new {what}'s "
                       f"factors first (epizoo train avocado with model.fit: {what.replace(' ', '')}s)")
    return names.index(name)


class AvocadoBins(OwnDescription, Dataset):
    """The 25-bp bins of a BED's regions as Avocado inputs (see the module docstring).

    Parameters
    ----------
    intervals_file
        BED3+ of regions in the layout's coordinates.
    celltype, assay
        The track to impute (None for the genome factors alone).
    celltypes_file, assays_file
        The model's cell types and assays, one per line, in its order (default: the entry's own
        ``celltypes.txt`` and ``assays.txt``).
    layout_file
        BED of the model's regions in index order (default: the entry's ``layout.bed``).
    """

    #: the folder of the entry whose files are the defaults (set by an entry's own dataloader.py)
    entry_dir: ClassVar[Path | None] = None

    def __init__(self, intervals_file: str | Path, celltype: str | None = None, assay: str | None = None,
                 celltypes_file: str | Path | None = None, assays_file: str | Path | None = None,
                 layout_file: str | Path | None = None) -> None:
        self.layout = self._layout(layout_file)
        self.intervals_file = Path(intervals_file)
        regions = read_bed(intervals_file)
        per_region = self.layout.positions(regions, str(intervals_file))
        self.positions = np.concatenate(per_region) if per_region else np.zeros(0, np.int64)
        self.region = np.repeat(np.arange(len(regions)), [len(p) for p in per_region])
        self.names = regions["name"].astype(str).to_numpy() if "name" in regions else None
        self.indices = {}
        if (celltype is None) != (assay is None):
            raise ValueError("give both celltype and assay (the track to impute), or neither (the genome factors)")
        if celltype is not None:
            for key, value, file, default in (("celltype", celltype, celltypes_file, "celltypes.txt"),
                                              ("assay", assay, assays_file, "assays.txt")):
                path = self._default(file, default, f"{key}s_file")
                self.indices[key] = name_index(str(value), read_names(path), key.replace("celltype", "cell type"), path)

    def _layout(self, given: str | Path | None) -> PositionLayout:
        """The layout given (it must have as many bins as the entry's own), or the entry's."""
        layout = PositionLayout.from_bed(self._default(given, "layout.bed", "layout_file"))
        own = self.entry_dir / "layout.bed" if self.entry_dir is not None else None
        if given is not None and own is not None and own.is_file():
            expected = PositionLayout.from_bed(own).n_positions
            if layout.n_positions != expected:
                raise ValueError(f"{given} has {layout.n_positions} bins of 25 bp, the model {expected} positions: give "
                                 "the BED of the regions it was fitted on, in the order of its positions")
        return layout

    def _default(self, given: str | Path | None, name: str, argument: str) -> Path:
        if given is not None:
            return Path(given)
        if self.entry_dir is None or not (self.entry_dir / name).is_file():
            raise ValueError(f"{argument} is needed: this dataloader belongs to no entry with its own {name}")
        return self.entry_dir / name

    def __len__(self) -> int:
        return len(self.positions)

    def __getitem__(self, index: int) -> dict:
        return sample(self._batch(np.array([index])))

    def batch_iter(self, batch_size: int = 32, shuffle: bool = False, num_workers: int = 0,
                   drop_last: bool = False, **kwargs) -> Iterator[dict]:
        """Batches in BED order, built whole; shuffling or worker processes use Kipoi's path."""
        if shuffle or num_workers:
            return super().batch_iter(batch_size, shuffle, num_workers, drop_last, **kwargs)
        stop = len(self) - (len(self) % batch_size if drop_last else 0)
        if stop == 0:
            return iter([self._batch(np.arange(0))])
        return (self._batch(np.arange(i, min(i + batch_size, stop))) for i in range(0, stop, batch_size))

    def _batch(self, rows: np.ndarray) -> dict:
        positions = self.positions[rows]
        inputs = {key: np.full(len(rows), value, dtype=np.int64) for key, value in self.indices.items()}
        inputs["position"] = positions
        chroms, starts, ends = self.layout.locate(positions)
        ids = (self.names[self.region[rows]] if self.names is not None
               else np.array([f"{c}:{s}-{e}" for c, s, e in zip(chroms, starts, ends)]))
        ranges = {"chr": chroms.astype(str), "start": starts, "end": ends, "id": ids.astype(str),
                  "strand": np.full(len(rows), "*")}
        return {"inputs": inputs, "metadata": {"ranges": ranges, "region": self.region[rows]}}


#: an entry's own dataloader.py (`AvocadoBins` with the entry's files as defaults)
ENTRY_DATALOADER = Path(__file__).resolve().parent / "entry_dataloader.py"
