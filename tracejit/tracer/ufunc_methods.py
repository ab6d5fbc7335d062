"""Ufunc methods on traced arrays: ``np.<ufunc>.reduce``, ``.accumulate``, ``.outer``, ``.at``.

- ``reduce`` (axis, keepdims, where, initial, dtype for add/multiply): ``add``/``multiply``/``maximum``/
  ``minimum``/``fmax``/``fmin``/``logical_and``/``logical_or`` are the IR reductions
  ``np.sum``, ``np.prod``, ``np.max``, ``np.min``, ``np.nanmax``, ``np.nanmin``,
  ``np.all``, ``np.any`` use (``axis`` defaults to 0, as NumPy's);
- ``accumulate`` (axis, dtype for add/multiply): the scans ``cumsum``/``cumprod``/
  ``cummax``/``cummin`` (NumPy 2's add/multiply accumulate promote small integers as
  ``cumsum`` does);
- ``outer``: ``ufunc(a[..., None, ...], b)``, broadcast;
- ``at``: ``writes.ufunc_at`` (add, subtract, multiply, maximum, minimum).
Other ufuncs and methods (``reduceat``, ``subtract.reduce``, which is not reorderable)
raise ``UnsupportedError``: the function runs eagerly.
"""
from __future__ import annotations

import operator

import numpy as np
from numpy.lib.array_utils import normalize_axis_index

from . import reductions, ufuncs, writes
from .errors import UnsupportedError
from .location import user_loc
from .proxy import TracedArray
from .shapes import as_traced, emit, reshape
from .state import wrap

# ufunc -> (reduction function of reductions.py, whether it takes dtype=)
_REDUCE = {"add": ("sum", True), "multiply": ("prod", True), "maximum": ("max", False),
           "minimum": ("min", False), "fmax": ("nanmax", False), "fmin": ("nanmin", False),
           "logical_and": ("all", False), "logical_or": ("any", False)}
_ACCUMULATE = {"add": "cumsum", "multiply": "cumprod", "maximum": "cummax", "minimum": "cummin"}


def _options(where, inputs, kwargs, names, masked=False):
    """The method's arguments by name; out= and unknown ones refused, and where=/initial=
    unless `masked` (they are then among the arguments)."""
    args = dict(zip(names, inputs))
    for key, value in kwargs.items():
        if key in args:
            raise TypeError(f"argument given by name ('{key}') and position")
        args[key] = value
    out = args.pop("out", None)
    if out is not None and out != (None,):
        raise UnsupportedError(f"{where}(..., out=...)", where, user_loc())
    if not masked and args.pop("where", True) is not True:
        raise UnsupportedError(f"{where}(..., where=...)", where, user_loc())
    if not masked and args.pop("initial", np._NoValue) is not np._NoValue:
        raise UnsupportedError(f"{where}(..., initial=...)", where, user_loc())
    unknown = set(args) - set(names)
    if unknown:
        raise UnsupportedError(f"{where}(..., {', '.join(sorted(unknown))}=...)", where, user_loc())
    return args


def reduce(name, where, inputs, kwargs):
    if name not in _REDUCE:
        raise UnsupportedError(where, where, user_loc(), hint="reduce compiles for add, multiply, maximum, "
                               "minimum, fmax, fmin, logical_and and logical_or")
    args = _options(where, inputs, kwargs, ("array", "axis", "dtype", "out", "keepdims", "initial", "where"),
                    masked=True)
    func, takes_dtype = _REDUCE[name]
    dtype = args.get("dtype")
    if dtype is not None and not takes_dtype:
        raise UnsupportedError(f"{where}(..., dtype=...)", where, user_loc())
    extra = {"dtype": dtype} if takes_dtype else {}
    if "where" in args:
        extra["where"] = args["where"]
    if args.get("initial", np._NoValue) is not np._NoValue:
        if func in ("all", "any"):
            raise UnsupportedError(f"{where}(..., initial=...)", where, user_loc())
        extra["initial"] = args["initial"]
    return getattr(reductions, func)(args["array"], axis=args.get("axis", 0),
                                     keepdims=args.get("keepdims", False), **extra)


def accumulate(name, where, inputs, kwargs):
    if name not in _ACCUMULATE:
        raise UnsupportedError(where, where, user_loc(), hint="accumulate compiles for add, multiply, "
                               "maximum and minimum")
    args = _options(where, inputs, kwargs, ("array", "axis", "dtype", "out"))
    x = as_traced(args["array"])
    axis = args.get("axis", 0)
    if axis is None:
        if x.ndim != 1:
            raise ValueError("accumulate does not allow multiple axes")
        axis = 0
    if isinstance(axis, tuple):
        if len(axis) != 1:
            raise ValueError("accumulate does not allow multiple axes")
        axis = axis[0]
    dtype = args.get("dtype")
    op = _ACCUMULATE[name]
    if op in ("cumsum", "cumprod"):
        return getattr(reductions, op)(x, axis=axis, dtype=dtype)
    if dtype is not None:
        raise UnsupportedError(f"{where}(..., dtype=...)", where, user_loc())
    if x.ndim == 0:
        raise TypeError("cannot accumulate on a scalar")
    axis = normalize_axis_index(operator.index(axis), x.ndim)
    return wrap(emit(op, [x], {"axis": axis}))


def outer(name, where, inputs, kwargs):
    if kwargs or len(inputs) != 2 or not (name in ufuncs.UFUNC_OPS or name in ufuncs.ALIASES):
        raise UnsupportedError(where, where, user_loc())
    a, b = (x if isinstance(x, TracedArray) else np.asarray(x) for x in inputs)
    a = reshape(a, tuple(a.shape) + (1,) * b.ndim)
    return ufuncs.apply(name, (a, b))


def at(name, where, inputs, kwargs):
    if kwargs:
        raise UnsupportedError(f"{where}(..., keywords)", where, user_loc())
    return writes.ufunc_at(name, *inputs)


METHODS = {"reduce": reduce, "accumulate": accumulate, "outer": outer, "at": at}


