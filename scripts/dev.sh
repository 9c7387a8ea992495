#!/usr/bin/env bash
# The two set-up-and-run commands of the README:
#   bash scripts/dev.sh demo   set up .venv (or reuse it) and run the main job on examples/
#   bash scripts/dev.sh test   set up .venv with the test extras and run the test suite
# The virtual environment is built from the project's own pinned files only
# (requirements/*.txt, torch==2.13.0) and rebuilt when they change.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${EPIZOO_VENV:-.venv}
PYTHON=${PYTHON:-$(command -v python3.11 || command -v python3)}

fingerprint() {  # what the environment is built from
    cat requirements/*.txt pyproject.toml setup.py | sha256sum | cut -c1-16
}

up_to_date() {  # up_to_date [extras...]: built from these files, with at least these extras
    local stamp="$VENV/.epizoo-stamp" extra
    [[ -f "$stamp" && "$(head -1 "$stamp")" == "$(fingerprint)" ]] || return 1
    for extra in "$@"; do grep -qxF "$extra" "$stamp" || return 1; done
}

setup() {  # setup [extra requirement files...]
    if up_to_date "$@"; then
        return
    fi
    echo "setting up $VENV (this takes a few minutes the first time)" >&2
    "$PYTHON" -m venv "$VENV"
    local pip=("$VENV/bin/python" -m pip install --quiet --disable-pip-version-check)
    "${pip[@]}" setuptools==80.10.2 wheel
    # torch first and pinned: an unpinned torch resolves to a multi-GB CUDA build
    "${pip[@]}" torch==2.13.0
    "${pip[@]}" -r requirements/base.txt
    for extra in "$@"; do "${pip[@]}" -r "$extra"; done
    "${pip[@]}" --no-deps -e .
    { fingerprint; printf '%s\n' "$@"; } > "$VENV/.epizoo-stamp"
}

case "${1:-}" in
    demo)
        setup
        exec bash scripts/demo.sh
        ;;
    test)
        setup requirements/dev.txt requirements/tf.txt requirements/onnx.txt
        shift
        exec "$VENV/bin/python" -m pytest "$@"
        ;;
    *)
        echo "usage: bash scripts/dev.sh demo|test [pytest args]" >&2
        exit 64
        ;;
esac
