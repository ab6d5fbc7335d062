"""Stored plans (tracejit/runtime/plan_store.py): a second compile of a traced graph the
cache has seen loads its plan instead of running the passes and code generators, and
that plan computes what NumPy does, state included: writes into arguments, loops,
row-tiled chains, library steps, window writes and object state. The store is keyed
by everything the plan depends on (the graph, the call's layouts and writes, tracejit's
own source), damaged files are recompiled, and the cache commands see the plans.

Within one process the second ``tracejit.compile`` of a function goes through the
stored file exactly as a new process would (its kernels are this process's, as a new
process's are its own); ``tests/codegen/test_native_cache.py`` checks a real second process.
"""
from __future__ import annotations

import numpy as np
import pytest

import tracejit
from tracejit.codegen import cache_dir, numba_backend, numba_chain
from tracejit.ir import TensorType
from tracejit.runtime import plan_store
from tracejit.runtime.backends import choose_backend
from tracejit.runtime.compilation import compile_function
from tests.runtime.eager_check import make_module

PROGRAMS = """
import numpy as np

def layer(x, g, b):
    m = x.mean(-1, keepdims=True)
    v = ((x - m) ** 2).mean(-1, keepdims=True)
    y = (x - m) / np.sqrt(v + 1e-5) * g + b
    e = np.exp(y - y.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)

def accumulate(total, x):
    total += np.tanh(x) * 0.5
    total[0] = -1.0
    return total.sum()

class Momentum:
    def __init__(self, n):
        self.v = np.zeros(n)
        self.steps = 0

    def step(self, w, g):
        self.v = 0.9 * self.v + g
        self.steps += 1
        return w - 0.1 * self.v

opt = Momentum(300)

def momentum_step(w, g):
    return opt.step(w, g)

def descent(a, b, w, lr):
    for _ in range(60):
        w = w - lr * (a.T @ (a @ w - b))
    return w

def attention(q, k, v):
    s = q @ k.swapaxes(-1, -2) / 8.0
    e = np.exp(s - s.max(axis=-1, keepdims=True))
    return (e / e.sum(axis=-1, keepdims=True)) @ v

def sorted_scores(x):
    return np.sort(np.exp(x) - 1.0, axis=-1)

def running_rows(u):
    for i in range(1, 80):
        u[i] = u[i - 1] * 0.5 + u[i]
    return u
"""


def _arguments(name, rng):
    def r(*shape):
        return rng.standard_normal(shape)
    return {"layer": lambda: (r(37, 50).astype(np.float32), r(50).astype(np.float32), r(50).astype(np.float32)),
            "accumulate": lambda: (r(20, 30), r(20, 30)),
            "momentum_step": lambda: (r(300), r(300)),
            "descent": lambda: (r(90, 12), r(90), np.zeros(12), 0.001),
            "attention": lambda: (r(2, 40, 16), r(2, 40, 16), r(2, 40, 16)),
            "sorted_scores": lambda: (r(13, 21),),
            "running_rows": lambda: (r(80, 7),)}[name]


def _same(got, want):
    if isinstance(want, tuple):
        for g, w in zip(got, want):
            _same(g, w)
        return
    got, want = np.asarray(got), np.asarray(want)
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=2e-5 if want.dtype == np.float32 else 1e-9, atol=1e-6)


@pytest.fixture
def small_chains(monkeypatch):
    monkeypatch.setattr(numba_chain, "MIN_BYTES", 0)


@pytest.mark.parametrize("name", ["layer", "accumulate", "momentum_step", "descent", "attention",
                                  "sorted_scores", "running_rows"])
def test_a_second_compile_loads_the_stored_plan_and_agrees_with_numpy(name, small_chains, monkeypatch):
    eager, compiled = make_module(PROGRAMS, "eager"), make_module(PROGRAMS, "compiled")
    fn = getattr(compiled, name)
    first = tracejit.compile(fn, backend="numba", fullgraph=True)
    second = tracejit.compile(fn, backend="numba", fullgraph=True)
    make = _arguments(name, np.random.default_rng(7))
    slow = []
    original_slow_path = numba_backend.NumbaKernel._run_slowly
    monkeypatch.setattr(numba_backend.NumbaKernel, "_run_slowly",
                        lambda kernel, args: slow.append(kernel.name) or original_slow_path(kernel, args))
    for f in (first, second, second):
        slow.clear()
        mine = make()
        theirs = tuple(np.copy(a) if isinstance(a, np.ndarray) else a for a in mine)
        _same(f(*mine), getattr(eager, name)(*theirs))
        for a, b in zip(mine, theirs):          # the arguments, written or not
            _same(a, b)
        if name == "momentum_step":             # the object's state
            _same(compiled.opt.v, eager.opt.v)
            assert compiled.opt.steps == eager.opt.steps
    # the loaded plan's launches take the native entries' fast path: its dtypes are
    # NumPy's own objects, which the entries check by identity (a pickled copy fails it)
    assert slow == []
    stages = second.compiles[0].stages
    assert "stored plan" in stages and "passes" not in stages and "codegen" not in stages
    kernels = lambda f: [k for spec in f.specializations() for k in spec.plan.kernels]   # noqa: E731
    assert kernels(second) and [k.name for k in kernels(second)] == [k.name for k in kernels(first)]
    assert all(a is b for a, b in zip(kernels(first), kernels(second)))   # one kernel object per code


