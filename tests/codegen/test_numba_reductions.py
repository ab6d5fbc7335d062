"""Numba backend, reduction regions: every reduction kind (NaN semantics, integer
widening, argmax/argmin first occurrence), softmax and layernorm rows, reductions
over axis 0, a middle axis, several axes and all axes."""
from __future__ import annotations

import numpy as np
import pytest

KINDS = ["reduce_sum", "reduce_prod", "reduce_max", "reduce_min", "reduce_any", "reduce_all",
         "argmax", "argmin"]


def data_for(rng, dtype, shape):
    if dtype.kind == "b":
        x = rng.random(shape) < 0.5
        x[0] = True         # rows of all-True and all-False
        x[1] = False
        return x
    if dtype.kind in "iu":
        x = rng.integers(-9, 9, shape).astype(dtype)
        x[0] = x[0, 0]      # ties: argmax gives the first
        return x
    x = (rng.random(shape) + 0.5).astype(dtype)
    x[0, 3] = np.nan        # NaN wins for max/min/argmax/argmin ...
    x[0, 5] = np.nan        # ... the first one for the arg-reductions
    x[1, 2] = np.inf
    x[2, :] = -np.inf
    x[3, 1:] = x[3, 0]      # ties
    return x


@pytest.mark.parametrize("dtype", ["float32", "float64", "int32", "int64", "bool"])
@pytest.mark.parametrize("keepdims", [False, True])
def test_every_reduction_kind(dtype, keepdims, rng, builder, check):
    dtype = np.dtype(dtype)
    b, (x,) = builder(f"reductions_{dtype.name}_{keepdims}", ((6, 9), dtype))
    outs = [b.emit(kind, [x], {"axes": (1,), "keepdims": keepdims}) for kind in KINDS]
    # pass the input through too: one kernel with reduced and full-shape outputs
    outs.append(b.emit("neg" if dtype.kind != "b" else "logical_not", [x]))
    check(b.finish(outs), [data_for(rng, dtype, (6, 9))], rtol=1e-5 if dtype == np.float32 else 1e-12)


def test_int32_sum_widens_to_int64(builder, check):
    b, (x,) = builder("sum_i32", ((2, 3), np.int32))
    s = b.emit("reduce_sum", [x], {"axes": (1,), "keepdims": False})
    assert s.dtype == np.int64
    (got,), _ = check(b.finish([s]), [np.full((2, 3), 2 ** 30, np.int32)])
    assert got[0] == 3 * 2 ** 30


def test_softmax_rows(rng, builder, check):
    b, (x,) = builder("softmax", ((33, 50), np.float32))
    m = b.emit("reduce_max", [x], {"axes": (1,), "keepdims": True})
    e = b.emit("exp", [b.emit("sub", [x, m])])
    s = b.emit("reduce_sum", [e], {"axes": (1,), "keepdims": True})
    region = b.finish([b.emit("div", [e, s])])
    data = (rng.standard_normal((33, 50)) * 5).astype(np.float32)
    data[3, 7] = np.nan          # that row becomes all NaN, like NumPy
    (got,), _ = check(region, [data])
    np.testing.assert_allclose(np.nansum(got, axis=1)[4:], 1.0, rtol=1e-5)


def layernorm(builder, name, shape, dtype):
    n = shape[-1]
    b, (x, g, beta) = builder(name, (shape, dtype), ((n,), dtype), ((n,), dtype))
    axes = {"axes": (len(shape) - 1,), "keepdims": True}

    def scalar(v):
        return b.emit("constant", [], {"value": v, "dtype": np.dtype(np.float64), "weak_result": True})
    mean = b.emit("div", [b.emit("reduce_sum", [x], axes), scalar(float(n))])
    xc = b.emit("sub", [x, mean])
    var = b.emit("div", [b.emit("reduce_sum", [b.emit("mul", [xc, xc])], axes), scalar(float(n))])
    inv = b.emit("sqrt", [b.emit("add", [var, scalar(1e-5)])])
    y = b.emit("add", [b.emit("mul", [b.emit("div", [xc, inv]), g]), beta])
    return b.finish([y, mean])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_layernorm_two_dependent_reductions(dtype, rng, builder, check):
    dtype = np.dtype(dtype)
    region = layernorm(builder, f"layernorm_{dtype.name}", (3, 17, 40), dtype)
    arrays = [(rng.standard_normal(s) * 3 + 1).astype(dtype) for s in ((3, 17, 40), (40,), (40,))]
    check(region, arrays, rtol=1e-4 if dtype == np.float32 else 1e-10, atol=1e-5)


@pytest.mark.parametrize("axes,keepdims", [((0,), False), ((1,), True), ((0, 2), False),
                                           ((0, 1, 2), False), ((0, 1, 2), True)])
def test_reduction_axes(axes, keepdims, rng, builder, check):
    """Axis 0, a middle axis, several axes, all axes (a 0-d result)."""
    b, (x,) = builder("sum_axes", ((4, 5, 6), np.float64))
    attrs = {"axes": axes, "keepdims": keepdims}
    outs = [b.emit("reduce_sum", [x], attrs), b.emit("reduce_max", [x], attrs)]
    check(b.finish(outs), [rng.standard_normal((4, 5, 6))])


def test_argmax_over_axis_0_with_nan(builder, check):
    b, (x,) = builder("argmax0", ((4, 3), np.float32))
    outs = [b.emit("argmax", [x], {"axes": (0,), "keepdims": False}),
            b.emit("argmin", [x], {"axes": (0,), "keepdims": True})]
    data = np.array([[1, 2, np.nan], [3, np.nan, 0], [3, 5, np.nan], [-1, 5, 0]], np.float32)
    check(b.finish(outs), [data])


def test_reduction_of_a_transposed_gathered_input(rng, builder, check):
    """Movement ops feeding a reduction become index maps on its loads."""
    b, (x, ids) = builder("sum_take_t", ((6, 4), np.float32), ((3,), np.int64))
    t = b.emit("transpose", [x], {"perm": (1, 0)})           # (4, 6)
    g = b.emit("take", [t, ids], {"axis": 1})                # (4, 3)
    outs = [b.emit("reduce_sum", [g], {"axes": (1,), "keepdims": False})]
    check(b.finish(outs), [rng.standard_normal((6, 4)).astype(np.float32), np.array([5, -1, 0])])
