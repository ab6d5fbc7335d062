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

import itertools
import operator
import types
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


class _Flat:
    """A node as the guards see it. Attribute chains of plain objects are merged into
    their parent (``fc1.w``), and a list of objects of one shape (transformer blocks)
    into one row-wise getter, so a few C-level calls read a whole model."""

    __slots__ = ("type", "desc", "kind", "index", "length", "length_of", "absent", "absent_dict", "slot_absent",
                 "entries", "kids", "target", "rows", "shadow", "hidden")


def _flat(node, targets) -> _Flat:
    flat = _Flat()
    flat.type, flat.desc, flat.kind, flat.index = type(node.obj), node.desc, node.kind, node.index
    flat.length, flat.length_of = -1, len
    if node.full and node.kind in (DICT, LIST, TUPLE):
        flat.length = len(node.obj)
    elif node.full and node.kind == OBJECT and isinstance(getattr(node.obj, "__dict__", None), dict):
        flat.length, flat.length_of = len(vars(node.obj)), _attribute_count    # vars(self) read whole
    spaced = node.kind in (DICT, GLOBALS) or (node.kind in (OBJECT, MODULE) and
                                              isinstance(getattr(node.obj, "__dict__", None), dict))
    flat.absent = frozenset(k for k in node.absent if k not in node.slots) if spaced else frozenset()
    flat.absent_dict = node.kind in (OBJECT, MODULE)
    flat.slot_absent = tuple(k for k in node.absent if k in node.slots)
    flat.target = targets.get(node.index, -1)
    flat.rows = None
    # names of class attributes (methods) no instance attribute may hide; a merged kid's
    # are checked by its parent: `hidden` holds (getter of the kid, names) per merged kid
    flat.shadow = frozenset(node.shadow) if spaced and node.kind == OBJECT else frozenset()
    flat.hidden = []
    flat.entries = [(key, kind, value, (node.index, key)) for key, (kind, value) in node.entries.items()
                    if kind != NODE]
    # an object reached by two paths (self.cfg and the global DEFAULT), or compared by
    # identity: the same object, not only one of the same kind
    flat.entries += [(key, IDENT, kid.obj, None) for key, (kind, kid) in node.entries.items()
                     if kind == NODE and kid.by_identity and not isinstance(kid.obj, (list, tuple, dict))]
    kids = [(key, _flat(kid, targets)) for key, (kind, kid) in node.entries.items() if kind == NODE]
    if kids and node.kind in (OBJECT, MODULE, CLASS) and all(_mergeable(kid) for _, kid in kids):
        for key, kid in kids:
            flat.entries.append((f"{key}.__class__", IDENT, kid.type, None))
            flat.entries.extend((f"{key}.{k}", kind, value, origin) for k, kind, value, origin in kid.entries)
            if kid.shadow:
                flat.hidden.append((_getter(flat.kind, [key]), kid.shadow))
        kids = []
    elif kids and node.kind in (LIST, TUPLE) and not flat.entries and _same_rows([kid for _, kid in kids]):
        typed = any(k == "__class__" for k, _, _, _ in kids[0][1].entries)   # else check the type here
        flat.rows = ([] if typed else ["__class__"]) + [k for k, _, _, _ in kids[0][1].entries]
        for i, kid in kids:
            if not typed:
                flat.entries.append(((i, "__class__"), IDENT, kid.type, None))
            flat.entries.extend(((i, k), kind, value, origin) for k, kind, value, origin in kid.entries)
        shadow = frozenset().union(*(kid.shadow for _, kid in kids))
        if shadow:
            flat.hidden.append((_all_items, shadow))
        kids = []
    flat.kids = kids                      # (key, _Flat) pairs
    return flat


def _attribute_count(obj) -> int:
    return len(obj.__dict__)


def _all_items(seq) -> tuple:
    return tuple(seq)


def _hides(objects, names) -> bool:
    """Whether one of `objects` holds an instance attribute among `names` (C-level:
    the instance dicts' keys are chained, not looped over in Python)."""
    return not names.isdisjoint(itertools.chain.from_iterable(map(vars, objects)))


def _mergeable(kid) -> bool:
    return (kid.kind in (OBJECT, MODULE, CLASS) and not kid.kids and not kid.absent and not kid.slot_absent
            and kid.target < 0 and kid.length < 0 and kid.rows is None)


def _same_rows(kids) -> bool:
    first = kids[0]
    shape = [(key, kind) for key, kind, _, _ in first.entries]
    return all(_mergeable(kid) and kid.kind == OBJECT and kid.type is first.type
               and [(key, kind) for key, kind, _, _ in kid.entries] == shape
               and not any(_weak(kind, value) for _, kind, value, _ in kid.entries) for kid in kids)