def test_a_stored_plan_shows_every_pass_in_its_stages(tmp_path, monkeypatch):
    monkeypatch.setenv("TRACEJIT_CACHE_DIR", str(tmp_path))      # nothing stored yet (no kernel runs)
    compiled = make_module(PROGRAMS, "compiled")
    backend = choose_backend("numba", set())
    row = TensorType((50,), np.dtype(np.float32))
    args = (TensorType((37, 50), np.dtype(np.float32)), row, row)
    fresh = compile_function(compiled.layer, args, {}, backend, name="layer")
    stored = compile_function(compiled.layer, args, {}, backend, name="layer")
    assert "stored plan" in stored.seconds and "passes" in fresh.seconds
    assert stored.stages() == fresh.stages() and len(fresh.stages()) >= 3


def test_other_layouts_and_other_tracejit_sources_never_share_a_plan(monkeypatch):
    compiled, eager = make_module(PROGRAMS, "compiled"), make_module(PROGRAMS, "eager")
    keys = []
    original = plan_store.plan_key
    monkeypatch.setattr(plan_store, "plan_key", lambda *a: keys.append(original(*a)) or keys[-1])
    x = np.random.default_rng(1).standard_normal((20, 30))
    for order in ("C", "F", "C"):
        f = tracejit.compile(compiled.accumulate, backend="numba")
        total, want = np.zeros((20, 30), order=order), np.zeros((20, 30))
        _same(f(total, x), eager.accumulate(want, x))
        _same(total, want)
    assert keys[0] == keys[2] != keys[1]             # F order: a plan of its own
    assert "stored plan" in f.compiles[0].stages
    monkeypatch.setattr(plan_store, "fingerprint", lambda: b"another tracejit")
    tracejit.compile(compiled.accumulate, backend="numba")(np.zeros((20, 30)), x)
    assert keys[3] not in keys[:3]


def tanh_plus_one_for_the_store(x):
    return np.tanh(x) + 1.0


def double_for_the_store(x):
    return x * 2.0


def add_for_the_store(x):
    return x + 100.0


def test_a_plan_file_under_another_plans_name_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("TRACEJIT_CACHE_DIR", str(tmp_path))
    x = np.arange(4.0)
    tracejit.compile(double_for_the_store, backend="numba")(x)
    [doubled] = list((tmp_path / plan_store.FOLDER).iterdir())
    tracejit.compile(add_for_the_store, backend="numba")(x)
    [added] = [p for p in (tmp_path / plan_store.FOLDER).iterdir() if p != doubled]
    added.write_bytes(doubled.read_bytes())               # a whole, valid plan: of another function
    again = tracejit.compile(add_for_the_store, backend="numba")
    np.testing.assert_array_equal(again(x), x + 100.0)
    assert "stored plan" not in again.compiles[0].stages


