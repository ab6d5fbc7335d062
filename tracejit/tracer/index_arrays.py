"""Index arrays the traced function creates from sizes: ``np.arange``, ``np.eye``,
``np.identity`` and ``np.tri``, as ``iota`` ops rather than concrete arrays.

Called with Python ints (``np.arange(x.shape[0])``, ``np.tri(T)``), NumPy makes a
concrete array whose length is a size of the trace: a constant of one trace, which
no other size can share. In the probe traces of shape families (``dims.py``), the
array is an ``iota`` computed by the kernels instead, and its length stays visible
(the comparisons and divisions on the sizes are recorded). Ordinary traces keep
NumPy's concrete arrays: code may index with them or use them as masks, which a
traced array would turn into data-dependent shapes; ``np.eye`` and ``np.identity``
are iotas in every trace but as booleans (code writes into them: ``c = np.eye(n);
c[i, j] = ...``, which a constant of the trace could not take; a boolean eye is a
mask, which only a constant keeps static). Anything else (float bounds,
unusual keywords) is left to NumPy (None). ``creation.py`` installs these while
tracing, for calls from the user's code.
"""
from __future__ import annotations

import numpy as np

from ..ir.types import SUPPORTED_DTYPES
from .state import current, wrap
from .ufuncs import astype


def _ints(*values) -> bool:
    return all(isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_)) for v in values)


def _probing() -> bool:
    return current().record_dims


def _dtype(dtype, default):
    try:
        dtype = np.dtype(default if dtype is None else dtype)
    except TypeError:
        return None
    return dtype if dtype in SUPPORTED_DTYPES and dtype.kind in "if" else None


def _iota(shape, axis, probe_only=True):
    if probe_only:
        current().probe_forms = True
    return wrap(current().emit("iota", (), {"shape": tuple(shape), "axis": axis, "dtype": np.dtype(np.int64)}))


def _length(start, stop, step):
    """``len(range(start, stop, step))`` keeping Dim arithmetic (and its records)."""
    span = stop - start
    if step > 0:
        return (span + step - 1) // step if span > 0 else 0
    return (span + step + 1) // step if span < 0 else 0


def arange(*args, dtype=None, like=None, **kwargs):
    if not _probing() or kwargs or like is not None or not 1 <= len(args) <= 3 or not _ints(*args):
        return None
    start, stop, step = (0, args[0], 1) if len(args) == 1 else (args[0], args[1], args[2] if len(args) == 3 else 1)
    dtype = _dtype(dtype, np.int64)
    if dtype is None or step == 0:
        return None
    n = _length(start, stop, step)
    values = _iota((n,), 0)
    if step != 1:
        values = values * int(step)
    if start:
        values = values + int(start)
    return astype(values, dtype)


def tri(N, M=None, k=0, dtype=float, *, like=None):
    """Ones at and below diagonal k."""
    if not _probing():
        return None
    M = N if M is None else M
    dtype = _dtype(dtype, float) if dtype is not bool else np.dtype(bool)
    if like is not None or not _ints(N, M, k) or dtype is None or N < 0 or M < 0:
        return None
    rows, cols = _iota((N, M), 0), _iota((N, M), 1)
    below = cols <= rows + int(k) if k else cols <= rows
    return astype(below, dtype)


def eye(N, M=None, k=0, dtype=float, order="C", *, device=None, like=None):
    M = N if M is None else M
    dtype = _dtype(dtype, float) if dtype is not bool else np.dtype(bool)
    if dtype == np.dtype(bool) and not _probing():
        return None              # a boolean eye is a mask: as a constant, x[mask] compiles
    if like is not None or device is not None or order != "C" or not _ints(N, M, k) or dtype is None \
            or N < 0 or M < 0:
        return None
    rows, cols = _iota((N, M), 0, False), _iota((N, M), 1, False)
    on = cols == rows + int(k) if k else cols == rows
    return astype(on, dtype)


def diagonal_mask(n: int, k: int = 0):
    """A traced (n, n) bool array, True on the k-th diagonal (np.diag's layout)."""
    rows, cols = _iota((n, n), 0, False), _iota((n, n), 1, False)
    return cols == rows + int(k) if k else cols == rows


def identity(n, dtype=None, *, like=None):
    return eye(n, dtype=float if dtype is None else dtype, like=like)


MAKERS = {"arange": arange, "tri": tri, "eye": eye, "identity": identity}
