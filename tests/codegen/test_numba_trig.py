"""Vectorizable sin, cos, tan, arctan (tracejit/codegen/numba_trig.py): accuracy in
ulps against the correctly rounded result (long double libm) over every exponent of
both signs, subnormals, (near) multiples of pi/2, the inputs closest to multiples of
pi/2 and huge arguments; special values exactly as NumPy; the loops vectorize.

Bounds asserted (the module docstring states them): float32 within 1 ulp of the
correctly rounded result and equal to it on nearly all inputs; float64 within 1 ulp
of it. Against NumPy itself 4 ulp: NumPy's own SIMD paths (float32 everywhere,
float64 with AVX-512) are allowed up to 4 ulp."""
from __future__ import annotations

import numba
import numpy as np
import pytest

from tracejit.codegen import numba_trig as T

from tests.codegen.ulp import (HAS_LONG_DOUBLE, apply, correctly_rounded, is_vectorized, random_bits,
                               subnormals, ulps, vector_loop_ir)

OPS = ["sin", "cos", "tan", "arctan"]
DTYPES = ["float32", "float64"]

# the float32 closest to a multiple of pi/2 (2^-29.9 quadrants away: measured over all
# float32 in scripts/float32_reduction_worst_case.py) and the float64 one (2^-61, from
# the literature on Payne-Hanek reduction)
WORST32 = 7.729179e+28
WORST64 = float(np.ldexp(6381956970095103.0, 797))


def helper(op, dtype):
    return getattr(T, T.VECTOR_MATH[(op, dtype)])


def near_multiples_of_half_pi(dtype, rng, n=20000):
    k = np.concatenate([np.arange(-200, 201), rng.integers(-10 ** 7, 10 ** 7, n)])
    x = (k * (np.pi / 2)).astype(dtype)
    return np.concatenate([x, np.nextafter(x, np.inf), np.nextafter(x, -np.inf)])


def huge(dtype):
    if np.dtype(dtype) == np.float32:
        values = [1e30, 3.4e38, np.finfo(np.float32).max, WORST32, 1e10, 2.0 ** 100, 16777216.0]
        values += list(np.nextafter(np.float32(WORST32), np.float32([np.inf, -np.inf])))
    else:
        values = [1e30, 3.4e38, 1e300, np.finfo(np.float64).max, WORST64, 2.0 ** 1000, 1e22]
        values += list(np.nextafter(WORST64, [np.inf, -np.inf]))
    x = np.array(values, dtype=dtype)
    return np.concatenate([x, -x])


def samples(op, dtype, rng):
    dtype = np.dtype(dtype)
    parts = [random_bits(dtype, 200_000, rng), subnormals(dtype, 1000, rng), huge(dtype),
             rng.uniform(-10, 10, 100_000), rng.uniform(-1e5, 1e5, 50_000),
             rng.uniform(-1e9, 1e9, 20_000), rng.standard_normal(10_000) * 1e-4]
    if op == "arctan":
        parts += [np.exp(rng.uniform(-40, 40, 50_000)), rng.uniform(0.4, 2.5, 50_000),
                  np.array([7 / 16, 11 / 16, 19 / 16, 39 / 16, 1.0])]
    else:
        parts.append(near_multiples_of_half_pi(dtype, rng))
    with np.errstate(over="ignore"):
        return np.concatenate([np.asarray(p).astype(dtype) for p in parts])


@pytest.mark.skipif(not HAS_LONG_DOUBLE, reason="needs an extended long double for the reference")
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("op", OPS)
def test_within_one_ulp_of_correctly_rounded(op, dtype, rng):
    x = samples(op, dtype, rng)
    got = apply(helper(op, dtype), x)
    err = ulps(got, correctly_rounded(op, x))
    worst = int(np.argmax(err))
    assert err.max() <= 1, f"{op}({x[worst]!r}) = {got[worst]!r}: {err.max()} ulp"
    if dtype == "float32":                       # float64 inside: nearly always exact
        assert (err > 0).mean() < 1e-5


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("op", OPS)
def test_close_to_numpy(op, dtype, rng):
    x = samples(op, dtype, rng)
    # at WORST64 NumPy's float64 cos and tan are 8 and 14 ulp off (the exact values
    # are in test_exact_at_huge_arguments), so it is not compared there
    x = x[np.abs(x.astype(np.float64)) != WORST64]
    with np.errstate(all="ignore"):
        want = getattr(np, op)(x)
    assert ulps(apply(helper(op, dtype), x), want).max() <= 4


