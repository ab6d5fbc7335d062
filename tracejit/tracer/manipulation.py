"""np.flipud, np.fliplr, np.dstack, np.append, np.digitize, np.fill_diagonal,
np.delete, np.block and np.lib.stride_tricks.sliding_window_view, written as the NumPy
calls numpy/lib makes (they dispatch back to the tracer, so dtypes and errors are
NumPy's).

``sliding_window_view`` is NumPy's read-only strided view; here the windows are stacked
slices (new memory, read-only too), which the kernels fuse with what consumes them
(``windows.mean(axis=-1)`` is one pass). ``digitize`` takes constant bins: NumPy
checks their monotonicity on the data, which a trace can do only when it knows them.
"""
from __future__ import annotations

import operator

import numpy as np
from numpy.lib.array_utils import normalize_axis_tuple
from numpy.lib.stride_tricks import sliding_window_view as _numpy_sliding_window_view

from .errors import UnsupportedError
from .location import user_loc
from .proxy import TracedArray
from .shapes import as_traced, atleast_nd, slice_axis
from .state import wrap


def flipud(m):
    m = as_traced(m)
    if m.ndim < 1:
        raise ValueError("Input must be >= 1-d.")
    return m[::-1, ...]


def fliplr(m):
    m = as_traced(m)
    if m.ndim < 2:
        raise ValueError("Input must be >= 2-d.")
    return m[:, ::-1]


def dstack(tup):
    if not isinstance(tup, (list, tuple)):
        raise TypeError("arrays to stack must be passed as a \"sequence\" type such as list or tuple.")
    arrays = atleast_nd(3, tup)
    return np.concatenate(arrays if isinstance(arrays, tuple) else [arrays], axis=2)


def append(arr, values, axis=None):
    arr = as_traced(arr)
    if axis is None:
        values = as_traced(values)
        return np.concatenate((arr.ravel(), values.ravel()), axis=0)
    return np.concatenate((arr, values), axis=axis)


def digitize(x, bins, right=False):
    if isinstance(bins, TracedArray):
        raise UnsupportedError("np.digitize with traced bins (NumPy checks their order on the data)",
                               "np.digitize", user_loc())
    bins = np.asarray(bins)
    x = as_traced(x)
    if x.dtype.kind == "c" or bins.dtype.kind == "c":
        raise TypeError("x may not be complex")
    if bins.ndim != 1:
        raise ValueError("object too deep for desired array" if bins.ndim > 1 else "object of too small depth for desired array")
    steps = np.diff(bins)
    side = "left" if right else "right"
    if bins.size and np.all(steps <= 0) and np.any(steps < 0):
        return len(bins) - np.searchsorted(bins[::-1], x, side=side)
    if not np.all(steps >= 0):
        raise ValueError("bins must be monotonically increasing or decreasing")
    return np.searchsorted(bins, x, side=side)


def sliding_window_view(x, window_shape, axis=None, *, subok=False, writeable=False):
    if subok or writeable:
        raise UnsupportedError("sliding_window_view(subok=True or writeable=True)", "sliding_window_view",
                               user_loc())
    x = as_traced(x)
    window_shape = tuple(window_shape) if np.iterable(window_shape) else (window_shape,)
    window_shape = tuple(operator.index(w) for w in window_shape)
    if any(w < 0 for w in window_shape):
        raise ValueError("`window_shape` cannot contain negative values")
    if axis is None:
        if len(window_shape) != x.ndim:
            raise ValueError(f"Since axis is `None`, must provide window_shape for all dimensions of `x`; "
                             f"got {len(window_shape)} window_shape elements and `x.ndim` is {x.ndim}.")
        axes = tuple(range(x.ndim))
    else:
        axes = normalize_axis_tuple(axis, x.ndim, allow_duplicate=True)
        if len(window_shape) != len(axes):
            raise ValueError(f"Must provide matching length window_shape and axis; got {len(window_shape)} "
                             f"window_shape elements and {len(axes)} axes elements.")
    shape = list(x.shape)
    for ax, w in zip(axes, window_shape):
        if shape[ax] < w:
            raise ValueError("window shape cannot be larger than input array shape")
        shape[ax] -= w - 1
    result = x
    for ax, w in zip(axes, window_shape):      # each window axis appended at the end, in order
        n = result.shape[ax] - w + 1
        result = np.stack([slice_axis(result, ax, k, k + n) for k in range(w)], axis=-1)
    return wrap(result._value, readonly=True)


