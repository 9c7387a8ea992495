"""Find zoo entries by name or folder, load them through Kipoi, and register the zoo with Kipoi.

A model is named either by its zoo name (``FactorNet/FOXA1/onePeak_DGF``, resolved under
`epizoo.zoo.ZOO_ROOT`) or by an entry folder (any Kipoi entry, inside the zoo or not).
"""
from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

import yaml

from epizoo.atomic import write_text
from epizoo.zoo import ZOO_ROOT


def _local_source(root: Path):
    from kipoi.sources import LocalSource

    return LocalSource(str(root))


def resolve(model: str | Path) -> tuple[Path, str]:
    """``(source root, name within it)`` of a zoo name or an entry folder.

    A zoo name wins over a same-named relative folder. An entry folder is a folder with a
    model.yaml, or the path of a member of a Kipoi template group (``<group>/<member>``, which
    has no folder of its own).

    Raises
    ------
    ValueError
        When ``model`` is neither an entry folder nor a zoo entry.
    """
    name = str(model).strip("/")
    if not os.path.isabs(str(model)) and name in list_entries():
        return ZOO_ROOT, name
    path = Path(model).resolve()
    if (path / "model.yaml").exists():
        return path.parent, path.name
    group = group_root(path)
    if group is not None and str(path.relative_to(group)) in _group_members(group):
        return group.parent, str(path.relative_to(group.parent))
    raise ValueError(
        f"{model!r} is neither an entry folder nor a zoo entry. Fix: give a folder with a "
        "model.yaml, or one of the names that `epizoo list` prints."
    )


def group_root(path: Path) -> Path | None:
    """The Kipoi template group (folder with model-template.yaml + models.tsv) above ``path``."""
    for folder in [path, *path.parents]:
        if (folder / "models.tsv").exists() and (folder / "model-template.yaml").exists():
            return folder
    return None


def _group_table(group: Path):
    import pandas as pd

    return pd.read_csv(group / "models.tsv", sep="\t", comment="#")


def _group_members(group: Path) -> list[str]:
    return list(_group_table(group)["model"])


def model_yaml(model: str | Path) -> dict:
    """An entry's model.yaml as YAML parses it, every key kept (Kipoi's parser drops the ones it
    does not know, such as the model contract's); a template-group member's is rendered from
    its row as Kipoi renders it."""
    return yaml.safe_load(model_yaml_text(model)[0])


def model_yaml_text(model: str | Path) -> tuple[str, str]:
    """``(text, label)`` of an entry's model.yaml: the file's, or for a template-group member
    the text rendered from its row (labelled so that a message can name the template and row)."""
    return _entry_file_text(model, "model")


def dataloader_yaml_text(model: str | Path) -> tuple[str, str] | None:
    """``(text, label)`` of an entry's own dataloader.yaml, or of its template group's
    dataloader-template.yaml rendered from its row; None when it has neither."""
    return _entry_file_text(model, "dataloader")


def _entry_file_text(model: str | Path, kind: str) -> tuple[str, str] | None:
    """An entry's ``{kind}.yaml``, or its group's ``{kind}-template.yaml`` rendered from its row."""
    root, name = resolve(model)
    folder = root / name
    if (folder / f"{kind}.yaml").exists():
        return (folder / f"{kind}.yaml").read_text(), f"{kind}.yaml"
    group = group_root(folder)
    if group is None or group == folder or not (group / f"{kind}-template.yaml").exists():
        return None
    from epizoo.entry_writing import render_template

    table = _group_table(group)
    member = str(folder.relative_to(group))
    row = table[table["model"] == member].iloc[0].to_dict()
    return (render_template(group / f"{kind}-template.yaml", row),
            f"{kind}-template.yaml (row {member} of models.tsv, rendered)")


def get_contract(model: str | Path, dataloader_inputs=None):
    """The declared inputs and outputs of an entry (`epizoo.contract.Contract`).

    ``dataloader_inputs`` (`IntervalDataset.input_specs`) stand in for undeclared inputs.
    """
    from epizoo.contract import read_contract

    return read_contract(str(model).rstrip("/"), model_yaml(model).get("schema") or {}, dataloader_inputs)


def list_entries() -> list[str]:
    """Names of all entries of the zoo, template-group members included."""
    return list(_listed_entries(_zoo_signature()))


#: the files a listing of the zoo depends on
LISTING_FILES = ("model.yaml", "models.tsv", "model-template.yaml")


def _zoo_signature() -> tuple[tuple[str, int], ...]:
    """Every file the listing depends on, with its modification time: a new or edited entry makes
    a new signature (Kipoi's listing renders every template group, ~50 ms, on each call)."""
    return tuple((str(p), p.stat().st_mtime_ns) for p in sorted(ZOO_ROOT.rglob("model*")) if p.name in LISTING_FILES)


@lru_cache(maxsize=4)
def _listed_entries(signature: tuple[tuple[str, int], ...]) -> tuple[str, ...]:
    return tuple(sorted(_local_source(ZOO_ROOT)._list_components("model")))


def get_model(model: str | Path, with_dataloader: bool = True):
    """Load an entry as a Kipoi model (``model.pipeline``, ``predict_on_batch``, ...).

    Parameters
    ----------
    model
        Zoo name or entry folder.
    with_dataloader
        Attach the entry's default dataloader (and so ``model.pipeline``).
    """
    import kipoi

    root, name = resolve(model)
    return kipoi.get_model(name, source=_local_source(root), with_dataloader=with_dataloader)


def get_dataloader(model: str | Path):
    """An entry's default dataloader class (annotated by Kipoi), without loading the model."""
    import kipoi

    root, name = resolve(model)
    return kipoi.get_dataloader_factory(name, _local_source(root))


def get_model_description(model: str | Path):
    """The parsed model.yaml (``kipoi.specs.ModelDescription``) of an entry, without loading it."""
    root, name = resolve(model)
    return _local_source(root).get_model_descr(name)


def kipoi_config_path() -> Path:
    """Kipoi's config file (it depends on HOME only)."""
    return Path(os.path.expanduser("~")) / ".kipoi" / "config.yaml"


def register_kipoi_source(name: str = "epizoo", root: Path = ZOO_ROOT) -> Path:
    """Add (or update) a ``type: local`` source for the zoo in Kipoi's config.

    With ``name="kipoi"`` the zoo replaces Kipoi's default source, so that ``kipoi predict
    FactorNet/...`` works without ``--source``; the previous default is kept as ``kipoi-previous``.

    Returns
    -------
    pathlib.Path
        The config file written.
    """
    path = kipoi_config_path()
    config = yaml.safe_load(path.read_text()) if path.exists() else None
    config = config or {}
    sources = config.setdefault("model_sources", {})
    entry = {"type": "local", "local_path": str(root)}
    if name == "kipoi" and sources.get("kipoi", entry) != entry:
        sources["kipoi-previous"] = sources["kipoi"]
    sources[name] = entry
    write_text(path, yaml.safe_dump(config, sort_keys=False))
    return path
