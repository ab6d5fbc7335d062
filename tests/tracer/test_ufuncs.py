"""Ufuncs and Python operators: dtypes exactly as NumPy 2 (NEP 50), values as eager."""
import numpy as np
import pytest

from _check import check, check_or_raises, data, run_traced
from tracejit.tracer import UnsupportedError

FLOAT = ["float32", "float64"]
ALL = ["bool", "int8", "uint8", "int32", "int64", "float32", "float64"]

UNARY_FLOAT = ["negative", "absolute", "sign", "sqrt", "square", "reciprocal", "exp", "exp2",
               "expm1", "log", "log2", "log10", "log1p", "sin", "cos", "tan", "arcsin", "arccos",
               "arctan", "sinh", "cosh", "tanh", "arcsinh", "arccosh", "arctanh", "floor", "ceil",
               "trunc", "rint", "isnan", "isinf", "isfinite", "logical_not", "positive", "fabs",
               "conjugate"]
UNARY_INT = ["negative", "absolute", "sign", "square", "isnan", "isinf", "isfinite", "logical_not",
             "invert", "floor", "ceil", "trunc", "positive"]
BINARY = ["add", "subtract", "multiply", "divide", "true_divide", "floor_divide", "mod", "remainder",
          "power", "arctan2", "maximum", "minimum", "fmax", "fmin", "equal", "not_equal", "less",
          "less_equal", "greater", "greater_equal", "logical_and", "logical_or", "logical_xor",
          "float_power"]
BITWISE = ["bitwise_and", "bitwise_or", "bitwise_xor"]


@pytest.mark.parametrize("name", UNARY_FLOAT)
@pytest.mark.parametrize("dtype", FLOAT)
def test_unary_float(name, dtype):
    ufunc = getattr(np, name)
    check(lambda x: ufunc(x), data((3, 5), dtype, special=True))
    check(lambda x: ufunc(x), data((), dtype))           # 0-d -> NumPy scalar


@pytest.mark.parametrize("name", UNARY_INT)
@pytest.mark.parametrize("dtype", ["int8", "uint8", "int32", "int64"])
def test_unary_int(name, dtype):
    ufunc = getattr(np, name)
    check(lambda x: ufunc(x), data((7,), dtype))


@pytest.mark.parametrize("name", ["sqrt", "exp", "sin", "log1p", "tanh"])
@pytest.mark.parametrize("dtype", ["int32", "int64", "bool"])
def test_unary_int_to_float(name, dtype):
    ufunc = getattr(np, name)               # (of bools, NumPy computes these in float16)
    check(lambda x: ufunc(x), data((4, 3), dtype))


@pytest.mark.parametrize("name", BINARY)
@pytest.mark.parametrize("dtypes", [("float32", "float32"), ("float64", "float32"),
                                    ("int32", "float32"), ("int32", "int64"), ("int8", "uint8"),
                                    ("float64", "float64")])
def test_binary(name, dtypes):
    ufunc = getattr(np, name)
    a = data((4, 1, 5), dtypes[0], seed=1)
    b = data((3, 1), dtypes[1], seed=2)
    if name in ("power",) and np.dtype(dtypes[1]).kind in "iu":
        b = np.abs(b)
    if name in ("floor_divide", "mod", "remainder") and np.dtype(dtypes[1]).kind in "iu":
        b = np.where(b == 0, 3, b).astype(b.dtype)
    check(lambda x, y: ufunc(x, y), a, b)


@pytest.mark.parametrize("name", BITWISE + ["logical_and", "equal", "add", "multiply", "maximum"])
@pytest.mark.parametrize("dtype", ["bool", "int32", "uint8"])
def test_binary_int_bool(name, dtype):
    ufunc = getattr(np, name)
    check(lambda x, y: ufunc(x, y), data((6,), dtype, 1), data((6,), dtype, 2))


def test_divmod_and_outer():
    a, b = data((5,), "float64", 1), data((5,), "float64", 2) + 4
    check(lambda x, y: np.divmod(x, y), a, b)
    check(lambda x, y: divmod(x, y), a, b)
    check(lambda x, y: np.add.outer(x, y), a, data((2, 3), "float32"))
    check(lambda x, y: np.multiply.outer(x, y), data((3,), "int32"), data((2,), "int64"))


