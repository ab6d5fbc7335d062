"""The kernel cache directory heals and stays bounded: damaged Numba cache files (read
when native code is off) and damaged native-code files are deleted and recompiled with
one warning (each kind of damage, in a fresh process, where the kernel is loaded from
disk), least recently used entries are evicted past the size
limit, ``tracejit cache info/clear`` report and empty it, and two processes can fill one
directory at once."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import tracejit
from tracejit.codegen import cache_dir

ROOT = Path(__file__).resolve().parents[2]
PROGRAM = ("import warnings, numpy as np, tracejit; warnings.simplefilter('always'); "
           "f = tracejit.compile(lambda x: np.exp(x) * 2 + 1); "
           "print(repr(float(f(np.arange(4.0))[3])))")


def _run(cache, code=PROGRAM, native="1"):
    env = dict(os.environ, TRACEJIT_CACHE_DIR=str(cache), TRACEJIT_NATIVE=native)
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300)


def _damage(path: Path, kind: str):
    if kind == "garbage":
        path.write_bytes(b"not a pickle at all\n")
    elif kind == "empty":
        path.write_bytes(b"")
    else:
        path.write_bytes(path.read_bytes()[:24])


@pytest.fixture(scope="module")
def filled(tmp_path_factory):
    cache = tmp_path_factory.mktemp("cache")
    first = _run(cache, native="0")         # Numba's own cache files (.nbi, .nbc)
    assert first.returncode == 0, first.stderr
    second = _run(cache)                    # native code (.tjn): compiled without Numba's wrappers
    assert second.returncode == 0 and second.stdout == first.stdout, second.stderr
    return cache, first.stdout


@pytest.mark.parametrize("suffix,kind", [(".nbi", "garbage"), (".nbi", "empty"), (".nbi", "truncated"),
                                         (".nbc", "garbage"), (".nbc", "truncated"),
                                         (".tjn", "garbage"), (".tjn", "empty"), (".tjn", "truncated")])
def test_a_damaged_cache_file_is_recompiled_with_one_warning(filled, suffix, kind):
    cache, expected = filled
    native = "1" if suffix == ".tjn" else "0"      # Numba's files are read when there is no native code
    files = sorted((cache / "kernels" / "__pycache__").glob(f"*{suffix}"))
    assert files, "the first run left no compiled cache"
    for path in files:
        _damage(path, kind)
    run = _run(cache, native=native)
    assert run.returncode == 0, run.stderr
    assert run.stdout == expected
    assert run.stderr.count("CacheRepairWarning") == 1, run.stderr
    healthy = _run(cache, native=native)        # repaired: the next process loads it quietly
    assert healthy.returncode == 0 and "CacheRepairWarning" not in healthy.stderr, healthy.stderr
    assert sorted((cache / "kernels" / "__pycache__").glob(f"*{suffix}"))


def _fake_entry(kernels: Path, stem: str, size: int, used: float):
    (kernels / "__pycache__").mkdir(parents=True, exist_ok=True)
    source = kernels / f"{stem}.py"
    source.write_text("# kernel\n")
    (kernels / "__pycache__" / f"{stem}.k-1.py311.nbi").write_bytes(b"x" * size)
    os.utime(source, (used, used))


def test_least_recently_used_entries_go_past_the_limit(tmp_path):
    kernels = tmp_path / "kernels"
    now = time.time()
    for k in range(10):
        _fake_entry(kernels, f"tj_k{k}_0", 10_000, now - 1000 + k)   # k0 is the oldest
    assert cache_dir.enforce_limit(tmp_path, limit=200_000) == 0    # under the limit: nothing goes
    removed = cache_dir.enforce_limit(tmp_path, limit=60_000)
    left = sorted(stem for stem, *_ in cache_dir.entries(tmp_path))
    assert removed >= 50_000 and left == [f"tj_k{k}_0" for k in range(6, 10)] or len(left) <= 4
    assert "tj_k9_0" in left and "tj_k0_0" not in left
    assert cache_dir.info(tmp_path)["bytes"] <= 0.8 * 60_000 + 100


def test_cache_info_and_clear_on_the_command_line(filled, tmp_path):
    cache, _ = filled
    env = dict(os.environ, TRACEJIT_CACHE_DIR=str(cache))
    info = subprocess.run([sys.executable, "-m", "tracejit", "cache", "info"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert info.returncode == 0 and f"location: {cache}" in info.stdout
    assert "entries:  1 kernel module(s), 1 stored plan(s)" in info.stdout
    copy = tmp_path / "copy"
    import shutil
    shutil.copytree(cache, copy)
    cleared = subprocess.run([sys.executable, "-m", "tracejit", "cache", "clear", "--dir", str(copy)], cwd=ROOT,
                             capture_output=True, text=True, timeout=120)
    assert cleared.returncode == 0 and "removed 1 cached kernel(s) and 1 stored plan(s)" in cleared.stdout
    assert cache_dir.entries(copy) == []


def test_two_processes_fill_one_cache_at_once(tmp_path):
    code = ("import numpy as np, tracejit; f = tracejit.compile(lambda x: np.tanh(x) - x / 3); "
            "x = np.linspace(-2, 2, 9); assert np.allclose(f(x), np.tanh(x) - x / 3); print('ok')")
    env = dict(os.environ, TRACEJIT_CACHE_DIR=str(tmp_path))
    procs = [subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [p.communicate(timeout=300) for p in procs]
    assert all(p.returncode == 0 and out.strip() == "ok" for p, (out, _) in zip(procs, outs)), outs
    assert cache_dir.info(tmp_path)["kernels"] == 1 and cache_dir.info(tmp_path)["plans"] == 1


def test_a_cache_folder_that_cannot_be_written_still_compiles_with_one_warning(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    code = PROGRAM + "; print(f.fallbacks); g = tracejit.compile(lambda x: x.sum()); print(g(np.ones(3)))"
    result = _run(blocker / "cache", code)
    assert result.returncode == 0, result.stderr
    value, fallbacks, total = result.stdout.split("\n")[:3]
    assert float(value) == float(__import__("numpy").exp(3.0) * 2 + 1) and fallbacks == "[]" and total == "3.0"
    assert result.stderr.count("cannot be used") == 1 and "FallbackWarning" not in result.stderr


def exp_sort_scale_for_the_limit(x):
    return np.sort(np.exp(x), axis=-1) * 2.0 - 1.0


def test_a_limit_smaller_than_one_kernel_never_evicts_this_processs_own_kernels(tmp_path, monkeypatch):
    """Two kernels written before either is imported: the second's write must not evict
    the first (this process imports it next), whatever the limit."""
    monkeypatch.setenv("TRACEJIT_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("TRACEJIT_CACHE_LIMIT_MB", "0.001")
    f = tracejit.compile(exp_sort_scale_for_the_limit, backend="numba", fullgraph=True)
    x = np.linspace(-1, 1, 60).reshape(6, 10)[:, ::-1]
    np.testing.assert_allclose(f(x), np.sort(np.exp(x), axis=-1) * 2.0 - 1.0, rtol=1e-14)
    assert f.fallbacks == [] and len([k for s in f.specializations() for k in s.plan.kernels]) == 2
