"""Row functions (tracejit/codegen/row_functions.py): a row kernel whose rows held at
least MIN_ROW_POINTS points when traced (and its domain MIN_POINTS, lowered here so the
tests stay small), with math helpers in its row loop, runs each row through a function
of its own. Its results, its errors (raised inside the row function) and the caller's
arrays it writes are NumPy's; shorter rows, small domains and loops without math
helpers keep the loop inline."""
from __future__ import annotations

import numpy as np
import pytest

import tracejit
from tracejit.codegen import row_functions
from tracejit.codegen.row_functions import MIN_ROW_POINTS, split_rows

F32 = np.float32
ROW = MIN_ROW_POINTS + 37          # rows long enough, and not a multiple of the vector width


@pytest.fixture(autouse=True)
def small_domains_count(monkeypatch):
    monkeypatch.setattr(row_functions, "MIN_POINTS", 0)


def kernel_sources(f):
    return [s.kernel.source for s in f.specializations()[-1].plan.steps if hasattr(s, "kernel")]


def softmax(x):
    e = np.exp(x - np.max(x, axis=-1, keepdims=True))
    return e / np.sum(e, axis=-1, keepdims=True)


def layer(x, g, b):
    m = x.mean(-1, keepdims=True)
    v = ((x - m) ** 2).mean(-1, keepdims=True)
    return (x - m) / np.sqrt(v + 1e-5) * g + b, np.cumsum(x, axis=-1), np.argmax(x, axis=-1)


def compare(f, *args, rtol=2e-5, atol=2e-6):
    got = tracejit.compile(f, fullgraph=True)(*args)
    with np.errstate(all="ignore"):
        want = f(*args)
    for g, w in zip(got if isinstance(got, tuple) else (got,), want if isinstance(want, tuple) else (want,)):
        assert g.dtype == w.dtype and g.shape == w.shape
        np.testing.assert_allclose(g, w, rtol=rtol, atol=atol, equal_nan=True)


@pytest.mark.parametrize("shape", [(5, ROW), (2, 3, ROW)])
def test_row_kernels_give_numpys_results(shape):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape).astype(F32)
    x[0, ..., 3] = np.inf
    x[-1, ..., 0] = np.nan
    compare(softmax, x)
    g, b = rng.standard_normal(ROW).astype(F32), rng.standard_normal(ROW).astype(F32)
    compare(layer, np.nan_to_num(x, posinf=9.0), g, b, rtol=1e-4, atol=1e-4)   # cumsum: float32 running sums
    f = tracejit.compile(softmax, fullgraph=True)
    f(x)
    assert any("_row(" in s for s in kernel_sources(f))


def test_short_rows_keep_the_loop_inline():
    f = tracejit.compile(softmax, fullgraph=True)
    x = np.random.default_rng(1).standard_normal((40, 16)).astype(F32)
    np.testing.assert_allclose(f(x), softmax(x), rtol=2e-6)
    assert not any("_row(" in s for s in kernel_sources(f))


def test_small_domains_and_loops_without_math_helpers_keep_the_loop_inline(monkeypatch):
    x = np.random.default_rng(6).standard_normal((5, ROW)).astype(F32)
    f = tracejit.compile(lambda x: x - x.mean(axis=-1, keepdims=True), fullgraph=True)
    np.testing.assert_allclose(f(x), x - x.mean(axis=-1, keepdims=True), rtol=1e-5, atol=1e-6)
    assert not any("_row(" in s for s in kernel_sources(f))           # no helper: nothing to keep out
    monkeypatch.setattr(row_functions, "MIN_POINTS", 1 << 20)
    monkeypatch.setenv("TRACEJIT_PLAN_CACHE", "0")      # a plan stored with the real MIN_POINTS would be loaded
    g = tracejit.compile(softmax, fullgraph=True)
    np.testing.assert_allclose(g(x), softmax(x), rtol=2e-6)
    assert not any("_row(" in s for s in kernel_sources(g))           # 5 x 165 points: not worth a compile


def test_a_broadcast_pointwise_nest_runs_by_rows():
    rng = np.random.default_rng(2)
    x, b = rng.standard_normal((7, ROW)).astype(F32), rng.standard_normal(ROW).astype(F32)
    f = tracejit.compile(lambda x, b: np.tanh(x + b) * x, fullgraph=True)
    np.testing.assert_allclose(f(x, b), np.tanh(x + b) * x, rtol=3e-6, atol=1e-7)
    assert any("_row(" in s for s in kernel_sources(f))


def test_errors_raised_inside_a_row_function():
    table = np.arange(ROW, dtype=np.float64)

    def gather(x, ids):
        return np.exp(x - x.max(axis=-1, keepdims=True)) * table[ids]

    f = tracejit.compile(gather, fullgraph=True)
    x = np.random.default_rng(3).standard_normal((4, ROW))
    ids = np.arange(4 * ROW).reshape(4, ROW) % ROW
    np.testing.assert_allclose(f(x, ids), gather(x, ids), rtol=1e-12)
    ids[3, ROW - 1] = ROW
    with pytest.raises(IndexError):
        f(x, ids)

    powered = tracejit.compile(lambda a, e: (a ** e).sum(axis=-1), fullgraph=True)
    a, e = np.full((3, ROW), 2), np.ones((3, ROW), dtype=np.int64)
    np.testing.assert_array_equal(powered(a, e), (a ** e).sum(axis=-1))
    e[2, 5] = -1
    with pytest.raises(ValueError, match="negative integer powers"):
        powered(a, e)


def test_in_place_row_writes_reach_the_callers_array():
    def normalize(x):
        x -= x.mean(axis=-1, keepdims=True)
        x /= np.sqrt((x * x).mean(axis=-1, keepdims=True) + 1e-6)

    f = tracejit.compile(normalize, fullgraph=True)
    x = np.random.default_rng(4).standard_normal((6, ROW)).astype(F32)
    want = x.copy()
    normalize(want)
    assert f(x) is None
    np.testing.assert_allclose(x, want, rtol=1e-5, atol=1e-6)


def test_the_split_itself():
    body = ("    t1 = np.float32(2.0)\n"
            "    for i0 in range(start, stop):\n"
            "        acc = t1\n"
            "        for i1 in range(n1):\n"
            "            acc = acc + in0[i0, i1]\n"
            "        out0[i0] = acc\n")
    row, kernel = split_rows(body, ["in0", "out0", "n1"], "k_row")
    assert "def k_row(i0, in0, out0, n1, t1):" in row and "for i1 in range(n1):" in row
    assert kernel.splitlines()[-1] == "        k_row(i0, in0, out0, n1, t1)"
    assert split_rows(body + "    out0[0] = 1\n", ["in0", "out0", "n1"], "k_row") is None   # not the last statement
    writes_outside = body.replace("        acc = t1\n", "        t1 = t1 + 1\n        acc = t1\n")
    assert split_rows(writes_outside, ["in0", "out0", "n1"], "k_row") is None
