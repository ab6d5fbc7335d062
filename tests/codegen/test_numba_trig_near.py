"""The near-range float32 sin/cos (tracejit/codegen/numba_trig_near.py): within 1 ulp of
the correctly rounded result for |x| < 2^24 (every exponent, subnormals, the inputs
closest to multiples of pi/2, the edge of the range), special values exactly as NumPy,
the far key, and vector code. scripts/check_near_trig.py runs every input below 2^24."""
from __future__ import annotations

import numpy as np
import pytest

from tests.codegen.ulp import (HAS_LONG_DOUBLE, apply, correctly_rounded, is_vectorized, random_bits,
                               subnormals, ulps, vector_loop_ir)
from tracejit.codegen import numba_trig_near as N
from tracejit.codegen.vector_math_names import NEAR_LIMIT_F32

HELPERS = {"sin": N.sin_f32_near, "cos": N.cos_f32_near}
LIMIT = np.float32(NEAR_LIMIT_F32)


def near_range_samples(rng):
    x = random_bits(np.float32, 400_000, rng)
    x = x[np.abs(x) < LIMIT]
    k = np.concatenate([np.arange(-300, 301), rng.integers(-10 ** 7, 10 ** 7, 30_000)])
    multiples = (k * (np.pi / 2)).astype(np.float32)
    edge = np.nextafter(LIMIT, np.float32(0)) - np.arange(2000, dtype=np.float32)
    parts = [x, subnormals(np.float32, 1000, rng), rng.uniform(-4, 4, 100_000), rng.uniform(-1e4, 1e4, 100_000),
             rng.uniform(-1.6e7, 1.6e7, 50_000), multiples, np.nextafter(multiples, np.float32(np.inf)),
             np.nextafter(multiples, np.float32(-np.inf)), edge, -edge]
    x = np.concatenate([np.asarray(p, dtype=np.float32) for p in parts])
    return x[np.abs(x) < LIMIT]


@pytest.mark.skipif(not HAS_LONG_DOUBLE, reason="needs an extended long double for the reference")
@pytest.mark.parametrize("op", sorted(HELPERS))
def test_within_one_ulp_of_correctly_rounded_below_the_limit(op, rng):
    x = near_range_samples(rng)
    err = ulps(apply(HELPERS[op], x), correctly_rounded(op, x))
    worst = int(np.argmax(err))
    assert err.max() <= 1, f"{op}({x[worst]!r}): {err.max()} ulp"
    assert (err > 0).mean() < 0.1          # faithful, and correctly rounded on ~97% of inputs


@pytest.mark.parametrize("op", sorted(HELPERS))
def test_odd_and_even_exactly(op, rng):
    x = rng.uniform(0, 1e6, 10_000).astype(np.float32)
    pos, neg = apply(HELPERS[op], x), apply(HELPERS[op], -x)
    assert np.array_equal(neg, -pos if op == "sin" else pos)


@pytest.mark.parametrize("op", sorted(HELPERS))
def test_special_values_exactly_like_numpy(op):
    info = np.finfo(np.float32)
    x = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, -np.nan, info.tiny, -info.tiny,
                  info.smallest_subnormal, -info.smallest_subnormal, 1e-30, -1e-30, 2.0 ** -12], np.float32)
    got = apply(HELPERS[op], x)
    with np.errstate(invalid="ignore"):
        want = getattr(np, op)(x)
    assert np.array_equal(np.isnan(got), np.isnan(want))
    ok = ~np.isnan(want)
    assert np.array_equal(got[ok], want[ok])
    assert np.array_equal(np.signbit(got[ok]), np.signbit(want[ok]))     # sin(-0) = -0


def test_far_key_is_the_finite_magnitude():
    x = np.array([1.5, -2.0 ** 24, 3e38, -np.inf, np.nan, -0.0], np.float32)
    assert apply(N.far_key_f32, x).tolist() == [1.5, 2.0 ** 24, np.float32(3e38), 0.0, 0.0, 0.0]


@pytest.mark.parametrize("op", sorted(HELPERS))
def test_loop_vectorizes(op):
    assert is_vectorized(vector_loop_ir(HELPERS[op], np.float32))
