"""Writes into traced arrays, functionalized: ``x[key] = v``, in-place operators,
``out=``, ``np.copyto`` and ``np.add.at`` become SSA ops that make a new version.

A write computes the new value of what it writes into (``update_slice`` for a basic
index, a select for a boolean mask, a gather of the last writer for an integer array
index), then carries it up to the proxy that owns the memory: through each view op of
the target's chain in reverse (``slice`` -> ``update_slice`` of the parent, ``transpose``
and ``reshape`` -> their inverses). The owner is rebound to the new value and every live
view of it is re-derived, so aliases see the write exactly as in NumPy. An owner that is
a graph input (an argument, state) records a *mutation*: its final value is written
back into the caller's array after each call (``trace.py`` collects them).
"""
from __future__ import annotations

import numpy as np

from .errors import UnsupportedError
from .indexing import MaskedSelection, select
from .masked import same_mask
from .location import user_loc
from .proxy import TracedArray
from .shapes import broadcast_to, emit, reshape
from .state import as_value, current
from .ufunc_names import UFUNC_OPS
from .ufuncs import astype, require_int_fits

_INVERSE = {}


def _inverse_transpose(node, parent, new):
    perm = node.attrs["perm"]
    return emit("transpose", [new], {"perm": tuple(int(p) for p in np.argsort(perm))})


def _inverse_reshape(node, parent, new):
    return emit("reshape", [new], {"shape": parent.type.shape})


def _inverse_slice(node, parent, new):
    attrs = {k: node.attrs[k] for k in ("starts", "steps", "shape")}
    return emit("update_slice", [parent, new], attrs)


def _inverse_dynamic_slice(node, parent, new):
    attrs = {k: node.attrs[k] for k in ("steps", "shape")}
    return emit("dynamic_update_slice", [parent, new] + list(node.inputs[1:]), attrs)


def _inverse_bitcast(node, parent, new):
    return emit("bitcast", [new], {"dtype": parent.type.dtype})


_INVERSE.update(transpose=_inverse_transpose, reshape=_inverse_reshape, slice=_inverse_slice,
                dynamic_slice=_inverse_dynamic_slice, bitcast=_inverse_bitcast)


def _replay(node, value):
    """`node`'s view op applied to `value` (its other operands, dynamic offsets, kept)."""
    return emit(node.op.name, [value] + list(node.inputs[1:]), node.attrs)


def _as_target_value(target: TracedArray, value, casting="unsafe", what="assignment"):
    """`value` converted to the target's dtype and broadcast to its shape (a Value)."""
    if isinstance(value, MaskedSelection):
        raise UnsupportedError("assigning a boolean mask read (x[...] = y[mask]) outside the same mask",
                               "__setitem__", user_loc())
    source = value if isinstance(value, TracedArray) else None
    if target.dtype.kind in "iu":
        _python_ints_fit(value, target.dtype)
        if what == "assignment":
            _float_scalar_converts(value, target.dtype)
    v = as_value(value)
    if what == "assignment" and target.dtype.kind in "iu" and v.type.dtype.kind == "f" and v.type.shape == () \
            and (v.type.weak or (source is not None and source._scalar and target.dtype.kind == "i")) and \
            (v.producer is None or v.producer.op.name != "constant"):
        v = _checked_float_to_int(v, target.dtype)
    if v.type.weak and v.type.dtype.kind == "i" and target.dtype.kind in "iu" and target.dtype != v.type.dtype \
            and (v.producer is None or v.producer.op.name != "constant"):
        checked = [v]                         # a traced Python int: NumPy's OverflowError where it does not fit
        require_int_fits(current(), checked, [0], [target.dtype])
        v = checked[0]
    if casting != "unsafe" and not np.can_cast(v.type.dtype, target.dtype, casting) and \
            (not v.type.weak or not _weak_castable(v.type.dtype, target.dtype, casting)):
        raise TypeError(f"Cannot cast {what} output from {v.type.dtype!r} to {target.dtype!r} with casting "
                        f"rule {casting!r}")
    if v.type.dtype != target.dtype or v.type.weak:
        if v.type.dtype.kind == "c" and target.dtype.kind != "c":
            raise UnsupportedError("assigning complex values into a real array", "__setitem__", user_loc())
        scalar = source._scalar if source is not None else False
        v = astype(TracedArray(v, current(), scalar=scalar), target.dtype)._value
    if v.type.shape != target.shape:
        try:
            v = broadcast_to(TracedArray(v, current()), target.shape)._value
        except ValueError:
            raise ValueError(f"could not broadcast input array from shape {v.type.shape} into shape "
                             f"{target.shape}") from None
    return v


