"""The numbers in a plan, read out in a fixed order and written back in the same order.

A shape family (``shape_families.py``) compares the plans traced at several sizes:
they must be the same plan except for their integers (buffer shapes, kernel size
arguments, view attributes, loop trip counts, written regions). ``read`` gives a
plan's *skeleton* (everything but the integers: kernels by identity, dtypes, op names,
floats, constant arrays) and its integers; ``rebuilder`` generates the function that
makes a new plan from a template and a new list of integers. Both walk the same
tables, so the i-th integer read is the i-th written.

Mutable per-call state of a plan (reused buffers, prepared launches, the lock) is
never copied: a rebuilt plan starts fresh.
"""
from __future__ import annotations

import threading

import numpy as np

from ..ir.types import TensorType
from ..tracer.pytree import TreeDef
from .plan import InterpretStep, KernelStep, LibraryStep, LoopStep, Plan, ViewStep, WindowWriteStep
from .row_chains import ChainStep

# the fields of each plan class that hold what the plan computes; the others are
# per-call state (buffers, launch, lock) or kept from the template (region, nest: for dumps)
_FIELDS = {
    Plan: ("n_slots", "n_inputs", "steps", "outputs", "release"),
    KernelStep: ("kernel", "sizes", "inputs", "outputs", "out_types", "into"),
    ViewStep: ("op", "attrs", "input", "output"),
    LibraryStep: ("name", "attrs", "inputs", "outputs", "out_types"),
    LoopStep: ("body", "trips", "layout", "tables", "inputs", "outputs", "in_place"),
    WindowWriteStep: ("attrs", "inputs", "outputs"),
    ChainStep: ("first", "views", "second", "chain", "inputs", "outputs"),
}
_ATOMS = (str, bytes, float, complex, bool, type(None), np.dtype, type)


class Unfamiliar(Exception):
    """Something in a plan that cannot take part in a shape family (an interpreted step)."""


def read(obj, skeleton: list, numbers: list) -> None:
    """Append `obj`'s skeleton tokens and integers (see the module doc)."""
    kind = type(obj)
    if kind is int or (isinstance(obj, (int, np.integer)) and not isinstance(obj, (bool, np.bool_))):
        skeleton.append(0)
        numbers.append(int(obj))
    elif isinstance(obj, _ATOMS) or isinstance(obj, np.generic):
        skeleton.append((kind, obj))
    elif kind in (tuple, list):
        skeleton.append((kind, len(obj)))
        for item in obj:
            read(item, skeleton, numbers)
    elif kind is dict:
        skeleton.append((dict, tuple(obj)))
        for item in obj.values():
            read(item, skeleton, numbers)
    elif kind is slice:
        skeleton.append(slice)
        for item in (obj.start, obj.stop, obj.step):
            read(item, skeleton, numbers)
    elif isinstance(obj, TensorType):
        skeleton.append((kind, obj.dtype, obj.weak, len(obj.shape)))
        for d in obj.shape:
            read(d, skeleton, numbers)
    elif isinstance(obj, np.ndarray):
        skeleton.append((np.ndarray, obj.dtype.str, obj.shape, obj.tobytes()))
    elif kind is TreeDef:
        skeleton.append(obj)
    elif kind is InterpretStep:
        raise Unfamiliar("an interpreted plan")
    elif kind in _FIELDS:
        skeleton.append(kind)
        for name in _FIELDS[kind]:
            read(getattr(obj, name), skeleton, numbers)
    else:
        skeleton.append(("object", id(obj)))        # kernels, arrays of state: the very same object


def rebuilder(obj, varying, start: int = 0):
    """A function ``values -> a copy of obj`` whose integers number `start`, start+1, ...
    (in ``read`` order) are ``values[k]`` where k is in `varying`, and the template's
    elsewhere. Parts without a varying integer are shared with `obj` (plans never change
    them), except per-call state: every step and plan is a new object, with fresh
    buffers, launches and lock. The function is generated Python source: one
    expression, so that serving a new size costs microseconds."""
    consts: list = []
    counter = [start]
    expression = _expression(obj, set(varying), counter, consts)
    namespace = {"c": consts, "_fresh": _fresh, "_new_type": _new_type}
    exec(f"def rebuild(v):\n    return {expression}\n", namespace)
    return namespace["rebuild"]


def _is_int(obj) -> bool:
    return type(obj) is int or (isinstance(obj, (int, np.integer)) and not isinstance(obj, (bool, np.bool_)))


def _const(obj, consts) -> str:
    consts.append(obj)
    return f"c[{len(consts) - 1}]"


def _expression(obj, varying, counter, consts) -> str:
    """Source of an expression for `obj`'s copy (see ``rebuilder``); a reference to `obj`
    itself (``c[i]``) when it can be shared."""
    kind = type(obj)
    if _is_int(obj):
        k = counter[0]
        counter[0] += 1
        return f"v[{k}]" if k in varying else _const(obj, consts)
    if isinstance(obj, _ATOMS) or isinstance(obj, (np.generic, np.ndarray)):
        return _const(obj, consts)
    if kind in _FIELDS:
        changes = [f"{name!r}: {_expression(getattr(obj, name), varying, counter, consts)}" for name in _FIELDS[kind]]
        base = dict(obj.__dict__)
        if kind is KernelStep:
            base["buffers"] = base["launch"] = None
        return f"_fresh({_const(kind, consts)}, {_const(base, consts)}, {{{', '.join(changes)}}})"
    if kind in (tuple, list, dict, slice) or isinstance(obj, TensorType):
        before = counter[0]
        items = list(obj.values()) if kind is dict else [obj.start, obj.stop, obj.step] if kind is slice \
            else list(obj.shape) if isinstance(obj, TensorType) else list(obj)
        mark = len(consts)
        parts = [_expression(item, varying, counter, consts) for item in items]
        if not varying.intersection(range(before, counter[0])) and not _holds_steps(obj):
            del consts[mark:]
            return _const(obj, consts)
        if kind is tuple:
            return "(" + "".join(f"{p}, " for p in parts) + ")"
        if kind is list:
            return "[" + ", ".join(parts) + "]"
        if kind is dict:
            return "{" + ", ".join(f"{_const(key, consts)}: {p}" for key, p in zip(obj, parts)) + "}"
        if kind is slice:
            return f"slice({', '.join(parts)})"
        return f"_new_type({_const(kind, consts)}, ({''.join(f'{p}, ' for p in parts)}), " \
               f"{_const(obj.dtype, consts)}, {obj.weak})"
    return _const(obj, consts)


def _holds_steps(obj) -> bool:
    """Whether a container holds plan objects (which are always made anew)."""
    items = obj.values() if type(obj) is dict else obj if type(obj) in (tuple, list) else ()
    return any(type(item) in _FIELDS or (type(item) in (tuple, list, dict) and _holds_steps(item))
               for item in items)


def _fresh(kind, base, changes):
    """A new plan object: the template's fields `base`, with `changes` and fresh per-call state."""
    new = object.__new__(kind)                 # dataclasses.replace, without re-running __init__
    fields = new.__dict__
    fields.update(base)
    fields.update(changes)
    if kind is Plan:
        fields["lock"] = threading.Lock()
        fields["pool"] = []
        fields["runner"] = None
    elif kind is LoopStep:
        fields["_per_trip"] = {}
    return new


def _new_type(kind, shape, dtype, weak):
    """A TensorType without re-validating what the template's type already checked."""
    new = object.__new__(kind)
    object.__setattr__(new, "shape", shape)
    object.__setattr__(new, "dtype", dtype)
    object.__setattr__(new, "weak", weak)
    return new
