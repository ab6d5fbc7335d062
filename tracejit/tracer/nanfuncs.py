"""NaN-ignoring statistics and ``nan_to_num``: ``nansum``, ``nanprod``, ``nanmean``,
``nanvar``, ``nanstd``, ``nancumsum``, ``nancumprod``, ``nan_to_num``.

They decompose as NumPy's own ``numpy/lib/_nanfunctions_impl.py`` computes them, so
dtypes and roundings match: NaNs replaced by the identity (``np.where`` on
``isnan``), then the ordinary reduction; counts are ``intp`` sums of ``~isnan``;
``_divide_by_count`` divides and casts back to the total's dtype (NumPy divides in
place with ``casting='unsafe'``). Where a slice has no numbers NumPy returns NaN and
warns (``RuntimeWarning: Mean of empty slice``, ``Degrees of freedom <= 0``); the
compiled code returns the same NaN without the warning, which depends on the data.
Integer and bool inputs have no NaN: the plain reduction, as NumPy. (``nanmax`` and
``nanmin`` are IR reductions of their own, in ``reductions.py``.)
"""
from __future__ import annotations

import numpy as np

from . import reductions, ufuncs
from .errors import UnsupportedError
from .location import user_loc
from .proxy import TracedArray
from .shapes import as_traced
from .state import current, wrap
from .ufuncs import astype

_NOVALUE = np._NoValue


def _reject(name, **kwargs):
    for key, value in kwargs.items():
        if value is not None and value is not _NOVALUE:
            raise UnsupportedError(f"np.{name}(..., {key}=...)", name, user_loc())


def _keep(keepdims) -> bool:
    return False if keepdims is _NOVALUE else bool(keepdims)


def _constant_like(x: TracedArray, value):
    return wrap(current().constant(value, x.dtype))


def _replace_nan(a, value):
    """(a with NaN replaced by `value`, the NaN mask), or (a, None) for non-float a."""
    x = as_traced(a)
    if x.dtype.kind not in "fc":
        return x, None
    mask = ufuncs.apply("isnan", (x,))
    return wrap(current().emit("where", [mask._value, _constant_like(x, value)._value, x._value])), mask


def _divide_by_count(total: TracedArray, count) -> TracedArray:
    """NumPy's ``_divide_by_count``: total / count in the total's dtype."""
    quotient = ufuncs.apply("true_divide", (total, count))
    if quotient.dtype != total.dtype:
        quotient = astype(quotient, total.dtype)
    return wrap(quotient._value, scalar=total._scalar)


def _inexact_dtype(dtype):
    if dtype is not None:
        dtype = np.dtype(dtype)
        if not issubclass(dtype.type, np.inexact):
            raise TypeError("If a is inexact, then dtype must be inexact")
    return dtype


def nansum(a, axis=None, dtype=None, out=None, keepdims=_NOVALUE, initial=_NOVALUE, where=_NOVALUE):
    _reject("nansum", out=out)
    x, _ = _replace_nan(a, 0)
    return reductions.sum(x, axis, dtype, keepdims=_keep(keepdims), initial=initial, where=where)


def nanprod(a, axis=None, dtype=None, out=None, keepdims=_NOVALUE, initial=_NOVALUE, where=_NOVALUE):
    _reject("nanprod", out=out)
    x, _ = _replace_nan(a, 1)
    return reductions.prod(x, axis, dtype, keepdims=_keep(keepdims), initial=initial, where=where)


def _count(mask, axis, keepdims, where=_NOVALUE):
    return reductions.sum(ufuncs.apply("logical_not", (mask,)), axis, np.intp, keepdims=keepdims, where=where)


def nanmean(a, axis=None, dtype=None, out=None, keepdims=_NOVALUE, *, where=_NOVALUE):
    _reject("nanmean", out=out)
    x, mask = _replace_nan(a, 0)
    if mask is None:
        return reductions.mean(x, axis, dtype, keepdims=_keep(keepdims), where=where)
    dtype = _inexact_dtype(dtype)
    count = _count(mask, axis, _keep(keepdims), where)
    total = reductions.sum(x, axis, dtype, keepdims=_keep(keepdims), where=where)
    return _divide_by_count(total, count)