_KIND_RANK = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}


def _weak_castable(dtype, target, casting) -> bool:
    """A Python number (weak) under `casting` as NumPy 2 takes it: 'same_kind' and 'safe'
    by its kind alone (0.5 into int64 is refused, 3 into uint8 allowed), 'no' and
    'equiv' as its default dtype."""
    if casting in ("same_kind", "safe"):
        return _KIND_RANK[np.dtype(dtype).kind] <= _KIND_RANK[np.dtype(target).kind]
    return False


def _python_ints_fit(value, dtype) -> None:
    """NumPy 2 raises OverflowError for a Python int (alone or in a list) outside an
    integer array's dtype, where a cast would wrap."""
    if type(value) is int:
        info = np.iinfo(dtype)
        if not info.min <= value <= info.max:
            raise OverflowError(f"Python integer {value} out of bounds for {dtype}")
    elif type(value) in (list, tuple):
        for item in value:
            _python_ints_fit(item, dtype)


def _float_scalar_converts(value, dtype) -> None:
    """A float scalar stored into an integer array goes through Python's ``int()`` in
    NumPy: NaN raises ValueError, infinity and values out of the dtype's range
    OverflowError. A constant is converted here, by NumPy itself."""
    def constant_float(item):
        return isinstance(item, (float, np.floating)) and not isinstance(item, TracedArray)
    if constant_float(value) or (isinstance(value, (list, tuple)) and value and all(
            constant_float(item) for item in value)):
        items = value if isinstance(value, (list, tuple)) else [value]
        probe = np.zeros(1, dtype)
        for item in items:
            probe[0] = item


def _checked_float_to_int(v, dtype):
    """A traced float scalar bound for an integer array: NumPy's ValueError for NaN and
    OverflowError past the dtype's range, checked when the plan runs. NumPy converts a
    Python float so into any integer dtype, a NumPy float scalar (``a[0] = x.max()``)
    only into signed ones (into unsigned ones it casts, wrapping)."""
    state = current()
    ok = state.emit(UFUNC_OPS["logical_not"], (state.emit(UFUNC_OPS["isnan"], (v,)),))
    v = state.emit("require", [v, ok], {"error": "ValueError", "message": "cannot convert float NaN to integer"})
    info, ftype = np.iinfo(dtype), v.type.dtype
    below = info.min - 1                   # the values whose truncation fits: (min - 1, max + 1)
    if int(np.asarray(below, ftype)) == below:
        low = state.emit(UFUNC_OPS["greater"], (v, state.constant(float(below), ftype)))
    else:                                  # no float of this dtype lies between min - 1 and min
        low = state.emit(UFUNC_OPS["greater_equal"], (v, state.constant(float(info.min), ftype)))
    high = state.emit(UFUNC_OPS["less"], (v, state.constant(float(info.max) + 1, ftype)))
    fits = state.emit(UFUNC_OPS["logical_and"], (low, high))
    return state.emit("require", [v, fits], {"error": "OverflowError",
                                              "message": f"float out of bounds for {np.dtype(dtype)}"})


def commit(target: TracedArray, new):
    """`target` now holds the Value `new` (its shape and dtype): carry it up to the
    memory's owner, rebind the owner, re-derive its views, record a mutation."""
    if target._readonly:
        raise ValueError("assignment destination is read-only")
    owner = target._base if target._base is not None else target
    if target._base is not None:
        if target._chain is None:
            raise UnsupportedError("writing through a view tracejit cannot follow back to its array"
                                   + (" (a reshape NumPy may view or copy)" if target._ambiguous else ""),
                                   "__setitem__", user_loc())
        parents = [owner._value]
        for node in target._chain:
            parents.append(_replay(node, parents[-1]))
        for node, parent in zip(reversed(target._chain), reversed(parents[:-1])):
            rule = _INVERSE.get(node.op.name)
            if rule is None:           # broadcast_to: NumPy's views of it are read-only
                raise ValueError("assignment destination is read-only")
            new = rule(node, parent, new)
    if owner._layout is None:
        owner._layout = owner._value           # its memory keeps the layout it had (layout.py)
    owner._value = new
    live = [ref for ref in owner._views or () if ref() is not None]
    owner._views = live
    for view in (ref() for ref in live):
        if view is not None and view._ambiguous:
            raise UnsupportedError("writing into an array with a reshape that NumPy may view or copy (its layout "
                                   "is not modelled: a state array, or computed from arrays in mixed orders)",
                                   "__setitem__", user_loc())
        if view is None or view._chain is None:
            continue
        value = owner._value
        for node in view._chain:
            value = _replay(node, value)
        view._value = value
    if owner._origin is not None:
        current().mutations[owner._origin] = owner


