"""Results laid out in memory as the program asked: ``x.copy()`` is C-ordered,
``np.asfortranarray(x)`` and ``x.copy(order='F')`` are F-ordered.

The plan picks its own layouts: kernels write C-ordered buffers, and the layout pass
returns ``(x.T + 1)`` as a transposed view of a buffer in x's order. Where the
program requested a layout for a result (the tracer's ``layout.requested_strides``:
a copy, an ``order=`` argument, an array made while tracing), NumPy's result has it
for certain, and code after the call may rely on it (``.flags.c_contiguous`` before a
C extension, ``y.shape = -1``, ``.view(dtype)``). When the plan's own layout for that
result (``copies.slot_layouts``) differs, the result is copied into NumPy's layout
after each call. Layouts NumPy derives from the arguments' (``order='K'``) are not
requested: they stay as the plan makes them (the layout pass follows NumPy's there).
"""
from __future__ import annotations

import numpy as np

from .copies import slot_layouts, trace_leaves


def _equivalent(shape, a, b) -> bool:
    """Two stride tuples lay out `shape` alike (length-1 axes and empty arrays aside)."""
    if 0 in shape:
        return True
    return all(n == 1 or x == y for n, x, y in zip(shape, a, b))


def _dense_order(shape, strides, itemsize):
    """The axis order (outermost first) whose dense layout has `strides`, or None."""
    order = sorted(range(len(shape)), key=lambda d: -abs(strides[d]) if strides[d] is not None else 0)
    step, expected = itemsize, [0] * len(shape)
    for d in reversed(order):
        expected[d] = step
        step *= max(shape[d], 1)
    return order if _equivalent(shape, expected, strides) else None


def relayouts(compilation, copied) -> tuple:
    """(output index -> axis order for the results whose requested layout the plan's does
    not give, the same for the outputs the runtime copies anyway after a run, `copied`,
    which it then copies straight into the requested layout)."""
    plan = compilation.plan
    graph = compilation.graph
    try:
        layouts = slot_layouts(plan, [v.type for v in graph.inputs], compilation.input_strides)
    except Exception:   # noqa: BLE001  (an interpreted plan: its results are NumPy's own)
        return {}, {}
    found, when_copied = {}, {}
    for leaf in trace_leaves(compilation.trace):
        wanted = getattr(leaf, "strides", None)
        if leaf.kind != "traced" or wanted is None or leaf.index < 0:
            continue
        shape, itemsize = tuple(leaf.type.shape), leaf.type.dtype.itemsize
        if any(s is None and n != 1 for s, n in zip(wanted, shape)):
            continue
        wanted = tuple(0 if s is None else s for s in wanted)     # (a length-1 axis: any stride)
        order = _dense_order(shape, wanted, itemsize)
        if order is None:
            continue
        if leaf.index in (copied or ()):
            when_copied[leaf.index] = tuple(order)
            continue
        slot = layouts.get(plan.outputs[leaf.index])
        actual = slot.strides if slot is not None else None
        if actual is not None and None not in actual and not _equivalent(shape, actual, wanted):
            found[leaf.index] = tuple(order)
    return found, when_copied


def relaid(x, order):
    """A copy of `x` in the dense layout whose axes run in `order` (outermost first)."""
    out = np.empty(tuple(x.shape[d] for d in order), x.dtype).transpose(tuple(np.argsort(order)))
    np.copyto(out, x)
    return out


__all__ = ["relaid", "relayouts"]
