"""NumPy functions that are neither shape functions (``shapes.py``), reductions
(``reductions.py``) nor linear algebra (``linalg.py``): where, clip, round, take,
creation-like functions, tril/triu, isclose, diff, trace, result_type. ``HANDLERS``
maps each NumPy function these modules implement to its implementation; ``dispatch.py``
joins it with the other modules' tables.
"""
from __future__ import annotations

import builtins
import operator

import numpy as np
from numpy.lib.array_utils import normalize_axis_index

from . import linalg, reductions, shapes, ufuncs, writes
from .errors import UnsupportedError
from .location import user_loc
from .proxy import TracedArray
from .shapes import as_traced, emit, reshape
from .state import as_value, check_dtype, current, wrap
from .linalg import no_out
from .ufuncs import astype


def copy(a, order="K", subok=False):
    """``np.copy`` (order 'K': the layout of `a`) and ``x.copy()`` (order 'C'), or 'F';
    'A': F where `a` is F-contiguous and not C-contiguous, else C (as NumPy)."""
    x = as_traced(a)
    if order == "A" and not x.type.weak:
        from .layout import is_c_contiguous, is_f_contiguous, known_strides
        strides = known_strides(x)
        if strides is not None:
            fortran = is_f_contiguous(x.shape, strides, x.dtype.itemsize) and \
                not is_c_contiguous(x.shape, strides, x.dtype.itemsize)
            order = "F" if fortran else "C"
    if order in ("C", "F") and not x.type.weak:
        from .layout import ordered_copy
        return ordered_copy(x, order)
    return wrap(x._value)


def where(condition, x=None, y=None):
    if x is None and y is None:
        from .selection import data_dependent
        raise data_dependent("np.where(condition) with one argument")
    if x is None or y is None:
        raise ValueError("either both or neither of x and y should be given")
    cond = as_value(condition, weak=False)
    if cond.type.dtype != np.bool_:
        cond = current().emit("cast", [cond], {"dtype": np.dtype(np.bool_)})
    values = [as_value(v) for v in (x, y)]
    return wrap(current().emit("where", [cond] + values))


def clip(a, a_min=np._NoValue, a_max=np._NoValue, out=None, *, min=np._NoValue, max=np._NoValue,
         **kwargs):
    casting = kwargs.pop("casting", "same_kind")
    if kwargs:
        raise UnsupportedError("np.clip(..., where=/dtype=...)", "clip", user_loc())
    if out is not None:       # np.clip(x, lo, hi, out=x): the clipped values written into out
        return writes.write_out(out, clip(a, a_min, a_max, min=min, max=max), casting)
    if min is not np._NoValue:
        a_min = min
    if max is not np._NoValue:
        a_max = max
    a_min = None if a_min is np._NoValue else a_min
    a_max = None if a_max is np._NoValue else a_max
    result = as_traced(a)
    if a_min is None and a_max is None:
        return copy(result)
    if result.dtype.kind in "iu":
        # NumPy's clip drops a Python int bound that cannot clip (a min at or below the
        # dtype's minimum, a max at or above its maximum); any other bound outside the
        # dtype reaches the ufunc, which raises OverflowError
        info = np.iinfo(result.dtype)
        if type(a_min) is int and a_min <= info.min:
            a_min = None
        if type(a_max) is int and a_max >= info.max:
            a_max = None
        for bound in (a_min, a_max):
            if type(bound) is int and not info.min <= bound <= info.max:
                raise OverflowError(f"Python integer {bound} out of bounds for {result.dtype}")
        if a_min is None and a_max is None:
            return copy(result)
    # the signs of zero on ties: one bound is NumPy's np.maximum(x, lo) or np.minimum(x, hi);
    # two are the clip ufunc, whose float32/64 loop keeps x on a tie when both bounds are
    # single values (scalars, size-1 arrays), else the bound; float16's loop keeps x
    if a_max is None:
        return ufuncs.apply("maximum", (result, a_min))
    if a_min is None:
        return ufuncs.apply("minimum", (result, a_max))
    keep_bound = result.dtype != np.float16 and not all(np.size(b) == 1 for b in (a_min, a_max))
    first_wins = result.dtype == np.float16     # np.maximum/minimum on ties: float16 the first, else the second
    for op, bound in (("maximum", a_min), ("minimum", a_max)):
        result = ufuncs.apply(op, (result, bound) if keep_bound != first_wins else (bound, result))
    return result