def setitem(x: TracedArray, key, value, casting="unsafe"):
    """``x[key] = value`` with NumPy's semantics."""
    if x._scalar and not x.shape:
        raise TypeError(f"'{x.dtype.type.__name__}' object does not support item assignment")
    trailing = _trailing_mask(x, key)
    if trailing is not None:            # x[:, :, mask] = v: a mask over the trailing axes
        view = select(x, (slice(None),) * trailing[0]).view
        commit(view, _masked_trailing(view, *trailing, value))
        return
    sel = select(x, key)
    view = sel.view
    if sel.mask is not None:
        commit(view, _masked(view, sel.mask, value))
        return
    if sel.index is None:
        commit(view, _as_target_value(view, value, casting))
        return
    if sel.moved:
        raise UnsupportedError("assigning through integer arrays separated by slices", "__setitem__", user_loc())
    commit(view, scatter(view, sel.axis, sel.index, value))


def _masked(view, mask, value):
    """where(mask, value, view) with the mask over the leading dims."""
    if isinstance(value, MaskedSelection):
        if not same_mask(value.mask, mask) or value.source.shape[:np.ndim(mask)] != view.shape[:np.ndim(mask)]:
            raise UnsupportedError("x[mask] = y[other_mask] (the counts of selected elements may differ)",
                                   "__setitem__", user_loc())
        value = value.source
    else:
        rest = (1,) + tuple(view.shape[np.ndim(mask):])
        try:
            fits = np.broadcast_shapes(np.shape(value), rest) == rest
        except ValueError:
            fits = False
        if not fits:     # one value per selected element: their count depends on the data
            raise UnsupportedError("x[mask] = array (the number of selected elements depends on the data)",
                                   "__setitem__", user_loc(), hint="use np.where(mask, values, x)")
    if np.ndim(mask) < view.ndim:
        mask = reshape(mask if isinstance(mask, TracedArray) else np.asarray(mask),
                       tuple(np.shape(mask)) + (1,) * (view.ndim - np.ndim(mask)))
    chosen = where(mask, _wrap(_as_target_value(view, value)), view)
    return astype(chosen, view.dtype)._value


def _trailing_mask(x, key):
    """(leading axes, mask) for ``x[:, :, mask]`` or ``x[..., mask]``: whole slices,
    then a traced boolean mask of exactly x's trailing axes (attention's ``att[:, :,
    causal] = -inf``); else None (other keys, and shapes NumPy refuses, take the general
    path)."""
    if not isinstance(key, tuple) or len(key) < 2:
        return None
    *lead, mask = key
    if not isinstance(mask, TracedArray) or mask.dtype != np.bool_ or mask.ndim < 1:
        return None                      # (a NumPy mask: an integer index, ``indexing._constant_mask_after_slices``)
    if lead == [Ellipsis]:
        n = x.ndim - mask.ndim
    elif all(isinstance(k, slice) and k == slice(None) for k in lead):
        n = len(lead)
    else:
        return None
    if n < 1 or tuple(x.shape[n:]) != tuple(mask.shape):
        return None
    return n, mask


def _masked_trailing(view, n, mask, value):
    """where(mask, value, view) with the mask over the axes after the first `n`: a value
    per leading position at most (one per selected element would depend on the data)."""
    lead = tuple(view.shape[:n])
    if isinstance(value, MaskedSelection):
        raise UnsupportedError("x[..., mask] = y[mask]", "__setitem__", user_loc(),
                               hint="use np.where(mask, y, x)")
    target = lead + (1,)
    try:
        fits = np.broadcast_shapes(np.shape(value), target) == target
    except ValueError:
        fits = False
    if not fits:
        raise UnsupportedError("x[..., mask] = array (the number of selected elements depends on the data)",
                               "__setitem__", user_loc(), hint="use np.where(mask, values, x)")
    if np.ndim(value):
        value = np.broadcast_to(value, target).reshape(lead + (1,) * mask.ndim)
    mask = reshape(mask, (1,) * n + tuple(mask.shape))
    chosen = where(mask, _wrap(_as_target_value(view, value)), view)
    return astype(chosen, view.dtype)._value


