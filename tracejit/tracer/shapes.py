"""Shape and movement functions: reshape, transpose, expand_dims, concatenate, split...

They record ``reshape``/``transpose``/``broadcast_to``/``slice``/``concat``/``pad``
ops. Results that are views in NumPy are marked as views (``_view``) and their source
as viewed, so in-place operators on either are refused instead of silently diverging.
"""
from __future__ import annotations

import builtins
import math
import operator
import weakref

import numpy as np
from numpy.lib.array_utils import normalize_axis_index, normalize_axis_tuple

from . import layout
from .dims import record_slice
from .errors import UnsupportedError
from .location import user_loc
from .proxy import TracedArray
from .state import as_value, current, wrap
from .ufuncs import astype


_VIEW_OPS = ("reshape", "transpose", "slice", "broadcast_to", "dynamic_slice", "bitcast")


def _ops_between(start, value):
    """The view ops leading from Value `start` to Value `value` (None if other ops do)."""
    nodes = []
    while value is not start:
        node = value.producer
        if node is None or node.op.name not in _VIEW_OPS:
            return None
        nodes.append(node)
        value = node.inputs[0]
    return tuple(reversed(nodes))


def view_of(source, value, readonly: bool = False) -> TracedArray:
    """A proxy for `value`, a NumPy view of `source` (its ``_base`` is the proxy
    owning the memory, as NumPy's ``.base``; views of read-only views are read-only).
    The view remembers the ops from its base (`_chain`), so a write through it updates
    the base and the base's other views (writes.py)."""
    base, chain = None, None
    if isinstance(source, TracedArray):
        source._viewed = True
        base = source._base if source._base is not None else source
        readonly = readonly or source._readonly
        step = _ops_between(source._value, value)
        if source._base is None:
            chain = step
        elif source._chain is not None and step is not None:
            chain = source._chain + step
    view = wrap(value, view=True, base=base, readonly=readonly, chain=chain)
    if base is not None:
        if base._views is None:
            base._views = []
        base._views.append(weakref.ref(view))
    return view


def as_traced(x, weak: bool = False) -> TracedArray:
    """Any array-like operand as a proxy (asarray semantics: Python scalars are strong)."""
    if isinstance(x, TracedArray) and (weak or not x.type.weak):
        return x
    return wrap(as_value(x, weak=weak))


def emit(op: str, inputs, attrs=None):
    return current().emit(op, [as_value(x) if not hasattr(x, "producer") else x for x in inputs], attrs)


def _check_order(order, what, x=None):
    """order 'C' (or None); 'A' and 'K' mean 'C' only for an array NumPy has in C order."""
    if order in ("C", None):
        return
    if order in ("K", "A") and x is not None:
        strides = layout.known_strides(x)
        if strides is not None and layout.is_c_contiguous(x.shape, strides, x.dtype.itemsize):
            return
    raise UnsupportedError(f"{what}(order={order!r})" + (" of an array not in C order" if order in ("K", "A") else ""),
                           what, user_loc())


def resolve_shape(size: int, shape) -> tuple:
    """NumPy's reshape target with one -1 resolved; ValueError as NumPy's."""
    if isinstance(shape, (int, np.integer)) or hasattr(shape, "__index__") and not isinstance(shape, (tuple, list)):
        shape = (shape,)
    shape = [operator.index(n) for n in shape]
    unknown = [i for i, n in enumerate(shape) if n < 0]
    if len(unknown) > 1:
        raise ValueError("can only specify one unknown dimension")
    if any(n < -1 for n in shape):
        raise ValueError("negative dimensions not allowed")
    if unknown:
        known = math.prod(n for n in shape if n >= 0)
        if known == 0 or size % known:
            raise ValueError(f"cannot reshape array of size {size} into shape {tuple(shape)}")
        shape[unknown[0]] = size // known
    if math.prod(shape) != size:
        raise ValueError(f"cannot reshape array of size {size} into shape {tuple(shape)}")
    return tuple(shape)


def reshape(a, shape=None, order="C", *, newshape=None, copy=None):
    if shape is None:
        shape = newshape
    x = as_traced(a)
    _check_order(order, "reshape", x)
    shape = resolve_shape(x.size, shape)
    if shape == x.shape:
        return view_of(x, x._value)
    return _reshaped(x, shape, _reshape_copies(x, shape))


