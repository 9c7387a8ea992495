"""``epizoo new``: a new zoo entry from the project's template (model-template/, a cookiecutter template)."""
from __future__ import annotations

import argparse
from pathlib import Path

#: the template: the checkout's model-template/, installed as epizoo/model_template
TEMPLATE = Path(__file__).resolve().parents[2] / "model-template"
INSTALLED_TEMPLATE = Path(__file__).resolve().parents[1] / "model_template"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("entry", help="the entry's name (its folder)")
    parser.add_argument("--out", default=".", help="the folder to create the entry in (default: here)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="answer a question of the template (method, doc, cite_as, sequence_length, tasks, "
                             "output_kind, channels, ...; see model-template/cookiecutter.json)")
    parser.add_argument("--no-input", action="store_true", help="ask nothing: the template's defaults and --set")


def template() -> Path:
    """The template folder (the checkout's, else the installed copy)."""
    for folder in (TEMPLATE, INSTALLED_TEMPLATE):
        if (folder / "cookiecutter.json").is_file():
            return folder
    raise FileNotFoundError("the model template is missing (model-template/). Fix: reinstall epizoo")


def run(args: argparse.Namespace) -> int:
    from cookiecutter.exceptions import FailedHookException
    from cookiecutter.main import cookiecutter

    answers = {"entry": args.entry}
    for item in args.set:
        key, sep, value = item.partition("=")
        if not sep:
            raise ValueError(f"--set {item!r}: give KEY=VALUE")
        answers[key.strip()] = value.strip()
    try:
        folder = cookiecutter(str(template()), no_input=args.no_input, extra_context=answers, output_dir=args.out)
    except FailedHookException:
        raise ValueError("the template refused the answers (the reason is printed above)") from None
    print(f"created {folder}\nnext: replace model.py with your network, then\n"
          f"  epizoo weights {folder} STATE.safetensors   # your trained state dict\n"
          f"  epizoo check {folder}")
    return 0
