"""``np.median``, ``np.quantile`` and ``np.percentile`` (the default ``linear`` method),
as NumPy 2's ``numpy/lib/_function_base_impl.py`` computes them, on a copy partitioned at
the positions read (``np.partition``, as NumPy's own; NaN last).

- median: the mean of the middle one or two elements (so integers give float64 and
  float32 stays float32), NaN where the slice holds a NaN;
- quantile: virtual index ``(n - 1) * q``, the neighbours below and above it, and
  NumPy's ``_lerp`` (``a + (b - a) * t``, or ``b - (b - a) * (1 - t)`` where
  ``t >= 0.5``), ``q`` in float64 and, when it is a Python scalar, the fraction ``t``
  a weak Python float (NumPy 2.4's ``weak_q``: float32 data stay float32); NaN
  where the slice holds a NaN. ``q`` must be a constant (its values pick the indices).
Other methods, weights, ``out=`` and ``overwrite_input=`` run eagerly.
"""
from __future__ import annotations

import operator

import numpy as np
from numpy.lib.array_utils import normalize_axis_index

from . import compositions, functions, reductions, shapes, sorting, ufuncs
from .errors import UnsupportedError
from .location import user_loc
from .proxy import TracedArray
from .shapes import as_traced
from .state import current, wrap
from .ufuncs import astype


def _sorted_along(a, axis, keepdims, positions):
    """(copy partitioned at the positions `positions(n)` gives for an axis of length n,
    the data it came from, axis along which, shape the result is reshaped to with
    keepdims). Negative positions count from the end."""
    x = as_traced(a)
    if axis is None:
        kept = (1,) * x.ndim
        x, axis = shapes.ravel(x), 0
    elif isinstance(axis, (tuple, list)):
        raise UnsupportedError("np.median/np.quantile over several axes", "median", user_loc())
    else:
        axis = normalize_axis_index(operator.index(axis), x.ndim)
        kept = tuple(1 if d == axis else n for d, n in enumerate(x.shape))
    n = x.shape[axis]
    kth = [k % n for k in positions(n)] if n else []
    return sorting.partitioned(x, axis, kth), x, axis, kept if keepdims else None


def _at(x, axis, start, stop=None):
    index = [slice(None)] * x.ndim
    index[axis] = slice(start, stop) if stop is not None else start
    return x[tuple(index)]


def _nan_where_any(data, axis, result):
    """NaN where the slice of `data` along `axis` holds one, with that NaN's sign: NumPy
    copies the NaN its partition leaves last (a sort here may drop the sign bit, as
    ``np.sort`` does; of NaNs of both signs, the negative one is taken)."""
    if data.dtype.kind not in "fc" or data.shape[axis] == 0:
        return result
    nans = ufuncs.apply("isnan", (data,))
    has_nan = reductions.any(nans, axis=axis)
    if data.dtype.kind == "c":
        nan = wrap(current().constant(np.nan, result.dtype))
    else:
        negative = reductions.any(ufuncs.apply("logical_and", (nans, compositions.signbit(data))), axis=axis)
        nan = functions.where(negative, wrap(current().constant(-np.nan, result.dtype)),
                              wrap(current().constant(np.nan, result.dtype)))
    return wrap(functions.where(has_nan, nan, result)._value, scalar=result._scalar)


def _kept(result, shape):
    return result if shape is None else shapes.reshape(result, shape)


