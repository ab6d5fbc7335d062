"""Memory layout of traced arrays: ``x.strides`` and ``x.flags``, as eager NumPy's arrays have them.

The IR has no layout (the runtime chooses its own buffers), so the layout a traced
array *would* have in eager NumPy is derived here, only when the program reads it:

- an argument's layout is the caller's array's (``TraceState.input_layouts``, given by
  the runtime); reading it makes the specialization require that layout (strides and
  writeability) of that argument on later calls (``TraceState.layout_reads``);
- arrays lifted by identity (made while tracing, read from closures) have their own;
- a view's layout follows from its base's through the view ops between them
  (``transpose`` permutes strides, ``slice`` multiplies them by its steps,
  ``broadcast_to`` adds zero strides, ``reshape`` is NumPy's no-copy reshape,
  ``bitcast`` keeps them);
- a new array is C-contiguous when every array it is computed from is laid out in C
  order (NumPy's ``order='K'`` then allocates it in C order too), or is at most 1-D,
  and F-contiguous when every one is in F order;
  reductions, matmul, ``pad``, iotas and constants are C-contiguous; copies
  (``x.copy()``, ``np.ascontiguousarray``, ``np.zeros``...) set their layout
  explicitly (``TracedArray._layout``).

Where NumPy's rule is not modelled (operands in other orders, gathers along inner
axes, ``einsum`` outputs, state arrays whose layout is not guarded), reading the layout
raises ``UnsupportedError``: the function runs eagerly, never with a made-up answer.
"""
from __future__ import annotations

import numpy as np

from .errors import UnsupportedError
from .location import user_loc
from .proxy import TracedArray

UNKNOWN = "unknown"          # a TracedArray._layout (or TraceState.layouts entry): not modelled

_VIEWS = ("reshape", "transpose", "slice", "broadcast_to", "dynamic_slice", "bitcast")
_SAME_AS_FIRST = ("update_slice", "dynamic_update_slice", "require", "ufunc_at")
_ALWAYS_C = ("matmul", "iota", "constant", "argsort", "argpartition", "searchsorted", "cholesky", "inv", "det", "slogdet",
             "solve", "eigh", "qr", "svd", "bincount", "last_writer")


def c_strides(shape, itemsize) -> tuple:
    strides, step = [], itemsize
    for n in reversed(shape):
        strides.append(step)
        step *= max(n, 1)
    return tuple(reversed(strides))


def f_strides(shape, itemsize) -> tuple:
    return tuple(reversed(c_strides(tuple(reversed(shape)), itemsize)))


def new_layout(shape, dtype, order, like=None):
    """The strides NumPy gives a new array in `order` ('K'/'A': as the concrete array or
    traced proxy `like`; a traced one is resolved when read)."""
    itemsize = np.dtype(dtype).itemsize
    if order in ("K", "A") and like is not None:
        if isinstance(like, TracedArray):
            return _Like(like)
        flags = like.flags
        if flags.c_contiguous or (order == "A" and not flags.f_contiguous):
            return c_strides(shape, itemsize)
        if flags.f_contiguous:
            return f_strides(shape, itemsize)
        return UNKNOWN if order == "K" else c_strides(shape, itemsize)
    if order == "F":
        return f_strides(shape, itemsize)
    return c_strides(shape, itemsize)


class _Like:
    """A layout entry: as the traced array `proxy`'s (C or F order; others not modelled)."""

    __slots__ = ("proxy",)

    def __init__(self, proxy):
        self.proxy = proxy

    def resolve(self, shape, itemsize):
        found = _strides(self.proxy)
        if found is None or None in found:
            return None
        if _c_ordered(found):                  # NumPy's order='K': the prototype's axis order
            return c_strides(shape, itemsize)
        if _c_ordered(found[::-1]):
            return f_strides(shape, itemsize)
        return None


def is_c_contiguous(shape, strides, itemsize) -> bool:
    """NumPy's C_CONTIGUOUS flag (length-1 axes' strides do not matter; empty arrays are contiguous)."""
    if 0 in shape:
        return True
    step = itemsize
    for n, s in zip(reversed(shape), reversed(strides)):
        if n != 1 and s != step:
            return False
        step *= n
    return True


def is_f_contiguous(shape, strides, itemsize) -> bool:
    return is_c_contiguous(tuple(reversed(shape)), tuple(reversed(strides)), itemsize)


