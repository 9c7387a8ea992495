"""`epizoo.predict` on the CPU sets glibc's malloc to keep freed tensors' memory for reuse, once,
unless EPIZOO_MALLOC=system; elsewhere than glibc it changes nothing."""
from __future__ import annotations

import platform
import subprocess
import sys

import pytest

from epizoo import cpu_memory

GLIBC = platform.libc_ver()[0] == "glibc"


@pytest.fixture(autouse=True)
def _fresh():
    cpu_memory.reuse_freed_memory.cache_clear()
    yield
    cpu_memory.reuse_freed_memory.cache_clear()


def test_it_applies_on_glibc_and_can_be_left_alone(monkeypatch):
    monkeypatch.setenv("EPIZOO_MALLOC", "system")
    assert cpu_memory.reuse_freed_memory() is False
    cpu_memory.reuse_freed_memory.cache_clear()
    monkeypatch.delenv("EPIZOO_MALLOC")
    assert cpu_memory.reuse_freed_memory() is GLIBC


@pytest.mark.skipif(not GLIBC, reason="glibc's malloc only")
def test_a_freed_tensor_is_not_given_back_to_the_system():
    """With the settings, freeing a 16 MiB tensor keeps its pages (no munmap): the resident size
    stays; without them, glibc unmaps it and the resident size drops."""
    script = """
import resource, sys, torch
from epizoo.prediction import predict
def resident():
    return int(open("/proc/self/statm").read().split()[1]) * resource.getpagesize() >> 20
predict(torch.nn.Identity(), torch.zeros(1, 1), device="cpu")
x = torch.ones(4 << 20)
before = resident(); del x
print(before - resident())
"""
    dropped = {}
    for setting in ("epizoo", "system"):
        env = {"EPIZOO_MALLOC": setting, "PATH": ""}
        done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True)
        dropped[setting] = int(done.stdout.split()[-1])
    assert dropped["system"] >= 15 and dropped["epizoo"] < 2, dropped
