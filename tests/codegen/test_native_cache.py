"""Kernels' stored native code (tracejit/codegen/native_cache.py, native_entry.py).

A process with a warm cache runs compiled functions without importing Numba, with the
same results, for every layout stored and for equal dtypes in other objects, and leaves
the user's own Numba code working; the entry refuses arguments that do not fit its signature (nothing runs,
Numba takes over); a kernel that raises raises its exception, read from Numba's record; damaged,
foreign-CPU or unlinkable files are never loaded; code needing Numba's runtime is not
stored; ``TRACEJIT_NATIVE=0`` stores nothing.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest

from tracejit.codegen import cache_dir, native_cache
from tracejit.codegen.elf_symbols import NotElf64, undefined_symbols

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

LAYER = textwrap.dedent("""
    import numpy as np

    def layer(x, g, b):
        m = x.mean(-1, keepdims=True)
        v = ((x - m) ** 2).mean(-1, keepdims=True)
        y = (x - m) / np.sqrt(v + 1e-5) * g + b
        e = np.exp(y - y.max(-1, keepdims=True))
        return e / e.sum(-1, keepdims=True), np.tanh(y) * 0.5 + x
""")

PROGRAM = LAYER + textwrap.dedent("""
    import json, pickle, sys
    import tracejit

    table = np.arange(12.0)
    lookup = tracejit.compile(lambda ids: table[ids] * 2)
    f = tracejit.compile(layer)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((33, 70)).astype(np.float32)
    g, b = rng.random(70).astype(np.float32), rng.random(70).astype(np.float32)
    out = {}
    out["layer"] = [a.tolist() for a in f(x, g, b)]
    out["lookup"] = lookup(np.array([1, 5, 11])).tolist()
    out["strided"] = [a.tolist() for a in f(np.asfortranarray(x), g[::-1].copy(), b)]
    unpickled = pickle.loads(pickle.dumps(x))           # an equal dtype in another object
    out["unpickled"] = [a.tolist() for a in f(unpickled, g, b)]
    out["numba_imported_before_errors"] = "numba" in sys.modules
    try:
        lookup(np.array([1, 40]))
        out["raised"] = None
    except IndexError as exc:
        out["raised"] = type(exc).__name__
    import numba                                         # the user's own Numba code still raises right
    try:
        numba.njit(lambda values: values[0])([1, 2.5])
        out["user_numba"] = "no error"
    except TypeError as exc:
        out["user_numba"] = "TypeError"
    out["stages"] = sorted(f.compiles[0].stages)
    print(json.dumps(out))
