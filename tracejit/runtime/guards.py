"""Guards on what a traced function read besides its arguments.

- Arrays read from globals, closure cells, attributes of the bound object, or one or
  two levels inside a global/closure container (``CFG["w"]``, ``LAYERS[0]``,
  ``cfg.w``) become implicit inputs. The plan reads the live object (in-place updates
  are seen); if the path now leads to another object, the guard fails and the function
  is traced again.
- Python scalars (int, float, bool, str) read from globals, closure cells or the bound
  object's attributes are baked into the trace, so their values are guarded: a changed
  value retraces. Helper functions of the same module are followed two calls deep.
Arrays created inside the function (``np.ones``, ``np.tril(...)``) have no path; they
are trace-time constants, like closure constants under ``jax.jit``.
"""
from __future__ import annotations

import functools
import types

import numpy as np

SCALAR_TYPES = (int, float, bool, str)
_MISSING = object()


def _is_scalar(value) -> bool:
    return type(value) in SCALAR_TYPES or isinstance(value, np.generic)


def _same_scalar(a, b) -> bool:
    if type(a) is not type(b):
        return False
    if a == b:
        return True
    return a != a and b != b            # NaN stays NaN


class Locator:
    """How to find an object again: `current()` returns what the path leads to now."""

    def __init__(self, description, current):
        self.description = description
        self.current = current


class ScalarGuard:
    def __init__(self, locator, value):
        self.locator = locator
        self.value = value

    def failure(self) -> str | None:
        now = self.locator.current()
        if _same_scalar(now, self.value):
            return None
        return f"{self.locator.description} changed to {now!r} (was {self.value!r})"


def _referenced_names(code) -> set:
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _referenced_names(const)
    return names


def _referenced_keys(code) -> set:
    """Names and string constants of the code: the attributes and dict keys it may read."""
    keys = set(code.co_names) | {c for c in code.co_consts if isinstance(c, str)}
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            keys |= _referenced_keys(const)
    return keys


def _plain_object(value) -> bool:
    return hasattr(value, "__dict__") and not isinstance(
        value, (types.ModuleType, type, types.FunctionType, types.MethodType, functools.partial))


def _callable_target(fn):
    """The Python function behind `fn` and the object it is bound to (or None)."""
    if isinstance(fn, functools.partial):
        return _callable_target(fn.func)
    if isinstance(fn, types.MethodType):
        return fn.__func__, fn.__self__
    if isinstance(fn, types.FunctionType):
        return fn, None
    call = getattr(type(fn), "__call__", None)       # a callable object: its __call__, bound
    if isinstance(call, types.FunctionType):
        return call, fn
    return None, None


def _roots(fn, statics=()):
    """(description, getter) of every global, closure cell, attribute of the bound
    object and static argument object that `fn` may read."""
    for obj in statics:
        if _plain_object(obj):
            yield f"argument {type(obj).__name__}", (lambda o=obj: o)
    target, owner = _callable_target(fn)
    code = getattr(target, "__code__", None)
    if code is None:
        return
    globals_ = getattr(target, "__globals__", {})
    for name in sorted(_referenced_names(code)):
        if name in globals_:
            yield f"global {name!r}", (lambda g=globals_, n=name: g.get(n, _MISSING))
    for name, cell in zip(code.co_freevars, target.__closure__ or ()):
        yield f"closure variable {name!r}", (lambda c=cell: _cell(c))
    if owner is not None and hasattr(owner, "__dict__"):
        for name in sorted(_referenced_names(code)):
            # instance or class attributes (a class default later set on the instance)
            if name in vars(owner) or not callable(getattr(type(owner), name, None)) and hasattr(owner, name):
                yield f"self.{name}", (lambda o=owner, n=name: getattr(o, n, _MISSING))


def _children(value, allowed=None):
    """(suffix, getter-from-parent) of a container's items and a plain object's attributes
    (only string keys and attribute names in `allowed`, when given)."""
    if isinstance(value, dict):
        for key in list(value)[:256]:
            if allowed is not None and isinstance(key, str) and key not in allowed:
                continue
            yield f"[{key!r}]", (lambda parent, k=key: parent.get(k, _MISSING) if isinstance(parent, dict) else _MISSING)
    elif isinstance(value, (list, tuple)):
        for index in range(min(len(value), 256)):
            yield f"[{index}]", (lambda parent, i=index: parent[i] if isinstance(parent, (list, tuple))
                                 and i < len(parent) else _MISSING)
    elif hasattr(value, "__dict__") and not isinstance(value, (types.ModuleType, type, types.FunctionType)):
        for name in list(vars(value))[:256]:
            if allowed is not None and name not in allowed:
                continue
            yield f".{name}", (lambda parent, n=name: getattr(parent, n, _MISSING))


