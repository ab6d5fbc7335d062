"""``TracedArray``: the proxy that stands for an array while a function is traced.

This module defines the class with what needs no other part of the tracer: its IR
value and static attributes (shape, dtype, ...), and the errors raised when Python
asks for its *values* (``bool``, ``int``, ``float``, ``item``, ``tolist``,
``np.asarray``: ``DataDependentError``; ``str``/``repr``/``format``, f-strings:
``UnsupportedError``, so no ``TracedArray`` text ever reaches the user's output).

``isinstance`` sees the type eager NumPy would give: ``__class__`` is
``np.ndarray`` for arrays, the NumPy scalar type (``np.float32``, ...) for NumPy
scalars and ``float``/``int``/``bool`` for values standing for Python scalars, so
code that branches on ``isinstance(x, np.ndarray)`` takes the eager branch.
``type(x)`` is still ``TracedArray`` (NumPy's C code and the tracer dispatch on it).

Operators, ndarray methods and NumPy's protocols (``__array_ufunc__``, ``__array_function__``) are installed onto the class
from one table by ``methods.py``, which the package imports last (as JAX registers
its array methods), so no module of the tracer imports another in a circle.
"""
from __future__ import annotations

import math

import numpy as np

from .dims import Dim, dims, record
from .errors import DataDependentError, UnsupportedError
from .location import user_loc


_PYTHON_TYPES = {"b": bool, "i": int, "u": int, "f": float}


class TracedArray:
    """An array being traced. ``_scalar``: it stands for a NumPy scalar (a ufunc or
    full-reduction result) rather than a 0-d array; ``_weak``-typed values stand for
    Python scalars. ``_input``/``_view``/``_viewed`` guard in-place operators.
    ``_base``: for a view, the proxy whose memory it views (NumPy's ``.base``), so
    the runtime knows which results may share memory with an input. ``_readonly``:
    eager NumPy's result is read-only (``np.broadcast_to``, ``diagonal`` and their views).
    ``_layout``: see ``layout.py``."""

    __slots__ = ("_value", "_state", "_scalar", "_input", "_view", "_viewed", "_base", "_readonly",
                 "_chain", "_views", "_origin", "_layout", "_ambiguous", "__weakref__")
    __array_priority__ = 1000.0

    def __init__(self, value, state, scalar: bool = False, is_input: bool = False, view: bool = False,
                 base=None, readonly: bool = False, chain=None):
        self._value = value
        self._state = state
        self._scalar = scalar
        self._input = is_input
        self._view = view
        self._viewed = False
        self._base = base
        self._readonly = readonly
        # writes (writes.py): a view's ops from its base's value (None: not followable),
        # a base's live views, and the graph input an input's memory is
        self._chain = chain
        self._views = None
        self._origin = value if is_input else None
        self._layout = None          # layout.py: eager NumPy's strides, where not derived from the value
        self._ambiguous = False      # a reshape NumPy may view or copy (its layout is not modelled)

    @property
    def __class__(self):
        """What eager NumPy would have here, for ``isinstance`` (see the module doc)."""
        t = self._value.type
        if t.weak:
            return _PYTHON_TYPES.get(t.dtype.kind, float)
        if self._scalar and not t.shape:
            return t.dtype.type
        return np.ndarray

    # --- static attributes -------------------------------------------------
    @property
    def shape(self) -> tuple:
        if getattr(self._state, "record_dims", False):
            return dims(self._value.type.shape)
        return self._value.type.shape

    @property
    def dtype(self) -> np.dtype:
        return self._value.type.dtype

    @property
    def ndim(self) -> int:
        return len(self._value.type.shape)

    @property
    def size(self) -> int:
        if getattr(self._state, "record_dims", False):
            return math.prod(self.shape, start=Dim(1))
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
        if getattr(self._state, "record_dims", False):
            record("const", self.shape[0])      # what the caller does with a plain int is not seen
        return self._value.type.shape[0]

    def __iter__(self):
        if not self.shape:
            raise TypeError("iteration over a 0-d array")
        for i in range(self.shape[0]):
            yield self[i]

    # --- text needs values --------------------------------------------------
    def _as_text(self, how: str) -> str:
        if getattr(self._state, "live", False):
            raise UnsupportedError(f"{how} of a traced value (print, str, repr, format or an "
                                   "f-string needs its values)", how, user_loc(),
                                   hint="print(...) of arrays is compiled, but text made from a "
                                        "traced value is not; the function runs eagerly")
        return f"TracedArray({self._value.type})"

    def __repr__(self) -> str:
        return self._as_text("repr()")

    def __str__(self) -> str:
        return self._as_text("str()")

    def __format__(self, spec) -> str:
        return self._as_text("format()")

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
        if self._value.type.weak:      # a Python float or int argument (or one computed from it)
            what = "converting a traced Python number to a NumPy array or scalar (np.float64(x), " \
                   "np.asarray(x), or storing it into a NumPy array)"
            hint = "drop the conversion: arithmetic with a Python number lr already follows NumPy's " \
                   "weak-scalar rule (x * lr keeps x's dtype); for float64 results write " \
                   "x.astype(np.float64) * lr, or pass np.float64(lr) as the argument and use it as it is"
        else:
            what = "converting a traced array to a NumPy array (np.asarray, np.array, np.float32(x), " \
                   "or storing it into a NumPy array)"
            hint = "use x.astype(np.float32) to change dtype, and build results from traced " \
                   "operations (np.where, np.concatenate, np.stack) instead of writing into arrays"
        error = DataDependentError(what, user_loc(), hint=hint)
        error.array_conversion = True       # runtime/compiled.py: a float list may be retried as one vector
        raise error

    def _name(self) -> str:
        """The argument or state this proxy's memory belongs to ("global G"), or ""."""
        root = self._base if self._base is not None else self
        return getattr(self._state, "names", {}).get(root._value, "")

    # __setitem__ and the in-place operators: methods.py (from writes.py)