def _c_ordered(strides) -> bool:
    """The axes with nonzero strides are in C order (NumPy's ``order='K'`` keeps C order)."""
    if None in strides:
        return False
    moving = [abs(s) for s in strides if s]
    return all(a >= b for a, b in zip(moving, moving[1:]))


def reshaped_strides(shape, strides, new_shape, itemsize):
    """The strides of ``reshape`` to `new_shape` (C index order): C strides for a
    C-contiguous (or empty) array, else NumPy's no-copy reshape, which splits and
    merges groups of axes that are contiguous among themselves; None where NumPy
    would copy (the traced view then is no view of NumPy's)."""
    if 0 in shape or is_c_contiguous(shape, strides, itemsize):
        return c_strides(new_shape, itemsize)
    old = [(n, s) for n, s in zip(shape, strides) if n != 1]
    new = list(new_shape)
    out = [0] * len(new)
    oi, oj, ni, nj = 0, 1, 0, 1
    while ni < len(new) and oi < len(old):
        np_, op_ = new[ni], old[oi][0]
        while np_ != op_:
            if np_ < op_:
                np_ *= new[nj]
                nj += 1
            else:
                op_ *= old[oj][0]
                oj += 1
        for k in range(oi, oj - 1):
            if old[k][1] != old[k + 1][0] * old[k + 1][1]:
                return None                                     # NumPy copies
        out[nj - 1] = old[oj - 1][1]
        for k in range(nj - 1, ni, -1):
            out[k - 1] = out[k] * new[k]
        ni, nj, oi, oj = nj, nj + 1, oj, oj + 1
    last = out[ni - 1] if ni >= 1 else itemsize
    for k in range(ni, len(new)):
        out[k] = last
    return tuple(out)


def _view_strides(node, strides, itemsize):
    """The strides after view op `node`. A length-1 axis whose stride depends on how
    NumPy code made it (``x[:, None]`` gives 0, ``x.reshape(n, 1, m)`` a product of
    sizes, and the tracer records both as one reshape) has stride None: flags do not
    depend on it, ``x.strides`` is not modelled then."""
    return view_strides(node.op.name, node.attrs, node.inputs[0].type.shape, node.output.type.shape,
                        strides, itemsize)


def view_strides(op, attrs, shape, new_shape, strides, itemsize):
    """The strides after the view op `op` (with `attrs`) takes an array of `shape` and
    `strides` to `new_shape`; None where NumPy copies (a reshape of memory not in the
    new order). Length-1 axes may get stride None (see ``_view_strides``)."""
    if op == "transpose":
        return tuple(strides[p] for p in attrs["perm"])
    if op in ("slice", "dynamic_slice"):
        return tuple(None if s is None else s * step for s, step in zip(strides, attrs["steps"]))
    if op == "broadcast_to":
        lead = len(new_shape) - len(shape)
        return (0,) * lead + tuple(0 if n == 1 and m != 1 else s for n, m, s in zip(shape, new_shape[lead:], strides))
    if op == "bitcast":
        return strides
    if [n for n in shape if n != 1] == [n for n in new_shape if n != 1] and 0 not in shape:
        moving = iter(s for n, s in zip(shape, strides) if n != 1)    # only length-1 axes come or go
        return tuple(None if n == 1 else next(moving) for n in new_shape)
    return reshaped_strides(shape, [0 if s is None else s for s in strides], new_shape, itemsize)


def value_strides(state, value):
    """The strides eager NumPy's array for `value` has, or None (not modelled)."""
    cache = state.layouts
    if value in cache:
        found = cache[value]
        if isinstance(found, _Like):
            found = found.resolve(value.type.shape, value.type.dtype.itemsize)
            cache[value] = UNKNOWN if found is None else found
        return None if found is UNKNOWN else found
    pending = _uncached_chain(state, value)
    if len(pending) > _DEEP:        # a long chain (a 300-step recurrence): deepest first, not recursively
        for earlier in reversed(pending):
            value_strides(state, earlier)
    result = _derive(state, value)
    cache[value] = UNKNOWN if result is None else result
    return result


_DEEP = 64       # uncached values under one asked for, past which they are derived bottom up


