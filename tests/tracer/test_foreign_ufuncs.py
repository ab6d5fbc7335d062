"""Ufuncs that are not NumPy's (tracejit/tracer/foreign_ufuncs.py): scipy.special's
erf, erfc, expit, exp2, expm1 and log1p compile with scipy's own result dtypes and
values, on every backend; any other foreign ufunc, even one named like a NumPy ufunc,
runs eagerly with a warning that names it."""
from __future__ import annotations

import warnings

import numba
import numpy as np
import pytest
import scipy.special as special

import tracejit
from tests.helpers import assert_matches_numpy



def special_functions(x):
    return (special.erf(x), special.erfc(x), special.expit(x), special.exp2(x), special.expm1(x),
            special.log1p(x))


def gelu_exact(x):
    return 0.5 * x * (1.0 + special.erf(x * 0.7071067811865476))


def _inputs(dtype, n=67):
    rng = np.random.default_rng(7)
    if np.dtype(dtype).kind == "b":
        return rng.random(n) < 0.5
    if np.dtype(dtype).kind in "iu":
        return rng.integers(0, 9, n).astype(dtype)
    x = (rng.standard_normal(n) * 3).astype(dtype)
    x[:5] = [np.nan, np.inf, -np.inf, -0.0, 0.0]
    return x


TOLERANCE = {np.dtype(np.float32): dict(rtol=3e-7, atol=0), np.dtype(np.float64): dict(rtol=2e-14, atol=0)}


@pytest.mark.parametrize("backend", ["numba", "interpret", "triton"])
@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "int8", "bool"])
def test_scipy_special_ufuncs_compile_with_scipys_dtypes_and_values(backend, dtype):
    x = _inputs(dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error", tracejit.FallbackWarning)
        with np.errstate(all="ignore"):
            got = tracejit.compile(special_functions, backend=backend)(x)
            want = special_functions(x)
    for g, w in zip(got, want):
        assert_matches_numpy(g, w, **TOLERANCE[w.dtype])     # float16 and integers: float64, as scipy
        assert np.array_equal(np.signbit(g[~np.isnan(w)]), np.signbit(w[~np.isnan(w)]))


@pytest.mark.parametrize("backend", ["numba", "triton"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_erfc_and_expit_in_ulps_of_scipy(backend, dtype):
    """erfc to within an ulp of scipy's float32 loop (both float64 inside; float64: our
    erfc is the more accurate one, see codegen/numba_erf.py) and zero exactly where
    scipy's is; float32 expit computed in float64, within 2 ulp of scipy's float32 loop
    (which is itself ~2 ulp off)."""
    from tests.codegen.ulp import ulps
    x = np.concatenate([np.linspace(-12, 12, 97), np.linspace(26.5, 27.5, 9)]).astype(dtype)
    f = tracejit.compile(lambda v: (special.erfc(v), special.expit(v)), backend=backend, fullgraph=True)
    (erfc, expit), want = f(x), (special.erfc(x), special.expit(x))
    assert np.array_equal(erfc == 0, want[0] == 0)
    assert ulps(erfc, want[0]).max() <= (1 if dtype == "float32" else 40)
    assert ulps(expit, want[1]).max() <= 2


@pytest.mark.parametrize("backend", ["numba", "triton"])
def test_exact_gelu_is_one_kernel_and_matches_scipy(backend):
    x = (np.random.default_rng(3).standard_normal((33, 65)) * 4).astype(np.float32)
    f = tracejit.compile(gelu_exact, backend=backend, fullgraph=True)
    # float32 erf is within 1 ulp (numba_erf.py), and 1 + erf(x / sqrt 2) cancels for
    # negative x: an ulp of erf near -1 (2^-24) is 0.5 |x| 2^-24 of the result
    assert_matches_numpy(f(x), gelu_exact(x), rtol=1e-6, atol=0.5 * float(np.abs(x).max()) * 2.0 ** -24)
    assert len(tracejit.explain(f, x).kernels) == 1


def test_scalars_give_scipys_scalar_types():
    f = tracejit.compile(lambda x: special.erf(x), backend="numba")
    g = tracejit.compile(lambda x: special.expit(x), backend="numba")
    for fn, plain in ((f, special.erf), (g, special.expit)):
        for value in (np.float32(0.25), np.float64(-0.5), 0.75, np.int16(2)):
            got, want = fn(value), plain(value)
            assert type(got) is type(want)
            assert_matches_numpy(got, want, **TOLERANCE[want.dtype])


@numba.vectorize(["float64(float64, float64)"])
def add(a, b):               # a user's ufunc named like np.add, computing something else
    return a - b


def calls_the_users_add(x):
    return add(x, x) + 1.0


def test_a_foreign_ufunc_named_like_a_numpy_one_runs_eagerly_naming_it():
    x = np.arange(5.0)
    f = tracejit.compile(calls_the_users_add)
    with pytest.warns(tracejit.FallbackWarning, match=r"the ufunc 'add' \(not one of NumPy's\)"):
        np.testing.assert_array_equal(f(x), np.ones(5))
    with pytest.raises(tracejit.UnsupportedError, match="'add'"):
        tracejit.compile(calls_the_users_add, fullgraph=True)(x)


@pytest.mark.parametrize("call, named", [
    (lambda x: special.gamma(x), "scipy.special.gamma"),
    (lambda x: special.erf(x, out=np.empty_like(x)), "scipy.special.erf"),
    (lambda x: special.erf(x * 1j), "scipy.special.erf of complex"),
    (lambda x: add.reduce(x), "'add'"),
])
def test_what_is_not_traced_runs_eagerly_with_scipys_result(call, named):
    x = np.linspace(0.5, 3.0, 7)
    with pytest.warns(tracejit.FallbackWarning, match=named):
        got = tracejit.compile(call, backend="numba")(x)
    np.testing.assert_array_equal(got, call(x))


@pytest.mark.parametrize("backend", ["numba", "interpret"])
def test_float32_expit_is_zero_exactly_where_scipys_is(backend):
    """scipy's float32 loop gives 0 once exp(-x) overflows float32 (x <= -88.72284),
    where the float64 value rounded to float32 would be a subnormal."""
    x = np.concatenate([np.linspace(-110, -80, 2001), [-88.72283, -88.72284, -np.inf, np.nan]]).astype(np.float32)
    got = tracejit.compile(lambda v: special.expit(v), backend=backend, fullgraph=True)(x)
    want = special.expit(x)
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got == 0, want == 0)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
