"""``TracedArray``: the proxy that stands for an array while a function is traced.

It carries an IR ``Value`` (static shape and dtype) and records every operation on
it into the active trace: Python operators, ndarray methods and attributes, and
NumPy's protocols (``__array_ufunc__`` for ufuncs, ``__array_function__`` for
functions such as ``np.sum`` or ``np.concatenate``). Asking for its values (``bool``,
``int``, ``float``, ``item``, ``tolist``, ``np.asarray``) raises ``DataDependentError``.
"""
from __future__ import annotations

import numpy as np

from .errors import DataDependentError, UnsupportedError
from .state import current, user_loc


class TracedArray:
    """An array being traced. ``_scalar``: it stands for a NumPy scalar (a ufunc or
    full-reduction result) rather than a 0-d array; ``_weak``-typed values stand for
    Python scalars. ``_input``/``_view``/``_viewed`` guard in-place operators."""

    __slots__ = ("_value", "_state", "_scalar", "_input", "_view", "_viewed")
    __array_priority__ = 1000.0

    def __init__(self, value, state, scalar: bool = False, is_input: bool = False, view: bool = False):
        self._value = value
        self._state = state
        self._scalar = scalar
        self._input = is_input
        self._view = view
        self._viewed = False

    # --- static attributes -------------------------------------------------
    @property
    def shape(self) -> tuple:
        return self._value.type.shape

    @property
    def dtype(self) -> np.dtype:
        return self._value.type.dtype

    @property
    def ndim(self) -> int:
        return len(self._value.type.shape)

    @property
    def size(self) -> int:
        return self._value.type.size

    @property
    def itemsize(self) -> int:
        return self.dtype.itemsize

    @property
    def nbytes(self) -> int:
        return self.size * self.dtype.itemsize

    @property
    def type(self):
        """The IR TensorType of this value."""
        return self._value.type

    @property
    def T(self):
        return shapes.transpose(self)

    @property
    def mT(self):
        return shapes.matrix_transpose(self)

    @property
    def real(self):
        if self.dtype.kind == "c":
            raise UnsupportedError("complex arrays", "real", user_loc())
        return self

    def __len__(self) -> int:
        if not self.shape:
            raise TypeError("len() of unsized object")
        return self.shape[0]

    def __iter__(self):
        if not self.shape:
            raise TypeError("iteration over a 0-d array")
        for i in range(self.shape[0]):
            yield self[i]

    def __repr__(self) -> str:
        return f"TracedArray({self._value.type})"

    __str__ = __repr__

    # --- values are not known ----------------------------------------------
    def __bool__(self):
        raise DataDependentError("bool() of a traced array (an `if`, `while`, `and`/`or` or "
                                 "`assert` on array values)", user_loc())

    def __int__(self):
        raise DataDependentError("int() of a traced array", user_loc())

    def __float__(self):
        raise DataDependentError("float() of a traced array", user_loc(),
                                 hint="use x.astype(np.float64) to convert dtypes; for choices "
                                      "use np.where, or make the value a static argument")

    def __complex__(self):
        raise DataDependentError("complex() of a traced array", user_loc())

    def __index__(self):
        raise DataDependentError("using a traced array as a Python index or size", user_loc(),
                                 hint="index arrays with traced integer arrays (x[idx]) or "
                                      "make the index a static argument (static_argnames)")

    def item(self, *args):
        raise DataDependentError("x.item()", user_loc())

    def tolist(self):
        raise DataDependentError("x.tolist()", user_loc())

    def __array__(self, dtype=None, copy=None):
        raise DataDependentError(
            "converting a traced array to a NumPy array (np.asarray, np.array, np.float32(x), "
            "or storing it into a NumPy array)", user_loc(),
            hint="use x.astype(np.float32) to change dtype, and build results from traced "
                 "operations (np.where, np.concatenate, np.stack) instead of writing into arrays")

    def __setitem__(self, key, value):
        raise UnsupportedError("assignment into a traced array (x[...] = v)", "__setitem__", user_loc(),
                               hint="build the result functionally, e.g. with np.where or "
                                    "np.concatenate")

    __hash__ = None

    # --- protocols -----------------------------------------------------------
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        return ufuncs.array_ufunc(ufunc, method, inputs, kwargs)

    def __array_function__(self, func, types, args, kwargs):
        return functions.array_function(func, types, args, kwargs)

    def __getitem__(self, key):
        return indexing.getitem(self, key)

    # --- operators ----------------------------------------------------------
    def __matmul__(self, other):
        return functions.matmul_operator(self, other)

    def __rmatmul__(self, other):
        return functions.matmul_operator(other, self)

    def __pow__(self, other, mod=None):
        if mod is not None:
            return NotImplemented
        return ufuncs.power_operator(self, other)

    def __rpow__(self, other):
        return ufuncs.binary_operator("power", other, self)

    def __divmod__(self, other):
        return ufuncs.divmod_(self, other, python_op=True)

    def __rdivmod__(self, other):
        return ufuncs.divmod_(other, self, python_op=True)

    def __neg__(self):
        return ufuncs.apply("negative", (self,), python_op=True)

    def __pos__(self):
        return ufuncs.apply("positive", (self,), python_op=True)

    def __abs__(self):
        return ufuncs.apply("absolute", (self,), python_op=True)

    def __invert__(self):
        return ufuncs.apply("invert", (self,), python_op=True)

    def _inplace(self, result):
        """In-place operators rebind this proxy (so aliases see the change) when that
        is indistinguishable from NumPy: not an argument, not a view, not viewed."""
        if result is NotImplemented:
            return result
        if self._input or self._view or self._viewed:
            what = "an argument" if self._input else "a view" if self._view else "an array with views"
            raise UnsupportedError(f"an in-place operator on {what} (it would modify memory shared "
                                   "with other arrays)", "in-place operator", user_loc(),
                                   hint="write `x = x + y` instead of `x += y`")
        if result.shape != self.shape:
            raise ValueError(f"non-broadcastable output operand with shape {self.shape} doesn't "
                             f"match the broadcast shape {result.shape}")
        if result.dtype != self.dtype:
            if not np.can_cast(result.dtype, self.dtype, "same_kind"):
                raise TypeError(
                    f"Cannot cast ufunc output from {result.dtype!r} to {self.dtype!r} with "
                    "casting rule 'same_kind'")
            result = result.astype(self.dtype)
        self._value = result._value
        return self

    def __ipow__(self, other):
        return self._inplace(self.__pow__(other))

    def __imatmul__(self, other):
        return self._inplace(self.__matmul__(other))

    # --- methods (shared with the np.* functions) ---------------------------
    def astype(self, dtype, order="K", casting="unsafe", subok=True, copy=True):
        return functions.astype(self, dtype, casting=casting)

    def copy(self, order="C"):
        return functions.copy(self)

    def reshape(self, *shape, order="C", copy=None):
        if len(shape) == 1 and not isinstance(shape[0], int) and shape[0] is not None:
            shape = shape[0]
        return shapes.reshape(self, shape, order=order)

    def transpose(self, *axes):
        if len(axes) == 1 and (axes[0] is None or not isinstance(axes[0], int)):
            axes = axes[0]
        return shapes.transpose(self, axes or None)

    def swapaxes(self, axis1, axis2):
        return shapes.swapaxes(self, axis1, axis2)

    def squeeze(self, axis=None):
        return shapes.squeeze(self, axis)

    def flatten(self, order="C"):
        return shapes.ravel(self, order)

    def ravel(self, order="C"):
        return shapes.ravel(self, order)

    def clip(self, min=None, max=None, **kwargs):
        return functions.clip(self, min, max, **kwargs)

    def round(self, decimals=0, out=None):
        return functions.round_(self, decimals, out)

    def dot(self, b, out=None):
        return functions.dot(self, b, out)

    def take(self, indices, axis=None, out=None, mode="raise"):
        return functions.take(self, indices, axis, out, mode)

    def repeat(self, repeats, axis=None):
        return shapes.repeat(self, repeats, axis)

    def sum(self, axis=None, dtype=None, out=None, keepdims=False, **kw):
        return reductions.sum(self, axis, dtype, out, keepdims, **kw)

    def prod(self, axis=None, dtype=None, out=None, keepdims=False, **kw):
        return reductions.prod(self, axis, dtype, out, keepdims, **kw)

    def mean(self, axis=None, dtype=None, out=None, keepdims=False, **kw):
        return reductions.mean(self, axis, dtype, out, keepdims, **kw)

    def var(self, axis=None, dtype=None, out=None, ddof=0, keepdims=False, **kw):
        return reductions.var(self, axis, dtype, out, ddof, keepdims, **kw)

    def std(self, axis=None, dtype=None, out=None, ddof=0, keepdims=False, **kw):
        return reductions.std(self, axis, dtype, out, ddof, keepdims, **kw)

    def max(self, axis=None, out=None, keepdims=False, **kw):
        return reductions.max(self, axis, out, keepdims, **kw)

    def min(self, axis=None, out=None, keepdims=False, **kw):
        return reductions.min(self, axis, out, keepdims, **kw)

    def any(self, axis=None, out=None, keepdims=False, **kw):
        return reductions.any(self, axis, out, keepdims, **kw)

    def all(self, axis=None, out=None, keepdims=False, **kw):
        return reductions.all(self, axis, out, keepdims, **kw)

    def argmax(self, axis=None, out=None, keepdims=False):
        return reductions.argmax(self, axis, out, keepdims=keepdims)

    def argmin(self, axis=None, out=None, keepdims=False):
        return reductions.argmin(self, axis, out, keepdims=keepdims)

    def cumsum(self, *args, **kwargs):
        raise UnsupportedError("x.cumsum()", "cumsum", user_loc())

    def sort(self, *args, **kwargs):
        raise UnsupportedError("x.sort()", "sort", user_loc())

    def fill(self, value):
        raise UnsupportedError("x.fill() (in-place)", "fill", user_loc())


