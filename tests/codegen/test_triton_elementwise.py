"""Triton backend, pointwise kernels, run in Triton's interpreter against run_graph.

Many ops share one kernel (one launch) to keep the interpreter's cost low."""
from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import triton_support as ts  # noqa: E402  (sets TRITON_INTERPRET=1 first)

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from tracejit.ir import GraphBuilder, TensorType  # noqa: E402

FLOAT_UNARY = ["neg", "abs", "sign", "sqrt", "square", "reciprocal", "exp", "exp2", "expm1",
               "log", "log2", "log10", "log1p", "sin", "cos", "tan", "arcsin", "arccos", "arctan",
               "sinh", "cosh", "tanh", "arcsinh", "arccosh", "arctanh", "floor", "ceil", "trunc",
               "rint", "isnan", "isinf", "isfinite", "logical_not"]
FLOAT_BINARY = ["add", "sub", "mul", "div", "floordiv", "mod", "pow", "arctan2", "maximum",
                "minimum", "fmax", "fmin", "eq", "ne", "lt", "le", "gt", "ge", "logical_and",
                "logical_or", "logical_xor"]
INT_UNARY = ["neg", "abs", "sign", "square", "floor", "ceil", "trunc", "rint", "isnan", "isinf",
             "isfinite", "logical_not", "invert"]
INT_BINARY = ["add", "sub", "mul", "floordiv", "mod", "maximum", "minimum", "fmax", "fmin", "eq",
              "ne", "lt", "le", "gt", "ge", "logical_and", "logical_or", "logical_xor",
              "bitwise_and", "bitwise_or", "bitwise_xor"]

# accuracy of the prelude's formulations relative to NumPy (interpreter: exp/log/sin/cos
# are NumPy's own, so differences come from the formulations)
RTOL = {np.dtype(np.float32): 4e-6, np.dtype(np.float64): 1e-13}
RTOL_POW = {np.dtype(np.float32): 4e-6, np.dtype(np.float64): 1e-12}


