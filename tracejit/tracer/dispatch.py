"""NumPy's protocols on traced arrays: ``__array_function__`` and ``__array_ufunc__``.

``HANDLERS`` is the one table of NumPy functions the tracer implements, gathered from
the modules that implement them (``functions``, ``sorting``, ``lapack``, ``grids``,
``einsum``, ``nanfuncs``, ``statistics``, ``histogram``, ``selection``, ``numerical``,
...); a function not in it raises ``UnsupportedError`` naming the function and the
user's line (never a silently wrong answer). ``array_ufunc`` dispatches ufunc calls
(with ``out=``), the gufuncs of ``products.py``, ufuncs that are not NumPy's
(``foreign_ufuncs.py``) and the ufunc methods of ``ufunc_methods.py``.
"""
from __future__ import annotations

import numpy as np

from . import (compositions, einsum, fft, foreign_ufuncs, functions, grids, histogram, index_functions, lapack,
               linalg, linalg_svd, manipulation, nanfuncs, numerical, order_statistics, products, selection, signal, sorting,
               statistics, ufunc_methods, ufuncs, writes)
from .errors import UnsupportedError
from .location import user_loc
from .proxy import TracedArray
from .ufuncs import UFUNC_OPS, astype

HANDLERS = dict(functions.HANDLERS)
for _module in (sorting, lapack, grids, einsum, nanfuncs, statistics, histogram, selection, compositions,
                order_statistics, signal, numerical, index_functions, fft, manipulation, linalg_svd):
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
    if not foreign_ufuncs.is_numpy_ufunc(ufunc):      # scipy.special's, a @vectorize: by identity
        if method != "__call__":
            where = f"{foreign_ufuncs.public_name(ufunc)}.{method}"
            raise UnsupportedError(where, where, user_loc())
        return foreign_ufuncs.call(ufunc, inputs, kwargs)
    name = ufunc.__name__
    where = f"np.{name}" if method == "__call__" else f"np.{name}.{method}"
    if method != "__call__":
        implementation = ufunc_methods.METHODS.get(method)
        if implementation is None:
            raise UnsupportedError(where, where, user_loc())
        return implementation(name, where, inputs, kwargs)
    out = kwargs.pop("out", None)
    outs = [o for o in (out if isinstance(out, tuple) else (out,)) if o is not None]
    mask = kwargs.pop("where", True)
    if mask is not True:
        return _masked_call(ufunc, where, inputs, kwargs, outs, mask)
    if outs:
        if len(outs) != 1 or ufunc.nout != 1:
            raise UnsupportedError(f"{where}(..., out=...) with several outputs", where, user_loc())
        casting = kwargs.pop("casting", "same_kind")
        return writes.write_out(outs[0], _computed(ufunc, inputs, kwargs, casting), casting)
    if kwargs.get("dtype") is not None:
        return _call_in_dtype(ufunc, where, inputs, kwargs)
    for key, val in kwargs.items():
        default = _DEFAULT_KWARGS.get(key, "<none>")
        if not (val is default or (type(val) in (str, bool) and val == default)):
            raise UnsupportedError(f"{where}(..., {key}=...)", where, user_loc(),
                                   hint="ufuncs trace out=, where= (with out=), dtype= and casting=; "
                                        "not order=, subok= or signature=")
    if name == "matmul":
        return linalg.matmul(*inputs)
    if name == "divmod":
        return ufuncs.divmod_(*inputs)
    if name in products.GUFUNCS:
        if len(inputs) != 2:
            raise TypeError(f"{name}() takes from 2 to 3 positional arguments but {len(inputs)} were given")
        return products.GUFUNCS[name](*inputs)
    if name in compositions.UFUNCS:
        if len(inputs) != ufunc.nin:
            raise TypeError(f"{name}() takes from {ufunc.nin} to {ufunc.nin + 1} positional "
                            f"arguments but {len(inputs)} were given")
        return compositions.UFUNCS[name](*inputs)
    if name in UFUNC_OPS or name in ufuncs.ALIASES or name in ufuncs.IDENTITIES:
        if len(inputs) != ufunc.nin:
            raise TypeError(f"{name}() takes from {ufunc.nin} to {ufunc.nin + 1} positional "
                            f"arguments but {len(inputs)} were given")
        return ufuncs.apply(name, inputs)
    raise UnsupportedError(f"np.{name}", where, user_loc())