""")


def _run_program(cache, **env):
    result = subprocess.run([sys.executable, "-c", PROGRAM], capture_output=True, text=True, timeout=600,
                            cwd=ROOT, env=dict(os.environ, TRACEJIT_CACHE_DIR=str(cache), **env))
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def _eager_layer(x, g, b):
    namespace: dict = {}
    exec(LAYER, namespace)
    return namespace["layer"](x, g, b)


def _stored(cache):
    folder = cache / "kernels" / "__pycache__"
    return sorted(p for p in folder.iterdir() if p.suffix == ".tjn") if folder.is_dir() else []


@pytest.fixture(scope="module")
def warm_runs(tmp_path_factory):
    cache = tmp_path_factory.mktemp("native-warm")
    cold = _run_program(cache)
    stored = _stored(cache)
    warm = _run_program(cache)
    return cache, cold, warm, stored


def test_a_warm_process_runs_without_numba_and_agrees(warm_runs):
    _, cold, warm, stored = warm_runs
    assert stored, "the cold process stored no native code"
    assert cold["numba_imported_before_errors"] is True
    assert warm["numba_imported_before_errors"] is False
    rng = np.random.default_rng(0)
    x = rng.standard_normal((33, 70)).astype(np.float32)
    g, b = rng.random(70).astype(np.float32), rng.random(70).astype(np.float32)
    for run in (cold, warm):
        for got, want in zip(run["layer"], _eager_layer(x, g, b)):
            np.testing.assert_allclose(np.array(got, np.float32), want, rtol=2e-5, atol=2e-6)
        assert run["lookup"] == [2.0, 10.0, 22.0]
        for got, want in zip(run["strided"], _eager_layer(np.asfortranarray(x), g[::-1].copy(), b)):
            np.testing.assert_allclose(np.array(got, np.float32), want, rtol=2e-5, atol=2e-6)
        assert run["unpickled"] == run["layer"]
        assert run["user_numba"] == "TypeError"
    assert warm["layer"] == cold["layer"]       # the same machine code: bit-identical


def test_a_warm_process_loads_the_plan_the_cold_one_stored(warm_runs):
    _, cold, warm, _ = warm_runs
    assert {"passes", "codegen"} <= set(cold["stages"]) and "stored plan" not in cold["stages"]
    assert "stored plan" in warm["stages"] and not {"passes", "codegen"} & set(warm["stages"])


def test_a_native_kernel_that_raises_raises_numpys_error(warm_runs):
    _, cold, warm, _ = warm_runs
    assert cold["raised"] == warm["raised"] == "IndexError"


def test_native_code_is_not_written_when_turned_off(tmp_path):
    run = _run_program(tmp_path, TRACEJIT_NATIVE="0")
    assert _stored(tmp_path) == [] and run["lookup"] == [2.0, 10.0, 22.0]


# ---------------------------------------------------------------------------
# in this process: the entry's argument checks and the file checks
# ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def axpy(tmp_path_factory):
    """A stored kernel: out0 = in0 * 2 + in1 over one axis, with its entry."""
    from tracejit.codegen.numba_backend import compile_kernel
    from tracejit.ir import GraphBuilder, TensorType
    from tracejit.ir.loopnest import lower_region
    b = GraphBuilder("native_axpy")
    x, y = b.add_input(TensorType((37,), np.float32)), b.add_input(TensorType((37,), np.float32))
    two = b.emit("constant", [], {"value": 2.0, "dtype": np.dtype(np.float32)})
    region = b.finish([b.emit("add", [b.emit("mul", [x, two]), y])])
    nest = lower_region(region)
    kernel = compile_kernel(nest, tmp_path_factory.mktemp("native-axpy"), str(region))
    xs, ys = np.arange(37, dtype=np.float32), np.ones(37, np.float32)
    out = np.zeros(37, np.float32)
    kernel([xs, ys], [out], nest.sizes)
    np.testing.assert_array_equal(out, xs * 2 + 1)
    rows, _, sizes, _ = kernel.prepare(nest.sizes)
    args = (0, rows, xs, ys, out, *sizes)
    key = native_cache.argument_key(args)
    assert kernel._entries.get(key) is not None, "the kernel's native code was not stored"
    return kernel, args, key


def test_the_entry_runs_arguments_that_fit(axpy):
    kernel, (start, stop, xs, ys, out, *sizes), key = axpy
    out[:] = 0
    assert kernel._entries[key].function(start, stop, xs, ys * 3, out, *sizes) is None
    np.testing.assert_array_equal(out, xs * 2 + 3)


@pytest.mark.parametrize("case", ["float64", "strided", "readonly", "rank", "list", "count"])
def test_the_entry_refuses_arguments_that_do_not_fit(axpy, case):
    kernel, (start, stop, xs, ys, out, *sizes), key = axpy
    function = kernel._entries[key].function
    target = np.full(37, 7, np.float32)
    args = [start, stop, xs, ys, target, *sizes]
    if case == "float64":
        args[2] = xs.astype(np.float64)
    elif case == "strided":
        args[2] = np.arange(74, dtype=np.float32)[::2]
    elif case == "readonly":
        args[4] = np.frombuffer(target.tobytes(), np.float32)
    elif case == "rank":
        args[3] = ys.reshape(1, 37)
    elif case == "list":
        args[2] = list(xs)
    elif case == "count":
        args.append(5)
    assert function(*args) is False
    assert (target == 7).all()          # nothing ran


def test_the_entry_passes_integer_conversion_errors_on(axpy):
    kernel, (start, stop, xs, ys, out, *sizes), key = axpy
    with pytest.raises(OverflowError):
        kernel._entries[key].function(start, 2 ** 70, xs, ys, out, *sizes)
    with pytest.raises(TypeError):
        kernel._entries[key].function(start, "1", xs, ys, out, *sizes)


def test_a_launch_with_other_layouts_goes_through_numba_and_stores_that_too(axpy):
    kernel, (start, stop, xs, ys, out, *sizes), key = axpy
    strided = np.arange(74, dtype=np.float32)[::2]
    result = np.zeros(37, np.float32)
    kernel._run(start, stop, strided, ys, result, *sizes)
    np.testing.assert_array_equal(result, strided * 2 + 1)
    other = native_cache.argument_key((start, stop, strided, ys, result, *sizes))
    assert other != key and kernel._entries.get(other) is not None


def _stored_file(kernel, key):
    return native_cache.native_path(kernel.path, kernel.function_name, key)


@pytest.mark.parametrize("damage", ["empty", "truncated", "garbage", "flipped"])
def test_a_damaged_file_is_deleted_with_one_warning(axpy, damage):
    kernel, args, key = axpy
    path = _stored_file(kernel, key)
    good = path.read_bytes()
    try:
        path.write_bytes({"empty": b"", "truncated": good[:len(good) // 2], "garbage": os.urandom(900),
                          "flipped": good[:-40] + bytes(b ^ 0xFF for b in good[-40:])}[damage])
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            assert native_cache.load(kernel.path, kernel.function_name, key) is None
        assert [w.category for w in caught] == [cache_dir.CacheRepairWarning]
        assert not path.exists()
    finally:
        path.write_bytes(good)


def _rewrite_header(path, change, sign=True):
    """Edit a stored file's header; `sign`: as the writer would (a genuine file from
    another machine), else leaving the old digest (damage)."""
    data = path.read_bytes()
    rest = data[len(native_cache.MAGIC):]
    end = rest.index(b"\n")
    header = json.loads(rest[:end])
    change(header)
    if sign:
        header["sha256"] = native_cache._digest(header, rest[end + 1:])
    path.write_bytes(native_cache.MAGIC + json.dumps(header).encode() + rest[end:])


@pytest.mark.parametrize("change", ["objects", "entry", "imports"])
def test_an_edited_header_is_damage(axpy, change):
    kernel, args, key = axpy
    path = _stored_file(kernel, key)
    good = path.read_bytes()
    edits = {"objects": lambda h: h.update(objects=h["objects"][::-1]),
             "entry": lambda h: h.update(entry=h["entry"] + "x"),
             "imports": lambda h: h.update(imports=h["imports"][1:])}
    try:
        _rewrite_header(path, edits[change], sign=False)
        with pytest.warns(cache_dir.CacheRepairWarning):
            assert native_cache.load(kernel.path, kernel.function_name, key) is None
        assert not path.exists()
    finally:
        path.write_bytes(good)


@pytest.mark.parametrize("change", ["cpu", "features", "symbol"])
def test_a_file_for_another_cpu_or_with_a_missing_symbol_is_not_loaded(axpy, change):
    kernel, args, key = axpy
    path = _stored_file(kernel, key)
    good = path.read_bytes()
    edits = {"cpu": lambda h: h.update(cpu="some-other-cpu"),
             "features": lambda h: h.update(features=h["features"].replace("+", "-", 1)),
             "symbol": lambda h: h["imports"].append("tracejit_no_such_symbol")}
    try:
        _rewrite_header(path, edits[change])
        assert native_cache.load(kernel.path, kernel.function_name, key) is None
        assert path.exists()                  # not damaged: kept (another process may use it)
    finally:
        path.write_bytes(good)
    assert native_cache.load(kernel.path, kernel.function_name, key) is not None


def test_kernels_that_need_numbas_runtime_are_not_stored(tmp_path, monkeypatch):
    """A column reduction keeps a tile buffer it allocates (np.empty in the kernel):
    Numba's runtime; the kernel runs through Numba and no native file is written."""
    import tracejit
    monkeypatch.setenv("TRACEJIT_CACHE_DIR", str(tmp_path))
    f = tracejit.compile(lambda x: x.sum(axis=0), backend="numba")
    x = np.random.default_rng(2).random((300, 3000)).astype(np.float32)
    for _ in range(2):
        np.testing.assert_allclose(f(x), x.sum(axis=0), rtol=1e-5)
    source = list((tmp_path / "kernels").glob("*.py"))
    assert source and any("np.empty" in p.read_text() for p in source)
    assert not _stored(tmp_path)


