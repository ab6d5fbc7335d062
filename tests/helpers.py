"""Assertions shared by the end-to-end tests: NumPy is the specification."""
from __future__ import annotations

import numpy as np

# per-dtype tolerances for compiled vs eager results (reductions may be reassociated)
TOLERANCES = {np.dtype(np.float16): dict(rtol=1e-3, atol=1e-5),
              np.dtype(np.float32): dict(rtol=2e-5, atol=2e-6), np.dtype(np.float64): dict(rtol=1e-11, atol=1e-13),
              np.dtype(np.complex64): dict(rtol=2e-5, atol=2e-6),
              np.dtype(np.complex128): dict(rtol=1e-11, atol=1e-13)}


def leaves(x):
    if isinstance(x, (tuple, list)):
        return [leaf for item in x for leaf in leaves(item)]
    if isinstance(x, dict):
        return [leaf for key in x for leaf in leaves(x[key])]
    return [x]


def assert_same_structure(actual, expected):
    assert type(actual) is type(expected) or (isinstance(expected, np.generic) and isinstance(actual, np.generic)), \
        f"result type {type(actual).__name__}, NumPy gives {type(expected).__name__}"
    if isinstance(expected, (tuple, list)):
        assert len(actual) == len(expected)
        for a, e in zip(actual, expected):
            assert_same_structure(a, e)
    elif isinstance(expected, dict):
        assert list(actual) == list(expected)
        for key in expected:
            assert_same_structure(actual[key], expected[key])


def assert_matches_numpy(actual, expected, scale=1.0, **tolerance):
    """Same structure, dtype, shape; values within the dtype's tolerance; NaN/Inf alike."""
    assert_same_structure(actual, expected)
    for a, e in zip(leaves(actual), leaves(expected)):
        if isinstance(e, (float, int, bool)) and not isinstance(e, np.generic):
            assert type(a) is type(e), f"{type(a)} vs {type(e)}"
        a_arr, e_arr = np.asarray(a), np.asarray(e)
        assert a_arr.dtype == e_arr.dtype, f"dtype {a_arr.dtype}, NumPy gives {e_arr.dtype}"
        assert a_arr.shape == e_arr.shape, f"shape {a_arr.shape}, NumPy gives {e_arr.shape}"
        if e_arr.dtype.kind in "fc":
            tol = dict(TOLERANCES[e_arr.dtype])
            tol["atol"] *= scale
            tol["rtol"] *= scale
            tol.update(tolerance)
            np.testing.assert_allclose(a_arr, e_arr, equal_nan=True, **tol)
            for part in ((a_arr.real, e_arr.real), (a_arr.imag, e_arr.imag)) if e_arr.dtype.kind == "c" else ((a_arr, e_arr),):
                assert np.array_equal(np.isposinf(part[0]), np.isposinf(part[1]))
                assert np.array_equal(np.isneginf(part[0]), np.isneginf(part[1]))
        else:
            np.testing.assert_array_equal(a_arr, e_arr)
