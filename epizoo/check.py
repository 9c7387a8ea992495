"""``epizoo check``: is a zoo entry complete, consistent and working?

A contributor's pull request, ``epizoo convert`` and ``epizoo train`` all end here. The checks:

1. model.yaml and dataloader.yaml hold only known keys, each problem with its line and fix
   (`epizoo.entry_yaml`); ``info`` is complete (authors, doc, cite_as, trained_on, license and,
   for a network, its genome build and where its weights come from); the targets'
   ``column_labels`` match their shape;
2. the model contract (`epizoo.contract`): every input and output is declared and the
   declarations are valid;
3. the dataloader description parses, its output schema fits the model's inputs, and the
   kinds of inputs it serves are the declared ones;
4. the weights load (sha256 verified, every tensor of the architecture present) and a forward
   pass (`epizoo.predict`) on inputs of the declared kinds and shapes gives outputs that match
   the declaration (structure, shape, value range of the kind);
5. stock ``kipoi test`` passes on the entry's example files (and matches ``test.expect``);
6. the plugins: variant effects apply (a declared sequence input, and the scores that apply to
   each output) or are declared not to (no sequence input); attributions of every float input
   of a forward pass are finite and shaped as the inputs (index inputs: through their embeddings);
7. (``export=True``) whether the network exports to ONNX, and agrees there with PyTorch;
8. no file of the entry (nor its weights' metadata) names a path of the machine that made it;
9. where the weights were published twice (``weights.cross_check``: Kipoi's re-save of an
   authors' FactorNet model) and both are at hand (cache or ``EPIZOO_MIRROR``, no download), the
   two conversions predict the same (to 1e-6) on inputs of the declared kinds.
"""
from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import torch

from .contract import Contract, example_inputs
from .entry_summary import held_out_split
from .entry_yaml import entry_yaml_problems
from .machine_paths import machine_paths
from .prediction import predict
from .registry import (dataloader_yaml_text, get_contract, get_model, get_model_description, group_root, model_yaml,
                       model_yaml_text, resolve)


@dataclass
class CheckReport:
    """What passed and what failed for one entry."""

    entry: str
    passed: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def lines(self) -> list[str]:
        return ([f"ok    {line}" for line in self.passed] + [f"FAIL  {line}" for line in self.problems])

    def to_dict(self) -> dict:
        return {"entry": self.entry, "ok": self.ok, "passed": self.passed, "problems": self.problems}


def check_entry(model: str | Path, kipoi_test: bool = True, export: bool = False) -> CheckReport:
    """Run every check on one entry (zoo name or folder); never raises for a failed check.
    ``export``: also export it to ONNX and compare (`epizoo.export`; needs the onnx extra)."""
    report = CheckReport(str(model))
    try:
        resolve(model)
    except ValueError as error:
        report.problems.append(str(error))
        return report
    _guarded(_check_machine_paths, model, report)
    for check in (_check_yaml, _check_metrics, _check_description, _check_contract, _check_model, _check_plugins,
                  _check_cross_conversion):
        if not _guarded(check, model, report):
            return report
    if kipoi_test:
        _check_kipoi_test(model, report)
    if export and _is_network(model):
        _guarded(_check_export, model, report)
    return report


def _check_export(model, report: CheckReport) -> None:
    """Whether the network exports to ONNX. One the exporter cannot trace is reported, not
    failed (the export is an extra, not part of the entry); an export that computes something
    else than the network is a failure."""
    import tempfile

    from .export import ExportError, ExportMismatch, export_onnx

    with tempfile.TemporaryDirectory() as folder:
        try:
            exported = export_onnx(model, Path(folder) / "entry.onnx")
        except ExportMismatch as error:
            report.problems.append(str(error))
            return
        except ExportError as error:
            report.passed.append(f"does not export to ONNX: {error}")
            return
    report.passed.append(f"exports to ONNX; ONNX Runtime agrees with PyTorch to {exported.max_difference:.2g}")


def weights_at_hand(model: str | Path) -> bool:
    """Whether an entry's weights load without a download: committed, cached, or in the mirror
    (``EPIZOO_MIRROR``); a ``VariantEffects/`` entry's are those of the entry it scores."""
    from .weight_sources import resolve_weights
    from .weights import WeightStore

    args = model_yaml(model).get("args") or {}
    if "entry" in args:
        return weights_at_hand(args["entry"])
    root, name = resolve(model)
    try:
        resolve_weights(args.get("weights") or {"file": "model.yaml", "sha256": "-"}, root / name,
                        store=WeightStore(allow_download=False))
    except FileNotFoundError:
        return False
    return True


