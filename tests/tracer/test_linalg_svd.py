"""Matrix norms of order 2, -2 and 'nuc', np.linalg.pinv and np.linalg.matrix_rank
(tracer/linalg_svd.py), from the svd library op as numpy.linalg computes them:
NumPy's dtypes, result types and values, batched too, and NumPy's errors."""
import warnings

import numpy as np
import pytest

import tracejit

RNG = np.random.default_rng(0)
MATRICES = [RNG.standard_normal((6, 5)), RNG.standard_normal((3, 4, 6)).astype(np.float32),
            np.outer(np.arange(6.0), np.arange(5.0)), np.arange(20).reshape(4, 5)]
FUNCTIONS = {
    "norm 2": lambda a: np.linalg.norm(a, 2, axis=(-2, -1)), "norm -2": lambda a: np.linalg.norm(a, -2, axis=(-1, -2)),
    "nuc keepdims": lambda a: np.linalg.norm(a, "nuc", axis=(-2, -1), keepdims=True),
    "pinv": lambda a: np.linalg.pinv(a), "pinv rcond": lambda a: np.linalg.pinv(a, rcond=0.1),
    "pinv rtol": lambda a: np.linalg.pinv(a.astype(np.float64), rtol=None),
    "rank": lambda a: np.linalg.matrix_rank(a), "rank tol": lambda a: np.linalg.matrix_rank(a, tol=1.0),
    "pinv solves": lambda a: np.linalg.pinv(a) @ np.ones(a.shape[-2]),
}


@pytest.mark.parametrize("backend", ["numba", "interpret"])
@pytest.mark.parametrize("name", list(FUNCTIONS))
def test_like_numpy(name, backend):
    fn = FUNCTIONS[name]
    for a in MATRICES:
        with warnings.catch_warnings():
            warnings.simplefilter("error", tracejit.FallbackWarning)
            got = tracejit.compile(fn, backend=backend)(a)
        want = fn(a)
        assert type(got) is type(want) and np.shape(got) == np.shape(want)
        assert np.asarray(got).dtype == np.asarray(want).dtype
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_numpys_errors():
    for fn, a, error in [(lambda a: np.linalg.norm(a, 2), MATRICES[1], ValueError),         # 3-D, no axis
                         (lambda a: np.linalg.pinv(a, rtol=None), MATRICES[3], ValueError)]:  # an int matrix
        with pytest.raises(error):
            fn(a)
        with pytest.raises(error):
            tracejit.compile(fn, backend="interpret")(a)
