"""The state a trace may touch: proxies in, changes found, everything restored.

``World`` is what ``tracer.trace`` calls around the function (see its ``world``
argument):

- ``enter``: snapshot every node ``discover.py`` found, then put a proxy
  (``TraceState.input_proxy``) in place of each array in them, so the trace sees
  state arrays as inputs and eager code on them (``self.w.T``) is traced too.
  Tuples holding arrays are replaced by tuples of proxies at their parent.
- ``collect``: compare every node with what ``enter`` installed. An entry rebound to
  a traced value (``self.m = ...``, ``global G; G = ...``, ``CFG["k"] = ...``, also
  inside argument dicts) becomes an implicit output (a ``Write``); an array created
  eagerly and stored is written again (a copy) on every call. A Python int or float
  entry changed to another of its type (``self.t += 1``) raises ``StateError`` with
  ``int_state`` set: the runtime traces again with that entry as a traced value
  (``Discovery(int_state=...)``), written back as a Python number. Any other change
  (a string attribute, a list that grew, a traced value stored inside some other
  object) raises ``StateError``: the function runs eagerly instead.
- ``restore`` (always, even if the trace failed): every node holds exactly what it
  held before, so a fallback's eager run does its side effects once.

Writes into arrays never get here: the proxies refuse them (``x[i] = v``, ``x += 1``)
and the function falls back.
"""
from __future__ import annotations

import numpy as np

from ..tracer import TracedArray, flatten
from ..tracer.dims import Dim
from ..tracer.errors import StateError
from .codeinfo import definition_line
from .discover import (ARRAY, CELLS, CLASS, CONTENT, DICT, GLOBALS, IDENT, LIST, MISSING, MODULE, TUPLE,
                       Discovery)

_IMMUTABLE = (int, float, bool, str, bytes, complex, type(None), np.generic)


class Slot:
    """One state array swapped for a proxy: where it lives and its order among the
    graph's state inputs (the guards read them in this order)."""

    __slots__ = ("node", "key", "array", "proxy", "order")

    def __init__(self, node, key, array, proxy, order):
        self.node, self.key, self.array, self.proxy, self.order = node, key, array, proxy, order


class Write:
    """State written after every call: `node`'s entry `key` (or, for argument
    containers, the entry `key` of the container at `arg_path` in (args, kwargs)).
    `const` is an array the function created eagerly (written as a copy each call,
    or itself when `same` is set); `source` a dict or list of the caller's, stored as
    itself: ("call", path in (args, kwargs)) or ("node", state node index); otherwise
    the value is the next implicit output."""

    __slots__ = ("node", "key", "desc", "const", "same", "arg_path", "source")

    def __init__(self, node, key, desc, const=None, same=False, arg_path=None, source=None):
        self.node, self.key, self.desc = node, key, desc
        self.const, self.same, self.arg_path, self.source = const, same, arg_path, source


def contents(node):
    """What restore and the change check compare for one node (MISSING for absent keys)."""
    obj, kind = node.obj, node.kind
    if kind == DICT:
        return dict(obj)
    if kind == LIST:
        return list(obj)
    if kind == TUPLE:
        return None
    if kind == CELLS:
        return {i: _cell(c) for i, c in enumerate(obj)}
    keys = list(node.entries) + list(node.absent)
    if kind == GLOBALS:
        return {k: obj.get(k, MISSING) for k in keys}
    if kind in (MODULE, CLASS):
        space = vars(obj)
        return {k: space.get(k, MISSING) for k in keys}
    result = dict(vars(obj)) if isinstance(getattr(obj, "__dict__", None), dict) else {}
    for name, member in node.slots.items():
        try:
            result[name] = member.__get__(obj, type(obj))
        except AttributeError:
            result[name] = MISSING
    return result


def _cell(cell):
    try:
        return cell.cell_contents
    except ValueError:
        return MISSING


def raw_set(node, key, value) -> None:
    """Set (or with MISSING delete) an entry without running the user's hooks."""
    obj, kind = node.obj, node.kind
    if kind in (DICT, GLOBALS, LIST):
        if value is MISSING:
            del obj[key]
        else:
            obj[key] = value
    elif kind == CELLS:
        if value is MISSING:
            del obj[key].cell_contents
        else:
            obj[key].cell_contents = value
    elif kind == CLASS:
        if value is MISSING:
            type.__delattr__(obj, key)
        else:
            type.__setattr__(obj, key, value)
    elif key in node.slots:
        member = node.slots[key]
        if value is MISSING:
            member.__delete__(obj)
        else:
            member.__set__(obj, value)
    else:
        space = vars(obj)
        if value is MISSING:
            space.pop(key, None)
        else:
            space[key] = value


