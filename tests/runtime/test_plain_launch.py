"""The short launch path of Numba kernels (``NumbaKernel._run_plain``).

After a kernel's first launch has measured it small, later launches skip most of
``launch``'s checks. These tests make sure that path is really taken, that it gives
NumPy's results, and that every case it does not serve (a strided argument, an output
written into its input, a product too mixed to compute itself, an exception inside the
kernel) still goes the general way with the right result.
"""
import numpy as np
import pytest

import tracejit
from tracejit.codegen import numba_backend
from tracejit.runtime import plan_source


@pytest.fixture
def rng():
    return np.random.default_rng(20261203)


@pytest.fixture
def plain_runs(monkeypatch):
    """How many launches the short path served, and how many it handed back (plans run
    through their steps: a generated runner, ``test_plan_source.py``, calls no launch)."""
    monkeypatch.setattr(plan_source, "ENABLED", False)
    counts = {"served": 0, "declined": 0}
    original = numba_backend.NumbaKernel._run_plain

    def counting(self, inputs, outputs, launch):
        served = original(self, inputs, outputs, launch)
        counts["served" if served else "declined"] += 1
        return served
    monkeypatch.setattr(numba_backend.NumbaKernel, "_run_plain", counting)
    return counts


def test_repeated_elementwise_calls_take_the_short_path(plain_runs, rng):
    f = tracejit.compile(lambda x, y: np.exp(x) * y + 1.0)
    x, y = rng.standard_normal((2, 37)).astype(np.float32)
    for k in range(4):
        np.testing.assert_allclose(f(x + k, y), np.exp(x + k) * y + 1.0, rtol=2e-6, atol=4e-6)
    assert plain_runs["served"] >= 3 and plain_runs["declined"] == 0


def test_a_matmul_epilogue_computes_its_product_on_the_short_path(plain_runs, rng):
    f = tracejit.compile(lambda x, w, b: np.tanh(x @ w + b))
    x, w, b = rng.standard_normal((13, 9)), rng.standard_normal((9, 5)), rng.standard_normal(5)
    for k in range(3):
        np.testing.assert_allclose(f(x * k, w, b), np.tanh((x * k) @ w + b), rtol=1e-12, atol=1e-12)
    assert plain_runs["served"] >= 2


def test_a_product_of_mixed_dtypes_goes_the_general_way(plain_runs, rng):
    f = tracejit.compile(lambda x, w: np.maximum(x @ w, 0))
    x, w = rng.standard_normal((6, 4)).astype(np.float32), rng.standard_normal((4, 3))
    for _ in range(3):
        result = f(x, w)
        assert result.dtype == np.float64
        np.testing.assert_allclose(result, np.maximum(x @ w, 0), rtol=1e-6)


def test_a_strided_argument_after_contiguous_ones(plain_runs, rng):
    f = tracejit.compile(lambda x: np.sqrt(np.abs(x)) * 3.0)
    x = rng.standard_normal(40)
    f(x), f(x)
    served = plain_runs["served"]
    strided = rng.standard_normal(80)[::2]
    np.testing.assert_allclose(f(strided), np.sqrt(np.abs(strided)) * 3.0, rtol=1e-15)
    np.testing.assert_allclose(f(x), np.sqrt(np.abs(x)) * 3.0, rtol=1e-15)
    assert plain_runs["served"] > served


def test_an_exception_raised_inside_the_kernel_on_the_short_path(plain_runs):
    f = tracejit.compile(lambda t, i: t[i] * 2.0, fullgraph=True)
    table = np.arange(12.0).reshape(4, 3)
    for _ in range(2):
        np.testing.assert_array_equal(f(table, np.array([0, -4, 3])), table[[0, -4, 3]] * 2.0)
    with pytest.raises(IndexError):
        f(table, np.array([1, 4, 0]))
    np.testing.assert_array_equal(f(table, np.array([2, 1, 0])), table[[2, 1, 0]] * 2.0)


def test_a_kernel_that_writes_into_its_argument(plain_runs, rng):
    def step(x, g):
        x -= 0.5 * g
        return x.sum()
    f = tracejit.compile(step)
    x, g = rng.standard_normal(64), rng.standard_normal(64)
    expected_x = x.copy()
    for _ in range(4):
        total = f(x, g)
        expected_x -= 0.5 * g
        np.testing.assert_allclose(x, expected_x, rtol=1e-15)
        np.testing.assert_allclose(total, expected_x.sum(), rtol=1e-12)
