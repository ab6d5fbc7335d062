"""``x[key]`` on traced arrays: basic indexing and one integer-array index.

Supported: integers (negative ones wrap; out of range raises IndexError as NumPy),
slices with any step, ``None``/``np.newaxis``, ``Ellipsis``, and one integer array
(traced, NumPy, or a list), which becomes a ``take``. Basic indexing becomes one
``slice`` and one ``reshape`` (a view). Boolean masks have data-dependent shapes and
raise ``UnsupportedError``; so do several array indices at once.
"""
from __future__ import annotations

import operator

import numpy as np

from .errors import UnsupportedError
from .location import user_loc
from .proxy import TracedArray
from .shapes import emit, transpose, view_of
from .state import as_value, wrap


def _classify(item):
    """'none' | 'ellipsis' | 'slice' | 'int' | 'array'."""
    if item is None:
        return "none"
    if item is Ellipsis:
        return "ellipsis"
    if isinstance(item, slice):
        return "slice"
    if isinstance(item, (bool, np.bool_)) and not isinstance(item, TracedArray):
        raise UnsupportedError("indexing with a boolean scalar", "getitem", user_loc())
    if isinstance(item, TracedArray):
        if item.dtype.kind == "b":
            raise UnsupportedError("boolean mask indexing (its result shape depends on the data)",
                                   "getitem", user_loc(),
                                   hint="use np.where(mask, x, 0) or a masked reduction instead")
        if item.dtype.kind not in "iu":
            raise IndexError("arrays used as indices must be of integer (or boolean) type")
        return "array"
    if isinstance(item, (int, np.integer)):
        return "int"
    if isinstance(item, (np.ndarray, list, tuple, range)):
        return "array"
    if hasattr(item, "__index__"):
        return "int"
    raise IndexError("only integers, slices (`:`), ellipsis (`...`), numpy.newaxis (`None`) and "
                     "integer or boolean arrays are valid indices")


def _as_index_array(item):
    """A static index (list/ndarray) as an ndarray, checked; traced ones pass through."""
    if isinstance(item, TracedArray):
        return item
    array = np.asarray(item)
    if array.size == 0 and array.dtype.kind == "f":
        array = array.astype(np.intp)
    if array.dtype.kind == "b":
        raise UnsupportedError("boolean mask indexing (its result shape depends on the data)",
                               "getitem", user_loc(),
                               hint="use np.where(mask, x, 0) or a masked reduction instead")
    if array.dtype.kind not in "iu":
        raise IndexError("arrays used as indices must be of integer (or boolean) type")
    return array


def getitem(x: TracedArray, key):
    if not isinstance(key, tuple):
        key = (key,)
    kinds = [_classify(item) for item in key]
    if kinds.count("ellipsis") > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    consumed = sum(k in ("slice", "int", "array") for k in kinds)
    if consumed > x.ndim:
        raise IndexError(f"too many indices for array: array is {x.ndim}-dimensional, but "
                         f"{consumed} were indexed")
    if "ellipsis" in kinds:
        at = kinds.index("ellipsis")
        fill = x.ndim - consumed
        key = key[:at] + (slice(None),) * fill + key[at + 1:]
        kinds = kinds[:at] + ["slice"] * fill + kinds[at + 1:]
    else:
        key = key + (slice(None),) * (x.ndim - consumed)
        kinds = kinds + ["slice"] * (x.ndim - consumed)
    arrays = [i for i, k in enumerate(kinds) if k == "array"]
    if len(arrays) > 1:
        raise UnsupportedError("indexing with several integer arrays at once", "getitem", user_loc(),
                               hint="index one axis at a time, or use np.take_along_axis")

    starts, steps, sizes = [], [], []
    out_shape = []          # after the basic part
    array_pos = None        # output axis the index array gathers along
    dim = 0
    for item, kind in zip(key, kinds):
        if kind == "none":
            out_shape.append(1)
            continue
        n = x.shape[dim]
        if kind == "int":
            index = operator.index(item)
            if not -n <= index < n:
                raise IndexError(f"index {index} is out of bounds for axis {dim} with size {n}")
            starts.append(index % n)
            steps.append(1)
            sizes.append(1)
        elif kind == "slice":
            start, stop, step = item.indices(n)
            size = len(range(start, stop, step))
            starts.append(start if size else 0)
            steps.append(step)
            sizes.append(size)
            out_shape.append(size)
        else:
            starts.append(0)
            steps.append(1)
            sizes.append(n)
            array_pos = len(out_shape)
            array_dim = dim
            out_shape.append(n)
        dim += 1

    value = x._value
    if tuple(sizes) != x.shape or any(s != 1 for s in steps):
        value = emit("slice", [value], {"starts": tuple(starts), "steps": tuple(steps),
                                        "shape": tuple(sizes)})
    if tuple(out_shape) != value.type.shape:
        value = emit("reshape", [value], {"shape": tuple(out_shape)})
    scalar = not out_shape and array_pos is None
    if array_pos is None:
        if scalar:                       # x[i, j] of every axis: a NumPy scalar, not a view
            return wrap(value, scalar=True)
        return view_of(x, value)

    index = _as_index_array(key[arrays[0]])
    if not isinstance(index, TracedArray):
        n = x.shape[array_dim]
        if index.size and (index.max() >= n or index.min() < -n):
            bad = index.max() if index.max() >= n else index.min()
            raise IndexError(f"index {bad} is out of bounds for axis {array_dim} with size {n}")
    index_value = as_value(index)
    result = emit("take", [value, index_value], {"axis": array_pos})
    result = wrap(result, scalar=result.type.shape == () and index_value.type.shape == ())
    # NumPy: advanced indices separated by a slice/newaxis put their dims first
    advanced = [i for i, k in enumerate(kinds) if k in ("int", "array")]
    if advanced != list(range(advanced[0], advanced[-1] + 1)) and array_pos != 0:
        k = index_value.type.rank
        perm = list(range(array_pos, array_pos + k)) + [d for d in range(result.ndim)
                                                       if not array_pos <= d < array_pos + k]
        result = wrap(transpose(result, perm)._value)
    return result
