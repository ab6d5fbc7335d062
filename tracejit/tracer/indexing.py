"""``x[key]`` on traced arrays: basic indexing, one integer-array index, boolean masks.

``select(x, key)`` parses a key once for reads (``getitem``) and writes
(``writes.py``): integers (negative ones wrap; out of range raises IndexError as
NumPy), slices with any step, ``None``/``np.newaxis``, ``Ellipsis`` become one
``slice`` and one ``reshape`` of x (a view); one integer array (traced, NumPy, a list
or a ``range``) gathers along one axis of that view (a ``take``); a boolean mask
selects data-dependent positions. A mask read gives a ``MaskedSelection``: its
reductions compile (``x[mask].sum()`` is ``np.where(mask, x, 0).sum()``), and so does
assigning it where the same mask is written (``x[mask] = y[mask]``); anything else
needs the data-dependent shape and raises ``UnsupportedError``.
"""
from __future__ import annotations

import operator
from dataclasses import dataclass

import numpy as np

from . import index_arrays, reductions, ufuncs
from .dims import record_index, record_relation, record_slice
from .errors import DataDependentError, UnsupportedError
from .location import user_loc
from .masked import MaskedSelection
from .numlist import backing_array
from .probe_builtins import SizedRange
from .proxy import TracedArray
from .shapes import emit, reshape, transpose, view_of
from .state import as_value, current, wrap


def _classify(item):
    """'none' | 'ellipsis' | 'slice' | 'int' | 'array' | 'mask' | 'dynint' | 'dynslice'."""
    item = _list_argument(item)
    if item is None:
        return "none"
    if item is Ellipsis:
        return "ellipsis"
    if isinstance(item, slice):
        if any(isinstance(part, TracedArray) for part in (item.start, item.stop, item.step)):
            return "dynslice"
        return "slice"
    if isinstance(item, TracedArray):
        if item.dtype.kind == "b":
            return "mask"
        if item.shape == () and item.dtype.kind in "iu" and item._value in current().affine:
            return "dynint"
        if item.dtype.kind not in "iu":
            raise IndexError("arrays used as indices must be of integer (or boolean) type")
        return "array"
    if isinstance(item, (bool, np.bool_)):
        raise UnsupportedError("indexing with a boolean scalar", "getitem", user_loc())
    if isinstance(item, (int, np.integer)):
        return "int"
    if isinstance(item, np.ndarray) and item.dtype.kind == "b":
        return "mask"
    if isinstance(item, (list, tuple)) and item and all(isinstance(v, (bool, np.bool_)) for v in item):
        return "mask"
    if isinstance(item, (np.ndarray, list, tuple, range)):
        return "array"
    if hasattr(item, "__index__"):
        return "int"
    raise IndexError("only integers, slices (`:`), ellipsis (`...`), numpy.newaxis (`None`) and "
                     "integer or boolean arrays are valid indices")


def _list_argument(item):
    """A list argument of ints (``wte[tokens]``) indexes as its vector."""
    backing = backing_array(item)
    return item if backing is None else backing


def _as_index_array(item):
    """A static index (list/ndarray/range) as an ndarray, checked; traced ones pass through;
    a probe's range of sizes (``probe_builtins.SizedRange``) as a traced ``arange``."""
    item = _list_argument(item)
    if isinstance(item, TracedArray):
        return item
    if type(item) is SizedRange:
        if item.start >= 0 and item.step > 0:
            return index_arrays.arange(item.start, item.stop, item.step)
        item = item._plain
    array = np.asarray(item)
    if array.size == 0 and array.dtype.kind == "f":
        array = array.astype(np.intp)
    if array.dtype.kind not in "iu":
        raise IndexError("arrays used as indices must be of integer (or boolean) type")
    return array