OPERATORS = {
    "add": lambda x, y: x + y, "sub": lambda x, y: x - y, "mul": lambda x, y: x * y,
    "truediv": lambda x, y: x / y, "floordiv": lambda x, y: x // y, "mod": lambda x, y: x % y,
    "lt": lambda x, y: x < y, "le": lambda x, y: x <= y, "gt": lambda x, y: x > y,
    "ge": lambda x, y: x >= y, "eq": lambda x, y: x == y, "ne": lambda x, y: x != y,
    "max": lambda x, y: np.maximum(x, y),
}


@pytest.mark.parametrize("op", sorted(OPERATORS))
@pytest.mark.parametrize("scalar", [2, 2.5, True, -3])
@pytest.mark.parametrize("dtype", ["float32", "int32", "int8", "float64", "uint8"])
def test_python_scalars_are_weak(op, scalar, dtype):
    fn = OPERATORS[op]
    x = data((5,), dtype) + (np.array(1, dtype) if np.dtype(dtype).kind in "iu" else 0)
    check_or_raises(lambda x: fn(x, scalar), x)
    check_or_raises(lambda x: fn(scalar, x), np.where(x == 0, 1, x).astype(x.dtype))


def test_weak_promotion_rules():
    x32 = data((4,), "float32")
    i32 = data((4,), "int32")
    check(lambda x: x * 2.5, x32)                          # stays f32
    check(lambda i: i + 1.5, i32)                          # f64
    check(lambda i: i * 3, i32)                            # stays i32
    check(lambda x, lr: lr * x, x32, 0.1)                  # traced weak scalar: f32
    check(lambda x, lr: x - lr * x, x32, 0.01)
    check(lambda i, lr: i * lr, i32, 0.5)                  # f64
    check(lambda x: x * np.float64(2.0), x32)
    check(lambda x: x + np.int64(2), i32)                  # i64 strong
    check(lambda x: x * np.float32(2), i32)                # f64 (i32, f32 -> f64)


def test_weak_results_stay_weak():
    got, tr = run_traced(lambda lr: lr * 2.0 + 1.0, 0.25)
    assert type(got) is float and got == 1.5
    got, tr = run_traced(lambda lr: -lr, 0.25)
    assert type(got) is float and got == -0.25
    got, tr = run_traced(lambda lr: np.exp(lr), 0.25)      # ufunc call -> NumPy scalar
    assert type(got) is np.float64
    x = data((3,), "float32")
    check(lambda x, lr: (lr * lr) * x, x, 0.3)             # weak * weak stays weak, then f32


def test_int_overflow_of_python_int():
    with pytest.raises(OverflowError, match="out of bounds for int8"):
        run_traced(lambda x: x + 1000, data((3,), "int8"))


@pytest.mark.parametrize("dtype", ["float32", "float64", "int32", "int64", "uint8", "bool"])
@pytest.mark.parametrize("exponent", [2, 2.0, 0.5, -1, -1.0, 1, 0, 3, 1.5])
def test_power_operator_fast_paths(dtype, exponent):
    if np.dtype(dtype).kind in "biu" and type(exponent) is int and exponent == -1:
        with pytest.raises(ValueError):
            run_traced(lambda x: x ** exponent, data((4,), dtype))
        return
    x = data((3, 4), dtype, special=True)
    if np.dtype(dtype).kind == "f":
        x.reshape(-1)[4] = -0.0
    # square / sqrt / reciprocal are unary: interpreter results are bit-identical
    check(lambda x: x ** exponent, x, rtol=0 if exponent in (2, 0.5, -1) else None)


def test_power_fast_path_ops():
    x = data((3,), "float32")
    _, tr = run_traced(lambda x: (x ** 2, x ** 0.5, x ** -1, x ** 2.0), x)
    ops = [n.op.name for n in tr.graph.nodes]
    assert ops.count("square") == 1 and ops.count("sqrt") == 1 and ops.count("reciprocal") == 1
    assert ops.count("pow") == 1
    # -inf ** 0.5 is inf with power but nan with the sqrt fast path: NumPy uses sqrt
    check(lambda x: x ** 0.5, np.array([-np.inf, -0.0, 4.0], np.float32), rtol=0)


