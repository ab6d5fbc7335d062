"""``type(x)`` in traced code answers as eager Python would.

A traced value is a proxy: ``isinstance`` sees eager NumPy's types (the proxy's
``__class__``), but the builtin ``type()`` cannot be overridden, so ``type(lr) is
float`` would take the other branch while tracing. For the duration of a trace, the
traced function's module gets a global ``type`` that returns a proxy's ``__class__``
(``float`` for a traced Python float, ``np.ndarray`` for an array, ``np.float32`` for a
NumPy scalar) and is the builtin for everything else. Code in other modules sees the
builtin (a README limitation); a module that defines its own ``type`` keeps it.
"""
from __future__ import annotations

import builtins
from contextlib import contextmanager

from .proxy import TracedArray


def eager_type(*args):
    if len(args) == 1 and isinstance(args[0], TracedArray):
        return args[0].__class__
    return builtins.type(*args)


@contextmanager
def eager_type_in(fn):
    space = getattr(getattr(fn, "__func__", fn), "__globals__", None)
    if not isinstance(space, dict) or "type" in space:
        yield
        return
    space["type"] = eager_type
    try:
        yield
    finally:
        if space.get("type") is eager_type:
            del space["type"]


__all__ = ["eager_type", "eager_type_in"]