def median(a, axis=None, out=None, overwrite_input=False, keepdims=False):
    if out is not None:
        raise UnsupportedError("np.median(..., out=...)", "median", user_loc())
    _not_overwritten("median", overwrite_input)
    x, data, axis, kept = _sorted_along(a, axis, keepdims, lambda n: [n // 2] if n % 2 else [n // 2 - 1, n // 2])
    n = x.shape[axis]
    middle = _at(x, axis, n // 2, n // 2 + 1) if n % 2 else _at(x, axis, n // 2 - 1, n // 2 + 1)
    result = reductions.mean(middle, axis=axis)
    return _kept(_nan_where_any(data, axis, result), kept)


def _lerp(a, b, t):
    """NumPy's _lerp: a + (b - a) * t, and b - (b - a) * (1 - t) where t >= 0.5. A
    Python float t (a Python scalar q) stays weak, as NumPy keeps it."""
    step = ufuncs.apply("subtract", (b, a))
    if isinstance(t, float):
        if t >= 0.5:
            return ufuncs.apply("subtract", (b, ufuncs.apply("multiply", (step, 1 - t))))
        return ufuncs.apply("add", (a, ufuncs.apply("multiply", (step, t))))
    low = ufuncs.apply("add", (a, ufuncs.apply("multiply", (step, t))))
    one = wrap(current().constant(1, t.dtype))
    high = ufuncs.apply("subtract", (b, ufuncs.apply("multiply", (step, ufuncs.apply("subtract", (one, t))))))
    high = astype(high, low.dtype) if high.dtype != low.dtype else high
    return functions.where(ufuncs.apply("greater_equal", (t, 0.5)), high, low)


def _quantile(a, q, weak, axis, keepdims):
    x, data, axis, kept = _sorted_along(a, axis, keepdims, lambda n: _neighbours(n, q))
    n = x.shape[axis]
    virtual = (n - 1) * q
    below = np.floor(virtual)
    above = below + 1
    below = np.where(virtual >= n - 1, -1, np.where(virtual < 0, 0, below)).astype(np.intp)
    above = np.where(virtual >= n - 1, -1, np.where(virtual < 0, 0, above)).astype(np.intp)
    gamma = np.asanyarray(virtual - np.floor(virtual), dtype=np.asarray(virtual).dtype)
    moved = shapes.moveaxis(x, axis, 0)
    if np.asarray(virtual).dtype.kind in "iu":     # integer q (0 or 1): NumPy takes the element itself
        result = _nan_where_any(data, axis, functions.take(moved, np.asarray(virtual, dtype=np.intp), axis=0))
        if gamma.ndim == 0:
            result = wrap(result._value, scalar=result.ndim == 0 and kept is None)
        return shapes.reshape(result, gamma.shape + kept) if kept is not None else result
    lower, upper = functions.take(moved, below, axis=0), functions.take(moved, above, axis=0)
    if weak:
        t = float(gamma)
    else:
        t = wrap(current().constant(gamma, gamma.dtype)) if gamma.ndim == 0 else \
            shapes.reshape(as_traced(gamma), gamma.shape + (1,) * (moved.ndim - 1))
    result = _nan_where_any(data, axis, _lerp(lower, upper, t))
    if gamma.ndim and kept is not None:
        return shapes.reshape(result, gamma.shape + kept)
    if gamma.ndim == 0:
        result = wrap(result._value, scalar=result.ndim == 0 and kept is None)
    return _kept(result, kept)


def _neighbours(n, q):
    """The positions the linear method reads for an axis of length n (see _quantile)."""
    virtual = np.asarray((n - 1) * q, dtype=np.float64).ravel()
    below = np.clip(np.floor(virtual), 0, n - 1).astype(np.intp)
    return [int(k) for k in np.unique(np.concatenate([below, np.minimum(below + 1, n - 1)]))]


def _checked_q(q, scale, name):
    """(q as NumPy 2 takes it: divided by `scale` in float64, within [0, 1]; whether it
    was a Python scalar, which keeps the result's dtype the data's)."""
    if isinstance(q, TracedArray):
        raise UnsupportedError(f"np.{name} of a traced q", name, user_loc())
    weak = type(q) in (int, float)
    q = np.asanyarray(np.true_divide(q, scale) if scale != 1 else q)
    if q.ndim > 2:
        raise ValueError("q must be a scalar or 1d")
    if not (np.all(q >= 0) and np.all(q <= 1)):
        raise ValueError("Percentiles must be in the range [0, 100]" if scale == 100
                         else "Quantiles must be in the range [0, 1]")
    return q, weak


def _quantile_of(a, q, weak, axis, keepdims):
    x = as_traced(a)
    if x.dtype.kind == "c":
        raise TypeError("a must be an array of real numbers")
    return _quantile(x, q, weak, axis, keepdims)


def _options_supported(name, out, overwrite_input, method, weights, interpolation):
    if out is not None or method != "linear" or weights is not None or interpolation is not None:
        raise UnsupportedError(f"np.{name} with out=, weights=, or a method other than 'linear'", name, user_loc())
    _not_overwritten(name, overwrite_input)


def _not_overwritten(name, overwrite_input):
    """``overwrite_input=True`` lets NumPy partition the input in place: run eagerly,
    so the caller's array is left as NumPy leaves it."""
    if overwrite_input:
        raise UnsupportedError(f"np.{name}(..., overwrite_input=True)", name, user_loc())


def quantile(a, q, axis=None, out=None, overwrite_input=False, method="linear", keepdims=False, *,
             weights=None, interpolation=None):
    _options_supported("quantile", out, overwrite_input, method, weights, interpolation)
    return _quantile_of(a, *_checked_q(q, 1, "quantile"), axis, keepdims)


def percentile(a, q, axis=None, out=None, overwrite_input=False, method="linear", keepdims=False, *,
               weights=None, interpolation=None):
    _options_supported("percentile", out, overwrite_input, method, weights, interpolation)
    return _quantile_of(a, *_checked_q(q, 100, "percentile"), axis, keepdims)


HANDLERS = {np.median: median, np.quantile: quantile, np.percentile: percentile}
