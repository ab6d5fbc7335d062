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

It is an opt-in lowering step that a backend applies where it pays: the Triton backend
uses it for rows longer than one block (each extra loop would re-read the row from GPU
memory). The Numba backend does not: there a row is re-read from L1/L2 cache, and the
separate loops vectorize while the online updates do not (measured 3-5x slower).

The two kinds' accumulator statements (``RULES`` of ``accumulate.py``) are defined here
too, in terms of ordinary elementwise ops, so every backend can render them.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from .accumulate import RULES, Builder
from .nest import Compute, Constant, IndexValue, Load, Reduction


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


def _through_casts(defs, name):
    stmt = defs.get(name)
    while isinstance(stmt, Compute) and stmt.op.name == "cast":
        name = stmt.args[0]
        stmt = defs.get(name)
    return name


def _is_mean(defs, name, total, count) -> bool:
    """`name` is total / count (casts allowed around either), count the row length."""
    div = _compute(defs, _through_casts(defs, name), "div")
    if not div or _through_casts(defs, div.args[0]) != total:
        return False
    divisor = defs.get(_through_casts(defs, div.args[1]))
    return isinstance(divisor, Constant) and float(divisor.value) == float(count)


def _match_variance(shapes, first, second, mean_segment, count):
    """second.src == D * D (or square(D)) with D = A' - mean, A' the same as first.src and
    mean = first.acc / count computed in the segment right after `first`'s phase."""
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
    return sub.args[1] in {stmt.dst for stmt in mean_segment if hasattr(stmt, "dst")} and \
        _is_mean(defs, sub.args[1], first.acc, count)


def merge_online_phases(nest):
    """A copy of `nest` with mergeable pairs of reduction phases merged (or `nest`)."""
    shapes = _Shapes(nest)
    row_length = 1
    for d in nest.inner_axes:
        row_length *= nest.domain[d]
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
        elif _match_variance(shapes, first, second, segments[k + 1], row_length):
            kind = "welford_sum_m2"
        else:
            k += 1
            continue
        merged = replace(first_phase, reductions=[Reduction(first.acc, kind, first.src, first.src_dtype,
                                                            first.dtype, partner=second.acc)])
        phases[k:k + 2] = [merged]
        # what ran between the two phases, and after the second, now runs after the merged one
        segments[k + 1:k + 3] = [segments[k + 1] + segments[k + 2]]
        changed = True
    if not changed:
        return nest
    return replace(nest, phases=phases, segments=segments)


def _max_sumexp(b: Builder, red, init, body, final):
    """Per lane: running max m and sum s of exp(x - m). A larger x rescales s by
    exp(m_old - m_new) (1 when the max is unchanged, also for equal infinities); lanes
    past the row's end add nothing. After the loop the lanes' (m, s) pairs combine."""
    a, p, t = red.acc, red.partner, np.dtype(red.dtype)
    init += [b.init(f"{a}_v", -np.inf, t), b.init(f"{p}_v", 0.0, t), b.const(f"{a}_one", 1.0, t),
             b.const(f"{a}_zero", 0.0, t), b.const(f"{a}_ninf", -np.inf, t)]
    b.dtypes[red.src] = np.dtype(red.src_dtype)
    x = b.converted(body, red.src, t, f"{a}_x")
    body += [b.fill(f"{a}_xm", x, -np.inf),
             b.op(f"{a}_new", "maximum", (f"{a}_v", f"{a}_xm")),
             b.op(f"{a}_same", "eq", (f"{a}_v", f"{a}_new")),
             b.op(f"{a}_d", "sub", (f"{a}_v", f"{a}_new")),
             b.op(f"{a}_e", "exp", (f"{a}_d",)),
             b.op(f"{a}_scale", "where", (f"{a}_same", f"{a}_one", f"{a}_e"), t),
             b.op(f"{a}_xd", "sub", (f"{a}_xm", f"{a}_new")),
             b.op(f"{a}_xe", "exp", (f"{a}_xd",)),
             # a lane that has seen only -inf adds exp(x - max) = 0, not exp(-inf + inf)
             b.op(f"{a}_none", "eq", (f"{a}_new", f"{a}_ninf")),
             b.op(f"{a}_xs", "where", (f"{a}_none", f"{a}_zero", f"{a}_xe"), t),
             b.fill(f"{a}_xz", f"{a}_xs", 0.0),
             b.op(f"{p}_r", "mul", (f"{p}_v", f"{a}_scale")),
             b.op(f"{p}_v", "add", (f"{p}_r", f"{a}_xz"), t, accumulate=True),
             b.op(f"{a}_v", "maximum", (f"{a}_v", f"{a}_xm"), t, accumulate=True)]
    final += [b.reduce_lanes((a,), (f"{a}_v",), "maximum"),
              b.op(f"{a}_fe", "eq", (f"{a}_v", a)),
              b.op(f"{a}_fd", "sub", (f"{a}_v", a)),
              b.op(f"{a}_fx", "exp", (f"{a}_fd",)),
              b.op(f"{p}_fs", "mul", (f"{p}_v", f"{a}_fx")),
              b.op(f"{p}_fw", "where", (f"{a}_fe", f"{p}_v", f"{p}_fs"), t),
              b.reduce_lanes((f"{p}_fr",), (f"{p}_fw",), "add"),
              # a row of -inf only: exp(x - max) is NaN in the two-pass form, so is its sum
              b.op(f"{a}_fall", "eq", (a, f"{a}_ninf")),
              b.const(f"{a}_nan", np.nan, t),
              b.op(p, "where", (f"{a}_fall", f"{a}_nan", f"{p}_fr"), t)]


