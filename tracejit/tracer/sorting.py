"""Sorting and searching: ``np.sort``, ``np.argsort``, ``np.searchsorted``, ``x.sort()``,
and the partition that ``np.median``/``np.quantile`` read (``partitioned``).

They record library ops (``ir/ops_library.py``) that the plan runs with the array
library between kernels: on the CPU NumPy itself sorts, with the user's ``kind``, so
the order of equal elements is NumPy's too. Arguments are validated by asking NumPy
the same question on a one-element array of the same dtype, so a bad ``kind`` or
``side`` raises NumPy's own error while tracing.
"""
from __future__ import annotations

import operator

import numpy as np
from numpy.lib.array_utils import normalize_axis_index

from .errors import UnsupportedError
from .location import user_loc
from .proxy import TracedArray
from .shapes import as_traced, emit, ravel
from .state import as_value, wrap


def _sort_options(name, x, kind, order, stable) -> dict:
    if order is not None:
        raise UnsupportedError(f"np.{name}(..., order=...) (structured arrays)", name, user_loc())
    getattr(np, name)(np.zeros(1, x.dtype), kind=kind, stable=stable)   # NumPy's own argument errors
    return {"kind": kind, "stable": stable}


def _along(x, axis):
    """(array, axis): axis=None sorts the flattened array, as NumPy."""
    if axis is None:
        return ravel(x), 0
    return x, normalize_axis_index(operator.index(axis), x.ndim)


def sort(a, axis=-1, kind=None, order=None, *, stable=None):
    """np.sort: a sorted copy along `axis` (NaN last)."""
    x = as_traced(a)
    options = _sort_options("sort", x, kind, order, stable)
    x, axis = _along(x, axis)
    return wrap(emit("sort", [x], {"axis": axis, **options}))


def argsort(a, axis=-1, kind=None, order=None, *, stable=None):
    """np.argsort: the indices that sort `a` along `axis` (NumPy's order of ties on the CPU)."""
    x = as_traced(a)
    options = _sort_options("argsort", x, kind, order, stable)
    x, axis = _along(x, axis)
    return wrap(emit("argsort", [x], {"axis": axis, **options}))


def partitioned(x: TracedArray, axis: int, kth) -> TracedArray:
    """A copy of `x` whose elements at positions `kth` along `axis` (non-negative,
    known while tracing) are where a sort would put them, as ``np.partition``: what
    NumPy's median and quantile read, in linear time rather than a sort's n log n."""
    kth = tuple(sorted({int(k) for k in kth}))
    if not kth:
        return x
    return wrap(emit("partition", [x], {"axis": axis, "kth": kth}))


def _kth(kth, x, axis, name):
    if isinstance(kth, TracedArray):
        raise UnsupportedError(f"np.{name} with a traced kth", name, user_loc())
    n = x.shape[axis] if x.ndim else 1
    ks = np.atleast_1d(np.asarray(kth))
    if ks.dtype.kind not in "iu" or ks.ndim != 1:
        raise TypeError("Partition index must be integer")
    for k in ks:
        if not -n <= k < n:
            raise ValueError(f"kth(={int(k)}) out of bounds ({n})")
    return tuple(sorted({int(k) % n for k in ks}))


def _partition_op(name, a, kth, axis, kind, order):
    """The `name` library op ("partition" or "argpartition") as np.<name> calls it."""
    x = as_traced(a)
    if order is not None or kind != "introselect":
        raise UnsupportedError(f"np.{name}(kind=/order=)", name, user_loc())
    x, axis = _along(x, axis)
    return wrap(emit(name, [x], {"axis": axis, "kth": _kth(kth, x, axis, name)}))


def partition(a, kth, axis=-1, kind="introselect", order=None):
    """np.partition (on the CPU NumPy's own arrangement; NumPy leaves it undefined)."""
    return _partition_op("partition", a, kth, axis, kind, order)


def argpartition(a, kth, axis=-1, kind="introselect", order=None):
    """np.argpartition (on the CPU NumPy's own indices)."""
    return _partition_op("argpartition", a, kth, axis, kind, order)


def partition_in_place(x: TracedArray, kth, axis=-1, kind="introselect", order=None):
    """``x.partition(kth)``: x now holds its partitioned values (a write into x)."""
    from .writes import commit
    if x._readonly:
        raise ValueError("partition array is read-only")
    commit(x, partition(x, kth, axis, kind, order)._value)


def sort_in_place(x: TracedArray, axis=-1, kind=None, order=None, *, stable=None):
    """``x.sort()``: x now holds its sorted values (a write into x, as NumPy's)."""
    from .writes import commit
    if axis is None:
        raise TypeError("'NoneType' object cannot be interpreted as an integer")
    if x._readonly:
        raise ValueError("sort array is read-only")
    commit(x, sort(x, axis, kind, order, stable=stable)._value)


def searchsorted(a, v, side="left", sorter=None):
    """np.searchsorted of the sorted 1-D `a` (optionally sorted by `sorter`)."""
    x = as_traced(a)
    np.searchsorted(np.zeros(1, x.dtype), 0, side=side)        # NumPy's error for a bad side
    if x.ndim != 1:
        raise ValueError("object too deep for desired array")
    if sorter is not None:
        index = sorter if isinstance(sorter, TracedArray) else np.asarray(sorter)
        if index.dtype.kind not in "iu":
            raise TypeError(f"Cannot cast array data from {index.dtype!r} to dtype('int64') according to the "
                            "rule 'safe'")
        if tuple(index.shape) != x.shape:
            raise ValueError("sorter.size must equal a.size")
        x = wrap(emit("take", [x, as_value(index)], {"axis": 0}))     # out of range: NumPy's error at run time
    result = emit("searchsorted", [x, as_value(v)], {"side": side})
    return wrap(result, scalar=result.type.shape == ())


HANDLERS = {np.sort: sort, np.argsort: argsort, np.searchsorted: searchsorted, np.partition: partition,
            np.argpartition: argpartition}