def _weak(kind, value) -> bool:
    """Compared through a weak reference: objects, functions and methods (they may hold
    instances); classes and modules live long and are compared directly."""
    return kind in (SHARED, IDENT) and not isinstance(value, (type, types.ModuleType)) and _weakable(value)


def _rows_getter(keys):
    row = operator.attrgetter(*keys)
    if len(keys) == 1:
        return lambda seq: tuple(map(row, seq))
    return lambda seq: tuple(itertools.chain.from_iterable(map(row, seq)))


class GuardNode:
    """The guards of one node: `get` fetches its scalars, identities and arrays with one
    C-level call (in entry order), `weak_get` the objects compared through weak
    references, `kid_get` its child nodes."""

    __slots__ = ("type", "desc", "kind", "index", "length", "length_of", "absent", "absent_dict", "slot_absent",
                 "get", "exp", "keys", "sigs", "weak_get", "weak_refs", "weak_keys",
                 "pick", "kid_get", "kids", "target", "array_index", "hidden")

    def __init__(self, flat, used):
        self.type, self.desc, self.kind, self.index = flat.type, flat.desc, flat.kind, flat.index
        self.length, self.absent, self.absent_dict = flat.length, flat.absent, flat.absent_dict
        self.length_of = flat.length_of
        self.slot_absent, self.target = flat.slot_absent, flat.target
        if flat.shadow:
            self.absent = self.absent | flat.shadow
        self.hidden = flat.hidden
        plain, weak = [], []
        for key, kind, value, origin in flat.entries:
            if _weak(kind, value):
                weak.append((key, weakref.ref(value)))
            else:
                plain.append((key, kind, value, origin))
        self.keys = [key for key, _, _, _ in plain]
        # the value expected (arrays: the one last seen); sigs: (type, shape, dtype) of arrays
        self.exp = [_Content(value) if kind == CONTENT else value for _, kind, value, _ in plain]
        self.sigs = [_signature(value) if kind == ARRAY else None for _, kind, value, _ in plain]
        self.get = _rows_getter(flat.rows) if flat.rows is not None else _getter(flat.kind, self.keys)
        if not self.keys:
            self.get = None
        self.weak_keys = [k for k, _ in weak]
        self.weak_refs = [r for _, r in weak]
        self.weak_get = _getter(flat.kind, self.weak_keys)
        self.array_index = {origin[1]: i for i, (_, kind, _, origin) in enumerate(plain)
                            if kind == ARRAY and origin[0] == flat.index}
        chosen = [i for i, (_, kind, _, origin) in enumerate(plain) if kind == ARRAY and origin in used]
        self.pick = None if not chosen else (
            (lambda values, g=operator.itemgetter(*chosen): (g(values),)) if len(chosen) == 1 else
            operator.itemgetter(*chosen))
        self.kids = [GuardNode(kid, used) for _, kid in flat.kids]
        self.kid_get = _getter(flat.kind, [key for key, _ in flat.kids])

    def check(self, obj, inputs, found) -> bool:
        try:
            if self.length >= 0 and self.length_of(obj) != self.length:
                return False
            if self.absent and not self.absent.isdisjoint(obj.__dict__ if self.absent_dict else obj):
                return False
            if self.slot_absent and any(hasattr(obj, k) for k in self.slot_absent):
                return False
            if self.hidden and any(_hides(get(obj), names) for get, names in self.hidden):
                return False
            if self.get is not None:
                values = self.get(obj)
                if not all(map(_is, values, self.exp)) and not self._again(values):
                    return False
                if self.pick is not None:
                    inputs.extend(self.pick(values))
            if self.weak_get is not None:
                if not all(map(_is, self.weak_get(obj), map(_call, self.weak_refs))):
                    return False
            if self.kids:
                for kid, value in zip(self.kids, self.kid_get(obj)):
                    if type(value) is not kid.type or not kid.check(value, inputs, found):
                        return False
        except Exception:    # noqa: BLE001  (a key or attribute is gone, a cell emptied, ...)
            return False
        if self.target >= 0:
            found[self.target] = obj
        return True

    def _again(self, values) -> bool:
        """The slow path: equal scalars, and arrays of the same type, shape and dtype
        (which are expected from now on, so the next call is fast again)."""
        if len(values) != len(self.exp):
            return False
        expected = self.exp
        for i, (value, old, sig) in enumerate(zip(values, expected, self.sigs)):
            if value is old:
                continue
            if sig is not None:
                if not _fits(value, sig):
                    return False
                expected[i] = value
            elif isinstance(old, _Content):
                if not old.same(value):
                    return False
            elif not _is_scalar(old) or not same_scalar(value, old):
                return False
            else:
                expected[i] = value
        return True

    def release(self) -> None:
        """Forget the arrays last seen (their owner is gone); the next call re-checks them."""
        for i, sig in enumerate(self.sigs):
            if sig is not None:
                self.exp[i] = None
        for kid in self.kids:
            kid.release()

    def why(self, obj) -> str | None:
        """Words for the first failing part of this node's check (slow; for records)."""
        if type(obj) is not self.type:
            return f"{self.desc} is now a {type(obj).__name__} (was {self.type.__name__})"
        try:
            if self.length >= 0 and self.length_of(obj) != self.length:
                what = "attributes" if self.length_of is _attribute_count else "length"
                return f"{self.desc} changed {what} to {self.length_of(obj)} (was {self.length})"
            space = getattr(obj, "__dict__", {}) if self.absent_dict else obj
            for key in self.absent:
                if key in space:
                    return f"{self.desc} now has {key!r}"
            values = self.get(obj) if self.get is not None else ()
            for key, value, old, sig in zip(self.keys, values, self.exp, self.sigs):
                if sig is not None:
                    if not _fits(value, sig):
                        return f"{'array' if sig[0] not in (int, float) else sig[0].__name__} {_child(self, key)} was rebound " \
                               f"to {_brief(value)}"
                elif value is not old and not (isinstance(old, _Content) and old.same(value)) and \
                        not (_is_scalar(old) and same_scalar(value, old)):
                    return f"{_child(self, key)} changed to {_brief(value)} (was {_brief(old)})"
            if self.weak_get is not None:
                for key, value, ref in zip(self.weak_keys, self.weak_get(obj), self.weak_refs):
                    if value is not ref():
                        return f"{_child(self, key)} was rebound"
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


