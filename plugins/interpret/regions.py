"""Attributions of a zoo entry on the regions of a BED file, through the entry's own dataloader.

`attribute_regions` builds each batch of inputs with the entry's dataloader (its FASTA window,
tracks and feature vectors, as for prediction), explains one output value per region with
`attribute`, and returns the attributions of every float input with the regions' coordinates.
The task may be named; one-hot correction follows each sequence input's declared channel axis.
"""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from epizoo.progress import progress

from .attributions import attribute


def attribute_regions(
    entry: str | Path,
    intervals_file: str | Path,
    fasta_file: str | Path,
    dataloader_args: Mapping[str, Any] | None = None,
    method: str = "input_x_gradient",
    target: int | str = 0,
    output: str | None = None,
    batch_size: int = 64,
    device: str | None = None,
    verbose: bool = False,
) -> dict[str, np.ndarray]:
    """``{input name: attributions, chrom, start, end}`` for every region of ``intervals_file``.

    Parameters
    ----------
    entry
        A zoo name or entry folder.
    intervals_file, fasta_file, dataloader_args
        The entry's dataloader arguments: the regions, the genome and its other inputs.
    method, output, batch_size, device, verbose
        As in `epizoo.plugins.interpret.attributions.attribute`.
    target
        The task, by index or by name.
    """
    from epizoo.registry import get_contract, get_model

    kipoi_model = get_model(entry)
    dataset = kipoi_model.default_dataloader(intervals_file=str(intervals_file), fasta_file=str(fasta_file),
                                             **dict(dataloader_args or {}))
    contract = get_contract(entry, dataset.input_specs())
    name = output if output is not None else next(iter(contract.outputs))
    head = None if contract.structure == "tensor" else name  # a lone output is not indexed
    spec = contract.outputs[name]
    if isinstance(target, str) and target not in spec.tasks:
        raise ValueError(f"{entry} has no task {target!r}; its tasks are {', '.join(spec.tasks)}")
    task = spec.tasks.index(target) if isinstance(target, str) else int(target)
    corrected = {name: (1 if s.channels_first else -1) for name, s in contract.inputs.items() if s.kind == "sequence"}
    parts: dict[str, list[np.ndarray]] = {}
    batches = progress(dataset.batch_iter(batch_size=batch_size), quiet=not verbose,
                       total=-(-len(dataset) // batch_size), unit="batch")
    for batch in batches:
        scores = attribute(kipoi_model.model, batch["inputs"], method, target=task, output=head,
                           bins_axis=1 + spec.axes.index("bins") if spec.is_profile else 1,
                           sequence_inputs=corrected, batch_size=batch_size, device=device)
        for name, values in scores.items():
            parts.setdefault(name, []).append(values.numpy())
    regions = {"chrom": dataset.chroms.astype(str), "start": dataset.starts, "end": dataset.ends}
    return {name: np.concatenate(values) for name, values in parts.items()} | regions
