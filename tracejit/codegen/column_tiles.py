"""Reductions over leading axes walk memory row by row: column tiles (Numba).

A kernel reducing over axis 0 of a C-ordered [n0, n1] array iterates its outer points
(columns) and, for each, the reduced axis: ``in0[i0, i1]`` for i0 = 0..n0 strides by a
whole row per read. Rows that are a multiple of 4 KiB apart fall in the same cache
sets, so every read misses (4096x4096 float32: 216 ms where NumPy takes 4 ms).

When the last domain axis L is an outer one and some inner (reduced) axis precedes it,
the Numba kernel instead takes a tile of ``TILE`` consecutive outer points along L at
a time, and every per-outer-point value (accumulators, segment values) lives in a
small array with one element per lane (``acc_v[_l]``, see ``Renderer.lane_arrays``):

    for _lo in range(start, stop, TILE):       # (or over L inside the other outer loops)
        _w = min(TILE, stop - _lo)
        for _l in range(_w): i1 = _lo + _l; <segment 0>
        for _l in range(_w): <phase k init>
        for i0 in range(n0):                     # the reduced axes
            for _l in range(_w): i1 = _lo + _l; <phase k body>     # contiguous, vectorizes
        for _l in range(_w): <phase k final, segment k+1>
        for i0 in range(n0):
            for _l in range(_w): i1 = _lo + _l; <epilogue>

The statements and their order per point are unchanged, so results are bit-identical
to the column-at-a-time form.
"""
from __future__ import annotations

import numpy as np

from ..ir.nest import Accumulate, AccInit, Compute, Constant, IndexValue, Load

# 2048 lanes: each row's read covers 8 KiB (two pages at float32), long enough runs for
# the TLB and the prefetchers; a 4096x4096 float32 column sum took 6.5 ms at 256 lanes,
# 3.3 ms at 1024 and 3.0 ms at 2048 (NumPy 3.2 ms). An accumulator's lane array is then
# 16 KiB of float64, in L1/L2.
TILE = 2048


def applies(nest) -> bool:
    if not nest.inner_axes or any(p.scan for p in nest.phases):
        return False
    last = len(nest.domain) - 1
    return last in nest.outer_axes and min(nest.inner_axes) < last


def _per_point_names(nest) -> dict:
    """Names defined once per outer point (segments, phase inits and finals), with
    the dtypes of their values."""
    found = {}
    blocks = list(nest.segments) + [p.init for p in nest.phases] + [p.final for p in nest.phases]
    for block in blocks:
        for stmt in block:
            if isinstance(stmt, (AccInit, Compute, Constant, IndexValue, Load)) and \
                    not isinstance(stmt, Accumulate):
                found[stmt.dst] = np.dtype(stmt.dtype)
    return found


def walk(r, nest, holder_name) -> None:
    """Render `nest` (lowered) with column tiles; `holder_name(dtype)` names the NumPy
    type a value of `dtype` is held in."""
    d = r.d
    last = len(nest.domain) - 1
    r.emit(nest.preamble)
    names = _per_point_names(nest)
    for name, dtype in names.items():
        r.line(f"{name}_v = np.empty({TILE}, {holder_name(dtype)})", effect=True)
    r.lane_arrays = set(names)
    outer = nest.outer_axes
    depth = 0
    if outer[0] == last:
        r.open(f"for _lo in range(start, stop, {TILE}):")
        r.line(f"_w = min({TILE}, stop - _lo)", ("_w",))
        depth += 1
    else:
        r.open(f"for i{outer[0]} in range(start, stop):")
        depth += 1
        for axis in outer[1:]:
            if axis == last:
                extent = d.index(r, nest.domain_sizes[axis])
                r.open(f"for _lo in range(0, {extent}, {TILE}):")
                r.line(f"_w = min({TILE}, {extent} - _lo)", ("_w",))
            else:
                r.open(f"for i{axis} in range({d.index(r, nest.domain_sizes[axis])}):")
            depth += 1

    def lanes(block):
        if not block:
            return
        r.open("for _l in range(_w):")
        r.line(f"i{last} = _lo + _l", (f"i{last}",))
        r.emit(block)
        r.close()

    lanes(nest.segments[0])
    for k, phase in enumerate(nest.phases):
        r.comment(f"reduction phase {k} ({TILE} columns at a time)")
        lanes(phase.init)
        d.enter_inner(r, nest, f"phase {k}")
        lanes(phase.body)
        d.leave_inner(r, nest)
        lanes(phase.final + nest.segments[k + 1])
    if nest.epilogue:
        r.comment("epilogue")
        d.enter_inner(r, nest, "epilogue")
        lanes(nest.epilogue)
        d.leave_inner(r, nest)
    for _ in range(depth):
        r.close()
    r.lane_arrays = set()


__all__ = ["TILE", "applies", "walk"]
