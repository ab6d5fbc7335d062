"""Kernels' native code in the cache directory, so a new process runs them without Numba.

Why: with a warm cache, a new process used to spend ~400 ms importing Numba and
initializing its typing machinery before the first cached kernel could run. After a
kernel is compiled (or loaded from Numba's cache) for some argument types, ``store``
writes its object code, plus a CPython entry point for those types
(``native_entry``), into ``<cache>/kernels/__pycache__/<module>.<function>-native-<key>.tjn``.
A later process ``load``s it with llvmlite's JIT linker alone (~1 ms a kernel after a
~35 ms llvmlite import) and calls the entry like any builtin function.

What makes this safe:
- the file name hashes the format, the Numba, llvmlite, NumPy and Python versions and
  the argument types; the header holds the host CPU and its features, and the payload's
  SHA-256. A file that fails any check is not used (a damaged one is deleted, with one
  ``CacheRepairWarning``), and the kernel goes through Numba as before;
- every symbol the code imports is recorded and must be defined in this process before
  the object is loaded (LLVM would otherwise end the process);
- a kernel whose function reaches Numba's runtime (allocation, building exceptions, the
  GIL helpers: ``llvm_reach``) is never stored; what only Numba's own wrapper in the same
  object reaches is defined as a trap;
- the entry checks every argument's type, rank, dtype and flags on each call, and
  answers "does not fit" instead of running.

``TRACEJIT_NATIVE=0`` turns the whole path off.
"""
from __future__ import annotations

import ctypes
import functools
import hashlib
import importlib.util
import json
import os
import pickle
import platform
import sys
import sysconfig
import tempfile
import threading
import warnings
from pathlib import Path

import numpy as np

from . import cache_dir as cache_maintenance
from . import compile_share, llvm_reach, native_entry, numba_direct
from .elf_symbols import NotElf64, undefined_symbols
from .native_entry import INT, ArrayArg

FORMAT = 3
MAGIC = b"tracejit-native-code 3\n"
# what the entry itself imports from CPython
ENTRY_IMPORTS = ("PyLong_AsLongLong", "PyLong_FromVoidPtr", "PyErr_Occurred", "PyEval_SaveThread",
                 "PyEval_RestoreThread", "Py_IncRef", "_Py_NoneStruct", "_Py_FalseStruct")
# Numba-runtime functions a kernel may reach and still run natively: reference counting,
# a no-op on the arrays it borrows (NULL meminfo). Any other NRT_/numba_ function the
# kernel reaches (allocation, building exceptions, the GIL) keeps it on Numba.
NULL_SAFE = frozenset({"NRT_incref", "NRT_decref", "NRT_MemInfo_call_dtor"})

_LOCK = threading.Lock()


class NativeEntry:
    """A loaded kernel entry: call it as ``entry.function(start, stop, *args)``; it
    returns None (ran), False (the arguments do not fit: nothing ran) or an int (the
    kernel raised: ``kernel_exception`` makes the exception)."""

    def __init__(self, function, engine, keep):
        self.function = function
        self._engine = engine          # owns the code: kept alive as long as the function
        self._keep = keep


# ---------------------------------------------------------------------------
# when the native path applies
# ---------------------------------------------------------------------------

def enabled() -> bool:
    """The platform and Python build whose object layouts the entry assumes."""
    return os.environ.get("TRACEJIT_NATIVE", "1") != "0" and _platform_supported()


@functools.lru_cache(maxsize=1)
def _platform_supported() -> bool:
    return (sys.platform.startswith("linux") and platform.machine() in ("x86_64", "aarch64")
            and sys.implementation.name == "cpython" and sys.maxsize > 2 ** 32
            and not sysconfig.get_config_var("Py_GIL_DISABLED") and not hasattr(sys, "getobjects")
            and _array_layout_matches())


def _array_layout_matches() -> bool:
    """The PyArrayObject fields the entry reads are where it reads them (checked on a
    live, non-contiguous array)."""
    base = np.zeros((2, 3), np.float32)
    probe = base[:, :2]
    at = id(probe)
    read_pointer = lambda offset: ctypes.c_void_p.from_address(at + offset).value
    dims = ctypes.cast(read_pointer(native_entry.DIMENSIONS), ctypes.POINTER(ctypes.c_int64))
    strides = ctypes.cast(read_pointer(native_entry.STRIDES), ctypes.POINTER(ctypes.c_int64))
    flags = ctypes.c_int.from_address(at + native_entry.FLAGS).value
    return (read_pointer(native_entry.OB_TYPE) == id(np.ndarray)
            and read_pointer(native_entry.DATA) == probe.ctypes.data
            and ctypes.c_int.from_address(at + native_entry.ND).value == 2
            and (dims[0], dims[1], strides[0], strides[1]) == (2, 2, 12, 4)
            and read_pointer(native_entry.DESCR) == id(probe.dtype)
            and flags & 0xFFFF == probe.flags.num & 0xFFFF)