def exact(op, x: float) -> float:
    """sin/cos/tan of a float, correctly rounded to float64, by exact arithmetic:
    x - k pi/2 with pi to 3000 bits (math_constants, Python integers), then Taylor
    series in 1200-bit fixed point, far beyond float64's precision."""
    from fractions import Fraction

    from tracejit.codegen.math_constants import pi_fixed
    bits, frac = 3000, 1200
    mant, exp = np.frexp(x)
    m, e = int(mant * 2 ** 53), int(exp) - 53            # x = m 2^e exactly
    half_pi = pi_fixed(bits)                              # pi/2 = half_pi / 2^(bits+1)
    xs = m << (bits + 1 + e) if e >= -(bits + 1) else 0   # x in the same fixed point
    k = (2 * xs + half_pi) // (2 * half_pi)               # nearest integer to x / (pi/2)
    r = (xs - k * half_pi) >> (bits + 1 - frac)           # r * 2^frac
    one = 1 << frac
    s = c = 0
    term = r                                              # r^i / i! in fixed point
    for i in range(1, 80, 2):
        s += term if i % 4 == 1 else -term
        term = term * r // one * r // one // ((i + 1) * (i + 2))
    term = one
    for i in range(0, 80, 2):
        c += term if i % 4 == 0 else -term
        term = term * r // one * r // one // ((i + 1) * (i + 2))
    sin_x, cos_x = [(s, c), (c, -s), (-s, -c), (-c, s)][k % 4]
    value = {"sin": Fraction(sin_x, one), "cos": Fraction(cos_x, one), "tan": Fraction(sin_x, cos_x)}[op]
    return float(value)


@pytest.mark.parametrize("dtype", DTYPES)
def test_exact_at_huge_arguments(dtype):
    """sin/cos/tan at huge arguments and at the inputs closest to a multiple of pi/2,
    against exact arithmetic (independent of any libm): a Cody-Waite reduction gets
    these wrong; these helpers are within 1 ulp (correctly rounded here, in fact)."""
    x = huge(dtype)
    for op in ("sin", "cos", "tan"):
        got = apply(helper(op, dtype), x)
        want = np.array([exact(op, float(v)) for v in x]).astype(dtype)
        assert ulps(got, want).max() <= 1, (op, dtype)


def specials(dtype):
    info = np.finfo(dtype)
    values = [0.0, -0.0, np.inf, -np.inf, np.nan, -np.nan, info.max, -info.max, info.tiny,
              -info.tiny, info.smallest_subnormal, -info.smallest_subnormal, 1.0, -1.0,
              np.pi / 2, -np.pi / 2, np.pi, 2 * np.pi, 1e-30, 2.0 ** -26, 2.0 ** -27]
    with np.errstate(over="ignore"):
        return np.array(values, dtype=dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("op", OPS)
def test_special_values_exactly_like_numpy(op, dtype):
    x = specials(dtype)
    got = apply(helper(op, dtype), x)
    with np.errstate(all="ignore"):
        want = getattr(np, op)(x)
    assert np.array_equal(np.isnan(got), np.isnan(want))
    ok = ~np.isnan(want)
    assert np.array_equal(np.signbit(got[ok]), np.signbit(want[ok]))     # sin(-0) = -0 ...
    exact = ok & ((want == 0) | np.isinf(want) | (x == 0) | (np.abs(x) < 1e-20))
    assert np.array_equal(got[exact], want[exact])
    assert ulps(got, want).max() <= 1


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("op", OPS)
def test_loop_vectorizes(op, dtype):
    assert is_vectorized(vector_loop_ir(helper(op, dtype), dtype))


def test_sin_cos_chain_vectorizes():
    """The issue's example loop, sin(x) * cos(x) + x * x on float32, compiles to vector
    instructions with every helper inlined."""
    @numba.njit(nogil=True, error_model="numpy")
    def chain(a, out):
        for i in range(a.shape[0]):
            x = a[i]
            out[i] = T.sin_f32(x) * T.cos_f32(x) + x * x

    x = np.linspace(-5, 5, 1000).astype(np.float32)
    out = np.empty_like(x)
    chain(x, out)
    assert is_vectorized(chain.inspect_llvm(chain.signatures[0]))
    np.testing.assert_allclose(out, np.sin(x) * np.cos(x) + x * x, rtol=1e-6)
