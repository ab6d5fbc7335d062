"""Triton backend: matmul kernels with fused epilogues (interpreter), edges that are
not block multiples, batches with broadcast batch dims, float64/int fallbacks."""
from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import triton_support as ts  # noqa: E402  (sets TRITON_INTERPRET=1 first)

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from tracejit.ir import GraphBuilder, TensorType  # noqa: E402


def linear_relu(m, n, k, dtype):
    b = GraphBuilder("linear")
    x = b.add_input(TensorType((m, k), dtype))
    w = b.add_input(TensorType((k, n), dtype))
    bias = b.add_input(TensorType((n,), dtype))
    y = b.emit("add", [b.emit("matmul", [x, w]), bias])
    zero = b.emit("constant", [], {"value": 0, "dtype": np.dtype(dtype)})
    return b.finish([b.emit("maximum", [y, zero]), y])


@pytest.mark.parametrize("dtype,rtol", [(np.float32, 1e-5), (np.float64, 1e-12), (np.int32, 0)])
@pytest.mark.parametrize("options", [None, {"BLOCK_M": 16, "BLOCK_N": 16, "BLOCK_K": 16}])
def test_matmul_bias_relu_odd_sizes(dtype, rtol, options):
    rng = np.random.default_rng(0)
    m, n, k = 33, 17, 40
    if np.dtype(dtype).kind == "f":
        arrays = [rng.normal(size=s).astype(dtype) for s in ((m, k), (k, n), (n,))]
    else:
        arrays = [rng.integers(-9, 9, size=s).astype(dtype) for s in ((m, k), (k, n), (n,))]
    ts.check_region(linear_relu(m, n, k, dtype), arrays, options, rtol=rtol, atol=1e-5 if rtol else 0)


def test_batched_matmul_broadcast_batch_and_transposed_operand():
    rng = np.random.default_rng(1)
    b = GraphBuilder("bmm")
    x = b.add_input(TensorType((2, 3, 9, 20), np.float32))
    w = b.add_input(TensorType((3, 20, 11), np.float32))
    scale = b.add_input(TensorType((2, 1, 1, 11), np.float32))
    g = b.finish([b.emit("tanh", [b.emit("mul", [b.emit("matmul", [x, w]), scale])])])
    xs = rng.normal(size=(2, 3, 9, 20)).astype(np.float32)
    ws = np.ascontiguousarray(rng.normal(size=(3, 11, 20)).astype(np.float32)).transpose(0, 2, 1)
    ts.check_region(g, [xs, ws, rng.normal(size=(2, 1, 1, 11)).astype(np.float32)], rtol=1e-5, atol=1e-6)


def test_matmul_degenerate_sizes():
    rng = np.random.default_rng(2)
    for m, n, k in ((1, 5, 3), (4, 1, 1), (3, 4, 0), (0, 4, 3)):
        b = GraphBuilder("mm_small")
        x = b.add_input(TensorType((m, k), np.float32))
        w = b.add_input(TensorType((k, n), np.float32))
        g = b.finish([b.emit("matmul", [x, w])])
        ts.check_region(g, [rng.normal(size=(m, k)).astype(np.float32),
                            rng.normal(size=(k, n)).astype(np.float32)], rtol=1e-5, atol=1e-6)
