"""Ops whose positions or repetitions are data: dynamic slices and the loop.

- ``dynamic_slice(x, o_0, .., o_{r-1})``: ``x[o + steps * i]`` with a static result
  shape and int64 0-d offsets; ``dynamic_update_slice(x, v, o_0, ..)`` writes there.
  Their producers guarantee the offsets are in bounds (a rolled loop's offsets were
  checked while tracing; a dynamic int argument is range-guarded); the reference
  checks anyway.
- ``write_window``: ``dynamic_update_slice`` into the buffer of its array operand
  (which nothing reads afterwards), planned as a step of its own.
- ``loop``: runs its `body` graph `trips` times. Operands: the initial values of the
  `carried` values, the loop-invariant operands, then `per_trip` groups of `trips`
  operands each (trip k reads the k-th of each group: a list of weights). Body
  inputs: the carried values, the invariants, one value per group, then one 0-d value
  per entry of `tables` (trip k reads ``tables[j][k]``: a constant or slice offset
  that changes per trip). Body outputs: the next carried values, values of which the
  last trip's are kept, then `stacked` values kept from every trip. The loop's
  results: the body's outputs after the last trip, the stacked ones as (trips, ...)
  arrays.

Registered into the one op table (``ops.OPS``) when ``tracejit.ir`` is imported.
"""
from __future__ import annotations

import numpy as np

from .ops import OpGroup, OpSpec, _register, _same_dtype, _slice_infer, slice_index
from .types import TensorType, broadcast_shapes


def _offsets(arrays) -> tuple:
    return tuple(int(np.asarray(a)) for a in arrays)


def _check_offsets(types, rank):
    if len(types) != rank or any(t.shape != () or t.dtype.kind not in "iu" for t in types):
        raise TypeError(f"expected {rank} integer 0-d offsets")


def _dynamic_slice_infer(types, attrs):
    x, offsets = types[0], types[1:]
    _check_offsets(offsets, x.rank)
    return _same_dtype(x, attrs["shape"])


def _dynamic_slice_reference(arrays, attrs, out_types):
    x, starts = arrays[0], _offsets(arrays[1:])
    _slice_infer([TensorType(x.shape, x.dtype)], {**attrs, "starts": starts})       # in bounds
    return [x[slice_index(starts, attrs["steps"], attrs["shape"])]]


_register(OpSpec("dynamic_slice", OpGroup.MOVEMENT, -1, _dynamic_slice_infer, _dynamic_slice_reference,
                 doc="out[i] = x[o + steps * i] per axis, the offsets o int64 0-d operands",
                 attrs=("steps", "shape")))


def _dynamic_update_infer(types, attrs):
    x, v, offsets = types[0], types[1], types[2:]
    _check_offsets(offsets, x.rank)
    if v.dtype != x.dtype:
        raise TypeError(f"dynamic_update_slice: the value's dtype {v.dtype} is not the array's {x.dtype}")
    if broadcast_shapes(v.shape, attrs["shape"]) != tuple(attrs["shape"]):
        raise ValueError(f"could not broadcast input array from shape {v.shape} into shape {tuple(attrs['shape'])}")
    return [TensorType(x.shape, x.dtype, x.weak)]


def _dynamic_update_reference(arrays, attrs, out_types):
    x, v, starts = arrays[0], arrays[1], _offsets(arrays[2:])
    _slice_infer([TensorType(x.shape, x.dtype)], {**attrs, "starts": starts})
    out = np.array(x, copy=True)
    out[slice_index(starts, attrs["steps"], attrs["shape"])] = v
    return [out]


_register(OpSpec("dynamic_update_slice", OpGroup.MOVEMENT, -1, _dynamic_update_infer, _dynamic_update_reference,
                 doc="x with x[o + steps * i] = v (broadcast) per axis, the offsets o int64 0-d operands",
                 attrs=("steps", "shape")))


def _write_window_reference(arrays, attrs, out_types):
    return _dynamic_update_reference(arrays, attrs, out_types)


# dynamic_update_slice whose array operand is dead after it (a loop's carried array,
# passes/loop_writes.py): the plan writes the window into that buffer in place
# (runtime/plan.py WindowWriteStep); the reference, for the interpreter, copies
_register(OpSpec("write_window", OpGroup.LIBRARY, -1, _dynamic_update_infer, _write_window_reference,
                 doc="dynamic_update_slice done in place: x's buffer, with x[o + steps * i] = v",
                 attrs=("steps", "shape")))


def loop_layout(attrs, n_operands) -> tuple:
    """(carried, invariant, per-trip groups, stacked) counts of a loop node."""
    carried, groups = attrs["carried"], attrs.get("per_trip", 0)
    invariant = n_operands - carried - groups * attrs["trips"]
    return carried, invariant, groups, attrs.get("stacked", 0)


def _loop_infer(types, attrs):
    body, trips, tables = attrs["body"], attrs["trips"], attrs["tables"]
    carried, invariant, groups, stacked = loop_layout(attrs, len(types))
    if invariant < 0 or len(body.inputs) != carried + invariant + groups + len(tables):
        raise TypeError(f"loop: the body takes {len(body.inputs)} inputs, the loop gives {len(types)} operands "
                        f"({groups} per-trip groups of {trips}) and {len(tables)} tables")
    given = list(types[:carried + invariant]) + [types[carried + invariant + g * trips] for g in range(groups)]
    for g in range(groups):
        group = types[carried + invariant + g * trips:carried + invariant + (g + 1) * trips]
        if len({(t.shape, t.dtype) for t in group}) != 1:
            raise TypeError("loop: the operands of a per-trip group differ in type")
    for t, v in zip(given, body.inputs):
        if (t.shape, t.dtype) != (v.type.shape, v.type.dtype):
            raise TypeError(f"loop: operand {t} does not match the body's input {v.type}")
    for table, v in zip(tables, body.inputs[carried + invariant + groups:]):
        if table.shape != (trips,) or table.dtype != v.type.dtype or v.type.shape != ():
            raise TypeError("loop: a table is not one value of the body's input per trip")
    outs = [v.type for v in body.outputs]
    for t, v in zip(types[:carried], outs[:carried]):
        if (t.shape, t.dtype) != (v.shape, v.dtype):
            raise TypeError(f"loop: carried value {t} comes back as {v}")
    first_stacked = len(outs) - stacked
    return outs[:first_stacked] + [TensorType((trips,) + tuple(t.shape), t.dtype, t.weak) for t in outs[first_stacked:]]


# the interpreter runs the body itself (like a kernel's region)
_register(OpSpec("loop", OpGroup.LOOP, -1, _loop_infer, None,
                 doc="runs the body graph `trips` times, carrying its first `carried` values",
                 attrs=("trips", "carried")))
