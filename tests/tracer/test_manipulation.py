"""np.flipud/fliplr, np.dstack, np.append, np.digitize, np.fill_diagonal, np.delete,
np.block, np.take's wrap/clip modes, sliding_window_view
(tracer/manipulation.py), np.full of a traced value and np.r_/np.c_ of traced values
(tracer/creation.py): NumPy's
results, dtypes, shapes and writeable flags (windows are read-only, as NumPy's view);
NumPy's errors; traced bins run eagerly."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view

import tracejit

RNG = np.random.default_rng(0)
X = RNG.standard_normal(32)
IMG = RNG.standard_normal((8, 9)).astype(np.float32)

CASES = [
    (lambda a: sliding_window_view(a, 4).mean(axis=-1), X),
    (lambda a: sliding_window_view(a, (3, 3)).sum(axis=(-1, -2)), IMG),
    (lambda a: np.einsum("ijkl,kl->ij", sliding_window_view(a, (3, 3)), np.ones((3, 3), np.float32)), IMG),
    (lambda a: sliding_window_view(a, 3, axis=1), IMG),
    (lambda a: sliding_window_view(a, (2, 2), axis=(0, 0)), IMG),
    (lambda a: np.flipud(a) + np.fliplr(a), IMG),
    (lambda a: np.flipud(a), X),
    (lambda a: np.dstack([a, a * 2]), IMG),
    (lambda a: np.dstack((a, a)), X),
    (lambda a: np.append(a, [1.0, 2.0]), X),
    (lambda a: np.append(a, a[:1], axis=0), IMG),
    (lambda a: np.digitize(a, [-1.0, 0.0, 1.0]), X),
    (lambda a: np.digitize(a, [1.0, 0.0, -1.0], right=True), X),
    (lambda a: np.full((2, 3), a[0]), X),
    (lambda a: np.full((2, 3), a[0], dtype=np.float32), X),
    (lambda a: np.full((3, 32), a), X),
    (lambda a: (lambda y: (y.__setitem__(0, 5.0), y)[1])(np.full(4, a.sum())), X),
]


def _filled_diagonal(a):
    y = a.copy()
    np.fill_diagonal(y, -1.0)
    return y


def _diagonal_of_values(a):
    y = np.zeros((3, 3))
    np.fill_diagonal(y, a[:3])
    return y


def _into_the_argument(a):
    np.fill_diagonal(a, 0.0)
    return a.sum()


SMALL = RNG.standard_normal((4, 3))
CASES += [
    (lambda a: np.take(a, [7, -8, 30], mode="wrap"), X),
    (lambda a: np.take(a, [7, -8, 30], mode="clip"), X),
    (lambda a: a.take(np.array([[1, 40], [-1, 3]]), mode="wrap"), X),
    (lambda a: np.take(a, [5, -1], axis=1, mode="clip"), SMALL),
    (_filled_diagonal, SMALL), (_filled_diagonal, SMALL.T), (_diagonal_of_values, X),
    (lambda a: np.delete(a, [0, -1]), X), (lambda a: np.delete(a, 1, axis=1), SMALL),
    (lambda a: np.delete(a, slice(0, 2), axis=0), SMALL), (lambda a: np.delete(a, []), X),
    (lambda a: np.delete(a, [1, 1, 2]), X),
    (lambda a: np.block([[a[:2, :2], a[:2, 2:]], [a[2:]]]), SMALL), (lambda a: np.block([a[:2], a[5:]]), X),
    (lambda a: np.block([[a[0], a[1]], [a[2], a[3]]]), X),
    (lambda a: np.block([[a[:2, :1], np.zeros((2, 1))], [a[2:, :2]]]), SMALL),
    (lambda a: np.block(a), X),
    # np.r_ / np.c_ of traced values (tracer/creation.py: the items become arrays as NumPy's do)
    (lambda a: np.c_[np.ones(len(a)), a], X), (lambda a: np.c_[a[:, :1], a], SMALL),
    (lambda a: np.r_[a, a[:3] * 2, 0.5, 1:4], X), (lambda a: np.r_["0,2", a[0], a[1]], SMALL),
    (lambda a: np.r_[a, np.float32(2), 7], IMG[0]), (lambda a: np.r_[-1, a.astype(np.int8)], X),
    (lambda a: np.r_["1", a, a], SMALL), (lambda a: np.c_[a > 0, a], X),
]


def test_fill_diagonal_writes_into_the_callers_array():
    mine, theirs = SMALL.copy(), SMALL.copy()
    np.testing.assert_allclose(tracejit.compile(_into_the_argument, backend="numba")(mine), _into_the_argument(theirs),
                               rtol=1e-12)      # a sum: reassociated
    np.testing.assert_array_equal(mine, theirs)


@pytest.mark.parametrize("backend", ["numba", "interpret"])
@pytest.mark.parametrize("k", range(len(CASES)))
def test_like_numpy(k, backend):
    fn, x = CASES[k]
    with warnings.catch_warnings():
        warnings.simplefilter("error", tracejit.FallbackWarning)
        got = tracejit.compile(fn, backend=backend)(x)
    want = fn(x)
    assert type(got) is type(want) and got.dtype == want.dtype and got.shape == want.shape
    assert got.flags.writeable == want.flags.writeable
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("call, error", [
    (lambda a: np.fliplr(a[0]), ValueError),
    (lambda a: sliding_window_view(a, (3, 30)), ValueError),
    (lambda a: sliding_window_view(a, 3), ValueError),            # one window size for a 2-D array
    (lambda a: np.digitize(a, [0.0, 1.0, 0.5]), ValueError),      # bins not monotonic
    (lambda a: np.delete(a, 300), IndexError),
    (lambda a: np.block(((a,),)), TypeError),
    (lambda a: np.block([[a], a]), ValueError),                     # list depths differ
    (lambda a: np.take(a, [1], mode="bad"), ValueError),
    (lambda a: np.r_[a, a[0]], ValueError),                         # dimensions differ
    (lambda a: np.r_["x", a], ValueError),                          # an unknown directive
])
def test_errors_are_numpys(call, error):
    with pytest.raises(error):
        call(IMG)
    with pytest.raises(error):
        tracejit.compile(call, backend="interpret")(IMG)


def test_a_traced_python_number_in_r_runs_eagerly_keeping_numpys_dtype():
    """NumPy keeps a Python number item of np.r_ weak (float32 data stay float32)."""
    f = tracejit.compile(lambda a, lr: np.r_[a, lr], backend="interpret")
    with pytest.warns(tracejit.FallbackWarning, match="np.r_"):
        got = f(IMG[0], 0.5)
    assert got.dtype == np.float32 and got[-1] == 0.5


def test_traced_bins_run_eagerly():
    f = tracejit.compile(lambda a, bins: np.digitize(a, bins), backend="interpret")
    with pytest.warns(tracejit.FallbackWarning, match="digitize"):
        np.testing.assert_array_equal(f(X, np.array([-1.0, 1.0])), np.digitize(X, [-1.0, 1.0]))
