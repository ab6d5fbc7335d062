"""The compiled function: specialization cache, dispatch, fallback and the safety net.

Per call: bind the arguments, flatten them, build the key (argument structure, each
array's library/shape/dtype, static values, the types of plain objects, backend)
and find a cached specialization whose guards hold (``guards.py``: the state it
was traced with is still there); run it (``specialization.py``). A miss traces and
compiles a new specialization and records why.

Code tracejit cannot compile runs eagerly with one warning naming the construct and
the user's line (or raises under ``fullgraph=True``). The safety net: any other
exception while tracing, optimizing, generating code or running the plan is
answered by running the function eagerly. If eager NumPy raises too, the user sees
NumPy's own exception; if it does not, the exception was tracejit's, and the
function falls back with a warning. Tracing never leaves side effects on the state
tracejit can see (``sandbox.py``), so a fallback's effects happen once.
"""
from __future__ import annotations

import functools
import inspect
import os
import threading
import time

import numpy as np

from ..codegen import compile_log
from ..ir.types import TensorType
from ..tracer import TracerError, flatten, unflatten
from ..tracer.errors import UnsupportedError
from ..tracer.fp_errors import errors_need_detection, settings as fp_error_settings
from ..tracer.state import _ACTIVE as _ACTIVE_TRACE
from .arrays import NUMPY, array_layout
from .background import BackgroundCompile
from .backends import choose_backend
from .codeinfo import definition_line
from . import plan_store
from .compilation import compile_function
from .numlists import NumberList, has_short_float_lists, number_list_type, wrap_number_lists
from .discover import is_plain_type
from .effects import io_source, unrepeatable_source
from .failures import argument_note, describe_failure, user_line
from .randomness import random_source
from .records import CompileEvent, CompilerError, Fallback, warn_fallback
from .sandbox import World
from .shape_families import ShapeFamilies
from .signature import (Binder, UnsupportedArgument, argument_objects, classify_leaf, classify_static,
                        describe_key_change, leaf_paths)
from .recompiles import RecompileCounter, changed_paths, strict_default
from .recompiles import recompile_limit as recompile_limit_of
from .specialization import EagerSpecialization, GuardsChanged, PlanFailed, Specialization

_FAST_STATIC = (int, bool, str, type(None))
_EMPTY = inspect.Parameter.empty
_TRACED = object()                  # marks traced entries of a fast key
_OBJECT = object()                  # marks plain objects (keyed by type) in a fast key
_TRACED_FLOAT = (_TRACED, float)
_TRACED_INT = (_TRACED, int)
_DYNAMIC_INT = ("dynint",)          # key part of an int traced as a value
MAX_SPECIALIZATIONS = 8             # per key; beyond it the guards keep failing: run eagerly


class _StaticArg:
    """Stands in for a static argument while the rest is flattened."""
    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name

    def __hash__(self):
        return hash(self.name)

    def __eq__(self, other):
        return isinstance(other, _StaticArg) and other.name == self.name


class RecompileLimitError(RuntimeError):
    """Under fullgraph=True: the function needed more traces than its recompile_limit."""


class _BadCall(TypeError):
    """The arguments do not fit the signature: calling the function gives Python's error."""


class _Retry:
    """Tracing with dynamic ints failed (they decide shapes): call again, ints static.
    `again`: call again as it was (an int in state is traced as a value from now on)."""

    def __init__(self, again=False):
        self.again = again


class _Failed:
    """Tracing or compiling raised something that is not a TracerError: eager NumPy decides."""

    def __init__(self, exc):
        self.exc = exc


