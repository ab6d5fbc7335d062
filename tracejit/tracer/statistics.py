"""``np.average``, ``np.cov`` and ``np.corrcoef`` as NumPy's ``numpy/lib/_function_base_impl.py``
computes them: the observations cast to ``result_type(m, y, float64)`` (or ``dtype``),
rows as variables unless ``rowvar=False``, the row means subtracted, ``X @ X.T``
scaled by ``1 / (N - ddof)`` (``ddof`` 1 unless ``bias``), then squeezed (one variable
gives a 0-d array). ``corrcoef`` divides by the outer product of the standard
deviations and clips to [-1, 1]. Weights (``fweights``, ``aweights``) and complex
data are not traced: NumPy validates weights by their values, and the complex clip
writes through ``c.real``; such calls run eagerly. ``average`` with weights multiplies
in ``result_type(a, weights)`` (float64 for integer data), and raises NumPy's
ZeroDivisionError when some weights sum to zero.
"""
from __future__ import annotations

import numpy as np

from . import functions, linalg, reductions, ufuncs
from .errors import UnsupportedError
from .location import user_loc
from numpy.lib.array_utils import normalize_axis_tuple

from .layout import c_ordered_copy
from .shapes import as_traced, broadcast_to, concatenate, reshape, transpose
from .state import as_value, current, wrap
from .ufuncs import astype


def cov(m, y=None, rowvar=True, bias=False, ddof=None, fweights=None, aweights=None, *, dtype=None):
    if fweights is not None or aweights is not None:
        raise UnsupportedError("np.cov with fweights/aweights", "cov", user_loc())
    if ddof is not None and ddof != int(ddof):
        raise ValueError("ddof must be integer")
    x = as_traced(m)
    if x.ndim > 2:
        raise ValueError("m has more than 2 dimensions")
    other = None
    if y is not None:
        other = as_traced(y)
        if other.ndim > 2:
            raise ValueError("y has more than 2 dimensions")
    if dtype is None:
        dtype = functions.result_type(x, np.float64) if other is None else \
            functions.result_type(x, other, np.float64)
    dtype = np.dtype(dtype)
    if dtype.kind == "c":
        raise UnsupportedError("np.cov of complex values", "cov", user_loc())
    X = astype(x, dtype)
    if X.ndim < 2:
        X = reshape(X, (1,) * (2 - X.ndim) + X.shape)
    if not rowvar and x.ndim != 1:
        X = transpose(X)
    if X.shape[0] == 0:
        return as_traced(np.array([]).reshape(0, 0))
    if other is not None:
        Y = astype(other, dtype)
        if Y.ndim < 2:
            Y = reshape(Y, (1,) * (2 - Y.ndim) + Y.shape)
        if not rowvar and Y.shape[0] != 1:
            Y = transpose(Y)
        X = concatenate((X, Y), axis=0)
    if ddof is None:
        ddof = 1 if bias == 0 else 0
    average = reductions.mean(X, axis=1)
    fact = X.shape[1] - ddof
    if fact <= 0:
        fact = 0.0                  # NumPy warns "Degrees of freedom <= 0 for slice"
    centered = ufuncs.apply("subtract", (X, reshape(average, (-1, 1))))
    if centered.dtype != X.dtype:                        # X -= avg[:, None]
        centered = astype(centered, X.dtype)
    c = linalg.dot(centered, transpose(centered))
    with np.errstate(divide="ignore"):
        scale = np.true_divide(1, fact)
    scaled = ufuncs.apply("multiply", (c, scale))
    if scaled.dtype != c.dtype:                          # c *= ...
        scaled = astype(scaled, c.dtype)
    squeezed = tuple(n for n in scaled.shape if n != 1)
    return wrap(reshape(scaled, squeezed)._value)


def corrcoef(x, y=None, rowvar=True, *, dtype=None):
    c = cov(x, y, rowvar, dtype=dtype)
    if c.ndim == 0:                  # one variable: NaN for 0, inf or NaN, else 1 (a NumPy scalar)
        return ufuncs.apply("true_divide", (c, c))
    if c.ndim != 2:
        raise ValueError("Input must be 1- or 2-d.")
    from .shapes import diagonal
    stddev = ufuncs.apply("sqrt", (diagonal(c),))
    c = ufuncs.apply("true_divide", (c, reshape(stddev, (-1, 1))))
    c = ufuncs.apply("true_divide", (c, reshape(stddev, (1, -1))))
    return functions.clip(c, -1, 1)


def _weights_along(w, x, axis):
    """NumPy's ``_weights_are_valid``: weights of x's shape, or of the extents of `axis`
    (in its order), laid out to broadcast against x."""
    if w.shape == x.shape:
        return w
    if axis is None:
        raise TypeError("Axis must be specified when shapes of a and weights differ.")
    if w.shape != tuple(x.shape[d] for d in axis):
        raise ValueError("Shape of weights must be consistent with shape of a along specified axis.")
    w = transpose(w, tuple(np.argsort(axis)))
    return reshape(w, tuple(n if d in axis else 1 for d, n in enumerate(x.shape)))


def average(a, axis=None, weights=None, returned=False, *, keepdims=np._NoValue):
    x = as_traced(a)
    if axis is not None:
        axis = normalize_axis_tuple(axis, x.ndim, argname="axis")
    keep = {} if keepdims is np._NoValue else {"keepdims": keepdims}
    if weights is None:
        avg = reductions.mean(x, axis, **keep)
        scale = wrap(current().constant(x.size / avg.size, avg.dtype), scalar=True)   # 0 / 0 raises, as NumPy's
    else:
        w = _weights_along(as_traced(weights), x, axis)
        extra = ("f8",) if x.dtype.kind in "biu" else ()
        dtype = np.result_type(x.dtype, w.dtype, *extra)
        scale = reductions.sum(w, axis, dtype, **keep)
        product = ufuncs.apply("multiply", (astype(x, dtype), astype(w, dtype)))
        avg = ufuncs.apply("true_divide", (reductions.sum(product, axis, **keep), scale))
        nonzero = reductions.all(ufuncs.apply("not_equal", (scale, 0.0)))
        checked = current().emit("require", [avg._value, as_value(nonzero)],
                                 {"error": "ZeroDivisionError", "message": "Weights sum to zero, can't be normalized"})
        avg = wrap(checked, scalar=avg._scalar)
    if not returned:
        return avg
    if scale.shape != avg.shape:
        scale = c_ordered_copy(broadcast_to(scale, avg.shape))
    return avg, scale


HANDLERS = {np.cov: cov, np.corrcoef: corrcoef, np.average: average}
