"""Numba backend, vectorizable math (tracejit/codegen/numba_math.py) and vectorizable
reductions: accuracy in ulps against NumPy and the correctly rounded result over wide
ranges and special values, and sum/max/min reductions over odd lengths, lengths below
a vector width and NaN at every position."""
from __future__ import annotations

import numba
import numpy as np
import pytest

from tests.codegen.ulp import is_vectorized, ulps, vector_loop_ir
from tracejit.codegen import numba_math as M

OPS = ["exp", "expm1", "exp2", "log", "log1p", "tanh"]


def _kernel(helper):
    @numba.njit(nogil=True, error_model="numpy")
    def apply(a, out):
        for i in range(a.shape[0]):
            out[i] = helper(a[i])
    return apply


def inputs(op, dtype, rng, n=400_000):
    dtype = np.dtype(dtype)
    info = np.finfo(dtype)
    if op == "log":
        lo, hi = (-103, 89) if dtype == np.float32 else (-744, 709)
        x = np.concatenate([np.exp(rng.uniform(lo, hi, n)), rng.uniform(0, 4, n),
                            1 + rng.uniform(-1e-3, 1e-3, n)])
    elif op == "log1p":
        lo, hi = (-103, 89) if dtype == np.float32 else (-744, 709)
        x = np.concatenate([np.exp(rng.uniform(lo, hi, n)), -np.exp(rng.uniform(lo, 0, n)),
                            -1 + np.exp(rng.uniform(-40, 0, n // 4)), rng.uniform(-1, 4, n)])
    elif op == "exp2":
        lim = 155.0 if dtype == np.float32 else 1080.0
        x = np.concatenate([rng.uniform(-lim, lim, n), rng.standard_normal(n) * 3,
                            rng.standard_normal(n) * 1e-5, np.rint(rng.uniform(-lim, lim, n // 8))])
    else:
        lim = 105.0 if dtype == np.float32 else 750.0
        x = np.concatenate([rng.uniform(-lim, lim, n), rng.standard_normal(n) * 3,
                            rng.standard_normal(n) * 1e-5, rng.standard_normal(n // 8) * 1e-30])
    with np.errstate(over="ignore"):
        x = x.astype(dtype)
    # random bit patterns: every exponent, denormals, NaN payloads, infinities
    raw = rng.integers(0, 2 ** (8 * dtype.itemsize), n // 4, dtype=np.uint64 if dtype.itemsize == 8 else np.uint32)
    return np.concatenate([x, raw.view(dtype), specials(dtype)])


def specials(dtype):
    info = np.finfo(dtype)
    s = [0.0, -0.0, np.inf, -np.inf, np.nan, -np.nan, info.max, -info.max, info.tiny, -info.tiny,
         info.smallest_subnormal, -info.smallest_subnormal, 1.0, -1.0, 0.5, 2.0,
         88.72283, 88.7229, -87.33655, -103.97208, -104.0, 709.782712893384, 709.79,
         -708.3964185322641, -745.1332191019411, -745.2, 20.0, -20.0, 9.01, 22.0, 1e-300,
         128.0, 127.99999, -126.0, -149.0, -149.5, -150.0, 1023.0, 1024.0, -1022.0, -1074.0,
         -1074.5, -1075.0, -0.5, -0.9999999, 1e-20, -1e-20]
    with np.errstate(over="ignore"):
        return np.array(s, dtype=dtype)


# max ulps from NumPy; NumPy's float32 SIMD exp/log/expm1 are themselves up to ~3 ulp
# off the correctly rounded value, while the float32 helpers are correctly rounded but
# exp and tanh (checked against long double below)
TOL_NUMPY = {"float32": 4, "float64": 3}
TOL_EXACT = {"float32": 1, "float64": 2}
ONE_ULP = {"exp2", "log1p"}          # double-double inside: within 1 ulp in both dtypes
# computed in float32 arithmetic (twice the vector lanes of float64): within 2 ulp
TWO_ULP = {("tanh", "float32"), ("exp", "float32")}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("op", OPS)
def test_accuracy_vs_numpy(op, dtype, rng):
    helper = getattr(M, M.VECTOR_MATH[(op, dtype)])
    x = inputs(op, dtype, rng)
    got = np.empty_like(x)
    _kernel(helper)(x, got)
    with np.errstate(all="ignore"):
        want = getattr(np, op)(x)
        exact = getattr(np, op)(x.astype(np.longdouble)).astype(dtype)
    assert ulps(got, want).max() <= TOL_NUMPY[dtype]
    if np.finfo(np.longdouble).nmant > 52:        # a real extended type
        bound = 1 if op in ONE_ULP else 2 if (op, dtype) in TWO_ULP else TOL_EXACT[dtype]
        assert ulps(got, exact).max() <= bound


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("op", OPS)
def test_special_values_exactly_like_numpy(op, dtype):
    helper = getattr(M, M.VECTOR_MATH[(op, dtype)])
    x = specials(dtype)
    got = np.empty_like(x)
    _kernel(helper)(x, got)
    with np.errstate(all="ignore"):
        want = getattr(np, op)(x)
    assert np.array_equal(np.isnan(got), np.isnan(want))
    finite_or_inf = ~np.isnan(want)
    # infinities, zeros (with sign) and overflow/underflow agree exactly, with NumPy or
    # with the correctly rounded value (NumPy's float32 exp2 on AVX-512 rounds 2^-149.5
    # to 0, not to the smallest subnormal)
    wider = np.longdouble if dtype == "float64" else np.float64
    with np.errstate(all="ignore"):
        rounded = getattr(np, op)(x.astype(wider)).astype(dtype)
    exact = finite_or_inf & ((want == 0) | np.isinf(want) | (np.abs(want) == 1))
    assert np.all((got[exact] == want[exact]) | (got[exact] == rounded[exact]))
    assert np.array_equal(np.signbit(got[finite_or_inf]), np.signbit(want[finite_or_inf]))
    assert ulps(got, want).max() <= TOL_NUMPY[dtype]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("op", OPS)
def test_helpers_vectorize(op, dtype):
    """The loop calling a helper compiles to vector code (no libm call inside)."""
    assert is_vectorized(vector_loop_ir(getattr(M, M.VECTOR_MATH[(op, dtype)]), dtype))


# ---------------------------------------------------------------------------
# reductions through the generated kernels
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("length", [1, 3, 7, 8, 9, 15, 17, 64, 1001])
def test_sum_max_min_rows(dtype, length, rng, builder, check):
    rows = 4 + length + 1     # a NaN in each position of some row, rows without NaN
    b, (x,) = builder(f"red_{np.dtype(dtype).name}_{length}", ((rows, length), dtype))
    outs = [b.emit(kind, [x], {"axes": (1,), "keepdims": False})
            for kind in ("reduce_sum", "reduce_max", "reduce_min", "argmax", "argmin")]
    data = (rng.standard_normal((rows, length)) * 100).astype(dtype)
    for j in range(length):
        data[4 + j, j] = np.nan
    data[0, :] = -np.inf
    data[1, :] = np.inf
    data[2, -1] = np.inf
    data[3, 0] = -np.inf
    (s, mx, mn, amax, amin), _ = check(b.finish(outs), [data], rtol=1e-5 if dtype == np.float32 else 1e-12)
    np.testing.assert_array_equal(mx, data.max(axis=1))
    np.testing.assert_array_equal(mn, data.min(axis=1))
    np.testing.assert_array_equal(amax, data.argmax(axis=1))


def test_long_float32_sum_is_accurate(rng, builder, check):
    """Partial sums: a 100k-element float32 row sums about as well as NumPy's
    pairwise sum (a single running float32 sum drifts by ~1e-4 here)."""
    b, (x,) = builder("long_sum", ((2, 100_000), np.float32))
    region = b.finish([b.emit("reduce_sum", [x], {"axes": (1,), "keepdims": False})])
    data = rng.random((2, 100_000)).astype(np.float32)
    (got,), _ = check(region, [data], rtol=1e-5)
    exact = data.astype(np.float64).sum(axis=1)
    assert np.all(np.abs(got - exact) / exact < 2e-6)
