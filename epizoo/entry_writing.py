"""Writing zoo entries: templates, weights with provenance, and ``kipoi test`` expectations.

Shared by every path that produces an entry (``epizoo convert``, ``epizoo train``) and by the
maintenance of template groups (regenerating expected predictions).
"""
from __future__ import annotations

import re
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import h5py
import jinja2
import numpy as np
import yaml

from .atomic import atomic_path, write_text
from .objects import load_object
from .registry import get_model
from .weights import save_safetensors


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


def install_weights(entry: str | Path, state: Mapping[str, Any], metadata: Mapping[str, Any] | None = None) -> str:
    """Make ``state`` (a network's state dict) an entry's weights: ``weights.safetensors`` with the
    architecture's config from model.yaml (``args.config``) and ``metadata`` as provenance, its
    sha256 written into model.yaml (``args.weights.sha256``; the rest of the file, comments
    included, untouched), and ``expect.h5``, what ``kipoi test`` checks. Returns the sha256.

    Raises
    ------
    ValueError
        When model.yaml does not name ``weights.safetensors`` in ``args.weights.file``, or the state
        does not load into the architecture (names and shapes are checked before anything is written).
    """
    folder = Path(entry)
    text = (folder / "model.yaml").read_text()
    args = yaml.safe_load(text).get("args") or {}
    if (args.get("weights") or {}).get("file") != "weights.safetensors":
        raise ValueError(f"{folder / 'model.yaml'}: args.weights.file must be weights.safetensors")
    config = dict(args.get("config") or {})
    network = load_object(args["architecture"], str(folder))(**config)
    try:  # a state of another network fails here, before anything is written
        network.load_state_dict(dict(state), strict=True)
    except RuntimeError as error:
        raise ValueError(f"the state dict does not fit {args['architecture']} with config {config}: {error}. Fix: "
                         "save the state of the network model.yaml describes (or update args.config)") from None
    sha256 = save_safetensors(folder / "weights.safetensors", network.state_dict(),
                              {"config": config, **dict(metadata or {})})
    updated, count = re.subn(r"(?m)^(\s+sha256:\s*)\S+", lambda m: m.group(1) + sha256, text, count=1)
    if not count:
        raise ValueError(f"{folder / 'model.yaml'}: no `sha256:` line under args.weights to fill in")
    write_text(folder / "model.yaml", updated)
    write_expect(folder, folder / "expect.h5")
    return sha256
