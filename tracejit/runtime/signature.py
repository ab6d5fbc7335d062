"""Arguments -> traced leaves, static values and the specialization key.

Arrays and NumPy scalars are traced (their shape and dtype are in the key); Python
floats are traced as weak scalars (a new learning rate does not recompile); Python
ints, bools, strings, None, dtypes, types, functions and other hashables are static
and part of the key, compared by value and type (``static_token``); plain objects
(models, configs) are keyed by type and guarded by what the code reads;
``static_argnames`` makes any argument static. Arguments tracejit does not compile
(other dtypes, array types it does not know, unhashable values) raise
``UnsupportedArgument``: the call runs eagerly, with a warning.
"""
from __future__ import annotations

import inspect

import numpy as np

from ..ir.types import SUPPORTED_DTYPES, ListArgType, ScalarArgType, ScalarListArgType, TensorType, short_name
from .arrays import library_of
from .discover import holds_state, is_plain_object
from .unwatched import has_attributes
from .numlists import NumberList


class ArgumentError(TypeError):
    pass


class UnsupportedArgument(Exception):
    """A valid argument tracejit does not compile for (the call runs eagerly)."""

    op = "argument"
    loc = ""


def leaf_paths(prefix, obj):
    """Readable paths of the leaves of `obj`, in flatten order (for messages)."""
    if isinstance(obj, (list, tuple)):
        for i, item in enumerate(obj):
            yield from leaf_paths(f"{prefix}[{i}]", item)
    elif isinstance(obj, dict):
        for key, item in obj.items():
            yield from leaf_paths(f"{prefix}[{key!r}]", item)
    else:
        yield prefix


class Binder:
    """Binds call arguments to the function's signature once per call, cheaply."""

    def __init__(self, fn, static_argnames):
        self.signature = inspect.signature(fn)
        self.static_argnames = tuple(static_argnames)
        self._no_value_defaults = tuple(name for name, p in self.signature.parameters.items()
                                        if p.default is np._NoValue and name not in self.static_argnames
                                        and p.kind is not inspect.Parameter.POSITIONAL_ONLY)
        for name in self.static_argnames:
            if name not in self.signature.parameters:
                raise ValueError(f"tracejit: static_argnames names {name!r}, which is not a parameter of "
                                 f"{getattr(fn, '__qualname__', fn)}")

    def bind(self, args, kwargs):
        """(bound arguments, {static name: value}) with defaults applied."""
        bound = self.signature.bind(*args, **kwargs)
        bound.apply_defaults()
        if self._no_value_defaults:       # NumPy's "not given" sentinel (np.sum's keepdims): left out
            for name in self._no_value_defaults:
                if bound.arguments.get(name, None) is np._NoValue:
                    del bound.arguments[name]
        static = {}
        for name in self.static_argnames:
            static[name] = bound.arguments[name]
        return bound, static


def static_token(value):
    """A hashable stand-in for a static value, equal exactly when eager NumPy could not
    tell the values apart: the type is part of it (``1``, ``True`` and ``1.0`` differ),
    floats compare by their bits (``-0.0`` is not ``0.0``; NaN equals NaN), containers
    and small arrays by their contents. TypeError for an unhashable value."""
    kind = type(value)
    if kind in (int, bool, str, bytes, type(None)):
        return (kind, value)
    if kind is float:
        return (float, value.hex())
    if kind is complex:
        return (complex, value.real.hex(), value.imag.hex())
    if isinstance(value, np.generic):
        return (kind, value.tobytes())
    if kind in (tuple, list):
        return (kind, tuple(static_token(v) for v in value))
    if kind is dict:
        return (dict, tuple((static_token(k), static_token(v)) for k, v in value.items()))
    if kind in (set, frozenset):
        return (kind, frozenset(static_token(v) for v in value))
    if kind is np.ndarray and value.size <= 4096:
        return (np.ndarray, value.shape, value.dtype.str, value.tobytes())
    hash(value)
    return (kind, value)


def token_text(token) -> str:
    """A static token in words (for recompilation reasons)."""
    if isinstance(token, tuple) and len(token) >= 2:
        kind = token[0]
        if kind is float:
            return repr(float.fromhex(token[1]))
        if kind is complex and len(token) == 3:
            return repr(complex(float.fromhex(token[1]), float.fromhex(token[2])))
        if kind in (int, bool, str, bytes, type(None)):
            return repr(token[1])
        if kind in (tuple, list) and isinstance(token[1], tuple):
            items = ", ".join(token_text(t) for t in token[1])
            return f"({items}{',' if len(token[1]) == 1 else ''})" if kind is tuple else f"[{items}]"
        if kind is dict and isinstance(token[1], tuple):
            return "{" + ", ".join(f"{token_text(k)}: {token_text(v)}" for k, v in token[1]) + "}"
        if kind in (set, frozenset):
            return "{" + ", ".join(sorted(token_text(t) for t in token[1])) + "}"
        if kind is np.ndarray and len(token) == 4:
            return f"an array {np.dtype(token[2]).name}{list(token[1])}"
        if isinstance(kind, type) and issubclass(kind, np.generic) and isinstance(token[1], bytes):
            return repr(np.frombuffer(token[1], dtype=kind)[0])
        if kind == "object":
            return f"a {token[1].__name__} object"
        if isinstance(kind, type) and len(token) == 2:
            return repr(token[1])
    return repr(token)