def round_(a, decimals=0, out=None):
    """np.round as NumPy's C implementation: multiply by 10**d, rint, divide back."""
    if out is not None:
        raise UnsupportedError("np.round(..., out=...)", "round", user_loc())
    x = as_traced(a)
    decimals = operator.index(decimals)
    if x.dtype.kind in "iu":
        if decimals >= 0:
            return copy(x)
        factor = float(10.0 ** -decimals)
        scaled = ufuncs.apply("true_divide", (x, factor))
        rounded = ufuncs.apply("rint", (scaled,))
        return astype(ufuncs.apply("multiply", (rounded, factor)), x.dtype)
    if x.dtype.kind != "f":
        raise UnsupportedError(f"np.round of {x.dtype}", "round", user_loc())
    if decimals == 0:
        return wrap(ufuncs.apply("rint", (x,))._value, scalar=x._scalar)
    factor = float(10.0 ** abs(decimals))
    first, second = ("multiply", "true_divide") if decimals > 0 else ("true_divide", "multiply")
    scaled = ufuncs.apply(first, (x, factor))
    rounded = ufuncs.apply("rint", (scaled,))
    return wrap(ufuncs.apply(second, (rounded, factor))._value, scalar=x._scalar)


def _index_value(indices, n=None, axis=0):
    if isinstance(indices, TracedArray):
        if indices.dtype.kind not in "iu":
            raise TypeError(f"Cannot cast array data from {indices.dtype!r} to dtype('int64') "
                            "according to the rule 'safe'")
        return indices._value
    array = np.asarray(indices)
    if array.dtype.kind not in "iu":
        if array.size == 0:
            array = array.astype(np.intp)
        else:
            raise TypeError(f"Cannot cast array data from {array.dtype!r} to dtype('int64') "
                            "according to the rule 'safe'")
    if n is not None and array.size and (array.max() >= n or array.min() < -n):
        bad = array.max() if array.max() >= n else array.min()
        raise IndexError(f"index {bad} is out of bounds for axis {axis} with size {n}")
    return as_value(array)


def take(a, indices, axis=None, out=None, mode="raise"):
    no_out("take", out)
    if mode not in ("raise", "wrap", "clip"):
        raise ValueError(f"clipmode must be one of 'clip', 'raise', or 'wrap' (got {mode!r})")
    x = as_traced(a)
    if axis is None:
        x, axis = shapes.ravel(x), 0
    axis = normalize_axis_index(operator.index(axis), x.ndim)
    if mode != "raise":                  # the indices brought into range first, as NumPy's modes do
        n = x.shape[axis]
        if n == 0:
            raise UnsupportedError(f"np.take(mode={mode!r}) from an empty axis", "take", user_loc())
        positions = as_traced(np.asarray(indices) if not isinstance(indices, TracedArray) else indices)
        if positions.dtype.kind not in "iu":
            raise TypeError(f"Cannot cast array data from {positions.dtype!r} to dtype('int64') according to the "
                            "rule 'safe'")
        positions = positions.astype(np.intp)
        indices = positions % n if mode == "wrap" else np.clip(positions, 0, n - 1)
    index = _index_value(indices, x.shape[axis], axis)
    result = emit("take", [x, index], {"axis": axis})
    return wrap(result, scalar=result.type.shape == ())


def take_along_axis(arr, indices, axis=-1):
    x = as_traced(arr)
    if axis is None:
        x, axis = shapes.ravel(x), 0
    axis = normalize_axis_index(operator.index(axis), x.ndim)
    index = _index_value(indices, x.shape[axis], axis)
    if index.type.rank != x.ndim:
        raise ValueError("`indices` and `arr` must have the same number of dimensions")
    return wrap(emit("take_along_axis", [x, index], {"axis": axis}))


