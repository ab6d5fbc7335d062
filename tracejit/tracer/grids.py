"""Evenly spaced values and coordinate grids: ``linspace``, ``logspace``, ``meshgrid``, ``tile``.

These are NumPy functions whose arguments may be traced (``np.linspace(lo, hi, n)``
with ``lo`` an argument). Called with no traced argument, NumPy itself runs while
tracing and its result is a constant of the trace; with one, the function is rebuilt
here from iotas, ufuncs and movement ops, step for step as NumPy's own Python code
computes it, so dtypes and roundings are NumPy's:

- ``linspace``: ``arange(num) * step + start`` in the inexact result dtype of the
  endpoints (``delta / div`` where the step underflows to 0, as NumPy decides it),
  the last sample set to ``stop`` exactly when ``endpoint``, then ``axis``, floor for
  integer dtypes and the cast; ``retstep`` returns NumPy's step (NaN for ``div <= 0``);
- ``logspace``: ``base ** linspace(...)``;
- ``meshgrid``: reshaped inputs broadcast (``indexing='xy'`` swaps the first two
  axes), copied unless ``copy=False`` (then views, as NumPy's);
- ``tile``: the input, with one length-1 axis before each of its axes, broadcast to
  the repetitions and reshaped (a copy, as NumPy's).
"""
from __future__ import annotations

import math
import operator

import numpy as np

from . import reductions, ufuncs
from .proxy import TracedArray
from .shapes import as_traced, broadcast_arrays, broadcast_to, emit, expand_dims, moveaxis, reshape
from .state import current, wrap
from .ufuncs import astype


def _traced(*values) -> bool:
    return any(isinstance(v, TracedArray) for v in values)


def _inexact(start, stop) -> np.dtype:
    """``_array_converter(start, stop).result_type(ensure_inexact=True)``: Python
    scalars weak, integers and bools promoted to the default float."""
    from .functions import result_type
    dtype = result_type(start, stop)
    return dtype if dtype.kind in "fc" else np.result_type(dtype, 1.0)


def _operands(start, stop):
    """NumPy's ``as_arrays()``: Python scalars stay (weak) Python scalars next to an
    array, and become arrays when both are Python scalars (traced Python floats too)."""
    def is_array(x):
        return isinstance(x, (np.ndarray, np.generic)) or isinstance(x, TracedArray) and not x.type.weak
    if is_array(start) or is_array(stop):
        return start, stop
    return as_traced(start), as_traced(stop)


def linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0, *, device=None):
    """``np.linspace`` (see the module doc)."""
    if not _traced(start, stop):
        return np.linspace(start, stop, num, endpoint, retstep, dtype, axis, device=device)
    num = operator.index(num)
    if num < 0:
        raise ValueError(f"Number of samples, {num}, must be non-negative.")
    div = (num - 1) if endpoint else num
    start, stop = _operands(start, stop)
    dt = _inexact(start, stop)
    integer_dtype = dtype is not None and np.issubdtype(dtype, np.integer)
    dtype = dt if dtype is None else np.dtype(dtype)
    delta = ufuncs.apply("subtract", (astype(stop, dt), astype(start, dt)))
    y = wrap(current().emit("iota", (), {"shape": (num,), "axis": 0, "dtype": dt}))
    y = reshape(y, (-1,) + (1,) * delta.ndim)
    if div > 0:
        step = ufuncs.apply("true_divide", (delta, div))
        is_zero = ufuncs.apply("equal", (step, 0))
        if delta.ndim:                     # NumPy: one decision for the whole array
            is_zero = reductions.any(is_zero)
        # a step that underflows to 0 (denormal endpoints): NumPy scales by delta after dividing
        scaled = ufuncs.apply("multiply", (ufuncs.apply("true_divide", (y, div)), delta))
        y = ufuncs.apply("multiply", (y, step))
        y = wrap(emit("where", [is_zero, scaled, y]))
    else:
        step = float("nan")
        y = ufuncs.apply("multiply", (y, delta))
    y = astype(ufuncs.apply("add", (y, start)), dt)          # y += start (same_kind in-place)
    if endpoint and num > 1:
        from .writes import setitem
        setitem(y, (-1, Ellipsis), stop)
    if axis != 0:
        y = moveaxis(y, 0, axis)
    if integer_dtype:
        y = ufuncs.apply("floor", (y,))
    y = astype(y, dtype) if y.dtype != dtype else wrap(y._value)
    if retstep:
        return y, step
    return y