@pytest.mark.parametrize("damage", ["empty", "truncated", "garbage", "other format", "edited payload"])
def test_a_damaged_plan_file_is_compiled_again_and_replaced(tmp_path, monkeypatch, damage):
    monkeypatch.setenv("TRACEJIT_CACHE_DIR", str(tmp_path))
    x = np.linspace(-2, 2, 600).reshape(20, 30)
    tracejit.compile(tanh_plus_one_for_the_store, backend="numba")(x)
    [path] = list((tmp_path / plan_store.FOLDER).iterdir())
    good = path.read_bytes()
    header = len(plan_store.MAGIC) + 64
    path.write_bytes({"empty": b"", "truncated": good[:len(good) // 2], "garbage": b"\x80\x05garbage" * 40,
                      "other format": b"tracejit-plan 0\n" + good[len(plan_store.MAGIC):],
                      "edited payload": good[:header] + bytes([good[header] ^ 1]) + good[header + 1:]}[damage])
    again = tracejit.compile(tanh_plus_one_for_the_store, backend="numba")
    np.testing.assert_allclose(again(x), np.tanh(x) + 1.0, rtol=1e-14)
    assert "stored plan" not in again.compiles[0].stages and "passes" in again.compiles[0].stages
    third = tracejit.compile(tanh_plus_one_for_the_store, backend="numba")        # written anew
    np.testing.assert_allclose(third(x), np.tanh(x) + 1.0, rtol=1e-14)
    assert "stored plan" in third.compiles[0].stages


def test_plans_are_cache_entries_for_info_clear_and_the_size_bound(tmp_path, monkeypatch):
    monkeypatch.setenv("TRACEJIT_CACHE_DIR", str(tmp_path))
    x = np.linspace(-2, 2, 600).reshape(20, 30)
    tracejit.compile(tanh_plus_one_for_the_store, backend="numba")(x)
    plans = list((tmp_path / plan_store.FOLDER).iterdir())
    assert len(plans) == 1
    found = {stem for stem, *_ in cache_dir.entries(tmp_path)}
    assert plans[0].stem in found and len(found) >= 2          # the plan and its kernel module
    assert cache_dir.info(tmp_path)["entries"] == len(found)
    cache_dir.enforce_limit(tmp_path, limit=1)                  # over any bound: not-in-use entries go
    assert not plans[0].exists()
    tracejit.compile(tanh_plus_one_for_the_store, backend="numba")(x)
    assert cache_dir.clear(tmp_path) >= 2 and not (tmp_path / plan_store.FOLDER).exists()


def test_turned_off_nothing_is_stored(tmp_path, monkeypatch):
    monkeypatch.setenv("TRACEJIT_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("TRACEJIT_PLAN_CACHE", "0")
    x = np.linspace(-2, 2, 600).reshape(20, 30)
    np.testing.assert_allclose(tracejit.compile(tanh_plus_one_for_the_store, backend="numba")(x),
                               np.tanh(x) + 1.0, rtol=1e-14)
    assert not (tmp_path / plan_store.FOLDER).exists()


def test_a_graph_larger_than_the_bound_is_not_stored(tmp_path, monkeypatch):
    monkeypatch.setenv("TRACEJIT_CACHE_DIR", str(tmp_path))
    x = np.linspace(-2, 2, 600).reshape(20, 30)
    bound = plan_store.MAX_GRAPH_BYTES
    monkeypatch.setattr(plan_store, "MAX_GRAPH_BYTES", 100)       # smaller than any graph
    np.testing.assert_allclose(tracejit.compile(tanh_plus_one_for_the_store, backend="numba")(x),
                               np.tanh(x) + 1.0, rtol=1e-14)
    assert not (tmp_path / plan_store.FOLDER).exists()
    monkeypatch.setattr(plan_store, "MAX_GRAPH_BYTES", bound)
    np.testing.assert_allclose(tracejit.compile(tanh_plus_one_for_the_store, backend="numba")(x),
                               np.tanh(x) + 1.0, rtol=1e-14)
    assert len(list((tmp_path / plan_store.FOLDER).iterdir())) == 1


def test_a_plan_that_cannot_be_written_leaves_no_partial_file(tmp_path, monkeypatch):
    monkeypatch.setenv("TRACEJIT_CACHE_DIR", str(tmp_path))
    real_fdopen = plan_store.os.fdopen

    class FullDisk:
        def __init__(self, fd, mode):
            self.handle = real_fdopen(fd, mode)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.handle.close()

        def write(self, data):
            self.handle.write(data[:10])
            raise OSError(28, "No space left on device")
    x = np.linspace(-2, 2, 600).reshape(20, 30)
    monkeypatch.setenv("TRACEJIT_PLAN_CACHE", "0")        # the kernel's own files written first
    tracejit.compile(tanh_plus_one_for_the_store, backend="numba")(x)
    monkeypatch.delenv("TRACEJIT_PLAN_CACHE")
    monkeypatch.setattr(plan_store.os, "fdopen", FullDisk)    # then only the plan is written
    np.testing.assert_allclose(tracejit.compile(tanh_plus_one_for_the_store, backend="numba")(x),
                               np.tanh(x) + 1.0, rtol=1e-14)
    assert list((tmp_path / plan_store.FOLDER).iterdir()) == []       # no partial .tmp file
