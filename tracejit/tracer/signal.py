"""1-D signal functions: ``np.interp``, ``np.convolve`` and ``np.correlate``.

``interp`` follows NumPy's C loop: the interval by a binary search (``searchsorted``),
``fp[j]`` at ``x == xp[j]``, else ``slope * (x - xp[j]) + fp[j]`` with the slope of
that interval, the value from the right end where that gives NaN (and ``fp[j]`` where
both ends agree), ``fp[-1]`` at ``x == xp[-1]``, ``left``/``right`` (default ``fp[0]``/``fp[-1]``) outside, NaN for NaN (``fp[0]`` when
``xp`` holds one sample).
Real values in float64, as NumPy; ``period=`` and complex ``fp`` run eagerly.

``convolve``/``correlate`` of 1-D arrays with a kernel of at most ``MAX_TAPS`` taps: one
shifted slice of the zero-padded signal per tap, multiplied and added (NumPy sums the
same products, in another order: within float tolerance; complex ``correlate``
conjugates ``v``; float16 accumulates in float32). Longer kernels run eagerly.
"""
from __future__ import annotations

import numpy as np

from . import functions, shapes, sorting, ufuncs
from .errors import UnsupportedError
from .location import user_loc
from .shapes import as_traced
from .state import current, wrap
from .ufuncs import astype

MAX_TAPS = 64


def _f64(x):
    x = as_traced(x)
    if x.dtype.kind == "c":
        raise UnsupportedError("np.interp of complex values", "interp", user_loc())
    return astype(x, np.float64) if x.dtype != np.float64 else x


def interp(x, xp, fp, left=None, right=None, period=None):
    if period is not None:
        raise UnsupportedError("np.interp(..., period=...)", "interp", user_loc())
    x, xp, fp = _f64(x), _f64(xp), _f64(fp)
    if xp.ndim != 1 or fp.ndim != 1:
        raise ValueError("object too deep for desired array")
    n = xp.shape[0]
    if fp.shape[0] != n:
        raise ValueError("fp and xp are not of the same length.")
    if n == 0:
        raise ValueError("array of sample points is empty")
    first, last = fp[0], fp[n - 1]
    below = first if left is None else _f64(left)
    above = last if right is None else _f64(right)
    if n == 1:
        inside = shapes.broadcast_to(first, x.shape)
    else:
        j = ufuncs.apply("subtract", (sorting.searchsorted(xp, x, side="right"), 1))
        j = functions.clip(j, 0, n - 2)
        x0, x1 = functions.take(xp, j), functions.take(xp, ufuncs.apply("add", (j, 1)))
        y0, y1 = functions.take(fp, j), functions.take(fp, ufuncs.apply("add", (j, 1)))
        slope = ufuncs.apply("true_divide", (ufuncs.apply("subtract", (y1, y0)), ufuncs.apply("subtract", (x1, x0))))
        from_left = ufuncs.apply("add", (ufuncs.apply("multiply", (slope, ufuncs.apply("subtract", (x, x0)))), y0))
        from_right = ufuncs.apply("add", (ufuncs.apply("multiply", (slope, ufuncs.apply("subtract", (x, x1)))), y1))
        flat = functions.where(ufuncs.apply("equal", (y0, y1)), y0, from_right)
        retry = functions.where(ufuncs.apply("isnan", (from_right,)), flat, from_right)
        inside = functions.where(ufuncs.apply("isnan", (from_left,)), retry, from_left)
        inside = functions.where(ufuncs.apply("equal", (x, x0)), y0, inside)     # no inf * 0 at a sample
        inside = functions.where(ufuncs.apply("equal", (x, xp[n - 1])), last, inside)
    result = functions.where(ufuncs.apply("less", (x, xp[0])), below,
                             functions.where(ufuncs.apply("greater", (x, xp[n - 1])), above, inside))
    if n > 1:                       # NumPy's one-sample loop gives fp[0] for NaN
        result = functions.where(ufuncs.apply("isnan", (x,)), x, result)
    return wrap(result._value, scalar=x.ndim == 0)


def _sliding_sum(a, v, mode, name):
    a, v = as_traced(a), as_traced(v)
    if a.ndim != 1 or v.ndim != 1:
        raise ValueError("object too deep for desired array")
    if a.shape[0] == 0 or v.shape[0] == 0:
        raise ValueError(f"{'v' if v.shape[0] == 0 else 'a'} cannot be empty")
    if min(a.shape[0], v.shape[0]) > MAX_TAPS:
        raise UnsupportedError(f"np.{name} with more than {MAX_TAPS} taps", name, user_loc())
    if mode not in ("full", "same", "valid"):
        raise ValueError(f"mode must be one of 'full', 'same', or 'valid' (got {mode!r})")
    return a, v


def _correlation(a, v, mode):
    """c[k] = sum_n a[n + k] * v[n] over the overlap `mode` keeps, as NumPy's dot per
    output: only the overlapping products (a padded zero would turn ``0 * inf`` into NaN),
    summed from +0.0, float16 accumulated in float32 and rounded once."""
    if v.shape[0] > a.shape[0]:      # NumPy: the reverse, reversed
        return shapes.flip(_correlation(v, a, mode))
    n, m = a.shape[0], v.shape[0]
    before, after = {"valid": (0, 0), "same": (m // 2, m - 1 - m // 2), "full": (m - 1, m - 1)}[mode]
    length = n + before + after - m + 1
    dtype = np.result_type(a.dtype, v.dtype)
    work = np.dtype(np.float32) if dtype == np.float16 else dtype
    a = astype(a, work) if a.dtype != work else a
    v = astype(v, work) if v.dtype != work else v
    total = None
    for tap in range(m):
        first = max(0, before - tap)                # outputs whose a[k + tap - before] exists
        stop = min(length, n + before - tap)
        segment = shapes.slice_axis(a, 0, first + tap - before, stop + tap - before)
        term = ufuncs.apply("multiply", (segment, v[tap]))
        if first or stop < length:
            term = shapes.pad(term, [(first, length - stop)])
        total = term if total is None else ufuncs.apply("add", (total, term))
    if work.kind in "fc":
        total = ufuncs.apply("add", (total, wrap(current().constant(0, work))))
    return astype(total, dtype) if total.dtype != dtype else total


def correlate(a, v, mode="valid"):
    """np.correlate: c[k] = sum_n a[n + k] * conj(v[n])."""
    a, v = _sliding_sum(a, v, mode, "correlate")
    if v.dtype.kind == "c":
        v = ufuncs.apply("conjugate", (v,))
    return _correlation(a, v, mode)


def convolve(a, v, mode="full"):
    """np.convolve: the correlation with the reversed kernel (the longer array is the
    signal), no conjugate."""
    a, v = _sliding_sum(a, v, mode, "convolve")
    if v.shape[0] > a.shape[0]:
        a, v = v, a
    return _correlation(a, shapes.flip(v), mode)


HANDLERS = {np.interp: interp, np.convolve: convolve, np.correlate: correlate}
