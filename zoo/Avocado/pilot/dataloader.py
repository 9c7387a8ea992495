"""This entry's dataloader: Avocado's `AvocadoBins` whose cell types, assays and layout default to
the entry's own ``celltypes.txt``, ``assays.txt`` and ``layout.bed``, so that imputing a track needs
only the regions, the cell type and the assay. ``epizoo train avocado`` and ``epizoo convert avocado``
copy this file into each entry as ``dataloader.py``; its dataloader.yaml names it
``dataloader.py::AvocadoBins`` (loaded by file, so that two entries' files never share a module).
"""
from pathlib import Path

from epizoo.zoo.Avocado import dataloader

# Kipoi executes this file in the entry's folder without setting __file__
ENTRY_DIR = Path(globals().get("__file__") or Path.cwd() / "dataloader.py").resolve().parent


class AvocadoBins(dataloader.AvocadoBins):
    """`epizoo.zoo.Avocado.dataloader.AvocadoBins` with this entry's files as defaults."""

    entry_dir = ENTRY_DIR
