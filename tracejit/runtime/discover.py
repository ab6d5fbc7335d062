"""The state a function can reach: the objects, containers and values it may read.

Before each trace the runtime walks, from the function's roots (its globals dict
and closure cells, the object it is bound to, and the plain objects passed as
arguments), everything the code can reach *by name*: attributes and dict keys
its bytecode names (``codeinfo.py``), every item of lists and tuples, helper
functions and methods it calls (their code adds names, their globals and cells
add roots). The result is a tree of ``Node``s, one per object, in depth-first
order. The sandbox (``sandbox.py``) swaps the arrays in it for proxies and
restores everything after the trace; the guards (``guards.py``) re-check it on
every call.

Each entry of a node is classified once:

- ARRAY: a NumPy array or NumPy scalar of a supported dtype (swapped for a proxy
  while tracing; guarded by type, shape and dtype; read live on every call);
- SCALAR: Python and NumPy scalars, strings, None (guarded by value);
- CONTENT: sets (guarded by their contents);
- NODE: containers, plain objects, user modules and classes (a child node);
- SHARED: an object already reached by another path (guarded by identity, weakly
  where possible);
- IDENT: functions, library modules and classes, everything else (identity).
"""
from __future__ import annotations

import argparse
import enum
import functools
import importlib
import importlib.util
import operator
import sys
import types
import weakref

import numpy as np

from ..ir.types import SUPPORTED_DTYPES
from .codeinfo import CodeInfo, callable_target, code_info, is_library, is_library_object
from .unwatched import custom_getattribute, has_attributes, unwatched_attribute, unwatched_value

MISSING = object()
ARRAY, SCALAR, CONTENT, NODE, SHARED, IDENT = "array", "scalar", "content", "node", "shared", "ident"
DICT, LIST, TUPLE, OBJECT, MODULE, CLASS, CELLS, GLOBALS = (
    "dict", "list", "tuple", "object", "module", "class", "cells", "globals")
SCALAR_TYPES = (int, float, bool, str, bytes, complex, type(None))
MAX_NODES = 2000
MAX_ENTRIES = 4096
MAX_DEPTH = 24
_VALUE_TYPES = (enum.Enum, int, float, str, bytes, complex)
_NOT_PLAIN = (types.ModuleType, type, types.FunctionType, types.MethodType, types.BuiltinFunctionType,
              np.ufunc, np.dtype, weakref.ref)


class Node:
    """One object the function may read: its entries (key -> (kind, value)), child
    nodes, keys read while absent, and whether every key is guarded (a length guard)."""

    __slots__ = ("kind", "obj", "desc", "entries", "kids", "absent", "full", "index", "slots", "labels",
                 "shadow", "by_identity")

    def __init__(self, kind, obj, desc, index):
        self.kind, self.obj, self.desc, self.index = kind, obj, desc, index
        self.entries: dict = {}
        self.kids: dict = {}
        self.absent: list = []
        self.full = False
        self.slots: dict = {}          # OBJECT: slot name -> member descriptor
        self.labels: dict = {}         # CELLS: index -> the closure variable's name
        self.shadow: list = []         # OBJECT: class attributes an instance attribute must not hide
        # guarded by identity on its path too: it is also reached by another one, or the
        # code compares objects by identity (`self.cfg is DEFAULT`)
        self.by_identity = False

    def child_desc(self, key) -> str:
        if self.kind in (OBJECT, MODULE, CLASS):
            return f"{self.desc}.{key}"
        if self.kind == GLOBALS:
            return f"global {key}"
        if self.kind == CELLS:
            return f"closure variable {self.labels.get(key, key)}"
        return f"{self.desc}[{key!r}]"


def read(node, key, default=MISSING):
    """The current value of `node`'s entry `key` (what the code would read)."""
    obj = node.obj
    try:
        if node.kind in (DICT, GLOBALS, LIST, TUPLE):
            return obj[key]
        if node.kind == CELLS:
            return obj[key].cell_contents
        return getattr(obj, key)
    except (KeyError, IndexError, AttributeError, ValueError):
        return default