def _welford(b: Builder, red, init, body, final):
    """Per lane: the plain sum (the user's mean is computed from it), and Welford's
    count n, running mean and M2; the lanes' (n, mean, M2) combine by Chan et al."""
    a, p, t = red.acc, red.partner, np.dtype(red.dtype)
    init += [b.init(f"{a}_v", 0.0, t), b.init(f"{a}_n", 0.0, t), b.init(f"{a}_mean", 0.0, t),
             b.init(f"{p}_v", 0.0, t), b.const(f"{a}_one", 1.0, t), b.const(f"{a}_zero", 0.0, t)]
    b.dtypes[red.src] = np.dtype(red.src_dtype)
    x = b.converted(body, red.src, t, f"{a}_x")
    body += [b.fill(f"{a}_xm", x, 0.0),
             b.op(f"{a}_v", "add", (f"{a}_v", f"{a}_xm"), t, accumulate=True),
             b.fill(f"{a}_1", f"{a}_one", 0.0),
             b.op(f"{a}_n", "add", (f"{a}_n", f"{a}_1"), t, accumulate=True),
             b.op(f"{a}_d", "sub", (x, f"{a}_mean")),
             b.op(f"{a}_nn", "maximum", (f"{a}_n", f"{a}_one")),
             b.op(f"{a}_q", "div", (f"{a}_d", f"{a}_nn")),
             b.fill(f"{a}_qm", f"{a}_q", 0.0),
             b.op(f"{a}_mn", "add", (f"{a}_mean", f"{a}_qm")),
             b.op(f"{a}_dx", "sub", (x, f"{a}_mn")),
             b.op(f"{p}_r", "mul", (f"{a}_d", f"{a}_dx")),
             b.fill(f"{p}_rm", f"{p}_r", 0.0),
             b.op(f"{p}_v", "add", (f"{p}_v", f"{p}_rm"), t, accumulate=True),
             b.op(f"{a}_mean", "add", (f"{a}_mean", f"{a}_qm"), t, accumulate=True)]
    final += [b.reduce_lanes((a,), (f"{a}_v",), "add"),
              b.reduce_lanes((f"{a}_ns",), (f"{a}_n",), "add"),
              b.op(f"{a}_tot", "maximum", (f"{a}_ns", f"{a}_one")),
              b.op(f"{a}_nm", "mul", (f"{a}_n", f"{a}_mean")),
              b.reduce_lanes((f"{a}_nms",), (f"{a}_nm",), "add"),
              b.op(f"{a}_all", "div", (f"{a}_nms", f"{a}_tot")),
              b.op(f"{a}_dm", "sub", (f"{a}_mean", f"{a}_all")),
              b.op(f"{a}_c1", "mul", (f"{a}_n", f"{a}_dm")),
              b.op(f"{a}_c2", "mul", (f"{a}_c1", f"{a}_dm")),
              b.op(f"{p}_w", "add", (f"{p}_v", f"{a}_c2")),
              b.op(f"{a}_pos", "gt", (f"{a}_n", f"{a}_zero")),
              b.op(f"{p}_ws", "where", (f"{a}_pos", f"{p}_w", f"{a}_zero"), t),
              b.reduce_lanes((p,), (f"{p}_ws",), "add")]


RULES["online_max_sumexp"] = _max_sumexp
RULES["welford_sum_m2"] = _welford
