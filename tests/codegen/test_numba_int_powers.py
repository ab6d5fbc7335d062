"""float32 x**3 and x**4 for a constant exponent (numba_pow.cube_f32 / pow4_f32, both
variants: FMA products and float64 products): correctly rounded (within 1 ulp for
results below 2^-100), checked against the exact power in integer arithmetic over
every magnitude (subnormal results, the overflow edge, +-0, +-inf, NaN); the kernel writes them for `x ** 3` and `x ** 4`
and gives NumPy's result within 2 ulp (NumPy's own
float32 power is not correctly rounded)."""
from __future__ import annotations

import numpy as np
import pytest

import tracejit
from tests.codegen.ulp import apply
from tracejit.codegen import numba_pow as P

TINY = np.float32(2.0 ** -100)        # below it, x**3 and x**4 are within 1 ulp, not exact
VARIANTS = {3: (P._cube_f32_fma, P._cube_f32_wide), 4: (P._pow4_f32_fma, P._pow4_f32_wide)}


def exact_power_f32(x: np.ndarray, n: int) -> np.ndarray:
    """x**n correctly rounded to float32 (ties to even), from the exact integer power."""
    out = np.empty_like(x)
    for k, v in enumerate(x.tolist()):
        if not np.isfinite(v) or v == 0.0:
            out[k] = np.float32(v) ** np.float32(n)        # inf, nan, +-0: no rounding involved
            continue
        mantissa, exponent = np.frexp(np.float32(v))
        m, e = int(mantissa * (1 << 24)), int(exponent) - 24          # v = m 2^e exactly
        big, shift = abs(m) ** n, e * n                                 # |v|^n = big 2^shift
        q = max(big.bit_length() + shift - 24, -149)                    # the exponent of its ulp
        if shift >= q:
            r = big << (shift - q)
        else:
            drop = q - shift
            r, rest = big >> drop, big & ((1 << drop) - 1)
            half = 1 << (drop - 1)
            r += rest > half or (rest == half and r & 1)
        sign = -1.0 if (m < 0 and n % 2) else 1.0
        out[k] = np.float32(sign * np.ldexp(float(r), q)) if r.bit_length() + q <= 128 else np.float32(sign * np.inf)
    return out


def samples(rng, n=30_000) -> np.ndarray:
    """Random bit patterns (every magnitude), the ranges where x**3/x**4 overflow or
    reach the subnormals, and the special values."""
    bits = rng.integers(0, 2 ** 32, n, dtype=np.uint64).astype(np.uint32).view(np.float32)
    edges = np.concatenate([rng.uniform(-1, 1, n // 4) * 7e12, rng.uniform(-1, 1, n // 4) * 2e9,
                            rng.uniform(-1, 1, n // 4) * 1e-13, rng.uniform(-1, 1, n // 4) * 1e-10,
                            rng.uniform(-3, 3, n // 4)]).astype(np.float32)
    special = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1.0, -1.0, 1.8e19, 2e19, -2e19,
                        np.finfo(np.float32).max, np.finfo(np.float32).tiny, 1e-45], np.float32)
    return np.concatenate([bits[np.isfinite(bits) | np.isnan(bits)], edges, special])


@pytest.mark.parametrize("n", [3, 4])
@pytest.mark.parametrize("variant", ["fma", "wide"])
def test_correctly_rounded(n, variant, rng):
    x = samples(rng)
    helper = VARIANTS[n][0 if variant == "fma" else 1]
    with np.errstate(all="ignore"):
        got = apply(helper, x)
        want = exact_power_f32(x, n)
    same = (got.view(np.uint32) == want.view(np.uint32)) | (np.isnan(got) & np.isnan(want))
    tiny = np.abs(want) < TINY
    bad = np.flatnonzero(~same & ~tiny)
    assert bad.size == 0, [(float(x[k]), float(got[k]), float(want[k])) for k in bad[:5]]
    # tiny results: e x rounds on the subnormal grid, so within 1 ulp
    np.testing.assert_array_max_ulp(got[tiny], want[tiny], maxulp=1)


@pytest.mark.parametrize("n", [2, 3, 4])
def test_kernel_power_matches_numpy(n, rng):
    x = samples(rng, 4000)
    f = tracejit.compile(lambda a: a ** n * 2.0)
    got = f(x)
    with np.errstate(all="ignore"):
        want = x ** n * np.float32(2.0)
        exact = exact_power_f32(x, n) * np.float32(2.0)
    assert got.dtype == np.float32
    normal = ~(np.abs(exact_power_f32(x, n)) < TINY)
    np.testing.assert_array_equal(got[normal], exact[normal])     # the correctly rounded power
    finite = np.isfinite(want)
    assert np.array_equal(np.isfinite(got), finite) and np.array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_array_max_ulp(got[finite], want[finite], maxulp=2)   # NumPy's powf is off by up to 2


def test_kernel_uses_the_helpers():
    f = tracejit.compile(lambda a: a ** 3 - a ** 4 * a ** 2)
    f(np.ones(5, np.float32))
    text = "\n".join(s.kernel.source for s in f.specializations()[0].plan.steps if hasattr(s, "kernel"))
    assert "_tj_cube_f32(" in text and "_tj_pow4_f32(" in text and "np.float64" not in text.split("def ")[-1]