@dataclass
class Selection:
    """What `key` selects from `x`: `view`, the basic part's view of x (a proxy); then
    optionally an integer array `index` gathered along `view`'s axis `axis` (`moved`:
    NumPy puts its dims first), or a boolean `mask` over `view`'s leading dims.
    `scalar`: every axis was indexed by an integer (a NumPy scalar, not a view)."""

    view: TracedArray
    index: object = None
    axis: int | None = None
    moved: bool = False
    mask: object = None
    scalar: bool = False


def select(x: TracedArray, key) -> Selection:
    if not isinstance(key, tuple):
        key = (key,)
    kinds = [_classify(item) for item in key]
    if kinds.count("ellipsis") > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    if "mask" in kinds:
        return _mask_selection(x, key, kinds)
    consumed = sum(k in ("slice", "int", "array", "dynint", "dynslice") for k in kinds)
    if consumed > x.ndim:
        raise IndexError(f"too many indices for array: array is {x.ndim}-dimensional, but "
                         f"{consumed} were indexed")
    has_ellipsis = "ellipsis" in kinds      # x[..., 0] of a 1-d x is a 0-d view, not a scalar
    if has_ellipsis:
        at = kinds.index("ellipsis")
        fill = x.ndim - consumed
        key = key[:at] + (slice(None),) * fill + key[at + 1:]
        kinds = kinds[:at] + ["slice"] * fill + kinds[at + 1:]
    else:
        key = key + (slice(None),) * (x.ndim - consumed)
        kinds = kinds + ["slice"] * (x.ndim - consumed)
    arrays = [i for i, k in enumerate(kinds) if k == "array"]

    starts, steps, sizes = [], [], []
    dynamic = {}            # dim -> the Value of its dynamic start
    out_shape = []          # after the basic part
    array_positions = []    # output axes the index arrays gather along
    array_dims = []
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
            record_index(n, index)
            starts.append(index % n)
            steps.append(1)
            sizes.append(1)
        elif kind == "dynint":
            dynamic[len(starts)] = _dynamic_start(item, n, 1)
            starts.append(0)
            steps.append(1)
            sizes.append(1)
        elif kind == "dynslice":
            size, step = _dynamic_slice_size(item)
            dynamic[len(starts)] = _dynamic_start(item.start, n, size, step)
            starts.append(0)
            steps.append(step)
            sizes.append(size)
            out_shape.append(size)
        elif kind == "slice":
            record_slice(n, item.start, item.stop, item.step)
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
            array_positions.append(len(out_shape))
            array_dims.append(dim)
            out_shape.append(n)
        dim += 1

    value = x._value
    if dynamic:
        offsets = [dynamic[d] if d in dynamic else current().constant(s, np.int64) for d, s in enumerate(starts)]
        value = emit("dynamic_slice", [value] + offsets, {"steps": tuple(steps), "shape": tuple(sizes)})
    elif tuple(sizes) != x.shape or any(s != 1 for s in steps):
        value = emit("slice", [value], {"starts": tuple(starts), "steps": tuple(steps),
                                        "shape": tuple(sizes)})
    if tuple(out_shape) != value.type.shape:
        value = emit("reshape", [value], {"shape": tuple(out_shape)})
    view = view_of(x, value)
    if not array_positions:
        return Selection(view, scalar=not out_shape and not has_ellipsis)
    for i, dim in zip(arrays, array_dims):
        if type(key[i]) is SizedRange:
            _check_range(key[i], x.shape[dim], dim)
    indices = [_as_index_array(key[i]) for i in arrays]
    for index, dim in zip(indices, array_dims):
        if not isinstance(index, TracedArray):
            n = x.shape[dim]
            if index.size and (index.max() >= n or index.min() < -n):
                bad = index.max() if index.max() >= n else index.min()
                raise IndexError(f"index {bad} is out of bounds for axis {dim} with size {n}")
    advanced = [i for i, k in enumerate(kinds) if k in ("int", "array", "dynint")]
    moved = advanced != list(range(advanced[0], advanced[-1] + 1))
    if len(indices) == 1:
        return Selection(view, indices[0], array_positions[0], moved and array_positions[0] != 0)
    return _several_arrays(view, indices, array_positions, moved)


