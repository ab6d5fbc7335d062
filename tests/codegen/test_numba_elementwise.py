"""Numba backend, elementwise regions: every op of OPS in every dtype NumPy supports
for it, casts, where, weak scalars, NaN/Inf. One kernel per dtype carries all ops of a
group (one output each), which keeps the number of compiles small."""
from __future__ import annotations

import numpy as np
import pytest

from tracejit.ir import OPS, OpGroup, TensorType
from tracejit.ir.types import resolve_ufunc

DTYPES = [np.dtype(d) for d in ("float32", "float64", "int32", "int64", "bool")]
SHAPE = (5, 7)


def supported(op, dtypes) -> bool:
    """NumPy has a loop for op on these dtypes, and no float16 is involved."""
    try:
        ins, out = resolve_ufunc(op.ufunc, [TensorType((), d) for d in dtypes])
    except TypeError:
        return False
    return all(np.dtype(d) != np.float16 for d in (*ins, out))


def sample(rng, dtype, shape=SHAPE, special=True):
    """Random data of `dtype`; floats include NaN, +-inf, +-0 and values in (-1, 1)."""
    if dtype.kind == "b":
        return rng.random(shape) < 0.5
    if dtype.kind in "iu":
        return rng.integers(-40, 40, shape).astype(dtype)
    x = (rng.standard_normal(shape) * 2).astype(dtype)
    if special:
        flat = x.reshape(-1)
        flat[:6] = [np.nan, np.inf, -np.inf, 0.0, -0.0, 0.5]
    return x


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_unary_ops(dtype, rng, builder, check):
    ops = [op for op in OPS.values() if op.group is OpGroup.UNARY and supported(op, [dtype])]
    b, (x,) = builder(f"unary_{dtype.name}", (SHAPE, dtype))
    outputs = [b.emit(op.name, [x]) for op in ops]
    data = sample(rng, dtype)
    if dtype.kind == "i":           # wrap-around cases; 1/0 is undefined for integers
        data.reshape(-1)[:2] = [np.iinfo(dtype).max, np.iinfo(dtype).min]
        data[data == 0] = 3
    assert len(ops) >= 8
    check(b.finish(outputs), [data])


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_binary_ops(dtype, rng, builder, check):
    ops = [op for op in OPS.values() if op.group is OpGroup.BINARY and supported(op, [dtype, dtype])]
    b, (x, y, e) = builder(f"binary_{dtype.name}", (SHAPE, dtype), (SHAPE, dtype), (SHAPE, dtype))
    # integer pow: non-negative exponents (negative ones raise, tested below)
    outputs = [b.emit(op.name, [x, e if op.name == "pow" and dtype.kind in "iu" else y]) for op in ops]
    xs, ys = sample(rng, dtype), sample(rng, dtype)
    if dtype.kind == "f":
        ys.reshape(-1)[6:12] = [np.nan, 0.0, np.inf, -np.inf, 2.0, -0.0]   # against the specials of x
        es = sample(rng, dtype)
    elif dtype.kind == "b":
        es = sample(rng, dtype)
    else:
        es = rng.integers(0, 5, SHAPE).astype(dtype)
        ys.reshape(-1)[:3] = 0      # x // 0 and x % 0 are 0 like NumPy
    assert len(ops) >= 6
    check(b.finish(outputs), [xs, ys, es])


def test_mixed_dtype_binary_promotes_like_numpy(rng, builder, check):
    b, (x, y, z) = builder("mixed", (SHAPE, np.int32), (SHAPE, np.float32), (SHAPE, np.int64))
    outs = [b.emit("add", [x, y]), b.emit("mul", [x, z]), b.emit("div", [x, x]),
            b.emit("maximum", [y, z]), b.emit("lt", [x, y])]
    assert [v.dtype for v in outs] == [np.float64, np.int64, np.float64, np.float64, np.bool_]
    xs = rng.integers(-9, 9, SHAPE).astype(np.int32)
    check(b.finish(outs), [xs, sample(rng, np.dtype(np.float32)), rng.integers(-9, 9, SHAPE)])


def test_int32_arithmetic_wraps_like_numpy(builder, check):
    b, (x,) = builder("wrap32", ((4,), np.int32))
    big = b.emit("constant", [], {"value": 2 ** 30, "dtype": np.dtype(np.int32)})
    outs = [b.emit("mul", [x, big]), b.emit("add", [x, big]), b.emit("sub", [x, big]), b.emit("neg", [x])]
    check(b.finish(outs), [np.array([3, -5, 2 ** 31 - 1, -2 ** 31], np.int32)])


