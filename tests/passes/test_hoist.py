"""Loop-invariant code motion (passes/hoist.py): work a rolled loop's body does on values
the loop never changes runs once, in front of the loop, with NumPy's results."""
import numpy as np
import pytest

import tracejit
from tracejit.runtime.plan import KernelStep, LoopStep

TRIPS = 40      # enough for the trace's repeated blocks to be rolled into a loop (roll.MIN_NODES)


def _plan(f):
    specs = next(iter(f._cache.values()))
    return specs[0].plan


def _loop_and_outside(f):
    plan = _plan(f)
    loops = [s for s in plan.steps if type(s) is LoopStep]
    assert len(loops) == 1, "the loop was not rolled"
    outside = [s for s in plan.steps if type(s) is KernelStep]
    return loops[0], outside


def _matmul_kernels(steps):
    return [s for s in steps if type(s) is KernelStep and s.kernel.matmul is not None]


@pytest.fixture
def rng():
    return np.random.default_rng(1203)


def gram_descent(a, b, w, lr):
    for _ in range(TRIPS):
        w = w - lr * ((a.T @ a) @ w - a.T @ b)
    return w


def test_products_of_invariant_arrays_move_out_of_the_loop(rng):
    a, b, w = rng.standard_normal((30, 8)), rng.standard_normal(30), np.zeros(8)
    f = tracejit.compile(gram_descent)
    np.testing.assert_allclose(f(a, b, w, 0.01), gram_descent(a, b, w, 0.01), rtol=1e-12, atol=1e-14)
    loop, outside = _loop_and_outside(f)
    assert len(_matmul_kernels(loop.body.steps)) == 1          # (a.T @ a) @ w alone stays
    assert len(_matmul_kernels(outside)) == 2                   # a.T @ a and a.T @ b, once
    np.testing.assert_allclose(f(a * 2, b, w, 0.005), gram_descent(a * 2, b, w, 0.005), rtol=1e-12, atol=1e-14)


def relax_towards_a_source(u, x, dt):
    for _ in range(TRIPS):
        u = u + dt * (np.sin(x) * np.exp(-x * x) - u)
    return u


def test_expensive_elementwise_work_on_an_invariant_runs_once(rng):
    u, x = rng.standard_normal(50), rng.standard_normal(50) * 3
    f = tracejit.compile(relax_towards_a_source)
    np.testing.assert_allclose(f(u, x, 0.1), relax_towards_a_source(u, x, 0.1), rtol=1e-13, atol=1e-15)
    loop, outside = _loop_and_outside(f)
    inside = [op.op.name for s in loop.body.steps if type(s) is KernelStep for op in s.region.nodes]
    assert "sin" not in inside and "exp" not in inside
    assert any(n.op.name == "sin" for s in outside for n in s.region.nodes)


def carried_becomes_invariant_work(x):
    w, total = np.zeros(6), 0.0
    for _ in range(TRIPS):
        w[1:3] += 1.0                  # written into the carried array...
        total = total + w.sum()
        w = x * 2.0                    # ...which each trip is new work on x
    return w, total


def carried_becomes_a_view_of_invariant_work(x):
    w, total = np.zeros(6), 0.0
    for _ in range(TRIPS):
        w[1:3] += 1.0
        total = total + w.sum()
        w = (x * 2.0)[::-1]            # the same, through a view
    return w, total


@pytest.mark.parametrize("fn", [carried_becomes_invariant_work, carried_becomes_a_view_of_invariant_work])
def test_a_loop_result_is_never_the_hoisted_array_itself(rng, fn):
    x = rng.standard_normal(6)
    f = tracejit.compile(fn, fullgraph=True)
    for _ in range(3):
        (w, total), (w_want, total_want) = f(x), fn(x)
        np.testing.assert_array_equal(w, w_want)
        np.testing.assert_allclose(total, total_want, rtol=1e-13)
    _loop_and_outside(f)


def stacked_invariant_rows(x, y):
    rows = []
    for k in range(TRIPS):
        y = y * 0.5 + np.tanh(x).sum()
        rows.append(np.cos(x) + y)
    return np.stack(rows), y


def test_per_trip_results_built_on_hoisted_work(rng):
    x, y = rng.standard_normal(7), rng.standard_normal(7)
    f = tracejit.compile(stacked_invariant_rows)
    got, want = f(x, y), stacked_invariant_rows(x, y)
    for g, w in zip(got, want):
        assert g.shape == w.shape and g.dtype == w.dtype
        np.testing.assert_allclose(g, w, rtol=1e-13, atol=1e-14)


def nested_loops_with_invariant_inner_work(a, v):
    for _ in range(6):
        for _ in range(8):
            v = np.tanh(a @ v) + np.cos(a).sum(axis=1)
    return v


def test_nested_loops(rng):
    a, v = rng.standard_normal((9, 9)) * 0.3, rng.standard_normal(9)
    f = tracejit.compile(nested_loops_with_invariant_inner_work)
    np.testing.assert_allclose(f(a, v), nested_loops_with_invariant_inner_work(a, v), rtol=1e-12, atol=1e-13)