def special_floats(dtype, n=120, seed=0):
    rng = np.random.default_rng(seed)
    base = np.array([0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 1.5, 2.5, -2.5, 1e-8, -1e-8, 1e-3, 0.999,
                     -0.999, 3.0, 7.0, 20.0, -30.0, 100.0, -100.0, 1e30, np.inf, -np.inf, np.nan],
                    dtype=np.float64)
    rand = np.concatenate([rng.normal(0, 3, n // 2), rng.uniform(-1, 1, n // 4),
                           np.exp(rng.uniform(-20, 20, n // 4))])
    return np.concatenate([base, rand]).astype(dtype)


def unary_graph(ops, dtype, n):
    b = GraphBuilder(f"unary_{np.dtype(dtype).name}")
    x = b.add_input(TensorType((n,), dtype))
    return b.finish([b.emit(op, [x]) for op in ops])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_float_unary_ops_one_kernel(dtype):
    x = special_floats(dtype)
    got, want, _ = ts.run_region(unary_graph(FLOAT_UNARY, dtype, len(x)), [x])
    for op, g, w in zip(FLOAT_UNARY, got, want):
        ts.assert_same(g, w, rtol=RTOL[np.dtype(dtype)], atol=1e-300, what=op)


def test_tanh_expm1_log1p_accuracy_near_zero_and_large():
    """The formulations stay accurate to ~1 ulp where naive ones lose digits."""
    x = np.concatenate([np.logspace(-30, 1.5, 60), -np.logspace(-30, 1.5, 60)]).astype(np.float32)
    ops = ["tanh", "expm1", "log1p", "sinh", "arcsinh", "arctanh", "arctan"]
    xs = np.clip(x, -0.999, 0.999).astype(np.float32)
    got, want, _ = ts.run_region(unary_graph(ops, np.float32, len(x)), [xs])
    for op, g, w in zip(ops, got, want):
        ts.assert_same(g, w, rtol=1e-6, what=op)


def binary_graph(ops, dtype, n):
    b = GraphBuilder(f"binary_{np.dtype(dtype).name}")
    x = b.add_input(TensorType((n,), dtype))
    y = b.add_input(TensorType((n,), dtype))
    return b.finish([b.emit(op, [x, y]) for op in ops])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_float_binary_ops_one_kernel(dtype):
    a = special_floats(dtype, seed=1)
    rng = np.random.default_rng(2)
    b = rng.permutation(special_floats(dtype, seed=3))
    ops = [op for op in FLOAT_BINARY]
    got, want, _ = ts.run_region(binary_graph(ops, dtype, len(a)), [a, b])
    for op, g, w in zip(ops, got, want):
        if op == "pow":
            ok = np.isfinite(w) & (np.abs(w) < 1e30) & (np.abs(w) > 1e-30)
            ts.assert_same(np.where(ok, g, 0).astype(g.dtype), np.where(ok, w, 0).astype(w.dtype),
                           rtol=RTOL_POW[np.dtype(dtype)], what=op)
            np.testing.assert_array_equal(np.isnan(g), np.isnan(w), err_msg="pow NaN")
            np.testing.assert_array_equal(np.isinf(g), np.isinf(w), err_msg="pow inf")
        else:
            ts.assert_same(g, w, rtol=RTOL[np.dtype(dtype)], atol=1e-300, what=op)


def test_float_floordiv_mod_signs_and_zero_divisors():
    a = np.array([7, -7, 7, -7, 5.5, -5.5, 0.0, -0.0, 3, np.inf, 1, -1, 1e300], np.float64)
    b = np.array([2, 2, -2, -2, 0.0, 0.0, 3, 3, np.inf, 2, -0.0, np.nan, 1e-300], np.float64)
    got, want, _ = ts.run_region(binary_graph(["floordiv", "mod"], np.float64, len(a)), [a, b])
    for op, g, w in zip(["floordiv", "mod"], got, want):
        ts.assert_same(g, w, rtol=0, what=op)
        assert np.array_equal(np.signbit(g), np.signbit(w)), op


@pytest.mark.parametrize("dtype", [np.int8, np.int32, np.int64, np.uint8])
def test_int_ops_one_kernel(dtype):
    info = np.iinfo(dtype)
    rng = np.random.default_rng(4)
    vals = np.array([0, 1, -1, 2, -2, 7, -7, 13, info.max, info.min + 1], np.int64)
    a = np.concatenate([vals, rng.integers(info.min // 2, info.max // 2, 40)]).astype(dtype)
    b = np.concatenate([np.array([0, 0, 3, -3, 5, 2, -2, 0, 7, 3]),
                        rng.integers(-9, 10, 40)]).astype(dtype)
    g = GraphBuilder("ints")
    x = g.add_input(TensorType((len(a),), dtype))
    y = g.add_input(TensorType((len(a),), dtype))
    outs = [g.emit(op, [x]) for op in INT_UNARY] + [g.emit(op, [x, y]) for op in INT_BINARY]
    got, want, _ = ts.run_region(g.finish(outs), [a, b])
    for op, gg, w in zip(INT_UNARY + INT_BINARY, got, want):
        ts.assert_same(gg, w, what=op)


def test_int_power_and_true_division():
    a = np.array([0, 1, 2, -2, 3, -3, 10, 7, 5], np.int64)
    e = np.array([0, 5, 10, 3, 4, 5, 2, 0, 1], np.int64)
    g = GraphBuilder("ipow")
    x = g.add_input(TensorType((9,), np.int64))
    y = g.add_input(TensorType((9,), np.int64))
    got, want, _ = ts.run_region(g.finish([g.emit("pow", [x, y]), g.emit("div", [x, y])]), [a, e])
    ts.assert_same(got[0], want[0], what="pow")
    ts.assert_same(got[1], want[1], rtol=1e-15, what="div")


def test_bool_ops_where_and_casts():
    rng = np.random.default_rng(5)
    p = rng.random(37) < 0.5
    q = rng.random(37) < 0.5
    f = np.concatenate([[np.nan, np.inf, -0.0, 0.0, 2.7, -2.7, 1e9], rng.normal(0, 100, 30)]).astype(np.float32)
    g = GraphBuilder("bools")
    x = g.add_input(TensorType((37,), bool))
    y = g.add_input(TensorType((37,), bool))
    z = g.add_input(TensorType((37,), np.float32))
    outs = [g.emit(op, [x, y]) for op in ["add", "mul", "logical_and", "logical_or", "logical_xor",
                                          "bitwise_xor", "maximum", "minimum", "eq", "lt"]]
    outs += [g.emit("invert", [x]), g.emit("logical_not", [x]), g.emit("where", [x, z, g.emit("neg", [z])])]
    outs += [g.emit("cast", [z], {"dtype": np.dtype(bool)}), g.emit("cast", [x], {"dtype": np.dtype(np.float32)})]
    fin = g.emit("where", [g.emit("isfinite", [z]), z, g.emit("constant", [], {"value": 0.0, "dtype": np.dtype(np.float32)})])
    outs += [g.emit("cast", [fin], {"dtype": np.dtype(np.int32)}), g.emit("cast", [fin], {"dtype": np.dtype(np.float64)}),
             g.emit("cast", [g.emit("cast", [fin], {"dtype": np.dtype(np.int64)})], {"dtype": np.dtype(np.int8)})]
    got, want, _ = ts.run_region(g.finish(outs), [p, q, f])
    for i, (gg, w) in enumerate(zip(got, want)):
        ts.assert_same(gg, w, what=f"output {i}")


def test_mixed_dtypes_weak_constants_and_promotion():
    """int32 * 0.5 computes in float64 as NumPy does; float32 + weak scalar stays float32."""
    g = GraphBuilder("mixed")
    i = g.add_input(TensorType((5, 6), np.int32))
    f = g.add_input(TensorType((6,), np.float32))
    half = g.emit("constant", [], {"value": 0.1, "dtype": np.dtype(np.float64), "weak_result": True})
    outs = [g.emit("mul", [i, half]), g.emit("add", [g.emit("broadcast_to", [f], {"shape": (5, 6)}), half]),
            g.emit("mul", [i, f]),
            g.emit("add", [i, g.emit("constant", [], {"value": 3, "dtype": np.dtype(np.int64)})])]
    ii = np.arange(30, dtype=np.int32).reshape(5, 6) - 15
    ff = np.linspace(-1, 1, 6, dtype=np.float32)
    got, want, _ = ts.run_region(g.finish(outs), [ii, ff])
    for k, (gg, w) in enumerate(zip(got, want)):
        ts.assert_same(gg, w, rtol=0, what=f"output {k}")