def _check_range(item, n, dim):
    """IndexError as NumPy raises it when a range of sizes reaches past an axis of length n."""
    length = item._length()
    if length > 0 and item.start >= 0 and item.step > 0:
        last = item.start + item.step * (length - 1)
        if not record_relation("lt", last, n):
            raise IndexError(f"index {int(last)} is out of bounds for axis {dim} with size {int(n)}")


def _affine_of(item):
    """(the dynamic int argument, offset) that `item` is, or DataDependentError."""
    found = current().affine.get(item._value) if isinstance(item, TracedArray) else None
    if found is None:
        raise DataDependentError("a slice bound computed from array values", user_loc())
    return found


def _dynamic_slice_size(item) -> tuple:
    """(length, step) of ``x[a:b:k]`` whose bounds move with a dynamic int: static only
    when both bounds are the same int argument plus constants."""
    step = 1 if item.step is None else item.step
    if isinstance(step, TracedArray) or step <= 0 or item.start is None or item.stop is None:
        raise DataDependentError("a slice whose length depends on a changing int", user_loc())
    (a, ca), (b, cb) = _affine_of(item.start), _affine_of(item.stop)
    if a is not b:
        raise DataDependentError("a slice whose length depends on a changing int", user_loc())
    return len(range(ca, cb, step)), step


def _dynamic_start(item, n, size, step=1):
    """The start Value of a dynamically positioned window of `size` elements of an axis
    of length n; the int argument's range guard keeps the window inside the axis (and
    non-negative: NumPy would wrap a negative index)."""
    symbol, offset = _affine_of(item)
    last = offset + step * (size - 1) if size else offset
    current().require_range(symbol, -offset, n - 1 - last)
    return item._value


def _several_arrays(view, indices, positions, moved) -> Selection:
    """x[i, j] with integer arrays broadcast together: the indexed axes (moved first
    when NumPy moves them) are merged into one, gathered at the flat position
    i * n_j + j. Every index is wrapped and bounds-checked on its own axis first."""
    try:
        shape = np.broadcast_shapes(*(tuple(np.shape(i)) for i in indices))
    except ValueError:
        raise IndexError("shape mismatch: indexing arrays could not be broadcast together with shapes " +
                         " ".join(str(tuple(np.shape(i))) for i in indices)) from None
    sizes = [view.shape[p] for p in positions]
    if moved:
        perm = positions + [d for d in range(view.ndim) if d not in positions]
        view = view_of(view, transpose(view, perm)._value) if perm != list(range(view.ndim)) else view
        positions = list(range(len(positions)))
    elif positions != list(range(positions[0], positions[0] + len(positions))):
        raise AssertionError("non-moved advanced indices are adjacent")
    at = positions[0]
    merged = view.shape[:at] + (int(np.prod(sizes)),) + view.shape[at + len(sizes):]
    view = view_of(view, emit("reshape", [view._value], {"shape": merged}))
    strides = [int(np.prod(sizes[k + 1:])) for k in range(len(sizes))]
    if not any(isinstance(i, TracedArray) for i in indices):
        flat = sum(np.where(i < 0, i + n, i).astype(np.intp) * stride
                   for i, n, stride in zip(indices, sizes, strides))
        return Selection(view, np.broadcast_to(flat, shape).copy(), at)
    flat = None
    for index, n, stride in zip(indices, sizes, strides):
        iota = wrap(current().emit("iota", (), {"shape": (n,), "axis": 0, "dtype": np.dtype(np.int64)}))
        wrapped = wrap(emit("take", [iota._value, as_value(index)], {"axis": 0}))
        term = ufuncs.apply("multiply", (wrapped, stride)) if stride != 1 else wrapped
        flat = term if flat is None else ufuncs.apply("add", (flat, term))
    if flat.shape != shape:
        flat = wrap(emit("broadcast_to", [flat._value], {"shape": shape}))
    return Selection(view, flat, at)


