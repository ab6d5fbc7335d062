"""Arrays the traced function creates: ``np.zeros``, ``np.empty``, ``np.full``, and
``np.array``/``np.asarray`` of traced values.

``out = np.zeros((n, m)); for i in ...: out[i] = ...`` is how NumPy programs build
results. Called with concrete shapes these functions make a NumPy array, which a write
of a traced value cannot enter. While a function is traced, the functions below are
replaced in the ``numpy`` module by versions that, *when called from the user's code*
(not from NumPy or another library), return a traced array: a constant broadcast to
the shape, written into functionally like any traced array. Anywhere else, and in
other threads, they are NumPy's own. ``np.empty`` gives zeros (its values are
unspecified in NumPy). ``np.asarray(x)`` of a traced array is x itself, ``np.array``
a copy, and a (nested) list holding traced values is stacked with NumPy's dtype rules
(``np.array([x.sum(), x.max()])``).
"""
from __future__ import annotations

import os
import sys
import sysconfig

import numpy as np
import numpy.lib._index_tricks_impl as _index_tricks

from . import index_arrays, layout
from .errors import UnsupportedError
from .installs import SharedInstall
from .location import _skipped, user_loc
from .numlist import backing_array
from .proxy import TracedArray
from .shapes import reshape
from .state import _ACTIVE, current, wrap
from .ufuncs import astype
from ..ir.types import SUPPORTED_DTYPES

_ORIGINALS: dict = {}
_STDLIB = sysconfig.get_paths().get("stdlib") or ""


def _from_user_code() -> bool:
    """The creator's caller is the user's code: not tracejit, NumPy, the standard
    library or an installed package."""
    filename = sys._getframe(2).f_code.co_filename
    if _skipped(filename):
        return False
    path = os.path.abspath(filename) if not filename.startswith("<") else filename
    if "site-packages" in path or "dist-packages" in path:
        return False
    return not (_STDLIB and path.startswith(_STDLIB))


def _shape(shape) -> tuple | None:
    try:
        return (int(shape),) if np.ndim(shape) == 0 else tuple(int(n) for n in shape)
    except (TypeError, ValueError):
        return None


def _filled(shape, fill, dtype, order="C", like=None):
    """A traced array of `shape` holding `fill` (None: NumPy would refuse the arguments),
    laid out in `order` ('K'/'A': as the concrete array `like`)."""
    shape = _shape(shape)
    try:
        dtype = np.dtype(dtype)
    except TypeError:
        return None
    if shape is None or dtype not in SUPPORTED_DTYPES or any(n < 0 for n in shape):
        return None
    state = current()
    value = state.constant(np.asarray(fill).astype(dtype).item(), dtype)
    if shape:
        value = state.emit("broadcast_to", (value,), {"shape": shape})
    return layout.assign(wrap(value), layout.new_layout(shape, dtype, order, like))


def _traced(name, make):
    original = getattr(np, name)

    def creator(*args, **kwargs):
        if _ACTIVE.get() is not None and _from_user_code():
            made = make(*args, **kwargs)
            if made is not None:
                return made
        return original(*args, **kwargs)
    creator.__name__ = creator.__qualname__ = name
    creator.__doc__ = original.__doc__
    creator.__wrapped__ = original
    return original, creator


def _like(fill_of):
    def make(a, dtype=None, order="K", subok=True, shape=None, **kwargs):
        if kwargs or not isinstance(a, np.ndarray):
            return None
        fill = fill_of(kwargs) if callable(fill_of) else fill_of
        return _filled(a.shape if shape is None else shape, fill, a.dtype if dtype is None else dtype, order,
                       a if shape is None else None)
    return make


def _full_like(a, fill_value, dtype=None, order="K", subok=True, shape=None, **kwargs):
    if kwargs or not isinstance(a, np.ndarray) or np.ndim(fill_value) or hasattr(fill_value, "_value"):
        return None
    return _filled(a.shape if shape is None else shape, fill_value, a.dtype if dtype is None else dtype, order,
                   a if shape is None else None)


def _full(shape, fill_value, dtype=None, order="C", **kwargs):
    if isinstance(fill_value, TracedArray) and not kwargs and order == "C":
        return _filled_with_traced(shape, fill_value, dtype)
    if kwargs or np.ndim(fill_value) or hasattr(fill_value, "_value"):
        return None
    return _filled(shape, fill_value, np.asarray(fill_value).dtype if dtype is None else dtype, order)


def _filled_with_traced(shape, fill, dtype):
    """np.full(shape, x) of a traced x: x cast to `dtype` (x's own, strong, by default,
    as NumPy's ``array(fill_value).dtype``) and broadcast to the shape."""
    shape = _shape(shape)
    try:
        dtype = np.dtype(fill.dtype if dtype is None else dtype)
    except TypeError:
        return None
    if shape is None or dtype not in SUPPORTED_DTYPES or any(n < 0 for n in shape):
        return None
    state = current()
    value = astype(fill, dtype)._value if fill.dtype != dtype or fill._value.type.weak else fill._value
    if value.type.shape != shape:
        value = state.emit("broadcast_to", (value,), {"shape": shape})
    return layout.assign(wrap(value), layout.new_layout(shape, dtype, "C", None))


def _has_traced(obj, depth=0) -> bool:
    if isinstance(obj, TracedArray):
        return True
    if isinstance(obj, (list, tuple)) and depth < 32:
        return any(_has_traced(item, depth + 1) for item in obj)
    return False


