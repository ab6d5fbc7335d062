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

import types

SCALAR_TYPES = (int, float, bool, str)
_MISSING = object()


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
        if type(now) is type(self.value) and now == self.value:
            return None
        return f"{self.locator.description} changed to {now!r} (was {self.value!r})"


def _referenced_names(code) -> set:
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _referenced_names(const)
    return names


def _roots(fn):
    """(description, getter) of every global, closure cell and self attribute `fn` may read."""
    target = getattr(fn, "__func__", fn)
    code = getattr(target, "__code__", None)
    if code is None:
        return
    globals_ = getattr(target, "__globals__", {})
    for name in sorted(_referenced_names(code)):
        if name in globals_:
            yield f"global {name!r}", (lambda g=globals_, n=name: g.get(n, _MISSING))
    for name, cell in zip(code.co_freevars, target.__closure__ or ()):
        yield f"closure variable {name!r}", (lambda c=cell: _cell(c))
    owner = getattr(fn, "__self__", None)
    if owner is not None and hasattr(owner, "__dict__"):
        for name in sorted(_referenced_names(code) & set(vars(owner))):
            yield f"self.{name}", (lambda o=owner, n=name: getattr(o, n, _MISSING))


def _children(value):
    """(suffix, getter-from-parent) of a container's items and a plain object's attributes."""
    if isinstance(value, dict):
        for key in list(value)[:256]:
            yield f"[{key!r}]", (lambda parent, k=key: parent.get(k, _MISSING) if isinstance(parent, dict) else _MISSING)
    elif isinstance(value, (list, tuple)):
        for index in range(min(len(value), 256)):
            yield f"[{index}]", (lambda parent, i=index: parent[i] if isinstance(parent, (list, tuple))
                                 and i < len(parent) else _MISSING)
    elif hasattr(value, "__dict__") and not isinstance(value, (types.ModuleType, type, types.FunctionType)):
        for name in list(vars(value))[:256]:
            yield f".{name}", (lambda parent, n=name: getattr(parent, n, _MISSING))


def find_locators(fn, lifted, bound=None) -> list:
    """One Locator (or None when no path to it is found) per lifted array."""
    wanted = {id(a): i for i, a in enumerate(lifted)}
    found = [None] * len(lifted)
    for description, getter in _roots(fn):
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


def find_scalar_guards(fn, depth: int = 2) -> list:
    """Guards on the Python scalars `fn` (and same-module helpers it names) may read."""
    guards, seen = [], set()

    def visit(function, level):
        if id(function) in seen:
            return
        seen.add(id(function))
        for description, getter in _roots(function):
            value = getter()
            if type(value) in SCALAR_TYPES:
                guards.append(ScalarGuard(Locator(description, getter), value))
            elif isinstance(value, types.FunctionType) and level > 0 and \
                    value.__module__ == getattr(function, "__module__", None):
                visit(value, level - 1)
    visit(fn, depth)
    return guards


def _cell(cell):
    try:
        return cell.cell_contents
    except ValueError:
        return _MISSING
