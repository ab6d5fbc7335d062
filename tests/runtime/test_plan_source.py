"""Generated runners for loop bodies (``runtime/plan_source.py``).

After a rolled loop's body has run once, its trips run through Python source written
for that body, with the kernels' native entries called straight. These tests check
that the runner is really made and takes the launches, that every result and every
buffer the caller holds stay NumPy's, and that each case the runner hands back (a
strided argument, an exception inside a kernel, a concurrent call, a copy of the plan
for a new size) goes the general way with the right result.
"""
import threading

import numpy as np
import pytest

import tracejit
from tracejit.runtime import plan, plan_source


@pytest.fixture
def rng():
    return np.random.default_rng(20261204)


@pytest.fixture
def spy(monkeypatch):
    """The runners made, and how many kernel steps ran through ``KernelStep.run``."""
    seen = {"runners": [], "general": 0}
    make, general = plan_source.runner_for, plan.KernelStep.run

    def making(*args):
        runner = make(*args)
        seen["runners"].append(runner)
        return runner

    def counting(self, *args, **kwargs):
        seen["general"] += 1
        return general(self, *args, **kwargs)
    monkeypatch.setattr(plan_source, "runner_for", making)
    monkeypatch.setattr(plan.KernelStep, "run", counting)
    monkeypatch.setenv("TRACEJIT_PLAN_CACHE", "0")
    return seen


def logistic_regression(w, x, y, lr):
    for _ in range(40):
        p = 1 / (1 + np.exp(-(x @ w)))
        w = w - lr * (x.T @ (p - y)) / len(y)
    return w


def _problem(rng, n=300, d=8):
    return np.zeros(d), rng.random((n, d)), (rng.random(n) > 0.5).astype(float), 0.1


def test_a_loop_of_matmul_epilogues_runs_through_its_runner(spy, rng):
    f = tracejit.compile(logistic_regression)
    w, x, y, lr = _problem(rng)
    np.testing.assert_allclose(f(w, x, y, lr), logistic_regression(w, x, y, lr), rtol=1e-12, atol=1e-14)
    runners = [r for r in spy["runners"] if r is not None]
    assert len(runners) == 1
    assert "matmul(" in runners[0].source and "entry" in runners[0].source
    before = spy["general"]
    for k in range(3):
        x2 = x * (1 + k / 10)
        np.testing.assert_allclose(f(w, x2, y, lr * k), logistic_regression(w, x2, y, lr * k),
                                   rtol=1e-12, atol=1e-14)
    assert spy["general"] == before            # no trip took the general launch
    assert len(spy["runners"]) == 1            # made once


