"""Hand-built graphs (what the tracer would produce) shared by the pass tests."""
from __future__ import annotations

import numpy as np

from tracejit.ir import GraphBuilder, TensorType

F32 = np.dtype(np.float32)
F64 = np.dtype(np.float64)


def T(shape, dtype=F32, weak=False):
    return TensorType(tuple(shape), np.dtype(dtype), weak)


class B(GraphBuilder):
    """GraphBuilder with short helpers; every node gets a fake user line."""

    def __init__(self, name):
        super().__init__(name)
        self.line = 0

    def op(self, op_name, *inputs, **attrs):
        self.line += 1
        return self.emit(op_name, list(inputs), attrs, loc=f"/src/model.py:{self.line}")

    def const(self, value, dtype=F64, weak=True):
        attrs = {"value": value, "dtype": np.dtype(dtype)}
        if weak:
            attrs["weak_result"] = True
        return self.op("constant", **attrs)

    def fconst(self, value):
        """A non-weak float32 scalar constant."""
        return self.const(value, F32, weak=False)

    def sum(self, x, axes, keepdims=True):
        return self.op("reduce_sum", x, axes=tuple(axes), keepdims=keepdims)

    def max(self, x, axes, keepdims=True):
        return self.op("reduce_max", x, axes=tuple(axes), keepdims=keepdims)


def gelu(n=6, m=7):
    b = B("gelu")
    x = b.add_input(T((n, m)))
    x3 = b.op("mul", b.op("mul", x, x), x)
    inner = b.op("add", x, b.op("mul", b.const(0.044715), x3))
    t = b.op("tanh", b.op("mul", b.const(0.7978845608), inner))
    y = b.op("mul", b.op("mul", x, b.const(0.5)), b.op("add", b.const(1.0), t))
    return b.finish([y])


def softmax(n=5, m=9):
    b = B("softmax")
    x = b.add_input(T((n, m)))
    e = b.op("exp", b.op("sub", x, b.max(x, (1,))))
    return b.finish([b.op("div", e, b.sum(e, (1,)))])


def layernorm(n=5, m=8):
    b = B("layernorm")
    x, gamma, beta = b.add_input(T((n, m))), b.add_input(T((m,))), b.add_input(T((m,)))
    mean = b.op("div", b.sum(x, (1,)), b.const(float(m)))
    xc = b.op("sub", x, mean)
    var = b.op("div", b.sum(b.op("mul", xc, xc), (1,)), b.const(float(m)))
    y = b.op("div", xc, b.op("sqrt", b.op("add", var, b.const(1e-5))))
    return b.finish([b.op("add", b.op("mul", y, gamma), beta)])


def rmsnorm(n=4, m=10):
    b = B("rmsnorm")
    x, w = b.add_input(T((n, m))), b.add_input(T((m,)))
    ms = b.op("div", b.sum(b.op("mul", x, x), (1,)), b.const(float(m)))
    r = b.op("reciprocal", b.op("sqrt", b.op("add", ms, b.const(1e-6))))
    return b.finish([b.op("mul", b.op("mul", x, r), w)])


def logsumexp(n=4, m=10):
    b = B("lse")
    x = b.add_input(T((n, m)))
    mx = b.max(x, (1,))
    s = b.sum(b.op("exp", b.op("sub", x, mx)), (1,), keepdims=False)
    mrow = b.op("reshape", mx, shape=(n,))
    return b.finish([b.op("add", b.op("log", s), mrow)])


def adam(n=11):
    b = B("adam")
    p, g, m, v = (b.add_input(T((n,))) for _ in range(4))
    lr, b1, b2 = (b.add_input(T((), F64, weak=True)) for _ in range(3))
    one = b.const(1.0)
    m2 = b.op("add", b.op("mul", b1, m), b.op("mul", b.op("sub", one, b1, weak_result=True), g))
    v2 = b.op("add", b.op("mul", b2, v), b.op("mul", b.op("sub", one, b2, weak_result=True), b.op("mul", g, g)))
    upd = b.op("div", m2, b.op("add", b.op("sqrt", v2), b.const(1e-8)))
    p2 = b.op("sub", p, b.op("mul", lr, upd))
    return b.finish([p2, m2, v2])


def matmul_bias_relu(n=5, k=6, m=7):
    b = B("mlp")
    x, w, bias = b.add_input(T((n, k))), b.add_input(T((k, m))), b.add_input(T((m,)))
    h = b.op("add", b.op("matmul", x, w), bias)
    return b.finish([b.op("maximum", h, b.const(0.0))])


def scaled_matmul(n=5, k=6, m=7):
    b = B("scaled_mm")
    x, w = b.add_input(T((n, k))), b.add_input(T((k, m)))
    return b.finish([b.op("matmul", b.op("mul", x, b.const(2.0)), w)])


def axis0_then_axis1(n=5, m=6):
    b = B("axes")
    x = b.add_input(T((n, m)))
    y = b.op("sub", x, b.sum(x, (0,)))
    return b.finish([b.sum(b.op("exp", y), (1,))])


ALL = [gelu, softmax, layernorm, rmsnorm, logsumexp, adam, matmul_bias_relu, scaled_matmul,
       axis0_then_axis1]


def random_inputs(graph, seed=0):
    rng = np.random.default_rng(seed)
    arrays = []
    for v in graph.inputs:
        t = v.type
        if t.dtype.kind == "f":
            a = rng.standard_normal(t.shape) if t.shape else rng.uniform(0.5, 0.99)
            arrays.append(np.asarray(a, dtype=t.dtype))
        elif t.dtype.kind == "b":
            arrays.append(rng.integers(0, 2, t.shape).astype(bool))
        else:
            arrays.append(rng.integers(-5, 6, t.shape).astype(t.dtype))
    return arrays