def _guarded(check, model, report: CheckReport) -> bool:
    """Run one check; an exception is its failure (a broken entry yields a report, not a traceback)."""
    try:
        check(model, report)
        return True
    except Exception as error:
        report.problems.append(f"{check.__name__[7:]}: {type(error).__name__}: {error}")
        return False


def _check_yaml(model, report: CheckReport) -> None:
    problems = entry_yaml_problems(model_yaml_text(model), dataloader_yaml_text(model))
    report.problems.extend(str(problem) for problem in problems)
    if not problems:
        report.passed.append("model.yaml and dataloader.yaml hold every required field and no unknown one")


def _check_machine_paths(model, report: CheckReport) -> None:
    root, name = resolve(model)
    folder = root / name
    if folder.is_dir():
        files = sorted(p for p in folder.rglob("*") if p.is_file())
    else:  # a template group's member has no folder: the group's own files
        files = sorted(p for p in group_root(folder).iterdir() if p.is_file())
    found = {str(p.relative_to(root)): paths[:2] for p in files if (paths := machine_paths(p))}
    if found:
        report.problems.append(f"files name paths of the machine that made them: {found}. Fix: name data by "
                               "file name and sha256 (the weights' metadata too: re-save them)")
    else:
        report.passed.append("no file names a path of the machine that made it")


def _check_metrics(model, report: CheckReport) -> None:
    """Held-out metrics say which data they were measured on."""
    root, name = resolve(model)
    if not (root / name / "metrics.json").exists():
        return
    if not held_out_split(root / name):
        report.problems.append('metrics.json: the held-out data are not said. Fix: add "split": "what was held out '
                               '(e.g. chr8 and chr9, never trained on)" to metrics.json')
    else:
        report.passed.append("metrics.json says the split its metrics were measured on")


def _check_description(model, report: CheckReport) -> None:
    description = get_model_description(model)
    targets = description.schema.targets
    labels = getattr(targets, "column_labels", None)
    if labels is not None and targets.shape and len(labels) != targets.shape[0]:
        report.problems.append(f"{len(labels)} column_labels for targets of shape {targets.shape}")
    else:
        report.passed.append("targets' column_labels fit their shape")


def _is_network(model) -> bool:
    """Entries built from an architecture; the VariantEffects group's return records instead."""
    return "architecture" in (model_yaml(model).get("args") or {})


def _check_contract(model, report: CheckReport) -> None:
    if not _is_network(model):
        return
    contract = get_contract(model)
    inputs = [f"schema.inputs.{name}" for name in contract.inputs if name not in contract.declared]
    outputs = [f"schema.targets{'' if contract.structure == 'tensor' else '.' + name}"
               for name in contract.outputs if f"targets/{name}" not in contract.declared]
    if inputs:
        report.problems.append(f"{model}: declare the kind of {', '.join(inputs)} (see epizoo.contract)")
    if outputs:
        report.problems.append(f"{model}: declare the axes and kind of {', '.join(outputs)} (see epizoo.contract)")
    if not inputs and not outputs:
        report.passed.append("inputs and outputs are declared: " + _summary(contract))


def _summary(contract: Contract) -> str:
    inputs = ", ".join(f"{spec.name} ({spec.kind})" for spec in contract.inputs.values())
    outputs = ", ".join(f"{spec.name} ({spec.kind}, {list(spec.axes)})" for spec in contract.outputs.values())
    return f"{inputs} -> {outputs}"


def _check_model(model, report: CheckReport) -> None:
    kipoi_model = get_model(model)
    report.passed.append("weights load and pass their sha256 check")
    loader_schema = kipoi_model.default_dataloader.get_output_schema()
    if kipoi_model.schema.compatible_with_schema(loader_schema):
        report.passed.append("dataloader output schema fits the model's inputs")
    else:
        report.problems.append("dataloader output schema does not fit the model's inputs")
    if not _is_network(model):  # records (VariantEffects): kipoi test covers them
        return
    contract = get_contract(model)
    _check_served_inputs(kipoi_model, contract, report)
    raw = predict(kipoi_model.model, example_inputs(contract), batch_size=2, device="cpu")
    problems = contract.output_problems(raw)
    if problems:
        report.problems.extend(problems)
    else:
        report.passed.append("a forward pass on inputs of the declared kinds gives the declared outputs")


