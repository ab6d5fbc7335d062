"""Writes through integer index arrays: ``x[idx] = v``, ``x[rows, cols] -= 1`` (the
cross-entropy gradient), ``np.add.at`` and its kin. They match eager NumPy bit for bit
(repeated indices: the last write wins; ``.at`` applies every value in turn) and take
one pass over the index: the library ops ``last_writer`` and ``ufunc_at``, never an
(elements x writes) matrix of matches."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import tracejit


def cross_entropy_grad(p, labels):
    d = p.copy()
    d[np.arange(p.shape[0]), labels] -= 1.0
    return d / p.shape[0]


def assign_repeated(x, idx, v):
    y = x.copy()
    y[idx] = v
    return y * 2


def add_at(x, idx, v):
    y = x.copy()
    np.add.at(y, idx, v)
    return y


def ufunc_at_on_an_axis(x, idx, v):
    y = x.copy()
    np.maximum.at(y, (slice(None), idx), v)
    np.subtract.at(y, (slice(None), idx), 0.25)
    return y


@pytest.fixture
def rng():
    return np.random.default_rng(11)


def compiled(fn):
    with warnings.catch_warnings():
        warnings.simplefilter("error")          # no fallback
        return tracejit.compile(fn, fullgraph=True)


def test_the_cross_entropy_gradient_matches_numpy_bit_for_bit(rng):
    p = rng.random((300, 7)).astype(np.float32)
    labels = rng.integers(-7, 7, 300)             # negative labels count from the end
    got = compiled(cross_entropy_grad)(p, labels)
    want = cross_entropy_grad(p, labels)
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_array_equal(got, want)


def test_repeated_indices_the_last_write_wins(rng):
    x = rng.random((40, 3))
    idx = rng.integers(-40, 40, 500)
    v = rng.random((500, 3))
    np.testing.assert_array_equal(compiled(assign_repeated)(x, idx, v), assign_repeated(x, idx, v))


def test_add_at_applies_each_value_in_turn_as_numpy(rng):
    """float32 values of very different sizes at the same few positions: a sum of the
    values added once (a reassociation) rounds differently from NumPy's sequential
    updates, which this matches exactly."""
    x = np.zeros(5, np.float32)
    idx = rng.integers(0, 5, 4000)
    v = (rng.standard_normal(4000) * 10.0 ** rng.integers(-4, 8, 4000)).astype(np.float32)
    got, want = compiled(add_at)(x, idx, v), add_at(x, idx, v)
    np.testing.assert_array_equal(got, want)
    reassociated = x + np.array([v[idx == k].astype(np.float64).sum() for k in range(5)], np.float32)
    assert not np.array_equal(want, reassociated)           # the test can tell the two apart


def test_ufunc_at_along_an_axis_with_nan(rng):
    x = rng.random((4, 9))
    idx = np.array([0, 3, 3, 8, -1, 2])
    v = rng.random((4, 6))
    v[1, 2] = np.nan                              # maximum.at propagates NaN, as NumPy's
    got, want = compiled(ufunc_at_on_an_axis)(x, idx, v), ufunc_at_on_an_axis(x, idx, v)
    np.testing.assert_array_equal(got, want)
    assert np.isnan(got[1, 3])


def test_an_index_out_of_range_raises_numpys_index_error(rng):
    f = tracejit.compile(assign_repeated)
    with pytest.raises(IndexError):
        f(np.zeros((4, 2)), np.array([0, 4]), np.ones((2, 2)))


@pytest.mark.parametrize("fn, args", [
    (assign_repeated, (np.zeros((5000, 2)), np.arange(3000) % 5000, np.ones((3000, 2)))),
    (add_at, (np.zeros(5000), np.arange(3000) % 5000, np.ones(3000))),
    (cross_entropy_grad, (np.ones((1000, 5)), np.zeros(1000, np.int64))),
])
def test_a_write_through_an_index_is_one_pass_not_a_matrix_of_matches(fn, args):
    graph = tracejit.explain(fn, *args).graph
    assert "last_writer" in graph or "ufunc_at" in graph
    elements = args[0].size if fn is cross_entropy_grad else args[0].shape[0]
    writes = args[1].size
    assert f"[{elements},{writes}]" not in graph.replace(" ", "")


def at_with(ufunc_name):
    def at(x, idx, v):
        getattr(np, ufunc_name).at(x, idx, v)
        return x
    return at


@pytest.mark.parametrize("ufunc_name, target, values", [
    # each update in the common dtype, then cast back
    ("add", np.ones(3, np.int64), np.array([-0.5, 1.5, 1.5])),            # computed in float64, truncated back
    ("multiply", np.full(3, 3, np.int64), np.array([0.5, 1.5, 0.25])),
    ("maximum", np.full(3, 5, np.int32), np.array([2 ** 40, -1, 7], np.int64)),    # compared in int64
    ("add", np.ones(3, np.float32), np.array([2.0 ** -24 * (1 + 2.0 ** -26), 1e-3, 0.0])),  # float64 sums
    ("subtract", np.zeros(3, np.float32), 0.1),                              # a Python float: float32
    # the other binary ufuncs: NumPy's own .at runs them
    ("fmax", np.array([1.0, np.nan, 3.0]), np.array([np.nan, 2.0, 5.0])),   # NaN ignored, as fmax's
    ("fmin", np.array([1.0, np.nan, 3.0], np.float32), np.array([0.5, np.nan, 9.0], np.float32)),
    ("bitwise_or", np.array([1, 2, 4], np.int32), np.array([8, 16, 3], np.int32)),
    ("bitwise_xor", np.array([7, 0, 1], np.uint8), np.array([1, 1, 1], np.uint8)),
    ("logical_or", np.array([0, 2, 0], np.int8), np.array([0, 0, 5], np.int8)),
])
def test_ufunc_at_as_numpy(ufunc_name, target, values):
    idx = np.array([0, 1, 1])
    fn = at_with(ufunc_name)
    got = compiled(fn)(target.copy(), idx, values)
    want = fn(target.copy(), idx, values)
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)


def test_a_dtype_numpys_at_refuses_raises_numpys_error():
    f = tracejit.compile(at_with("bitwise_or"))
    x = np.zeros(3)
    with pytest.raises(TypeError):
        f(x, np.array([0, 1]), np.array([1.0, 2.0]))
    np.testing.assert_array_equal(x, np.zeros(3))


def at_basic(x, v):
    np.add.at(x, 2, v)                     # an int index: each element once
    np.multiply.at(x, (slice(1, 3),), 0.5)
    np.maximum.at(x, slice(None, None, 2), v)
    return x


@pytest.mark.parametrize("target, v", [(np.arange(5.0), 1.5), (np.arange(5), 1.5), (np.arange(10.0).reshape(5, 2), 3.0)])
def test_at_with_a_basic_index_as_numpy(target, v):
    got = compiled(at_basic)(target.copy(), v)
    want = at_basic(target.copy(), v)
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)
