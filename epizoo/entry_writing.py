"""Writing zoo entries: templates, weights with provenance, and ``kipoi test`` expectations.

Shared by every path that produces an entry (``epizoo convert``, ``epizoo train``) and by the
maintenance of template groups (regenerating expected predictions).
"""
from __future__ import annotations

import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import h5py
import jinja2
import numpy as np

from .atomic import atomic_path
from .registry import get_model


def render_template(template: Path, values: Mapping[str, Any]) -> str:
    """Render a Kipoi template (``model-template.yaml`` ...) with one row of values.

    Uses Jinja2 as Kipoi's template groups do (kipoi/sources.py LocalComponentGroup), but fails
    on undefined variables instead of rendering them empty.
    """
    environment = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    return environment.from_string(template.read_text()).render(**values)


def copy_examples(files: Sequence[Path], target: Path) -> None:
    """Copy an entry's example inputs (what ``kipoi test`` runs on) into ``target``."""
    missing = [str(path) for path in files if not Path(path).is_file()]
    if missing:
        raise FileNotFoundError(
            f"example inputs {', '.join(missing)} are missing; they are copied into the entry for "
            "`kipoi test`; they ship with epizoo (examples/, installed as epizoo/examples). Fix: reinstall epizoo."
        )
    target.mkdir(parents=True, exist_ok=True)
    for path in files:
        shutil.copyfile(path, target / Path(path).name)


def example_predictions(model: str | Path, batch_size: int = 32) -> tuple[dict, np.ndarray]:
    """Inputs and predictions of an entry on its dataloader's ``example`` arguments.

    This is what ``kipoi test`` runs (kipoi/pipeline.py predict_example).
    """
    from kipoi_utils.utils import cd
    from kipoi_utils.data_utils import numpy_collate_concat

    kipoi_model = get_model(model)
    loader = kipoi_model.default_dataloader
    with cd(loader.source_dir):
        dataset = loader.init_example()
        batches = list(dataset.batch_iter(batch_size=batch_size))
    inputs = numpy_collate_concat([b["inputs"] for b in batches])
    preds = numpy_collate_concat([kipoi_model.predict_on_batch(b["inputs"]) for b in batches])
    return inputs, preds


def write_expect(model: str | Path, path: Path, batch_size: int = 32) -> Path:
    """Write the ``test.expect`` file of an entry: its example inputs and predictions.

    The layout is that of ``kipoi test -o`` (``inputs/<name>``, ``preds`` or ``preds/<head>``), which
    ``kipoi test`` compares against, compressed (byte shuffle + gzip) so it can be committed.
    """
    inputs, preds = example_predictions(model, batch_size)
    arrays = inputs if isinstance(inputs, Mapping) else {"input": inputs}
    with atomic_path(path) as tmp, h5py.File(tmp, "w") as handle:
        for name, array in arrays.items():
            handle.create_dataset(f"inputs/{name}", data=array, compression="gzip", compression_opts=9, shuffle=True)
        heads = preds if isinstance(preds, Mapping) else {"": preds}   # named heads: preds/<head>
        for name, array in heads.items():
            handle.create_dataset(f"preds/{name}".rstrip("/"), data=array, compression="gzip", compression_opts=9,
                                  shuffle=True)
    return Path(path)
