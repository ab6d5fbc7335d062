"""Numba's vectorizable erf/erfc (tracejit/codegen/numba_erf.py): accuracy in ulps
against mpmath's correctly rounded values (float64) and scipy's float32 loops, special
values exactly as scipy's, vector code, and coefficients that are what
scripts/fit_erf.py derives."""
from __future__ import annotations

import importlib.util
import os
import sys

import mpmath
import numpy as np
import pytest
import scipy.special as special

from tests.codegen.ulp import apply, is_vectorized, random_bits, subnormals, ulps, vector_loop_ir
from tracejit.codegen import erf_fits
from tracejit.codegen import numba_erf as E


ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BOUND_F64 = {"erf": 2, "erfc": 5}        # ulps from the correctly rounded value


def helper(name, dtype):
    return getattr(E, E.VECTOR_MATH[(name, np.dtype(dtype).name)])


def _float64_sample(rng):
    return np.concatenate([rng.uniform(-7, 7, 3000), rng.uniform(-28, 28, 1000), rng.uniform(-1.1, 1.1, 1000),
                           rng.uniform(0.45, 1.05, 1000), rng.uniform(5.5, 6.5, 500),
                           10.0 ** rng.uniform(-320, 0, 500) * rng.choice([-1, 1], 500)])


@pytest.mark.parametrize("name", ["erf", "erfc"])
def test_float64_within_its_bound_of_the_correctly_rounded_value(name, rng):
    x = _float64_sample(rng)
    got = apply(helper(name, np.float64), x)
    mpmath.mp.dps = 30
    exact = np.array([float(getattr(mpmath, name)(mpmath.mpf(v))) for v in x])
    kept = x * x <= 709.782712893384          # beyond, erfc is 0 as scipy's (next test)
    assert ulps(got[kept], exact[kept]).max() <= BOUND_F64[name]
    # scipy's own values: its erfc is 1 - erf below 1 (an absolute error of ~1e-16) and
    # loses ~x^2 ulps above (exp(-x^2) of a rounded square)
    want = getattr(special, name)(x)
    tol = 1e-15 + 2.3e-16 * x * x
    assert np.all(np.abs(got - want) <= tol * np.abs(want) + 4e-16 * (np.abs(x) < 1) + 1e-300)


def test_float64_erfc_is_zero_exactly_where_scipys_is():
    """scipy's erfc gives 0 once x^2 > 709.78 (x > 26.64), a denormal below: so do we."""
    edge = np.sqrt(709.782712893384)
    x = np.concatenate([[np.nextafter(edge, 0.0), edge, np.nextafter(edge, 30.0)], np.linspace(26.0, 28.0, 4001)])
    x = np.concatenate([x, -x])
    got, want = apply(helper("erfc", np.float64), x), special.erfc(x)
    assert np.array_equal(got == 0, want == 0) and np.array_equal(got == 2, want == 2)
    assert np.count_nonzero((got > 0) & (got < 1e-308)) > 0           # the denormals below the edge


# float32 erf is evaluated in float32 (scripts/check_float32_exhaustive.py erf: within
# 1 ulp on every float32, 0.70% of them not correctly rounded, 2.0% of this sample, which
# is mostly 0.5 <= |x| <= 2); erfc in float64, rounded once
DIFFERING_F32 = {"erf": 0.03, "erfc": 1e-4}


def test_float32_erf_is_correctly_rounded_nearly_always_where_1_plus_erf_cancels():
    """From 2.5 on the tail fit rounds finely (1 + erf(x) near x = -3.5, as in the exact
    GELU, would turn a misrounded ulp of erf into a large relative error)."""
    x = np.linspace(2.5, 3.9192, 1_000_001, dtype=np.float32)
    x = np.concatenate([x, -x])
    got = apply(helper("erf", np.float32), x)
    assert np.count_nonzero(got != special.erf(x)) <= 2e-4 * x.size


@pytest.mark.parametrize("name", ["erf", "erfc"])
def test_float32_is_within_an_ulp_of_scipys_value(name, rng):
    x = np.concatenate([rng.uniform(-11, 11, 300_000), rng.standard_normal(300_000) * 2,
                        random_bits(np.float32, 100_000, rng), subnormals(np.float32, 1000, rng)]).astype(np.float32)
    got = apply(helper(name, np.float32), x)
    want = getattr(special, name)(x)
    assert want.dtype == got.dtype == np.float32
    assert ulps(got, want).max() <= 1
    assert np.count_nonzero(got != want) <= DIFFERING_F32[name] * x.size


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", ["erf", "erfc"])
def test_special_values_exactly_as_scipy(name, dtype):
    info = np.finfo(dtype)
    x = np.array([np.nan, -np.nan, np.inf, -np.inf, 0.0, -0.0, info.smallest_subnormal, -info.smallest_subnormal,
                  info.tiny, -info.tiny, info.max, -info.max, 6.0, -6.0, 27.5, 30.0, -30.0]
                 + ([4.0, 10.1] if dtype == np.float32 else []), dtype=dtype)      # 1, 0 in float32
    got = apply(helper(name, dtype), x)
    want = getattr(special, name)(x)
    assert np.array_equal(np.signbit(got[~np.isnan(want)]), np.signbit(want[~np.isnan(want)]))
    if (name, dtype) == ("erf", np.float32):
        # x 2/sqrt(pi) from a float32 hi + lo pair whose lo term underflows below
        # ~1e-37: within an ulp there, not always correctly rounded
        tiny = (np.abs(x) > 0) & (np.abs(x) <= info.tiny)
        assert ulps(got[tiny], want[tiny]).max() <= 1
        got, want = got[~tiny], want[~tiny]
    assert np.array_equal(got, want, equal_nan=True)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", ["erf", "erfc"])
def test_helpers_vectorize(name, dtype):
    assert is_vectorized(vector_loop_ir(helper(name, dtype), dtype))


def test_coefficients_are_what_the_fit_script_derives():
    spec = importlib.util.spec_from_file_location("fit_erf", os.path.join(ROOT, "scripts", "fit_erf.py"))
    fit = importlib.util.module_from_spec(spec)
    sys.modules["fit_erf"] = fit
    spec.loader.exec_module(fit)
    for name, (f, (a, b), degree) in fit.FITS.items():
        assert getattr(erf_fits, f"{name}_INTERVAL") == (float(a), float(b)), name
        derived = fit.chebyshev_monomials(f, mpmath.mpf(a), mpmath.mpf(b), degree)
        assert getattr(erf_fits, name) == tuple(derived), name