# standard-library types whose instances are nothing but user data (configs, models)
_PLAIN_LIBRARY_TYPES = (types.SimpleNamespace, argparse.Namespace)


def is_plain_type(kind) -> bool:
    """Whether instances of `kind` are user objects whose attributes are state (not
    modules, classes, functions, containers, NumPy scalars or library objects)."""
    if issubclass(kind, _NOT_PLAIN) or issubclass(kind, (dict, list, tuple, set, frozenset, np.generic,
                                                          np.ndarray)):
        return False
    if issubclass(kind, _VALUE_TYPES):   # enum members, int/float/str subclasses: values, compared as such
        return False
    if issubclass(kind, _PLAIN_LIBRARY_TYPES):
        return True
    if is_library_object(kind):
        return False
    return getattr(kind, "__dictoffset__", 0) != 0 or bool(getattr(kind, "__slots__", ()))


def is_plain_object(value) -> bool:
    return is_plain_type(type(value))


def holds_state(value) -> bool:
    """Whether an argument's attributes are state the guards watch: plain objects, and
    user classes and modules (``cfg.scale`` on ``f(x, Config)``), which are keyed by
    identity but may change between calls like globals."""
    if isinstance(value, (type, types.ModuleType)):
        return classify(value) == NODE
    return is_plain_object(value)


def _is_user_function(value) -> bool:
    return isinstance(value, types.FunctionType) and not is_library_object(value)


