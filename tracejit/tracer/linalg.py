"""Linear algebra on traced arrays: matmul, dot, inner, vdot, outer and linalg.norm.

The IR has one ``matmul`` op of rank >= 2 operands; vectors are reshaped around it and
``dot``/``inner`` reduce to it with reshapes and transposes, as NumPy defines them.
``norm`` computes vector norms (any ``ord``) and matrix norms the way ``numpy.linalg``
does, operation for operation (those of singular values in ``linalg_svd.py``).
"""
from __future__ import annotations

import math
import operator

import numpy as np
from numpy.lib.array_utils import normalize_axis_index

from . import shapes, ufuncs
from .errors import UnsupportedError
from .location import user_loc
from .proxy import TracedArray
from .reductions import max, min, sum
from .shapes import as_traced, emit, ravel, reshape
from .state import is_python_scalar, wrap
from .ufuncs import astype


def no_out(name, out):
    if out is not None:
        raise UnsupportedError(f"np.{name}(..., out=...)", name, user_loc())


def matmul(a, b, out=None, **kwargs):
    """np.matmul: vectors are reshaped to matrices around an IR matmul (rank >= 2)."""
    no_out("matmul", out)
    if kwargs:
        raise UnsupportedError("np.matmul keyword arguments", "matmul", user_loc())
    x, y = as_traced(a), as_traced(b)
    for index, operand in enumerate((x, y)):
        if operand.ndim == 0:
            raise ValueError(f"matmul: Input operand {index} does not have enough dimensions (has 0, "
                             "gufunc core with signature (n?,k),(k,m?)->(n?,m?) requires 1)")
    xv, yv = x._value, y._value
    if x.ndim == 1:
        xv = emit("reshape", [xv], {"shape": (1, x.shape[0])})
    if y.ndim == 1:
        yv = emit("reshape", [yv], {"shape": (y.shape[0], 1)})
    if xv.type.shape[-1] != yv.type.shape[-2]:
        raise ValueError(f"matmul: Input operand 1 has a mismatch in its core dimension 0, with "
                         f"gufunc signature (n?,k),(k,m?)->(n?,m?) (size {yv.type.shape[-2]} is "
                         f"different from {xv.type.shape[-1]})")
    result = emit("matmul", [xv, yv])
    shape = result.type.shape
    if x.ndim == 1:
        shape = shape[:-2] + shape[-1:]
    if y.ndim == 1:
        shape = shape[:-1]
    if shape != result.type.shape:
        result = emit("reshape", [result], {"shape": shape})
    return wrap(result, scalar=shape == ())


def matmul_operator(a, b):
    if not all(isinstance(v, (TracedArray, np.ndarray, np.generic, list, tuple, bool, int, float))
               for v in (a, b)):
        return NotImplemented
    if is_python_scalar(a) or is_python_scalar(b):
        raise ValueError("matmul: Input operand does not have enough dimensions")
    return matmul(a, b)


def dot(a, b, out=None):
    """np.dot: scalars multiply; N-D . M-D contracts a's last axis with b's second-to-last."""
    no_out("dot", out)
    x, y = as_traced(a), as_traced(b)
    if x.ndim == 0 or y.ndim == 0:
        return ufuncs.apply("multiply", (x, y))
    if y.ndim <= 2:
        if x.shape[-1] != y.shape[0]:
            raise ValueError(f"shapes {x.shape} and {y.shape} not aligned: {x.shape[-1]} (dim "
                             f"{x.ndim - 1}) != {y.shape[0]} (dim 0)")
        if x.ndim <= 2:
            return matmul(x, y)
        lead = x.shape[:-1]
        result = matmul(reshape(x, (-1, x.shape[-1])), y)
        return wrap(reshape(result, lead + y.shape[1:])._value)
    k = y.shape[-2]
    if x.shape[-1] != k:
        raise ValueError(f"shapes {x.shape} and {y.shape} not aligned: {x.shape[-1]} (dim "
                         f"{x.ndim - 1}) != {k} (dim {y.ndim - 2})")
    perm = (y.ndim - 2,) + tuple(range(y.ndim - 2)) + (y.ndim - 1,)
    y2 = reshape(shapes.transpose(y, perm), (k, -1))
    result = matmul(reshape(x, (-1, k)), y2)
    return wrap(reshape(result, x.shape[:-1] + y.shape[:-2] + y.shape[-1:])._value)


def inner(a, b):
    x, y = as_traced(a), as_traced(b)
    if x.ndim == 0 or y.ndim == 0:
        return ufuncs.apply("multiply", (x, y))
    if x.shape[-1] != y.shape[-1]:
        raise ValueError("shapes not aligned: inner product dimensions differ")
    k = x.shape[-1]
    result = matmul(reshape(x, (-1, k)), shapes.transpose(reshape(y, (-1, k))))
    return wrap(reshape(result, x.shape[:-1] + y.shape[:-1])._value,
                scalar=x.ndim == 1 and y.ndim == 1)


