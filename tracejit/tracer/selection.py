"""Functions whose result's shape depends on the data, and ``count_nonzero``.

``np.nonzero``, ``np.argwhere``, ``np.flatnonzero``, ``np.where(cond)`` (one argument),
``np.extract``, ``np.compress`` with a traced condition and ``np.unique`` return as
many elements as the data selects: a trace has static shapes, so each raises
``UnsupportedError`` naming the function and the line, and the function runs eagerly
(with one FallbackWarning). Their common uses that do have static shapes compile:
``x[mask].sum()`` and other reductions of a mask read, ``np.where(cond, a, b)``,
``np.count_nonzero`` (below).
"""
from __future__ import annotations

import operator

import numpy as np
from numpy.lib.array_utils import normalize_axis_index

from . import reductions, ufuncs
from .errors import UnsupportedError
from .location import user_loc
from .proxy import TracedArray
from .shapes import as_traced, emit, ravel
from .state import as_value, wrap

_HINT = ("shapes must be static: use np.where(cond, a, b), x[mask].sum() or np.count_nonzero, or call "
         "it outside the compiled function")


def data_dependent(what: str):
    """An UnsupportedError for `what`, whose result has a data-dependent shape."""
    return UnsupportedError(f"{what} (its result's shape depends on the data)", what, user_loc(), hint=_HINT)


def refuse(what):
    """A function (or method) that raises `data_dependent(what)` when called."""
    def handler(*args, **kwargs):
        raise data_dependent(what)
    handler.__name__ = what.rpartition(".")[2]
    return handler


def compress(condition, a, axis=None, out=None):
    """``np.compress`` with a concrete condition: a ``take`` of the selected positions."""
    if isinstance(condition, TracedArray):
        raise data_dependent("np.compress with a traced condition")
    if out is not None:
        raise UnsupportedError("np.compress(..., out=...)", "compress", user_loc())
    x = as_traced(a)
    if axis is None:
        x, axis = ravel(x), 0
    axis = normalize_axis_index(operator.index(axis), x.ndim)
    indices = np.flatnonzero(np.asarray(condition)).astype(np.intp)
    if indices.size and indices[-1] >= x.shape[axis]:
        raise IndexError(f"index {indices[-1]} is out of bounds for axis {axis} with size {x.shape[axis]}")
    return wrap(emit("take", [x, as_value(indices)], {"axis": axis}))


def count_nonzero(a, axis=None, *, keepdims=False):
    """``np.count_nonzero``: intp counts (an ``np.intp`` scalar when ``axis`` is None)."""
    x = as_traced(a)
    nonzero = ufuncs.apply("not_equal", (x, 0)) if x.dtype != np.bool_ else x
    return reductions.sum(nonzero, axis=axis, dtype=np.intp, keepdims=keepdims)


HANDLERS = {np.nonzero: refuse("np.nonzero"), np.argwhere: refuse("np.argwhere"),
            np.flatnonzero: refuse("np.flatnonzero"), np.extract: refuse("np.extract"),
            np.unique: refuse("np.unique"), np.compress: compress, np.count_nonzero: count_nonzero}