class Discovery:
    """The reachable state of `fn` plus the plain objects among its arguments
    (`arg_objects`: (leaf position, object, the argument's name)). ``roots``: (position or -1, fixed
    object or None, Node); ``nodes``: every node in depth-first order; ``functions``:
    the user functions followed; ``info``: the names of all their code."""

    def __init__(self, fn, arg_objects=(), int_state=frozenset()):
        self.fn = fn
        self.arg_objects = list(arg_objects)
        self.int_state = int_state    # descs of Python int/float entries traced as values (they change)
        self.info = CodeInfo()
        self.codes: set = set()
        self._key_classes: set = set()     # classes of plain objects that are keys of a dict reached

    def run(self) -> "Discovery":
        for _ in range(4):            # names found in helpers and methods widen the walk
            before = self._size()
            self._build()
            if self._size() == before:
                break
        self._pin_identities()
        return self

    def _pin_identities(self) -> None:
        """Guard which object an OBJECT node holds, not only its kind, where that can
        decide the result (after the walk: helpers' code may set the flags late):
        - the code compares identities (`is`, `id()`): every object;
        - objects of a class are dict keys (`TABLE[self.k]`): those of that class;
        - the code compares with `==`/`in` and objects of a class without an `__eq__`
          of its own are named constants (a global, a closure or class attribute:
          `self.cfg == DEFAULT`): those of that class.
        The narrower rules keep a model's blocks, compared with nothing, guarded by
        structure (merged row-wise guards cost a few microseconds less per call)."""
        classes = set(self._key_classes)
        if self.info.compares:
            named = [value for node in self.nodes if node.kind in (GLOBALS, CELLS, CLASS, MODULE)
                     for kind, value in node.entries.values() if kind in (NODE, SHARED)]
            classes |= {type(v.obj if isinstance(v, Node) else v) for v in named}
            classes = {c for c in classes if c.__eq__ is object.__eq__} | set(self._key_classes)
        for node in self.nodes:
            if node.kind == OBJECT and (self.info.identity or type(node.obj) in classes):
                node.by_identity = True

    def _size(self):
        i = self.info
        return (len(self.codes), len(i.globals), len(i.attrs), len(i.strings), len(i.iterated), i.dynamic,
                i.variable_keys)

    # -- code -------------------------------------------------------------------------
    def _visit_function(self, function, pending_roots):
        target, owner = callable_target(function)
        if target is None or is_library_object(target):
            return
        if owner is not None and is_plain_object(owner):
            pending_roots.append((-1, owner, "self"))
        code = target.__code__
        if code not in self.codes:
            self.codes.add(code)
            self.info.merge(code_info(code))
        if id(target) in self._functions:
            return
        self._functions.add(id(target))
        self.functions.append(target)
        self._imported_modules(code_info(code), target.__globals__, pending_roots)
        pending_roots.append((-1, target.__globals__, "globals"))
        if target.__closure__:
            pending_roots.append((-1, (target.__closure__, code.co_freevars), "cells"))

    # -- the walk -------------------------------------------------------------------
    def _build(self):
        self.nodes: list = []
        self.by_id: dict = {}
        self.roots: list = []
        self._functions: set = set()     # ids of the functions whose roots are queued
        self.functions: list = []        # those functions (their attributes are state too)
        self.unwatched: list = []        # (what, "path:line"): reads no guard can follow (unwatched.py)
        self._instance_classes: set = set()   # ids of classes reached only as an instance's class
        pending: list = []
        self._pending = pending
        self._visit_function(self.fn, pending)
        queue = [(pos, obj, name) for pos, obj, name in self.arg_objects] + pending
        pending.clear()
        while queue:
            pos, obj, desc = queue.pop(0)
            if desc == "cells":
                cells, names = obj
                key = id(cells)
                if key in self.by_id:
                    continue
                node = self._new(CELLS, cells, "closure")
                for i in range(len(cells)):
                    node.labels[i] = names[i] if i < len(names) else str(i)
                    self._add_entry(node, i, read(node, i), node.child_desc(i), 0)
                self.roots.append((-1, cells, node))
            elif desc == "globals":
                if id(obj) in self.by_id:
                    continue
                node = self._new(GLOBALS, obj, "globals")
                names = self.info.globals
                if "globals" in names:             # globals()[name]: any number or array may be read
                    names = names | {k for k in self.info.strings if k in obj} | {
                        k for k, v in list(obj.items())[:MAX_ENTRIES] if isinstance(k, str)
                        and not (k.startswith("__") and k.endswith("__")) and classify(v) in (SCALAR, ARRAY)
                        and unwatched_value(v, frozenset()) is None}
                for name in sorted(names):
                    value = obj.get(name, MISSING)
                    if value is MISSING:
                        node.absent.append(name)
                    else:
                        self._add_entry(node, name, value, f"global {name}", 0)
                self.roots.append((-1, obj, node))
            else:
                if id(obj) in self.by_id:
                    continue
                node = self._node_for(obj, desc, 0)
                if node is not None:
                    self.roots.append((pos, obj if pos < 0 else None, node))
            queue.extend(pending)
            pending.clear()

    def _imported_modules(self, info, namespace, pending) -> None:
        """Roots for the user modules a function's code imports (``import cfg``, ``from
        .utils import scale``, ``importlib.import_module("cfg")``, ``sys.modules["cfg"]``):
        their attributes are state like a global module's. A module not imported yet is
        imported now, as the function's first call would."""
        imports = set(info.imports)
        if (info.attrs | info.globals) & _IMPORTING_NAMES:
            imports |= {(name, 0, ()) for name in info.strings if name in sys.modules and not is_library(name)}
        for name, level, from_names in sorted(imports):
            full = _absolute(name, level, namespace)
            if full is None or is_library(full):
                continue
            parts = full.split(".")
            for dotted in [".".join(parts[:end]) for end in sorted({1, len(parts)})]:
                if not self._import_root(dotted, info.reads.get(name, ""), pending):
                    return
            package = sys.modules.get(full)
            for sub in from_names:           # `from . import utils`: a module of the package
                dotted = f"{full}.{sub}"
                if sub != "*" and (dotted in sys.modules or hasattr(package, "__path__") and
                                   _submodule_exists(dotted)):
                    if not self._import_root(dotted, info.reads.get(sub, ""), pending):
                        return

    def _import_root(self, dotted, loc, pending) -> bool:
        """Queue module `dotted` as a root, importing it first if needed; False (and an
        unwatched read) when it cannot be imported now."""
        module = sys.modules.get(dotted)
        if module is None:
            try:
                module = importlib.import_module(dotted)
            except Exception:    # noqa: BLE001  (the function's own call will raise it)
                self.unwatched.append((f"module {dotted}, which cannot be imported now", loc))
                return False
        pending.append((-1, module, f"module {module.__name__}"))
        return True

    def _new(self, kind, obj, desc):
        node = Node(kind, obj, desc, len(self.nodes))
        self.nodes.append(node)
        self.by_id[id(obj)] = node
        return node

    def _node_for(self, obj, desc, depth):
        if len(self.nodes) >= MAX_NODES or depth > MAX_DEPTH:
            return None
        if isinstance(obj, dict):
            node = self._new(DICT, obj, desc)
            self._expand_dict(node, depth)
        elif isinstance(obj, (list, tuple)):
            node = self._new(LIST if isinstance(obj, list) else TUPLE, obj, desc)
            if len(obj) <= MAX_ENTRIES:
                node.full = True
                for i, item in enumerate(obj):
                    self._add_entry(node, i, item, node.child_desc(i), depth)
        elif isinstance(obj, types.ModuleType):
            node = self._new(MODULE, obj, desc)
            for name in sorted(self.info.attrs | self.info.strings):
                value = vars(obj).get(name, MISSING)
                if value is not MISSING:
                    self._add_entry(node, name, value, node.child_desc(name), depth)
        elif isinstance(obj, type):
            node = self._new(CLASS, obj, desc)
            self._expand_class(node, depth)
        elif type(obj) is functools.partial:
            node = self._new(OBJECT, obj, desc)
            self._expand_partial(node, depth)
        else:
            node = self._new(OBJECT, obj, desc)
            self._expand_object(node, depth)
        return node

    def _expand_partial(self, node, depth):
        """A ``functools.partial`` helper: its function, and the arguments and keywords it
        adds (all of them are read by a call; ``act.keywords["a_max"] = 0.5`` is a change)."""
        obj = node.obj
        self._add_entry(node, "func", obj.func, node.child_desc("func"), depth)
        self._add_entry(node, "args", obj.args, node.child_desc("args"), depth)
        if id(obj.keywords) in self.by_id or len(self.nodes) >= MAX_NODES:
            return
        keywords = self._new(DICT, obj.keywords, node.child_desc("keywords"))
        keywords.full = True
        for key, value in obj.keywords.items():
            self._add_entry(keywords, key, value, keywords.child_desc(key), depth + 1)
        node.entries["keywords"] = (NODE, keywords)
        node.kids["keywords"] = keywords

    def _expand_dict(self, node, depth):
        d = node.obj
        info = self.info
        self._key_classes |= {type(k) for k in list(d)[:MAX_ENTRIES] if is_plain_object(k)}
        full = (info.dynamic or info.variable_keys or bool(info.attrs & ITERATING_NAMES)
                or node.desc.split(".")[-1] in info.iterated
                or node.desc.replace("global ", "") in info.iterated
                or any(not isinstance(k, str) for k in d))
        if full and len(d) <= MAX_ENTRIES:
            node.full = True
            keys = list(d)
        else:
            names = info.strings
            if type(d) is not dict and hasattr(type(d), "__getattr__"):
                names = names | info.attrs        # an attribute dict: cfg.lr reads cfg["lr"]
            keys = [k for k in names if k in d]
            node.absent = sorted(k for k in names if k not in d)
        for key in keys:
            self._add_entry(node, key, d[key], node.child_desc(key), depth)

    def _names_for(self, obj) -> list:
        info = self.info
        names = set(info.attrs) | info.strings
        if info.dynamic:
            names |= set(getattr(obj, "__dict__", {}))
        return sorted(n for n in names if isinstance(n, str) and not (n.startswith("__") and n.endswith("__")))

    def _expand_object(self, node, depth):
        obj = node.obj
        kind = type(obj)
        instance = getattr(obj, "__dict__", None)
        instance_space = isinstance(instance, dict)
        if self.info.dynamic and instance_space and len(instance) <= MAX_ENTRIES:
            node.full = True              # vars(self), getattr by name: an attribute added is a change
        instance = instance if instance_space else {}
        dynamic_getattr = hasattr(kind, "__getattr__")
        class_needed = False
        names = self._names_for(obj)
        if names:
            self._note_unwatched(node.desc, names[0], custom_getattribute(kind))
        for name in names:
            if name in instance:
                self._add_entry(node, name, instance[name], node.child_desc(name), depth)
                continue
            static = _on_class(kind, name)
            if static is not MISSING and instance_space and not isinstance(static, property):
                node.shadow.append(name)      # an instance attribute set later would shadow it
            if isinstance(static, types.MemberDescriptorType):        # __slots__
                node.slots[name] = static
                value = read(node, name)
                if value is MISSING:
                    node.absent.append(name)
                else:
                    self._add_entry(node, name, value, node.child_desc(name), depth)
            elif static is MISSING:
                # an absent attribute the code read would have raised; it matters only where
                # the code asks (hasattr/getattr with a default: a string constant), stores
                # it (lazy initialization) or may catch the AttributeError
                if dynamic_getattr:
                    self._note_unwatched(node.desc, name, unwatched_attribute(kind, name, None))
                elif name in self.info.strings or name in self.info.stores or \
                        (self.info.catches and name in self.info.attrs):
                    node.absent.append(name)
            elif isinstance(static, (types.FunctionType, staticmethod, classmethod, property)) or \
                    type(static).__name__ == "CompiledFunction":
                class_needed = True
                for part in _functions_of(static):
                    self._visit_function(types.MethodType(part, obj) if isinstance(static, types.FunctionType)
                                         else part, self._pending)
            elif not hasattr(type(static), "__get__"):                # class-level data
                class_needed = True
                value = read(node, name)
                if value is not MISSING:
                    self._add_entry(node, name, value, node.child_desc(name), depth)
            else:
                self._note_unwatched(node.desc, name, unwatched_attribute(kind, name, static))
        if callable(obj) and isinstance(getattr(kind, "__call__", None), types.FunctionType):
            class_needed = True
            self._visit_function(obj, self._pending)
        if class_needed and not is_library_object(kind):
            # the instance's class by identity; the class itself is a root (checked once,
            # not once per instance)
            node.entries["__class__"] = (IDENT, kind)
            self._instance_classes.add(id(kind))
            self._pending.append((-1, kind, kind.__name__))

    def _expand_class(self, node, depth):
        cls = node.obj
        if is_library_object(cls):
            return
        for name in self._names_for(cls):
            static = _on_class(cls, name) if name not in vars(cls) else vars(cls)[name]
            if static is MISSING or isinstance(static, types.MemberDescriptorType):
                continue
            value = getattr(cls, name, MISSING)      # a property: the property object (its identity)
            if value is not MISSING:
                self._add_entry(node, name, value, f"{cls.__name__}.{name}", depth)
        if id(cls) not in self._instance_classes:
            self._visit_construction(cls)

    def _visit_construction(self, cls) -> None:
        """A class the code names (not only an instance's class) may be instantiated
        there: ``Cls()(x)`` runs its ``__init__`` and ``__call__``, whose code is followed."""
        for name in _CONSTRUCTION:
            method = _on_class(cls, name)
            if isinstance(method, (staticmethod, classmethod)):
                method = method.__func__
            if isinstance(method, types.FunctionType) and not is_library_object(method):
                self._visit_function(method, self._pending)

    def _note_unwatched(self, desc, name, why) -> None:
        if why is not None:
            self.unwatched.append((f"{why} ({desc})", self.info.reads.get(name, "")))

    def _add_entry(self, node, key, value, desc, depth):
        if value is MISSING:
            node.absent.append(key)
            return
        why = unwatched_value(value, self.info.attrs)
        if why is not None:
            self._note_unwatched(desc, key if isinstance(key, str) else "", why)
        if type(value) in _GETTERS:           # attrgetter("scale"): the names it reads
            self.info.attrs |= {n for a in value.__reduce__()[1] if isinstance(a, str) for n in a.split(".")}
            self.info.strings |= {a for a in value.__reduce__()[1] if isinstance(a, str) and a.isidentifier()}
        kind = classify(value)
        if kind == SCALAR and self.int_state and desc in self.int_state and \
                (type(value) is int and -2 ** 62 <= value <= 2 ** 62 or type(value) is float):
            kind = ARRAY              # a number the function changes (self.t += 1): traced
        if kind == NODE:
            known = self.by_id.get(id(value))
            if known is not None:
                node.entries[key] = (SHARED, value)
                known.by_identity = True        # `self.cfg is DEFAULT`: the first path must keep it too
                if known.kind == CLASS and id(value) in self._instance_classes:
                    self._instance_classes.discard(id(value))       # named too: it may be instantiated
                    self._visit_construction(value)
                return
            kid = self._node_for(value, desc, depth + 1)
            if kid is None:
                node.entries[key] = (SHARED, value)
                return
            node.entries[key] = (NODE, kid)
            node.kids[key] = kid
            return
        if kind == IDENT and not isinstance(value, type):
            self._visit_function(value, self._pending)
        node.entries[key] = (kind, value)


