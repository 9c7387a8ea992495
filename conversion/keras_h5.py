"""Reading Keras HDF5 saves with h5py alone (no Keras, no Theano): where each layer's weights sit.

A full-model save (``model.save``) nests the layer groups under ``model_weights`` beside the
optimizer state; ``save_weights`` writes them at the root. Each layer group lists its datasets in
the ``weight_names`` attribute: Keras 1 names them ``<layer>_W``, Keras 2 ``<layer>/kernel`` (with
a ``:0`` suffix on TensorFlow, none on Theano, as Keras 3 writes them too).
"""
from __future__ import annotations

import h5py


def weight_groups(handle: h5py.File) -> h5py.Group:
    """The group that holds one group per layer."""
    return handle["model_weights"] if "model_weights" in handle else handle


def layer_weights(group: h5py.Group, layer: str) -> dict[str, h5py.Dataset]:
    """The datasets of ``layer`` by their names in ``weight_names`` (read lazily).

    Raises
    ------
    KeyError
        When the save has no such layer (naming the file and the layers it has).
    """
    if layer not in group:
        raise KeyError(f"no weights for layer {layer!r} in {group.file.filename} (its layers: {', '.join(group)})")
    names = [n.decode() if isinstance(n, bytes) else str(n) for n in group[layer].attrs["weight_names"]]
    return {name: group[layer][name] for name in names}


def short_name(name: str) -> str:
    """``dense_0/kernel:0`` -> ``kernel`` (the weight's own name, whatever the backend)."""
    return name.split("/")[-1].removesuffix(":0")