def find_locators(fn, lifted, statics=()) -> list:
    """One Locator (or None when no path to it is found) per lifted array."""
    wanted = {id(a): i for i, a in enumerate(lifted)}
    found = [None] * len(lifted)
    for description, getter in _roots(fn, statics):
        _search(getter(), description, getter, wanted, found, depth=2)
    return found


def _search(value, description, getter, wanted, found, depth):
    index = wanted.get(id(value))
    if index is not None and found[index] is None:
        found[index] = Locator(description, getter)
        return
    if depth == 0 or value is _MISSING:
        return
    for suffix, child in _children(value):
        def path(getter=getter, child=child):
            parent = getter()
            return _MISSING if parent is _MISSING else child(parent)
        _search(path(), description + suffix, path, wanted, found, depth - 1)


def find_scalar_guards(fn, statics=(), depth: int = 2) -> list:
    """Guards on the scalars (Python and NumPy) that `fn`, the same-module helper
    functions it names and the methods of its object may read: in globals, closure
    cells, attributes, and one or two levels inside containers and objects."""
    guards, seen = [], set()

    def collect(value, description, getter, level, allowed):
        if _is_scalar(value):
            guards.append(ScalarGuard(Locator(description, getter), value))
            return
        if isinstance(value, np.ndarray) and value.ndim == 0:
            # a 0-d array (a step counter) may feed eager NumPy math at trace time
            # (`0.9 ** (self.t + 1)` is computed before tracing sees it): guard its value
            guards.append(ScalarGuard(Locator(description, lambda g=getter: _item(g())), value.item()))
            return
        if level == 0 or value is _MISSING or isinstance(value, np.ndarray):
            return
        # only what the code names: a counter elsewhere on the object must not retrace
        for suffix, child in _children(value, allowed):
            def path(getter=getter, child=child):
                parent = getter()
                return _MISSING if parent is _MISSING else child(parent)
            collect(path(), description + suffix, path, level - 1, allowed)

    def visit(function, level, with_statics=()):
        target, owner = _callable_target(function)
        if target is None or id(target) in seen:
            return
        seen.add(id(target))
        allowed = _referenced_keys(target.__code__)
        for description, getter in _roots(function, with_statics):
            value = getter()
            if isinstance(value, types.FunctionType) and level > 0 and \
                    value.__module__ == getattr(target, "__module__", None):
                visit(value, level - 1)
            else:
                collect(value, description, getter, 2, allowed)
        objects = [owner] if owner is not None else []
        objects += [obj for obj in with_statics if _plain_object(obj)]
        for obj in objects if level > 0 else ():        # self.helper(...) reads self too
            for name in _referenced_names(target.__code__):
                method = getattr(type(obj), name, None)
                if isinstance(method, types.FunctionType):
                    visit(types.MethodType(method, obj), level - 1)
    visit(fn, depth, statics)
    return guards


def _item(value):
    return value.item() if isinstance(value, np.ndarray) and value.ndim == 0 else _MISSING


def _cell(cell):
    try:
        return cell.cell_contents
    except ValueError:
        return _MISSING


_RANDOM_TYPES = (np.random.Generator, np.random.RandomState, np.random.BitGenerator)


def random_source(fn, statics=()) -> str | None:
    """Where `fn` (or a same-module helper or method it calls) draws random numbers
    with NumPy, or None. Traced once, such draws would be frozen into constants, so
    the runtime runs these functions eagerly instead."""
    seen = set()

    def is_random(value):
        return (isinstance(value, _RANDOM_TYPES) or value is np.random
                or isinstance(getattr(value, "__self__", None), _RANDOM_TYPES))

    def visit(function, level, with_statics=()):
        target, owner = _callable_target(function)
        if target is None or id(target) in seen:
            return None
        seen.add(id(target))
        names = _referenced_names(target.__code__)
        for description, getter in _roots(function, with_statics):
            value = getter()
            if is_random(value) or (value is np and "random" in names):
                return description
            if isinstance(value, types.FunctionType) and level > 0 and \
                    value.__module__ == getattr(target, "__module__", None):
                found = visit(value, level - 1)
                if found:
                    return found
        objects = ([owner] if owner is not None else []) + [o for o in with_statics if _plain_object(o)]
        for obj in objects:
            for name in names:
                attribute = getattr(obj, name, None) if name in getattr(obj, "__dict__", {}) else None
                if is_random(attribute):
                    return f"{type(obj).__name__}.{name}"
                method = getattr(type(obj), name, None)
                if isinstance(method, types.FunctionType) and level > 0:
                    found = visit(types.MethodType(method, obj), level - 1)
                    if found:
                        return found
        return None
    for value in statics:
        if is_random(value):
            return "a random generator argument"
    return visit(fn, 2, statics)
