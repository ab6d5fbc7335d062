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
from .proxy import TracedArray, wrap
from .state import as_value, current, is_operand, is_python_scalar, user_loc

# NumPy ufunc name -> IR op
UFUNC_OPS = {
    "negative": "neg", "absolute": "abs", "sign": "sign", "sqrt": "sqrt", "square": "square",
    "reciprocal": "reciprocal", "exp": "exp", "exp2": "exp2", "expm1": "expm1", "log": "log",
    "log2": "log2", "log10": "log10", "log1p": "log1p", "sin": "sin", "cos": "cos", "tan": "tan",
    "arcsin": "arcsin", "arccos": "arccos", "arctan": "arctan", "sinh": "sinh", "cosh": "cosh",
    "tanh": "tanh", "arcsinh": "arcsinh", "arccosh": "arccosh", "arctanh": "arctanh",
    "floor": "floor", "ceil": "ceil", "trunc": "trunc", "rint": "rint", "isnan": "isnan",
    "isinf": "isinf", "isfinite": "isfinite", "logical_not": "logical_not", "invert": "invert",
    "add": "add", "subtract": "sub", "multiply": "mul", "divide": "div", "true_divide": "div",
    "floor_divide": "floordiv", "remainder": "mod", "power": "pow", "arctan2": "arctan2",
    "maximum": "maximum", "minimum": "minimum", "fmax": "fmax", "fmin": "fmin", "equal": "eq",
    "not_equal": "ne", "less": "lt", "less_equal": "le", "greater": "gt", "greater_equal": "ge",
    "logical_and": "logical_and", "logical_or": "logical_or", "logical_xor": "logical_xor",
    "bitwise_and": "bitwise_and", "bitwise_or": "bitwise_or", "bitwise_xor": "bitwise_xor",
}
# ufuncs computed as another IR op on operands cast to NumPy's loop dtypes
ALIASES = {"fabs": "abs", "float_power": "pow"}
IDENTITIES = ("positive", "conjugate")  # real dtypes only
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


def apply(name: str, operands, python_op: bool = False) -> TracedArray:
    """Trace ``np.<name>(*operands)`` (or a Python operator when `python_op`)."""
    state = current()
    values = [as_value(x) for x in operands]
    types = [v.type for v in values]
    loop_dtypes, out_dtype = resolve_ufunc(name, types)   # TypeError as NumPy's when no loop
    if not _int_constants_fit(name, operands, loop_dtypes):   # e.g. uint8 < -3: exact in int64
        wide = np.dtype(np.int64)
        values = [v if v.type.weak else state.emit("cast", (v,), {"dtype": wide}) for v in values]
        types = [v.type for v in values]
    broadcast_shapes(*(t.shape for t in types))
    weak = python_op and all(t.weak for t in types)
    attrs = {"weak_result": True} if weak else {}
    if name in UFUNC_OPS:
        op = UFUNC_OPS[name]
    elif name in ALIASES:
        op = ALIASES[name]
        values = [v if v.type.dtype == d else state.emit("cast", (v,), {"dtype": d})
                  for v, d in zip(values, loop_dtypes)]
    elif name in IDENTITIES:
        (value,) = values
        if value.type.dtype != out_dtype or (value.type.weak and not weak):
            value = state.emit("cast", (value,), {"dtype": out_dtype, **attrs})
        return wrap(value, scalar=value.type.shape == ())
    else:
        raise UnsupportedError(f"np.{name}", f"np.{name}", user_loc())
    result = state.emit(op, values, attrs)
    if result.type.dtype != out_dtype:  # the IR rule disagrees with NumPy: make it explicit
        result = state.emit("cast", (result,), {"dtype": out_dtype, **attrs})
    return wrap(result, scalar=result.type.shape == ())


def binary_operator(name: str, a, b):
    """``a <op> b`` for Python operators; NotImplemented for operands we do not know."""
    if not (is_operand(a) and is_operand(b)):
        for x in (a, b):
            if isinstance(x, (complex, np.complexfloating)):
                raise UnsupportedError(f"complex number {x!r}", name, user_loc(),
                                       "complex values are not supported by tracejit")
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


_REDUCE_FUNCS = {"add": "sum", "multiply": "prod", "maximum": "max", "minimum": "min"}
_DEFAULT_KWARGS = {"out": (None,), "where": True, "casting": "same_kind", "order": "K",
                   "subok": True, "dtype": None, "signature": None}


def array_ufunc(ufunc, method: str, inputs, kwargs):
    """``TracedArray.__array_ufunc__``: ``np.exp(x)``, ``ndarray + x``, ``np.add.reduce``..."""
    name = ufunc.__name__
    where = f"np.{name}" if method == "__call__" else f"np.{name}.{method}"
    for key, val in (kwargs.items() if method == "__call__" else ()):
        default = _DEFAULT_KWARGS.get(key, "<none>")
        if key == "out" and all(o is None for o in (val if isinstance(val, tuple) else (val,))):
            continue
        if key == "dtype" and method == "reduce":
            continue
        if not (val is default or (type(val) in (str, bool) and val == default)):
            raise UnsupportedError(f"{where}(..., {key}=...)", where, user_loc(),
                                   hint="out=, where=, dtype= and casting= on ufuncs are not "
                                        "traced; write the result to a new array instead")
    if method == "__call__":
        if name == "matmul":
            from .functions import matmul
            return matmul(*inputs)
        if name == "divmod":
            return divmod_(*inputs)
        if name in UFUNC_OPS or name in ALIASES or name in IDENTITIES:
            if len(inputs) != ufunc.nin:
                raise TypeError(f"{name}() takes from {ufunc.nin} to {ufunc.nin + 1} positional "
                                f"arguments but {len(inputs)} were given")
            return apply(name, inputs)
        raise UnsupportedError(f"np.{name}", where, user_loc())
    if method == "reduce" and name in _REDUCE_FUNCS:
        from . import reductions
        args = dict(zip(("array", "axis", "dtype", "out"), inputs))
        args.update(kwargs)
        if args.pop("out", None) not in (None, (None,)) or args.pop("where", True) is not True:
            raise UnsupportedError(f"{where}(..., out=/where=...)", where, user_loc())
        array = args.pop("array")
        axis = args.pop("axis", 0)
        keepdims = args.pop("keepdims", False)
        dtype = args.pop("dtype", None)
        if args:
            raise UnsupportedError(f"{where}(..., {', '.join(args)}=...)", where, user_loc())
        func = _REDUCE_FUNCS[name]
        if func in ("sum", "prod"):
            return getattr(reductions, func)(array, axis=axis, dtype=dtype, keepdims=keepdims)
        if dtype is not None:
            raise UnsupportedError(f"{where}(..., dtype=...)", where, user_loc())
        return getattr(reductions, func)(array, axis=axis, keepdims=keepdims)
    if method == "outer" and (name in UFUNC_OPS or name in ALIASES) and ufunc.nin == 2:
        from .shapes import reshape
        a, b = (x if isinstance(x, TracedArray) else np.asarray(x) for x in inputs)
        a = reshape(a, tuple(a.shape) + (1,) * b.ndim)
        return apply(name, (a, b))
    raise UnsupportedError(where, where, user_loc())