def test_undefined_symbols_of_an_object(axpy):
    kernel, args, key = axpy
    path = _stored_file(kernel, key)
    data = path.read_bytes()
    rest = data[len(native_cache.MAGIC):]
    header = json.loads(rest[:rest.index(b"\n")])
    payload = rest[rest.index(b"\n") + 1:]
    stored = undefined_symbols(payload[:header["objects"][0]])
    # compiled without Numba's wrappers: nothing of the CPython wrapper is imported
    assert "NRT_adapt_ndarray_from_python" not in stored and "PyArg_UnpackTuple" not in stored
    assert header["target"] not in stored          # defined there
    kernel.dispatcher(*args)                        # Numba's own compile, with its wrappers
    types = tuple(kernel.dispatcher.typeof_pyval(a) for a in args)
    obj, _ = native_cache._object_code(kernel.dispatcher, kernel.dispatcher.overloads[types], types)
    names = undefined_symbols(obj)
    assert "NRT_adapt_ndarray_from_python" in names and "PyArg_UnpackTuple" in names
    with pytest.raises(NotElf64):
        undefined_symbols(b"MZ" + bytes(100))


def test_an_entry_stored_from_numbas_own_compile_runs(axpy, tmp_path):
    """The path for kernels first compiled by the dispatcher: the entry built from
    that overload's object code runs like the one compiled without wrappers."""
    kernel, args, key = axpy
    kernel.dispatcher(*args)
    module = tmp_path / kernel.path.name
    module.write_text(kernel.source)
    entry = native_cache.store(module, kernel.function_name, kernel.dispatcher, args, key)
    assert entry is not None
    start, stop, xs, ys, out, *sizes = args
    fresh = np.zeros_like(out)
    assert entry.function(start, stop, xs, ys, fresh, *sizes) is None
    np.testing.assert_array_equal(fresh, xs * 2 + ys)


