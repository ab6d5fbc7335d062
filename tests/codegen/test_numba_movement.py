"""Numba backend, movement ops, gathers and iotas inside regions (they become index
maps on loads): transpose, reshape merge/split, slices with steps, broadcast,
concat, pad, take (negative ids, out of bounds), take_along_axis, iota."""
from __future__ import annotations

import numpy as np
import pytest


def f32(rng, *shape):
    return rng.standard_normal(shape).astype(np.float32)


def test_transpose_and_broadcast(rng, builder, check):
    b, (x, y, r) = builder("transpose_bcast", ((4, 6), np.float32), ((6, 4), np.float32), ((1, 4), np.float32))
    t = b.emit("transpose", [x], {"perm": (1, 0)})
    s = b.emit("add", [t, y])
    outs = [b.emit("mul", [s, b.emit("broadcast_to", [r], {"shape": (6, 4)})])]
    check(b.finish(outs), [f32(rng, 4, 6), f32(rng, 6, 4), f32(rng, 1, 4)])


def test_transpose_3d(rng, builder, check):
    b, (x,) = builder("transpose3", ((2, 3, 4), np.float64))
    outs = [b.emit("exp", [b.emit("transpose", [x], {"perm": (2, 0, 1)})])]
    check(b.finish(outs), [rng.standard_normal((2, 3, 4))])


def test_reshape_merge_and_split(rng, builder, check):
    b, (x, y) = builder("reshapes", ((3, 4, 5), np.float32), ((12, 5), np.float32))
    merged = b.emit("reshape", [x], {"shape": (12, 5)})
    split = b.emit("reshape", [y], {"shape": (3, 4, 5)})
    arrays = [f32(rng, 3, 4, 5), f32(rng, 12, 5)]
    check(b.finish([b.emit("add", [merged, y])]), arrays)
    check(b.finish([b.emit("sub", [split, x])]), arrays)
    b2, (z,) = builder("reshape_odd", ((3, 4, 5), np.int32))
    odd = b2.emit("reshape", [z], {"shape": (6, 10)})     # groups that do not align
    check(b2.finish([b2.emit("add", [odd, odd])]), [rng.integers(0, 100, (3, 4, 5)).astype(np.int32)])


def test_slices_with_steps(rng, builder, check):
    b, (x,) = builder("slices", ((10, 8), np.float32))
    a = b.emit("slice", [x], {"starts": (9, 1), "steps": (-2, 3), "shape": (5, 3)})
    c = b.emit("slice", [x], {"starts": (7, 0), "steps": (1, 3), "shape": (3, 3)})   # x[-3:, ::3]
    d = b.emit("slice", [x], {"starts": (0, 7), "steps": (4, -3), "shape": (3, 3)})
    data = f32(rng, 10, 8)
    check(b.finish([b.emit("add", [c, d])]), [data])
    check(b.finish([b.emit("abs", [a])]), [data])


def test_concat_mixed_dtypes(rng, builder, check):
    b, (x, y, z) = builder("concat", ((3, 2), np.int32), ((3, 4), np.float32), ((3, 1), np.float32))
    c = b.emit("concat", [x, y, z], {"axis": 1})
    assert c.dtype == np.float64 and c.shape == (3, 7)
    c0 = b.emit("concat", [y, y], {"axis": 0})
    check(b.finish([c]), [rng.integers(-5, 5, (3, 2)).astype(np.int32), f32(rng, 3, 4), f32(rng, 3, 1)])
    check(b.finish([c0]), [rng.integers(-5, 5, (3, 2)).astype(np.int32), f32(rng, 3, 4), f32(rng, 3, 1)])


def test_pad(rng, builder, check):
    b, (x,) = builder("pad", ((3, 4), np.float32))
    p = b.emit("pad", [x], {"widths": ((1, 2), (0, 3)), "value": 0.5})
    check(b.finish([b.emit("mul", [p, p])]), [f32(rng, 3, 4)])


def test_take_with_negative_ids_and_out_of_bounds(rng, builder, check, numba_run):
    b, (x, ids) = builder("take", ((7, 5), np.float32), ((2, 3), np.int64))
    region = b.finish([b.emit("take", [x, ids], {"axis": 0})])        # (2, 3, 5)
    data = f32(rng, 7, 5)
    check(region, [data, np.array([[0, -1, 6], [-7, 3, 3]])])
    with pytest.raises(IndexError):
        numba_run(region, [data, np.array([[0, 7, 1], [0, 0, 0]])])
    with pytest.raises(IndexError):
        numba_run(region, [data, np.array([[0, 1, 1], [0, -8, 0]])])


def test_take_on_inner_axis_int32_ids(rng, builder, check):
    b, (x, ids) = builder("take_axis1", ((4, 6), np.int64), ((3,), np.int32))
    outs = [b.emit("take", [x, ids], {"axis": 1})]
    check(b.finish(outs), [rng.integers(0, 50, (4, 6)), np.array([5, -6, 2], np.int32)])


def test_take_along_axis(rng, builder, check):
    b, (x, idx, idx_b) = builder("take_along", ((4, 6), np.float64), ((4, 2), np.int64), ((2, 1), np.int64))
    outs = [b.emit("take_along_axis", [x, idx], {"axis": 1}),
            b.emit("add", [b.emit("take_along_axis", [x, idx_b], {"axis": 0}), b.emit("constant", [], {"value": 1.0, "dtype": np.dtype(np.float64)})])]
    check(b.finish(outs[:1]), [rng.standard_normal((4, 6)), rng.integers(-6, 6, (4, 2)), np.array([[3], [-1]])])
    check(b.finish(outs[1:]), [rng.standard_normal((4, 6)), rng.integers(-6, 6, (4, 2)), np.array([[3], [-1]])])


def test_iota(rng, builder, check):
    b, (x,) = builder("iota", ((4, 5), np.float32))
    i = b.emit("iota", [], {"shape": (4, 5), "axis": 1, "dtype": np.dtype(np.int32)})
    j = b.emit("iota", [], {"shape": (4, 5), "axis": 0, "dtype": np.dtype(np.int64)})
    outs = [b.emit("add", [x, i]), b.emit("mul", [i, j]), b.emit("eq", [i, j])]
    check(b.finish(outs), [f32(rng, 4, 5)])
