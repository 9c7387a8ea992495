"""An entry's model.yaml and dataloader.yaml checked field by field, before Kipoi reads them:
each problem names the file, the line, the field and the fix (Kipoi's own parser drops unknown
keys in silence and reports a wrong one as a Python traceback).
"""
from __future__ import annotations

import difflib
from collections.abc import Iterator
from dataclasses import dataclass

import yaml

from epizoo.contract import INPUT_KINDS, OUTPUT_AXES, OUTPUT_KINDS, parse_shape

MODEL_KEYS = ("defined_as", "type", "args", "info", "schema", "default_dataloader", "dependencies", "test", "writers",
              "path")
DATALOADER_KEYS = ("defined_as", "type", "args", "output_schema", "info", "dependencies", "writers", "path")
INFO_KEYS = ("authors", "doc", "name", "version", "license", "tags", "contributors", "cite_as", "trained_on",
             "training_procedure", "genome", "weights_origin")
REQUIRED_INFO = ("authors", "doc", "cite_as", "trained_on", "license")
#: epizoo's own keys of ``info``, required of entries built from an architecture
NETWORK_INFO = ("genome", "weights_origin")
WEIGHTS_ORIGINS = ("converted", "trained on real data", "trained on the synthetic benchmark")


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a file: where, what, and how to fix it."""

    file: str
    line: int
    field: str
    message: str
    fix: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.field}: {self.message}. Fix: {self.fix}"


class _Located:
    """A parsed YAML file with the line of every mapping key (``("info", "license") -> 14``)."""

    def __init__(self, text: str, label: str):
        self.label = label
        self.lines: dict[tuple[str, ...], int] = {}
        loader = yaml.SafeLoader(text)  # one parse: the node tree gives the lines, and the data
        try:
            node = loader.get_single_node()
            self.data = (loader.construct_document(node) if node is not None else None) or {}
        except yaml.MarkedYAMLError as error:
            mark = error.problem_mark
            raise _Unparsable(Problem(label, (mark.line + 1) if mark else 0, "(file)", f"not valid YAML: {error.problem}",
                                      "correct the YAML syntax at that line")) from None
        finally:
            loader.dispose()
        self._index(node, ())

    def _index(self, node, path: tuple[str, ...]) -> None:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                self.lines[path + (str(key.value),)] = key.start_mark.line + 1
                self._index(value, path + (str(key.value),))

    def problem(self, path: tuple[str, ...], message: str, fix: str) -> Problem:
        """A problem at ``path`` (or, when that key is absent, at its closest present parent)."""
        line = next((self.lines[path[:n]] for n in range(len(path), 0, -1) if path[:n] in self.lines), 1)
        return Problem(self.label, line, ".".join(path) or "(file)", message, fix)


class _Unparsable(Exception):
    def __init__(self, problem: Problem):
        self.problem = problem


def model_yaml_problems(text: str, label: str = "model.yaml", network: bool | None = None) -> list[Problem]:
    """Every problem of a model.yaml's text (``network``: built from an architecture; default:
    when ``args.architecture`` is set)."""
    try:
        located = _Located(text, label)
    except _Unparsable as error:
        return [error.problem]
    data = located.data if isinstance(located.data, dict) else {}
    if network is None:
        network = "architecture" in (data.get("args") or {})
    return [*_unknown(located, (), data, MODEL_KEYS, "Kipoi ignores it"),
            *_info_problems(located, data.get("info"), network),
            *_schema_problems(located, data.get("schema"))]


def dataloader_yaml_problems(text: str, label: str = "dataloader.yaml") -> list[Problem]:
    """Every problem of a dataloader.yaml's text: its keys, each argument documented, an output schema."""
    try:
        located = _Located(text, label)
    except _Unparsable as error:
        return [error.problem]
    data = located.data if isinstance(located.data, dict) else {}
    problems = _unknown(located, (), data, DATALOADER_KEYS, "Kipoi ignores it")
    for key in ("defined_as", "output_schema"):
        if key not in data:
            problems.append(located.problem((key,), "missing", f"add {key}: (see model-template/ for an example)"))
    for name, argument in (data.get("args") or {}).items():
        if not isinstance(argument, dict) or not argument.get("doc"):
            problems.append(located.problem(("args", str(name)), "has no doc",
                                            f"describe it: `{name}: {{doc: what it is, optional: ...}}`"))
    return problems


