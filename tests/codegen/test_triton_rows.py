"""Triton backend, rows longer than one block (the looped variant, ``SINGLE_PASS=0``
with small RBLOCKs), in the interpreter against run_graph: every reduction kind and
dtype (int8 accumulators for booleans), NaN semantics across blocks, scans carried
from block to block, other axes and strides, empty rows, and matmul tiles smaller than
the matrix. The one-block variant of the same kernels runs in test_conformance.py."""
from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import triton_support as ts  # noqa: E402  (sets TRITON_INTERPRET=1 first)

import numpy as np  # noqa: E402
import pytest  # noqa: E402

import graphs  # noqa: E402
from tracejit.ir import GraphBuilder, TensorType  # noqa: E402

LOOPED = {"SINGLE_PASS": 0}


@pytest.mark.parametrize("rblock", [16, 8])
def test_every_kind_float_with_nan_across_blocks(rblock):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(7, 37)).astype(np.float32)
    x[1, 20] = np.nan                  # NaN wins for max/min/argmax/argmin
    x[2, :] = 3.0                      # ties: first occurrence, also across blocks
    x[3, 5] = x[3, 30] = 9.0
    x[4, :] = -np.inf
    x[5, 0] = x[5, 36] = np.nan
    x[6, :] = np.nan                   # nanmax of an all-NaN row is NaN
    ts.check_region(graphs.reductions_graph(x.shape, np.float32, (1,)), [x], {"RBLOCK": rblock, **LOOPED})


@pytest.mark.parametrize("dtype", [np.int32, np.int8, np.bool_, np.float64])
def test_every_kind_other_dtypes(dtype):
    rng = np.random.default_rng(1)
    x = rng.integers(-3, 4, size=(5, 23)).astype(dtype)
    ts.check_region(graphs.reductions_graph((5, 23), dtype, (1,), keepdims=True), [x],
                    {"RBLOCK": 8, **LOOPED}, rtol=1e-12)


def test_axis0_and_middle_axes_of_transposed_and_reversed_inputs():
    rng = np.random.default_rng(2)
    base = rng.normal(size=(9, 7, 5)).astype(np.float32)
    b = GraphBuilder("mid")
    x = b.add_input(TensorType((9, 7, 5), np.float32))
    t = b.emit("transpose", [x], {"perm": (1, 0, 2)})            # (7, 9, 5), non-contiguous
    outs = [b.emit("reduce_sum", [t], {"axes": (0, 2), "keepdims": False}),
            b.emit("reduce_max", [t], {"axes": (0, 2), "keepdims": True})]
    ts.check_region(b.finish(outs), [base], {"RBLOCK": 16, **LOOPED}, rtol=1e-5)
    b = GraphBuilder("ax0")
    x = b.add_input(TensorType((9, 7, 5), np.float32))
    outs = [b.emit("argmax", [x], {"axes": (0,), "keepdims": False}),
            b.emit("reduce_min", [x], {"axes": (0,), "keepdims": False})]
    ts.check_region(b.finish(outs), [base[:, ::-1, :]], {"RBLOCK": 4, **LOOPED})   # negative strides


@pytest.mark.parametrize("shape,rblock", [((7, 300), 64), ((4, 5, 33), 32)])
def test_softmax_and_layernorm_rows(shape, rblock):
    rng = np.random.default_rng(3)
    x = (rng.normal(size=shape) * 4).astype(np.float32)
    w = rng.normal(size=shape[-1:]).astype(np.float32)
    ts.check_region(graphs.softmax_layernorm(shape), [x, w], {"RBLOCK": rblock, **LOOPED}, rtol=2e-5, atol=1e-6)


@pytest.mark.parametrize("dtype,axis", [(np.float32, 1), (np.float64, 0), (np.int32, 1)])
def test_scans_carry_from_block_to_block(dtype, axis):
    rng = np.random.default_rng(4)
    x = (rng.normal(size=(6, 37)) * 2).astype(dtype) if np.dtype(dtype).kind == "f" else \
        rng.integers(-2, 3, size=(6, 37)).astype(dtype)
    ts.check_region(graphs.scans(x.shape, dtype, axis), [x], {"RBLOCK": 8, **LOOPED}, rtol=2e-5, atol=1e-5)