def test_results_the_caller_keeps_are_not_overwritten_by_later_calls(spy, rng):
    def relax(u, a):
        for _ in range(50):
            u = 0.5 * (u + np.tanh(a @ u))
        return u, u * 2.0
    f = tracejit.compile(relax)
    a = rng.standard_normal((24, 24)) / 5
    kept = []
    for k in range(4):
        u = rng.standard_normal(24)
        kept.append((u.copy(), f(u, a)))
    for u, (first, second) in kept:
        expected = relax(u, a)
        np.testing.assert_allclose(first, expected[0], rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(second, expected[1], rtol=1e-12, atol=1e-14)
    assert any(r is not None for r in spy["runners"])


def test_a_strided_argument_goes_the_general_way(spy, rng):
    f = tracejit.compile(logistic_regression)
    w, x, y, lr = _problem(rng)
    f(w, x, y, lr), f(w, x, y, lr)
    before = spy["general"]
    wide = rng.random((x.shape[0], 2 * x.shape[1]))
    strided = wide[:, ::2]                      # same shape, other strides: the same plan, new entries
    np.testing.assert_allclose(f(w, strided, y, lr), logistic_regression(w, strided, y, lr), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(f(w, x, y, lr), logistic_regression(w, x, y, lr), rtol=1e-12, atol=1e-14)
    assert spy["general"] >= before


def test_an_exception_inside_a_kernel_of_the_runner(spy):
    def walk(total, table, pos, step):
        for _ in range(100):
            total = np.tanh(total * 0.5 + table[pos]) * 1.5 - 0.25
            pos = pos + step
        return total, pos
    f = tracejit.compile(walk, fullgraph=True)
    table = np.arange(12.0).reshape(4, 3)
    start, still = np.array([0, -4, 3]), np.zeros(3, dtype=np.int64)
    for _ in range(2):
        for got, expected in zip(f(np.zeros((3, 3)), table, start, still), walk(np.zeros((3, 3)), table, start, still)):
            np.testing.assert_allclose(got, expected, rtol=1e-15)
    assert any(r is not None and "entry" in r.source for r in spy["runners"])
    with pytest.raises(IndexError):           # out of range at the fourth trip
        f(np.zeros((3, 3)), table, start, np.array([0, 1, 0]))
    for got, expected in zip(f(np.zeros((3, 3)), table, start, still), walk(np.zeros((3, 3)), table, start, still)):
        np.testing.assert_allclose(got, expected, rtol=1e-15)


def test_a_strided_argument_to_a_flat_kernel(spy, rng):
    def smooth(u, v):
        for _ in range(60):
            u = np.tanh(u * 0.5 + v) * 1.25
        return u
    f = tracejit.compile(smooth)
    u, v = rng.standard_normal((6, 7)), rng.standard_normal((6, 7))
    f(u, v), f(u, v)
    assert any(r is not None and "reshape(-1)" in r.source for r in spy["runners"])
    wide = rng.standard_normal((6, 14))
    for k in range(2):
        np.testing.assert_allclose(f(u, wide[:, k::2]), smooth(u, wide[:, k::2]), rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(f(u, v), smooth(u, v), rtol=1e-13, atol=1e-14)


def test_per_trip_operands_tables_and_stacked_results(spy, rng):
    def trajectory(x, rows):
        out = []
        for i in range(48):
            x = np.sin(x) * 0.9 + rows[i] * (i + 1)
            out.append(x.sum())
        return x, np.stack(out)
    f = tracejit.compile(trajectory)
    for k in range(3):
        x, rows = rng.standard_normal(16), rng.standard_normal((48, 16))
        got, expected = f(x, rows), trajectory(x, rows)
        np.testing.assert_allclose(got[0], expected[0], rtol=1e-12, atol=1e-13)
        np.testing.assert_allclose(got[1], expected[1], rtol=1e-11, atol=1e-12)
    assert any(r is not None for r in spy["runners"])


def test_concurrent_calls_of_one_loop(spy, rng):
    f = tracejit.compile(logistic_regression)
    w, x, y, lr = _problem(rng)
    f(w, x, y, lr)
    problems = [(w, x * (1 + k / 7), y, lr) for k in range(4)]
    expected = [logistic_regression(*p) for p in problems]
    got, errors = [None] * 4, []

    def work(k):
        try:
            for _ in range(5):
                got[k] = f(*problems[k])
                np.testing.assert_allclose(got[k], expected[k], rtol=1e-12, atol=1e-14)
        except Exception as exc:   # noqa: BLE001  (reported below)
            errors.append(exc)
    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert any(r is not None for r in spy["runners"])


def test_new_sizes_of_a_shape_family_make_runners_of_their_own(spy, rng):
    f = tracejit.compile(logistic_regression)
    for n in (200, 260, 230, 240, 210):
        w, x, y, lr = _problem(rng, n=n)
        for _ in range(2):
            np.testing.assert_allclose(f(w, x, y, lr), logistic_regression(w, x, y, lr), rtol=1e-12, atol=1e-14)
    made = [r for r in spy["runners"] if r is not None]
    assert len(made) >= 4


def test_a_loop_inside_a_loop(spy, rng):
    def nested(u, a):
        for _ in range(6):
            for _ in range(45):
                u = np.tanh(a @ u) + 0.1
            u = u / np.abs(u).max()
        return u
    f = tracejit.compile(nested)
    a = rng.standard_normal((10, 10)) / 3
    for k in range(3):
        u = rng.standard_normal(10)
        np.testing.assert_allclose(f(u, a), nested(u, a), rtol=1e-11, atol=1e-13)
    assert any(r is not None for r in spy["runners"])