def nanvar(a, axis=None, dtype=None, out=None, ddof=0, keepdims=_NOVALUE, *, where=_NOVALUE,
           mean=_NOVALUE, correction=_NOVALUE):
    _reject("nanvar", out=out, mean=mean)
    x, mask = _replace_nan(a, 0)
    if mask is None:
        return reductions.var(x, axis, dtype, ddof=ddof, keepdims=_keep(keepdims), where=where,
                              correction=correction)
    dtype = _inexact_dtype(dtype)
    if correction is not _NOVALUE:
        if ddof != 0:
            raise ValueError("ddof and correction can't be provided simultaneously.")
        ddof = correction
    count = _count(mask, axis, True, where)
    average = _divide_by_count(wrap(reductions.sum(x, axis, dtype, keepdims=True, where=where)._value), count)
    deviation = ufuncs.apply("subtract", (x, average))
    if deviation.dtype != x.dtype:                       # out=arr, casting='unsafe'
        deviation = astype(deviation, x.dtype)
    zero = _constant_like(deviation, 0)
    deviation = wrap(current().emit("where", [mask._value, zero._value, deviation._value]))
    if deviation.dtype.kind == "c":
        squared = ufuncs.apply("multiply", (deviation, ufuncs.apply("conjugate", (deviation,)))).real
    else:
        squared = ufuncs.apply("multiply", (deviation, deviation))
    variance = reductions.sum(squared, axis, dtype, keepdims=_keep(keepdims), where=where)
    if variance.ndim < count.ndim:
        count = reductions.sum(count, axis, keepdims=False)        # squeeze the kept axes
    dof = ufuncs.apply("subtract", (count, ddof))
    variance = _divide_by_count(variance, dof)
    bad = ufuncs.apply("less_equal", (dof, 0))
    nan = _constant_like(variance, np.nan)
    return wrap(current().emit("where", [bad._value, nan._value, variance._value]), scalar=variance._scalar)


def nanstd(a, axis=None, dtype=None, out=None, ddof=0, keepdims=_NOVALUE, *, where=_NOVALUE,
           mean=_NOVALUE, correction=_NOVALUE):
    return reductions.root_of_variance(nanvar(a, axis, dtype, out, ddof, keepdims, where=where, mean=mean,
                                              correction=correction))


def nancumsum(a, axis=None, dtype=None, out=None):
    x, _ = _replace_nan(a, 0)
    return reductions.cumsum(x, axis, dtype, out)


def nancumprod(a, axis=None, dtype=None, out=None):
    x, _ = _replace_nan(a, 1)
    return reductions.cumprod(x, axis, dtype, out)


def nan_to_num(x, copy=True, nan=0.0, posinf=None, neginf=None):
    """``np.nan_to_num``: NaN -> `nan`, +inf -> `posinf` (the dtype's max), -inf ->
    `neginf` (its lowest). ``copy=False`` replaces them in x itself and returns x."""
    from .functions import copy as copy_of
    from .writes import commit
    source = as_traced(x)
    target = copy_of(source) if copy else source
    if target.dtype.kind not in "fc":
        return wrap(target._value, scalar=True) if target.ndim == 0 else target
    if target.dtype.kind == "c":
        raise UnsupportedError("np.nan_to_num of complex values", "nan_to_num", user_loc())
    info = np.finfo(target.dtype)
    state = current()
    result = target._value
    for test, value in (("isnan", nan), ("isposinf", info.max if posinf is None else posinf),
                        ("isneginf", info.min if neginf is None else neginf)):
        if test == "isnan":
            where = ufuncs.apply("isnan", (target,))
        else:
            where = ufuncs.apply("equal", (target, np.inf if test == "isposinf" else -np.inf))
        fill = astype(wrap(state.constant(float(value), np.float64)), target.dtype)    # copyto: same_kind
        result = state.emit("where", [where._value, fill._value, result])
    if copy or not isinstance(x, TracedArray):
        return wrap(result, scalar=target.ndim == 0)
    commit(target, result)
    return target


def _nanarg(name, a, axis, out, keepdims):
    """np.nanargmax/np.nanargmin: NaN as -inf/+inf, then argmax/argmin; ValueError where
    a slice is all NaN (checked when the kernel runs)."""
    _reject(name, out=out)
    fill = -np.inf if name == "nanargmax" else np.inf
    x, mask = _replace_nan(a, fill)
    reduce = reductions.argmax if name == "nanargmax" else reductions.argmin
    result = reduce(x, axis, keepdims=_keep(keepdims))
    if mask is None or mask.size == 0:
        return result
    all_nan = reductions.any(reductions.all(mask, axis))
    ok = ufuncs.apply("logical_not", (all_nan,))
    checked = current().emit("require", [result._value, ok._value],
                             {"error": "ValueError", "message": "All-NaN slice encountered"})
    return wrap(checked, scalar=result._scalar)


def nanargmax(a, axis=None, out=None, *, keepdims=_NOVALUE):
    return _nanarg("nanargmax", a, axis, out, keepdims)


def nanargmin(a, axis=None, out=None, *, keepdims=_NOVALUE):
    return _nanarg("nanargmin", a, axis, out, keepdims)


HANDLERS = {np.nanargmax: nanargmax, np.nanargmin: nanargmin, np.nansum: nansum, np.nanprod: nanprod, np.nanmean: nanmean, np.nanvar: nanvar,
            np.nanstd: nanstd, np.nancumsum: nancumsum, np.nancumprod: nancumprod, np.nan_to_num: nan_to_num}
