"""``epizoo workflow``: print or write the Snakemake workflows shipped with epizoo.

``epizoo workflow score-variants`` prints the Snakefile that scatters ``epizoo score-variants``
over shards of a VCF and gathers them (`epizoo.plugins.veff.gather`); ``--write DIR`` writes it
with an annotated example ``config.yaml``.
"""
from __future__ import annotations

import argparse
import sys
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

from epizoo.atomic import write_text

#: workflow name -> (package, folder holding its Snakefile and example config.yaml)
WORKFLOWS: dict[str, tuple[str, str]] = {
    "score-variants": ("epizoo.plugins.veff", "workflow"),
}
FILES = ("Snakefile", "config.yaml")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("workflow", choices=sorted(WORKFLOWS), help="which workflow")
    parser.add_argument("--write", metavar="DIR",
                        help="write the Snakefile and an annotated config.yaml into DIR instead of printing the Snakefile")
    parser.add_argument("--force", action="store_true", help="with --write: replace files that exist")


def workflow_file(workflow: str, name: str = "Snakefile") -> Traversable:
    """A file of a shipped workflow (``Snakefile`` or ``config.yaml``), as package data."""
    package, folder = WORKFLOWS[workflow]
    resource = files(package).joinpath(folder, name)
    if not resource.is_file():
        raise FileNotFoundError(f"{name} of the {workflow} workflow is missing from the installed epizoo "
                                f"({package}/{folder}). Fix: reinstall epizoo (pip install -e .).")
    return resource


def write_workflow(workflow: str, folder: str | Path, force: bool = False) -> list[Path]:
    """Write the workflow's Snakefile and example config.yaml into ``folder``; their paths."""
    folder = Path(folder)
    targets = [folder / name for name in FILES]
    existing = [str(path) for path in targets if path.exists()]
    if existing and not force:
        raise ValueError(f"{', '.join(existing)} exist(s). Fix: pick another folder or add --force to replace.")
    for name, path in zip(FILES, targets):
        write_text(path, workflow_file(workflow, name).read_text())
    return targets


def run(args: argparse.Namespace) -> int:
    if args.write is None:
        sys.stdout.write(workflow_file(args.workflow).read_text())
        return 0
    snakefile, config = write_workflow(args.workflow, args.write, args.force)
    if not args.quiet:
        print(f"wrote {snakefile} and {config}. Edit {config.name}, then run, from the venv that has epizoo:\n"
              f"  snakemake --snakefile {snakefile} --configfile {config} --cores 8\n"
              f"or on SLURM (pip install snakemake-executor-plugin-slurm==2.6.1):\n"
              f"  snakemake --snakefile {snakefile} --configfile {config} --executor slurm --jobs 100 "
              f"--default-resources slurm_account=ACCOUNT slurm_partition=PARTITION")
    return 0