def _wrap(value):
    return TracedArray(value, current())


def where(cond, a, b):
    """np.where on proxies (without the function table: it imports this module)."""
    cond, a, b = (as_value(x) for x in (cond, a, b))
    if cond.type.dtype != np.bool_:
        cond = current().emit("cast", [cond], {"dtype": np.dtype(np.bool_)})
    return _wrap(current().emit("where", [cond, a, b]))


def take(x, index, axis=0):
    return _wrap(emit("take", [as_value(x), as_value(index)], {"axis": axis}))


def _positions(n, index):
    """The index array flattened, negative entries wrapped, out-of-range ones raising
    IndexError as NumPy's (a gather of 0..n-1 does both)."""
    from .shapes import ravel
    iota = _wrap(current().emit("iota", (), {"shape": (n,), "axis": 0, "dtype": np.dtype(np.int64)}))
    flat = ravel(index if isinstance(index, TracedArray) else np.asarray(index))
    return take(iota, flat)


def scatter(view: TracedArray, axis: int, index, value):
    """`view` with view[..., index[k], ...] = value[..., k, ...], the last k winning:
    which k lands at each position is one pass over the index (``last_writer``); the
    gather of those values and the select fuse with the work around them."""
    from . import ufuncs
    n = view.shape[axis]
    positions = _positions(n, index)
    m = positions.shape[0]
    index_shape = tuple(np.shape(index))
    indexed = view.shape[:axis] + index_shape + view.shape[axis + 1:]
    v = _wrap(_as_target_value(_wrap_shape(view, indexed), value))
    if m == 0:
        return view._value
    v = reshape(v, view.shape[:axis] + (m,) + view.shape[axis + 1:])
    winner = _wrap(current().emit("last_writer", [as_value(positions)], {"length": n}))   # (n,): -1 unwritten
    chosen = take(v, ufuncs.apply("maximum", (winner, 0)), axis=axis)
    present = reshape(ufuncs.apply("greater_equal", (winner, 0)),
                      (n,) + (1,) * (view.ndim - axis - 1))
    return astype(where(present, chosen, view), view.dtype)._value


# the ufuncs whose np.<ufunc>.at is traced (``ufunc_at``: NumPy's own .at runs it)
_AT = ("add", "subtract", "multiply", "maximum", "minimum", "fmax", "fmin", "bitwise_and", "bitwise_or",
       "bitwise_xor", "logical_and", "logical_or", "logical_xor")


def add_at(view: TracedArray, axis: int, index, value, ufunc_name="add"):
    """`view` with view[..., index[k], ...] = ufunc(view[...], value[..., k, ...]) for every
    k in turn (np.add.at and its kin): the library op ``ufunc_at``, one pass over the index."""
    n = view.shape[axis]
    positions = _positions(n, index)
    m = positions.shape[0]
    indexed = view.shape[:axis] + tuple(np.shape(index)) + view.shape[axis + 1:]
    common = _at_dtype(view.dtype, value)
    _numpy_accepts_at(ufunc_name, view.dtype, common)
    v = _wrap(_as_target_value(_Shape(indexed, common), value, what="np." + ufunc_name + ".at"))
    if m == 0:
        return view._value
    v = reshape(v, view.shape[:axis] + (m,) + view.shape[axis + 1:])
    return current().emit("ufunc_at", [as_value(view), as_value(positions), as_value(v)],
                          {"ufunc": ufunc_name, "axis": axis})


def _at_dtype(target_dtype, value) -> np.dtype:
    """The dtype np.<ufunc>.at computes each update in: the target's and the values'
    common type (NEP 50: a Python number takes the target's kind where it fits); each
    result is cast back into the target (an int target, float values: truncated)."""
    v = as_value(value)
    if v.type.weak:
        common = np.result_type(target_dtype, {"b": False, "i": 0, "u": 0, "f": 0.0, "c": 0j}[v.type.dtype.kind])
    else:
        common = np.result_type(target_dtype, v.type.dtype)
    if common.kind == "c" and target_dtype.kind != "c":
        raise UnsupportedError("np.<ufunc>.at of complex values into a real array", "ufunc.at", user_loc())
    return common