def _settable(node, key) -> bool:
    if node.kind in (DICT, GLOBALS, LIST, CELLS):
        return True
    if node.kind == TUPLE:
        return False
    if node.kind == CLASS:
        return key in vars(node.obj)
    return key in node.slots or key in getattr(node.obj, "__dict__", {})


def _rebuildable(value) -> bool:
    return type(value) is tuple or hasattr(type(value), "_make")


def _traced_tree(value, state) -> bool:
    """A traced value, or a tuple/list/dict of traced values and immutable Python or
    NumPy scalars holding at least one traced value (an implicit output)."""
    leaves, _ = flatten(value)
    traced = False
    for leaf in leaves:
        if isinstance(leaf, TracedArray):
            if leaf._state is not state:
                return False
            traced = True
        elif not isinstance(leaf, _IMMUTABLE):
            return False
    return traced


def find_traced(value, depth=4):
    """A TracedArray somewhere inside `value` (containers and object attributes), or None."""
    if isinstance(value, TracedArray):
        return value
    if depth == 0:
        return None
    if isinstance(value, dict):
        items = list(value.values())
    elif isinstance(value, (list, tuple, set, frozenset)):
        items = list(value)
    elif hasattr(value, "__dict__") and not isinstance(value, type):
        items = list(getattr(value, "__dict__", {}).values())
    else:
        return None
    for item in items[:1024]:
        found = find_traced(item, depth - 1)
        if found is not None:
            return found
    return None


def _traced_loc(proxy) -> str:
    producer = proxy._value.producer
    return producer.loc if producer is not None else ""