def kernel_exception(record: int, kernel: str) -> BaseException:
    """The exception a kernel raised, from the address of Numba's exception record
    (``{i8* pickled, i32 size, i8* hash, i8* builder, i32 flag}``: a static exception
    is the pickle of (class, args, location), with no builder). Anything else becomes a
    RuntimeError naming the kernel: never a silent result."""
    if not record:
        return RuntimeError(f"tracejit: kernel {kernel} raised an error and left no record of it")
    try:
        data = ctypes.c_void_p.from_address(record).value
        size = ctypes.c_int32.from_address(record + 8).value
        builder = ctypes.c_void_p.from_address(record + 24).value
        if data and not builder and 0 < size < 1 << 20:
            kind, args = pickle.loads(ctypes.string_at(data, size))[:2]
            if isinstance(kind, type) and issubclass(kind, Exception):
                return kind(*args)
    except Exception:   # noqa: BLE001  (a record this code cannot read: say so below)
        pass
    return RuntimeError(f"tracejit: kernel {kernel} raised an error whose details could not be read")


# ---------------------------------------------------------------------------
# argument types, as Numba's typeof sees them
# ---------------------------------------------------------------------------

def argument_key(args) -> tuple | None:
    """The kernel's parameter types for these arguments (INT or ArrayArg each), or None
    when an argument is of a kind the entry does not take."""
    key = []
    for value in args:
        kind = type(value)
        if kind is int:
            key.append(INT)
        elif kind is np.ndarray:
            dtype = value.dtype
            if dtype.kind not in "biufc" or not dtype.isnative or dtype.fields is not None:
                return None
            flags = value.flags
            layout = "C" if flags.c_contiguous else "F" if flags.f_contiguous else "A"
            key.append(ArrayArg(dtype.str, value.ndim, layout, flags.writeable, flags.aligned,
                                dtype.itemsize))
        else:
            return None
    return tuple(key)


def _key_of_numba_types(types) -> tuple | None:
    """`argument_key` of the types of a Numba signature (None: a type the entry does
    not take)."""
    from numba.core import types as numba_types
    from numba.np import numpy_support
    key = []
    for t in types:
        if isinstance(t, numba_types.Integer) and t.signed and t.bitwidth == 64:
            key.append(INT)
        elif isinstance(t, numba_types.Array):
            dtype = np.dtype(numpy_support.as_dtype(t.dtype))
            key.append(ArrayArg(dtype.str, t.ndim, t.layout, t.mutable, t.aligned, dtype.itemsize))
        else:
            return None
    return tuple(key)


def numba_types(key: tuple) -> tuple:
    """The Numba signature (argument types) an `argument_key` stands for."""
    from numba.core import types as numba_types
    from numba.np.numpy_support import from_dtype
    return tuple(numba_types.int64 if p is INT else
                 numba_types.Array(from_dtype(np.dtype(p.dtype)), p.ndim, p.layout,
                                   readonly=not p.mutable, aligned=p.aligned)
                 for p in key)


# ---------------------------------------------------------------------------
# files
# ---------------------------------------------------------------------------

@functools.lru_cache(maxsize=1)
def _versions() -> str:
    """The versions the object code depends on, read without importing Numba."""
    parts = [str(FORMAT), sys.version, platform.machine(), np.__version__]
    for package in ("numba", "llvmlite"):
        spec = importlib.util.find_spec(package)
        folder = Path(spec.origin).parent if spec and spec.origin else None
        try:
            parts.append((folder / "_version.py").read_text())
        except (OSError, TypeError):
            parts.append(f"{package}: unknown")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def native_path(module_path, function: str, key: tuple) -> Path:
    digest = hashlib.sha256(f"{_versions()}|{function}|{key!r}".encode()).hexdigest()[:16]
    module_path = Path(module_path)
    return module_path.parent / "__pycache__" / f"{module_path.stem}.{function}-native-{digest}.tjn"


def _write(path: Path, header: dict, payload: bytes) -> None:
    header = dict(header, sha256=_digest(header, payload))
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    with os.fdopen(fd, "wb") as handle:
        handle.write(MAGIC + json.dumps(header, sort_keys=True).encode() + b"\n" + payload)
    os.replace(tmp, path)


