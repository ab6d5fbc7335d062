"""Tensor types and dtype rules of the IR.

A value's type is its static shape plus its NumPy dtype plus a *weak* flag. Weak
values come from Python scalars (NEP 50): they take part in type promotion as a
Python ``float``/``int``/``bool`` would, so ``x32 * lr`` stays float32 exactly as in
eager NumPy. Result dtypes are never re-derived by hand: they are asked of NumPy
itself (``ufunc.resolve_dtypes``), which makes NumPy the specification by construction.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

# dtypes the compiler handles end to end; anything else is rejected with a clear error
SUPPORTED_DTYPES = tuple(np.dtype(d) for d in ("bool", "int8", "int16", "int32", "int64", "uint8", "uint16",
                                               "uint32", "uint64", "float16", "float32", "float64",
                                               "complex64", "complex128"))
SHORT_NAMES = {
    np.dtype("bool"): "bool", np.dtype("int8"): "i8", np.dtype("int16"): "i16",
    np.dtype("int32"): "i32", np.dtype("int64"): "i64", np.dtype("uint8"): "u8",
    np.dtype("uint16"): "u16", np.dtype("uint32"): "u32", np.dtype("uint64"): "u64",
    np.dtype("float16"): "f16", np.dtype("float32"): "f32", np.dtype("float64"): "f64",
    np.dtype("complex64"): "c64", np.dtype("complex128"): "c128",
}
DTYPE_OF_SHORT = {v: k for k, v in SHORT_NAMES.items()}

# the Python type that stands for a weak value of each kind in NumPy's promotion
# (a weak bool promotes exactly like a bool array, and resolve_dtypes rejects Python bool)
_WEAK_PYTYPE = {"b": np.dtype(bool), "i": int, "u": int, "f": float, "c": complex}


def supported_text() -> str:
    """"bool, int8, ..., complex128": the supported dtypes, for messages."""
    return ", ".join(d.name for d in SUPPORTED_DTYPES)


def short_name(dtype) -> str:
    dtype = np.dtype(dtype)
    return SHORT_NAMES.get(dtype, dtype.name)


def parse_short_name(text: str) -> np.dtype:
    """``"f32"`` -> ``dtype('float32')``; also accepts NumPy names (``"float32"``)."""
    if text in DTYPE_OF_SHORT:
        return DTYPE_OF_SHORT[text]
    return np.dtype(text)


def is_supported(dtype) -> bool:
    return np.dtype(dtype) in SUPPORTED_DTYPES


@dataclass(frozen=True)
class TensorType:
    """Static shape, dtype and weakness of one SSA value."""

    shape: tuple
    dtype: np.dtype
    weak: bool = False

    def __post_init__(self):
        object.__setattr__(self, "shape", tuple(int(d) for d in self.shape))
        object.__setattr__(self, "dtype", np.dtype(self.dtype))

    @property
    def rank(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    def promotion_operand(self):
        """What to hand NumPy's ``resolve_dtypes`` for this operand."""
        return _WEAK_PYTYPE[self.dtype.kind] if self.weak else self.dtype

    def __str__(self) -> str:
        dims = ",".join(str(d) for d in self.shape)
        return f"{'~' if self.weak else ''}{short_name(self.dtype)}[{dims}]"


def parse_type(text: str) -> TensorType:
    """Parse ``f32[256,1000]`` (the printer's form) into a TensorType."""
    text = text.strip()
    weak = text.startswith("~")
    text = text.lstrip("~")
    name, _, rest = text.partition("[")
    if not rest.endswith("]"):
        raise ValueError(f"bad type {text!r}: expected e.g. f32[256,1000]")
    dims = tuple(int(d) for d in rest[:-1].split(",") if d.strip())
    return TensorType(dims, parse_short_name(name), weak)


@lru_cache(maxsize=4096)
def _resolve(ufunc_name: str, operands: tuple):
    ufunc = getattr(np, ufunc_name)
    return ufunc.resolve_dtypes(operands + (None,) * ufunc.nout)


def resolve_ufunc(ufunc_name: str, types) -> tuple:
    """Loop input dtypes and output dtype NumPy uses for ``ufunc(*types)``.

    Raises TypeError (NumPy's own message) when NumPy has no loop for them.
    """
    if types and all(t.weak for t in types):
        # Python numbers with Python numbers: int64/float64/complex128 loops (resolving the
        # Python types themselves would pick object loops)
        dtypes = _resolve(ufunc_name, tuple(t.dtype for t in types))
    else:
        dtypes = _resolve(ufunc_name, tuple(t.promotion_operand() for t in types))
    return dtypes[:-1], dtypes[-1]


def broadcast_shapes(*shapes) -> tuple:
    """NumPy broadcasting of static shapes; ValueError names the shapes."""
    try:
        return tuple(np.broadcast_shapes(*shapes))
    except ValueError:
        raise ValueError("operands could not be broadcast together with shapes "
                         + " ".join(str(tuple(s)) for s in shapes)) from None


def result_weak(types) -> bool:
    """Results of Python operators on only-weak operands stay weak (``lr * 2.0``)."""
    return bool(types) and all(t.weak for t in types)


class ScalarArgType(TensorType):
    """The type of a NumPy scalar argument (``np.float32(2)``): traced like a 0-d array,
    but it behaves as a NumPy scalar does (``np.bool_(True) ** 2`` is int64, where a 0-d
    bool array squares to bool)."""


class ListArgType(TensorType):
    """The type of a long list of numbers passed as an argument: one vector input
    (float64/int64 for Python floats/ints, the scalar's dtype for NumPy scalars). In the
    trace its elements are weak Python-scalar-like values, or strong NumPy scalars for a
    ``ScalarListArgType`` (``runtime/numlists.py``, ``tracer/numlist.py``)."""


class ScalarListArgType(ListArgType):
    """A long list of NumPy scalars of one type (``list(np.linspace(0, 1, 100))``)."""
