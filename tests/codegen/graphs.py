"""Kernel regions built directly as IR graphs, shared by the code-generator tests
(launch variants, AOT compilation, golden sources), and test data with special values."""
from __future__ import annotations

import numpy as np

from tracejit.ir import GraphBuilder, TensorType

FLOAT_UNARY = ["neg", "abs", "sign", "sqrt", "square", "reciprocal", "exp", "exp2", "expm1",
               "log", "log2", "log10", "log1p", "sin", "cos", "tan", "arcsin", "arccos", "arctan",
               "sinh", "cosh", "tanh", "arcsinh", "arccosh", "arctanh", "floor", "ceil", "trunc",
               "rint", "isnan", "isinf", "isfinite", "logical_not"]
FLOAT_BINARY = ["add", "sub", "mul", "div", "floordiv", "mod", "pow", "arctan2", "logaddexp", "hypot",
                "maximum", "minimum", "fmax", "fmin", "eq", "ne", "lt", "le", "gt", "ge", "logical_and",
                "logical_or", "logical_xor"]
KINDS = ["reduce_sum", "reduce_prod", "reduce_max", "reduce_min", "reduce_nanmax", "reduce_nanmin",
         "reduce_any", "reduce_all", "argmax", "argmin"]


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


def binary_graph(ops, dtype, n):
    b = GraphBuilder(f"binary_{np.dtype(dtype).name}")
    x = b.add_input(TensorType((n,), dtype))
    y = b.add_input(TensorType((n,), dtype))
    return b.finish([b.emit(op, [x, y]) for op in ops])


def reductions_graph(shape, dtype, axes, keepdims=False, kinds=KINDS):
    b = GraphBuilder("reds")
    x = b.add_input(TensorType(shape, dtype))
    return b.finish([b.emit(k, [x], {"axes": axes, "keepdims": keepdims}) for k in kinds])


def softmax(shape, dtype=np.float32, name="softmax"):
    b = GraphBuilder(name)
    x = b.add_input(TensorType(shape, dtype))
    ax = {"axes": (len(shape) - 1,), "keepdims": True}
    m = b.emit("reduce_max", [x], ax)
    e = b.emit("exp", [b.emit("sub", [x, m])])
    return b.finish([b.emit("div", [e, b.emit("reduce_sum", [e], ax)])])


def layernorm(shape, dtype=np.float32, name="layernorm"):
    """(x - mean) / sqrt(var + eps) * gamma + beta, as the tracer records it."""
    b = GraphBuilder(name)
    x = b.add_input(TensorType(shape, dtype))
    gamma = b.add_input(TensorType(shape[-1:], dtype))
    beta = b.add_input(TensorType(shape[-1:], dtype))
    ax = {"axes": (len(shape) - 1,), "keepdims": True}

    def weak(v):
        return b.emit("constant", [], {"value": v, "dtype": np.dtype(np.float64), "weak_result": True})
    mean = b.emit("div", [b.emit("reduce_sum", [x], ax), weak(float(shape[-1]))])
    xc = b.emit("sub", [x, mean])
    var = b.emit("div", [b.emit("reduce_sum", [b.emit("mul", [xc, xc])], ax), weak(float(shape[-1]))])
    y = b.emit("div", [xc, b.emit("sqrt", [b.emit("add", [var, weak(1e-5)])])])
    return b.finish([b.emit("add", [b.emit("mul", [y, gamma]), beta])])


def softmax_layernorm(shape):
    """Two row computations in one region (four dependent reductions)."""
    b = GraphBuilder("rows")
    x = b.add_input(TensorType(shape, np.float32))
    w = b.add_input(TensorType(shape[-1:], np.float32))
    ax = {"axes": (len(shape) - 1,), "keepdims": True}
    mx = b.emit("reduce_max", [x], ax)
    e = b.emit("exp", [b.emit("sub", [x, mx])])
    soft = b.emit("div", [e, b.emit("reduce_sum", [e], ax)])
    n = b.emit("constant", [], {"value": float(shape[-1]), "dtype": np.dtype(np.float32)})
    mean = b.emit("div", [b.emit("reduce_sum", [x], ax), n])
    xc = b.emit("sub", [x, mean])
    var = b.emit("div", [b.emit("reduce_sum", [b.emit("mul", [xc, xc])], ax), n])
    eps = b.emit("constant", [], {"value": 1e-5, "dtype": np.dtype(np.float32)})
    ln = b.emit("mul", [b.emit("div", [xc, b.emit("sqrt", [b.emit("add", [var, eps])])]), w])
    return b.finish([soft, ln])


def rows_graph(kind, shape, dtype=np.float32):
    """softmax / log-sum-exp / layernorm rows, built as the tracer builds them."""
    b = GraphBuilder(f"{kind}_rows")
    x = b.add_input(TensorType(shape, dtype))
    axes = dict(axes=(len(shape) - 1,), keepdims=True)
    if kind in ("softmax", "logsumexp"):
        m = b.emit("reduce_max", [x], axes)
        e = b.emit("exp", [b.emit("sub", [x, m])])
        s = b.emit("reduce_sum", [e], axes)
        out = b.emit("div", [e, s]) if kind == "softmax" else b.emit("add", [m, b.emit("log", [s])])
    else:
        n = b.emit("constant", [], dict(value=float(shape[-1]), dtype=np.dtype(dtype)))
        mean = b.emit("div", [b.emit("reduce_sum", [x], axes), n])
        d = b.emit("sub", [x, mean])
        var = b.emit("div", [b.emit("reduce_sum", [b.emit("mul", [d, d])], axes), n])
        out = b.emit("div", [d, b.emit("sqrt", [var])])
    return b.finish([out])


def linear_relu(m, n, k, dtype, name="linear"):
    """relu(x @ w + bias) and the pre-activation: a matmul with an epilogue."""
    b = GraphBuilder(name)
    x = b.add_input(TensorType((m, k), dtype))
    w = b.add_input(TensorType((k, n), dtype))
    bias = b.add_input(TensorType((n,), dtype))
    y = b.emit("add", [b.emit("matmul", [x, w]), bias])
    zero = b.emit("constant", [], {"value": 0, "dtype": np.dtype(dtype)})
    return b.finish([b.emit("maximum", [y, zero]), y])


def gather(name="gather"):
    """table[ids] * 2 + the row's own ids: a take along axis 0 with bounds checks."""
    b = GraphBuilder(name)
    table = b.add_input(TensorType((10, 6), np.float32))
    ids = b.add_input(TensorType((4,), np.int64))
    rows = b.emit("take", [table, ids], {"axis": 0})
    two = b.emit("constant", [], {"value": 2.0, "dtype": np.dtype(np.float64), "weak_result": True})
    return b.finish([b.emit("mul", [rows, two])])


def scans(shape, dtype, axis, name="scans"):
    """cumsum of x - max(x) along `axis` (a reduction then a scan) and cumprod of x."""
    b = GraphBuilder(name)
    x = b.add_input(TensorType(shape, dtype))
    m = b.emit("reduce_max", [x], {"axes": (axis,), "keepdims": True})
    return b.finish([b.emit("cumsum", [b.emit("sub", [x, m])], {"axis": axis}),
                     b.emit("cumprod", [x], {"axis": axis})])


def bias_tanh(shape):
    b = GraphBuilder("biastanh")
    x = b.add_input(TensorType(shape, np.float32))
    w = b.add_input(TensorType(shape[-1:], np.float32))
    return b.finish([b.emit("tanh", [b.emit("add", [x, w])]), b.emit("mul", [x, x])])
