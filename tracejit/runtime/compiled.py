"""The compiled function: specialization cache, guards, dispatch and fallback.

Per call: bind the arguments, flatten them, build the key (argument structure, each
array's library/shape/dtype, static values, backend) and run the cached plan. A miss
traces and compiles a new specialization and records why. Unsupported code runs
eagerly with one warning (or raises under ``fullgraph=True``); either way the event
is recorded for ``explain``.
"""
from __future__ import annotations

import functools
import os
import threading
import time

import numpy as np

from ..tracer import TracerError, flatten, unflatten
from ..tracer.errors import UnsupportedError
from ..tracer.state import _ACTIVE as _ACTIVE_TRACE
from .arrays import NUMPY
from .backends import choose_backend
from .compilation import compile_function
from .guards import find_locators, find_scalar_guards, random_source
from .records import CompileEvent, CompilerError, Fallback, warn_fallback
from .signature import Binder, UnsupportedArgument, classify_leaf, describe_key_change, leaf_paths


_FAST_STATIC = (int, bool, str, type(None))
_TRACED = object()                  # marks traced entries of a fast key
_TRACED_FLOAT = (_TRACED, float)


class _StaticArg:
    """Stands in for a static argument while the rest is flattened."""
    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name

    def __hash__(self):
        return hash(self.name)

    def __eq__(self, other):
        return isinstance(other, _StaticArg) and other.name == self.name


class Specialization:
    """A compiled plan for one key, plus the guards on lifted closure arrays."""

    def __init__(self, compilation, xp, locators, scalar_guards=()):
        self.compilation = compilation
        self.plan = compilation.plan
        self.xp = xp
        self.lifted = list(compilation.trace.lifted)
        self.locators = locators            # per lifted array: a Locator, or None
        self.scalar_guards = list(scalar_guards)
        self.rebuild = compilation.trace.rebuild_outputs
        self._device_scalars: dict = {}      # host scalar -> its copy on the device

    def _to_device(self, array):
        """Host scalars (learning rates, ...) are copied once per value, not per call."""
        if array.ndim:
            return self.xp.from_numpy(array)
        key = (array.dtype.str, array.item())
        copy = self._device_scalars.get(key)
        if copy is None:
            if len(self._device_scalars) > 256:
                self._device_scalars.clear()
            copy = self._device_scalars[key] = self.xp.from_numpy(array)
        return copy

    def guards_hold(self) -> str | None:
        """None when every lifted array is still the same object, else why not."""
        for array, locate in zip(self.lifted, self.locators):
            if locate is not None and locate.current() is not array:
                return f"array {locate.description} was rebound"
        for guard in self.scalar_guards:
            failure = guard.failure()
            if failure:
                return failure
        return None

    def __call__(self, leaves):
        xp = self.xp
        arrays = [np.asarray(leaf) if isinstance(leaf, (float, np.generic)) else leaf for leaf in leaves]
        if xp is not NUMPY:
            arrays = [a if not isinstance(a, (np.ndarray, np.generic)) else self._to_device(a) for a in arrays]
            # host arrays the function closes over may change in place: copied every call
            lifted = [xp.from_numpy(a) for a in self.lifted]
        else:
            lifted = self.lifted
        results = self.plan.run(xp, arrays + lifted)
        return self.rebuild(results, xp)


class EagerSpecialization:
    """Runs the original function: the fallback for unsupported code."""

    def __init__(self, fn, fallback):
        self.fn = fn
        self.fallback = fallback

    def guards_hold(self):
        return None


