"""``np.histogram`` with an integer number of equal bins, as NumPy computes it.

NumPy's uniform-bins algorithm (``numpy/lib/_histograms_impl.py``), step for step:
the outer edges are ``range`` or the data's min and max (widened by 0.5 each way when
they are equal), the edges ``linspace(first, last, bins + 1)`` in the inexact result
dtype, each value's bin ``int((x - first) / (last - first) * bins)`` corrected by one
where it disagrees with the edges (``x < edges[i]``, ``x >= edges[i + 1]``), the
last bin closed on the right, and the counts one ``bincount`` (an ``intp`` array).
Values outside ``range`` (and NaN) count nowhere: they go to an extra bin that is
dropped. NumPy's data-dependent errors (an autodetected range that is not finite,
too many bins for the range) are raised when the compiled code runs (``require``).

Not traced (the call runs eagerly): ``weights``, ``bins`` given as edges or as a rule
name (``'auto'``), a traced ``range``, and bool or complex data.
"""
from __future__ import annotations

import operator

import numpy as np

from . import reductions, ufuncs
from .errors import UnsupportedError
from .functions import result_type
from .grids import linspace
from .location import user_loc
from .proxy import TracedArray
from .shapes import as_traced, emit, ravel, slice_axis
from .state import as_value, current, wrap
from .ufuncs import astype

_UNSIGNED = {np.dtype(s): np.dtype(u) for s, u in ((np.int8, np.uint8), (np.int16, np.uint16),
                                                   (np.int32, np.uint32), (np.int64, np.uint64))}


def _apply(name, *operands):
    return ufuncs.apply(name, operands)


def _where(cond, a, b):
    return wrap(current().emit("where", [as_value(cond), as_value(a), as_value(b)]))


def _require(x: TracedArray, ok: TracedArray, message: str) -> TracedArray:
    return wrap(current().emit("require", [x._value, as_value(ok)], {"error": "ValueError", "message": message}))


def _unsigned_subtract(a, b):
    """``a - b`` in their common dtype; for signed integers computed unsigned (no overflow)."""
    dtype = result_type(a, b)
    if dtype in _UNSIGNED:
        return _apply("subtract", astype(astype(a, dtype), _UNSIGNED[dtype]), astype(astype(b, dtype), _UNSIGNED[dtype]))
    return _apply("subtract", astype(a, dtype), astype(b, dtype))


def _concrete_edges(a, value_range):
    """(first, last) of a given range, NumPy's checks and widening included."""
    first, last = value_range
    if isinstance(first, TracedArray) or isinstance(last, TracedArray):
        raise UnsupportedError("np.histogram with a traced range", "histogram", user_loc())
    if first > last:
        raise ValueError("max must be larger than min in range parameter.")
    if not (np.isfinite(first) and np.isfinite(last)):
        raise ValueError(f"supplied range of [{first}, {last}] is not finite")
    if first == last:
        first, last = first - 0.5, last + 0.5
    return first, last


def _data_edges(x: TracedArray):
    """(first, last, equal): min and max, widened where equal (in float64 for integer data,
    where NumPy's two branches differ in dtype but not in any value computed from them)."""
    low, high = reductions.min(x), reductions.max(x)
    finite = _apply("logical_and", _apply("isfinite", low), _apply("isfinite", high))
    low = wrap(_require(low, finite, "autodetected range is not finite")._value, scalar=True)
    equal = _apply("equal", low, high)
    if x.dtype.kind in "iu":
        low, high = astype(low, np.float64), astype(high, np.float64)
    first = _where(equal, _apply("subtract", low, 0.5), low)
    last = _where(equal, _apply("add", high, 0.5), high)
    return wrap(first._value, scalar=True), wrap(last._value, scalar=True), equal


