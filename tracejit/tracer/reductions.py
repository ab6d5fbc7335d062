"""Reductions and the composite statistics NumPy builds from them.

``sum``/``prod``/``max``/``min``/``any``/``all``/``argmax``/``argmin`` map to IR
reductions. ``mean``, ``var``, ``std``, ``ptp`` and ``linalg.norm`` decompose the way
NumPy's own implementations (``numpy/_core/_methods.py``, ``numpy/linalg``) compute
them, operation for operation, so dtypes and roundings match: e.g. ``mean`` of float32
is a float32 sum divided by a *strong* intp count (so the division runs in float64
and is cast back to float32, as NumPy's ``true_divide(..., out=ret, casting='unsafe')``).
"""
from __future__ import annotations

import builtins
import math
import operator

import numpy as np
from numpy.lib.array_utils import normalize_axis_index, normalize_axis_tuple

from ..ir.ops import OPS
from ..ir.types import TensorType
from .errors import UnsupportedError
from . import ufuncs
from .location import user_loc
from .proxy import TracedArray
from .shapes import as_traced, broadcast_to, emit, ravel
from .state import current, wrap
from .ufuncs import astype

_NOVALUE = np._NoValue


def _reject(name, **kwargs):
    for key, value in kwargs.items():
        if value is not None and value is not _NOVALUE and value is not True:
            raise UnsupportedError(f"np.{name}(..., {key}=...)", name, user_loc())


def normalize_axes(axis, ndim: int) -> tuple:
    """Sorted non-negative axes; AxisError / duplicate errors as NumPy's."""
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, (bool, np.bool_)):
        raise TypeError("an integer is required for the axis")        # as NumPy: axis=True is refused
    if not isinstance(axis, tuple):
        axis = operator.index(axis)   # a list raises TypeError, as NumPy's reductions do; traced: DataDependentError
    return tuple(sorted(normalize_axis_tuple(axis, ndim)))


def _scalar_result(value) -> TracedArray:
    return wrap(value, scalar=value.type.shape == ())


def reduce(op: str, x, axis, keepdims: bool, numpy_name: str) -> TracedArray:
    """One IR reduction; an empty axis set becomes a cast to the result dtype."""
    x = as_traced(x)
    axes = normalize_axes(axis, x.ndim)
    keepdims = bool(keepdims)
    if not OPS[op].reduction.empty_ok and builtins.any(x.shape[a] == 0 for a in axes):
        raise ValueError(f"zero-size array to reduction operation {numpy_name} which has no identity")
    if not axes:
        (out,) = OPS[op].infer([TensorType(x.shape, x.dtype)], {"axes": (), "keepdims": keepdims})
        if out.dtype == x.dtype and not x.type.weak:
            result = wrap(x._value, scalar=x.ndim == 0)
        else:
            result = wrap(emit("cast", [x], {"dtype": out.dtype}), scalar=x.ndim == 0)
        if op == "reduce_sum" and out.dtype.kind in "fc":      # NumPy's +0.0 start: -0.0 -> 0.0
            zero = wrap(current().constant(0.0, out.dtype))
            result = wrap(ufuncs.apply("add", (result, zero))._value, scalar=x.ndim == 0)
        return result
    return _scalar_result(emit(op, [x], {"axes": axes, "keepdims": keepdims}))


def _with_dtype(x, dtype):
    x = as_traced(x)
    return x if dtype is None or np.dtype(dtype) == x.dtype else astype(x, dtype)


def _finish_dtype(result, dtype):
    if dtype is not None and result.dtype != np.dtype(dtype):
        return wrap(astype(result, dtype)._value, scalar=result._scalar)
    return result


def _given(value) -> bool:
    return value is not _NOVALUE and value is not None


def _where_mask(x: TracedArray, where):
    """The `where=` of a reduction as a bool array broadcast to x's shape, or None for
    "every element" (not given, or True)."""
    if not _given(where) or where is True:
        return None
    if isinstance(where, (list, tuple)):                # Python sequences convert as NumPy's do
        where = np.array(where, dtype=bool)
    mask = as_traced(where)
    if mask.dtype != np.bool_:
        raise TypeError(f"Cannot cast array data from dtype('{mask.dtype}') to dtype('bool') "
                        "according to the rule 'safe'")
    if mask.ndim > x.ndim:
        raise ValueError("input operand has more dimensions than allowed by the axis remapping")
    return broadcast_to(mask, x.shape)


