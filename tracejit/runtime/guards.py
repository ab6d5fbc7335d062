"""Guards: on every call, is the state a specialization was traced with still there?

A ``GuardTree`` mirrors the nodes ``discover.py`` found (globals, closure cells,
the bound object, plain objects passed as arguments, and everything below them
that the code names). Per node it checks, with one C-level getter per group:

- scalars, functions, library objects: the same object (fast), or an equal scalar;
- arrays: the same object (fast), or any ndarray of the same shape and dtype: state
  arrays are read live on every call, so rebinding ``self.w`` to a new array of the
  same shape costs nothing, and in-place updates are seen;
- absent keys still absent, lists and fully read dicts still as long;
- child nodes: the same type, then recursively.

A check that passes also yields the plan's state inputs (in the order the trace
numbered them) and the objects implicit outputs are written back to. Objects are
not kept alive by a guard: roots that are arguments come with each call, and
objects reached by two paths are compared through weak references where possible.
"""
from __future__ import annotations

import operator
import weakref

import numpy as np

from .discover import (ARRAY, CELLS, CLASS, CONTENT, DICT, GLOBALS, IDENT, LIST, MODULE, NODE, OBJECT,
                       SHARED, TUPLE)

_is = operator.is_
_call = operator.call


def same_scalar(a, b) -> bool:
    if type(a) is not type(b):
        return False
    try:
        if a == b:
            return True
    except Exception:    # noqa: BLE001  (a scalar type with odd comparisons)
        return False
    return a != a and b != b            # NaN stays NaN


def _getter(kind, keys):
    """A function obj -> tuple of the entries `keys` (C-level where possible)."""
    if not keys:
        return None
    if kind == CELLS:
        keys = tuple(keys)
        return lambda cells: tuple(cells[i].cell_contents for i in keys)
    if kind in (OBJECT, MODULE, CLASS):
        get = operator.attrgetter(*keys)
    else:
        get = operator.itemgetter(*keys)
    if len(keys) == 1:
        return lambda obj: (get(obj),)
    return get


def _absent_space(kind):
    if kind in (DICT, GLOBALS):
        return lambda obj: obj
    if kind in (OBJECT, MODULE):
        return lambda obj: getattr(obj, "__dict__", {})
    return None