def test_rpow_and_unary_operators():
    x = data((2, 3), "float32")
    check(lambda x: 2 ** x, x)
    check(lambda x: 2.0 ** x, x)
    check(lambda x: (-x, +x, abs(x)), x)
    check(lambda x: ~x, data((4,), "int32"))
    check(lambda x: ~x, data((4,), "bool"))
    check(lambda x: (x & 3, x | 4, x ^ 5, 6 & x), data((5,), "int64"))


def test_mixed_ndarray_operands_are_lifted():
    w = data((3,), "float32", seed=9)
    x = data((2, 3), "float32")
    tr = check(lambda x: x * w + w, x)
    assert len(tr.lifted) == 1 and tr.lifted[0] is w       # lifted once
    tr = check(lambda x: w - x, x)                          # ndarray.__sub__ -> __array_ufunc__
    assert tr.lifted[0] is w
    check(lambda x: np.float32(3) * x, x)


def test_inplace_operators():
    def f(x):
        y = x * 2
        z = y
        y += 1
        y *= x
        return y, z
    check(f, data((4,), "float32"))

    def g(x):
        y = x + 1
        y /= 2                                # f32 stays f32
        return y
    check(g, data((4,), "float32"))


def _safe_divide(a, b):
    return np.divide(a, b, out=np.zeros_like(a), where=b != 0)


def _log_or_minus_one(a):
    out = np.full_like(a, -1.0)
    np.log(a, out=out, where=a > 0)
    return out


def _scale_positive_in_place(a, b):
    np.multiply(a, b, out=a, where=b > 0)
    return a


def test_ufunc_where_with_out_keeps_the_other_elements():
    a, b = data((4, 5), "float64", seed=1), data((4, 5), "float64", seed=2)
    b[1, 2] = b[0, 0] = 0
    check(_safe_divide, a, b)
    check(_log_or_minus_one, a)
    check(_scale_positive_in_place, a.copy(), b)
    check(lambda a, b: np.sqrt(a, out=np.ones_like(a), where=b[0] > 0), a, b)        # a broadcast mask
    with pytest.raises(UnsupportedError, match="without one out="):
        run_traced(lambda a: np.exp(a, where=a > 0), a)
    with pytest.raises(UnsupportedError, match="of integers"):
        run_traced(lambda a: np.power(a, a, out=np.zeros_like(a), where=a > 0), np.arange(4))


def test_ufunc_dtype_computes_in_that_dtype():
    a, b = data((4, 5), "float64", seed=3), data((4, 5), "int16", seed=4)
    check(lambda a, b: (np.add(b, b, dtype=np.float32), np.multiply(a, a, dtype=np.float32, casting="unsafe"),
                        np.subtract(b, 1, dtype=np.int64)), a, b)
    with pytest.raises(TypeError, match="Cannot cast ufunc 'add' input"):
        run_traced(lambda a: np.add(a, a, dtype=np.int32), a)


def _scaled_into(x, o):
    np.multiply(x, 2, out=o, dtype=np.float32)
    return o


def test_ufunc_dtype_with_out_writes_out():
    x, o = data((3, 4), "float32", seed=5), np.zeros((3, 4), np.float32)
    check(_scaled_into, x, o)
    got, _ = run_traced(_scaled_into, x, o)
    np.testing.assert_array_equal(got, x * 2)


def test_ufunc_where_masks_are_checked_as_numpy():
    x = data((3,), "float64", seed=6)
    for mask, error in [(np.array([1, 0, 1]), TypeError), (np.ones((2, 3), bool), ValueError)]:
        with pytest.raises(error):
            run_traced(lambda x, m: np.sqrt(x, out=np.zeros(3), where=m), x, mask)
        with pytest.raises(error):
            np.sqrt(x, out=np.zeros(3), where=mask)
    check(lambda x: np.sqrt(x, out=np.zeros(3), where=[True, False, True]), np.abs(x))
    with pytest.raises(TypeError, match="casting rule 'equiv'"):
        run_traced(lambda x: np.add(x, 1, dtype="f8", casting="equiv"), x)
    check(lambda x: (np.greater(x, 0.5, dtype=bool), np.isnan(x, dtype=bool)), x)