def classify_static(value, path):
    """Key part of an argument made static by ``static_argnames``."""
    if is_plain_object(value):
        return ("object", type(value))
    try:
        return ("static", type(value), static_token(value))
    except TypeError:
        raise UnsupportedArgument(f"static argument {path} of type {type(value).__name__} is not "
                                  "hashable") from None


def classify_leaf(leaf, path):
    """(key part, abstract leaf, array library or None) for one flattened leaf.

    Plain objects (a model, a config: ``is_plain_object``) are keyed by their type
    only; the guards then check the attributes the code reads, so instances with the
    same structure share a specialization and none is kept alive by the cache."""
    if isinstance(leaf, bool) or leaf is None or isinstance(leaf, (int, str, bytes)):
        if has_attributes(leaf):
            raise UnsupportedArgument(f"argument {path} is a {type(leaf).__name__} with attributes of its own "
                                      "(a value and an object at once: its key would miss one)")
        return ("static", type(leaf), static_token(leaf) if type(leaf) in (int, bool, str, bytes) else leaf), \
            leaf, None
    if type(leaf) is NumberList:
        kind = ListArgType if leaf.weak_elements else ScalarListArgType
        return ("numlist", leaf.pytype, len(leaf.items)), kind((len(leaf.items),), leaf.dtype), None
    if type(leaf) is float:   # exactly float: np.float64 subclasses float but is a strong NumPy scalar
        return ("weak",), TensorType((), np.float64, weak=True), None
    if isinstance(leaf, np.ndarray) and type(leaf) is not np.ndarray:
        raise UnsupportedArgument(f"argument {path} is a {type(leaf).__name__} (an ndarray subclass whose "
                                  "operators may differ from ndarray's)")
    lib = library_of(leaf)
    if lib is not None:
        shape, dtype = lib.shape_dtype(leaf)
        if dtype not in SUPPORTED_DTYPES:
            raise UnsupportedArgument(
                f"argument {path} has dtype {dtype}, which tracejit does not compile "
                f"(supported: {', '.join(short_name(d) for d in SUPPORTED_DTYPES)})")
        if isinstance(leaf, np.generic):          # NumPy scalars go with any device
            return ("array", lib.name, shape, dtype.str, "scalar"), ScalarArgType(shape, dtype), None
        return ("array", lib.name, shape, dtype.str), TensorType(shape, dtype), lib
    if isinstance(leaf, complex):
        raise UnsupportedArgument(f"argument {path} is a complex number; complex values are not compiled")
    if is_plain_object(leaf):
        return ("object", type(leaf)), leaf, None
    if not isinstance(leaf, type) and (_has(leaf, "__array__") or _has(leaf, "__cuda_array_interface__")):
        raise UnsupportedArgument(f"argument {path} of type {type(leaf).__name__} is an array type tracejit "
                                  "does not compile; pass NumPy arrays, CuPy arrays or torch CUDA tensors")
    if has_attributes(leaf):
        raise UnsupportedArgument(f"argument {path} is a {type(leaf).__name__} with attributes of its own "
                                  "(a value and an object at once: its key would miss one)")
    try:
        token = static_token(leaf)
    except TypeError:
        raise UnsupportedArgument(
            f"argument {path} of type {type(leaf).__name__} is neither an array, a number, nor "
            "hashable (static)") from None
    return ("static", type(leaf), token), leaf, None


def argument_objects(values, parts, path_of) -> list:
    """(leaf position, object, path) of the arguments whose attributes are state:
    plain objects, and static classes and modules (``discover.holds_state``)."""
    return [(i, v, path_of(i)) for i, (v, part) in enumerate(zip(values, parts))
            if part[0] == "object" or part[0] == "static" and holds_state(v)]


def _has(obj, name) -> bool:
    """hasattr, for objects whose __getattr__ raises something else than AttributeError."""
    try:
        return hasattr(obj, name)
    except Exception:    # noqa: BLE001
        return False


def describe_key_change(old_key, new_key, paths) -> str:
    """Human words for why a new specialization was needed."""
    if old_key is None:
        return "first call"
    (old_tree, old_leaves), (new_tree, new_leaves) = old_key[:2], new_key[:2]
    if old_tree != new_tree or len(old_leaves) != len(new_leaves):
        return "new argument structure"
    changes = []
    for path, old, new in zip(paths, old_leaves, new_leaves):
        if old != new and old[0] == new[0] == "static":
            changes.append(f"{path}={token_text(new[2])} (was {token_text(old[2])})")
        elif old != new:
            changes.append(f"{path}: {_leaf_text(new)} (was {_leaf_text(old)})")
    return "; ".join(changes) or "new backend"


def _leaf_text(part) -> str:
    if part[0] == "array":
        return f"{part[1]} {TensorType(part[2], np.dtype(part[3]))}"
    if part[0] == "static":
        return f"static {token_text(part[2])}"
    if part[0] == "object":
        return f"a {part[1].__name__} object"
    if part[0] == "numlist":
        return f"a list of {part[2]} {part[1].__name__}s"
    if part[0] == "dynint":
        return "an int traced as a value (it changes between calls)"
    return "python float"


__all__ = ["Binder", "classify_leaf", "classify_static", "describe_key_change", "leaf_paths", "static_token",
           "ArgumentError", "UnsupportedArgument"]
