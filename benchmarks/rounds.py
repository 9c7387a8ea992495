"""Interleaved rounds for the benchmarks: every contender once per round, the order rotating, so that a
passing load on this machine slows all of them rather than one."""
from __future__ import annotations

from collections.abc import Callable


def interleaved(runs: dict[str, Callable[[], float]], repeats: int) -> dict[str, list[float]]:
    """Each run's seconds in every one of ``repeats`` rounds (each run returns its own time)."""
    times: dict[str, list[float]] = {name: [] for name in runs}
    names = list(runs)
    for round_ in range(repeats):
        shift = round_ % len(names)
        for name in names[shift:] + names[:shift]:
            times[name].append(runs[name]())
    return times


def report(times: dict[str, list[float]], work: int, unit: str) -> dict[str, float]:
    """Print each run's best time, ``work / best`` per second, and every round; return the best times."""
    best = {name: min(values) for name, values in times.items()}
    for name, seconds in best.items():
        spread = ", ".join(f"{t:.2f}" for t in times[name])
        print(f"{name:11s} {seconds:7.2f} s  {work / seconds:8.1f} {unit}/s  (every round: {spread} s)")
    return best
