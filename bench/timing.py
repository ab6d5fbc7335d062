"""Medians of repeated calls: the one timing rule every bench script uses."""
from __future__ import annotations

import time


def median_seconds(fn, repeats: int) -> float:
    """The median wall time of `repeats` calls of `fn()`, after one untimed warm-up call."""
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2]


def median_ms(fn, repeats: int = 15) -> float:
    return median_seconds(fn, repeats) * 1e3


def median_us(fn, repeats: int = 2001) -> float:
    return median_seconds(fn, repeats) * 1e6


def interleaved_medians_us(calls: dict, repeats: int = 2001, rounds: int = 7) -> dict:
    """Per name of `calls` (name -> fn), the median microseconds per call: `rounds`
    rounds, each timing every fn over ``repeats // rounds`` calls in turn, then the
    median over rounds. Compared callables then see the same moments of a shared,
    noisy machine, where timing one after the other lets a slow spell land on one."""
    per_round = max(1, repeats // rounds)
    found = {name: [] for name in calls}
    for _ in range(rounds):
        for name, fn in calls.items():
            found[name].append(median_seconds(fn, per_round))
    return {name: sorted(values)[len(values) // 2] * 1e6 for name, values in found.items()}
