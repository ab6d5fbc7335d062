"""Python's own arithmetic for traced Python numbers.

A traced value that stands for a Python int or float (a changing int argument, a
counter in state, a learning rate) is computed in int64/float64 by the kernels. Where
Python's answer differs from that computation, the plan must not return it silently:

- ``1 / t``, ``7 // t``, ``t % 0`` with t == 0 raise ZeroDivisionError in Python (NumPy
  gives inf or 0): a check raises ZeroDivisionError, as eager Python does;
- ``0.0 ** -1`` raises ZeroDivisionError too; ``(-1.0) ** 0.5`` is a complex number;
  ``2 ** -1`` is a float; ``10.0 ** 1000`` raises OverflowError (NumPy gives inf):
  these fail a check and the call runs eagerly;
- Python ints do not overflow: a sum or product of ints outside int64's range fails a
  check (operands within 2**62 for ``+``/``-``, ``|a| <= 2**62 // |b|`` for ``*``) and
  the call runs eagerly.

Checks are ``require`` ops (``ir/ops.py``): the error a check raises reaches the
runtime, which re-runs the call eagerly, so the caller sees Python's result or
Python's exception. Operations with an array operand follow NumPy and get no check.
"""
from __future__ import annotations

import numpy as np

from .location import user_loc
from .state import current
from .ufunc_names import UFUNC_OPS

_DIVISIONS = frozenset({"true_divide", "divide", "floor_divide", "remainder", "mod", "fmod"})
_LIMIT = 2 ** 62


def _constant_value(value):
    node = value.producer
    if node is not None and node.op.name == "constant":
        return node.attrs["value"]
    return None


def _emit(ufunc, *values):
    return current().emit(UFUNC_OPS[ufunc], list(values), {"weak_result": True})


def _const(value, dtype):
    return current().constant(value, dtype, weak=True)


def _cast(value, dtype):
    if value.type.dtype == dtype:
        return value
    return current().emit("cast", [value], {"dtype": dtype, "weak_result": True})


def _within(value, limit):
    """|value| <= limit, as a bool value."""
    dtype = value.type.dtype
    return _emit("logical_and", _emit("greater_equal", value, _const(-limit, dtype)),
                 _emit("less_equal", value, _const(limit, dtype)))


def python_checks(name: str, values: list) -> list:
    """(condition, error, message) checks that make ``name(*values)`` on traced Python
    numbers (all weak, at least one not a constant) agree with Python."""
    if len(values) != 2 or all(_constant_value(v) is not None for v in values):
        return []
    a, b = values
    kinds = a.type.dtype.kind + b.type.dtype.kind
    checks = []
    if name in _DIVISIONS and _constant_value(b) is None:
        zero = _const(0, b.type.dtype)
        checks.append((_emit("not_equal", b, zero), "ZeroDivisionError", "division by zero"))
    elif name == "power":
        if set(kinds) <= set("iub"):
            # int ** int: a float for a negative exponent, a bigint past int64
            f64 = np.dtype(np.float64)
            base = _emit("maximum", _cast(_emit("absolute", a), f64), _const(1.0, f64))
            size = _emit("multiply", _cast(b, f64), _emit("log2", base))
            ok = _emit("logical_and", _emit("greater_equal", b, _const(0, b.type.dtype)),
                       _emit("less_equal", size, _const(62.0, f64)))
            checks.append((ok, "OverflowError", "an int power Python computes exactly or as a float "
                                                "(tracejit runs it eagerly)"))
        else:
            negative = _emit("less", a, _const(0, a.type.dtype))
            if b.type.dtype.kind == "f":
                fractional = _emit("not_equal", b, _emit("floor", b))
                checks.append((_emit("logical_not", _emit("logical_and", negative, fractional)), "ValueError",
                               "a negative number to a fractional power is complex in Python"))
            zero_base = _emit("equal", a, _const(0, a.type.dtype))
            negative_exponent = _emit("less", b, _const(0, b.type.dtype))
            checks.append((_emit("logical_not", _emit("logical_and", zero_base, negative_exponent)),
                           "ZeroDivisionError", "0.0 cannot be raised to a negative power"))
            # finite ** finite past float64's range: Python raises, the kernel's pow gives inf
            finite_operands = _emit("logical_and", _emit("isfinite", a), _emit("isfinite", b))
            overflow = _emit("logical_and", finite_operands, _emit("isinf", _emit("power", a, b)))
            checks.append((_emit("logical_not", overflow), "OverflowError", "(34, 'Numerical result out of range')"))
    elif name in ("add", "subtract") and set(kinds) <= set("iu"):
        checks.append((_emit("logical_and", _within(a, _LIMIT - 1), _within(b, _LIMIT - 1)), "OverflowError",
                       "a Python int sum past int64 (tracejit runs it eagerly)"))
    elif name == "multiply" and set(kinds) <= set("iu"):
        dtype = a.type.dtype
        size = _emit("maximum", _emit("absolute", b), _const(1, dtype))
        fits = _emit("less_equal", _emit("absolute", a), _emit("floor_divide", _const(_LIMIT, dtype), size))
        small = _emit("logical_and", _within(b, _LIMIT), fits)
        checks.append((small, "OverflowError", "a Python int product past int64 (tracejit runs it eagerly)"))
    return checks


def checked(result, checks):
    """`result` behind each check's ``require``."""
    state = current()
    where = user_loc()
    for condition, error, message in checks:
        result = state.emit("require", [result, condition],
                            {"error": error, "message": f"{message} (at {where})" if where else message})
    return result


__all__ = ["checked", "python_checks"]