class GuardNode:
    __slots__ = ("type", "desc", "kind", "length", "absent", "absent_in", "slot_absent",
                 "leaf_get", "leaf_exp", "leaf_keys", "weak_get", "weak_refs", "weak_keys",
                 "arr_get", "arr_exp", "arr_sig", "arr_keys", "pick", "kid_get", "kids", "target", "array_index")

    def __init__(self, node, used, targets):
        self.type = type(node.obj)
        self.desc = node.desc
        self.kind = node.kind
        self.length = len(node.obj) if node.full and node.kind in (DICT, LIST, TUPLE) else -1
        self.absent = tuple(k for k in node.absent if k not in node.slots) if _absent_space(node.kind) else ()
        self.absent_in = _absent_space(node.kind)
        self.slot_absent = tuple(k for k in node.absent if k in node.slots)
        leaves, weak, arrays, kids = [], [], [], []
        for key, (kind, value) in node.entries.items():
            if kind == ARRAY:
                arrays.append((key, value))
            elif kind == NODE:
                kids.append((key, value))
            elif kind in (SHARED, IDENT) and _weakable(value):
                weak.append((key, weakref.ref(value)))    # (functions and methods may hold instances)
            elif kind == CONTENT:
                leaves.append((key, _Content(value)))
            else:
                leaves.append((key, value))
        self.leaf_keys = [k for k, _ in leaves]
        self.leaf_exp = [v for _, v in leaves]
        self.leaf_get = _getter(node.kind, self.leaf_keys)
        self.weak_keys = [k for k, _ in weak]
        self.weak_refs = [r for _, r in weak]
        self.weak_get = _getter(node.kind, self.weak_keys)
        self.arr_keys = [k for k, _ in arrays]
        self.arr_exp = [v for _, v in arrays]        # the arrays last seen (the fast path)
        self.arr_sig = [(type(v), v.shape, v.dtype) for _, v in arrays]
        self.arr_get = _getter(node.kind, self.arr_keys)
        self.array_index = {k: i for i, k in enumerate(self.arr_keys)}
        chosen = [i for i, k in enumerate(self.arr_keys) if (node.index, k) in used]
        self.pick = None if not chosen else (
            (lambda values: values) if len(chosen) == len(self.arr_keys) else
            (lambda values, g=operator.itemgetter(*chosen): (g(values),)) if len(chosen) == 1 else
            operator.itemgetter(*chosen))
        self.kid_get = _getter(node.kind, [k for k, _ in kids])
        self.kids = [GuardNode(kid, used, targets) for _, kid in kids]
        self.target = targets.get(node.index, -1)

    def check(self, obj, inputs, found) -> bool:
        try:
            if self.length >= 0 and len(obj) != self.length:
                return False
            if self.absent and any(map(self.absent_in(obj).__contains__, self.absent)):
                return False
            if self.slot_absent and any(hasattr(obj, k) for k in self.slot_absent):
                return False
            if self.leaf_get is not None:
                values = self.leaf_get(obj)
                if not all(map(_is, values, self.leaf_exp)) and not self._leaves_again(values):
                    return False
            if self.weak_get is not None:
                values = self.weak_get(obj)
                if not all(map(_is, values, map(_call, self.weak_refs))):
                    return False
            if self.arr_get is not None:
                values = self.arr_get(obj)
                if not all(map(_is, values, self.arr_exp)) and not self._arrays_again(values):
                    return False
                if self.pick is not None:
                    inputs.extend(self.pick(values))
            if self.kids:
                for kid, value in zip(self.kids, self.kid_get(obj)):
                    if type(value) is not kid.type or not kid.check(value, inputs, found):
                        return False
        except Exception:    # noqa: BLE001  (a key or attribute is gone, a cell emptied, ...)
            return False
        if self.target >= 0:
            found[self.target] = obj
        return True

    def _leaves_again(self, values) -> bool:
        expected = self.leaf_exp
        for i, (value, old) in enumerate(zip(values, expected)):
            if value is old:
                continue
            if isinstance(old, _Content):
                if not old.same(value):
                    return False
            elif not _is_scalar(old) or not same_scalar(value, old):
                return False
            else:
                expected[i] = value
        return True

    def _arrays_again(self, values) -> bool:
        expected = self.arr_exp
        for i, (value, old, (kind, shape, dtype)) in enumerate(zip(values, expected, self.arr_sig)):
            if value is old:
                continue
            if type(value) is not kind or value.shape != shape or value.dtype != dtype:
                return False
            expected[i] = value           # the new array is read from now on
        return True

    def release(self) -> None:
        """Forget the arrays last seen (their owner is gone); the next call re-checks them."""
        self.arr_exp[:] = [None] * len(self.arr_exp)
        for kid in self.kids:
            kid.release()

    def why(self, obj) -> str | None:
        """Words for the first failing part of this node's check (slow; for records)."""
        if type(obj) is not self.type:
            return f"{self.desc} is now a {type(obj).__name__} (was {self.type.__name__})"
        try:
            if self.length >= 0 and len(obj) != self.length:
                return f"{self.desc} changed length to {len(obj)} (was {self.length})"
            for key in self.absent:
                if key in self.absent_in(obj):
                    return f"{self.desc} now has {key!r}"
            for key, old in zip(self.leaf_keys, self.leaf_exp):
                value = self.leaf_get(obj)[self.leaf_keys.index(key)]
                if value is not old and not (isinstance(old, _Content) and old.same(value)) and \
                        not (_is_scalar(old) and same_scalar(value, old)):
                    return f"{_child(self, key)} changed to {_brief(value)} (was {_brief(old)})"
            for key, ref in zip(self.weak_keys, self.weak_refs):
                if self.weak_get(obj)[self.weak_keys.index(key)] is not ref():
                    return f"{_child(self, key)} was rebound"
            if self.arr_get is not None:
                for key, value, (kind, shape, dtype) in zip(self.arr_keys, self.arr_get(obj), self.arr_sig):
                    if type(value) is not kind or value.shape != shape or value.dtype != dtype:
                        return f"array {_child(self, key)} was rebound to {_brief(value)}"
            if self.kids:
                for kid, value in zip(self.kids, self.kid_get(obj)):
                    reason = kid.why(value)
                    if reason:
                        return reason
        except Exception as exc:   # noqa: BLE001
            return f"{self.desc} changed ({type(exc).__name__}: {exc})"
        return None


