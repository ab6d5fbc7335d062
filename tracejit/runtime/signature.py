"""Arguments -> traced leaves, static values and the specialization key.

Arrays and NumPy scalars are traced (their shape and dtype are in the key); Python
floats are traced as weak scalars (a new learning rate does not recompile); Python
ints, bools, strings, None and other hashables are static and part of the key;
``static_argnames`` makes any argument static.
"""
from __future__ import annotations

import inspect

import numpy as np

from ..ir.types import SUPPORTED_DTYPES, TensorType, short_name
from .arrays import library_of


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
        for name in self.static_argnames:
            if name not in self.signature.parameters:
                raise ValueError(f"tracejit: static_argnames names {name!r}, which is not a parameter of "
                                 f"{getattr(fn, '__qualname__', fn)}")

    def bind(self, args, kwargs):
        """(bound arguments, {static name: value}) with defaults applied."""
        bound = self.signature.bind(*args, **kwargs)
        bound.apply_defaults()
        static = {}
        for name in self.static_argnames:
            static[name] = bound.arguments[name]
        return bound, static


def classify_leaf(leaf, path):
    """(key part, abstract leaf, array library or None) for one flattened leaf."""
    if isinstance(leaf, bool) or leaf is None or isinstance(leaf, (int, str, bytes)):
        return ("static", type(leaf), leaf), leaf, None
    if type(leaf) is float:   # exactly float: np.float64 subclasses float but is a strong NumPy scalar
        return ("weak",), TensorType((), np.float64, weak=True), None
    if isinstance(leaf, np.ndarray) and type(leaf) is not np.ndarray:
        raise UnsupportedArgument(f"argument {path} is a {type(leaf).__name__} (an ndarray subclass whose "
                                  "operators may differ from ndarray's)")
    lib = library_of(leaf)
    if lib is not None:
        shape, dtype = lib.shape_dtype(leaf)
        if dtype not in SUPPORTED_DTYPES:
            raise ArgumentError(
                f"tracejit: argument {path} has dtype {dtype}, which tracejit does not support "
                f"(supported: {', '.join(short_name(d) for d in SUPPORTED_DTYPES)})")
        device_lib = None if isinstance(leaf, np.generic) else lib   # NumPy scalars go with any device
        return ("array", lib.name, shape, dtype.str), TensorType(shape, dtype), device_lib
    if isinstance(leaf, complex):
        raise ArgumentError(f"tracejit: argument {path} is a complex number; complex values are not supported")
    try:
        hash(leaf)
    except TypeError:
        raise ArgumentError(
            f"tracejit: argument {path} of type {type(leaf).__name__} is neither an array, a number, nor "
            "hashable (static); pass arrays, numbers, or tuples/lists/dicts of them") from None
    if hasattr(leaf, "__array__") or hasattr(leaf, "__cuda_array_interface__"):
        raise ArgumentError(f"tracejit: argument {path} of type {type(leaf).__name__} is an array type tracejit "
                            "does not handle; pass NumPy arrays, CuPy arrays or torch CUDA tensors")
    return ("static", type(leaf), leaf), leaf, None


def describe_key_change(old_key, new_key, paths) -> str:
    """Human words for why a new specialization was needed."""
    if old_key is None:
        return "first call"
    (old_tree, old_static, old_leaves), (new_tree, new_static, new_leaves) = old_key[:3], new_key[:3]
    if old_static != new_static:
        changes = [f"{name}={new!r} (was {old!r})" for (name, old), (_, new) in zip(old_static, new_static) if old != new]
        return "new static value " + ", ".join(changes)
    if old_tree != new_tree or len(old_leaves) != len(new_leaves):
        return "new argument structure"
    changes = []
    for path, old, new in zip(paths, old_leaves, new_leaves):
        if old != new and old[0] == new[0] == "static":
            changes.append(f"{path}={new[2]!r} (was {old[2]!r})")
        elif old != new:
            changes.append(f"{path}: {_leaf_text(new)} (was {_leaf_text(old)})")
    return "; ".join(changes) or "new backend or guard"


def _leaf_text(part) -> str:
    if part[0] == "array":
        return f"{part[1]} {TensorType(part[2], np.dtype(part[3]))}"
    if part[0] == "static":
        return f"static {part[2]!r}"
    return "python float"


__all__ = ["Binder", "classify_leaf", "describe_key_change", "leaf_paths", "ArgumentError", "UnsupportedArgument"]
