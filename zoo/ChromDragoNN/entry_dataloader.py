"""This entry's dataloader: ChromDragoNN's `CellTypeBins` whose TF list and mean-accessibility track
default to the entry's own ``tfs.txt`` and ``mean_accessibility.bw``, so that a prediction needs only
the regions, the genome, an expression table and the cell type. ``epizoo train chromdragonn`` copies
this file into each stage-2 entry as ``dataloader.py``; its dataloader.yaml names it
``dataloader.py::CellTypeBins`` (loaded by file, so that two entries' files never share a module).
"""
from pathlib import Path

from epizoo.zoo.ChromDragoNN import dataloader

# Kipoi executes this file in the entry's folder without setting __file__
ENTRY_DIR = Path(globals().get("__file__") or Path.cwd() / "dataloader.py").resolve().parent


class CellTypeBins(dataloader.CellTypeBins):
    """`epizoo.zoo.ChromDragoNN.dataloader.CellTypeBins` with this entry's files as defaults."""

    entry_dir = ENTRY_DIR
