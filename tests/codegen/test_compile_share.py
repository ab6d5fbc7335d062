"""A cold first run compiles its kernels in two processes (codegen/compile_share.py):
the helper's stored code is loaded, results are NumPy's, and a helper that fails or is
switched off leaves the main process compiling everything itself."""
import os
import tempfile

import numpy as np
import pytest

import tracejit
from tracejit.codegen import compile_share, native_cache

pytestmark = pytest.mark.skipif(not compile_share.enabled(), reason="needs os.fork and two CPUs")


@pytest.fixture(autouse=True)
def _idle_pools_of_other_tests(monkeypatch):
    """Earlier tests leave idle thread pools behind (a module-level ThreadPoolExecutor),
    which would keep the helper off, as any other thread does: they run nothing here."""
    monkeypatch.setitem(compile_share._IDLE_POOLS, "ThreadPoolExecutor", lambda: True)


def _chain(constants):
    """Kernels separated by sorts (library calls), one per constant: none fuse."""
    def f(x):
        for c in constants:
            x = np.sort(np.sin(x) * c + x * x)
        return x
    return f


def _fresh_constants(n):
    return [float(v) for v in np.random.default_rng().uniform(1.0, 2.0, n)]   # new kernels every run


def _count_compiles(monkeypatch):
    """The kernels this process compiles (the helper's compiles happen in its own copy)."""
    compiled = []
    original = native_cache.compile_and_store

    def counting(*args, **kwargs):
        compiled.append(args[1])
        return original(*args, **kwargs)
    monkeypatch.setattr(native_cache, "compile_and_store", counting)
    return compiled


def _shares():
    return {name for name in os.listdir(tempfile.gettempdir()) if name.startswith("tracejit-share-")}


def test_the_helper_compiles_part_of_a_cold_plan(tmp_path, monkeypatch):
    monkeypatch.setenv("TRACEJIT_CACHE_DIR", str(tmp_path))
    # the share directory in a temporary folder of this test's own: other tracejit
    # processes on the machine make theirs in the system's
    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    before, shares = dict(compile_share.stats), _shares()
    compiled = _count_compiles(monkeypatch)
    fn = _chain(_fresh_constants(6))
    x = np.random.default_rng(1).random(257)
    np.testing.assert_allclose(tracejit.compile(fn, backend="numba", fullgraph=True)(x), fn(x), rtol=1e-12)
    assert compile_share.stats["helpers"] == before["helpers"] + 1
    assert 1 <= len(compiled) < 6                 # at least the last kernel came from the helper
    assert _shares() == shares                                     # its directory is gone


def test_a_helper_that_dies_leaves_the_work_to_the_main_process(tmp_path, monkeypatch):
    """The helper claims the last kernel and dies before compiling it: the main process,
    waiting for it, sees the pipe close and compiles the kernel itself."""
    monkeypatch.setenv("TRACEJIT_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(compile_share, "note",
                        lambda token, compile_kernel: compile_share._pending.append((token, lambda: os._exit(3))))
    before = dict(compile_share.stats)
    compiled = _count_compiles(monkeypatch)
    fn = _chain(_fresh_constants(3))
    x = np.random.default_rng(2).random(100)
    np.testing.assert_allclose(tracejit.compile(fn, backend="numba", fullgraph=True)(x), fn(x), rtol=1e-12)
    assert compile_share.stats["helpers"] == before["helpers"] + 1 and len(compiled) == 3


def test_switched_off(tmp_path, monkeypatch):
    monkeypatch.setenv("TRACEJIT_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("TRACEJIT_COMPILE_HELPER", "0")
    before = dict(compile_share.stats)
    fn = _chain(_fresh_constants(3))
    x = np.random.default_rng(3).random(100)
    np.testing.assert_allclose(tracejit.compile(fn, backend="numba")(x), fn(x), rtol=1e-12)
    assert compile_share.stats["helpers"] == before["helpers"]


def test_no_helper_off_the_main_thread(tmp_path, monkeypatch):
    """Another thread may be inside OpenBLAS, whose workers a fork stops: a first run on
    a second thread (a background compile, a server's worker) compiles alone."""
    import threading
    monkeypatch.setenv("TRACEJIT_CACHE_DIR", str(tmp_path))
    before = dict(compile_share.stats)
    fn = _chain(_fresh_constants(3))
    x = np.random.default_rng(4).random(100)
    got = []
    worker = threading.Thread(target=lambda: got.append(tracejit.compile(fn, backend="numba")(x)))
    worker.start()
    worker.join()
    np.testing.assert_allclose(got[0], fn(x), rtol=1e-12)
    assert compile_share.stats["helpers"] == before["helpers"]


def _gone(pid) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_the_helper_is_stopped_and_reaped_when_the_run_ends_early(tmp_path, monkeypatch):
    """The second kernel raises (an index out of bounds): the helper, still compiling the
    kernels after it, is killed and reaped; NumPy's IndexError reaches the user."""
    monkeypatch.setenv("TRACEJIT_CACHE_DIR", str(tmp_path))
    constants = _fresh_constants(6)

    def f(x, idx):
        y = np.sort(np.sin(x) * constants[0] + x)[idx] * constants[1]
        for c in constants[2:]:
            y = np.sort(np.tanh(np.cos(y) * c) + np.exp(np.sin(y * c)))
        return y
    before = compile_share.stats["helpers"]
    with pytest.raises(IndexError):
        tracejit.compile(f, backend="numba", fullgraph=True)(np.random.default_rng(5).random(50), np.array([1, 70]))
    assert compile_share.stats["helpers"] == before + 1 and _gone(compile_share.stats["last_pid"])


def test_sigchld_ignored(tmp_path, monkeypatch):
    """With SIGCHLD ignored (children reaped by the kernel, as in many daemons) the helper
    still works and nothing raises ChildProcessError."""
    import signal
    monkeypatch.setenv("TRACEJIT_CACHE_DIR", str(tmp_path))
    previous = signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    try:
        before = compile_share.stats["helpers"]
        fn = _chain(_fresh_constants(4))
        x = np.random.default_rng(6).random(100)
        np.testing.assert_allclose(tracejit.compile(fn, backend="numba", fullgraph=True)(x), fn(x), rtol=1e-12)
        assert compile_share.stats["helpers"] == before + 1
    finally:
        signal.signal(signal.SIGCHLD, previous)


def test_large_inputs_compile_alone(tmp_path, monkeypatch):
    """Pages this process writes while a helper lives are copied: over MAX_INPUT_BYTES of
    inputs (which a first run may write in place), no helper."""
    monkeypatch.setenv("TRACEJIT_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(compile_share, "MAX_INPUT_BYTES", 1000)
    before = compile_share.stats["helpers"]
    fn = _chain(_fresh_constants(3))
    x = np.random.default_rng(7).random(200)
    np.testing.assert_allclose(tracejit.compile(fn, backend="numba")(x), fn(x), rtol=1e-12)
    assert compile_share.stats["helpers"] == before


def test_no_helper_while_another_thread_lives(tmp_path, monkeypatch):
    import threading
    monkeypatch.setenv("TRACEJIT_CACHE_DIR", str(tmp_path))
    release = threading.Event()
    other = threading.Thread(target=release.wait, name="user-worker")
    other.start()
    try:
        before = compile_share.stats["helpers"]
        fn = _chain(_fresh_constants(3))
        x = np.random.default_rng(8).random(100)
        np.testing.assert_allclose(tracejit.compile(fn, backend="numba")(x), fn(x), rtol=1e-12)
        assert compile_share.stats["helpers"] == before
    finally:
        release.set()
        other.join()