def _digest(header: dict, payload: bytes) -> str:
    """SHA-256 of the header (but its own digest) and the payload: a file is used only
    as it was written, header included (its object sizes and symbol names decide what
    the linker is given)."""
    described = json.dumps({k: v for k, v in header.items() if k != "sha256"}, sort_keys=True)
    return hashlib.sha256(described.encode() + b"\n" + payload).hexdigest()


class _Damaged(ValueError):
    pass


def _read(path: Path) -> tuple | None:
    """(header, payload) of a stored file; None when there is none; _Damaged when it
    is not one this code wrote whole."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    if not data.startswith(MAGIC):
        raise _Damaged("bad magic")
    rest = data[len(MAGIC):]
    line_end = rest.find(b"\n")
    try:
        header = json.loads(rest[:line_end])
        payload = rest[line_end + 1:]
        sizes = header["objects"]
        ok = (line_end > 0 and _digest(header, payload) == header["sha256"]
              and sum(sizes) == len(payload))
    except (ValueError, KeyError, TypeError) as exc:
        raise _Damaged(str(exc)) from None
    if not ok:
        raise _Damaged("checksum")
    return header, payload


# ---------------------------------------------------------------------------
# LLVM
# ---------------------------------------------------------------------------

PREFETCH_THREAD = compile_share.PREFETCH_THREAD
_LLVM_LOCK = threading.Lock()
_prefetched = False


@functools.lru_cache(maxsize=1)
def _llvm():
    """llvmlite's binding, initialized, and this host's (cpu, features)."""
    with _LLVM_LOCK:                     # a prefetch may be initializing it right now
        import llvmlite.binding as llvm
        llvm.initialize_native_target()
        llvm.initialize_native_asmprinter()
        return llvm, llvm.get_host_cpu_name(), llvm.get_host_cpu_features().flatten()


def prefetch() -> None:
    """Import and initialize llvmlite on a thread of its own, once per process, while
    the first function is traced and optimized (40-100 ms, mostly loading LLVM's shared
    library, which releases the GIL): a warm start then finds it ready."""
    global _prefetched
    if _prefetched or not enabled():
        return
    _prefetched = True
    threading.Thread(target=_llvm, name=PREFETCH_THREAD, daemon=True).start()


def _target_machine():
    llvm, cpu, features = _llvm()
    return llvm.Target.from_default_triple().create_target_machine(
        cpu=cpu, features=features, opt=2, codemodel="jitdefault")


@functools.lru_cache(maxsize=1)
def _process():
    """A handle on every symbol this process defines (dlsym with RTLD_DEFAULT)."""
    return ctypes.CDLL(None)


def _address(name: str) -> int | None:
    try:
        return ctypes.cast(getattr(_process(), name), ctypes.c_void_p).value
    except AttributeError:
        return None


def _symbol_value(name: str, address: int) -> int:
    """What the JIT should bind `name` to. ``PyExc_*`` as Numba binds them, to the
    exception object (its code uses the symbol as the object; C's symbol is the variable
    holding it): only Numba's own wrapper names them, but a later Numba in this process
    must find them as it would have bound them."""
    if name.startswith("PyExc_"):
        import builtins
        exception = getattr(builtins, name[len("PyExc_"):], None)
        if isinstance(exception, type):
            return id(exception)
    return address


def _new_builtin(definition_address: int):
    new = ctypes.pythonapi.PyCFunction_NewEx
    new.restype = ctypes.py_object
    new.argtypes = [ctypes.c_void_p, ctypes.py_object, ctypes.py_object]
    return new(definition_address, None, None)


# ---------------------------------------------------------------------------
# load and store
# ---------------------------------------------------------------------------

def load(module_path, function: str, key: tuple) -> NativeEntry | None:
    """The stored entry of `function` in the kernel module at `module_path` for
    arguments of type `key`, or None (not stored, stored for another CPU or another
    version, or damaged)."""
    if key is None or not enabled():
        return None
    path = native_path(module_path, function, key)
    try:
        stored = _read(path)
    except _Damaged as exc:
        _discard(path, exc)
        return None
    if stored is None:
        return None
    header, payload = stored
    with _LOCK:
        return _link(header, payload, key)


def _link(header: dict, payload: bytes, key: tuple) -> NativeEntry | None:
    llvm, cpu, features = _llvm()
    if (header.get("cpu"), header.get("features")) != (cpu, features):
        return None
    addresses = {name: _address(name) for name in header["imports"]}
    if any(address is None for address in addresses.values()):
        return None
    for name, address in addresses.items():
        if llvm.address_of_symbol(name) is None:     # never replace Numba's (or anyone's) own
            llvm.add_symbol(name, _symbol_value(name, address))
    engine = llvm.create_mcjit_compiler(llvm.parse_assembly(""), _target_machine())
    start = 0
    for size in header["objects"]:
        engine.add_object_file(llvm.ObjectFileRef.from_data(payload[start:start + size]))
        start += size
    engine.finalize_object()
    entry = header["entry"]
    types = engine.get_global_value_address(f"{entry}_types")
    dtypes = [np.dtype(p.dtype) for p in key if p is not INT]
    for slot, obj in enumerate([np.ndarray, *dtypes]):
        ctypes.c_void_p.from_address(types + 8 * slot).value = id(obj)
    function = _new_builtin(engine.get_global_value_address(f"{entry}_def"))
    return NativeEntry(function, engine, dtypes)


def store(module_path, function: str, dispatcher, args, key: tuple) -> NativeEntry | None:
    """Write the native code Numba's `dispatcher` has for these arguments (whose
    `argument_key` is `key`) and return it loaded; None where it cannot be stored
    (Numba-runtime calls, no object code, another platform)."""
    if key is None or not enabled():
        return None
    try:
        types = tuple(dispatcher.typeof_pyval(a) for a in args)
        compiled = dispatcher.overloads.get(types)
        if compiled is None or _key_of_numba_types(types) != key:
            return None
        obj, bitcode = _object_code(dispatcher, compiled, types)
    except (RuntimeError, AttributeError, KeyError, TypeError, ValueError, IndexError):
        return None
    return _store_object(module_path, function, obj, bitcode, compiled.fndesc.llvm_func_name, key)


def compile_and_store(module_path, function: str, dispatcher, args, key: tuple) -> NativeEntry | None:
    """Compile the kernel for these arguments without Numba's wrappers
    (``numba_direct``), write its native code and return it loaded; None where the
    native path does not apply or the code cannot be stored (the caller then compiles
    through the dispatcher, which also reports any compile error)."""
    if key is None or not enabled():
        return None
    try:
        types = tuple(dispatcher.typeof_pyval(a) for a in args)
        if _key_of_numba_types(types) != key:
            return None
        obj, bitcode, target = numba_direct.compile_object(dispatcher, types)
    except Exception:           # noqa: BLE001  (the dispatcher compiles it again and raises)
        return None
    return _store_object(module_path, function, obj, bitcode, target, key)


def _store_object(module_path, function: str, obj: bytes, bitcode: bytes, target: str,
                  key: tuple) -> NativeEntry | None:
    """Write the object code of the kernel function `target`, with an entry for the
    argument types `key`, and return it loaded; None where it reaches Numba's runtime
    or is not ELF64."""
    try:
        imported = undefined_symbols(obj)
    except (NotElf64, ValueError, IndexError):
        return None
    llvm, cpu, features = _llvm()
    with _LOCK:
        reached = llvm_reach.reached(str(llvm.parse_bitcode(bitcode)), target)
    if any(name.startswith(native_entry.UNREACHABLE_PREFIXES) and name not in NULL_SAFE for name in reached):
        return None
    numba_runtime = [s for s in imported if s.startswith(native_entry.UNREACHABLE_PREFIXES)]
    entry = "tj_entry_" + hashlib.sha256(target.encode()).hexdigest()[:16]
    with _LOCK:
        module = llvm.parse_assembly(native_entry.entry_ir(entry, target, list(key), numba_runtime))
        module.verify()
        entry_obj = _target_machine().emit_object(module)
    header = dict(format=FORMAT, cpu=cpu, features=features, entry=entry, target=target,
                  objects=[len(obj), len(entry_obj)],
                  imports=sorted((set(imported) - set(numba_runtime)) | set(ENTRY_IMPORTS)))
    path = native_path(module_path, function, key)
    try:
        _write(path, header, obj + entry_obj)
    except OSError:
        pass
    with _LOCK:
        return _link(header, obj + entry_obj, key)


def _object_code(dispatcher, compiled, types) -> tuple:
    """(object code, LLVM bitcode) of one compiled overload: kept by Numba after a
    compile, or read back from Numba's cache file when the overload was loaded from
    there (Numba hands the loaded object to its JIT and keeps no copy)."""
    try:
        return compiled.library.serialize_using_object_code()[2]
    except RuntimeError:
        pass
    cache = dispatcher._cache
    data = cache._cache_file.load(cache._index_key(types, dispatcher.targetctx.codegen()))
    return data[0][2]


def _discard(path: Path, why) -> None:
    """Delete a damaged file (it is written again after the next compile), with a
    warning."""
    try:
        path.unlink()
    except OSError:
        pass
    warnings.warn(f"tracejit: deleted the damaged native-code cache file {path} ({why}); "
                  "the kernel is compiled again", cache_maintenance.CacheRepairWarning, stacklevel=3)