_CONSTRUCTION = ("__new__", "__init__", "__post_init__", "__call__")
_IMPORTING_NAMES = frozenset({"import_module", "__import__", "modules"})   # importlib, sys.modules


def _submodule_exists(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def _absolute(name: str, level: int, namespace) -> str | None:
    """The absolute module name of ``from {"." * level}{name} import ...`` in the module
    whose globals are `namespace` (None when it does not resolve)."""
    if not level:
        return name or None
    package = namespace.get("__package__") or namespace.get("__name__", "").rpartition(".")[0]
    if not package:
        return None
    base = package.rsplit(".", level - 1)[0] if level > 1 else package
    return f"{base}.{name}" if name else base


_GETTERS = (operator.attrgetter, operator.itemgetter, operator.methodcaller)
ITERATING_NAMES = frozenset({"items", "values", "keys", "popitem"})   # methods reading every key


def _on_class(kind, name):
    """What `name` is on class `kind` (its MRO's dicts, without running descriptors)."""
    try:
        mro = type.__getattribute__(kind, "__mro__")
    except AttributeError:
        return MISSING
    for klass in mro:
        space = type.__getattribute__(klass, "__dict__")
        if name in space:
            return space[name]
    return MISSING


def _functions_of(static):
    if isinstance(static, property):
        return [f for f in (static.fget, static.fset, static.fdel) if f is not None]
    if isinstance(static, (staticmethod, classmethod)):
        return [static.__func__]
    if type(static).__name__ == "CompiledFunction":
        return [static.fn]
    return [static]


def classify(value) -> str:
    kind = type(value)
    if kind is np.ndarray or isinstance(value, np.generic):
        # NumPy scalars are state like 0-d arrays (`self.t = self.t + 1` on a 0-d array
        # leaves a NumPy scalar): traced and read live, not baked in
        return ARRAY if value.dtype in SUPPORTED_DTYPES else SCALAR
    if kind in SCALAR_TYPES:
        return SCALAR
    if isinstance(value, (set, frozenset)):
        return CONTENT
    if isinstance(value, (dict, list, tuple)):
        return NODE
    if isinstance(value, types.ModuleType):
        return IDENT if is_library(value.__name__) else NODE
    if isinstance(value, type):
        return IDENT if is_library_object(value) else NODE
    if is_plain_object(value) or type(value) is functools.partial:
        return NODE
    return IDENT
