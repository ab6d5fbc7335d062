"""Generated plan runners (``runtime/plan_source.py``).

After a plan (a function's, or a rolled loop's body) has run once, it runs through
Python source written for it, with the kernels' native entries called straight. These tests check
that the runner is really made and takes the launches, that every result and every
buffer the caller holds stay NumPy's, and that each case the runner hands back (a
strided argument, an exception inside a kernel, a concurrent call, a copy of the plan
for a new size) goes the general way with the right result.
"""
import threading

import numpy as np
import pytest

import tracejit
from tracejit.codegen import numba_backend
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
    for _ in range(2):          # the body's runner is made in the first call, the plan's in the second
        np.testing.assert_allclose(f(w, x, y, lr), logistic_regression(w, x, y, lr), rtol=1e-12, atol=1e-14)
    runners = [r for r in spy["runners"] if r is not None]
    assert len(runners) == 1                    # the body's (the plan around it has a view and the loop)
    assert "matmul(" in runners[0].source and "entry" in runners[0].source
    before, made = spy["general"], len(spy["runners"])
    for k in range(3):
        x2 = x * (1 + k / 10)
        np.testing.assert_allclose(f(w, x2, y, lr * k), logistic_regression(w, x2, y, lr * k),
                                   rtol=1e-12, atol=1e-14)
    assert spy["general"] == before            # no trip took the general launch
    assert len(spy["runners"]) == made         # made once


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


# -- a function's own plan ----------------------------------------------------------

def test_repeated_calls_of_a_function_run_through_its_runner(spy, rng):
    f = tracejit.compile(lambda x, y: np.exp(x) * y + 1.0)
    x, y = rng.standard_normal((2, 37)).astype(np.float32)
    f(x, y), f(x, y)
    before = spy["general"]
    for k in range(4):
        np.testing.assert_allclose(f(x + k, y), np.exp(x + k) * y + 1.0, rtol=2e-6, atol=4e-6)
    assert spy["general"] == before
    assert any(r is not None and "entry0(" in r.source for r in spy["runners"])


def test_a_matmul_epilogue_and_a_mixed_product(spy, rng):
    f = tracejit.compile(lambda x, w, b: np.tanh(x @ w + b))
    x, w, b = rng.standard_normal((13, 9)), rng.standard_normal((9, 5)), rng.standard_normal(5)
    for k in range(3):
        np.testing.assert_allclose(f(x * k, w, b), np.tanh((x * k) @ w + b), rtol=1e-12, atol=1e-12)
    mixed = tracejit.compile(lambda x, w: np.maximum(x @ w, 0))
    x32, w64 = rng.standard_normal((6, 4)).astype(np.float32), rng.standard_normal((4, 3))
    for _ in range(3):
        result = mixed(x32, w64)
        assert result.dtype == np.float64
        np.testing.assert_allclose(result, np.maximum(x32 @ w64, 0), rtol=1e-6)


def test_results_the_caller_keeps_from_a_function(spy, rng):
    f = tracejit.compile(lambda x: (np.sqrt(np.abs(x)) * 3.0, x * x))
    inputs = [rng.standard_normal((5, 8)) for _ in range(4)]
    kept = [f(x) for x in inputs]
    for x, (root, square) in zip(inputs, kept):
        np.testing.assert_allclose(root, np.sqrt(np.abs(x)) * 3.0, rtol=1e-15)
        np.testing.assert_allclose(square, x * x, rtol=1e-15)


def test_a_strided_argument_of_a_function(spy, rng):
    f = tracejit.compile(lambda x: np.sqrt(np.abs(x)) * 3.0)
    x = rng.standard_normal((6, 40))
    f(x), f(x)
    strided = rng.standard_normal((6, 80))[:, ::2]
    np.testing.assert_allclose(f(strided), np.sqrt(np.abs(strided)) * 3.0, rtol=1e-15)
    np.testing.assert_allclose(f(x), np.sqrt(np.abs(x)) * 3.0, rtol=1e-15)


def test_an_exception_in_a_function_is_numpys_and_the_next_call_is_right(spy):
    f = tracejit.compile(lambda t, i: t[i] * 2.0)
    table = np.arange(12.0).reshape(4, 3)
    for _ in range(2):
        np.testing.assert_array_equal(f(table, np.array([0, -4, 3])), table[[0, -4, 3]] * 2.0)
    assert any(r is not None for r in spy["runners"])
    with pytest.raises(IndexError) as raised:
        f(table, np.array([1, 4, 0]))
    # nothing was written (a pure function): NumPy ran and raised its own error
    assert not any("may have written" in note for note in getattr(raised.value, "__notes__", []))
    np.testing.assert_array_equal(f(table, np.array([2, 1, 0])), table[[2, 1, 0]] * 2.0)


def test_an_exception_before_a_write_into_an_argument(spy):
    # the gather runs first and fails: the runner says so (the failed step), so the
    # caller knows nothing was written and runs NumPy, which writes x and then raises
    def step(x, t, i):
        x += 1.0
        return t[i] * x[0]
    f = tracejit.compile(step)
    x, table = np.zeros(3), np.arange(12.0).reshape(4, 3)
    expected_x = x.copy()
    for _ in range(3):
        np.testing.assert_array_equal(f(x, table, np.array([0, 3])), step(expected_x, table, np.array([0, 3])))
        np.testing.assert_array_equal(x, expected_x)
    with pytest.raises(IndexError):
        f(x, table, np.array([1, 4]))
    with pytest.raises(IndexError):
        step(expected_x, table, np.array([1, 4]))
    np.testing.assert_array_equal(x, expected_x)          # written once, as NumPy wrote it


def test_a_kernel_of_no_inputs(spy):
    def grid(x):
        return x + 1.0, np.zeros(6)
    f = tracejit.compile(grid)
    for k in range(3):
        for got, expected in zip(f(np.full(4, float(k))), grid(np.full(4, float(k)))):
            np.testing.assert_allclose(got, expected, rtol=1e-15)
    assert any(r is not None and "if True:" in r.source for r in spy["runners"])


def test_a_large_product_uses_the_kernels_buffer_and_results_stay_the_callers(spy, rng, monkeypatch):
    # a first launch on a busy machine may measure long enough to go parallel (no runner then)
    monkeypatch.setattr(numba_backend, "PARALLEL_MIN_SECONDS", 1.0)
    f = tracejit.compile(lambda a, b: (a @ b) * 0.5 + 1.0)
    a, b = rng.standard_normal((270, 4)), rng.standard_normal((4, 270))     # 72,900 products
    kept = [(k, f(a * k, b)) for k in range(4)]
    for k, result in kept:
        np.testing.assert_allclose(result, ((a * k) @ b) * 0.5 + 1.0, rtol=1e-12, atol=1e-12)
    source = next(r.source for r in spy["runners"] if r is not None)
    assert "product0((" in source and "products0" not in source


def test_a_flat_kernel_only_ever_given_strided_arguments_does_not_hold_back_the_runner(spy, rng):
    def two(u, w):
        return u * 2.0 + 1.0, np.exp(w)
    f = tracejit.compile(two)
    wide, w = rng.standard_normal((6, 14)), rng.standard_normal(9)
    for k in range(3):                 # u's flat form never runs: u is never C-contiguous
        u = (wide + k)[:, ::2]
        for got, expected in zip(f(u, w), two(u, w)):
            np.testing.assert_allclose(got, expected, rtol=1e-15)
    assert any(r is not None and "entry1(" in r.source for r in spy["runners"])