def wrap(value, scalar: bool = False, view: bool = False) -> TracedArray:
    """A new proxy for `value` in the active trace."""
    return TracedArray(value, current(), scalar=scalar, view=view)


# Python operators: (dunder, ufunc name, reflected dunder)
_BINARY = [
    ("__add__", "add", "__radd__"), ("__sub__", "subtract", "__rsub__"),
    ("__mul__", "multiply", "__rmul__"), ("__truediv__", "true_divide", "__rtruediv__"),
    ("__floordiv__", "floor_divide", "__rfloordiv__"), ("__mod__", "remainder", "__rmod__"),
    ("__and__", "bitwise_and", "__rand__"), ("__or__", "bitwise_or", "__ror__"),
    ("__xor__", "bitwise_xor", "__rxor__"),
    ("__lshift__", "left_shift", "__rlshift__"), ("__rshift__", "right_shift", "__rrshift__"),
    ("__lt__", "less", None), ("__le__", "less_equal", None), ("__gt__", "greater", None),
    ("__ge__", "greater_equal", None), ("__eq__", "equal", None), ("__ne__", "not_equal", None),
]


def _make_binary(ufunc_name, reflected):
    if reflected:
        def method(self, other):
            return ufuncs.binary_operator(ufunc_name, other, self)
    else:
        def method(self, other):
            return ufuncs.binary_operator(ufunc_name, self, other)
    return method


def _make_inplace(forward):
    def method(self, other):
        return self._inplace(getattr(self, forward)(other))
    return method


for _dunder, _ufunc, _rdunder in _BINARY:
    setattr(TracedArray, _dunder, _make_binary(_ufunc, False))
    if _rdunder:
        setattr(TracedArray, _rdunder, _make_binary(_ufunc, True))
        setattr(TracedArray, "__i" + _dunder[2:], _make_inplace(_dunder))
TracedArray.__hash__ = None

from . import functions, indexing, reductions, shapes, ufuncs  # noqa: E402  (cycle: they use wrap)
