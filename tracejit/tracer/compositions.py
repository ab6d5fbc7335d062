"""NumPy ufuncs and functions traced as the ops NumPy's own code computes them with.

Ufuncs (``UFUNCS``, reached through ``__array_ufunc__``): ``deg2rad``/``radians`` and
``rad2deg``/``degrees`` (one multiply by NumPy's constant in the loop dtype: float32
uses ``float32(180) / float32(pi)`` as NumPy's ``npy_rad2degf``), ``signbit`` (the sign
bit itself, so ``-0.0`` and ``-nan`` count), ``copysign``, ``heaviside``, ``logaddexp2``
and ``modf``.

Functions (``HANDLERS``): ``np.fix``, ``np.sinc`` (NumPy 2's: ``eps`` of the dtype at 0), ``np.select``, ``np.diag``,
``np.rot90``, ``np.cross`` (3-vectors along the last axes) and ``np.trapezoid``, each
following ``numpy/lib`` step by step, so dtypes and roundings are NumPy's.
"""
from __future__ import annotations

import operator

import numpy as np
from numpy.lib.array_utils import normalize_axis_index

from . import functions, index_arrays, reductions, shapes, ufuncs
from .errors import UnsupportedError
from .location import user_loc
from .proxy import TracedArray
from .shapes import as_traced
from .state import current, wrap
from .ufuncs import astype

_SIGNED_VIEW = {np.dtype(np.float32): np.int32, np.dtype(np.float64): np.int64}


def _loop_dtype(ufunc, *inputs) -> np.dtype:
    """The dtype NumPy's loop for `ufunc` computes in (TypeError as NumPy's); a traced
    Python scalar is weak, as the Python scalar itself."""
    types = tuple(x.dtype if isinstance(x, TracedArray) and not x._value.type.weak else x.__class__
                  for x in inputs)
    return ufunc.resolve_dtypes(types + (None,))[-1]


def _constant(value, dtype):
    return wrap(current().constant(value, np.dtype(dtype)))


def _in(x, dtype) -> TracedArray:
    x = as_traced(x)
    return astype(x, dtype) if x.dtype != dtype else x


def _scaled(ufunc, factor32, factor64):
    def scale(x):
        x = as_traced(x)
        dtype = _loop_dtype(ufunc, x)
        if dtype == np.float16:        # NumPy's half loop: computed in float32, rounded once
            return astype(ufuncs.apply("multiply", (_in(x, np.float32), _constant(factor32, np.float32))), dtype)
        factor = factor32 if dtype == np.float32 else factor64
        return ufuncs.apply("multiply", (_in(x, dtype), _constant(factor, dtype)))
    return scale


_DEG2RAD = _scaled(np.deg2rad, np.float32(np.float32(np.pi) / np.float32(180)), np.pi / 180.0)
_RAD2DEG = _scaled(np.rad2deg, np.float32(np.float32(180) / np.float32(np.pi)), 180.0 / np.pi)


def signbit(x):
    x = as_traced(x)
    if x.dtype.kind in "iu" or x.dtype == np.bool_:
        return ufuncs.apply("less", (x, 0)) if x.dtype.kind == "i" else \
            ufuncs.apply("not_equal", (x, x))           # never set: False everywhere
    if x.dtype == np.float16:
        x = astype(x, np.float32)                       # exact, sign bit and NaN sign kept
    bits = shapes.view(x, _SIGNED_VIEW[x.dtype])
    return ufuncs.apply("less", (bits, 0))


def copysign(a, b):
    dtype = _loop_dtype(np.copysign, a, b)
    a, b = _in(a, dtype), _in(b, dtype)
    magnitude = ufuncs.apply("absolute", (a,))
    return _ufunc_result(functions.where(signbit(b), ufuncs.apply("negative", (magnitude,)), magnitude))


def _ufunc_result(x):
    """A ufunc's 0-d result is a NumPy scalar."""
    return wrap(x._value, scalar=True) if x.ndim == 0 else x


def heaviside(x, h0):
    dtype = _loop_dtype(np.heaviside, x, h0)
    x, h0 = _in(x, dtype), _in(h0, dtype)
    step = functions.where(ufuncs.apply("less", (x, 0)), _constant(0, dtype), _constant(1, dtype))
    step = functions.where(ufuncs.apply("equal", (x, 0)), h0, step)
    return _ufunc_result(functions.where(ufuncs.apply("isnan", (x,)), _constant(np.nan, dtype), step))


