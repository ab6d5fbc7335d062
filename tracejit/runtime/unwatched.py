"""State the guards cannot watch: reads that make the function run eagerly.

Guards re-check, on every call, the entries ``discover.py`` found by name. Some reads
do not go through such an entry, so a trace would freeze what they returned:

- attributes computed by a class's own ``__getattribute__``, by ``__getattr__`` (for
  a name the object does not hold), or by a descriptor other than functions,
  properties, static/class methods and slots (``functools.cached_property`` before
  its first use, a user descriptor);
- the referent of a weak reference or proxy;
- the process environment (``os.environ``, ``os.getenv``);
- the elements of an object-dtype array (swapping one is invisible to a guard).

Each check returns what was found, in words, or None; the runtime turns a finding
into an eager fallback that names it (``compiled.refuse_unreplayable``).
"""
from __future__ import annotations

import enum
import os
import types
import weakref

import numpy as np

_WEAK_TYPES = (weakref.ref, weakref.ProxyType, weakref.CallableProxyType, weakref.WeakValueDictionary,
               weakref.WeakKeyDictionary, weakref.WeakSet, weakref.WeakMethod)
_ENVIRONMENT_NAMES = frozenset({"environ", "environb", "getenv", "getenvb"})
# enum members' .name/.value are DynamicClassAttributes (members are immutable)
_KNOWN_DESCRIPTORS = (types.FunctionType, staticmethod, classmethod, property, types.MemberDescriptorType,
                      types.GetSetDescriptorType, types.MethodDescriptorType, types.WrapperDescriptorType,
                      types.BuiltinFunctionType, types.ClassMethodDescriptorType, types.DynamicClassAttribute)
# names the code most likely reads on arrays (x.sum(), x.T), not on an object with __getattr__
_ARRAY_NAMES = frozenset(dir(np.ndarray))


def unwatched_value(value, attrs) -> str | None:
    """Why reads through `value` cannot be guarded (`attrs`: the attribute names the
    code uses), or None."""
    if isinstance(value, _WEAK_TYPES):
        return f"the object behind a weak reference ({type(value).__name__})"
    if value is os.environ or value is os.getenv or (value is os and attrs & _ENVIRONMENT_NAMES):
        return "the process environment (os.environ)"
    if type(value) is np.ndarray and value.dtype == object:
        return "the elements of an object array"
    if has_attributes(value) and attrs & set(vars(value)):
        return f"attributes of a {type(value).__name__} (an int/float/str subclass with attributes)"
    return None


def has_attributes(value) -> bool:
    """An int/float/str subclass instance (not an Enum member) holding attributes of its
    own: a value and an object at once, which neither a value key nor an identity
    guard covers."""
    if isinstance(value, enum.Enum) or not isinstance(value, (int, float, str, bytes, complex)):
        return False
    space = getattr(value, "__dict__", None)
    return isinstance(space, dict) and bool(space)


def custom_getattribute(kind) -> str | None:
    """Why no attribute of an instance of `kind` can be guarded, or None."""
    if isinstance(_class_entry(kind, "__getattribute__"), types.FunctionType):   # written in Python
        return f"attributes of a {kind.__name__}, whose class defines __getattribute__"
    return None


def unwatched_attribute(kind, name, static) -> str | None:
    """Why reading attribute `name` of an instance of `kind` cannot be guarded, or
    None. `static`: what the class holds under `name` (``discover._on_class``), or
    None when the class holds nothing."""
    if static is None:
        if _class_entry(kind, "__getattr__") is not None and name not in _ARRAY_NAMES:
            return f"{name!r} of a {kind.__name__}, computed by its class's __getattr__"
        return None
    if hasattr(type(static), "__get__") and not isinstance(static, _KNOWN_DESCRIPTORS) and \
            type(static).__name__ != "CompiledFunction":
        return f"{name!r} of a {kind.__name__}, computed by a {type(static).__name__} descriptor"
    return None


def _class_entry(kind, name):
    for klass in type.__getattribute__(kind, "__mro__"):
        space = type.__getattribute__(klass, "__dict__")
        if name in space:
            return space[name]
    return None
