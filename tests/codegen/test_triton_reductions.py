"""Triton backend, row-reduction kernels (interpreter) against run_graph: every
reduction kind, NaN semantics, rows longer than one block, odd sizes, other axes."""
from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import triton_support as ts  # noqa: E402  (sets TRITON_INTERPRET=1 first)

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from tracejit.ir import GraphBuilder, TensorType  # noqa: E402

KINDS = ["reduce_sum", "reduce_prod", "reduce_max", "reduce_min", "reduce_any", "reduce_all",
         "argmax", "argmin"]


def reductions_graph(shape, dtype, axes, keepdims=False, kinds=KINDS):
    b = GraphBuilder("reds")
    x = b.add_input(TensorType(shape, dtype))
    return b.finish([b.emit(k, [x], {"axes": axes, "keepdims": keepdims}) for k in kinds])


@pytest.mark.parametrize("rblock", [16, None])
def test_all_kinds_float_with_nan_rows_longer_than_block(rblock):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(6, 37)).astype(np.float32)
    x[1, 20] = np.nan                  # NaN wins for max/min/argmax/argmin
    x[2, :] = 3.0                      # ties: first occurrence
    x[3, 5] = x[3, 30] = 9.0
    x[4, :] = -np.inf
    x[5, 0] = np.nan
    x[5, 36] = np.nan
    options = {"RBLOCK": rblock} if rblock else None
    ts.check_region(reductions_graph((6, 37), np.float32, (1,)), [x], options, rtol=1e-5)


@pytest.mark.parametrize("dtype", [np.int32, np.int8, np.bool_, np.float64])
def test_all_kinds_other_dtypes(dtype):
    rng = np.random.default_rng(1)
    x = rng.integers(-3, 4, size=(5, 23)).astype(dtype)
    ts.check_region(reductions_graph((5, 23), dtype, (1,), keepdims=True), [x], {"RBLOCK": 8},
                    rtol=1e-12)


def test_reduce_axis0_and_middle_axes_of_transposed_input():
    rng = np.random.default_rng(2)
    base = rng.normal(size=(9, 7, 5)).astype(np.float32)
    b = GraphBuilder("mid")
    x = b.add_input(TensorType((9, 7, 5), np.float32))
    t = b.emit("transpose", [x], {"perm": (1, 0, 2)})            # (7, 9, 5), non-contiguous
    outs = [b.emit("reduce_sum", [t], {"axes": (0, 2), "keepdims": False}),
            b.emit("reduce_max", [t], {"axes": (0, 2), "keepdims": True})]
    ts.check_region(b.finish(outs), [base], {"RBLOCK": 16}, rtol=1e-5)
    b = GraphBuilder("ax0")
    x = b.add_input(TensorType((9, 7, 5), np.float32))
    outs = [b.emit("argmax", [x], {"axes": (0,), "keepdims": False}),
            b.emit("reduce_min", [x], {"axes": (0,), "keepdims": False})]
    ts.check_region(b.finish(outs), [base[:, ::-1, :]], {"RBLOCK": 4})   # negative strides


def _softmax_layernorm(shape):
    b = GraphBuilder("rows")
    x = b.add_input(TensorType(shape, np.float32))
    w = b.add_input(TensorType(shape[-1:], np.float32))
    ax = {"axes": (len(shape) - 1,), "keepdims": True}
    mx = b.emit("reduce_max", [x], ax)
    e = b.emit("exp", [b.emit("sub", [x, mx])])
    softmax = b.emit("div", [e, b.emit("reduce_sum", [e], ax)])
    n = b.emit("constant", [], {"value": float(shape[-1]), "dtype": np.dtype(np.float32)})
    mean = b.emit("div", [b.emit("reduce_sum", [x], ax), n])
    xc = b.emit("sub", [x, mean])
    var = b.emit("div", [b.emit("reduce_sum", [b.emit("mul", [xc, xc])], ax), n])
    eps = b.emit("constant", [], {"value": 1e-5, "dtype": np.dtype(np.float32)})
    ln = b.emit("mul", [b.emit("div", [xc, b.emit("sqrt", [b.emit("add", [var, eps])])]), w])
    return b.finish([softmax, ln])


@pytest.mark.parametrize("shape,rblock", [((7, 300), 64), ((3, 1), None), ((4, 5, 33), 32)])
def test_softmax_and_layernorm_rows(shape, rblock):
    rng = np.random.default_rng(3)
    x = (rng.normal(size=shape) * 4).astype(np.float32)
    w = rng.normal(size=shape[-1:]).astype(np.float32)
    ts.check_region(_softmax_layernorm(shape), [x, w], {"RBLOCK": rblock} if rblock else None,
                    rtol=2e-5, atol=1e-6)


def test_zero_size_rows_and_empty_outer():
    b = GraphBuilder("empty")
    x = b.add_input(TensorType((4, 0), np.float32))
    g = b.finish([b.emit("reduce_sum", [x], {"axes": (1,), "keepdims": False}),
                  b.emit("reduce_prod", [x], {"axes": (1,), "keepdims": False}),
                  b.emit("reduce_any", [x], {"axes": (1,), "keepdims": False})])
    ts.check_region(g, [np.zeros((4, 0), np.float32)])
    b = GraphBuilder("empty_outer")
    x = b.add_input(TensorType((0, 5), np.float32))
    g = b.finish([b.emit("reduce_max", [x], {"axes": (1,), "keepdims": False})])
    ts.check_region(g, [np.zeros((0, 5), np.float32)])


def test_full_reduction_to_scalar_and_sum_dtypes():
    rng = np.random.default_rng(4)
    b = GraphBuilder("total")
    x = b.add_input(TensorType((3, 50), np.int32))
    y = b.add_input(TensorType((3, 50), np.bool_))
    g = b.finish([b.emit("reduce_sum", [x], {"axes": (0, 1), "keepdims": False}),
                  b.emit("reduce_sum", [y], {"axes": (0, 1), "keepdims": False}),
                  b.emit("reduce_max", [x], {"axes": (0, 1), "keepdims": False})])
    ts.check_region(g, [rng.integers(-1000, 1000, (3, 50)).astype(np.int32), rng.random((3, 50)) < 0.3],
                    {"RBLOCK": 32})