def _constant_mask_after_slices(x, key, kinds):
    """``x[:, keep]``, ``x[..., keep]``, ``x[:, keep, :]``: a NumPy boolean mask (its
    count known now) after whole slices, with whole slices after it, is an integer
    index of the axes it covers, flattened; None for other keys."""
    at = kinds.index("mask")
    mask = key[at]
    if at == 0 or isinstance(mask, TracedArray) or kinds.count("mask") != 1:
        return None
    whole = lambda k, item: k == "slice" and item == slice(None)    # noqa: E731
    after = list(zip(kinds[at + 1:], key[at + 1:]))
    if kinds[:at] == ["ellipsis"] and not after:
        lead = x.ndim - np.ndim(mask)
    elif all(whole(k, item) for k, item in zip(kinds[:at], key[:at])) and all(whole(k, i) for k, i in after):
        lead = at
    else:
        return None
    mask = np.asarray(mask, dtype=bool)
    if lead < 1 or tuple(x.shape[lead:lead + mask.ndim]) != mask.shape:
        return None                       # NumPy's IndexError: the general path refuses, eager NumPy raises
    shape = tuple(x.shape)
    flat = shape[:lead] + (int(np.prod(mask.shape)),) + shape[lead + mask.ndim:]
    view = view_of(x, emit("reshape", [x._value], {"shape": flat})) if mask.ndim != 1 else view_of(x, x._value)
    return Selection(view, np.flatnonzero(mask), lead)


def _mask_selection(x, key, kinds) -> Selection:
    """x[mask]: the mask covers x's leading dims; or a NumPy mask after whole slices
    (``_constant_mask_after_slices``)."""
    constant = _constant_mask_after_slices(x, key, kinds)
    if constant is not None:
        return constant
    if kinds[0] != "mask" or any(k != "slice" or item != slice(None) for k, item in zip(kinds[1:], key[1:])):
        raise UnsupportedError("a boolean mask combined with other indices", "getitem", user_loc(),
                               hint="use np.where(mask, x, ...) instead")
    mask = key[0]
    if not isinstance(mask, TracedArray):
        mask = np.asarray(mask, dtype=bool)
    if mask.ndim > x.ndim or tuple(mask.shape) != tuple(x.shape[:mask.ndim]):
        raise IndexError(f"boolean index did not match indexed array along axis 0; size of axis is "
                         f"{x.shape[0] if x.ndim else 0} but size of corresponding boolean axis is "
                         f"{mask.shape[0] if mask.ndim else 0}")
    if isinstance(mask, TracedArray):
        return Selection(view_of(x, x._value), mask=mask)
    # a NumPy mask is known now: its positions are an integer index of x's leading dims flattened
    rest = tuple(x.shape[mask.ndim:])
    flat = view_of(x, emit("reshape", [x._value], {"shape": (int(np.prod(mask.shape)),) + rest})) \
        if mask.ndim != 1 else view_of(x, x._value)
    return Selection(flat, np.flatnonzero(mask), 0)


def getitem(x: TracedArray, key):
    sel = select(x, key)
    if sel.mask is not None:
        return MaskedSelection(x, sel.mask)
    if sel.index is None:
        if sel.scalar:                   # x[i, j] of every axis: a NumPy scalar, not a view
            return wrap(sel.view._value, scalar=True)
        return sel.view
    index_value = as_value(sel.index)
    result = emit("take", [sel.view._value, index_value], {"axis": sel.axis})
    result = wrap(result, scalar=result.type.shape == () and index_value.type.shape == ())
    if sel.moved:                        # NumPy: advanced indices separated by a slice go first
        k = index_value.type.rank
        perm = list(range(sel.axis, sel.axis + k)) + [d for d in range(result.ndim)
                                                      if not sel.axis <= d < sel.axis + k]
        result = wrap(transpose(result, perm)._value)
    return result