def logspace(start, stop, num=50, endpoint=True, base=10.0, dtype=None, axis=0):
    """``np.logspace``: ``base ** linspace(start, stop, num, endpoint, axis=axis)``."""
    if not _traced(start, stop, base):
        return np.logspace(start, stop, num, endpoint, base, dtype, axis)
    if not isinstance(base, (float, int)) and np.ndim(base):
        shapes = [np.shape(x) if not isinstance(x, TracedArray) else x.shape for x in (start, stop, base)]
        ndmax = len(np.broadcast_shapes(*shapes))
        start, stop, base = (_at_least(x, ndmax) for x in (start, stop, base))
        base = expand_dims(base, axis)
    if not _traced(start, stop):
        y = as_traced(np.linspace(start, stop, num=num, endpoint=endpoint, axis=axis))
    else:
        y = linspace(start, stop, num=num, endpoint=endpoint, axis=axis)
    result = ufuncs.apply("power", (base, y))
    return result if dtype is None else astype(result, dtype)


def _at_least(x, ndim):
    """``np.array(x, copy=None, ndmin=ndim)``: leading length-1 axes."""
    x = as_traced(x)
    return x if x.ndim >= ndim else reshape(x, (1,) * (ndim - x.ndim) + x.shape)


def meshgrid(*xi, copy=True, sparse=False, indexing="xy"):
    """``np.meshgrid`` (a tuple, as NumPy 2 returns)."""
    if indexing not in ("xy", "ij"):
        raise ValueError("Valid values for `indexing` are 'xy' and 'ij'.")
    ndim = len(xi)
    ones = (1,) * ndim
    output = [reshape(as_traced(x), ones[:i] + (-1,) + ones[i + 1:]) for i, x in enumerate(xi)]
    if indexing == "xy" and ndim > 1:
        output[0] = reshape(output[0], (1, -1) + ones[2:])
        output[1] = reshape(output[1], (-1, 1) + ones[2:])
    if not sparse:
        output = list(broadcast_arrays(*output))
    if copy:
        from .layout import c_ordered_copy
        output = [c_ordered_copy(x) for x in output]
    return tuple(output)


def tile(A, reps):
    """``np.tile``: A repeated `reps` times per axis (reps padded with 1s in front,
    or A with length-1 axes in front, to the same length)."""
    try:
        tup = tuple(operator.index(r) for r in reps)
    except TypeError:
        tup = (operator.index(reps),)
    x = as_traced(A)
    if len(tup) > x.ndim:
        x = reshape(x, (1,) * (len(tup) - x.ndim) + x.shape)
    tup = (1,) * (x.ndim - len(tup)) + tup
    if any(t < 0 for t in tup):
        raise ValueError("negative dimensions are not allowed")
    shape_out = tuple(s * t for s, t in zip(x.shape, tup))
    if all(t == 1 for t in tup):
        return wrap(reshape(x, shape_out)._value)                   # a copy
    if math.prod(shape_out) == 0:
        return wrap(emit("broadcast_to", [current().constant(0, x.dtype)], {"shape": shape_out}))
    spread = reshape(x, tuple(d for s in x.shape for d in (1, s)))
    wide = broadcast_to(spread, tuple(d for s, t in zip(x.shape, tup) for d in (t, s)))
    return wrap(emit("reshape", [wide], {"shape": shape_out}))


HANDLERS = {np.linspace: linspace, np.logspace: logspace, np.meshgrid: meshgrid, np.tile: tile}
