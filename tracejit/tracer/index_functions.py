"""np.unravel_index and np.put_along_axis, as the index arithmetic and fancy-index write
NumPy's own code performs.

- ``unravel_index``: the flat index divided and reduced by each dimension from the last
  (C order) or the first (F order), in intp; an index outside the array raises NumPy's
  ValueError at run time (a ``require`` check; the message cannot name the value).
- ``put_along_axis``: ``arr[fancy] = values`` with ``indices`` along `axis` and an
  ``arange`` broadcast along every other dimension (numpy's ``_make_along_axis_idx``),
  so the write is the traced scatter that ``x[rows, cols] = v`` is (last write wins).
"""
from __future__ import annotations

import math
import operator

import numpy as np
from numpy.lib.array_utils import normalize_axis_index

from .errors import UnsupportedError
from .location import user_loc
from .proxy import TracedArray
from .shapes import as_traced
from .state import as_value, current, wrap


def unravel_index(indices, shape, order="C"):
    if order not in ("C", "F"):
        raise ValueError("only 'C' or 'F' order is permitted")
    flat = as_traced(indices)
    if flat.dtype.kind not in "iu":
        raise TypeError("only int indices permitted")
    dims = tuple(operator.index(d) for d in (shape if np.iterable(shape) else (shape,)))
    size = math.prod(dims)
    inside = np.all((flat >= 0) & (flat < size))
    flat = wrap(current().emit("require", [flat._value, as_value(inside)],
                               {"error": "ValueError", "message": f"an index is out of bounds for array with size {size}"}),
                scalar=flat.ndim == 0)
    flat = flat.astype(np.intp)
    result = []
    for d in (reversed(dims) if order == "C" else dims):
        result.append(flat % d)
        flat = flat // d
    return tuple(reversed(result)) if order == "C" else tuple(result)


def put_along_axis(arr, indices, values, axis):
    if not isinstance(arr, TracedArray):
        raise UnsupportedError("np.put_along_axis into an array the trace does not own", "put_along_axis", user_loc())
    if axis is None:
        raise UnsupportedError("np.put_along_axis(..., axis=None)", "put_along_axis", user_loc())
    indices = as_traced(indices)
    if indices.dtype.kind not in "iu":
        raise IndexError("`indices` must be an integer array")
    axis = normalize_axis_index(operator.index(axis), arr.ndim)
    if arr.ndim != indices.ndim:
        raise ValueError("`indices` and `arr` must have the same number of dimensions")
    fancy = []
    for dim, n in enumerate(arr.shape):
        if dim == axis:
            fancy.append(indices)
        else:
            fancy.append(np.arange(n).reshape((1,) * dim + (-1,) + (1,) * (indices.ndim - dim - 1)))
    arr[tuple(fancy)] = values


HANDLERS = {np.unravel_index: unravel_index, np.put_along_axis: put_along_axis}
