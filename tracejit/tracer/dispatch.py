"""NumPy's protocols on traced arrays: ``__array_function__`` and ``__array_ufunc__``.

``HANDLERS`` is the one table of NumPy functions the tracer implements, gathered from
the modules that implement them (``functions``, ``sorting``, ``lapack``, ``grids``,
``einsum``, ``nanfuncs``, ``statistics``, ``histogram``, ``selection``); a function
not in it raises ``UnsupportedError`` naming the function and the user's line (never
a silently wrong answer). ``array_ufunc`` dispatches ufunc calls (with ``out=``) and
the ufunc methods of ``ufunc_methods.py``.
"""
from __future__ import annotations

from . import (einsum, functions, grids, histogram, lapack, linalg, nanfuncs, selection, sorting, statistics,
               ufunc_methods, ufuncs, writes)
from .errors import UnsupportedError
from .location import user_loc
from .ufuncs import UFUNC_OPS

HANDLERS = dict(functions.HANDLERS)
for _module in (sorting, lapack, grids, einsum, nanfuncs, statistics, histogram, selection):
    HANDLERS.update(_module.HANDLERS)


def _public_name(func) -> str:
    module = getattr(func, "__module__", "") or ""
    name = getattr(func, "__name__", repr(func))
    if module.startswith("numpy.linalg"):
        return f"np.linalg.{name}"
    if module.startswith("numpy.fft"):
        return f"np.fft.{name}"
    return f"np.{name}"


def array_function(func, types, args, kwargs):
    """``TracedArray.__array_function__``."""
    handler = HANDLERS.get(func)
    if handler is None:
        name = _public_name(func)
        raise UnsupportedError(name, name, user_loc())
    return handler(*args, **kwargs)


_DEFAULT_KWARGS = {"out": (None,), "where": True, "casting": "same_kind", "order": "K",
                   "subok": True, "dtype": None, "signature": None}


def array_ufunc(ufunc, method: str, inputs, kwargs):
    """``TracedArray.__array_ufunc__``: ``np.exp(x)``, ``ndarray + x``, ``np.add.reduce``..."""
    name = ufunc.__name__
    where = f"np.{name}" if method == "__call__" else f"np.{name}.{method}"
    if method != "__call__":
        implementation = ufunc_methods.METHODS.get(method)
        if implementation is None:
            raise UnsupportedError(where, where, user_loc())
        return implementation(name, where, inputs, kwargs)
    out = kwargs.pop("out", None)
    outs = [o for o in (out if isinstance(out, tuple) else (out,)) if o is not None]
    if outs:
        if len(outs) != 1 or ufunc.nout != 1:
            raise UnsupportedError(f"{where}(..., out=...) with several outputs", where, user_loc())
        casting = kwargs.pop("casting", "same_kind")
        result = array_ufunc(ufunc, method, inputs, kwargs)
        return writes.write_out(outs[0], result, casting)
    for key, val in kwargs.items():
        default = _DEFAULT_KWARGS.get(key, "<none>")
        if not (val is default or (type(val) in (str, bool) and val == default)):
            raise UnsupportedError(f"{where}(..., {key}=...)", where, user_loc(),
                                   hint="out=, where=, dtype= and casting= on ufuncs are not "
                                        "traced; write the result to a new array instead")
    if name == "matmul":
        return linalg.matmul(*inputs)
    if name == "divmod":
        return ufuncs.divmod_(*inputs)
    if name in UFUNC_OPS or name in ufuncs.ALIASES or name in ufuncs.IDENTITIES:
        if len(inputs) != ufunc.nin:
            raise TypeError(f"{name}() takes from {ufunc.nin} to {ufunc.nin + 1} positional "
                            f"arguments but {len(inputs)} were given")
        return ufuncs.apply(name, inputs)
    raise UnsupportedError(f"np.{name}", where, user_loc())
