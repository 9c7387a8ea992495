"""The one skip mechanism (tests/conftest.py NEEDS): a missing need skips, or with --require fails."""
import os
import subprocess
import sys

from conftest import REPO


def _pytest(*args):
    env = {**os.environ, "EPIZOO_SHARED": str(REPO / "no-such-folder")}
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_genome.py", *args],
                          cwd=REPO, env=env, capture_output=True, text=True)


def test_a_missing_need_skips_and_says_how_to_get_it():
    result = _pytest("-rs")
    assert result.returncode == 0 and "skipped" in result.stdout
    assert "needs the real data folder" in result.stdout and "no-such-folder" in result.stdout


def test_a_required_need_that_is_missing_fails_the_run():
    result = _pytest("--require", "shared_data")
    assert result.returncode == 4 and "required but missing: shared_data" in result.stdout + result.stderr
