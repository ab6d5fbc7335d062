"""``TracedArray``: the proxy that stands for an array while a function is traced.

This module defines the class with what needs no other part of the tracer: its IR
value and static attributes (shape, dtype, ...), and the errors raised when Python
asks for its *values* (``bool``, ``int``, ``float``, ``item``, ``tolist``,
``np.asarray``: ``DataDependentError``). Operators, ndarray methods and NumPy's
protocols (``__array_ufunc__``, ``__array_function__``) are installed onto the class
from one table by ``methods.py``, which the package imports last (as JAX registers
its array methods), so no module of the tracer imports another in a circle.
"""
from __future__ import annotations

import numpy as np

from .errors import DataDependentError, UnsupportedError
from .location import user_loc


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
    __hash__ = None

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