class World:
    """The reachable state of one trace (see the module doc)."""

    def __init__(self, fn, arg_objects=(), int_state=frozenset()):
        self.fn = fn
        self.discovery = Discovery(fn, arg_objects, int_state).run()
        self.nodes = self.discovery.nodes
        self.slots: list = []
        self.value_slots: dict = {}       # index in state.state_values -> Slot
        self.writes: list = []
        self._snapshot: dict = {}
        self._installed: dict = {}
        self._contents: list = []         # (node, key, set object, frozen copy)
        self._functions: list = []        # (user function, copy of its __dict__)
        self._arguments: list = []        # (path, container, copy)
        self._entered = False

    # -- before the function runs ---------------------------------------------------
    def enter(self, state, call_args, call_kwargs) -> None:
        for node in self.nodes:
            self._snapshot[node.index] = contents(node)
            for key, (kind, value) in node.entries.items():
                if kind == CONTENT and isinstance(value, set):
                    self._contents.append((node, key, value, frozenset(value)))
        self._functions = [(f, dict(vars(f))) for f in self.discovery.functions]   # f.calls += 1
        self._entered = True
        replaced = {}                     # TUPLE node index -> tuple of proxies
        for node in self.nodes:
            arrays = 0
            for key, (kind, value) in list(node.entries.items()):
                if kind != ARRAY:
                    continue
                if not _settable(node, key) and node.kind != TUPLE or \
                        node.kind == TUPLE and not _rebuildable(node.obj):
                    # read through a class or a tuple we cannot rebuild: traced by identity
                    node.entries[key] = (IDENT, value)
                    continue
                proxy = state.input_proxy(value, node.child_desc(key))
                slot = Slot(node, key, value, proxy, (node.index, arrays))
                arrays += 1
                self.value_slots[len(state.state_values) - 1] = slot
                self.slots.append(slot)
                if node.kind != TUPLE:
                    raw_set(node, key, proxy)
        for node in reversed(self.nodes):        # children before their parents
            if node.kind == TUPLE:
                new = self._rebuilt_tuple(node, replaced)
                if new is not None:
                    replaced[node.index] = new
        installed = set()
        for node in self.nodes:           # parents before children
            for key, kid in node.kids.items():
                if kid.index not in replaced:
                    continue
                if node.kind == TUPLE:
                    if node.index in installed:
                        installed.add(kid.index)
                elif _settable(node, key):
                    raw_set(node, key, replaced[kid.index])
                    installed.add(kid.index)
        for node in self.nodes:
            if node.kind == TUPLE and node.index not in installed:
                for key, (kind, value) in list(node.entries.items()):
                    if kind == ARRAY:         # its proxies never reached the code: read by identity
                        node.entries[key] = (IDENT, value)
        for node in self.nodes:
            self._installed[node.index] = contents(node)
        self._note_arguments((call_args, call_kwargs), ())

    def _rebuilt_tuple(self, node, replaced):
        items = list(node.obj)
        changed = False
        for slot in self.slots:
            if slot.node is node:
                items[slot.key] = slot.proxy
                changed = True
        for key, kid in node.kids.items():
            if kid.index in replaced:
                items[key] = replaced[kid.index]
                changed = True
        if not changed:
            return None
        kind = type(node.obj)
        if kind is tuple:
            return tuple(items)
        if hasattr(kind, "_make"):
            return kind._make(items)
        return None

    def _note_arguments(self, obj, path) -> None:
        if isinstance(obj, dict) and type(obj) is dict or type(obj) is list:
            if len(path) >= 2:            # inside an argument (not the call's own kwargs dict)
                self._arguments.append((path, obj, dict(obj) if isinstance(obj, dict) else list(obj)))
            items = obj.items() if isinstance(obj, dict) else enumerate(obj)
        elif type(obj) is tuple or (isinstance(obj, tuple) and hasattr(type(obj), "_fields")):
            items = enumerate(obj)
        else:
            return
        for key, item in items:
            self._note_arguments(item, path + (key,))

    # -- after it returned ------------------------------------------------------------
    def collect(self, state) -> list:
        """The implicit outputs (one pytree per value Write), in ``self.writes`` order."""
        values = []
        for node in self.nodes:
            if node.kind == TUPLE:
                continue
            before, after = self._installed[node.index], contents(node)
            if node.kind == LIST:
                if len(before) != len(after):
                    self._changed_list(node, before, after)
                pairs = [(i, before[i], after[i]) for i in range(len(after))]
            else:
                pairs = [(k, before.get(k, MISSING), after.get(k, MISSING))
                         for k in list(before) + [k for k in after if k not in before]]
            for key, old, new in pairs:
                if old is not new and not _same_number(old, new):
                    self._changed(node, key, old, new, state, values, node.child_desc(key))
        for node, key, live, frozen in self._contents:
            if frozenset(live) != frozen:
                raise StateError(f"the set {node.child_desc(key)} was changed", node.child_desc(key),
                                 definition_line(self.fn))
        for function, saved in self._functions:
            changed = [k for k in set(saved) | set(vars(function)) if saved.get(k, MISSING) is not
                       vars(function).get(k, MISSING)]
            if changed:
                desc = f"{function.__name__}.{sorted(changed)[0]}"
                raise StateError(f"the function attribute {desc} was changed", desc,
                                 self._store_loc(sorted(changed)[0]))
        for path, container, copy in self._arguments:
            desc = ("args" if path[0] == 0 else "kwargs") + "".join(f"[{k!r}]" for k in path[1:])
            if isinstance(container, list) and len(container) != len(copy):
                raise StateError(f"the list {desc} changed length (append, extend, insert, pop, ...)",
                                 desc, self._loc_of(container))
            keys = list(copy) if isinstance(copy, dict) else range(len(copy))
            current = dict(container) if isinstance(container, dict) else dict(enumerate(container))
            keys = list(keys) + [k for k in current if k not in copy] if isinstance(copy, dict) else list(keys)
            for key in keys:
                old = copy.get(key, MISSING) if isinstance(copy, dict) else copy[key]
                new = current.get(key, MISSING)
                if old is not new and not _same_number(old, new):
                    self._changed(None, key, old, new, state, values, f"{desc}[{key!r}]", path)
        return values

    def _changed_list(self, node, before, after):
        traced = find_traced(after)
        where = node.desc
        if traced is not None:
            raise StateError(f"a traced value was stored in the list {where} (append, insert, ...)",
                             where, _traced_loc(traced),
                             hint="return the value instead, or keep the list outside the compiled function")
        raise StateError(f"the list {where} changed length (append, extend, insert, pop, ...)", where,
                         self._loc_of(None))

    def _changed(self, node, key, old, new, state, values, desc, arg_path=None):
        if isinstance(new, Dim):          # a size stored while probing (tracer/dims.py): the int it is
            new = int(new)
        if isinstance(old, TracedArray) and type(new) in (int, float) and old.type.weak:
            # a traced number (int_state) set to a constant: write that number every call
            self.writes.append(Write(node, key, desc, const=new, same=True, arg_path=arg_path))
            return
        if new is MISSING:
            raise StateError(f"{desc} was deleted", desc, self._store_loc(key, node))
        if type(old) in (int, float) and node is not None and isinstance(new, TracedArray) and \
                new._state is state and new.type.weak and new.shape == ():
            # a Python number the function advances by a traced value (self.t += dt):
            # traced again with the number as a traced value, so the next call needs no trace
            error = StateError(f"{desc} was changed by a traced value", desc, self._store_loc(key, node))
            error.int_state = desc
            raise error
        source = self.container_source(new)
        if source is not None:            # self.last = params: the caller's dict itself
            self.writes.append(Write(node, key, desc, arg_path=arg_path, source=source))
            return
        if _traced_tree(new, state):
            self.writes.append(Write(node, key, desc, arg_path=arg_path))
            values.append(new)
            return
        if type(new) is np.ndarray:
            existing = any(new is slot.array for slot in self.slots) or self._known(new)
            self.writes.append(Write(node, key, desc, const=new, same=existing, arg_path=arg_path))
            return
        traced = find_traced(new)
        if traced is not None:
            raise StateError(f"a traced value was stored in {desc} (inside a {type(new).__name__})", desc,
                             _traced_loc(traced), hint="store arrays (or tuples/lists/dicts of arrays) "
                                                       "directly, or return the value instead")
        error = StateError(
            f"{desc} was changed from {_short(old)} to {_short(new)} inside the compiled function", desc,
            self._store_loc(key, node),
            hint="keep changing state in NumPy arrays (self.t = self.t + 1 on a 0-d array is compiled), "
                 "pass the value as an argument, or change it outside the compiled function")
        if type(old) is type(new) and type(new) in (int, float) and node is not None:
            error.int_state = desc    # the runtime retries with it traced (runtime/compiled.py)
        raise error

    def _known(self, array) -> bool:
        return any(array is value for snap in self._snapshot.values() if isinstance(snap, dict)
                   for value in snap.values())

    def _store_loc(self, key, node=None) -> str:
        if node is not None and node.kind == CELLS:
            key = node.labels.get(key, key)
        if isinstance(key, str):
            loc = self.discovery.info.stores.get(key)
            if loc:
                return loc
        return definition_line(self.fn)

    def _loc_of(self, container) -> str:
        return definition_line(self.fn)

    def container_source(self, obj):
        """Where a dict or list of the caller's comes from: ("call", its path in (args,
        kwargs)) for one inside the arguments, ("node", index) for a state node; None
        for any other value. Returned or stored, such a container is the caller's object
        itself, as in eager code (``return params``, ``self.last = grads``): not a copy,
        which would be another object and, for state, hold the values from before the
        trace (the world restores them)."""
        if type(obj) not in (dict, list):
            return None
        path = next((path for path, container, _ in self._arguments if container is obj), None)
        if path is not None:
            return ("call", path)
        node = self.discovery.by_id.get(id(obj))
        if node is not None and node.obj is obj and node.kind in (DICT, LIST):
            return ("node", node.index)
        return None

    def is_callers_container(self, obj) -> bool:
        """Whether `obj` is a dict or list of the caller's (see ``container_source``)."""
        return self.container_source(obj) is not None

    # -- always ------------------------------------------------------------------------
    def restore(self) -> None:
        if not self._entered:
            return
        for node in reversed(self.nodes):
            if node.kind == TUPLE:
                continue
            saved, now = self._snapshot[node.index], contents(node)
            if node.kind == LIST:
                if len(saved) != len(now) or any(a is not b for a, b in zip(saved, now)):
                    node.obj[:] = saved
                continue
            for key, value in saved.items():
                if now.get(key, MISSING) is not value:
                    try:
                        raw_set(node, key, value)
                    except (AttributeError, KeyError, TypeError):
                        pass
            for key in now:
                if key not in saved:
                    try:
                        raw_set(node, key, MISSING)
                    except (AttributeError, KeyError, TypeError):
                        pass
        for node, key, live, frozen in self._contents:
            if frozenset(live) != frozen:
                live.clear()
                live.update(frozen)
        for function, saved in self._functions:
            space = vars(function)
            if space != saved or any(space[k] is not v for k, v in saved.items()):
                space.clear()
                space.update(saved)
        self._entered = False

    def input_order(self, used: list) -> list:
        """The state inputs the trace used, in the order the guards will read them."""
        return sorted(used, key=lambda i: self.value_slots[i].order)


def _same_number(old, new) -> bool:
    """Equal Python numbers or strings that are different objects (``1000`` built twice):
    not a change. Floats compare by bits (``-0.0`` differs from ``0.0``; NaN equals NaN)."""
    kind = type(old)
    if kind is not type(new) or kind not in (int, float, bool, str, bytes):
        return False
    if kind is float:
        return old.hex() == new.hex() if old == old else new != new
    return old == new


def _short(value) -> str:
    text = "(absent)" if value is MISSING else repr(value) if not isinstance(value, TracedArray) \
        else "a traced array"
    return text if len(text) <= 60 else text[:57] + "..."
