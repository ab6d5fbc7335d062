"""Merging dependent row reductions into one pass (online algorithms).

A softmax row needs max(a) before sum(exp(a - max)); a layernorm row needs sum(a)
(the mean) before sum((a - mean)**2). Lowered naively each is a separate loop over
the row. ``merge_online_phases`` recognises the two patterns in a LoopNest and
replaces each pair of phases with one two-result reduction, so those rows are read
twice in all (one merged reduction pass, one epilogue pass):

- ``online_max_sumexp`` (acc = max, partner = sum of exp(a - max)): the running sum is
  rescaled whenever the maximum grows: on a new maximum ``s = s*exp(m - a) + exp(a - a)``
  (``exp(a - a)`` is NaN for infinite a, as the two-pass form gives), else
  ``s += exp(a - m)``; NaN in the row makes both results NaN.
- ``welford_sum_m2`` (acc = sum(a), partner = sum((a - mean)**2)): Welford's update of
  count, running mean and M2, alongside the plain sum the user's mean is computed from.
  The result differs from the two-pass form only by rounding.

It is an opt-in rewrite that a backend applies where it pays: the Triton backend uses
it for rows longer than one block (each extra loop would re-read the row from GPU
memory). The Numba backend does not: there a row is re-read from L1/L2 cache, and the
separate loops vectorize while the online updates do not (measured 3-5x slower).
"""
from __future__ import annotations

from dataclasses import replace

from .loopnest import Compute, Constant, IndexValue, Load, Reduction


def _statements(nest):
    blocks = [nest.preamble, *nest.segments, nest.epilogue] + [p.body for p in nest.phases]
    return {stmt.dst: stmt for block in blocks for stmt in block if hasattr(stmt, "dst")}


class _Shapes:
    """Structural keys of scalars: equal keys compute the same value."""

    def __init__(self, nest):
        self.defs = _statements(nest)
        self.keys: dict = {}

    def key(self, name):
        if name in self.keys:
            return self.keys[name]
        stmt = self.defs.get(name)
        if stmt is None:
            result = ("acc", name)
        elif isinstance(stmt, Load):
            result = ("load", stmt.buffer, repr(stmt.index), stmt.dtype.str)
        elif isinstance(stmt, Compute):
            result = ("compute", stmt.op.name, stmt.dtype.str, tuple(d.str for d in stmt.loop_dtypes),
                      tuple(self.key(a) for a in stmt.args), repr(sorted(stmt.attrs.items(), key=str)))
        elif isinstance(stmt, Constant):
            result = ("const", repr(stmt.value), stmt.dtype.str)
        elif isinstance(stmt, IndexValue):
            result = ("index", repr(stmt.index), stmt.dtype.str)
        else:
            result = ("other", name)
        self.keys[name] = result
        return result


def _compute(defs, name, op_name):
    stmt = defs.get(name)
    return stmt if isinstance(stmt, Compute) and stmt.op.name == op_name else None


def _match_softmax(shapes, first, second):
    """second.src == exp(A' - first.acc) with A' the same as first.src?"""
    defs = shapes.defs
    if first.kind != "reduce_max" or second.kind != "reduce_sum" or first.dtype.kind != "f":
        return False
    if second.src_dtype != first.dtype or second.dtype != first.dtype:
        return False
    exp = _compute(defs, second.src, "exp")
    sub = exp and _compute(defs, exp.args[0], "sub")
    return bool(sub) and sub.args[1] == first.acc and exp.dtype == first.dtype and \
        shapes.key(sub.args[0]) == shapes.key(first.src) and sub.dtype == first.dtype


def _match_variance(shapes, first, second, mean_segment):
    """second.src == D * D (or square(D)) with D = A' - mean, A' the same as first.src and
    mean computed in the segment right after `first`'s phase."""
    defs = shapes.defs
    if first.kind != "reduce_sum" or second.kind != "reduce_sum" or first.dtype.kind != "f":
        return False
    if second.dtype != first.dtype or first.src_dtype != first.dtype:
        return False
    square = _compute(defs, second.src, "mul")
    if square and square.args[0] == square.args[1]:
        dev = square.args[0]
    else:
        square = _compute(defs, second.src, "square")
        if not square:
            return False
        dev = square.args[0]
    sub = _compute(defs, dev, "sub")
    if not sub or sub.dtype != first.dtype or shapes.key(sub.args[0]) != shapes.key(first.src):
        return False
    return sub.args[1] in {stmt.dst for stmt in mean_segment if hasattr(stmt, "dst")}


def merge_online_phases(nest):
    """A copy of `nest` with mergeable pairs of reduction phases merged (or `nest`)."""
    shapes = _Shapes(nest)
    k = 0
    phases, segments = list(nest.phases), list(nest.segments)
    changed = False
    while k + 1 < len(phases):
        first_phase, second_phase = phases[k], phases[k + 1]
        if len(first_phase.reductions) != 1 or len(second_phase.reductions) != 1:
            k += 1
            continue
        first, second = first_phase.reductions[0], second_phase.reductions[0]
        if _match_softmax(shapes, first, second):
            kind = "online_max_sumexp"
        elif _match_variance(shapes, first, second, segments[k + 1]):
            kind = "welford_sum_m2"
        else:
            k += 1
            continue
        merged = replace(first_phase, reductions=[Reduction(first.acc, kind, first.src, first.src_dtype, first.dtype,
                                                            first.identity, None, second.acc)])
        phases[k:k + 2] = [merged]
        # what ran between the two phases, and after the second, now runs after the merged one
        segments[k + 1:k + 3] = [segments[k + 1] + segments[k + 2]]
        changed = True
    if not changed:
        return nest
    return replace(nest, phases=phases, segments=segments)