def _like(a, fill, dtype, shape, order="K"):
    x = as_traced(a, weak=True)
    dtype = check_dtype(x.dtype if dtype is None else np.dtype(dtype), "full_like")
    shape = x.shape if shape is None else (
        (operator.index(shape),) if not isinstance(shape, (tuple, list)) else tuple(shape))
    if isinstance(fill, TracedArray):
        value = astype(fill, dtype)._value
        value = emit("reshape", [value], {"shape": ()}) if value.type.shape else value
    else:
        value = current().constant(np.asarray(fill).astype(dtype).item(), dtype)
    if shape == ():
        return wrap(value)
    from . import layout
    result = wrap(emit("broadcast_to", [value], {"shape": tuple(shape)}))
    return layout.assign(result, layout.new_layout(tuple(shape), dtype, order, x if tuple(shape) == x.shape else None))


def zeros_like(a, dtype=None, order="K", subok=True, shape=None, *, device=None):
    return _like(a, 0, dtype, shape, order)


def ones_like(a, dtype=None, order="K", subok=True, shape=None, *, device=None):
    return _like(a, 1, dtype, shape, order)


def empty_like(prototype, dtype=None, order="K", subok=True, shape=None, *, device=None):
    return _like(prototype, 0, dtype, shape, order)


def full_like(a, fill_value, dtype=None, order="K", subok=True, shape=None, *, device=None):
    return _like(a, fill_value, dtype, shape, order)


def _tri_mask(shape, k, lower: bool):
    """Boolean (M, N) mask: j - i <= k (lower) or j - i >= k (upper), from iotas."""
    state = current()
    rows = state.emit("iota", (), {"shape": shape, "axis": 0, "dtype": np.dtype(np.int64)})
    cols = state.emit("iota", (), {"shape": shape, "axis": 1, "dtype": np.dtype(np.int64)})
    diff = state.emit("sub", [cols, rows])
    bound = state.constant(operator.index(k), np.int64)
    return state.emit("le" if lower else "ge", [diff, bound])


def _tri(m, k, lower):
    x = as_traced(m)
    if x.ndim == 0:
        raise ValueError("input must be at least 1-d")
    shape = x.shape[-2:] if x.ndim >= 2 else (x.shape[0], x.shape[0])
    mask = _tri_mask(shape, k, lower)
    zero = current().constant(0, x.dtype)
    return wrap(current().emit("where", [mask, x._value, zero]))


def tril(m, k=0):
    return _tri(m, k, True)


def triu(m, k=0):
    return _tri(m, k, False)


def shape(a):
    return as_traced(a, weak=True).shape


def ndim(a):
    return as_traced(a, weak=True).ndim


def size(a, axis=None):
    x = as_traced(a, weak=True)
    return x.size if axis is None else x.shape[axis]


_WEAK_VALUES = {"b": False, "i": 0, "u": 0, "f": 0.0, "c": 0j}


def result_type(*arrays_and_dtypes):
    """``np.result_type``; a traced Python scalar promotes as a Python scalar value
    (weakly: ``float32`` with a traced ``lr`` is ``float32``)."""
    stand_ins = []
    for item in arrays_and_dtypes:
        if isinstance(item, TracedArray):
            stand_ins.append(_WEAK_VALUES[item.dtype.kind] if item.type.weak else item.dtype)
        else:
            stand_ins.append(item)
    return np.result_type(*stand_ins)


def isclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    """NumPy's formula: |a-b| <= atol + rtol*|b|, infinities equal only to themselves."""
    x, y = as_traced(a, weak=True), as_traced(b, weak=True)
    dtype = np.result_type(result_type(x, y), 1.0)
    x, y = astype(x, dtype), astype(y, dtype)
    apply = ufuncs.apply
    finite = apply("logical_and", (apply("isfinite", (x,)), apply("isfinite", (y,))))
    close = apply("less_equal", (apply("absolute", (apply("subtract", (x, y)),)),
                                 apply("add", (atol, apply("multiply", (rtol, apply("absolute", (y,))))))))
    result = apply("logical_or", (apply("logical_and", (finite, close)),
                                  apply("logical_and", (apply("logical_not", (finite,)),
                                                        apply("equal", (x, y))))))
    if equal_nan:
        result = apply("logical_or", (result, apply("logical_and", (apply("isnan", (x,)),
                                                                   apply("isnan", (y,))))))
    return result


