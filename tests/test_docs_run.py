"""Every command line the documentation shows runs as written, page by page, in a sandbox beside
the real data (with the CAPS below; on a machine without a GPU, the GPU training runs as DDP on two
CPU processes). A line that is not run is named in NOT_RUN with the
reason and what runs it instead, so that a new line on a page is run or explained."""
from __future__ import annotations

import hashlib
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import REPO, SHARED
from test_docs import _blocks, shell_lines, shell_pages

#: documented lines (by their start) that this test does not run: why, and what runs them instead
NOT_RUN = {
    "bash scripts/dev.sh test": ".ci/run runs the test suite, this test included",
    "python experiments/": "a paper's claims take hours on 2 cores; experiments/README.md holds the results "
                           "and each step is an epizoo command run here or by the plugins' tests",
    "torchrun ": "needs several machines; the same run on one machine is run here",
    "srun ": "needs a SLURM cluster; the same run on one machine is run here",
    "snakemake --snakefile wf/Snakefile --configfile wf/config.yaml --executor slurm": "needs a SLURM cluster",
    "snakemake --snakefile wf/Snakefile --configfile wf/config.yaml --cores": "its config names the user's files; "
                                                                              "tests/test_veff_workflow.py runs the workflow",
}
#: what a line runs here is capped: trainings at one epoch of two batches, and GOPHER's robust
#: scores (20 shifted windows of 2,048 bp per allele, 100 s for the 413 variants) on an eighth of them
CAPS = {"epizoo train ": " --set training.max_epochs=1 --set training.steps_per_epoch=2",
        "epizoo score-variants GOPHER/": " --shard 1/8"}
#: the folders a page's commands read or write, besides the zoo: copied (the examples' run files
#: name ../out/sim) or linked (the zoo, and what `bash scripts/dev.sh demo` needs)
COPIED = ("examples", "experiments")
LINKED = ("zoo", "scripts", "requirements", "pyproject.toml", "setup.py")
CONTRIBUTED = REPO / "zoo" / "MyMethod"  # docs/contributing.md's step 5 moves the new entry there


def _not_run(step: str) -> str | None:
    return next((reason for start, reason in NOT_RUN.items() if step.startswith(start)), None)


def _yaml_files(page: str) -> dict[str, str]:
    """YAML blocks that name their file on the first line (``# pretrain.yaml: ...``)."""
    return {match.group(1): body for where, body in _blocks("yaml") if where == page
            if (match := re.match(r"# ([\w.-]+\.yaml):", body))}


def _sandbox(tmp_path: Path) -> Path:
    work = tmp_path / "p"
    work.mkdir()
    (tmp_path / "shared").symlink_to(SHARED.resolve())  # ../shared, as beside a checkout
    for name in COPIED:
        shutil.copytree(REPO / name, work / name, ignore=shutil.ignore_patterns("world", "__pycache__"))
    for name in LINKED:
        (work / name).symlink_to(REPO / name)
    (work / ".venv").symlink_to(Path(sys.prefix))
    return work


def _fingerprint() -> str:
    """scripts/dev.sh's fingerprint of what the environment is built from."""
    files = sorted((REPO / "requirements").glob("*.txt")) + [REPO / "pyproject.toml", REPO / "setup.py"]
    return hashlib.sha256(b"".join(path.read_bytes() for path in files)).hexdigest()[:16]


def _environment(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ, HOME=str(tmp_path / "home"), EPIZOO_CACHE=str(tmp_path / "cache"),
               EPIZOO_MIRROR=str((SHARED / "data").resolve()), EPIZOO_VENV=sys.prefix,
               PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    (tmp_path / "home").mkdir()
    return env


def _as_run(step: str) -> str:
    step += "".join(cap for start, cap in CAPS.items() if step.startswith(start))
    if "training.accelerator=gpu" in step and not __import__("torch").cuda.is_available():
        step += " --set training.accelerator=cpu --set training.devices=2"
    return step


def _state_dict(work: Path, step: str) -> None:
    """Before `epizoo weights ENTRY FILE`: the "train it, save its state dict" of the page's prose."""
    from test_model_template import _trained_state
    from safetensors.torch import save_file

    _, _, entry, state = shlex.split(step)[:4]
    save_file(_trained_state(work / entry, steps=2), str(work / state))


def _move_into_zoo(work: Path, step: str) -> None:
    """Before `epizoo check MyMethod/MyModel`: step 5's "Move the folder under zoo/MyMethod/MyModel"."""
    method, name = shlex.split(step)[2].split("/")
    assert REPO / "zoo" / method == CONTRIBUTED
    CONTRIBUTED.mkdir()
    shutil.move(work / name, CONTRIBUTED / name)


def _authors_avocado_release(work: Path, step: str) -> None:
    """Before `epizoo convert avocado PREFIX OUT --layout BED`: the authors' PREFIX.json + PREFIX.h5
    (the independent Keras writer of the conversion test) and a layout that fits its positions."""
    from test_avocado_conversion import SIZES, _save_release

    words = shlex.split(step)
    _, written = _save_release(work, **SIZES)
    for suffix in (".json", ".h5"):
        Path(f"{written}{suffix}").rename(work / f"{words[3]}{suffix}")
    (work / words[words.index("--layout") + 1]).write_text(f"chr19\t0\t{SIZES['n_positions'] * 25}\n")


BEFORE = {"epizoo weights ": _state_dict, "epizoo check MyMethod/": _move_into_zoo,
          "epizoo convert avocado ": _authors_avocado_release}


def test_every_documented_line_is_run_or_explained():
    steps = [step for page in shell_pages() for step in shell_lines(page)]
    assert len(steps) > 40
    unused = [start for start in NOT_RUN if not any(step.startswith(start) for step in steps)]
    assert not unused, f"NOT_RUN names lines no page shows: {unused}"


@pytest.mark.needs("shared_data", "tensorflow", "onnx")
@pytest.mark.parametrize("page", shell_pages())
def test_the_page_runs_as_written(page, tmp_path):
    assert (Path(sys.prefix) / ".epizoo-stamp").read_text().split()[0] == _fingerprint(), \
        "the environment is not the one scripts/dev.sh builds from this checkout: run bash scripts/dev.sh test"
    work, env = _sandbox(tmp_path), _environment(tmp_path)
    for name, text in _yaml_files(page).items():
        (work / name).write_text(text)
    assignments = []
    shutil.rmtree(CONTRIBUTED, ignore_errors=True)
    try:
        for step in shell_lines(page):
            if _not_run(step):
                continue
            for start, before in BEFORE.items():
                if step.startswith(start):
                    before(work, step)
            script = "\n".join(["set -euo pipefail", *assignments, _as_run(step)])
            started = time.perf_counter()
            result = subprocess.run(["bash", "-c", script], cwd=work, env=env, input="\n" * 100,
                                    capture_output=True, text=True, timeout=900)
            print(f"{time.perf_counter() - started:6.1f} s  {step}")
            assert result.returncode == 0, f"{page}: `{step}` failed:\n{result.stdout[-2000:]}\n{result.stderr[-4000:]}"
            if re.match(r"^\w+=", step):
                assignments.append(step)
    finally:
        shutil.rmtree(CONTRIBUTED, ignore_errors=True)