def _check_plugins(model, report: CheckReport) -> None:
    """Variant effects and attributions apply to the entry, or its contract says why not."""
    if not _is_network(model):
        return
    from epizoo.plugins.veff.scores import scores_for

    contract = get_contract(model)
    if contract.sequence is None:
        kinds = ", ".join(f"{spec.name} ({spec.kind})" for spec in contract.inputs.values())
        report.passed.append(f"variant effects do not apply, as declared: no sequence input ({kinds})")
    else:
        scores = scores_for(str(model), contract.outputs.values(), None)
        report.passed.append(f"variant effects apply to {contract.sequence.name}: " + "; ".join(
            f"{output} scored by {', '.join(s.name for s in chosen)}" for output, chosen in scores.items()))
    _check_attributions(model, contract, report)


def _check_attributions(model, contract: Contract, report: CheckReport) -> None:
    from epizoo.plugins.interpret.attributions import attribute

    explained = [name for name, spec in contract.inputs.items() if spec.kind != "index"]
    if not explained:
        report.passed.append("attributions of the inputs do not apply (index inputs only): "
                             "attribute_layer explains their embeddings")
        return
    inputs = example_inputs(contract)
    attributions = attribute(model, inputs, "saliency", batch_size=2, device="cpu")
    attributions = attributions if isinstance(attributions, dict) else {explained[0]: attributions}
    wrong = [name for name in explained if name not in attributions
             or tuple(attributions[name].shape) != tuple(inputs[name].shape)
             or not bool(torch.isfinite(attributions[name]).all())]
    if wrong:
        report.problems.append(f"attributions of {', '.join(wrong)} are missing, misshapen or not finite")
    else:
        report.passed.append(f"attributions of {', '.join(explained)} are finite and shaped as the inputs")


def _check_cross_conversion(model, report: CheckReport, tolerance: float = 1e-6) -> None:
    """The entry's network against the other published copy of its weights, when at hand."""
    from .weight_sources import resolve_weights
    from .kipoi_model import build_module
    from .weights import WeightStore

    args = model_yaml(model).get("args") or {}
    other = (args.get("weights") or {}).get("cross_check")
    if other is None:
        return
    try:  # converted into the cache from local files only; then build_module finds it there
        resolve_weights(other, store=WeightStore(allow_download=False))
    except FileNotFoundError:
        report.passed.append(f"the other published copy ({other['convert']}) is not at hand: not compared")
        return
    root, name = resolve(model)
    mine = build_module(args["architecture"], args["weights"], args.get("config"), str(root / name))
    theirs = build_module(args["architecture"], other, args.get("config"))
    inputs = example_inputs(get_contract(model), n=4)
    difference = float((predict(mine, inputs, device="cpu") - predict(theirs, inputs, device="cpu")).abs().max())
    if difference <= tolerance:
        report.passed.append(f"the other published copy ({other['convert']}) predicts the same "
                             f"(max |difference| {difference:.2g})")
    else:
        report.problems.append(f"the other published copy ({other['convert']}) differs: max |difference| "
                               f"{difference:.2g} > {tolerance:g}")


def _check_served_inputs(kipoi_model, contract: Contract, report: CheckReport) -> None:
    """The dataloader's input kinds (an epizoo IntervalDataset's) against the declaration."""
    from kipoi_utils.utils import cd

    from epizoo.dataloaders.interval_dataset import IntervalDataset

    loader = kipoi_model.default_dataloader
    if not issubclass(loader, IntervalDataset):
        return
    with cd(loader.source_dir):
        served = loader.init_example().input_specs()
    mismatches = [
        f"{contract.entry}: schema.inputs.{name}.{key}: declared {getattr(contract.inputs[name], key)!r}, "
        f"the dataloader serves {getattr(spec, key)!r}"
        for name, spec in served.items() if name in contract.inputs
        for key in ("kind", "alphabet", "axes", "n_value")
        if getattr(contract.inputs[name], key) != getattr(spec, key)
    ]
    if mismatches:
        report.problems.extend(mismatches)
    else:
        report.passed.append("the dataloader serves the declared input kinds")


def _check_kipoi_test(model, report: CheckReport) -> None:
    root, name = resolve(model)
    result = subprocess.run(
        [sys.executable, "-m", "kipoi", "test", name, "--source", "dir"],
        cwd=root, capture_output=True, text=True, env=dict(os.environ),
    )
    output = result.stdout + result.stderr
    if result.returncode != 0:
        tail = "\n      ".join(output.strip().splitlines()[-5:])
        report.problems.append(f"kipoi test failed:\n      {tail}")
    elif "All predictions match" in output:
        report.passed.append("kipoi test passes and matches test.expect")
    else:
        report.passed.append("kipoi test passes (no test.expect to compare with)")
