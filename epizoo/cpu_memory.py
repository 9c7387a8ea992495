"""CPU tensors reuse freed memory instead of mapping it afresh from the system.

glibc's malloc serves a block over its mmap threshold (128 kB, raised up to 32 MiB as such blocks
are freed) with a fresh mmap, returns it to the system on free, and also gives back free memory at
the top of its heap beyond twice that threshold. A forward pass that makes a new activation tensor
per operation then page-faults on every 4 kB of every tensor, which can cost more than the
operation itself: FactorNet's forward pass spent over a third of its time so
(benchmarks/bench_factornet.py). `reuse_freed_memory` fixes the mmap threshold at the largest glibc
allows (32 MiB) and keeps up to 256 MiB free at the top of the heap for the next batch. jemalloc and
tcmalloc (LD_PRELOAD), which PyTorch's CPU tuning guide recommends, do the same for a whole process;
this needs nothing installed. Elsewhere than glibc (macOS, musl) nothing changes, and
``EPIZOO_MALLOC=system`` leaves malloc as it is.
"""
from __future__ import annotations

import ctypes
import os
import platform
from functools import lru_cache

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # glibc's malloc.h
MMAP_THRESHOLD = 32 << 20  # glibc's largest on 64-bit systems
TRIM_THRESHOLD = 256 << 20


@lru_cache(maxsize=None)
def reuse_freed_memory() -> bool:
    """Set glibc's malloc to keep freed blocks for reuse (once per process; `epizoo.predict` calls
    it before a forward pass on the CPU). Returns whether the settings apply."""
    if os.environ.get("EPIZOO_MALLOC") == "system" or platform.libc_ver()[0] != "glibc":
        return False
    libc = ctypes.CDLL(None)  # the process's own C library
    return bool(libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(libc.mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))
