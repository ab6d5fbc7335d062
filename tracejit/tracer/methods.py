"""The ndarray surface of ``TracedArray``, installed from one table.

Python operators (with their reflected and in-place forms), ndarray methods and
properties, and NumPy's protocols are attached to the proxy class here. The package
imports this module last, so the modules that implement the operations (``ufuncs``,
``shapes``, ``reductions``, ``linalg``, ``indexing``, ``functions``) only import the
proxy class and never each other in a circle.
"""
from __future__ import annotations

import numpy as np

from . import dispatch, functions, indexing, layout, linalg, reductions, selection, shapes, sorting, ufuncs, writes
from .errors import UnsupportedError
from .location import user_loc
from .proxy import TracedArray
from .state import current, wrap

_NOVALUE = np._NoValue


def _real(self):
    if self.dtype.kind == "c":
        return wrap(current().emit("real", [self._value]), scalar=self._scalar)
    return self


def _imag(self):
    if self.dtype.kind == "c":
        return wrap(current().emit("imag", [self._value]), scalar=self._scalar)
    zeros = functions.zeros_like(self)
    zeros._readonly = True          # as NumPy's imag of a real array
    return zeros


def _conj(self):
    """Of a complex array the conjugate; of a real one the array itself, as NumPy."""
    if self.dtype.kind == "c":
        return ufuncs.apply("conjugate", (self,))
    return self


PROPERTIES = {
    "T": shapes.transpose,
    "mT": shapes.matrix_transpose,
    "real": _real,
    "imag": _imag,
    "strides": layout.strides,
    "flags": layout.Flags,
}


def _reshape(self, *shape, order="C", copy=None):
    if len(shape) == 1 and not isinstance(shape[0], int) and shape[0] is not None:
        shape = shape[0]
    return shapes.reshape(self, shape, order=order)


def _transpose(self, *axes):
    if len(axes) == 1 and (axes[0] is None or not isinstance(axes[0], int)):
        axes = axes[0]
    return shapes.transpose(self, axes or None)


def _pow(self, other, mod=None):
    if mod is not None:
        return NotImplemented
    return ufuncs.power_operator(self, other)


def _astype(self, dtype, order="K", casting="unsafe", subok=True, copy=True):
    if not copy and np.dtype(dtype) == self.dtype and not self._value.type.weak:
        return self                  # NumPy returns the array itself
    result = ufuncs.astype(self, dtype, casting=casting)
    if order in ("C", "F") and result.ndim:
        from .layout import ordered_copy
        return ordered_copy(result, order)         # NumPy's result is laid out so, whatever x's layout
    return result


def _unsupported(what, op):
    def method(self, *args, **kwargs):
        raise UnsupportedError(what, op, user_loc())
    return method


def _unsupported_property(name):
    def getter(self):
        raise UnsupportedError(f"x.{name}", name, user_loc())
    return property(getter)


def unsupported_surface() -> dict:
    """Every other public ndarray method and attribute: calling or reading it raises
    UnsupportedError (an eager fallback naming it), never AttributeError."""
    surface = {}
    for name in dir(np.ndarray):
        if name.startswith("_") or hasattr(TracedArray, name) or name in METHODS or name in PROPERTIES:
            continue
        if callable(getattr(np.ndarray, name)):
            surface[name] = _unsupported(f"x.{name}()", name)
        else:
            surface[name] = _unsupported_property(name)
    surface["__delitem__"] = _unsupported("del x[...]", "__delitem__")
    return surface