def _masked_call(ufunc, where, inputs, kwargs, outs, mask):
    """``ufunc(..., out=o, where=m)``: the result where m holds, o keeps its values
    elsewhere (``np.divide(a, b, out=np.zeros_like(a), where=b != 0)``)."""
    if len(outs) != 1 or ufunc.nout != 1:
        raise UnsupportedError(f"{where}(..., where=...) without one out= array (NumPy leaves the other "
                               "elements uninitialized)", where, user_loc())
    if ufunc.__name__ == "power" and not all(np.result_type(x).kind in "fc" for x in inputs):
        # the integer power's negative-exponent check would also see the masked-out elements
        raise UnsupportedError(f"{where}(..., where=...) of integers", where, user_loc())
    casting = kwargs.pop("casting", "same_kind")
    if isinstance(mask, (list, tuple)):
        mask = np.array(mask, dtype=bool)
    mask_dtype = mask.dtype if isinstance(mask, (TracedArray, np.ndarray)) else np.result_type(mask)
    if mask_dtype != np.bool_:
        raise TypeError(f"Cannot cast array data from {mask_dtype!r} to dtype('bool') according to the rule 'safe'")
    result = _computed(ufunc, inputs, kwargs, casting)
    shape = np.broadcast_shapes(np.shape(result), np.shape(mask))
    if np.broadcast_shapes(shape, outs[0].shape) != outs[0].shape:
        raise ValueError(f"non-broadcastable output operand with shape {outs[0].shape} doesn't match the "
                         f"broadcast shape {shape}")
    writes.copyto(outs[0], result, casting, where=mask)
    return outs[0]


def _computed(ufunc, inputs, kwargs, casting):
    """The ufunc's value for an out= array: in `dtype=` (under `casting`) when given."""
    if kwargs.get("dtype") is not None:
        return _call_in_dtype(ufunc, f"np.{ufunc.__name__}", inputs, {**kwargs, "casting": casting})
    return array_ufunc(ufunc, "__call__", inputs, kwargs)


def _call_in_dtype(ufunc, where, inputs, kwargs):
    """``ufunc(..., dtype=d)``: the inputs cast to d (under `casting`), computed in d."""
    dtype = np.dtype(kwargs.pop("dtype"))
    casting = kwargs.pop("casting", "same_kind")
    for x in inputs:
        if type(x) in (int, float, complex) and casting in ("no", "equiv") and np.result_type(x) != dtype:
            raise TypeError(f"cannot cast Python {type(x).__name__} to {dtype} under the casting rule {casting!r}")
    try:        # the loop the inputs select already gives dtype (np.greater(a, b, dtype=bool))
        natural = ufunc.resolve_dtypes(tuple(x.dtype if isinstance(x, TracedArray) else type(x) for x in inputs)
                                       + (None,) * ufunc.nout)
        if all(np.dtype(d) == dtype for d in natural[ufunc.nin:]):
            return array_ufunc(ufunc, "__call__", inputs, kwargs)
    except TypeError:
        pass
    cast = []
    for x in inputs:
        if isinstance(x, TracedArray):
            if not np.can_cast(x.dtype, dtype, casting):
                raise TypeError(f"Cannot cast ufunc '{ufunc.__name__}' input from {x.dtype!r} to {dtype!r} "
                                f"with casting rule {casting!r}")
            x = astype(x, dtype) if x.dtype != dtype else x
        cast.append(x)
    result = array_ufunc(ufunc, "__call__", cast, kwargs)
    if isinstance(result, TracedArray) and result.dtype != dtype:
        raise UnsupportedError(f"{where}(..., dtype={dtype.name})", where, user_loc())
    return result
