"""np.gradient, np.polyval, np.kron, np.angle, np.isin, np.linalg.matrix_power (tracer/numerical.py), np.vecdot/matvec/
vecmat (tracer/products.py), np.logaddexp2 and np.modf (tracer/compositions.py), and
np.select with an array default: compiled results are NumPy's (type, dtype, shape,
values, signs of zero), on NaN/inf/-0.0 inputs, in float16/32/64 and int32."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import tracejit

CASES = {
    "gradient": lambda a, b: np.gradient(a),
    "gradient_axis_spacing": lambda a, b: np.gradient(a, 0.5, axis=1),
    "gradient_edge2_strong_dx": lambda a, b: np.gradient(a, np.float64(0.5), 2.0, edge_order=2),
    "gradient_1d_edge2": lambda a, b: np.gradient(a[0], edge_order=2),
    "polyval_list": lambda a, b: np.polyval([1.5, -2.0, 3.0], a),
    "polyval_int_coefficients": lambda a, b: np.polyval(np.array([1, 2], np.int8), a),
    "polyval_traced_coefficients": lambda a, b: np.polyval(b[0, :3], a),
    "kron_2d": lambda a, b: np.kron(a[:2, :3], a[2:4, :2]),
    "kron_ranks": lambda a, b: np.kron(a[0], a[:2, :2]),
    "kron_scalar": lambda a, b: np.kron(a, 2.0),
    "angle": lambda a, b: np.angle(a),
    "angle_degrees_scalar": lambda a, b: np.angle(a[0, 0], deg=True),
    "vecdot": lambda a, b: np.vecdot(a, b),
    "vecdot_1d": lambda a, b: np.vecdot(a[0], b[1]),
    "matvec": lambda a, b: np.matvec(a, b[0]),
    "matvec_batched": lambda a, b: np.matvec(a[None], b[:2, None, :]),
    "vecmat": lambda a, b: np.vecmat(b[0, :5], a),
    "select_array_default": lambda a, b: np.select([a < 0, a > 1], [a * 2, b], default=a),
    "select_constant_array_default": lambda a, b: np.select([a < 0], [b], default=np.ones(7)),
}
FLOAT_CASES = {
    "logaddexp2": lambda a, b: np.logaddexp2(a, b),
    "logaddexp2_equal": lambda a, b: np.logaddexp2(a, a),
    "modf": lambda a, b: np.modf(a),
    "modf_scalar": lambda a, b: np.modf(a[0, 0]),
}


def _data(dtype):
    rng = np.random.default_rng(0)
    a = (rng.standard_normal((5, 7)) * 4).astype(dtype)
    b = (rng.standard_normal((5, 7)) * 4).astype(dtype)
    if np.dtype(dtype).kind == "f":
        a.flat[:6] = [np.nan, np.inf, -np.inf, -0.0, 0.0, -2.0]
    return a, b


def _assert_like_numpy(got, want):
    assert type(got) is type(want)
    for g, w in zip(got if isinstance(want, tuple) else (got,), want if isinstance(want, tuple) else (want,)):
        assert type(g) is type(w) and g.dtype == w.dtype and g.shape == w.shape
        tol = {np.float16: 1e-3, np.float32: 2e-6}.get(w.dtype.type, 1e-12)
        np.testing.assert_allclose(g, w, rtol=tol, atol=tol, equal_nan=True)
        if w.dtype.kind == "f":
            kept = ~np.isnan(w)
            assert np.array_equal(np.signbit(g[kept]), np.signbit(w[kept]))


def _check(fn, args, backend):
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("error", tracejit.FallbackWarning)
        want = fn(*args)
        got = tracejit.compile(fn, backend=backend)(*args)
    _assert_like_numpy(got, want)


DTYPE_CASES = [(name, dtype) for dtype in (np.float32, np.float64, np.float16, np.int32)
               for name in sorted(CASES) + (sorted(FLOAT_CASES) if dtype != np.int32 else [])]


@pytest.mark.parametrize("name, dtype", DTYPE_CASES)
def test_like_numpy_in_every_dtype(name, dtype):
    _check({**CASES, **FLOAT_CASES}[name], _data(dtype), "interpret")


@pytest.mark.parametrize("name", ["gradient_edge2_strong_dx", "polyval_list", "kron_ranks", "vecdot", "matvec_batched",
                                  "vecmat", "logaddexp2", "modf", "select_array_default"])
def test_compiled_kernels_like_numpy(name):
    _check({**CASES, **FLOAT_CASES}[name], _data(np.float32), "numba")


def test_modf_of_integers_and_bool_vector_products():
    _check(lambda a: np.modf(a), (np.arange(-3, 4),), "numba")
    b = np.random.default_rng(1).random((3, 4)) < 0.5
    _check(lambda a, c: (np.vecdot(a, c), np.matvec(a, c[0])), (b, b[::-1]), "interpret")


MORE = [
    lambda x: np.angle(x[:, 0] + 1j * x[:, 1]),
    lambda x: np.angle((x[:, 0] + 1j * x[:, 1]).astype(np.complex64), deg=True),
    lambda x: np.isin(np.argmax(x, 1), [0, 2]),
    lambda x: np.isin(x, x[0], invert=True),
    lambda x: np.isin(np.argmax(x), [3]),                     # a 0-d array, as NumPy's
    lambda x: np.isin(np.array([1.0, np.nan]) * x[0, 0], [np.nan, x[0, 0]]),       # NaN is in nothing
    lambda x: np.linalg.matrix_power(x / 3, 5),
    lambda x: np.linalg.matrix_power(x / 3, 0),
    lambda x: np.linalg.matrix_power(x + 3 * np.eye(6, dtype=np.float32), -2),
    lambda x: np.linalg.matrix_power(np.arange(9).reshape(3, 3) + x[:3, :3].astype(np.int64), 4),
    lambda x: np.linalg.matrix_power(x[None].repeat(2, 0), 3),
]


@pytest.mark.parametrize("backend", ["numba", "interpret"])
@pytest.mark.parametrize("k", range(len(MORE)))
def test_complex_angle_isin_and_matrix_power_like_numpy(k, backend):
    x = np.random.default_rng(0).standard_normal((6, 6)).astype(np.float32)
    fn = MORE[k]
    with warnings.catch_warnings():
        warnings.simplefilter("error", tracejit.FallbackWarning)
        got = tracejit.compile(fn, backend=backend)(x)
    want = fn(x)
    assert type(got) is type(want) and got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("call, error", [
    (lambda a: np.gradient(a[:, :1]), ValueError),            # too short for a difference
    (lambda a: np.vecdot(a, a[:, :3]), ValueError),          # core dimensions differ
    (lambda a: np.matvec(a[0], a[0]), ValueError),           # not a matrix
    (lambda a: np.gradient(a, 1.0, 2.0, 3.0), TypeError),
    (lambda a: np.isin(a, [2.0], kind="table"), ValueError),      # the table method takes integers only
    (lambda a: np.isin(a, [2.0], kind="bogus"), ValueError),
])
def test_errors_are_numpys(call, error):
    a = np.ones((4, 5))
    with pytest.raises(error):
        call(a)
    with pytest.raises(error):
        tracejit.compile(call, backend="interpret")(a)


@pytest.mark.parametrize("call", [
    lambda a: np.gradient(a, np.arange(4.0) ** 2, axis=0),    # coordinates: non-uniform spacing
    lambda a: np.vecdot(a, a, axis=0),
    lambda a: np.polyval(np.poly1d([1.0, 2.0]), a),
    lambda a: np.isin(a.astype(np.int64), [2, 4], kind="table"),
])
def test_what_is_not_traced_runs_eagerly(call):
    a = np.arange(20.0).reshape(4, 5)
    with pytest.warns(tracejit.FallbackWarning):
        got = tracejit.compile(call, backend="interpret")(a)
    np.testing.assert_allclose(np.asarray(got, dtype=float), np.asarray(call(a), dtype=float))