def vdot(a, b):
    """np.vdot: the dot product of the flattened arrays, the first one conjugated."""
    a = shapes.ravel(as_traced(a))
    if a.dtype.kind == "c":
        a = ufuncs.apply("conjugate", (a,))
    return dot(a, shapes.ravel(b))


def _real_dtype(dtype):
    return np.empty(0, dtype).real.dtype


def _squared_magnitude(x):
    """|x|^2 elementwise as NumPy's norm computes it: x * x, or (conj(x) * x).real."""
    if x.dtype.kind == "c":
        return ufuncs.apply("multiply", (ufuncs.apply("conjugate", (x,)), x)).real
    return ufuncs.apply("multiply", (x, x))


def outer(a, b, out=None):
    no_out("outer", out)
    x, y = shapes.ravel(as_traced(a)), shapes.ravel(as_traced(b))
    return ufuncs.apply("multiply", (reshape(x, (-1, 1)), reshape(y, (1, -1))))


def norm(x, ord=None, axis=None, keepdims=False):
    """np.linalg.norm: vector norms (any ord) and matrix norms."""
    x = as_traced(x)
    if x.dtype.kind not in "fc":
        x = astype(x, np.float64)
    nd = x.ndim
    if axis is None and (ord is None or (ord in ("f", "fro") and nd == 2) or (ord == 2 and nd == 1)):
        flat = ravel(x)
        if flat.dtype.kind == "c":
            squared = ufuncs.apply("add", (dot(flat.real, flat.real), dot(flat.imag, flat.imag)))
        else:
            squared = dot(flat, flat)
        result = ufuncs.apply("sqrt", (squared,))
        if keepdims:
            return reshape(result, (1,) * nd)
        return result
    if axis is None:
        axis = tuple(range(nd))
    elif not isinstance(axis, tuple):
        axis = (operator.index(axis),)
    if len(axis) == 1:
        absx = None if ord in (None, 2, 0) or isinstance(ord, str) else ufuncs.apply("absolute", (x,))
        if ord == math.inf:
            return max(absx, axis, keepdims=keepdims, initial=0)
        if ord == -math.inf:
            return min(absx, axis, keepdims=keepdims)
        if ord == 0:
            nonzero = ufuncs.apply("not_equal", (x, 0))
            return sum(astype(nonzero, _real_dtype(x.dtype)), axis, keepdims=keepdims)
        if ord == 1:
            return sum(absx, axis, keepdims=keepdims)
        if ord is None or ord == 2:
            return ufuncs.apply("sqrt", (sum(_squared_magnitude(x), axis, keepdims=keepdims),))
        if isinstance(ord, str):
            raise ValueError(f"Invalid norm order '{ord}' for vectors")
        powered = wrap(absx._value).__pow__(ord)          # absx **= ord (ndarray fast paths)
        powered = astype(powered, absx.dtype) if powered.dtype != absx.dtype else powered
        total = sum(powered, axis, keepdims=keepdims)
        inverse = np.reciprocal(ord, dtype=total.dtype)
        result = ufuncs.apply("power", (wrap(total._value), inverse))
        return astype(result, total.dtype) if result.dtype != total.dtype else result
    if len(axis) == 2:
        row_axis, col_axis = (normalize_axis_index(a, nd) for a in axis)
        if row_axis == col_axis:
            raise ValueError("Duplicate axes given.")
        if ord in (2, -2, "nuc"):
            from .linalg_svd import svd_norm
            result = svd_norm(x, ord, row_axis, col_axis)
        elif ord in (1, -1):
            if col_axis > row_axis:
                col_axis -= 1
            inner = sum(ufuncs.apply("absolute", (x,)), row_axis)
            result = max(inner, col_axis, initial=0) if ord == 1 else min(inner, col_axis)
        elif ord in (math.inf, -math.inf):
            if row_axis > col_axis:
                row_axis -= 1
            inner = sum(ufuncs.apply("absolute", (x,)), col_axis)
            result = max(inner, row_axis, initial=0) if ord == math.inf else min(inner, row_axis)
        elif ord in (None, "fro", "f"):
            result = ufuncs.apply("sqrt", (sum(_squared_magnitude(x), axis),))
        else:
            raise ValueError("Invalid norm order for matrices.")
        if keepdims:
            shape = list(x.shape)
            shape[axis[0]] = 1
            shape[axis[1]] = 1
            return reshape(result, shape)
        return result
    raise ValueError("Improper number of dimensions to norm.")
