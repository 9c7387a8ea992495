"""``epizoo check``: is a zoo entry complete, consistent and working?

A contributor's pull request, ``epizoo convert`` and ``epizoo train`` all end here. The checks:

1. model.yaml parses and its ``info`` is complete (authors, doc, cite_as, trained_on, license),
   the targets' ``column_labels`` match their shape;
2. the dataloader description parses and its output schema fits the model's inputs;
3. the weights load (sha256 verified, every tensor of the architecture present) and a forward
   pass on inputs of the schema's shapes gives outputs of the targets' shape;
4. stock ``kipoi test`` passes on the entry's example files (and matches ``test.expect``).
"""
from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .registry import get_model, get_model_description, resolve

REQUIRED_INFO = ("authors", "doc", "cite_as", "trained_on", "license")


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


def check_entry(model: str | Path, kipoi_test: bool = True) -> CheckReport:
    """Run every check on one entry (zoo name or folder); never raises for a failed check."""
    report = CheckReport(str(model))
    for check in (_check_description, _check_model):
        try:
            check(model, report)
        except Exception as error:  # a broken entry must yield a report, not a traceback
            report.problems.append(f"{check.__name__[7:]}: {type(error).__name__}: {error}")
            return report
    if kipoi_test:
        _check_kipoi_test(model, report)
    return report


def _check_description(model, report: CheckReport) -> None:
    description = get_model_description(model)
    info = description.info
    missing = [key for key in REQUIRED_INFO if not getattr(info, key, None)]
    if missing:
        report.problems.append(f"model.yaml info lacks {', '.join(missing)}")
    else:
        report.passed.append("model.yaml info is complete")
    targets = description.schema.targets
    labels = getattr(targets, "column_labels", None)
    if labels is not None and targets.shape and len(labels) != targets.shape[-1]:
        report.problems.append(f"{len(labels)} column_labels for targets of shape {targets.shape}")
    else:
        report.passed.append("targets' column_labels fit their shape")


def _check_model(model, report: CheckReport) -> None:
    kipoi_model = get_model(model)
    report.passed.append("weights load and pass their sha256 check")
    loader_schema = kipoi_model.default_dataloader.get_output_schema()
    if kipoi_model.schema.compatible_with_schema(loader_schema):
        report.passed.append("dataloader output schema fits the model's inputs")
    else:
        report.problems.append("dataloader output schema does not fit the model's inputs")
    inputs = {
        name: np.zeros((2, *array.shape), dtype=np.float32)
        for name, array in kipoi_model.schema.inputs.items()
    }
    predictions = kipoi_model.predict_on_batch(inputs)
    if isinstance(predictions, dict):  # structured outputs (VariantEffects): kipoi test covers them
        return
    expected = (2, *kipoi_model.schema.targets.shape)
    if tuple(np.shape(predictions)) == expected:
        report.passed.append(f"forward pass on schema-shaped inputs gives {expected}")
    else:
        report.problems.append(f"forward pass gives {np.shape(predictions)}, the schema says {expected}")


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
