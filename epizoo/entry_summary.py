"""What a user needs to choose an entry, read from its files: `epizoo list`, the README's table
and the catalogue (`epizoo.catalogue`) all show this one summary.

An entry declares its genome build and where its weights come from in model.yaml's ``info``
(``genome``, ``weights_origin``: keys Kipoi ignores, that `epizoo check` requires); its held-out
metrics are the ``metrics.json`` that ``epizoo train`` writes, measured on the split its
``config.yaml`` names (the data section's ``test_*`` keys). A ``VariantEffects/`` entry is
summarised as the entry whose predictions it scores.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from epizoo.registry import get_contract, list_entries, model_yaml, resolve
from epizoo.zoo import ZOO_ROOT
#: converter -> where the files it converts come from
CONVERTED_FROM = {
    "factornet-keras1": "the authors' release (github.com/uci-cbcl/FactorNet)",
    "factornet-kipoi": "Kipoi's re-save (Zenodo record 1466084)",
}
VARIANT_EFFECTS = "VariantEffects/"
#: keys of metrics.json that describe the test set rather than measure the model ("split": the
#: held-out data, said by an entry that `epizoo train` did not make)
NOT_METRICS = ("positives", "split")
#: the metrics the README's table shows (all of them are in `epizoo list --json` and the catalogue)
HEADLINE = ("auroc", "auprc", "pearson", "pearson_whole", "mse")


@dataclass
class EntrySummary:
    """One entry, as `epizoo list --json` prints it and the catalogue shows it."""

    name: str
    method: str
    title: str
    doc: str
    tags: list[str]
    inputs: list[dict[str, Any]]
    outputs: list[dict[str, Any]]
    genome: str
    weights_origin: str
    weights_source: str
    status: str
    metrics: dict[str, float] = field(default_factory=dict)
    split: str = ""
    data: list[dict[str, Any]] = field(default_factory=list)
    cite_as: str = ""
    license: str = ""
    variant_effects: bool = False
    scores: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def summaries(prefix: str = "") -> list[EntrySummary]:
    """Every zoo entry whose name starts with ``prefix``, in name order."""
    return [summarize(name) for name in list_entries() if name.startswith(prefix)]


def summarize(name: str) -> EntrySummary:
    """The summary of one zoo entry (or entry folder)."""
    if str(name).startswith(VARIANT_EFFECTS):
        return _variant_effects(str(name))
    description = model_yaml(name)
    info, weights = description.get("info") or {}, (description.get("args") or {}).get("weights") or {}
    root, entry = resolve(name)
    folder = root / entry
    run = _recorded_run(folder)
    contract = get_contract(name)
    return EntrySummary(
        name=str(name), method=_method(folder, str((description.get("args") or {}).get("architecture", ""))),
        title=str(info.get("name", name)),
        doc=" ".join(str(info.get("doc", "")).split()), tags=[str(t) for t in info.get("tags") or []],
        inputs=[{"name": s.name, "kind": s.kind, "shape": list(s.shape or ())} for s in contract.inputs.values()],
        outputs=[{"name": s.name, "kind": s.kind, "axes": list(s.axes), "shape": list(s.shape),
                  "tasks": list(s.tasks)} for s in contract.outputs.values()],
        genome=str(info.get("genome", "unspecified")), weights_origin=str(info.get("weights_origin", "unspecified")),
        weights_source=_weights_source(weights, run), status=_status(weights, folder),
        metrics=_headline_metrics(folder), split=held_out_split(folder, run), data=_data_files(weights, run),
        cite_as=str(info.get("cite_as", "")), license=str(info.get("license", "")),
        variant_effects=contract.sequence is not None,
    )


def _method(folder: Path, architecture: str) -> str:
    """The first part of a zoo entry's name; outside the zoo, the zoo method whose architecture it
    uses, else the name of the folder holding it (``MyMethod/MyModel``)."""
    if folder.resolve().is_relative_to(ZOO_ROOT):
        return folder.resolve().relative_to(ZOO_ROOT).parts[0]
    parts = architecture.split(".")
    return parts[2] if parts[:2] == ["epizoo", "zoo"] and len(parts) > 2 else folder.resolve().parent.name


def _variant_effects(name: str) -> EntrySummary:
    source = summarize(name[len(VARIANT_EFFECTS):])
    return EntrySummary(
        name=name, method=source.method, title=f"variant effects of {source.name}",
        doc=f"Every ALT allele of a VCF scored by {source.name}: its predictions on the reference and "
            "alternative windows and every built-in score that applies to its outputs.",
        tags=["variant effect prediction"], inputs=[{"name": "vcf", "kind": "variants", "shape": []}],
        outputs=[{"name": o["name"], "kind": "variant scores", "axes": o["axes"], "shape": o["shape"],
                  "tasks": o["tasks"]} for o in source.outputs],
        genome=source.genome, weights_origin=source.weights_origin, weights_source=f"the entry {source.name}",
        status="derived", cite_as=source.cite_as, license=source.license, variant_effects=True,
        scores=source.name)


def _recorded_run(folder: Path) -> dict:
    """The configuration ``epizoo train`` recorded in the entry (``config.yaml``); {} for others."""
    path = folder / "config.yaml"
    return (yaml.safe_load(path.read_text()) or {}) if path.exists() else {}


def _weights_source(weights: dict, run: dict) -> str:
    if "convert" in weights:
        return "converted from " + CONVERTED_FROM.get(weights["convert"], f"files read by {weights['convert']}")
    if run:
        return f"epizoo train {run.get('recipe', '')}".strip()
    return "weights.safetensors" if weights else ""


def _status(weights: dict, folder: Path) -> str:
    """``bundled``: the weights are in the repository; ``fetched``: downloaded (checksummed) and
    converted into the cache on first use."""
    if weights.get("file") and (folder / weights["file"]).exists():
        return "bundled"
    return "fetched" if "convert" in weights or "download" in weights else "missing weights"


def _metrics_file(folder: Path) -> dict:
    path = folder / "metrics.json"
    return json.loads(path.read_text()) if path.exists() else {}


def _headline_metrics(folder: Path) -> dict[str, float]:
    """The test metrics over all tasks (``metrics.json`` keys without a ``/task`` part)."""
    return {key: float(value) for key, value in _metrics_file(folder).items() if "/" not in key and key not in NOT_METRICS}


def held_out_split(folder: Path, run: dict | None = None) -> str:
    """The held-out data the metrics were measured on: the recorded run's ``data.test_*`` settings,
    else what metrics.json says under ``split``."""
    data = (_recorded_run(folder) if run is None else run).get("data") or {}
    recorded = "; ".join(f"{key}: {_listed(value)}" for key, value in data.items() if key.startswith("test_"))
    return recorded or str(_metrics_file(folder).get("split", ""))


def _listed(value: Any) -> str:
    return ", ".join(map(str, value)) if isinstance(value, list) else str(value)


def _data_files(weights: dict, run: dict) -> list[dict[str, Any]]:
    """The files the weights were made from, ``{file, checksum, url}``: a trained entry's data (from
    its config.yaml; a pre-trained entry by its weights' sha256), a converted entry's published
    files (URL and md5)."""
    if "convert" in weights:
        return [{"file": Path(str(ref.get("url", "")).split("?")[0]).name or role, "checksum": f"md5:{ref.get('md5', '')}",
                 "url": ref.get("url", "")} for role, ref in (weights.get("from") or {}).items()]
    found: list[dict[str, Any]] = []
    _collect_files(run.get("data"), found)
    return found


def _collect_files(value: Any, found: list[dict[str, Any]]) -> None:
    if isinstance(value, dict):
        if "sha256" in value and "file" in value:
            found.append({"file": value["file"], "checksum": f"sha256:{value['sha256']}", "url": ""})
            return
        if "weights_sha256" in value and "entry" in value:  # a pre-trained entry
            found.append({"file": f"entry {value['entry']}", "checksum": f"sha256:{value['weights_sha256']}", "url": ""})
            return
        for item in value.values():
            _collect_files(item, found)
    elif isinstance(value, list):
        for item in value:
            _collect_files(item, found)


def markdown_table(entries: list[EntrySummary]) -> str:
    """The README's table of the zoo (variant-effect entries summarised in one line)."""
    rows = ["| entry | inputs | outputs | genome | weights | held-out metrics |", "|---|---|---|---|---|---|"]
    for entry in entries:
        if entry.name.startswith(VARIANT_EFFECTS):
            continue
        inputs = ", ".join(f"{i['name']} ({i['kind']})" for i in entry.inputs)
        outputs = ", ".join(f"{o['name']} ({o['kind']}, {_tasks(len(o['tasks']))})" for o in entry.outputs)
        metrics = ", ".join(f"{k} {v:.3f}" for k, v in entry.metrics.items() if k in HEADLINE) or "-"
        rows.append(f"| `{entry.name}` | {inputs} | {outputs} | {entry.genome} | {entry.weights_origin} | {metrics} |")
    scored = sum(entry.name.startswith(VARIANT_EFFECTS) for entry in entries)
    return "\n".join(rows) + (f"\n\nand `VariantEffects/<entry>` for the {scored} entries with a sequence input "
                              "(`kipoi predict` on a VCF).\n")


def _tasks(n: int) -> str:
    return f"{n} task" if n == 1 else f"{n} tasks"
