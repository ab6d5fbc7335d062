"""Elementwise NumPy ufuncs and Python operators on traced arrays.

Result dtypes are NumPy's own (``resolve_ufunc`` asks ``ufunc.resolve_dtypes``), so
NEP 50 holds: Python scalars are weak, NumPy scalars and arrays are strong. Results of
Python operators whose operands are all weak stay weak (``lr * 2.0``); results of
``np.<ufunc>(...)`` calls are strong, as eager NumPy returns a NumPy scalar.
"""
from __future__ import annotations

import numpy as np

from ..ir.types import broadcast_shapes, resolve_ufunc
from .errors import UnsupportedError
from .location import user_loc
from .proxy import TracedArray
from .pyscalar import checked, python_checks
from .ufunc_names import UFUNC_OPS
from .state import as_value, check_dtype, current, is_operand, is_python_scalar, wrap


# ufuncs computed as another IR op on operands cast to NumPy's loop dtypes
ALIASES = {"fabs": "abs", "float_power": "pow"}
IDENTITIES = ("positive", "conjugate")  # of real values: the value itself
COMPARISONS = ("equal", "not_equal", "less", "less_equal", "greater", "greater_equal")


def _int_constants_fit(name, operands, loop_dtypes) -> bool:
    """NumPy 2 raises OverflowError for a Python int that does not fit the loop dtype,
    except in comparisons, which it answers exactly (False if the caller should compare
    in int64 instead)."""
    for operand, dtype in zip(operands, loop_dtypes):
        if is_python_scalar(operand) and not isinstance(operand, bool) and isinstance(operand, int) \
                and dtype.kind in "iu":
            info = np.iinfo(dtype)
            if not info.min <= operand <= info.max:
                if name in COMPARISONS and dtype != np.uint64:
                    return False
                raise OverflowError(f"Python integer {operand} out of bounds for {dtype}")
    return True


def _traced_ints_narrowed(operands, values, loop_dtypes) -> list:
    """Positions of traced Python ints (weak int64 values: a changing int argument or
    counter; not constants, which ``_int_constants_fit`` checks) that NumPy converts
    to a narrower integer loop dtype."""
    return [k for k, (x, v, d) in enumerate(zip(operands, values, loop_dtypes))
            if isinstance(x, TracedArray) and v.type.weak and v.type.dtype.kind in "iu" and d.kind in "iu"
            and d != v.type.dtype]


def _beyond_uint64(name, operands, types, loop_dtypes):
    """A uint64 array compared with a Python int outside uint64's range: NumPy answers
    exactly, the same for every element (``x > -1`` is all True)."""
    if name not in COMPARISONS or np.dtype(np.uint64) not in loop_dtypes:
        return None
    outside = [k for k, x in enumerate(operands) if is_python_scalar(x) and type(x) is int
               and not 0 <= x <= 2 ** 64 - 1]
    if not outside:
        return None
    samples = [(-1 if operands[k] < 0 else 2 ** 64) if k in outside else 0 for k in range(len(operands))]
    answer = bool(getattr(np, name)(*[np.float64(v) for v in samples]))
    state = current()
    shape = broadcast_shapes(*(t.shape for t in types))
    value = state.constant(answer, np.bool_)
    if shape:
        value = state.emit("broadcast_to", (value,), {"shape": shape})
    return wrap(value, scalar=shape == ())


def _compare_uint64(state, name, values, position):
    """A uint64 array compared with a traced Python int, exactly as NumPy does: in uint64
    when the int is not negative; when it is, the answer every uint64 gives (x > -1)."""
    k = values[position]
    u64 = np.dtype(np.uint64)
    negative = state.emit(UFUNC_OPS["less"], (k, state.constant(0, np.int64)))
    operands = [state.emit("cast", (v,), {"dtype": u64}) if v.type.dtype != u64 else v for v in values]
    compared = state.emit(UFUNC_OPS[name], operands)
    samples = [-1 if i == position else 0 for i in range(len(values))]     # any uint64 vs any negative int
    answer = bool(getattr(np, name)(*samples))
    fixed = state.emit("broadcast_to", (state.constant(answer, np.bool_),), {"shape": compared.type.shape}) \
        if compared.type.shape else state.constant(answer, np.bool_)
    return wrap(state.emit("where", (negative, fixed, compared)), scalar=compared.type.shape == ())


def require_int_fits(state, values, positions, loop_dtypes):
    """NumPy 2's OverflowError for a traced Python int that does not fit the loop dtype:
    a range guard on the int argument when the value is one plus a constant, else a
    run-time check."""
    for k in positions:
        info = np.iinfo(loop_dtypes[k])
        lo, hi = max(info.min, -2 ** 63), min(info.max, 2 ** 63 - 1)     # the int is an int64
        found = state.affine.get(values[k])
        if found is not None:
            symbol, offset = found
            state.require_range(symbol, lo - offset, hi - offset)
            continue
        low = state.emit(UFUNC_OPS["greater_equal"], (values[k], state.constant(lo, np.int64)))
        high = state.emit(UFUNC_OPS["less_equal"], (values[k], state.constant(hi, np.int64)))
        ok = state.emit(UFUNC_OPS["logical_and"], (low, high))
        values[k] = state.emit("require", [values[k], ok], {
            "error": "OverflowError", "message": f"Python integer out of bounds for {loop_dtypes[k]}"})