def histogram(a, bins=10, range=None, density=None, weights=None):
    """``np.histogram(a, bins: int, range)``: (counts, edges)."""
    if weights is not None:
        raise UnsupportedError("np.histogram with weights", "histogram", user_loc())
    if isinstance(bins, str) or np.ndim(bins) != 0 or isinstance(bins, TracedArray):
        raise UnsupportedError("np.histogram with bins given as edges or a rule", "histogram", user_loc())
    try:
        n = operator.index(bins)
    except TypeError as exc:
        raise TypeError("`bins` must be an integer, a string, or an array") from exc
    if n < 1:
        raise ValueError("`bins` must be positive, when an integer")
    x = ravel(as_traced(a))
    if x.dtype.kind not in "iuf":
        raise UnsupportedError(f"np.histogram of {x.dtype} data", "histogram", user_loc())
    keep = None
    if range is not None or x.size == 0:
        first, last = _concrete_edges(x, range) if range is not None else (0, 1)
        bin_type = result_type(first, last, x)
        bin_type = np.result_type(bin_type, float) if np.issubdtype(bin_type, np.integer) else bin_type
        edges_np = np.linspace(first, last, n + 1, endpoint=True, dtype=bin_type)
        if np.any(edges_np[:-1] >= edges_np[1:]):
            raise ValueError(f"Too many bins for data range. Cannot create {n} finite-sized bins.")
        edges = as_traced(edges_np)
        denom = as_traced(np.asarray(_concrete_difference(last, first))[()])
        if range is not None:
            keep = _apply("logical_and", _apply("greater_equal", x, first), _apply("less_equal", x, last))
    else:
        first, last, equal = _data_edges(x)
        bin_type = first.dtype
        edges = linspace(first, last, n + 1, endpoint=True, dtype=bin_type)
        increasing = reductions.all(_apply("less", slice_axis(edges, 0, 0, n), slice_axis(edges, 0, 1, n + 1)))
        edges = _require(edges, increasing, f"Too many bins for data range. Cannot create {n} finite-sized bins.")
        if x.dtype.kind in "iu":          # NumPy: the unsigned difference of the integer min and max
            raw = _unsigned_subtract(reductions.max(x), reductions.min(x))
            denom = _where(equal, _apply("subtract", last, first), astype(raw, np.float64))
        else:
            denom = _apply("subtract", last, first)
        denom = wrap(denom._value, scalar=True)
    values = astype(x, edges.dtype) if x.dtype != edges.dtype else x
    fraction = _apply("multiply", _apply("true_divide", _unsigned_subtract(values, first), denom), n)
    index = astype(fraction, np.intp)
    index = _where(_apply("equal", index, n), _apply("subtract", index, 1), index)
    if keep is not None:                  # values out of range: any index, then none
        index = _where(keep, index, 0)
    below = _apply("less", values, _take(edges, index))
    index = _where(below, _apply("subtract", index, 1), index)
    above = _apply("logical_and", _apply("greater_equal", values, _take(edges, _apply("add", index, 1))),
                   _apply("not_equal", index, n - 1))
    index = _where(above, _apply("add", index, 1), index)
    if keep is not None:
        index = _where(keep, index, n)
    counts = wrap(emit("bincount", [index], {"length": n + 1}))
    counts = wrap(slice_axis(counts, 0, 0, n)._value)
    if density:
        widths = astype(_apply("subtract", slice_axis(edges, 0, 1, n + 1), slice_axis(edges, 0, 0, n)), float)
        return _apply("true_divide", _apply("true_divide", counts, widths), reductions.sum(counts)), edges
    return counts, edges


def _take(edges, index):
    return wrap(emit("take", [edges, index], {"axis": 0}))


def _concrete_difference(last, first):
    """NumPy's ``_unsigned_subtract`` of two concrete numbers."""
    dtype = np.result_type(last, first)
    if dtype in _UNSIGNED:
        return np.subtract(np.asarray(last, dtype), np.asarray(first, dtype), casting="unsafe",
                           dtype=_UNSIGNED[dtype])
    return np.subtract(last, first, dtype=dtype)


HANDLERS = {np.histogram: histogram}