def _masked(op: str, x: TracedArray, mask) -> TracedArray:
    """x where `mask` holds, else the reduction's identity (NumPy skips those elements)."""
    if mask is None:
        return x
    fill = wrap(current().constant(OPS[op].reduction.identity(x.dtype), x.dtype))
    return wrap(current().emit("where", [mask._value, x._value, fill._value]))


def _initial_value(initial, dtype: np.dtype, numpy_name: str):
    """`initial=` as NumPy converts it for a reduction in `dtype`: one scalar, an int of
    the dtype's range for integer dtypes (OverflowError past it), a float for floats."""
    if np.ndim(initial) != 0:
        if isinstance(initial, list) and dtype.kind in "iub":
            raise TypeError("int() argument must be a string, a bytes-like object or a real number, not 'list'")
        raise ValueError("setting an array element with a sequence.")
    if dtype.kind in "iu":
        value = int(initial)
        info = np.iinfo(dtype)
        if not info.min <= value <= info.max:
            raise OverflowError(f"Python integer {value} out of bounds for {dtype}")
        return value
    if dtype.kind == "f" and numpy_name == "add" and float(initial) == 0 and np.signbit(initial):
        # NumPy's sum then starts from -0.0 (all -0.0 stays -0.0); ours starts from +0.0
        raise UnsupportedError("np.sum(..., initial=-0.0)", "sum", user_loc())
    return np.asarray(initial).astype(dtype)[()]


def _combine_initial(ufunc: str, result: TracedArray, initial, dtype=None) -> TracedArray:
    """The reduction's result combined with `initial=`, converted first as NumPy
    converts it to the reduction's dtype (`dtype=`, else the result's)."""
    if isinstance(initial, TracedArray):
        if initial.ndim != 0:
            raise ValueError("setting an array element with a sequence.")
        if ufunc == "add" and result.dtype.kind == "f":
            # a traced -0.0 would need NumPy's -0.0 start (see _initial_value)
            raise UnsupportedError("np.sum(..., initial=<traced float>)", "sum", user_loc())
        start = astype(initial, result.dtype) if initial.dtype != result.dtype else initial
    else:
        _initial_value(initial, np.dtype(dtype or result.dtype), ufunc)       # NumPy's errors
        start = wrap(current().constant(_initial_value(initial, result.dtype, ufunc), result.dtype))
    combined = ufuncs.apply(ufunc, (result, start))
    if combined.dtype != result.dtype:
        combined = astype(combined, result.dtype)
    return wrap(combined._value, scalar=result._scalar)


def _reduce_with(op: str, numpy_name: str, x, axis, keepdims, initial, where, dtype=None) -> TracedArray:
    """`op` over `axis` with NumPy's where= (masked-out elements skipped) and initial=
    (combined into every result: the result of an all-skipped or empty slice)."""
    x = as_traced(x)
    mask = _where_mask(x, where)
    kind = OPS[op].reduction
    if not kind.empty_ok and not _given(initial) and mask is not None:
        raise ValueError(f"reduction operation '{numpy_name}' does not have an identity, so to use a "
                         "where mask one has to specify 'initial'")
    axes = normalize_axes(axis, x.ndim)
    if not kind.empty_ok and _given(initial) and builtins.any(x.shape[a] == 0 for a in axes):
        # nothing to reduce: every result is the initial value
        result = reduce(op, _identity_block(op, x, axes), axes, keepdims, numpy_name)
        return _combine_initial(numpy_name, result, initial, dtype)
    result = reduce(op, _masked(op, x, mask), axes, keepdims, numpy_name)
    return _combine_initial(numpy_name, result, initial, dtype) if _given(initial) else result


