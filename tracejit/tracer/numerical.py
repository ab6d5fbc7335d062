"""np.gradient (uniform spacing), np.polyval, np.kron, np.angle, np.isin and
np.linalg.matrix_power, written as the NumPy operations numpy/lib computes them with.

They run on traced arrays: every operator and NumPy call below dispatches back to the
tracer, so dtypes, promotions and roundings are what NumPy's own code gives.
"""
from __future__ import annotations

import operator

import numpy as np
from numpy.lib.array_utils import normalize_axis_tuple

from .errors import UnsupportedError
from .location import user_loc
from .proxy import TracedArray
from .shapes import as_traced


def _refuse(what):
    raise UnsupportedError(what, what.split("(")[0], user_loc())


def gradient(f, *varargs, axis=None, edge_order=1):
    """Central differences inside, one-sided (edge_order 1) or second-order one-sided
    (edge_order 2) differences at the ends, per axis; scalar spacings only."""
    f = as_traced(f)
    if f.ndim == 0 or f.dtype == np.bool_:
        _refuse(f"np.gradient of a {'0-d' if f.ndim == 0 else 'bool'} array")
    axes = tuple(range(f.ndim)) if axis is None else normalize_axis_tuple(axis, f.ndim)
    if not varargs:
        spacing = [1.0] * len(axes)
    elif len(varargs) == 1 and np.ndim(varargs[0]) == 0:
        spacing = list(varargs) * len(axes)
    elif len(varargs) == len(axes):
        spacing = list(varargs)
    else:
        raise TypeError("invalid number of arguments")
    if any(np.ndim(d) != 0 for d in spacing):
        _refuse("np.gradient(f, coordinates) with non-uniform spacing")
    if edge_order > 2:
        raise ValueError("'edge_order' greater than 2 not supported")
    out_dtype = f.dtype
    if f.dtype.kind in "iu":
        f = f.astype(np.float64)
        out_dtype = np.dtype(np.float64)
    results = []
    for ax, dx in zip(axes, spacing):
        if f.shape[ax] < edge_order + 1:
            raise ValueError("Shape of array too small to calculate a numerical gradient, "
                             "at least (edge_order + 1) elements are required.")

        def part(start, stop, ax=ax):
            return f[(slice(None),) * ax + (slice(start, stop),)]
        interior = (part(2, None) - part(None, -2)) / (2. * dx)
        if edge_order == 1:
            first = (part(1, 2) - part(0, 1)) / dx
            last = (part(-1, None) - part(-2, -1)) / dx
        else:
            first = (-1.5 / dx) * part(0, 1) + (2. / dx) * part(1, 2) + (-0.5 / dx) * part(2, 3)
            last = (0.5 / dx) * part(-3, -2) + (-2. / dx) * part(-2, -1) + (1.5 / dx) * part(-1, None)
        result = np.concatenate([first, interior, last], axis=ax)
        results.append(result.astype(out_dtype) if result.dtype != out_dtype else result)
    return results[0] if len(results) == 1 else tuple(results)


def polyval(p, x):
    """Horner's rule from zeros_like(x), one coefficient of p after the other."""
    if isinstance(p, np.poly1d) or isinstance(x, np.poly1d):
        _refuse("np.polyval of a np.poly1d")
    p = p if isinstance(p, TracedArray) else np.asarray(p)
    if p.ndim != 1:
        _refuse("np.polyval with coefficients that are not a 1-D sequence")
    x = as_traced(x)
    y = np.zeros_like(x)
    for k in range(p.shape[0]):
        y = y * x + p[k]
    return y


def kron(a, b):
    """Both operands brought to one rank, interleaved by inserted axes, multiplied, and
    the product reshaped to the shapes' products (numpy/lib/_shape_base_impl.py)."""
    a, b = as_traced(a), as_traced(b)
    nda, ndb = a.ndim, b.ndim
    if nda == 0 or ndb == 0:
        return np.multiply(a, b)
    nd = max(nda, ndb)
    a_shape = (1,) * max(0, ndb - nda) + a.shape
    b_shape = (1,) * max(0, nda - ndb) + b.shape
    a = np.expand_dims(a, axis=tuple(range(ndb - nda)))
    b = np.expand_dims(b, axis=tuple(range(nda - ndb)))
    a = np.expand_dims(a, axis=tuple(range(1, nd * 2, 2)))
    b = np.expand_dims(b, axis=tuple(range(0, nd * 2, 2)))
    return np.multiply(a, b).reshape(tuple(int(m) * int(n) for m, n in zip(a_shape, b_shape)))


def angle(z, deg=False):
    """arctan2(imag, real): of real z arctan2(0, z) (pi for negative numbers and -0.0);
    in degrees if asked."""
    z = as_traced(z)
    a = np.arctan2(z.imag, z.real) if z.dtype.kind == "c" else np.arctan2(0, z)
    return a * (180 / np.pi) if deg else a


def isin(element, test_elements, assume_unique=False, invert=False, *, kind=None):
    """Each element compared with every test element (NaN is in nothing), as a bool
    array of element's shape (0-d for a 0-d element, as NumPy's reshape gives)."""
    if kind not in (None, "sort"):            # 'table' raises for floats and for wide ranges
        _refuse(f"np.isin(..., kind={kind!r})")
    element = as_traced(element)
    tests = as_traced(test_elements).ravel()
    flat = element.ravel()
    found = np.any(flat[:, None] == tests[None, :], axis=1)
    if invert:
        found = np.logical_not(found)
    return found.reshape(element.shape)


def matrix_power(a, n):
    """numpy.linalg.matrix_power's products: the identity for 0, the inverse's powers for
    n < 0, direct products up to 3, else squarings by the bits of n from the lowest."""
    a = as_traced(a)
    try:
        n = operator.index(n)
    except TypeError as exc:
        raise TypeError("exponent must be an integer") from exc
    if a.ndim < 2 or a.shape[-1] != a.shape[-2]:
        raise np.linalg.LinAlgError(f"{a.ndim}-dimensional array given. Array must be at least two-dimensional"
                                    if a.ndim < 2 else "Last 2 dimensions of the array must be square")
    if n == 0:
        return np.broadcast_to(np.eye(a.shape[-1], dtype=a.dtype), a.shape).copy()
    if n < 0:
        a, n = np.linalg.inv(a), -n
    if n == 1:
        return a
    if n <= 3:
        return np.matmul(a, a) if n == 2 else np.matmul(np.matmul(a, a), a)
    z = result = None
    while n > 0:
        z = a if z is None else np.matmul(z, z)
        n, bit = divmod(n, 2)
        if bit:
            result = z if result is None else np.matmul(result, z)
    return result


HANDLERS = {np.gradient: gradient, np.polyval: polyval, np.kron: kron, np.angle: angle, np.isin: isin,
            np.linalg.matrix_power: matrix_power}