def _numpy_accepts_at(ufunc_name, target_dtype, common) -> None:
    """NumPy's own error for dtypes its .at loop refuses (bitwise_or of floats), raised
    while tracing, as the eager call raises it, not from the compiled step."""
    with np.errstate(all="ignore"):
        getattr(np, ufunc_name).at(np.zeros(1, target_dtype), np.zeros(1, np.intp), np.zeros(1, common))


class _Shape:
    """A stand-in carrying a target shape and dtype for `_as_target_value`."""

    def __init__(self, shape, dtype):
        self.shape, self.dtype, self._readonly = tuple(shape), dtype, False


def _wrap_shape(view, shape):
    return _Shape(shape, view.dtype)


def inplace(target: TracedArray, result):
    """``target op= value`` once `result` (target op value) is computed: NumPy's
    same-kind casting into the target, then a write of the whole target."""
    if result is NotImplemented:
        return result
    if target._value.type.weak or target._scalar:
        return result     # it stands for a Python number or a NumPy scalar: `t += 1` rebinds
    if not isinstance(result, TracedArray):
        result = _wrap(as_value(result))
    if result.shape != target.shape:
        raise ValueError(f"non-broadcastable output operand with shape {target.shape} doesn't "
                         f"match the broadcast shape {result.shape}")
    if result.dtype != target.dtype and not np.can_cast(result.dtype, target.dtype, "same_kind"):
        raise TypeError(f"Cannot cast ufunc output from {result.dtype!r} to {target.dtype!r} with "
                        "casting rule 'same_kind'")
    commit(target, _as_target_value(target, result))
    return target


def write_out(out, result, casting="same_kind"):
    """A ufunc's `out=` array receives `result`; returns `out` (as NumPy does)."""
    if not isinstance(out, TracedArray):
        raise UnsupportedError("out= with an array tracejit does not trace", "out=", user_loc())
    if not isinstance(result, TracedArray):
        result = _wrap(as_value(result))
    if casting != "unsafe" and result.dtype != out.dtype and not np.can_cast(result.dtype, out.dtype, casting):
        raise TypeError(f"Cannot cast ufunc output from {result.dtype!r} to {out.dtype!r} with casting "
                        f"rule {casting!r}")
    commit(out, _as_target_value(out, result))
    return out


def copyto(dst, src, casting="same_kind", where=True):
    """np.copyto."""
    if not isinstance(dst, TracedArray):
        raise UnsupportedError("np.copyto into an array tracejit does not trace", "copyto", user_loc())
    if where is True:
        commit(dst, _as_target_value(dst, src, casting, "copyto"))
        return
    value = _wrap(_as_target_value(dst, src, casting, "copyto"))
    commit(dst, astype(_where_copy(where, value, dst), dst.dtype)._value)


def _where_copy(mask, value, dst):
    return where(mask, value, dst)


def ufunc_at(ufunc_name, a, indices, b=None):
    """np.<ufunc>.at(a, indices, b) for the binary ufuncs in ``_AT`` with one integer
    array index (repeated indices apply every value, in turn) or a basic index (ints
    and slices: each element once, ``ufunc(a[indices], b)`` cast back unsafely)."""
    where_ = f"np.{ufunc_name}.at"
    if ufunc_name not in _AT or b is None or not isinstance(a, TracedArray):
        raise UnsupportedError(where_ + (" of a unary ufunc" if b is None else ""), where_, user_loc())
    sel = select(a, indices)
    if sel.mask is not None or sel.moved:
        raise UnsupportedError(f"{where_} with other than one integer array index", where_, user_loc())
    if sel.index is None:
        from . import ufuncs
        common = _at_dtype(sel.view.dtype, b)
        _numpy_accepts_at(ufunc_name, sel.view.dtype, common)
        updated = ufuncs.apply(ufunc_name, (sel.view, _wrap(_as_target_value(_Shape(sel.view.shape, common), b,
                                                                             what=where_))))
        commit(sel.view, astype(updated, sel.view.dtype)._value)
        return
    commit(sel.view, add_at(sel.view, sel.axis, sel.index, b, ufunc_name))