def _identity_block(op: str, x: TracedArray, axes) -> TracedArray:
    """x's shape with every reduced axis of extent 1, filled with the reduction's identity:
    a stand-in for an empty slice, whose result `initial` then replaces (max(-inf, i) = i)."""
    shape = tuple(1 if d in axes else n for d, n in enumerate(x.shape))
    fill = wrap(current().constant(OPS[op].reduction.identity(x.dtype), x.dtype))
    return broadcast_to(fill, shape)


def sum(a, axis=None, dtype=None, out=None, keepdims=False, initial=_NOVALUE, where=_NOVALUE):
    _reject("sum", out=out)
    x = _with_dtype(a, dtype)
    return _finish_dtype(_reduce_with("reduce_sum", "add", x, axis, keepdims, initial, where, dtype), dtype)


def prod(a, axis=None, dtype=None, out=None, keepdims=False, initial=_NOVALUE, where=_NOVALUE):
    _reject("prod", out=out)
    x = _with_dtype(a, dtype)
    return _finish_dtype(_reduce_with("reduce_prod", "multiply", x, axis, keepdims, initial, where, dtype),
                         dtype)


def max(a, axis=None, out=None, keepdims=False, initial=_NOVALUE, where=_NOVALUE):
    _reject("max", out=out)
    return _reduce_with("reduce_max", "maximum", a, axis, keepdims, initial, where)


def min(a, axis=None, out=None, keepdims=False, initial=_NOVALUE, where=_NOVALUE):
    _reject("min", out=out)
    return _reduce_with("reduce_min", "minimum", a, axis, keepdims, initial, where)


def nanmax(a, axis=None, out=None, keepdims=False, initial=_NOVALUE, where=_NOVALUE):
    _reject("nanmax", out=out)
    return _reduce_with("reduce_nanmax", "fmax", a, axis, keepdims, initial, where)


def nanmin(a, axis=None, out=None, keepdims=False, initial=_NOVALUE, where=_NOVALUE):
    _reject("nanmin", out=out)
    return _reduce_with("reduce_nanmin", "fmin", a, axis, keepdims, initial, where)


def _scan(op, name, a, axis=None, dtype=None, out=None):
    """np.cumsum/np.cumprod: along `axis` (None: of the flattened array), in `dtype`."""
    _reject(name, out=out)
    x = _with_dtype(a, dtype)
    if axis is None:
        x, axis = ravel(x), 0
    axis = normalize_axis_index(operator.index(axis), x.ndim)
    # dtype= narrower than the default accumulator: NumPy's modular (bool: logical) running
    # total is the wide one converted at each point
    return _finish_dtype(wrap(emit(op, [x], {"axis": axis})), dtype)


def cumsum(a, axis=None, dtype=None, out=None):
    return _scan("cumsum", "cumsum", a, axis, dtype, out)


def cumprod(a, axis=None, dtype=None, out=None):
    return _scan("cumprod", "cumprod", a, axis, dtype, out)


def any(a, axis=None, out=None, keepdims=False, *, where=_NOVALUE):
    _reject("any", out=out)
    return _reduce_with("reduce_any", "logical_or", a, axis, keepdims, _NOVALUE, where)


def all(a, axis=None, out=None, keepdims=False, *, where=_NOVALUE):
    _reject("all", out=out)
    return _reduce_with("reduce_all", "logical_and", a, axis, keepdims, _NOVALUE, where)


def ptp(a, axis=None, out=None, keepdims=False):
    _reject("ptp", out=out)
    return ufuncs.apply("subtract", (max(a, axis, keepdims=keepdims), min(a, axis, keepdims=keepdims)))


def _arg(op, name, a, axis=None, out=None, *, keepdims=False):
    _reject(name, out=out)
    x = as_traced(a)
    if axis is None:
        flat = ravel(x)
        if flat.size == 0:
            raise ValueError(f"attempt to get {name} of an empty sequence")
        result = emit(op, [flat], {"axes": (0,), "keepdims": False})
        if keepdims:
            return wrap(emit("reshape", [result], {"shape": (1,) * x.ndim}))
        return _scalar_result(result)
    axis = normalize_axis_index(operator.index(axis), x.ndim)
    if x.shape[axis] == 0:
        raise ValueError(f"attempt to get {name} of an empty sequence")
    return _scalar_result(emit(op, [x], {"axes": (axis,), "keepdims": bool(keepdims)}))


