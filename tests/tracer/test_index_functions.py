"""np.unravel_index and np.put_along_axis (tracer/index_functions.py): NumPy's results,
result types and writes into the caller's array; NumPy's errors."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import tracejit


def argmax_position(x):
    return np.unravel_index(np.argmax(x), x.shape)


def fortran_positions(x):
    return np.unravel_index(np.argmax(x, axis=1) * 3, (4, 10), order="F")


def zero_row_maxima(x):
    y = x.copy()
    np.put_along_axis(y, np.argmax(y, axis=1)[:, None], -1.0, axis=1)
    return y


def into_the_argument(x):
    np.put_along_axis(x, np.argsort(x, axis=0)[:2], np.zeros((2, 5)), axis=0)
    return x.sum()


@pytest.mark.parametrize("backend", ["numba", "interpret"])
@pytest.mark.parametrize("fn", [argmax_position, fortran_positions, zero_row_maxima, into_the_argument])
def test_like_numpy_with_the_callers_array_written_as_numpy_writes_it(fn, backend):
    x = np.random.default_rng(0).random((6, 5))
    mine, theirs = x.copy(), x.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("error", tracejit.FallbackWarning)
        got = tracejit.compile(fn, backend=backend)(mine)
    want = fn(theirs)
    assert type(got) is type(want)
    for g, w in zip(got if isinstance(want, tuple) else (got,), want if isinstance(want, tuple) else (want,)):
        assert type(g) is type(w) and np.asarray(g).dtype == np.asarray(w).dtype
        if np.asarray(w).dtype.kind == "f" and np.ndim(w) == 0:     # a sum: reassociated (DESIGN's bound)
            np.testing.assert_allclose(g, w, rtol=1e-13)
        else:
            np.testing.assert_array_equal(g, w)
    np.testing.assert_array_equal(mine, theirs)


def test_an_index_outside_the_array_raises_numpys_error():
    f = tracejit.compile(lambda i: np.unravel_index(i, (2, 3)))
    np.testing.assert_array_equal(f(np.array([5, 0]))[0], [1, 0])
    np.testing.assert_array_equal(f(np.array([5, 0]))[1], [2, 0])
    with pytest.raises(ValueError, match="out of bounds"):
        f(np.array([7, 0]))
    with pytest.raises(TypeError):
        tracejit.compile(lambda i: np.unravel_index(i, (2, 3)))(np.array([1.0]))