def _coerced(obj):
    """`obj` (a traced array or a nested list/tuple holding some) as NumPy's array
    coercion builds it: Python scalars strong (float64, int64), the dtype the
    result type of all elements, nested sequences stacked."""
    from .shapes import as_traced, stack
    if backing_array(obj) is not None:              # a list argument: its vector
        return backing_array(obj)
    if isinstance(obj, TracedArray):
        return as_traced(obj) if obj.type.weak else obj
    if not isinstance(obj, (list, tuple)) or not obj:
        return as_traced(np.asarray(obj))
    items = [_coerced(item) for item in obj]
    if len({item.shape for item in items}) != 1:
        raise ValueError("setting an array element with a sequence. The requested array has an inhomogeneous "
                         "shape after 1 dimensions.")
    dtype = np.result_type(*(item.dtype for item in items))
    return stack([astype(item, dtype) for item in items])


def _array(obj, dtype=None, *, copy=True, order="K", subok=False, ndmin=0, like=None):
    if not _has_traced(obj) or like is not None or ndmin or order not in ("K", "A", "C", None):
        return None
    result = _coerced(obj)
    if dtype is not None:
        result = astype(result, dtype)
    if isinstance(obj, TracedArray) and result is obj:
        if copy is False:
            return obj
        result = astype(obj, obj.dtype)          # a new array with the same values
    return result


def _asarray(a, dtype=None, order=None, *, device=None, copy=None, like=None):
    if not _has_traced(a) or like is not None or device is not None:
        return None
    if isinstance(a, TracedArray) and (dtype is None or np.dtype(dtype) == a.dtype) and not a.type.weak:
        if copy:
            return astype(a, a.dtype)
        return wrap(a._value) if a._scalar else a    # the array itself; a NumPy scalar becomes a 0-d array
    result = _coerced(a)
    return astype(result, dtype) if dtype is not None else result


def _contiguous(result, source, order="C"):
    """``np.ascontiguousarray`` (`order` 'C') and ``np.asfortranarray`` ('F'): the array
    itself when it is laid out so already (its layout known, ``layout.py``), else a
    copy in that order; a layout not
    modelled keeps the array. A 0-d result is viewed as shape (1,), as NumPy's (its
    result has at least one dim)."""
    if isinstance(result, TracedArray) and result.ndim == 0:
        return reshape(result, (1,))
    if result is None or result is not source or not isinstance(result, TracedArray):
        return result
    strides = layout.known_strides(result)
    contiguous = layout.is_c_contiguous if order == "C" else layout.is_f_contiguous
    if strides is None or contiguous(result.shape, strides, result.dtype.itemsize):
        return result
    return layout.ordered_copy(result, order)


_MAKERS = {
    "zeros": lambda shape, dtype=float, order="C", **kw: None if kw else _filled(shape, 0, dtype, order),
    "ones": lambda shape, dtype=None, order="C", **kw: None if kw else _filled(shape, 1, dtype or float, order),
    "empty": lambda shape, dtype=float, order="C", **kw: None if kw else _filled(shape, 0, dtype, order),
    "full": _full,
    "zeros_like": _like(0),
    "ones_like": _like(1),
    "empty_like": _like(0),
    "full_like": _full_like,
    "array": _array,
    "asarray": _asarray,
    "asanyarray": lambda a, dtype=None, order=None, **kw: _asarray(a, dtype, **kw),
    "ascontiguousarray": lambda a, dtype=None, **kw: _contiguous(_asarray(a, dtype, **kw), a),
    "asfortranarray": lambda a, dtype=None, **kw: _contiguous(_asarray(a, dtype, **kw), a, "F"),
    **index_arrays.MAKERS,
}


def _concatenator_array(obj, dtype=None, *, copy=True, order="K", subok=False, ndmin=0, like=None):
    """``np.r_`` and ``np.c_`` (numpy/lib/_index_tricks_impl.py) turn each item into an
    array with ``array(item, copy=None, subok=True, ndmin=...)`` before concatenating:
    a traced item becomes a traced array with the leading unit axes NumPy adds."""
    if not _has_traced(obj) or like is not None or order not in ("K", "A", "C", None):
        return None
    if isinstance(obj, TracedArray) and obj.type.weak:
        # NumPy keeps a Python number item a weak scalar for the result's dtype; by the
        # time it gets here only its array form is left
        raise UnsupportedError("a traced Python number in np.r_/np.c_", "index_tricks", user_loc())
    result = _coerced(obj)
    if result.ndim < ndmin:
        result = reshape(result, (1,) * (ndmin - result.ndim) + tuple(result.shape))
    return astype(result, dtype) if dtype is not None and np.dtype(dtype) != result.dtype else result


def _install():
    for name, make in _MAKERS.items():
        original, creator = _traced(name, make)
        _ORIGINALS[name] = original
        setattr(np, name, creator)
    original = _index_tricks.array

    def concatenator_array(*args, **kwargs):
        if _ACTIVE.get() is not None:
            made = _concatenator_array(*args, **kwargs)
            if made is not None:
                return made
        return original(*args, **kwargs)
    _ORIGINALS["index_tricks.array"] = original
    _index_tricks.array = concatenator_array


def _restore():
    _index_tricks.array = _ORIGINALS.pop("index_tricks.array")
    for name, original in _ORIGINALS.items():
        setattr(np, name, original)
    _ORIGINALS.clear()


_INSTALL = SharedInstall(_install, _restore)


def traced_creation():
    """Install the creators for the duration of a trace (nested and concurrent traces
    share one installation)."""
    return _INSTALL.active()