def _reshaped(x, shape, copies):
    """x in `shape`: new memory where NumPy copies (`copies` True), a view where it
    views (False), and where that is not known (None) a view that neither side may be
    written through (writes.py raises UnsupportedError: the function runs eagerly)."""
    if copies and shape == x.shape:
        return layout.c_ordered_copy(x)
    value = emit("reshape", [x], {"shape": shape}) if shape != x.shape else x._value
    if copies:
        return layout.assign(wrap(value), layout.c_strides(shape, x.dtype.itemsize))
    view = view_of(x, value)
    if copies is None:
        view._chain, view._ambiguous = None, True
    return view


def _reshape_copies(x, shape):
    """Whether NumPy's reshape of `x` copies (True), views (False) or either (None:
    x's layout in NumPy is not modelled, e.g. a state array). It copies where x's
    layout cannot be viewed in the new shape (``a.T.reshape(-1)``, the reshape of an
    F-ordered result); writes through a copy must not reach `x`."""
    if x.ndim <= 1 and x._base is None:
        return False
    strides = layout.known_strides(x)
    if strides is None:
        return None
    return layout.reshaped_strides(x.shape, strides, shape, x.dtype.itemsize) is None


def ravel(a, order="C"):
    """NumPy's ravel: a view of a C-contiguous array, else a contiguous copy (even
    where a strided view would do, as for ``x[::2]``)."""
    x = as_traced(a)
    _check_order(order, "ravel", x)
    strides = layout.known_strides(x)
    contiguous = None if strides is None else layout.is_c_contiguous(x.shape, strides, x.dtype.itemsize)
    return _reshaped(x, (x.size,), None if contiguous is None else not contiguous)


def transpose(a, axes=None):
    x = as_traced(a)
    if axes is None:
        perm = tuple(range(x.ndim))[::-1]
    else:
        perm = tuple(normalize_axis_index(operator.index(p), x.ndim) for p in axes)
        if len(perm) != x.ndim or sorted(perm) != list(range(x.ndim)):
            raise ValueError("axes don't match array")
    if perm == tuple(range(x.ndim)):
        return view_of(x, x._value)
    return view_of(x, emit("transpose", [x], {"perm": perm}))


def matrix_transpose(x):
    x = as_traced(x)
    if x.ndim < 2:
        raise ValueError(f"Input array must be at least 2-dimensional, but it is {x.ndim}")
    perm = list(range(x.ndim))
    perm[-1], perm[-2] = perm[-2], perm[-1]
    return transpose(x, perm)


def swapaxes(a, axis1, axis2):
    x = as_traced(a)
    perm = list(range(x.ndim))
    i, j = normalize_axis_index(axis1, x.ndim), normalize_axis_index(axis2, x.ndim)
    perm[i], perm[j] = perm[j], perm[i]
    return transpose(x, perm)


def moveaxis(a, source, destination):
    x = as_traced(a)
    source = normalize_axis_tuple(source, x.ndim, "source")
    destination = normalize_axis_tuple(destination, x.ndim, "destination")
    if len(source) != len(destination):
        raise ValueError("`source` and `destination` arguments must have the same number of elements")
    order = [n for n in range(x.ndim) if n not in source]
    for dest, src in sorted(zip(destination, source)):
        order.insert(dest, src)
    return transpose(x, order)


def expand_dims(a, axis):
    x = as_traced(a)
    if not isinstance(axis, (tuple, list)):
        axis = (axis,)
    out_ndim = len(axis) + x.ndim
    axes = normalize_axis_tuple(axis, out_ndim)
    dims = iter(x.shape)
    shape = tuple(1 if d in axes else next(dims) for d in range(out_ndim))
    return reshape(x, shape)


def squeeze(a, axis=None):
    x = as_traced(a)
    if axis is None:
        axes = tuple(d for d, n in enumerate(x.shape) if n == 1)
    else:
        if isinstance(axis, (bool, np.bool_)) or not isinstance(axis, tuple):
            axis = operator.index(axis)          # as NumPy: a list or a bool raises TypeError
        axes = normalize_axis_tuple(axis, x.ndim)
        if any(x.shape[d] != 1 for d in axes):
            raise ValueError("cannot select an axis to squeeze out which has size not equal to one")
    if not axes:
        return x                      # nothing to squeeze: NumPy returns the array itself
    return reshape(x, tuple(n for d, n in enumerate(x.shape) if d not in axes))