def apply(name: str, operands, python_op: bool = False) -> TracedArray:
    """Trace ``np.<name>(*operands)`` (or a Python operator when `python_op`)."""
    state = current()
    values = [as_value(x) for x in operands]
    types = [v.type for v in values]
    loop_dtypes, out_dtype = resolve_ufunc(name, types)   # TypeError as NumPy's when no loop
    narrowed = _traced_ints_narrowed(operands, values, loop_dtypes)
    beyond = _beyond_uint64(name, operands, types, loop_dtypes)
    if beyond is not None:
        return beyond
    if narrowed and name in COMPARISONS and np.dtype(np.uint64) in loop_dtypes:
        return _compare_uint64(state, name, values, narrowed[0])
    if narrowed and name in COMPARISONS:       # NumPy compares a Python int exactly: in int64
        values = [v if v.type.weak else state.emit("cast", (v,), {"dtype": np.dtype(np.int64)}) for v in values]
        types = [v.type for v in values]
    elif narrowed:
        require_int_fits(state, values, narrowed, loop_dtypes)
        types = [v.type for v in values]
    if not _int_constants_fit(name, operands, loop_dtypes):   # e.g. uint8 < -3: exact in int64
        wide = np.dtype(np.int64)
        values = [v if v.type.weak else state.emit("cast", (v,), {"dtype": wide}) for v in values]
        types = [v.type for v in values]
    broadcast_shapes(*(t.shape for t in types))
    weak = python_op and all(t.weak for t in types)
    attrs = {"weak_result": True} if weak else {}
    if name in IDENTITIES and out_dtype.kind != "c":
        (value,) = values
        if value.type.dtype != out_dtype or (value.type.weak and not weak):
            value = state.emit("cast", (value,), {"dtype": out_dtype, **attrs})
        return wrap(value, scalar=value.type.shape == ())
    if name in UFUNC_OPS:
        op = UFUNC_OPS[name]
    elif name in ALIASES:
        op = ALIASES[name]
        values = [v if v.type.dtype == d else state.emit("cast", (v,), {"dtype": d})
                  for v, d in zip(values, loop_dtypes)]
    else:
        raise UnsupportedError(f"np.{name}", f"np.{name}", user_loc())
    checks = python_checks(name, values) if weak else []
    result = state.emit(op, values, attrs)
    if result.type.dtype != out_dtype:  # the IR rule disagrees with NumPy: make it explicit
        result = state.emit("cast", (result,), {"dtype": out_dtype, **attrs})
    if state.affine and name in ("add", "subtract"):
        _track_affine(state, name, values, operands, result)
    if checks:                          # Python's own errors and exactness (tracer/pyscalar.py)
        guarded = checked(result, checks)
        if result in state.affine:
            state.affine[guarded] = state.affine[result]
        result = guarded
    return wrap(result, scalar=result.type.shape == ())


def _track_affine(state, name, values, operands, result):
    """A dynamic int plus or minus a Python int stays "that argument + constant"
    (so ``x[pos:pos + L]`` has a static length)."""
    a, b = operands
    if values[0] in state.affine and type(b) is int:
        symbol, offset = state.affine[values[0]]
        state.affine[result] = (symbol, offset + b if name == "add" else offset - b)
    elif values[1] in state.affine and type(a) is int and name == "add":
        symbol, offset = state.affine[values[1]]
        state.affine[result] = (symbol, offset + a)


def binary_operator(name: str, a, b):
    """``a <op> b`` for Python operators; NotImplemented for operands we do not know."""
    if not (is_operand(a) and is_operand(b)):
        return NotImplemented
    return apply(name, (a, b), python_op=True)


def power_operator(base: TracedArray, exponent):
    """``base ** exponent`` with ndarray.__pow__'s fast paths (bit-identical to NumPy):
    a Python int 2 -> square; for float arrays a Python int -1 -> reciprocal and a
    Python float 0.5 -> sqrt. NumPy scalars (and weak Python floats) take no fast path."""
    if not is_operand(exponent):
        return NotImplemented
    dtype = base.dtype
    if not base._scalar and not base._value.type.weak:
        if type(exponent) is int:
            if exponent == 2:
                return apply("square", (base,))
            if exponent == -1 and dtype.kind == "f":
                return apply("reciprocal", (base,))
            if exponent < 0 and dtype.kind in "biu":
                raise ValueError("Integers to negative integer powers are not allowed.")
        elif type(exponent) is float and exponent == 0.5 and dtype.kind == "f":
            return apply("sqrt", (base,))
    return apply("power", (base, exponent), python_op=True)


def divmod_(a, b, python_op: bool = False):
    return apply("floor_divide", (a, b), python_op), apply("remainder", (a, b), python_op)


def astype(x, dtype, casting="unsafe", copy=True):
    """``x.astype(dtype)``: a ``cast`` op (none when the dtype is already right)."""
    if not isinstance(x, TracedArray) or x.type.weak:
        x = wrap(as_value(x, weak=False))
    dtype = check_dtype(np.dtype(dtype), "astype target")
    if casting != "unsafe" and not np.can_cast(x.dtype, dtype, casting):
        raise TypeError(f"Cannot cast array data from {x.dtype!r} to {dtype!r} according to the "
                        f"rule {casting!r}")
    if dtype == x.dtype:
        return wrap(x._value, scalar=x._scalar)
    return wrap(current().emit("cast", [x._value], {"dtype": dtype}), scalar=x._scalar)
