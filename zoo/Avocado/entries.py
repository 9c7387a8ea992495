"""What every Avocado entry holds besides its network, whether trained (`epizoo train avocado`) or
converted (`epizoo convert avocado`): the genome factors as checksummed shards, the names of its
cell types and assays in table order, its layout, its own dataloader and ``kipoi test``'s regions."""
from __future__ import annotations

from pathlib import Path

import torch

from epizoo.atomic import write_text
from epizoo.dataloaders.positions import PositionLayout
from epizoo.entry_writing import render_template
from epizoo.sharded import write_sharded

from .architecture import SCALES, table_rows
from .dataloader import ENTRY_DATALOADER

HERE = Path(__file__).resolve().parent
#: positions per shard of the stored genome factors (a multiple of 200, the coarsest scale): 7.5 MB at the paper's sizes
SHARD_POSITIONS = 64_000


def write_genome_factors(folder: Path, tables: dict, n_positions: int, positions: tuple[int, int] | None = None,
                         dtype: torch.dtype = torch.float32, metadata: dict | None = None) -> str:
    """Write Avocado's genome tables as shards of `SHARD_POSITIONS` positions, each holding its
    positions' rows at every scale.

    Parameters
    ----------
    folder
        The shards' folder (``genome_factors/`` of an entry).
    tables
        Table name (`SCALES`) -> its rows: any 2-D array that slices (a tensor, an h5py dataset).
    n_positions
        The model's positions.
    positions
        ``(first, stop)``: store only the shards that hold these positions (whole shards: the
        manifest's ``metadata.stored`` says which positions are stored). Default: all.
    dtype, metadata
        The stored precision, and more metadata for the manifest.

    Returns
    -------
    str
        The manifest's sha256.
    """
    first, stop = positions or (0, n_positions)
    starts = range(first - first % SHARD_POSITIONS, stop, SHARD_POSITIONS)
    blocks = []
    for a in starts:
        b = min(a + SHARD_POSITIONS, n_positions)
        blocks.append({name: (a // scale, b // scale if b < n_positions else table_rows(n_positions, scale))
                       for name, scale in SCALES.items() if name in tables})
    stored = [starts[0], min(starts[-1] + SHARD_POSITIONS, n_positions)] if len(starts) else [0, 0]
    return write_sharded(folder, tables, blocks, dtype, {"n_positions": n_positions, "stored": stored,
                                                         **(metadata or {})})


def write_entry_files(folder: Path, layout: PositionLayout, names: dict[str, list[str]]) -> dict[str, Path]:
    """Write ``celltypes.txt``, ``assays.txt``, ``layout.bed``, the entry's ``dataloader.py`` and
    ``example_files/regions.bed`` into ``folder``; return them by their names in an entry."""
    for key in ("celltypes", "assays"):
        write_text(folder / f"{key}.txt", "\n".join(names[key]) + "\n")
    write_text(folder / "layout.bed", "".join(f"{c}\t{s}\t{e}\n" for c, s, e in zip(layout.chroms, layout.starts,
                                                                                     layout.ends)))
    write_text(folder / "dataloader.py", ENTRY_DATALOADER.read_text())
    chrom, start = layout.chroms[0], int(layout.starts[0])  # two stretches of the first region: 40 bins
    write_text(folder / "example_files" / "regions.bed",
               f"{chrom}\t{start}\t{start + 500}\n{chrom}\t{start + 5000}\t{start + 5500}\n")
    return {name: folder / name for name in ("celltypes.txt", "assays.txt", "layout.bed", "dataloader.py")}


def dataloader_yaml(celltype: str, assay: str, layout: PositionLayout) -> str:
    """The entry's dataloader.yaml: its own dataloader.py, with ``celltype`` and ``assay`` as examples."""
    return render_template(HERE / "dataloader.yaml.j2", {"celltype": celltype, "assay": assay,
                                                         "index_layout": layout.chroms[0] == "positions"})