def _uncached_chain(state, value) -> list:
    """Values under `value` whose strides ``_derive`` may ask for and that are not known
    yet, in an order where each comes before those it is computed from; the walk stops
    at `_DEEP` + 1 (all that matters is whether the chain is deep)."""
    cache, found, seen, stack = state.layouts, [], {value}, [value]
    while stack and len(found) <= _DEEP:
        below = stack.pop()
        node = below.producer
        if node is None or len(below.type.shape) <= 1 or node.op.name in _ALWAYS_C:
            continue            # what ``_derive`` answers without its operands
        operands = node.inputs[:1] if node.op.name in _VIEWS + _SAME_AS_FIRST else node.inputs
        for operand in operands:
            if operand.type.shape and operand not in cache and operand not in seen:
                seen.add(operand)
                found.append(operand)
                stack.append(operand)
    return found


def _derive(state, value):
    itemsize = value.type.dtype.itemsize
    node = value.producer
    if node is None:
        if value in state.input_layouts:
            state.layout_reads.add(value)
            return state.input_layouts[value][0]
        for lifted, array in zip(state.lifted_inputs, state.lifted):
            if lifted is value:
                return tuple(array.strides)
        return None
    if len(value.type.shape) <= 1:
        return c_strides(value.type.shape, itemsize)
    op = node.op.name
    if op in _VIEWS:
        source = value_strides(state, node.inputs[0])
        return None if source is None else _view_strides(node, source, itemsize)
    if op in _SAME_AS_FIRST:
        return value_strides(state, node.inputs[0])
    if op in _ALWAYS_C:
        return c_strides(value.type.shape, itemsize)
    if op in ("take", "take_along_axis") and node.attrs.get("axis") != 0:
        return None
    orders = set()
    for operand in node.inputs:
        if operand.type.shape:
            strides = value_strides(state, operand)
            if strides is None or None in strides:
                return None
            orders.add(_c_ordered(strides) + 2 * _c_ordered(strides[::-1]))
    if all(order & 1 for order in orders):
        return c_strides(value.type.shape, itemsize)
    if op in ("take", "take_along_axis", "concat") or not all(order & 2 for order in orders):
        return None
    return f_strides(value.type.shape, itemsize)     # every operand in F order: NumPy's 'K' keeps it


def strides(x: TracedArray) -> tuple:
    """``x.strides`` of eager NumPy's array (UnsupportedError where not modelled)."""
    if x._scalar and not x.shape:
        return ()
    found = _strides(x)
    if found is None or None in found:
        raise UnsupportedError("x.strides/x.flags of an array whose layout in NumPy tracejit does not model "
                               "(computed from arrays in mixed orders, or a view NumPy would make differently)",
                               "strides", user_loc(),
                               hint="the layouts of arguments, of their views and of arrays computed from C- or "
                                    "F-ordered arrays are known; np.ascontiguousarray(x) makes one known")
    return tuple(int(s) for s in found)


def requested_strides(x: TracedArray):
    """x's strides in eager NumPy where the program's own layout requests decide them
    (``x.copy()``, ``np.ascontiguousarray``, ``order='F'``, arrays made while tracing),
    not any argument's layout; else None. A length-1 axis may have stride None (any
    stride: flags do not depend on it). Reads no argument's layout, so it adds no
    layout guard, and leaves the trace's layout records as they were."""
    state = x._state
    saved = state.input_layouts, state.layouts, state.layout_reads
    state.input_layouts, state.layouts, state.layout_reads = {}, dict(saved[1]), set(saved[2])
    try:
        found = _strides(x)
        return None if found is None else tuple(found)      # (None where a length-1 axis's stride is free)
    finally:
        state.input_layouts, state.layouts, state.layout_reads = saved


def known_strides(x: TracedArray):
    """x's strides in eager NumPy, or None where not modelled (no error: a TracerError
    the tracer's own code catches would still fail the trace)."""
    if x._scalar and not x.shape:
        return ()
    found = _strides(x)
    return None if found is None or None in found else tuple(found)


def _strides(x: TracedArray):
    layout = x._layout
    if isinstance(layout, tuple):
        return layout
    if layout is UNKNOWN:
        return None
    if x._base is not None:                       # a view: its base's layout through the view ops
        if x._chain is None:
            return None
        current = _strides(x._base)
        if current is None:
            return None
        itemsize = x._base.dtype.itemsize
        for node in x._chain:
            current = _view_strides(node, current, itemsize)
            if current is None:
                return None
        return current
    value = layout if layout is not None else x._value      # (an owner written into: its memory's)
    found = value_strides(x._state, value)
    if found is None or x._input or value in x._state.layout_assigned:
        return found
    shape, itemsize = value.type.shape, value.type.dtype.itemsize
    if is_c_contiguous(shape, found, itemsize):
        return found
    if is_f_contiguous(shape, found, itemsize) and (value.producer is None or value.producer.op.name not in _VIEWS):
        return found                                 # a copy (order='K') of an F-ordered array
    return None                                      # new memory in an order not modelled


