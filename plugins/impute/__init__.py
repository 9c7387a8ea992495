"""Imputation with position-indexed entries (Avocado): a track's signal, or the genome factors,
in every 25-bp bin of a BED's regions, as a table or a bigWig.

`factor_attributions` splits each imputed value between the model's components (cell type,
assay and the three genome scales) by integrated gradients over their factors (spec §5).

All go through the entry's own dataloader (`epizoo.zoo.Avocado.dataloader.AvocadoBins`: the
regions mapped to positions through the entry's layout, the cell type and assay to their rows)
and `epizoo.predict`, as ``kipoi predict`` does, so the three agree to the last bit.
"""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd



def impute(entry: str | Path, intervals_file: str | Path, celltype: str, assay: str,
           dataloader_args: Mapping[str, Any] | None = None, batch_size: int = 40_000,
           device: str | None = None, precision: str = "float32", verbose: bool = False) -> pd.DataFrame:
    """The imputed signal of ``celltype``'s ``assay`` in every bin of the regions.

    Parameters
    ----------
    entry
        A zoo name or entry folder (an Avocado imputation entry).
    intervals_file
        BED of regions in the entry's layout coordinates.
    celltype, assay
        The track, by the names the entry knows (its ``celltypes.txt`` and ``assays.txt``).
    dataloader_args
        Other arguments of the entry's dataloader (``layout_file``, ...).
    batch_size, device, verbose
        As in `epizoo.predict`.
    precision
        ``float32``, or ``bf16`` / ``fp16`` autocast (`epizoo.predict`'s ``dtype``): on a CPU with
        bfloat16 instructions about twice the bins per second, to ~1e-2 of the float32 values
        (benchmarks/bench_avocado.py).

    Returns
    -------
    pandas.DataFrame
        ``chrom, start, end, region, position, value`` per bin, in BED order (``region``: the
        bin's row of the BED; ``value``: arcsinh(-log10 p)).
    """
    network, dataset = _entry_dataset(entry, intervals_file, dataloader_args, celltype=celltype, assay=assay)
    return _bins_table(dataset, network, ["value"], batch_size, device, verbose, precision)


def genome_factors(entry: str | Path, intervals_file: str | Path, dataloader_args: Mapping[str, Any] | None = None,
                   batch_size: int = 40_000, device: str | None = None, verbose: bool = False) -> pd.DataFrame:
    """The genome factors (Avocado's latent representation of the genome, spec §2.3: 110 values
    at the paper's sizes) of every bin of the regions: ``chrom, start, end, region, position``
    and one column per factor (``f25_0`` ... at 25 bp, ``f250_*`` at 250 bp, ``f5k_*`` at 5 kbp)."""
    network, dataset = _entry_dataset(entry, intervals_file, dataloader_args)
    columns = [f"f{name[len('genome_'):].removesuffix('bp')}_{k}" for name, table in network.genome.tables.items()
               for k in range(table.embedding_dim)]
    return _bins_table(dataset, network.genome, columns, batch_size, device, verbose)


def factor_attributions(entry: str | Path, intervals_file: str | Path, celltype: str, assay: str,
                        dataloader_args: Mapping[str, Any] | None = None, n_steps: int = 50, batch_size: int = 4_096,
                        device: str | None = None) -> pd.DataFrame:
    """`impute`'s table with each value split between the components: integrated gradients over
    the factors of the cell type, the assay and each genome scale, from all-zero factors (spec
    §5; the paper gives no baseline or step count: zeros and 50 Gauss-Legendre steps here).

    Returns
    -------
    pandas.DataFrame
        `impute`'s columns, ``reference`` (the value with every factor zero) and one column per
        component (``celltype``, ``assay``, ``genome_25bp``, ...) whose sum is ``value -
        reference`` (to the integration's accuracy).
    """
    import torch

    from epizoo.plugins.interpret.attributions import attribute_layer

    network, dataset = _entry_dataset(entry, intervals_file, dataloader_args, celltype=celltype, assay=assay)
    if not hasattr(network, "dense"):
        raise ValueError(f"{entry}: factor attributions split the value of Avocado's dense network, which "
                         f"{type(network).__name__} has not")
    table = _bins_table(dataset, network, ["value"], batch_size, device, False)
    layers = {"celltype": "celltype_embedding", "assay": "assay_embedding",
              **{name: f"genome.tables.{name}" for name in network.genome.tables}}
    inputs = {key: np.full(len(table), dataset.indices[key]) for key in ("celltype", "assay")}
    scores = attribute_layer(network, inputs | {"position": table["position"].to_numpy()}, list(layers.values()),
                             "integrated_gradients", n_steps=n_steps, batch_size=batch_size, device=device)
    with torch.no_grad():
        zeros = torch.zeros(1, network.dense[0].in_features, device=next(network.parameters()).device)
        table["reference"] = float(network.output(network.dense(zeros)).cpu())
    for column, layer in layers.items():
        table[column] = scores[layer].sum(dim=1).numpy()
    return table