class CompiledFunction:
    def __init__(self, fn, *, static_argnames=(), backend="auto", fullgraph=False, matmul_precision="ieee"):
        if isinstance(static_argnames, str):
            static_argnames = (static_argnames,)
        if isinstance(fn, np.ufunc):      # no Python signature: give it one
            fn = _ufunc_function(fn)
        self.fn = fn
        self.static_argnames = tuple(static_argnames)
        self.backend = backend
        self.fullgraph = fullgraph
        self.matmul_precision = matmul_precision
        self.binder = Binder(fn, self.static_argnames)
        self._cache: dict = {}
        self._fast: dict = {}             # _fast_key -> specialization (same objects as _cache)
        params = list(self.binder.signature.parameters.values())
        simple = all(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in params)
        self._fast_arity = len(params) if simple else -1   # the fast path: positional calls only
        # defaults of trailing parameters, completing a call that leaves them out
        self._defaults = tuple(p.default for p in params) if simple else ()
        # (positional parameters after the first one with a default all have defaults)
        self._fewest = next((i for i, p in enumerate(params) if p.default is not p.empty), len(params)) \
            if simple else self._fast_arity
        self._static_positions = {i for i, p in enumerate(params)
                                  if p.name in self.static_argnames
                                  and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)}
        self._last_key = None
        self._lock = threading.RLock()
        self.compiles: list = []
        self.fallbacks: list = []
        functools.update_wrapper(self, fn)

    @property
    def name(self) -> str:
        return getattr(self.fn, "__name__", "fn")

    # -- dispatch ---------------------------------------------------------------
    def _flatten(self, args, kwargs):
        bound, static = self.binder.bind(args, kwargs)
        if static:
            for name in static:
                bound.arguments[name] = _StaticArg(name)
        leaves, treedef = flatten((bound.args, bound.kwargs))
        for name, value in static.items():
            bound.arguments[name] = value
        try:
            static_key = tuple(static.items())
            hash(static_key)
        except TypeError:
            bad = [n for n, v in static.items() if not _hashable(v)]
            raise TypeError(f"tracejit: static argument {bad[0]!r} must be hashable") from None
        return bound, static, leaves, treedef, static_key

    def _key(self, args, kwargs):
        bound, static, leaves, treedef, static_key = self._flatten(args, kwargs)
        parts, abstract, libs = [], [], set()
        for i, leaf in enumerate(leaves):
            if isinstance(leaf, _StaticArg):
                parts.append(("static-arg", leaf.name))
                abstract.append(static[leaf.name])
                continue
            try:
                part, abstract_leaf, lib = classify_leaf(leaf, f"#{i}")
            except TypeError as exc:
                raise type(exc)(str(exc).replace(f"#{i}", self._leaf_path(bound, i))) from None
            parts.append(part)
            abstract.append(abstract_leaf)
            if lib is not None:
                libs.add(lib)
        backend = choose_backend(self.backend, libs or {NUMPY}, self.matmul_precision)
        key = (treedef, static_key, tuple(parts), backend.name)
        return key, bound, leaves, treedef, abstract, backend, libs

    def _leaf_path(self, bound, index):
        paths = []
        for name, value in bound.arguments.items():
            if name in self.static_argnames:
                paths.append(name)
            else:
                paths.extend(leaf_paths(name, value))
        return paths[index] if index < len(paths) else f"#{index}"

    def _fast_key(self, args):
        """A cheap key for the common call: positional NumPy arrays, floats and simple
        static scalars. None when the call needs the general path."""
        parts = []
        static = self._static_positions
        for i, a in enumerate(args):
            kind = type(a)
            if i in static:
                if kind not in _FAST_STATIC:
                    return None
                parts.append((kind, a))
            elif kind is np.ndarray:
                parts.append((_TRACED, a.shape, a.dtype))
            elif kind is float:
                parts.append(_TRACED_FLOAT)
            elif kind in _FAST_STATIC:
                parts.append((kind, a))
            else:
                return None
        return tuple(parts)

    def __get__(self, instance, owner=None):
        """`@tracejit.compile` on a method: the instance becomes the first argument
        (static, by identity; its array attributes are guarded like `self.w`)."""
        if instance is None:
            return self
        return functools.partial(self, instance)

    def __call__(self, *args, **kwargs):
        if _ACTIVE_TRACE.get() is not None:   # called while tracing another compiled function
            return self.fn(*args, **kwargs)   # its ops become part of that trace
        fast = None
        if not kwargs and self._fewest <= len(args) <= self._fast_arity:
            full = args + self._defaults[len(args):]       # what binding would give
            fast = self._fast_key(full)
        if fast is not None:
            spec = self._fast.get(fast)
            if spec is not None and spec.guards_hold() is None:
                if isinstance(spec, EagerSpecialization):
                    return self.fn(*args)
                return self._run(spec, None, [a for a, part in zip(full, fast) if part[0] is _TRACED], args, kwargs)
        try:
            key, bound, leaves, treedef, abstract, backend, libs = self._key(args, kwargs)
        except UnsupportedArgument as exc:
            if self.fullgraph:
                raise
            if not any(f.message == str(exc) for f in self.fallbacks):
                fallback = Fallback(self.name, exc.op, exc.loc, str(exc))
                self.fallbacks.append(fallback)
                warn_fallback(fallback)
            return self.fn(*args, **kwargs)
        spec = self._cache.get(key)
        if spec is None or spec.guards_hold() is not None:
            spec = self._specialize(key, bound, treedef, abstract, backend, libs, spec)
        if fast is not None:
            self._fast[fast] = spec
        if isinstance(spec, EagerSpecialization):
            return self.fn(*args, **kwargs)
        traced_leaves = [leaf for leaf, part in zip(leaves, key[2]) if part[0] in ("array", "weak")]
        return self._run(spec, key, traced_leaves, args, kwargs)

    # -- compiling ----------------------------------------------------------------
    def _specialize(self, key, bound, treedef, abstract, backend, libs, stale):
        with self._lock:
            if stale is not None:
                reason = stale.guards_hold()
            else:
                paths = [self._leaf_path(bound, i) for i in range(len(abstract))]
                reason = describe_key_change(self._last_key, key, paths)
            abstract_args, abstract_kwargs = unflatten(treedef, abstract)
            statics = [value for value in abstract if not hasattr(value, "dtype")]
            start = time.perf_counter()
            try:
                rng = random_source(self.fn, statics)
                if rng:
                    raise UnsupportedError(f"drawing random numbers inside a compiled function ({rng})",
                                           "np.random", _definition_line(self.fn),
                                           "they would be frozen at trace time; pass random arrays as arguments")
                compilation = compile_function(self.fn, abstract_args, abstract_kwargs, backend, name=self.name)
            except (TracerError, CompilerError) as exc:
                if self.fullgraph:
                    raise
                return self._fall_back(key, exc)
            except (ValueError, TypeError, IndexError) as exc:
                raise _with_argument_context(exc, self.name, bound) from exc
            xp = next(iter(libs)) if libs else NUMPY
            spec = Specialization(compilation, xp, find_locators(self.fn, compilation.trace.lifted, statics),
                                  find_scalar_guards(self.fn, statics))
            self.compiles.append(CompileEvent(self.name, reason, time.perf_counter() - start))
            self._cache[key] = spec
            self._last_key = key
            dump_dir = os.environ.get("TRACEJIT_DUMP")
            if dump_dir:
                from .dump import write_dump
                write_dump(compilation, dump_dir, f"{self.name}_{len(self.compiles)}")
            return spec

    def _fall_back(self, key, exc):
        """Record and warn once; this key runs eagerly from now on."""
        fallback = Fallback(self.name, getattr(exc, "op", "?") or "?", getattr(exc, "loc", ""), str(exc))
        self.fallbacks.append(fallback)
        warn_fallback(fallback)
        spec = EagerSpecialization(self.fn, fallback)
        self._cache[key] = spec
        return spec

    def _run(self, spec, key, leaves, args, kwargs):
        try:
            return spec(leaves)
        except CompilerError as exc:
            if self.fullgraph:
                raise
            self._fast = {k: v for k, v in self._fast.items() if v is not spec}
            if key is None:   # reached through the fast path
                key = next(k for k, v in self._cache.items() if v is spec)
            self._fall_back(key, exc)
            return self.fn(*args, **kwargs)

    # -- introspection --------------------------------------------------------------
    def specializations(self) -> list:
        return [s for s in self._cache.values() if isinstance(s, Specialization)]

    def __repr__(self) -> str:
        return f"<tracejit compiled {self.name} backend={self.backend} specializations={len(self._cache)}>"