def test_empty_rows_and_empty_outer():
    b = GraphBuilder("empty")
    x = b.add_input(TensorType((4, 0), np.float32))
    g = b.finish([b.emit("reduce_sum", [x], {"axes": (1,), "keepdims": False}),
                  b.emit("reduce_prod", [x], {"axes": (1,), "keepdims": False}),
                  b.emit("reduce_any", [x], {"axes": (1,), "keepdims": False})])
    ts.check_region(g, [np.zeros((4, 0), np.float32)], {"RBLOCK": 16, **LOOPED})
    b = GraphBuilder("empty_outer")
    x = b.add_input(TensorType((0, 5), np.float32))
    g = b.finish([b.emit("reduce_max", [x], {"axes": (1,), "keepdims": False})])
    ts.check_region(g, [np.zeros((0, 5), np.float32)], {"RBLOCK": 16, **LOOPED})


def test_full_reduction_to_a_scalar_and_sum_dtypes():
    rng = np.random.default_rng(5)
    b = GraphBuilder("total")
    x = b.add_input(TensorType((3, 50), np.int32))
    y = b.add_input(TensorType((3, 50), np.bool_))
    g = b.finish([b.emit("reduce_sum", [x], {"axes": (0, 1), "keepdims": False}),
                  b.emit("reduce_sum", [y], {"axes": (0, 1), "keepdims": False}),
                  b.emit("reduce_max", [x], {"axes": (0, 1), "keepdims": False})])
    ts.check_region(g, [rng.integers(-1000, 1000, (3, 50)).astype(np.int32), rng.random((3, 50)) < 0.3],
                    {"RBLOCK": 32, **LOOPED})


@pytest.mark.parametrize("dtype,rtol", [(np.float32, 1e-5), (np.float64, 1e-12), (np.int32, 0)])
def test_matmul_tiles_smaller_than_the_matrix(dtype, rtol):
    rng = np.random.default_rng(6)
    m, n, k = 33, 17, 40
    if np.dtype(dtype).kind == "f":
        arrays = [rng.normal(size=s).astype(dtype) for s in ((m, k), (k, n), (n,))]
    else:
        arrays = [rng.integers(-9, 9, size=s).astype(dtype) for s in ((m, k), (k, n), (n,))]
    ts.check_region(graphs.linear_relu(m, n, k, dtype), arrays, {"BLOCK_M": 16, "BLOCK_N": 16, "BLOCK_K": 16},
                    rtol=rtol, atol=1e-5 if rtol else 0)


def test_online_softmax_rows_with_minus_infinity():
    """Masked (causal) softmax rows on the looped variant: a lane that starts with -inf
    adds nothing; a row of -inf only is NaN, as the two-pass form gives."""
    x = np.random.default_rng(7).normal(size=(5, 37)).astype(np.float32)
    x[0, :20] = -np.inf            # a masked prefix
    x[1, 36] = -np.inf             # a row ending in -inf
    x[2, :] = -np.inf              # nothing but -inf
    for kind in ("softmax", "logsumexp"):
        ts.check_region(graphs.rows_graph(kind, x.shape), [x], {"RBLOCK": 8, **LOOPED}, rtol=2e-5, atol=1e-6)


def test_variance_merge_needs_the_mean_itself():
    """sum((x - c)**2) is merged into Welford's update only when c is the row's mean."""
    b = GraphBuilder("centre")
    x = b.add_input(TensorType((3, 37), np.float32))
    ax = {"axes": (1,), "keepdims": True}
    n = b.emit("constant", [], {"value": 37.0, "dtype": np.dtype(np.float32)})
    two = b.emit("constant", [], {"value": 2.0, "dtype": np.dtype(np.float32)})
    centre = b.emit("mul", [b.emit("div", [b.emit("reduce_sum", [x], ax), n]), two])
    d = b.emit("sub", [x, centre])
    g = b.finish([b.emit("reduce_sum", [b.emit("mul", [d, d])], ax)])
    data = np.random.default_rng(8).normal(size=(3, 37)).astype(np.float32) + 5
    ts.check_region(g, [data], {"RBLOCK": 8, **LOOPED}, rtol=1e-5)