def broadcast_to(array, shape, subok=False):
    x = as_traced(array)
    if isinstance(shape, (int, np.integer)):
        shape = (shape,)
    shape = tuple(operator.index(n) for n in shape)
    try:
        ok = len(shape) >= x.ndim and tuple(np.broadcast_shapes(x.shape, shape)) == shape
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(f"operands could not be broadcast together with remapped shapes "
                         f"[original->remapped]: {x.shape} and requested shape {shape}")
    if shape == x.shape:
        return view_of(x, x._value, readonly=True)
    value = x._value
    if x.ndim < len(shape):
        value = emit("reshape", [value], {"shape": (1,) * (len(shape) - x.ndim) + x.shape})
    return view_of(x, emit("broadcast_to", [value], {"shape": shape}), readonly=True)


def broadcast_arrays(*args, subok=False):
    shape = tuple(np.broadcast_shapes(*(np.shape(a) if not isinstance(a, TracedArray) else a.shape
                                        for a in args)))
    results = tuple(broadcast_to(a, shape) for a in args)
    for result in results:          # NumPy's broadcast_arrays results are still writeable (for now)
        result._readonly = False
    return results


def atleast_nd(n, arys):
    results = []
    for a in arys:
        x = as_traced(a)
        if x.ndim < n:
            if n == 3 and x.ndim == 2:
                x = reshape(x, x.shape + (1,))
            elif n == 3 and x.ndim == 1:
                x = reshape(x, (1,) + x.shape + (1,))
            else:
                x = reshape(x, (1,) * (n - x.ndim) + x.shape)
        results.append(x)
    return results[0] if len(results) == 1 else tuple(results)


def slice_axis(x: TracedArray, axis: int, start: int, stop: int, step: int = 1) -> TracedArray:
    """``x[..., start:stop:step, ...]`` along one axis (Python slice semantics)."""
    record_slice(x.shape[axis], start, stop, step)
    start, stop, step = slice(start, stop, step).indices(x.shape[axis])
    size = len(range(start, stop, step))
    if size == x.shape[axis] and step == 1:
        return view_of(x, x._value)
    starts = [0] * x.ndim
    steps = [1] * x.ndim
    shape = list(x.shape)
    starts[axis], steps[axis], shape[axis] = (start if size else 0), step, size
    return view_of(x, emit("slice", [x], {"starts": tuple(starts), "steps": tuple(steps),
                                          "shape": tuple(shape)}))


def _sequence_values(arrays, dtype=None, casting="same_kind"):
    items = [as_traced(a) for a in arrays]
    if not items:
        raise ValueError("need at least one array to concatenate")
    if dtype is not None:
        dtype = np.dtype(dtype)
        for item in items:
            if not np.can_cast(item.dtype, dtype, casting):
                raise TypeError(f"Cannot cast array data from {item.dtype!r} to {dtype!r} "
                                f"according to the rule {casting!r}")
        items = [astype(item, dtype) for item in items]
    return items


def concatenate(arrays, axis=0, out=None, *, dtype=None, casting="same_kind"):
    if out is not None:
        raise UnsupportedError("np.concatenate(..., out=...)", "concatenate", user_loc())
    items = _sequence_values(arrays, dtype, casting)
    if axis is None:
        items = [ravel(x) for x in items]
        axis = 0
    for index, item in enumerate(items):
        if item.ndim == 0:
            raise ValueError("zero-dimensional arrays cannot be concatenated")
        if item.ndim != items[0].ndim:
            raise ValueError("all the input arrays must have same number of dimensions, but the "
                             f"array at index 0 has {items[0].ndim} dimension(s) and the array at "
                             f"index {index} has {item.ndim} dimension(s)")
    axis = normalize_axis_index(axis, items[0].ndim)
    for index, item in enumerate(items):
        for d, (n, m) in enumerate(zip(items[0].shape, item.shape)):
            if d != axis and n != m:
                raise ValueError("all the input array dimensions except for the concatenation axis "
                                 f"must match exactly, but along dimension {d}, the array at index 0 "
                                 f"has size {n} and the array at index {index} has size {m}")
    if len(items) == 1:
        return wrap(items[0]._value)
    return wrap(emit("concat", items, {"axis": axis}))


def stack(arrays, axis=0, out=None, *, dtype=None, casting="same_kind"):
    if out is not None:
        raise UnsupportedError("np.stack(..., out=...)", "stack", user_loc())
    items = _sequence_values(arrays, dtype, casting)
    if len({x.shape for x in items}) != 1:
        raise ValueError("all input arrays must have the same shape")
    axis = normalize_axis_index(axis, items[0].ndim + 1)
    return concatenate([expand_dims(x, axis) for x in items], axis=axis)