def logaddexp2(x, y):
    """NumPy's npy_logaddexp2: x + 1 where x == y (infinities of one sign), else the
    larger plus log2(1 + 2^-|x - y|) (log1p scaled by log2(e)); NaN stays NaN. float16
    is computed in float32, as NumPy's half loop."""
    dtype = _loop_dtype(np.logaddexp2, x, y)
    work = np.dtype(np.float32) if dtype == np.float16 else dtype
    x, y = _in(x, work), _in(y, work)
    log2e = _constant(np.float32(np.log2(np.e)) if work == np.float32 else np.log2(np.e), work)
    tmp = ufuncs.apply("subtract", (x, y))
    above = ufuncs.apply("add", (x, ufuncs.apply("multiply", (log2e, ufuncs.apply("log1p", (
        ufuncs.apply("exp2", (ufuncs.apply("negative", (tmp,)),)),))))))
    below = ufuncs.apply("add", (y, ufuncs.apply("multiply", (log2e, ufuncs.apply("log1p", (
        ufuncs.apply("exp2", (tmp,)),))))))
    result = functions.where(ufuncs.apply("greater", (tmp, 0)), above,
                             functions.where(ufuncs.apply("less_equal", (tmp, 0)), below, tmp))
    result = functions.where(ufuncs.apply("equal", (x, y)), ufuncs.apply("add", (x, _constant(1, work))), result)
    return _ufunc_result(_in(result, dtype))


def modf(x):
    """(fractional part, integral part): trunc(x) and x - trunc(x) with x's sign (so
    -2.0 gives -0.0, and infinities a zero fraction); exact in every float dtype."""
    operand = x.dtype if isinstance(x, TracedArray) and not x._value.type.weak else x.__class__
    dtype = np.modf.resolve_dtypes((operand, None, None))[-1]
    x = _in(x, dtype)
    whole = ufuncs.apply("trunc", (x,))
    fraction = ufuncs.apply("subtract", (x, whole))
    fraction = functions.where(ufuncs.apply("isinf", (x,)), _constant(0, dtype), fraction)
    return _ufunc_result(copysign(fraction, x)), _ufunc_result(whole)


UFUNCS = {"deg2rad": _DEG2RAD, "radians": _DEG2RAD, "rad2deg": _RAD2DEG, "degrees": _RAD2DEG,
          "signbit": signbit, "copysign": copysign, "heaviside": heaviside, "logaddexp2": logaddexp2,
          "modf": modf}


def fix(x, out=None):
    """np.fix: ceil, then floor where x >= 0; a scalar for 0-d input."""
    if out is not None:
        raise UnsupportedError("np.fix(..., out=...)", "fix", user_loc())
    x = as_traced(x)
    result = functions.where(ufuncs.apply("greater_equal", (x, 0)), ufuncs.apply("floor", (x,)),
                             ufuncs.apply("ceil", (x,)))
    return wrap(result._value, scalar=result.ndim == 0)      # NumPy's res[()] of a 0-d result


def sinc(x):
    """np.sinc: x = pi * x; y = where(x, x, eps of x's dtype); sin(y) / y."""
    x = ufuncs.apply("multiply", (np.pi, as_traced(x)))
    eps = np.finfo(x.dtype).eps if x.dtype.kind == "f" else 1e-20
    y = functions.where(ufuncs.apply("not_equal", (x, 0)), x, _constant(eps, x.dtype))
    return ufuncs.apply("true_divide", (ufuncs.apply("sin", (y,)), y))


def select(condlist, choicelist, default=0):
    """np.select: the choice of the first condition that holds, else `default`."""
    if len(condlist) != len(choicelist):
        raise ValueError("list of cases must be same length as list of conditions")
    if len(choicelist) == 0:
        raise ValueError("select with an empty condition list is not possible")
    choices = [as_traced(c) if isinstance(c, (TracedArray, np.ndarray)) else c for c in choicelist]
    if isinstance(default, np.ndarray):
        default = as_traced(default)
    dtype = np.result_type(*[c.dtype if isinstance(c, TracedArray) else c for c in choices],
                           default.dtype if isinstance(default, TracedArray) else default)
    conds = []
    for k, cond in enumerate(condlist):
        cond = as_traced(cond)
        if cond.dtype != np.bool_:
            raise TypeError(f"invalid entry {k} in condlist: should be boolean ndarray")
        conds.append(cond)
    result = None
    for cond, choice in zip(reversed(conds), reversed(choices)):
        rest = result if result is not None else _in(default, dtype) if isinstance(default, TracedArray) \
            else _constant(default, dtype)
        result = functions.where(cond, _in(choice, dtype), rest)
    shape = np.broadcast_shapes(*[c.shape for c in conds], *[np.shape(c) for c in choices], np.shape(default))
    result = _in(result, dtype)
    return functions.copy(shapes.broadcast_to(result, shape)) if result.shape != shape else result


