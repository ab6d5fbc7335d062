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