CAST_DTYPES = ["bool", "int8", "int32", "int64", "uint8", "float32", "float64"]


@pytest.mark.parametrize("src", ["bool", "int32", "float32", "float64"])
def test_casts(src, rng, builder, check):
    src = np.dtype(src)
    b, (x,) = builder(f"cast_{src.name}", (SHAPE, src))
    outs = [b.emit("cast", [x], {"dtype": np.dtype(d)}) for d in CAST_DTYPES]
    data = sample(rng, src, special=False)
    if src.kind == "f":     # float -> int of NaN/Inf/out of range is undefined in C and NumPy
        data = (data * 40).astype(src)
        data.reshape(-1)[:3] = [0.0, -0.0, -0.7]
    check(b.finish(outs), [data])


def test_cast_of_nan_to_bool_and_float(builder, check):
    b, (x,) = builder("cast_nan", ((4,), np.float64))
    outs = [b.emit("cast", [x], {"dtype": np.dtype(d)}) for d in ("bool", "float32")]
    check(b.finish(outs), [np.array([np.nan, np.inf, -0.0, 1e300])])


def test_where(rng, builder, check):
    b, (c, x, y) = builder("where", (SHAPE, np.bool_), (SHAPE, np.float32), ((7,), np.int32))
    outs = [b.emit("where", [c, x, y]), b.emit("where", [c, y, y])]
    assert outs[0].dtype == np.float64
    check(b.finish(outs), [rng.random(SHAPE) < 0.5, sample(rng, np.dtype(np.float32)),
                           rng.integers(-5, 5, 7).astype(np.int32)])


def weak(b, value, dtype):
    return b.emit("constant", [], {"value": value, "dtype": np.dtype(dtype), "weak_result": True})


def test_weak_scalars_keep_float32(rng, builder, numba_run):
    """x*0.1 + 0.7 on float32 stays float32 and is bit-equal to NumPy (typed constants)."""
    b, (x,) = builder("weak_f32", ((1000,), np.float32))
    y = b.emit("add", [b.emit("mul", [x, weak(b, 0.1, np.float64)]), weak(b, 0.7, np.float64)])
    z = b.emit("maximum", [x, weak(b, 0.0, np.float64)])
    w = b.emit("pow", [x, weak(b, 2, np.int64)])
    region = b.finish([y, z, w])
    assert [v.dtype for v in region.outputs] == [np.float32] * 3
    data = rng.standard_normal(1000).astype(np.float32)
    (got_y, got_z, got_w), kernel = numba_run(region, [data])
    np.testing.assert_array_equal(got_y, data * 0.1 + 0.7)
    np.testing.assert_array_equal(got_z, np.maximum(data, 0.0))
    np.testing.assert_allclose(got_w, data ** 2, rtol=1e-6)
    assert "np.float64(0.1)" in kernel.source and "np.float32(" in kernel.source


def test_constants_nan_inf_and_typed(builder, check):
    b, (x,) = builder("consts", ((3,), np.float32))
    outs = [b.emit("add", [x, b.emit("constant", [], {"value": v, "dtype": np.dtype(np.float32)})])
            for v in (np.nan, np.inf, -np.inf, 1.5)]
    outs.append(b.emit("broadcast_to", [b.emit("constant", [], {"value": 7, "dtype": np.dtype(np.int64)})],
                       {"shape": (3,)}))
    outs.append(b.emit("broadcast_to", [b.emit("constant", [], {"value": True, "dtype": np.dtype(bool)})],
                       {"shape": (3,)}))
    got, kernel = check(b.finish(outs), [np.array([1.0, -np.inf, np.nan], np.float32)])
    assert "np.float32(np.nan)" in kernel.source and "np.float32(-np.inf)" in kernel.source


def test_integer_pow_with_negative_exponent_raises(builder, numba_run):
    b, (x, y) = builder("ipow", ((3,), np.int64), ((3,), np.int64))
    region = b.finish([b.emit("pow", [x, y])])
    with pytest.raises(ValueError, match="negative integer powers"):
        numba_run(region, [np.array([2, 3, 4]), np.array([1, -1, 2])])
    (got,), _ = numba_run(region, [np.array([2, 3, -4]), np.array([62, 41, 3])])
    np.testing.assert_array_equal(got, np.array([2, 3, -4]) ** np.array([62, 41, 3]))