def hstack(tup, *, dtype=None, casting="same_kind"):
    items = [atleast_nd(1, [a]) for a in tup]
    if items and items[0].ndim == 1:
        return concatenate(items, 0, dtype=dtype, casting=casting)
    return concatenate(items, 1, dtype=dtype, casting=casting)


def vstack(tup, *, dtype=None, casting="same_kind"):
    return concatenate([atleast_nd(2, [a]) for a in tup], 0, dtype=dtype, casting=casting)


def column_stack(tup):
    items = []
    for a in tup:
        x = as_traced(a)
        items.append(reshape(x, (-1, 1)) if x.ndim < 2 else x)
    return concatenate(items, 1)


def array_split(ary, indices_or_sections, axis=0, *, _equal=False):
    x = as_traced(ary)
    axis = normalize_axis_index(axis, x.ndim)
    n = x.shape[axis]
    if isinstance(indices_or_sections, (int, np.integer)):
        sections = int(indices_or_sections)
        if sections <= 0:
            raise ValueError("number sections must be larger than 0.")
        if _equal and n % sections:
            raise ValueError("array split does not result in an equal division")
        each, extra = divmod(n, sections)
        sizes = [each + 1] * extra + [each] * (sections - extra)
        bounds = [0]
        for size in sizes:
            bounds.append(bounds[-1] + size)
    else:
        bounds = [0] + [operator.index(i) for i in indices_or_sections] + [n]
    return [slice_axis(x, axis, lo, hi) for lo, hi in zip(bounds[:-1], bounds[1:])]


def split(ary, indices_or_sections, axis=0):
    return array_split(ary, indices_or_sections, axis, _equal=True)


def flip(m, axis=None):
    x = as_traced(m)
    axes = range(x.ndim) if axis is None else normalize_axis_tuple(axis, x.ndim)
    for d in axes:
        x = slice_axis(x, d, None, None, -1)
    return x


def roll(a, shift, axis=None):
    x = as_traced(a)
    if axis is None:
        return reshape(roll(ravel(x), shift, 0), x.shape)
    shifts = shift if isinstance(shift, (tuple, list)) else (shift,)
    axes = axis if isinstance(axis, (tuple, list)) else (axis,)
    shifts, axes = np.broadcast_arrays(np.asarray(shifts), np.asarray(axes))
    for s, d in zip(shifts.ravel().tolist(), axes.ravel().tolist()):
        d = normalize_axis_index(d, x.ndim)
        n = x.shape[d]
        if n == 0 or s % n == 0:
            continue
        s %= n
        x = concatenate([slice_axis(x, d, n - s, n), slice_axis(x, d, 0, n - s)], d)
    return x


def repeat(a, repeats, axis=None):
    x = as_traced(a)
    if not isinstance(repeats, (int, np.integer)):
        raise UnsupportedError("np.repeat with an array of repeats", "repeat", user_loc())
    if axis is None:
        x, axis = ravel(x), 0
    axis = normalize_axis_index(axis, x.ndim)
    expanded = reshape(x, x.shape[:axis + 1] + (1,) + x.shape[axis + 1:])
    wide = broadcast_to(expanded, x.shape[:axis + 1] + (int(repeats),) + x.shape[axis + 1:])
    return wrap(emit("reshape", [wide], {"shape": x.shape[:axis] + (x.shape[axis] * int(repeats),)
                                          + x.shape[axis + 1:]}))


def pad(array, pad_width, mode="constant", **kwargs):
    x = as_traced(array)
    widths = np.asarray(pad_width)
    if widths.dtype.kind not in "iu":
        raise TypeError("`pad_width` must be of integral type.")
    widths = np.broadcast_to(widths.astype(np.int64), (x.ndim, 2)).tolist()
    if any(w < 0 for pair in widths for w in pair):
        raise ValueError("index can't contain negative values")
    if mode in _PAD_SLICES and not kwargs:
        return _pad_from_slices(x, widths, mode)
    if mode != "constant" or set(kwargs) - {"constant_values"}:
        raise UnsupportedError(f"np.pad(mode={mode!r})", "pad", user_loc())
    value = kwargs.get("constant_values", 0)
    if np.ndim(value) != 0:
        raise UnsupportedError("np.pad with per-axis constant_values", "pad", user_loc())
    fill = np.asarray(value).astype(x.dtype).item()
    return wrap(emit("pad", [x], {"widths": tuple(tuple(p) for p in widths), "value": fill}))


def _down(first, last):
    """(start, stop, step) of the indices first, first - 1, ..., last."""
    return first, (last - 1 if last >= 1 else None), -1