def argmax(a, axis=None, out=None, *, keepdims=False):
    return _arg("argmax", "argmax", a, axis, out, keepdims=keepdims)


def argmin(a, axis=None, out=None, *, keepdims=False):
    return _arg("argmin", "argmin", a, axis, out, keepdims=keepdims)


def _count(x, axis) -> int:
    return math.prod(x.shape[d] for d in normalize_axes(axis, x.ndim))


def _strong_intp(n):
    return np.intp(n)


def _divide_unsafe(total: TracedArray, count) -> TracedArray:
    """``true_divide(total, count, out=total, casting='unsafe')`` as NumPy's _methods do."""
    quotient = ufuncs.apply("true_divide", (total, count))
    if quotient.dtype != total.dtype:
        quotient = astype(quotient, total.dtype)
    return wrap(quotient._value, scalar=total._scalar)


def _default_float(x, dtype):
    if dtype is None and x.dtype.kind in "biu":
        return np.dtype(np.float64)
    return dtype


def _count_items(x: TracedArray, axis, keepdims, mask):
    """NumPy's ``_count_reduce_items``: the number of elements each result reduces, an
    intp scalar, or with a where= mask the intp sum of the mask."""
    if mask is None:
        return _strong_intp(_count(x, axis))
    return sum(mask, axis, np.intp, keepdims=keepdims)


def mean(a, axis=None, dtype=None, out=None, keepdims=False, *, where=_NOVALUE):
    _reject("mean", out=out)
    x = as_traced(a)
    half = dtype is None and x.dtype == np.float16     # NumPy sums and divides in float32, then rounds
    dtype = np.dtype(np.float32) if half else _default_float(x, dtype)
    count = _count_items(x, axis, keepdims, _where_mask(x, where))
    total = sum(x, axis, dtype, keepdims=keepdims, where=where)
    result = _divide_unsafe(total, count)
    return wrap(astype(result, np.float16)._value, scalar=result._scalar) if half else result


def var(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=_NOVALUE,
        mean=_NOVALUE, correction=_NOVALUE):
    _reject("var", out=out, mean=None if mean is _NOVALUE else mean)
    if correction is not _NOVALUE:
        if ddof != 0:
            raise ValueError("ddof and correction can't be provided simultaneously.")
        ddof = correction
    x = as_traced(a)
    mask = _where_mask(x, where)
    dtype = _default_float(x, dtype)
    arrmean = _divide_unsafe(sum(x, axis, dtype, keepdims=True, where=where), _count_items(x, axis, True, mask))
    arrmean = wrap(arrmean._value)  # an ndarray (keepdims) in NumPy, never a scalar
    deviation = ufuncs.apply("subtract", (x, arrmean))
    if deviation.dtype.kind == "c":          # NumPy: re * re + im * im, a real result
        re, im = deviation.real, deviation.imag
        squared = ufuncs.apply("add", (ufuncs.apply("multiply", (re, re)), ufuncs.apply("multiply", (im, im))))
    elif x.dtype.kind in "iuf":
        squared = ufuncs.apply("square", (deviation,))
    else:
        squared = ufuncs.apply("multiply", (deviation, deviation))
    total = sum(squared, axis, dtype, keepdims=keepdims, where=where)
    count = _count_items(x, axis, keepdims, mask)
    if mask is None:
        return _divide_unsafe(total, np.maximum(count - ddof, 0))
    dof = ufuncs.apply("maximum", (ufuncs.apply("subtract", (count, ddof)), 0))
    return _divide_unsafe(total, dof)


def std(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=_NOVALUE,
        mean=_NOVALUE, correction=_NOVALUE):
    return root_of_variance(var(a, axis, dtype, out, ddof, keepdims, where=where, mean=mean,
                                correction=correction))


def root_of_variance(variance):
    """The standard deviation from a variance: its square root, in the variance's dtype
    (np.std of float16 stays float16) and scalar-ness."""
    root = ufuncs.apply("sqrt", (variance,))
    if root.dtype != variance.dtype:
        root = astype(root, variance.dtype)
    return wrap(root._value, scalar=variance._scalar)
