"""Arrays the traced function creates to fill: ``np.zeros``, ``np.empty``, ``np.full``...

``out = np.zeros((n, m)); for i in ...: out[i] = ...`` is how NumPy programs build
results. Called with concrete shapes these functions make a NumPy array, which a write
of a traced value cannot enter. While a function is traced, the functions below are
replaced in the ``numpy`` module by versions that, *when called from the user's code*
(not from NumPy or another library), return a traced array: a constant broadcast to
the shape, written into functionally like any traced array. Anywhere else, and in
other threads, they are NumPy's own. ``np.empty`` gives zeros (its values are
unspecified in NumPy).
"""
from __future__ import annotations

import os
import sys
import sysconfig
import threading
from contextlib import contextmanager

import numpy as np

from .location import _skipped
from .state import _ACTIVE, current, wrap
from ..ir.types import SUPPORTED_DTYPES

_LOCK = threading.Lock()
_DEPTH = [0]
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


def _filled(shape, fill, dtype):
    """A traced array of `shape` holding `fill` (None: NumPy would refuse the arguments)."""
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
    return wrap(value)


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
        return _filled(a.shape if shape is None else shape, fill, a.dtype if dtype is None else dtype)
    return make


def _full_like(a, fill_value, dtype=None, order="K", subok=True, shape=None, **kwargs):
    if kwargs or not isinstance(a, np.ndarray) or np.ndim(fill_value) or hasattr(fill_value, "_value"):
        return None
    return _filled(a.shape if shape is None else shape, fill_value, a.dtype if dtype is None else dtype)


def _full(shape, fill_value, dtype=None, order="C", **kwargs):
    if kwargs or np.ndim(fill_value) or hasattr(fill_value, "_value"):
        return None
    return _filled(shape, fill_value, np.asarray(fill_value).dtype if dtype is None else dtype)


_MAKERS = {
    "zeros": lambda shape, dtype=float, order="C", **kw: None if kw else _filled(shape, 0, dtype),
    "ones": lambda shape, dtype=None, order="C", **kw: None if kw else _filled(shape, 1, dtype or float),
    "empty": lambda shape, dtype=float, order="C", **kw: None if kw else _filled(shape, 0, dtype),
    "full": _full,
    "zeros_like": _like(0),
    "ones_like": _like(1),
    "empty_like": _like(0),
    "full_like": _full_like,
}


@contextmanager
def traced_creation():
    """Install the creators for the duration of a trace (nested and concurrent traces
    share one installation)."""
    with _LOCK:
        if _DEPTH[0] == 0:
            for name, make in _MAKERS.items():
                original, creator = _traced(name, make)
                _ORIGINALS[name] = original
                setattr(np, name, creator)
        _DEPTH[0] += 1
    try:
        yield
    finally:
        with _LOCK:
            _DEPTH[0] -= 1
            if _DEPTH[0] == 0:
                for name, original in _ORIGINALS.items():
                    setattr(np, name, original)
                _ORIGINALS.clear()