# ndarray methods: name -> function(self, *args, **kwargs) with NumPy's signature
METHODS = {
    "__array_ufunc__": lambda self, ufunc, method, *inputs, **kw: dispatch.array_ufunc(ufunc, method, inputs, kw),
    "__array_function__": lambda self, func, types, args, kwargs: dispatch.array_function(func, types, args, kwargs),
    "__getitem__": indexing.getitem,
    "__setitem__": writes.setitem,
    "__matmul__": lambda self, other: linalg.matmul_operator(self, other),
    "__rmatmul__": lambda self, other: linalg.matmul_operator(other, self),
    "__pow__": _pow,
    "__rpow__": lambda self, other: ufuncs.binary_operator("power", other, self),
    "__divmod__": lambda self, other: ufuncs.divmod_(self, other, python_op=True),
    "__rdivmod__": lambda self, other: ufuncs.divmod_(other, self, python_op=True),
    "__neg__": lambda self: ufuncs.apply("negative", (self,), python_op=True),
    "__pos__": lambda self: ufuncs.apply("positive", (self,), python_op=True),
    "__abs__": lambda self: ufuncs.apply("absolute", (self,), python_op=True),
    "__invert__": lambda self: ufuncs.apply("invert", (self,), python_op=True),
    "astype": _astype,
    "copy": lambda self, order="C": functions.copy(self, order),
    "__copy__": lambda self: functions.copy(self),
    "__deepcopy__": lambda self, memo=None: functions.copy(self),
    "conj": _conj,
    "conjugate": _conj,
    "diagonal": lambda self, offset=0, axis1=0, axis2=1: shapes.diagonal(self, offset, axis1, axis2),
    "trace": lambda self, offset=0, axis1=0, axis2=1, dtype=None, out=None:
        functions.trace(self, offset, axis1, axis2, dtype, out),
    "reshape": _reshape,
    "transpose": _transpose,
    "swapaxes": shapes.swapaxes,
    "squeeze": lambda self, axis=None: shapes.squeeze(self, axis),
    "flatten": lambda self, order="C": functions.copy(shapes.ravel(self, order)),   # always new memory
    "ravel": lambda self, order="C": shapes.ravel(self, order),
    "clip": lambda self, min=None, max=None, **kwargs: functions.clip(self, min, max, **kwargs),
    "round": lambda self, decimals=0, out=None: functions.round_(self, decimals, out),
    "dot": lambda self, b, out=None: linalg.dot(self, b, out),
    "take": lambda self, indices, axis=None, out=None, mode="raise": functions.take(self, indices, axis, out, mode),
    "repeat": lambda self, repeats, axis=None: shapes.repeat(self, repeats, axis),
    "sum": lambda self, axis=None, dtype=None, out=None, keepdims=False, initial=_NOVALUE, where=True:
        reductions.sum(self, axis, dtype, out, keepdims, initial, where),
    "prod": lambda self, axis=None, dtype=None, out=None, keepdims=False, initial=_NOVALUE, where=True:
        reductions.prod(self, axis, dtype, out, keepdims, initial, where),
    "mean": lambda self, axis=None, dtype=None, out=None, keepdims=False, **kw:
        reductions.mean(self, axis, dtype, out, keepdims, **kw),
    "var": lambda self, axis=None, dtype=None, out=None, ddof=0, keepdims=False, **kw:
        reductions.var(self, axis, dtype, out, ddof, keepdims, **kw),
    "std": lambda self, axis=None, dtype=None, out=None, ddof=0, keepdims=False, **kw:
        reductions.std(self, axis, dtype, out, ddof, keepdims, **kw),
    "max": lambda self, axis=None, out=None, keepdims=False, initial=_NOVALUE, where=True:
        reductions.max(self, axis, out, keepdims, initial, where),
    "min": lambda self, axis=None, out=None, keepdims=False, initial=_NOVALUE, where=True:
        reductions.min(self, axis, out, keepdims, initial, where),
    "any": lambda self, axis=None, out=None, keepdims=False, **kw: reductions.any(self, axis, out, keepdims, **kw),
    "all": lambda self, axis=None, out=None, keepdims=False, **kw: reductions.all(self, axis, out, keepdims, **kw),
    "argmax": lambda self, axis=None, out=None, keepdims=False: reductions.argmax(self, axis, out, keepdims=keepdims),
    "argmin": lambda self, axis=None, out=None, keepdims=False: reductions.argmin(self, axis, out, keepdims=keepdims),
    "cumsum": lambda self, axis=None, dtype=None, out=None: reductions.cumsum(self, axis, dtype, out),
    "cumprod": lambda self, axis=None, dtype=None, out=None: reductions.cumprod(self, axis, dtype, out),
    "sort": sorting.sort_in_place,
    "argsort": lambda self, axis=-1, kind=None, order=None, *, stable=None:
        sorting.argsort(self, axis, kind, order, stable=stable),
    "argpartition": lambda self, kth, axis=-1, kind="introselect", order=None:
        sorting.argpartition(self, kth, axis, kind, order),
    "partition": sorting.partition_in_place,
    "fill": lambda self, value: writes.setitem(self, Ellipsis, value),
    "nonzero": selection.refuse("x.nonzero()"),
    "view": lambda self, dtype=None, type=None: shapes.view(self, dtype, type),
    "searchsorted": lambda self, v, side="left", sorter=None: sorting.searchsorted(self, v, side, sorter),
}

# Python binary operators: (dunder, ufunc name, reflected dunder or None)
BINARY_OPERATORS = [
    ("__add__", "add", "__radd__"), ("__sub__", "subtract", "__rsub__"),
    ("__mul__", "multiply", "__rmul__"), ("__truediv__", "true_divide", "__rtruediv__"),
    ("__floordiv__", "floor_divide", "__rfloordiv__"), ("__mod__", "remainder", "__rmod__"),
    ("__and__", "bitwise_and", "__rand__"), ("__or__", "bitwise_or", "__ror__"),
    ("__xor__", "bitwise_xor", "__rxor__"),
    ("__lshift__", "left_shift", "__rlshift__"), ("__rshift__", "right_shift", "__rrshift__"),
    ("__lt__", "less", None), ("__le__", "less_equal", None), ("__gt__", "greater", None),
    ("__ge__", "greater_equal", None), ("__eq__", "equal", None), ("__ne__", "not_equal", None),
]


def _binary(ufunc_name, reflected):
    if reflected:
        return lambda self, other: ufuncs.binary_operator(ufunc_name, other, self)
    return lambda self, other: ufuncs.binary_operator(ufunc_name, self, other)


def _inplace_of(forward):
    return lambda self, *args: writes.inplace(self, getattr(self, forward)(*args))


def install() -> None:
    for name, getter in PROPERTIES.items():
        setattr(TracedArray, name, property(getter))
    for name, method in METHODS.items():
        setattr(TracedArray, name, method)
    for dunder, ufunc_name, reflected in BINARY_OPERATORS:
        setattr(TracedArray, dunder, _binary(ufunc_name, False))
        if reflected:
            setattr(TracedArray, reflected, _binary(ufunc_name, True))
            setattr(TracedArray, "__i" + dunder[2:], _inplace_of(dunder))
    TracedArray.__ipow__ = _inplace_of("__pow__")
    TracedArray.__imatmul__ = _inplace_of("__matmul__")
    TracedArray.__hash__ = None       # __eq__ is elementwise: not hashable, as ndarray
    for name, member in unsupported_surface().items():
        setattr(TracedArray, name, member)


install()