class _Content:
    """A set's contents at trace time."""
    __slots__ = ("frozen",)

    def __init__(self, value):
        self.frozen = frozenset(value)

    def same(self, value) -> bool:
        return isinstance(value, (set, frozenset)) and frozenset(value) == self.frozen


def _is_scalar(value) -> bool:
    return isinstance(value, (int, float, bool, str, bytes, complex, type(None), np.generic))


def _weakable(value) -> bool:
    try:
        weakref.ref(value)
        return True
    except TypeError:
        return False


def _child(node, key) -> str:
    if node.kind in (OBJECT, MODULE, CLASS):
        return f"{node.desc}.{key}"
    if node.kind == GLOBALS:
        return f"global {key!r}"
    return f"{node.desc}[{key!r}]"


def _brief(value) -> str:
    if isinstance(value, np.ndarray):
        return f"an array {value.dtype}{list(value.shape)}"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


class GuardTree:
    """Guards of one specialization; see the module doc. ``roots``: (leaf position or
    -1, the fixed object or None, GuardNode)."""

    def __init__(self, world, state_inputs, extra_targets=()):
        used = {(world.value_slots[i].node.index, world.value_slots[i].key) for i in state_inputs}
        targets = {}
        for index in [w.node.index for w in world.writes if w.node is not None] + list(extra_targets):
            targets.setdefault(index, len(targets))
        self.targets = targets            # node index -> position in the found objects
        self.n_targets = len(targets)
        self._watched: set = set()        # ids of argument objects with a finalizer (see _watch)
        self.roots = [(pos, fixed, GuardNode(node, used, targets)) for pos, fixed, node in world.discovery.roots]
        self._by_index = {}
        self._index_nodes(world.discovery.roots, world)

    def _index_nodes(self, roots, world):
        """Node index -> GuardNode, for write-backs that refresh array expectations."""
        nodes = {node.index: node for node in world.nodes}

        def walk(guard, node):
            self._by_index[node.index] = guard
            kid_nodes = [kid for key, (kind, kid) in node.entries.items() if kind == NODE]
            for kid_guard, kid in zip(guard.kids, kid_nodes):
                walk(kid_guard, kid)
        for (pos, fixed, guard), (_, _, node) in zip(self.roots, roots):
            walk(guard, node)
        del nodes

    def check(self, leaves):
        """(state inputs, write targets) if every guard holds, else None."""
        inputs, found = [], [None] * self.n_targets
        for pos, fixed, guard in self.roots:
            obj = fixed if pos < 0 else leaves[pos]
            if type(obj) is not guard.type or not guard.check(obj, inputs, found):
                return None
            if pos >= 0 and id(obj) not in self._watched:
                self._watch(obj)
        return inputs, found

    def _watch(self, obj) -> None:
        """When an argument object whose arrays the guards remember dies, forget them
        too: a dropped model's weights are not kept alive by the cache."""
        try:
            weakref.finalize(obj, self._forget, id(obj))
        except TypeError:
            return
        self._watched.add(id(obj))

    def _forget(self, key) -> None:
        self._watched.discard(key)
        for _, _, guard in self.roots:
            guard.release()

    def why(self, leaves) -> str:
        for pos, fixed, guard in self.roots:
            reason = guard.why(fixed if pos < 0 else leaves[pos])
            if reason:
                return reason
        return "a guard failed"

    def refresh(self, node_index, key, value) -> None:
        """After a write-back of an array: expect the new array (the fast path)."""
        guard = self._by_index.get(node_index)
        if guard is not None:
            i = guard.array_index.get(key)
            if i is not None and type(value) is guard.arr_sig[i][0]:
                guard.arr_exp[i] = value
