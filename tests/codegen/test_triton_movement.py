"""Triton backend: index maps (transpose, broadcast, slice, reshape, concat, pad,
gathers), non-contiguous arguments, 0-size and size-1 dims, in the interpreter."""
from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import triton_support as ts  # noqa: E402  (sets TRITON_INTERPRET=1 first)

import numpy as np  # noqa: E402

from tracejit.ir import GraphBuilder, TensorType  # noqa: E402


def test_transpose_broadcast_slice_reshape():
    rng = np.random.default_rng(0)
    b = GraphBuilder("moves")
    x = b.add_input(TensorType((6, 10), np.float32))
    v = b.add_input(TensorType((5, 1), np.float32))
    s = b.emit("slice", [x], {"starts": (1, 9), "steps": (1, -2), "shape": (5, 5)})
    t = b.emit("transpose", [s], {"perm": (1, 0)})
    r = b.emit("reshape", [b.emit("add", [t, v]), ], {"shape": (25,)})
    r2 = b.emit("reshape", [r], {"shape": (5, 5)})
    g = b.finish([b.emit("mul", [r2, b.emit("broadcast_to", [v], {"shape": (5, 5)})])])
    ts.check_region(g, [rng.normal(size=(6, 10)).astype(np.float32), rng.normal(size=(5, 1)).astype(np.float32)])


def test_non_contiguous_and_broadcast_arguments_and_outputs():
    rng = np.random.default_rng(1)
    b = GraphBuilder("strided")
    x = b.add_input(TensorType((4, 7), np.float64))
    y = b.add_input(TensorType((4, 7), np.float64))
    g = b.finish([b.emit("sub", [x, y])])
    xs = rng.normal(size=(7, 4)).T                            # transposed view
    ys = np.broadcast_to(rng.normal(size=(1, 7)), (4, 7))    # stride 0
    got, want, _ = ts.run_region(g, [xs, ys])
    ts.assert_same(got[0], want[0], rtol=0)
    out = np.zeros((7, 4)).T                                 # non-contiguous output
    got, want, _ = ts.run_region(g, [xs, ys], outputs=[out])
    ts.assert_same(out, want[0], rtol=0)


def test_concat_pad_iota():
    rng = np.random.default_rng(2)
    b = GraphBuilder("cat")
    x = b.add_input(TensorType((3, 4), np.float32))
    y = b.add_input(TensorType((3, 2), np.int32))
    c = b.emit("concat", [x, y, x], {"axis": 1})
    p = b.emit("pad", [x], {"widths": ((1, 2), (0, 6)), "value": -1.5})
    p = b.emit("slice", [p], {"starts": (0, 0), "steps": (1, 1), "shape": (3, 10)})
    io = b.emit("iota", [], {"shape": (3, 10), "axis": 1, "dtype": np.dtype(np.int64)})
    g = b.finish([c, p, b.emit("add", [p, io])])
    ts.check_region(g, [rng.normal(size=(3, 4)).astype(np.float32), rng.integers(-5, 5, (3, 2)).astype(np.int32)])


def test_gathers_with_negative_indices():
    rng = np.random.default_rng(3)
    b = GraphBuilder("gather")
    x = b.add_input(TensorType((5, 6), np.float32))
    i = b.add_input(TensorType((4,), np.int64))
    j = b.add_input(TensorType((5, 4), np.int32))
    g = b.finish([b.emit("take", [x, i], {"axis": 1}), b.emit("take_along_axis", [x, j], {"axis": 1})])
    ts.check_region(g, [rng.normal(size=(5, 6)).astype(np.float32), np.array([0, -1, 5, 2]),
                        rng.integers(-6, 6, (5, 4)).astype(np.int32)])


def test_gather_feeding_a_reduction():
    rng = np.random.default_rng(4)
    b = GraphBuilder("emb_sum")
    table = b.add_input(TensorType((10, 8), np.float32))
    ids = b.add_input(TensorType((3, 5), np.int64))
    rows = b.emit("take", [table, ids], {"axis": 0})                 # (3, 5, 8)
    g = b.finish([b.emit("reduce_sum", [rows], {"axes": (1,), "keepdims": False})])
    ts.check_region(g, [rng.normal(size=(10, 8)).astype(np.float32), rng.integers(0, 10, (3, 5))],
                    {"RBLOCK": 4})


def test_zero_size_size_one_and_scalar_domains():
    b = GraphBuilder("zero")
    x = b.add_input(TensorType((0, 3), np.float32))
    g = b.finish([b.emit("exp", [x])])
    ts.check_region(g, [np.zeros((0, 3), np.float32)])
    b = GraphBuilder("ones")
    x = b.add_input(TensorType((1, 5, 1), np.float32))
    y = b.add_input(TensorType((), np.float32))
    g = b.finish([b.emit("mul", [x, y])])
    ts.check_region(g, [np.arange(5, dtype=np.float32).reshape(1, 5, 1), np.array(3.0, np.float32)])
    b = GraphBuilder("scalar")
    x = b.add_input(TensorType((), np.float64))
    c = b.emit("constant", [], {"value": 2.0, "dtype": np.dtype(np.float64)})
    g = b.finish([b.emit("pow", [x, c]), c])
    ts.check_region(g, [np.array(1.5)])