def _signature(value) -> tuple:
    """What a state value traced as an input must keep: type, shape and dtype (a Python
    int counter: its type, and a value in the range the trace holds for)."""
    if type(value) in (int, float):
        return (type(value), (), None)
    return (type(value), value.shape, value.dtype)


def _fits(value, sig) -> bool:
    if type(value) is not sig[0]:
        return False
    if sig[0] is int:
        return -2 ** 62 <= value <= 2 ** 62
    if sig[0] is float:
        return True
    return value.shape == sig[1] and value.dtype == sig[2]


def _is_scalar(value) -> bool:
    return isinstance(value, (int, float, bool, str, bytes, complex, type(None), np.generic))


def _weakable(value) -> bool:
    try:
        weakref.ref(value)
        return True
    except TypeError:
        return False


def _child(node, key) -> str:
    if isinstance(key, tuple):                    # a row of a list of objects
        return f"{node.desc}[{key[0]}].{key[1]}"
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


def _pattern(objects) -> tuple:
    """Which of `objects` are the same object: the index of each one's first occurrence."""
    first: dict = {}
    return tuple(first.setdefault(id(obj), i) for i, obj in enumerate(objects))


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
        # which object arguments were one object while tracing: the same again on every call
        positions = [pos for pos, _, _ in world.discovery.arg_objects]
        self.arg_positions = positions if len(positions) > 1 else []
        self.arg_pattern = _pattern([obj for _, obj, _ in world.discovery.arg_objects])
        self.roots = [(pos, fixed, GuardNode(_flat(node, targets), used))
                      for pos, fixed, node in world.discovery.roots]
        self._by_index = {}              # node index -> GuardNode (write-backs refresh expectations)

        def walk(guard):
            self._by_index[guard.index] = guard
            for kid in guard.kids:
                walk(kid)
        for _, _, guard in self.roots:
            walk(guard)

    def check(self, leaves):
        """(state inputs, write targets) if every guard holds, else None."""
        if self.arg_positions and _pattern([leaves[p] for p in self.arg_positions]) != self.arg_pattern:
            return None
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
        if self.arg_positions and _pattern([leaves[p] for p in self.arg_positions]) != self.arg_pattern:
            return "object arguments that were one object are now different ones (or the other way round)"
        for pos, fixed, guard in self.roots:
            reason = guard.why(fixed if pos < 0 else leaves[pos])
            if reason:
                return reason
        return "a guard failed"

    def refresh(self, node_index, key, value) -> None:
        """After a write-back of an array: expect the new array (the fast path), if it
        fits what the trace read (the same type, shape and dtype). A function
        that rebinds state to another shape (``s.w = s.w[:, 1:]``) must meet the slow
        check on the next call, which fails and traces again."""
        guard = self._by_index.get(node_index)
        if guard is not None:
            i = guard.array_index.get(key)
            if i is not None and _fits(value, guard.sigs[i]):
                guard.exp[i] = value
            elif i is not None:
                guard.exp[i] = None