def _unknown(located: _Located, path: tuple[str, ...], data, known: tuple[str, ...], why: str) -> list[Problem]:
    problems = []
    for key in (data or {}) if isinstance(data, dict) else ():
        if key not in known:
            close = difflib.get_close_matches(str(key), known, n=1)
            fix = f"did you mean {close[0]!r}?" if close else f"remove it, or use one of {', '.join(known)}"
            problems.append(located.problem(path + (str(key),), f"unknown key ({why})", fix))
    return problems


def _info_problems(located: _Located, info, network: bool) -> list[Problem]:
    if not isinstance(info, dict):
        return [located.problem(("info",), "missing or not a mapping", "add info: with " + ", ".join(REQUIRED_INFO))]
    problems = _unknown(located, ("info",), info, INFO_KEYS, "Kipoi and the catalogue ignore it")
    required = REQUIRED_INFO + (NETWORK_INFO if network else ())
    problems += [located.problem(("info", key), "missing or empty", _INFO_FIXES[key])
                 for key in required if not info.get(key)]
    origin = info.get("weights_origin")
    if origin and origin not in WEIGHTS_ORIGINS:
        problems.append(located.problem(("info", "weights_origin"), f"{origin!r} is not a weights origin",
                                        "use one of: " + ", ".join(WEIGHTS_ORIGINS)))
    return problems


_INFO_FIXES = {
    "authors": "list who made the model: `authors: [{name: ..., github: ...}]`",
    "doc": "say what the model predicts, from what, in a sentence or two",
    "cite_as": "give the paper's DOI URL",
    "trained_on": "name the training data by file and checksum, and the held-out split",
    "license": "give the weights' licence (e.g. MIT)",
    "genome": "give the genome build of the inputs (hg19, hg38, mm10, or synthetic for the simulator's)",
    "weights_origin": "say where the weights come from: " + ", ".join(WEIGHTS_ORIGINS),
}


def _schema_problems(located: _Located, schema) -> list[Problem]:
    if not isinstance(schema, dict) or "inputs" not in schema or "targets" not in schema:
        return [located.problem(("schema",), "needs inputs and targets", "declare both (see epizoo.contract)")]
    problems = []
    for path, array in _arrays(("schema", "inputs"), schema["inputs"]):
        problems += _array_problems(located, path, array, INPUT_KINDS)
    for path, array in _arrays(("schema", "targets"), schema["targets"]):
        problems += _array_problems(located, path, array, OUTPUT_KINDS)
        bad_axes = [a for a in array.get("axes") or () if a not in OUTPUT_AXES]
        if bad_axes:
            problems.append(located.problem(path + ("axes",), f"unknown axis {bad_axes[0]!r}",
                                            f"name each axis one of {', '.join(OUTPUT_AXES)}"))
    return problems


def _arrays(path: tuple[str, ...], value) -> Iterator[tuple[tuple[str, ...], dict]]:
    """The arrays of a schema field: one (it has a shape), or a mapping of named ones."""
    if isinstance(value, dict) and "shape" not in value:
        for name, array in value.items():
            yield path + (str(name),), array if isinstance(array, dict) else {}
    elif isinstance(value, dict):
        yield path, value
    elif isinstance(value, list):
        for i, array in enumerate(value):
            yield path + (str(i),), array if isinstance(array, dict) else {}


def _array_problems(located: _Located, path: tuple[str, ...], array: dict, kinds: dict) -> list[Problem]:
    problems = []
    try:
        parse_shape(array.get("shape"))
    except Exception:
        problems.append(located.problem(path + ("shape",), f"shape {array.get('shape')!r} is not a shape",
                                        "write it as a tuple without the batch axis, e.g. (1000, 4) or ()"))
    kind = array.get("kind")
    if kind is not None and kind not in kinds:
        problems.append(located.problem(path + ("kind",), f"unknown kind {kind!r}", "use one of " + ", ".join(kinds)))
    return problems


def entry_yaml_problems(model: tuple[str, str], dataloader: tuple[str, str] | None) -> list[Problem]:
    """The problems of an entry's model.yaml and dataloader.yaml, each ``(text, label)`` as Kipoi
    reads it (a template group's, rendered for the entry); ``dataloader`` None: it has none of its own."""
    problems = model_yaml_problems(*model)
    return problems + (dataloader_yaml_problems(*dataloader) if dataloader else [])