def test_this_platform_takes_the_native_path():
    assert native_cache.enabled()


class _Record(__import__("ctypes").Structure):
    """Numba's exception record: {i8* pickled, i32 size, i8* hash, i8* builder, i32 flag}."""
    import ctypes as _c
    _fields_ = [("data", _c.c_void_p), ("size", _c.c_int32), ("hash", _c.c_void_p),
                ("builder", _c.c_void_p), ("flag", _c.c_int32)]


def test_a_kernels_exception_is_read_from_numbas_record():
    import ctypes
    import pickle
    blob = ctypes.create_string_buffer(pickle.dumps((IndexError, ("index out of bounds",), None)))
    record = _Record(ctypes.cast(blob, ctypes.c_void_p).value, len(blob.raw) - 1, None, None, 0)
    error = native_cache.kernel_exception(ctypes.addressof(record), "k")
    assert type(error) is IndexError and error.args == ("index out of bounds",)
    record.builder = 1                               # a dynamic exception: not read, but named
    assert type(native_cache.kernel_exception(ctypes.addressof(record), "k")) is RuntimeError
    assert "kernel k" in str(native_cache.kernel_exception(0, "k"))


def test_prefetch_loads_llvm_on_a_thread_once(monkeypatch):
    import threading
    monkeypatch.setattr(native_cache, "_prefetched", False)
    native_cache._llvm.cache_clear()
    native_cache.prefetch()
    threads = [t for t in threading.enumerate() if t.name == native_cache.PREFETCH_THREAD]
    native_cache.prefetch()                                   # once per process
    assert len(threads) <= 1 and len([t for t in threading.enumerate()
                                      if t.name == native_cache.PREFETCH_THREAD]) <= 1
    for t in threads:
        t.join()
    assert native_cache._llvm.cache_info().currsize == 1
    llvm, cpu, features = native_cache._llvm()
    assert cpu and hasattr(llvm, "parse_assembly")
