"""Vectorizable np.power of floats (tracejit/codegen/numba_pow.py): accuracy against
the correctly rounded result (long double powl) over bases of every magnitude with
exponents that put results across the whole float range (overflow and denormal edges
included), negative bases with integer exponents, bases near 1 with huge exponents;
every special case exactly as NumPy (a grid of special operand pairs); the loop
vectorizes.

Bounds asserted (stated in the module docstring): float64 within 1 ulp of correctly
rounded (2 ulp for denormal results, which round twice); float32 within 1 ulp and
equal to it on nearly all inputs; 4 ulp against NumPy (whose SIMD paths may differ)."""
from __future__ import annotations

import numpy as np
import pytest

from tests.codegen.ulp import HAS_LONG_DOUBLE, apply, correctly_rounded, is_vectorized, ulps, vector_loop_ir
from tracejit.codegen import numba_pow as P

DTYPES = ["float32", "float64"]


def helper(dtype):
    return getattr(P, P.VECTOR_MATH[("pow", dtype)])


def pairs(dtype, rng, n=150_000):
    """(x, y) samples: results spread over the whole range, and the hard corners."""
    dtype = np.dtype(dtype)
    big = dtype == np.float64
    lim, span = (745.0, 700.0) if big else (104.0, 87.0)
    x1 = np.exp(rng.uniform(-span, span, n))
    y1 = rng.uniform(-lim, lim, n) / np.log(x1)                # results from 0 to inf
    x2, y2 = rng.uniform(0, 3, n), rng.uniform(-30, 30, n)
    x3, y3 = -rng.uniform(0, 5, n), np.rint(rng.uniform(-40, 40, n))   # negative bases
    x4 = 1 + rng.uniform(-1e-4, 1e-4, n) * (1e-8 if big else 1)
    y4 = rng.uniform(-1e6, 1e6, n) * (1e8 if big else 1)      # near 1, huge exponents
    x5 = np.exp(rng.uniform(-span, span, n // 10))            # results near overflow
    y5 = (np.log(np.finfo(dtype).max) + rng.uniform(-1e-3, 1e-3, n // 10)) / np.log(x5)
    x6 = np.exp(rng.uniform(-span, span, n // 10))            # results near the denormals
    y6 = (np.log(np.finfo(dtype).tiny) + rng.uniform(-30, 1, n // 10)) / np.log(x6)
    x7 = rng.uniform(0, 10, n // 10)                          # small integer exponents
    y7 = rng.integers(-20, 20, n // 10).astype(np.float64)
    with np.errstate(all="ignore"):
        x = np.concatenate([x1, x2, x3, x4, x5, x6, x7]).astype(dtype)
        y = np.concatenate([y1, y2, y3, y4, y5, y6, y7]).astype(dtype)
    return x, y


@pytest.mark.skipif(not HAS_LONG_DOUBLE, reason="needs an extended long double for the reference")
@pytest.mark.parametrize("dtype", DTYPES)
def test_within_one_ulp_of_correctly_rounded(dtype, rng):
    x, y = pairs(dtype, rng)
    got = apply(helper(dtype), x, y)
    want = correctly_rounded("power", x, y)
    err = ulps(got, want)
    normal = np.abs(want) >= np.finfo(dtype).tiny
    worst = int(np.argmax(np.where(normal, err, 0)))
    assert err[normal].max() <= 1, f"{x[worst]!r} ** {y[worst]!r} = {got[worst]!r}, not {want[worst]!r}"
    assert err.max() <= 2                                      # denormal results
    if dtype == "float32":
        assert (err > 0).mean() < 1e-5


@pytest.mark.parametrize("dtype", DTYPES)
def test_close_to_numpy(dtype, rng):
    x, y = pairs(dtype, rng)
    with np.errstate(all="ignore"):
        want = np.power(x, y)
    assert ulps(apply(helper(dtype), x, y), want).max() <= 4


def special_operands(dtype):
    info = np.finfo(dtype)
    values = [0.0, -0.0, 1.0, -1.0, 2.0, -2.0, 0.5, -0.5, 3.0, -3.0, 1.5, -1.5, 1e-3, -7.0,
              np.inf, -np.inf, np.nan, info.max, -info.max, info.tiny, -info.tiny,
              info.smallest_subnormal, -info.smallest_subnormal, 2.0 ** 60, -(2.0 ** 60),
              2.0 ** 53 + 2 if dtype == "float64" else 2.0 ** 24 + 2, 0.9999999, 1.0000001,
              -1e30, 1e30, 100.0, -101.0, 0.25, 4.0]
    with np.errstate(over="ignore"):
        return np.array(values, dtype=dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_special_cases_exactly_like_numpy(dtype):
    """Every pair of special operands: x^0 = 1 and 1^y = 1 (NaN included), NaN
    otherwise, negative base with (non-)integer exponent, signed zeros, infinities,
    (+-1)^inf, overflow to inf and underflow to 0 - the same as NumPy, sign included."""
    s = special_operands(dtype)
    x, y = np.repeat(s, len(s)), np.tile(s, len(s))
    got = apply(helper(dtype), x, y)
    with np.errstate(all="ignore"):
        want = np.power(x, y)
    assert np.array_equal(np.isnan(got), np.isnan(want)), [
        (a, b, g, w) for a, b, g, w in zip(x, y, got, want) if np.isnan(g) != np.isnan(w)][:5]
    ok = ~np.isnan(want)
    assert np.array_equal(np.signbit(got[ok]), np.signbit(want[ok]))
    exact = ok & ((want == 0) | np.isinf(want) | (np.abs(want) == 1))
    assert np.array_equal(got[exact], want[exact]), [
        (a, b, g, w) for a, b, g, w, e in zip(x, y, got, want, exact) if e and g != w][:5]
    assert ulps(got, want).max() <= 1


@pytest.mark.parametrize("dtype", DTYPES)
def test_exact_powers_are_exact(dtype, rng):
    """Integer powers of small integers and of powers of two are exact in NumPy (pow is
    correctly rounded there); so are these."""
    base = np.concatenate([np.arange(-12, 13), 2.0 ** np.arange(-60, 61, 7)]).astype(dtype)
    expo = np.arange(-6, 7).astype(dtype)
    x, y = np.repeat(base, len(expo)), np.tile(expo, len(base))
    with np.errstate(all="ignore"):
        want = np.power(x, y)
        exactly = (want == np.power(x.astype(np.longdouble), y.astype(np.longdouble)))
    got = apply(helper(dtype), x, y)
    assert np.array_equal(got[exactly], want[exactly])


@pytest.mark.parametrize("dtype", DTYPES)
def test_loop_vectorizes(dtype):
    assert is_vectorized(vector_loop_ir(helper(dtype), dtype, arity=2))