def assign(x: TracedArray, layout) -> TracedArray:
    """Record that eager NumPy's array for `x` has `layout` (strides or UNKNOWN), for x
    and for everything computed from its value: x's value must be new (not shared with
    another array's proxy). Conflicting records make the value's layout UNKNOWN."""
    state = x._state
    value = x._value
    if value in state.layouts and state.layouts[value] != layout:
        layout = UNKNOWN
    state.layouts[value] = layout
    state.layout_assigned.add(value)
    x._layout = value
    return x


def c_ordered_copy(x: TracedArray) -> TracedArray:
    """A new array with x's values in C order (``x.copy()``, ``np.ascontiguousarray``)."""
    return ordered_copy(x, "C")


def ordered_copy(x: TracedArray, order: str) -> TracedArray:
    """A new array with x's values in `order` ('C' or 'F'): an identity cast gives it a
    value of its own (the passes remove the cast)."""
    from .state import current, wrap
    value = current().emit("cast", [x._value], {"dtype": x.dtype})
    strides = (c_strides if order == "C" else f_strides)(x.shape, x.dtype.itemsize)
    return assign(wrap(value, scalar=x._scalar), strides)


def writeable(x: TracedArray) -> bool:
    if x._scalar and not x.shape:
        return False
    if x._readonly:
        return False
    root = x._base if x._base is not None else x
    origin = root._origin if root._origin is not None else (root._value if root._input else None)
    state = x._state
    if origin is not None:
        if origin in state.input_layouts:
            state.layout_reads.add(origin)
            return bool(state.input_layouts[origin][1])
        for lifted, array in zip(state.lifted_inputs, state.lifted):
            if lifted is origin:
                return bool(array.flags.writeable)
        raise UnsupportedError("x.flags.writeable of a state array", "flags", user_loc())
    return True


class Flags:
    """``x.flags`` of a traced array: what eager NumPy's ``ndarray.flags`` reports
    (read-only here: setting a flag runs the function eagerly)."""

    __slots__ = ("_array",)
    _KEYS = {"C_CONTIGUOUS": "c_contiguous", "C": "c_contiguous", "F_CONTIGUOUS": "f_contiguous",
             "F": "f_contiguous", "WRITEABLE": "writeable", "W": "writeable", "ALIGNED": "aligned",
             "A": "aligned", "CONTIGUOUS": "c_contiguous", "FORTRAN": "fortran", "WRITEBACKIFCOPY": "writebackifcopy",
             "X": "writebackifcopy", "FNC": "fnc", "FORC": "forc", "BEHAVED": "behaved", "B": "behaved",
             "CARRAY": "carray", "CA": "carray", "FARRAY": "farray", "FA": "farray"}

    def __init__(self, array):
        object.__setattr__(self, "_array", array)

    def _geometry(self):
        x = self._array
        return x.shape, strides(x), x.dtype.itemsize

    @property
    def c_contiguous(self) -> bool:
        return is_c_contiguous(*self._geometry())

    @property
    def f_contiguous(self) -> bool:
        return is_f_contiguous(*self._geometry())

    contiguous = c_contiguous

    fortran = f_contiguous

    @property
    def writeable(self) -> bool:
        return writeable(self._array)

    aligned = property(lambda self: True)
    writebackifcopy = property(lambda self: False)
    fnc = property(lambda self: self.f_contiguous and not self.c_contiguous)
    forc = property(lambda self: self.f_contiguous or self.c_contiguous)
    behaved = property(lambda self: self.writeable)
    carray = property(lambda self: self.c_contiguous and self.writeable)
    farray = property(lambda self: self.f_contiguous and not self.c_contiguous and self.writeable)

    def __getitem__(self, key):
        name = self._KEYS.get(str(key).upper())
        if name is None:
            raise KeyError(key)
        return getattr(self, name)

    def __getattr__(self, name):
        raise UnsupportedError(f"x.flags.{name}", "flags", user_loc())

    def __setattr__(self, name, value):
        raise UnsupportedError(f"setting x.flags.{name}", "flags", user_loc())

    __setitem__ = __setattr__

    def __repr__(self):
        raise UnsupportedError("text of x.flags", "flags", user_loc())

    __str__ = __repr__