def _entry_dataset(entry: str | Path, intervals_file: str | Path, dataloader_args: Mapping[str, Any] | None,
                   **names: str):
    """An entry's network and its own dataloader on the regions (and the named cell type and assay)."""
    from epizoo.registry import get_model

    kipoi_model = get_model(entry)
    return kipoi_model.model, kipoi_model.default_dataloader(intervals_file=str(intervals_file), **names,
                                                             **dict(dataloader_args or {}))


def _bins_table(dataset, module, columns: list[str], batch_size: int, device, verbose: bool,
                precision: str = "float32") -> pd.DataFrame:
    """Every bin of ``dataset`` with ``module``'s outputs on its inputs (``forward``'s arguments by
    name: the network's, or the genome factors' position alone) as ``columns``."""
    import inspect

    from epizoo.prediction import predict
    from epizoo.progress import progress

    takes = [name for name in inspect.signature(module.forward).parameters]
    parts = []
    for batch in progress(dataset.batch_iter(batch_size=batch_size), quiet=not verbose,
                          total=-(-len(dataset) // batch_size), unit="batch"):
        ranges, inputs = batch["metadata"]["ranges"], batch["inputs"]
        outputs = predict(module, {name: inputs[name] for name in takes}, batch_size=batch_size, device=device,
                          dtype=precision)
        parts.append(pd.concat([pd.DataFrame({"chrom": ranges["chr"], "start": ranges["start"], "end": ranges["end"],
                                              "region": batch["metadata"]["region"], "position": inputs["position"]}),
                                pd.DataFrame(outputs.numpy(), columns=columns)], axis=1))
    return pd.concat(parts, ignore_index=True)


def write_bigwig(path: str | Path, bins: pd.DataFrame, chrom_sizes: Mapping[str, int], column: str = "value") -> Path:
    """Write one value per bin (``chrom, start, end`` and ``column`` of `impute`'s table) as a
    bigWig (atomically). Bins that several regions share are written once; the header lists
    ``chrom_sizes`` in their order.

    Raises
    ------
    ValueError
        For a bin on a chromosome that ``chrom_sizes`` lacks, or past its end.
    """
    from epizoo.dataloaders.tracks import write_bigwig as write_intervals

    order = {chrom: k for k, chrom in enumerate(chrom_sizes)}
    unknown = sorted(set(bins["chrom"]) - set(order))
    if unknown:
        raise ValueError(f"bins on {', '.join(unknown)}, which the bigWig's chromosome sizes lack")
    rows = bins.assign(_order=bins["chrom"].map(order)).sort_values(["_order", "start"]).drop_duplicates(["chrom", "start"])
    past = rows[rows["end"].to_numpy() > rows["chrom"].map(chrom_sizes).to_numpy()]
    if len(past):
        raise ValueError(f"bin {past.iloc[0]['chrom']}:{past.iloc[0]['start']}-{past.iloc[0]['end']} lies past its "
                         "chromosome's end")
    intervals = {str(chrom): (part["start"].to_numpy(np.int64).tolist(), part["end"].to_numpy(np.int64).tolist(),
                              part[column].to_numpy(np.float64).tolist())
                 for chrom, part in rows.groupby("chrom", sort=False)}
    return write_intervals(path, chrom_sizes, intervals)