class CompiledFunction:
    def __init__(self, fn, *, static_argnames=(), backend="auto", fullgraph=None, matmul_precision="ieee",
                 recompile_limit=None, background_compile=False, dynamic_shapes=True):
        if isinstance(static_argnames, str):
            static_argnames = (static_argnames,)
        if isinstance(fn, np.ufunc):      # no Python signature: give it one
            fn = _ufunc_function(fn)
        self._binding = None              # "static" / "class": compile over @staticmethod / @classmethod
        if isinstance(fn, (staticmethod, classmethod)):
            self._binding = "static" if isinstance(fn, staticmethod) else "class"
            fn = fn.__func__
        self.fn = fn
        self.static_argnames = tuple(static_argnames)
        self.backend = backend
        self.fullgraph = strict_default() if fullgraph is None else bool(fullgraph)
        self.recompiles = RecompileCounter(recompile_limit_of(recompile_limit))
        self.background_compile = bool(background_compile)
        self.matmul_precision = matmul_precision
        self.binder = Binder(fn, self.static_argnames)
        self._cache: dict = {}            # key -> list of specializations, newest first
        self._fast: dict = {}             # _fast_key -> the same lists
        self._plain_types: dict = {}      # type -> whether its instances are plain objects
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
        # ints that change between calls: the first value seen per argument path, the
        # paths traced as dynamic ints (after a second distinct value), those that must
        # stay static (they decide shapes or control flow), and the fast path's view
        self._int_first: dict = {}
        self.dynamic_ints: set = set()
        self._static_ints: set = set()
        self._dynamic_positions: frozenset = frozenset()
        self.int_state: set = set()       # Python ints in state the function changes: traced values
        self._int_lists_static = False    # long int lists: traced as arrays until one decides a shape
        self._float_lists = False         # short float lists as NumberLists (one was made an array)
        self._list_lengths: dict = {}     # list argument name -> the first length seen
        self._growing_lists: set = set()  # list arguments whose length changed: NumberLists at any length
        self._positional_names = [p.name for p in params] if simple else []
        # names a keyword call may use for each position (None: positional-only)
        self._keyword_names = [p.name if p.kind is p.POSITIONAL_OR_KEYWORD else None for p in params] \
            if simple else []
        # per count of positional arguments: the names of the parameters after them
        self._trailing_names = [tuple(self._keyword_names[k:]) for k in range(len(self._keyword_names) + 1)]
        self._lock = threading.RLock()
        self.families = ShapeFamilies(self, enabled=bool(dynamic_shapes))   # one trace for every size
        self.compiles: list = []
        self._extensions = 0              # traces that extended a shape family (not counted as recompiles)
        self.fallbacks: list = []
        functools.update_wrapper(self, fn)

    @property
    def name(self) -> str:
        return getattr(self.fn, "__name__", "fn")

    # -- keys -------------------------------------------------------------------------
    def _flatten(self, args, kwargs):
        try:
            bound, static = self.binder.bind(args, kwargs)
        except TypeError as exc:
            raise _BadCall(str(exc)) from exc
        if static:
            for name in static:
                bound.arguments[name] = _StaticArg(name)
        for name, value in bound.arguments.items():
            if type(value) is not list:
                continue
            if name not in self._growing_lists:
                if self._list_lengths.setdefault(name, len(value)) == len(value) or number_list_type(value) is None:
                    continue
                self._growing_lists.add(name)        # a list of numbers whose length changed
            bound.arguments[name] = wrap_number_lists(value, not self._int_lists_static, min_length=1,
                                                      float_lists=self._float_lists)
        args = bound.args
        kwargs = bound.kwargs
        if any(type(v) in (list, tuple, dict) for v in bound.arguments.values()):
            args = wrap_number_lists(args, not self._int_lists_static, float_lists=self._float_lists)
            kwargs = wrap_number_lists(kwargs, not self._int_lists_static, float_lists=self._float_lists)
        leaves, treedef = flatten((args, kwargs))
        for name, value in static.items():
            bound.arguments[name] = value
        return bound, static, leaves, treedef

    def _key(self, args, kwargs, keep_static=frozenset()):
        """(key, bound, leaves with static values in place, treedef, abstract leaves,
        backend, libraries, key parts). `keep_static`: int paths static for this call."""
        bound, static, leaves, treedef = self._flatten(args, kwargs)
        parts, abstract, values, libs = [], [], [], set()
        paths = None
        for i, leaf in enumerate(leaves):
            if type(leaf) is int:
                if paths is None:
                    paths = self._paths(bound)
                if self._int_is_dynamic(paths[i], leaf, keep_static):
                    parts.append(_DYNAMIC_INT)
                    abstract.append(TensorType((), np.int64, weak=True))
                    values.append(leaf)
                    continue
            if isinstance(leaf, _StaticArg):
                value = static[leaf.name]
                parts.append(classify_static(value, leaf.name))
                abstract.append(value)
                values.append(value)
                continue
            if type(leaf) is NumberList:
                part, abstract_leaf, _ = classify_leaf(leaf, f"#{i}")
                parts.append(part)
                abstract.append(abstract_leaf)
                values.append(leaf.as_array())           # one conversion per call, O(n)
                continue
            try:
                part, abstract_leaf, lib = classify_leaf(leaf, f"#{i}")
            except (TypeError, UnsupportedArgument) as exc:
                raise type(exc)(str(exc).replace(f"#{i}", self._leaf_path(bound, i))) from None
            parts.append(part)
            abstract.append(abstract_leaf)
            values.append(leaf)
            if lib is not None:
                libs.add(lib)
        backend = choose_backend(self.backend, libs or {NUMPY}, self.matmul_precision)
        key = (treedef, tuple(parts), backend.name)
        return key, bound, values, treedef, abstract, backend, libs, parts

    def _paths(self, bound) -> list:
        paths = []
        for name, value in bound.arguments.items():
            if name in self.static_argnames:
                paths.append(name)
            else:
                paths.extend(leaf_paths(name, wrap_number_lists(value, not self._int_lists_static,
                                                                float_lists=self._float_lists)))
        return paths

    def _leaf_path(self, bound, index):
        paths = self._paths(bound)
        return paths[index] if index < len(paths) else f"#{index}"

    def _int_is_dynamic(self, path, value, keep_static) -> bool:
        """An int argument is traced (not a key) once it took a second distinct value,
        unless a trace showed it decides shapes or control flow."""
        if path in keep_static or path in self._static_ints or not -2 ** 62 <= value <= 2 ** 62:
            return False
        if path in self.dynamic_ints:
            return True
        first = self._int_first.setdefault(path, value)
        if first == value:
            return False
        with self._lock:
            self.dynamic_ints.add(path)
            self._update_dynamic_positions()
        return True

    def _update_dynamic_positions(self):
        self._dynamic_positions = frozenset(i for i, name in enumerate(self._positional_names)
                                            if name in self.dynamic_ints)

    def _is_plain(self, kind) -> bool:
        plain = self._plain_types.get(kind)
        if plain is None:
            plain = self._plain_types[kind] = is_plain_type(kind)
        return plain

    def _keywords_as_positions(self, args, kwargs):
        """A keyword call of a plain signature as the positional tuple binding would give
        (defaults filled in), so it takes the fast path too; None when it does not fit
        (unknown or duplicate names, a missing argument: binding reports those)."""
        if len(args) >= self._fast_arity:
            return None
        if len(args) + len(kwargs) == self._fast_arity and tuple(kwargs) == self._trailing_names[len(args)]:
            return args + tuple(kwargs.values())     # every later parameter, named in order
        names, defaults = self._keyword_names, self._defaults
        full = list(args)
        used = 0
        for i in range(len(args), self._fast_arity):
            name = names[i]
            if name is not None and name in kwargs:
                full.append(kwargs[name])
                used += 1
            elif defaults[i] is not _EMPTY:
                full.append(defaults[i])
            else:
                return None
        return tuple(full) if used == len(kwargs) else None

    def _fast_key(self, args):
        """A cheap key for the common call: positional NumPy arrays, floats, simple
        static scalars and plain objects. None when the call needs the general path."""
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
            elif kind is int and i in self._dynamic_positions:
                if not -2 ** 62 <= a <= 2 ** 62:      # keyed by value on the general path
                    return None
                parts.append(_TRACED_INT)
            elif kind in _FAST_STATIC:
                parts.append((kind, a))
            elif self._is_plain(kind):
                parts.append((_OBJECT, kind))
            else:
                return None
        return tuple(parts)

    def __get__(self, instance, owner=None):
        """`@tracejit.compile` on a method: the instance becomes the first argument
        (a plain object: keyed by its type, its attributes guarded like `self.w`)."""
        if self._binding == "static":
            return self
        if self._binding == "class":
            return functools.partial(self, owner if owner is not None else type(instance))
        if instance is None:
            return self
        return functools.partial(self, instance)

    # -- calls ------------------------------------------------------------------------
    def __call__(self, /, *args, **kwargs):
        if _ACTIVE_TRACE.get() is not None:   # called while tracing another compiled function
            return self.fn(*args, **kwargs)   # its ops become part of that trace
        if errors_need_detection():
            return self._eager_for_fp_errors(args, kwargs)
        fast = None
        full = None
        if not kwargs:
            if self._fewest <= len(args) <= self._fast_arity:
                full = args + self._defaults[len(args):]       # what binding would give
        else:
            full = self._keywords_as_positions(args, kwargs)
        if full is not None:
            fast = self._fast_key(full)
            if fast is not None:
                specs = self._fast.get(fast)
                if specs:
                    for spec in specs:
                        matched = spec.match(full)
                        if matched is not None:
                            if spec.eager:
                                return self.fn(*args, **kwargs)
                            return self._run(spec, specs, matched, full, (full, {}), args, kwargs)
        try:
            key, bound, values, treedef, abstract, backend, libs, parts = self._key(args, kwargs)
        except _BadCall:
            return self.fn(*args, **kwargs)
        except UnsupportedArgument as exc:
            if self.fullgraph:
                raise
            if not any(f.message == str(exc) for f in self.fallbacks):
                fallback = Fallback(self.name, exc.op, exc.loc or definition_line(self.fn), str(exc))
                self.fallbacks.append(fallback)
                warn_fallback(fallback)
            return self.fn(*args, **kwargs)
        specs = self._cache.get(key)
        if specs is None:
            specs = self._cache[key] = []
        if fast is not None:
            self._fast[fast] = specs
        call = (bound.args, bound.kwargs)
        for spec in specs:
            matched = spec.match(values)
            if matched is not None:
                if spec.eager:
                    return self.fn(*args, **kwargs)
                return self._run(spec, specs, matched, values, call, args, kwargs)
        outside = self._ints_outside(specs, values, bound, parts)
        if outside:           # a dynamic int beyond where its trace holds: a static trace for it
            return self._call_with_static_ints(outside, args, kwargs)
        if not any(spec.family is not None for spec in specs):   # (one that failed its guards: traced again)
            member = self.families.member(key, values)
            if member is not None:
                spec, matched = member
                specs.insert(0, spec)
                return self._run(spec, specs, matched, values, call, args, kwargs)
        spec = self._specialize(key, specs, bound, values, treedef, abstract, backend, libs, parts)
        if isinstance(spec, _Retry):            # the dynamic ints decide shapes: trace them static
            if spec.again:
                return self(*args, **kwargs)
            return self._call_with_static_ints(frozenset(), args, kwargs)
        if isinstance(spec, _Failed):
            return self._eager_after_failure(spec.exc, specs, bound, args, kwargs)
        if spec.eager:
            return self.fn(*args, **kwargs)
        matched = spec.match(values)
        if matched is None:          # the state changed while tracing (another thread): no compiled run
            return self.fn(*args, **kwargs)
        return self._run(spec, specs, matched, values, call, args, kwargs)

    def _ints_outside(self, specs, values, bound, parts) -> frozenset:
        """Paths of dynamic ints outside the range of every specialization traced for them."""
        if _DYNAMIC_INT not in parts:
            return frozenset()
        traced = [s for s in specs if not s.eager and s.dynamic_ints]
        if not traced or any(s.ints_fit(values) for s in traced):
            return frozenset()
        paths = self._paths(bound)
        return frozenset(paths[i] for i, part in enumerate(parts) if part is _DYNAMIC_INT)

    def _call_with_static_ints(self, keep_static, args, kwargs):
        """This call with the given int paths (all dynamic ones when empty: they were
        found to decide shapes or control flow, and stay static) keyed by value."""
        try:
            key, bound, values, treedef, abstract, backend, libs, parts = self._key(args, kwargs, keep_static)
        except _BadCall:
            return self.fn(*args, **kwargs)
        specs = self._cache.setdefault(key, [])
        call = (bound.args, bound.kwargs)
        for spec in specs:
            matched = spec.match(values)
            if matched is not None:
                return self.fn(*args, **kwargs) if spec.eager else \
                    self._run(spec, specs, matched, values, call, args, kwargs)
        spec = self._specialize(key, specs, bound, values, treedef, abstract, backend, libs, parts)
        if isinstance(spec, _Failed):
            return self._eager_after_failure(spec.exc, specs, bound, args, kwargs)
        if isinstance(spec, _Retry):
            return self(*args, **kwargs) if spec.again else self.fn(*args, **kwargs)
        if spec.eager:
            return self.fn(*args, **kwargs)
        matched = spec.match(values)
        if matched is None:
            return self.fn(*args, **kwargs)
        return self._run(spec, specs, matched, values, call, args, kwargs)

    # -- compiling ----------------------------------------------------------------------
    def _specialize(self, key, specs, bound, values, treedef, abstract, backend, libs, parts):
        with self._lock:
            for spec in specs:            # another thread compiled it while this one waited
                if spec.eager or spec.match(values) is not None:
                    return spec
            if specs:
                if len(specs) >= MAX_SPECIALIZATIONS:
                    return self._too_many(specs, values)
                reason = specs[0].why(values) if not specs[0].eager else "guards changed"
            all_paths = self._paths(bound)
            path_of = lambda i: all_paths[i] if i < len(all_paths) else f"#{i}"   # noqa: E731
            leaf_paths_now = [path_of(i) for i in range(len(abstract))]
            if not specs:
                reason = describe_key_change(self._last_key, key, leaf_paths_now)
            changed = (changed_paths(self._last_key, key, leaf_paths_now) if self._last_key != key
                       else ["guards on what it reads (globals, attributes)"])
            if self.recompiles.exceeded(len(self.compiles) - self._extensions) and not self.families.extends(key):
                self.recompiles.note(changed)
                return self._over_recompile_limit(specs)
            abstract_args, abstract_kwargs = unflatten(treedef, abstract)
            arg_objects = argument_objects(values, parts, path_of)
            statics = [v for v, part in zip(values, parts) if part[0] in ("static", "object")]
            traced_positions = [i for i, part in enumerate(parts) if part[0] in ("array", "weak", "dynint", "numlist")]
            if backend.name == "numba":
                from ..codegen import native_cache
                plan_store.fingerprint()      # ~150 file stats: before the prefetch's import contends for the GIL
                native_cache.prefetch()       # LLVM loads while this traces (a warm start needs it)
            start = time.perf_counter()
            try:
                world = World(self.fn, arg_objects, frozenset(self.int_state))
                refuse_unreplayable(self.fn, world, statics)
                refuse_state_containers_as_arguments(self.fn, world, bound)
                layouts = [array_layout(values[i]) for i in traced_positions]
                compilation = compile_function(self.fn, abstract_args, abstract_kwargs, backend, name=self.name,
                                               world=world, layouts=layouts)
                xp = next(iter(libs)) if libs else NUMPY
                spec = Specialization(compilation, xp, world, traced_positions)
            except (TracerError, CompilerError) as exc:
                changed_int = getattr(exc, "int_state", None)
                if changed_int is not None and changed_int not in self.int_state:
                    self.int_state.add(changed_int)          # a counter (self.t += 1): trace it as a value
                    del self._cache[key]
                    return _Retry(again=True)
                if isinstance(exc, TracerError) and getattr(exc, "array_conversion", False) \
                        and not self._float_lists and has_short_float_lists(list(bound.arguments.values())):
                    self._float_lists = True                # np.exp(weights): float lists as one vector
                    del self._cache[key]
                    return _Retry(again=True)
                if isinstance(exc, TracerError) and any(p[0] == "numlist" and p[1] is int for p in parts):
                    self._int_lists_static = True           # int lists that decide shapes: keyed by value
                    del self._cache[key]
                    return _Retry()
                if isinstance(exc, TracerError) and _DYNAMIC_INT in parts:
                    paths = self._paths(bound)
                    self._static_ints.update(paths[i] for i, part in enumerate(parts) if part is _DYNAMIC_INT)
                    self.dynamic_ints -= self._static_ints
                    self._update_dynamic_positions()
                    del self._cache[key]
                    return _Retry()
                if self.fullgraph:
                    raise
                return self._fall_back(specs, exc)
            except Exception as exc:     # noqa: BLE001  (the safety net: eager NumPy decides)
                if self.fullgraph:
                    raise
                return _Failed(exc)
            event = CompileEvent(self.name, reason, time.perf_counter() - start)
            event.stages.update(compilation.seconds)
            event.stages["guards"] = max(0.0, event.seconds - sum(compilation.seconds.values()))
            spec.pending_event = (event, [k for k in compilation.plan.kernels
                                          if getattr(k, "compile_seconds", 0) is None])
            self.compiles.append(event)
            if self.background_compile and xp is NUMPY and compilation.plan.kernels:
                spec.warming = BackgroundCompile(spec, self._warm_inputs(spec, values))
            if len(self.compiles) > 1:
                self.recompiles.note(changed)
            if self.families.extends(key):
                self._extensions += 1
            if not specs:
                probed = time.perf_counter()
                if self.families.after_new_key(key, values, abstract, treedef, backend, xp, arg_objects,
                                               traced_positions):
                    event.add_stage("shape family probes", time.perf_counter() - probed)
            specs.insert(0, spec)
            self._last_key = key
            if os.environ.get("TRACEJIT_DUMP"):
                from .dump import dump_from_environment, write_dump
                dump_from_environment(self.name, f"{self.name}_{len(self.compiles)}",
                                      lambda directory, stem: write_dump(compilation, directory, stem, fresh=True))
            return spec

    def _fall_back(self, specs, exc, op=None, loc=None, message=None):
        """Record and warn once; this key runs eagerly from now on (`specs` None: only
        the call at hand does)."""
        if not loc:                   # no user line known (a kernel raised): the function's definition
            loc = getattr(exc, "loc", "") or definition_line(self.fn)
        fallback = Fallback(self.name, op or getattr(exc, "op", "?") or "?", loc, message or str(exc))
        new = not any(f.op == fallback.op and f.loc == fallback.loc for f in self.fallbacks)
        if new:
            warn_fallback(fallback)       # once per construct, however many argument types hit it
            if os.environ.get("TRACEJIT_DUMP"):
                from .dump import dump_from_environment, write_fallback_note
                dump_from_environment(self.name, f"{self.name}_fallback_{len(self.fallbacks) + 1}",
                                      lambda directory, stem: write_fallback_note(fallback, directory, stem))
        if new or specs is not None:
            self.fallbacks.append(fallback)
        spec = EagerSpecialization(self.fn, fallback)
        if specs is not None:
            specs[:] = [spec]
        return spec

    def _too_many(self, specs, values):
        reason = specs[0].why(values) if not specs[0].eager else "guards changed"
        return self._fall_back(specs, None, op="recompilation limit", loc=definition_line(self.fn),
                               message=f"traced {MAX_SPECIALIZATIONS} times for the same argument types "
                                       f"because what it reads keeps changing (last: {reason}); pass "
                                       "values that change on every call as arguments")

    def _over_recompile_limit(self, specs):
        """Past the recompile limit: this key runs eagerly; one warning for the function."""
        if self.fullgraph:
            raise RecompileLimitError(self.recompiles.message(self.name, strict=True))
        message = self.recompiles.message(self.name)
        fallback = Fallback(self.name, "recompile limit", definition_line(self.fn), message)
        if not self.recompiles.warned:
            self.recompiles.warned = True
            warn_fallback(fallback)
        self.fallbacks.append(fallback)
        spec = EagerSpecialization(self.fn, fallback)
        specs[:] = [spec]
        return spec

    def _eager_for_fp_errors(self, args, kwargs):
        """NumPy raises on (or calls back for) floating-point errors now, which kernels do
        not detect: this call runs eagerly (one warning per function; fullgraph raises)."""
        message = (f"np.errstate/np.seterr ({fp_error_settings()}): compiled kernels do not detect "
                   "floating-point errors, so calls run eagerly while that setting holds")
        if self.fullgraph:
            raise UnsupportedError(message, "np.errstate", definition_line(self.fn))
        if not any(f.op == "np.errstate" for f in self.fallbacks):
            fallback = Fallback(self.name, "np.errstate", definition_line(self.fn), message)
            self.fallbacks.append(fallback)
            warn_fallback(fallback)
        return self.fn(*args, **kwargs)

    def _eager_after_failure(self, exc, specs, bound, args, kwargs):
        """Tracing or compiling raised `exc`: run eagerly. NumPy raising too means the
        error is the user's (they see NumPy's exception); else it was tracejit's."""
        try:
            result = self.fn(*args, **kwargs)
        except Exception as eager_exc:
            note = argument_note(self.name, bound, eager_exc)
            if note and hasattr(eager_exc, "add_note"):
                eager_exc.add_note(note)
            raise
        op, loc, message = describe_failure(exc, "tracing or compiling")
        with self._lock:
            self._fall_back(specs, exc, op, loc, message)
        return result

    def _run(self, spec, specs, matched, values, call, args, kwargs):
        if spec.warming is not None:
            if not spec.warming.done.is_set():
                return self.fn(*args, **kwargs)          # kernels still compiling in the background
            spec.warming = None
        compiles_before = len(compile_log.SECONDS)
        try:
            result = spec.run(values, matched, call)
            if spec.pending_event is not None:
                self._count_kernel_compiles(spec)
            elif len(compile_log.SECONDS) != compiles_before:
                self._count_late_compiles(spec, sum(compile_log.SECONDS[compiles_before:]))
            return result
        except GuardsChanged:
            return self(*args, **kwargs)
        except PlanFailed as failure:
            exc = failure.cause
            if getattr(exc, "op", "") == "aliasing" and not failure.wrote_inputs and not self.fullgraph:
                with self._lock:              # this call only: calls without the overlap stay compiled
                    self._fall_back(None, exc, message=f"{exc}; calls whose arrays do not overlap stay compiled")
                return self.fn(*args, **kwargs)
            if failure.wrote_inputs:
                # running eagerly now would start from arguments the plan already changed
                # (a second `a += 1`): the error stands, as NumPy's would at that point
                if hasattr(exc, "add_note"):
                    exc.add_note(f"tracejit: {self.name}'s compiled code raised this after it may have "
                                 "written into its array arguments or state: their contents can differ "
                                 "from what NumPy would leave")
                raise exc from None
            if isinstance(exc, CompilerError):
                if self.fullgraph:
                    raise exc from None
                with self._lock:
                    self._fall_back(specs, exc)
                return self.fn(*args, **kwargs)
            if self.fullgraph and isinstance(exc, TracerError):
                raise exc from None               # refused (aliasing): nothing ran, nothing changed
            result = self.fn(*args, **kwargs)     # NumPy's own exception, if NumPy raises
            if self.fullgraph:
                raise exc from None
            op, loc, message = describe_failure(exc, "running the compiled code")
            with self._lock:
                self._fall_back(specs, exc, op, loc, message)
            return result

    @staticmethod
    def _warm_inputs(spec, values):
        matched = spec.match(values)
        return spec.plan_inputs(values, matched)[0] if matched is not None else []

    def wait_compiled(self, timeout=None) -> bool:
        """Wait for background compiles (``background_compile=True``) to finish; True
        when none is pending any more."""
        pending = [s.warming for s in self.specializations() if s.warming is not None]
        return all(w.done.wait(timeout) for w in pending)

    @staticmethod
    def _count_kernel_compiles(spec) -> None:
        """After a specialization's first run: add the kernels' first-launch compile
        (or cache load) to its CompileEvent, so f.compiles reports the whole cost."""
        event, kernels = spec.pending_event
        spec.pending_event = None
        # a Numba kernel written in place, or run flat, compiles a variant of itself at that launch
        kernels = [*kernels, *(v for k in kernels if hasattr(k, "variants") for v in k.variants())]
        compiled = [k.compile_seconds for k in kernels if k.compile_seconds is not None]
        event.add_stage("kernel compile", sum(compiled))
        spec.compile_event = event

    def _count_late_compiles(self, spec, seconds: float) -> None:
        """A later call compiled kernels (a variant for new argument layouts): their cost
        joins the specialization's CompileEvent (a specialization a shape family made
        without a compile: the function's latest one)."""
        event = getattr(spec, "compile_event", None) or (self.compiles[-1] if self.compiles else None)
        if event is None:
            event = CompileEvent(self.name, "kernels for new argument layouts", 0.0)
            self.compiles.append(event)
        spec.compile_event = event
        event.add_stage("kernel compile", seconds)

    # -- introspection --------------------------------------------------------------
    def specializations(self) -> list:
        return [s for specs in self._cache.values() for s in specs if isinstance(s, Specialization)]

    def __repr__(self) -> str:
        return f"<tracejit compiled {self.name} backend={self.backend} specializations={len(self.specializations())}>"