def diff(a, n=1, axis=-1, prepend=np._NoValue, append=np._NoValue):
    """``np.diff``: `n` differences along `axis`, after joining `prepend`/`append`
    (``n=0`` gives `a` itself, as NumPy, before anything is joined)."""
    if n == 0:
        return a
    if n < 0:
        raise ValueError("order must be non-negative but got " + repr(n))
    x = as_traced(a)
    if x.ndim == 0:
        raise ValueError("diff requires input that is at least one dimensional")
    axis = normalize_axis_index(axis, x.ndim)
    if prepend is not np._NoValue or append is not np._NoValue:     # NumPy: broadcast, then joined
        parts = []
        for extra in (prepend, None, append):
            if extra is None:
                parts.append(x)
            elif extra is not np._NoValue:
                extra = as_traced(extra)
                if extra.ndim == 0:
                    extra = shapes.broadcast_to(extra, tuple(1 if d == axis else m for d, m in enumerate(x.shape)))
                parts.append(extra)
        x = shapes.concatenate(parts, axis=axis)
    op = "not_equal" if x.dtype == np.bool_ else "subtract"
    for _ in range(n):
        length = x.shape[axis]
        x = ufuncs.apply(op, (shapes.slice_axis(x, axis, 1, length), shapes.slice_axis(x, axis, 0, max(length - 1, 0))))
    return x


def trace(a, offset=0, axis1=0, axis2=1, dtype=None, out=None):
    """``np.trace``: the sum of a diagonal."""
    no_out("trace", out)
    return reductions.sum(shapes.diagonal(a, offset, axis1, axis2), axis=-1, dtype=dtype)


HANDLERS = {
    np.sum: reductions.sum, np.prod: reductions.prod, np.max: reductions.max, np.amax: reductions.max,
    np.min: reductions.min, np.amin: reductions.min, np.any: reductions.any, np.all: reductions.all,
    np.mean: reductions.mean, np.var: reductions.var, np.std: reductions.std,
    np.argmax: reductions.argmax, np.argmin: reductions.argmin, np.ptp: reductions.ptp,
    np.nanmax: reductions.nanmax, np.nanmin: reductions.nanmin,
    np.cumsum: reductions.cumsum, np.cumprod: reductions.cumprod,
    np.linalg.norm: linalg.norm,
    np.reshape: shapes.reshape, np.ravel: shapes.ravel, np.transpose: shapes.transpose,
    np.permute_dims: shapes.transpose, np.matrix_transpose: shapes.matrix_transpose,
    np.swapaxes: shapes.swapaxes, np.moveaxis: shapes.moveaxis, np.expand_dims: shapes.expand_dims,
    np.squeeze: shapes.squeeze, np.broadcast_to: shapes.broadcast_to,
    np.broadcast_arrays: shapes.broadcast_arrays,
    np.atleast_1d: lambda *a: shapes.atleast_nd(1, a), np.atleast_2d: lambda *a: shapes.atleast_nd(2, a),
    np.atleast_3d: lambda *a: shapes.atleast_nd(3, a),
    np.concatenate: shapes.concatenate, np.concat: shapes.concatenate, np.stack: shapes.stack,
    np.hstack: shapes.hstack, np.vstack: shapes.vstack, np.column_stack: shapes.column_stack,
    np.split: shapes.split, np.array_split: shapes.array_split, np.flip: shapes.flip,
    np.roll: shapes.roll, np.repeat: shapes.repeat, np.pad: shapes.pad,
    np.where: where, np.clip: clip, np.round: round_, np.around: round_, np.astype: astype,
    np.copy: copy, np.dot: linalg.dot, np.inner: linalg.inner, np.vdot: linalg.vdot, np.outer: linalg.outer,
    np.take: take, np.take_along_axis: take_along_axis,
    np.zeros_like: zeros_like, np.ones_like: ones_like, np.empty_like: empty_like,
    np.full_like: full_like, np.tril: tril, np.triu: triu,
    np.shape: shape, np.ndim: ndim, np.size: size, np.result_type: result_type,
    np.isclose: isclose, np.diff: diff, np.copyto: writes.copyto,
    np.real: lambda val: as_traced(val).real, np.imag: lambda val: as_traced(val).imag, np.diagonal: shapes.diagonal, np.trace: trace,
}
if hasattr(np, "linalg") and hasattr(np.linalg, "matmul"):
    HANDLERS[np.linalg.matmul] = linalg.matmul
