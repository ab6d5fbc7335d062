"""The near-range sin/cos (tracejit/codegen/numba_trig_near.py), and the small-range
float32 ones (|x| < 2^16, reduced in float32): within 1 ulp of the
correctly rounded result below the limit (|x| < 2^24 for float32, 2^20 for float64:
every exponent, subnormals, the inputs closest to multiples of pi/2, the edge of the
range), exactly odd and even, special values exactly as NumPy, the far keys, and vector
code. scripts/check_float32_exhaustive.py runs every float32 below 2^24 (2^16 for the
small ones)."""
from __future__ import annotations

import numpy as np
import pytest

from tests.codegen.ulp import (HAS_LONG_DOUBLE, apply, correctly_rounded, is_vectorized, random_bits,
                               subnormals, ulps, vector_loop_ir)
from tracejit.codegen import numba_trig_near as N
from tracejit.codegen.vector_math_names import NEAR_LIMIT, SMALL_LIMIT

OPS = ["sin", "cos"]
DTYPES = ["float32", "float64", "float32 small"]
TABLES = {"near": (N.NEAR_MATH, NEAR_LIMIT), "small": (N.SMALL_MATH, SMALL_LIMIT)}


def _split(kind):
    dtype, _, tier = kind.partition(" ")
    return dtype, TABLES[tier or "near"]


def helper(op, kind):
    dtype, (table, _) = _split(kind)
    return getattr(N, table[(op, dtype)])


def near_range_samples(kind, rng):
    dtype, (_, limits) = _split(kind)
    dtype = np.dtype(dtype)
    limit = dtype.type(limits[dtype.name])
    x = random_bits(dtype, 400_000, rng)
    x = x[np.abs(x) < limit]
    quadrants = int(limit / (np.pi / 2))
    k = np.concatenate([np.arange(-300, 301), rng.integers(-quadrants, quadrants, 30_000)])
    multiples = (k * (np.pi / 2)).astype(dtype)
    edge = np.nextafter(limit, dtype.type(0)) - np.arange(2000, dtype=dtype)
    parts = [x, subnormals(dtype, 1000, rng), rng.uniform(-4, 4, 100_000), rng.uniform(-1e4, 1e4, 100_000),
             rng.uniform(-float(limit), float(limit), 50_000), multiples,
             np.nextafter(multiples, dtype.type(np.inf)), np.nextafter(multiples, dtype.type(-np.inf)), edge, -edge]
    x = np.concatenate([np.asarray(p, dtype=dtype) for p in parts])
    return x[np.abs(x) < limit]


@pytest.mark.skipif(not HAS_LONG_DOUBLE, reason="needs an extended long double for the reference")
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("op", OPS)
def test_within_one_ulp_of_correctly_rounded_below_the_limit(op, dtype, rng):
    x = near_range_samples(dtype, rng)
    if dtype == "float32 small":
        x = np.concatenate([x, np.float32([252.89821, -252.89821])])    # closest to a multiple of pi/2
    err = ulps(apply(helper(op, dtype), x), correctly_rounded(op, x))
    worst = int(np.argmax(err))
    assert err.max() <= 1, f"{op}({x[worst]!r}): {err.max()} ulp"
    assert (err > 0).mean() < 0.1          # faithful, and correctly rounded on ~97% or more


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("op", OPS)
def test_odd_and_even_exactly(op, dtype, rng):
    x = rng.uniform(0, 6e4, 10_000).astype(dtype.split()[0])
    pos, neg = apply(helper(op, dtype), x), apply(helper(op, dtype), -x)
    assert np.array_equal(neg, -pos if op == "sin" else pos)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("op", OPS)
def test_special_values_exactly_like_numpy(op, dtype):
    info = np.finfo(dtype.split()[0])
    x = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, -np.nan, info.tiny, -info.tiny, info.smallest_subnormal,
                  -info.smallest_subnormal, 1e-30, -1e-30, 2.0 ** -12, 2.0 ** -27], dtype.split()[0])
    got = apply(helper(op, dtype), x)
    with np.errstate(invalid="ignore"):
        want = getattr(np, op)(x)
    assert np.array_equal(np.isnan(got), np.isnan(want))
    ok = ~np.isnan(want)
    assert np.array_equal(got[ok], want[ok])
    assert np.array_equal(np.signbit(got[ok]), np.signbit(want[ok]))     # sin(-0) = -0


@pytest.mark.parametrize("dtype", DTYPES)
def test_the_far_key_reaches_one_exactly_at_the_limit(dtype):
    name, (table, limits) = _split(dtype)
    limit = limits[name]
    below = np.nextafter(np.array(limit, name), 0)
    x = np.array([1.5, -limit, below, -below, 3e38, -np.inf, np.nan, -0.0], name)
    key = apply(getattr(N, table[("key", name)]), x)
    assert (key >= 1).tolist() == [False, True, dtype == "float64", dtype == "float64", True, False, False, False]
    assert key[0] == np.float32(1.5 / limit) and key[5] == key[6] == 0


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("op", OPS)
def test_loop_vectorizes(op, dtype):
    assert is_vectorized(vector_loop_ir(helper(op, dtype), dtype.split()[0]))