def _definition_line(fn) -> str:
    code = getattr(getattr(fn, "__func__", fn), "__code__", None)
    return f"{code.co_filename}:{code.co_firstlineno}" if code else ""


def _ufunc_function(ufunc):
    """A plain function of the ufunc's operands (NumPy ufuncs have no inspectable signature)."""
    names = [f"x{i}" for i in range(ufunc.nin)]
    namespace = {"ufunc": ufunc}
    exec(f"def {ufunc.__name__}({', '.join(names)}):\n    return ufunc({', '.join(names)})\n", namespace)
    return namespace[ufunc.__name__]


def _with_argument_context(exc, name, bound):
    """The same exception, its message followed by the traced call's argument types
    and the user's source line where it happened."""
    described = []
    for arg, value in bound.arguments.items():
        if hasattr(value, "shape") and hasattr(value, "dtype"):
            described.append(f"{arg}: {value.dtype}{list(value.shape)}")
    where = _user_line(exc.__traceback__)
    message = f"{exc}\n  (tracejit: while tracing {name}({', '.join(described)}){' at ' + where if where else ''})"
    try:
        return type(exc)(message)
    except Exception:
        return exc


def _user_line(tb) -> str:
    """The innermost traceback frame outside tracejit and NumPy, as path:line."""
    import os
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    found = ""
    while tb is not None:
        path = tb.tb_frame.f_code.co_filename
        if not path.startswith(package) and f"{os.sep}numpy{os.sep}" not in path:
            found = f"{path}:{tb.tb_lineno}"
        tb = tb.tb_next
    return found


def _hashable(value) -> bool:
    try:
        hash(value)
        return True
    except TypeError:
        return False