# mode -> (before, after) as (start, stop, step) of the axis of length n, width w, each
# valid while w is at most the bound NumPy can fill in one reflection (`limit`)
_PAD_SLICES = {
    "edge": (lambda n, w: None, lambda n, w: None, lambda n: n >= 1),
    "reflect": (lambda n, w: _down(w, 1), lambda n, w: _down(n - 2, n - 1 - w), lambda n: n - 1),
    "symmetric": (lambda n, w: _down(w - 1, 0), lambda n, w: _down(n - 1, n - w), lambda n: n),
    "wrap": (lambda n, w: (n - w, n, 1), lambda n, w: (0, w, 1), lambda n: n),
}


def _pad_from_slices(x, widths, mode):
    """np.pad's edge/reflect/symmetric/wrap modes: each axis in turn, the pieces cut from
    the array itself (widths one reflection can fill; wider ones run eagerly)."""
    before_of, after_of, limit = _PAD_SLICES[mode]
    for axis, (before, after) in enumerate(widths):
        if not before and not after:
            continue
        n = x.shape[axis]
        bound = limit(n)
        if n == 0 or (mode != "edge" and max(before, after) > bound) or (mode == "edge" and not bound):
            raise UnsupportedError(f"np.pad(mode={mode!r}) wider than the array", "pad", user_loc())
        pieces = []
        for width, cut, edge in ((before, before_of, 0), (after, after_of, n - 1)):
            if not width:
                pieces.append(None)
                continue
            if mode == "edge":
                one = slice_axis(x, axis, edge, edge + 1)
                shape = tuple(width if d == axis else m for d, m in enumerate(x.shape))
                pieces.append(broadcast_to(one, shape))
            else:
                start, stop, step = cut(n, width)
                pieces.append(slice_axis(x, axis, start, stop, step))
        parts = [p for p in (pieces[0], x, pieces[1]) if p is not None]
        x = concatenate(parts, axis=axis)
    return x


def diagonal(a, offset=0, axis1=0, axis2=1):
    """``np.diagonal``: a (read-only, in NumPy) view; axes moved last, flattened, and
    every (m+1)-th element taken from the start of the diagonal."""
    x = as_traced(a)
    if x.ndim < 2:
        raise ValueError("diag requires an array of at least two dimensions")
    first, second = normalize_axis_index(axis1, x.ndim), normalize_axis_index(axis2, x.ndim)
    if first == second:
        raise ValueError("axis1 and axis2 cannot be the same")
    offset = operator.index(offset)
    rest = [d for d in range(x.ndim) if d not in (first, second)]
    y = transpose(x, rest + [first, second])
    n, m = y.shape[-2], y.shape[-1]
    if offset >= 0:
        start, count = offset, max(0, min(n, m - offset))
    else:
        start, count = -offset * m, max(0, min(n + offset, m))
    flat = reshape(y, y.shape[:-2] + (n * m,))
    stop = start + (count - 1) * (m + 1) + 1 if count else start
    return view_of(x, slice_axis(flat, flat.ndim - 1, start, stop, m + 1)._value, readonly=True)


def view(a, dtype=None, type=None):
    """``x.view()`` (a new view of the same memory) and ``x.view(dtype)`` of a same-size
    integer or float32/float64 dtype (the bits reinterpreted: a ``bitcast``; writes
    through it reach x). Other dtypes (bool, float16, complex, another item size) and
    ``type=`` are refused: an eager fallback naming them."""
    from ..ir.ops import BITCAST_DTYPES
    x = as_traced(a)
    if isinstance(dtype, builtins.type) and issubclass(dtype, np.ndarray) and type is None:
        dtype, type = None, dtype
    if type is not None and type is not np.ndarray:
        raise UnsupportedError("x.view(type=...) of an ndarray subclass", "view", user_loc())
    if dtype is None or np.dtype(dtype) == x.dtype:
        return _scalar_view(x, view_of(x, x._value))
    target = np.dtype(dtype)
    if x.dtype not in BITCAST_DTYPES or target not in BITCAST_DTYPES or target.itemsize != x.dtype.itemsize:
        raise UnsupportedError(f"x.view({target}) of a {x.dtype} array", "view", user_loc(),
                               hint="views between same-size integer and float32/float64 dtypes compile")
    return _scalar_view(x, view_of(x, emit("bitcast", [x], {"dtype": target})))


def _scalar_view(source, result):
    """A NumPy scalar's view is a NumPy scalar."""
    if source._scalar and not source.shape:
        result._scalar = True
    return result