def fill_diagonal(a, val, wrap=False):
    """a[i, i, ...] = val for i below the smallest dimension (2-D: the top square part,
    as NumPy's without `wrap`); all dimensions equal above 2-D, as NumPy requires."""
    if not isinstance(a, TracedArray):
        raise UnsupportedError("np.fill_diagonal into an array the trace does not own", "np.fill_diagonal",
                               user_loc())
    if a.ndim < 2:
        raise ValueError("array must be at least 2-d")
    if a.ndim > 2 and len(set(a.shape)) != 1:
        raise ValueError("All dimensions of input must be of equal length")
    if wrap and a.ndim == 2 and a.shape[0] > a.shape[1] + 1:
        raise UnsupportedError("np.fill_diagonal(..., wrap=True) of a tall matrix", "np.fill_diagonal", user_loc())
    index = np.arange(min(a.shape))
    values = as_traced(val).ravel() if isinstance(val, TracedArray) or np.ndim(val) else val
    if np.ndim(values) and np.shape(values)[0] != index.size:
        raise UnsupportedError("np.fill_diagonal with a value list that is not one per diagonal element",
                               "np.fill_diagonal", user_loc())
    a[(index,) * a.ndim] = values


def delete(arr, obj, axis=None):
    """The array without the positions `obj` (an int, a list of ints or a slice, known
    when tracing) along `axis` (of the flattened array for None): a take of the rest."""
    if isinstance(obj, TracedArray):
        raise UnsupportedError("np.delete of traced positions", "np.delete", user_loc())
    x = as_traced(arr)
    if axis is None:
        x, axis = x.ravel(), 0
    axis = normalize_axis_tuple(axis, x.ndim)[0]
    n = x.shape[axis]
    if isinstance(obj, slice):
        drop = np.arange(n)[obj]
    else:
        drop = np.asarray(obj)
        if drop.dtype == np.bool_:
            raise UnsupportedError("np.delete with a boolean mask", "np.delete", user_loc())
        if drop.size and drop.dtype.kind not in "iu":
            raise IndexError("arrays used as indices must be of integer (or boolean) type")
        drop = drop.astype(np.intp).ravel()
        bad = drop[(drop < -n) | (drop >= n)]
        if bad.size:
            raise IndexError(f"index {bad[0]} is out of bounds for axis {axis} with size {n}")
        drop = drop % n if n else drop
    keep = np.setdiff1d(np.arange(n), drop)
    return np.take(x, keep, axis=axis)


def _block_depth(arrays) -> int:
    return 1 + _block_depth(arrays[0]) if isinstance(arrays, list) and arrays else int(isinstance(arrays, list))


def _block_rank(arrays) -> int:
    if isinstance(arrays, list):
        return max((_block_rank(a) for a in arrays), default=0)
    return np.ndim(arrays)


def block(arrays):
    """Nested lists concatenated from the innermost (along the last axis) outwards, every
    piece first raised to the result's rank by leading 1s, as NumPy's np.block."""
    if isinstance(arrays, tuple):
        raise TypeError("arrays is a tuple. Only lists can be used to arrange blocks, and np.block does not "
                        "allow implicit conversion from tuple to ndarray.")
    depth = _block_depth(arrays)
    rank = max(_block_rank(arrays), depth)

    def assemble(item, level):
        if isinstance(item, list):
            if not item:
                raise ValueError("Lists cannot be empty")
            if any(isinstance(p, list) != (level < depth - 1) for p in item):
                raise ValueError("List depths are mismatched")
            return np.concatenate([assemble(p, level + 1) for p in item], axis=level - depth)
        x = as_traced(item)
        return x.reshape((1,) * (rank - x.ndim) + x.shape) if x.ndim < rank else x
    if not isinstance(arrays, list):
        return as_traced(arrays).copy()
    return assemble(arrays, 0)


HANDLERS = {np.fill_diagonal: fill_diagonal, np.delete: delete, np.block: block, np.flipud: flipud, np.fliplr: fliplr, np.dstack: dstack, np.append: append, np.digitize: digitize,
            _numpy_sliding_window_view: sliding_window_view}