def diag(v, k=0):
    """np.diag: the k-th diagonal of a 2-D array (NumPy's read-only view), or a 2-D
    array with the 1-D `v` on its k-th diagonal and zeros elsewhere."""
    v = as_traced(v)
    k = operator.index(k)
    if v.ndim == 2:
        return shapes.diagonal(v, k)
    if v.ndim != 1:
        raise ValueError("Input must be 1- or 2-d.")
    n = v.shape[0] + abs(k)
    pad = _constant(0, v.dtype)
    if abs(k):
        padded = shapes.concatenate([v, shapes.broadcast_to(pad, (abs(k),))])
    else:
        padded = v
    values = shapes.reshape(padded, (n, 1) if k >= 0 else (1, n))
    return functions.where(index_arrays.diagonal_mask(n, k), values, pad)


def rot90(m, k=1, axes=(0, 1)):
    axes = tuple(axes)
    if len(axes) != 2:
        raise ValueError("len(axes) must be 2.")
    m = as_traced(m)
    if axes[0] == axes[1] or abs(axes[0] - axes[1]) == m.ndim:
        raise ValueError("Axes must be different.")
    if axes[0] >= m.ndim or axes[0] < -m.ndim or axes[1] >= m.ndim or axes[1] < -m.ndim:
        raise ValueError(f"Axes={axes} out of range for array of ndim={m.ndim}.")
    k %= 4
    if k == 0:
        return m[:]
    if k == 2:
        return shapes.flip(shapes.flip(m, axes[0]), axes[1])
    order = list(range(m.ndim))
    order[axes[0]], order[axes[1]] = order[axes[1]], order[axes[0]]
    if k == 1:
        return shapes.transpose(shapes.flip(m, axes[1]), order)
    return shapes.flip(shapes.transpose(m, order), axes[1])


def cross(a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    """np.cross of 3-vectors along the last axes (NumPy's products and differences)."""
    a, b = as_traced(a), as_traced(b)
    if axis is not None or (axisa, axisb, axisc) != (-1, -1, -1) or a.shape[-1:] != (3,) or b.shape[-1:] != (3,):
        raise UnsupportedError("np.cross other than of 3-vectors along the last axes", "cross", user_loc())
    a0, a1, a2 = (a[..., j] for j in range(3))
    b0, b1, b2 = (b[..., j] for j in range(3))

    def minus(p, q, r, s):
        return ufuncs.apply("subtract", (ufuncs.apply("multiply", (p, q)), ufuncs.apply("multiply", (r, s))))
    parts = [minus(a1, b2, a2, b1), minus(a2, b0, a0, b2), minus(a0, b1, a1, b0)]
    return shapes.stack(parts, axis=-1)


def trapezoid(y, x=None, dx=1.0, axis=-1):
    y = as_traced(y)
    axis = normalize_axis_index(operator.index(axis), y.ndim)
    if x is None:
        d = dx
    else:
        x = as_traced(x)
        if x.ndim == 1:
            d = functions.diff(x)
            shape = [1] * y.ndim
            shape[axis] = d.shape[0]
            d = shapes.reshape(d, tuple(shape))
        else:
            d = functions.diff(x, axis=axis)
    upper = tuple(slice(1, None) if j == axis else slice(None) for j in range(y.ndim))
    lower = tuple(slice(None, -1) if j == axis else slice(None) for j in range(y.ndim))
    heights = ufuncs.apply("add", (y[upper], y[lower]))
    areas = ufuncs.apply("true_divide", (ufuncs.apply("multiply", (d, heights)), 2.0))
    return reductions.sum(areas, axis)


HANDLERS = {np.fix: fix, np.sinc: sinc, np.select: select, np.diag: diag, np.rot90: rot90, np.cross: cross,
            np.trapezoid: trapezoid}