def refuse_state_containers_as_arguments(fn, world, bound) -> None:
    """UnsupportedError when a dict or list passed as an argument is also state the
    function reaches (``f(model, model.state)``): a write through one name must show
    through the other, and the trace keeps the two apart."""
    pending = list(bound.arguments.values())
    while pending:
        value = pending.pop()
        if type(value) in (dict, list):
            node = world.discovery.by_id.get(id(value))
            if node is not None and node.obj is value:
                raise UnsupportedError(f"an argument that is also {node.desc} (the same {type(value).__name__})",
                                       "aliased state", definition_line(fn),
                                       "pass it once: as the argument or as state")
            pending.extend(value.values() if type(value) is dict else value)
        elif type(value) is tuple:
            pending.extend(value)


def refuse_unreplayable(fn, world, statics) -> None:
    """UnsupportedError when `fn` draws random numbers, does I/O or reads state no guard
    can watch (``unwatched.py``): traced once, those would happen (or be frozen) at
    trace time instead of on every call."""
    for what, loc in world.discovery.unwatched:
        raise UnsupportedError(f"reading {what}", "unwatched read", loc or definition_line(fn),
                               "a trace would freeze what it returned, and no guard could notice a "
                               "change; pass the value as an argument or read it outside the compiled "
                               "function")
    rng = random_source(world.discovery, statics)
    if rng:
        raise UnsupportedError(f"drawing random numbers inside a compiled function ({rng})", "np.random",
                               definition_line(fn), "they would be frozen at trace time; pass random arrays "
                                                    "as arguments")
    changing = unrepeatable_source(world.discovery, statics)
    if changing:
        raise UnsupportedError(f"{changing} inside a compiled function", "unrepeatable read",
                               definition_line(fn), "it would be read once, while tracing, and frozen; pass "
                                                    "the value as an argument")
    effect = io_source(world.discovery)
    if effect:
        raise UnsupportedError(f"I/O inside a compiled function ({effect})", effect, definition_line(fn),
                               "it would happen once, while tracing, instead of on every call; print() is "
                               "compiled")


def _ufunc_function(ufunc):
    """A plain function of the ufunc's operands (NumPy ufuncs have no inspectable signature)."""
    names = [f"x{i}" for i in range(ufunc.nin)]
    namespace = {"ufunc": ufunc}
    exec(f"def {ufunc.__name__}({', '.join(names)}):\n    return ufunc({', '.join(names)})\n", namespace)
    return namespace[ufunc.__name__]


__all__ = ["CompiledFunction", "RecompileLimitError", "refuse_unreplayable", "user_line"]
