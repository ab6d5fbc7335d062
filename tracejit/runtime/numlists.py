"""Long lists of numbers as arguments: one array, not one traced value per element.

A list of Python floats (or ints) is flattened by default into one leaf per element:
floats become traced scalars, ints static values. That is right for short lists (a
learning rate and a momentum, a list of layer sizes) and ruinous for long ones (10,000
floats were 10,000 graph inputs). A list of at least ``MIN_LENGTH`` numbers of one
type (Python floats, Python ints, or one NumPy scalar type as ``list(np.linspace(...))``
gives) is passed instead as a ``NumberList``: the key holds its type and length, the
plan receives it as one vector (converted in O(n)), and inside the trace
it is a list of Python-scalar-like values backed by that vector
(``tracer/numlist.py``). Int lists that decide shapes or control flow are retried as
static values (runtime/compiled.py). A list argument whose length changed between
calls is a NumberList at any length, so its length can become a varying dimension
(``shape_families.py``) instead of a new argument structure per length. A short float
list that the trace had to turn into an array (``np.exp(weights)``, ``np.asarray(w)``:
traced scalars cannot be) makes the function pass float lists of any length as
NumberLists from then on (``float_lists=True``).
"""
from __future__ import annotations

import numpy as np

MIN_LENGTH = 16


class NumberList:
    """A list argument passed as one array (a pytree leaf)."""

    __slots__ = ("items", "pytype")

    def __init__(self, items, pytype):
        self.items, self.pytype = items, pytype

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(_PYTHON_DTYPES.get(self.pytype, self.pytype))

    @property
    def weak_elements(self) -> bool:
        """Python numbers (weak in NumPy's promotion); NumPy scalars are strong."""
        return self.pytype in _PYTHON_DTYPES

    def as_array(self) -> np.ndarray:
        return np.array(self.items, dtype=self.dtype)

    def __repr__(self) -> str:
        return f"NumberList({self.pytype.__name__} x {len(self.items)})"


_PYTHON_DTYPES = {float: np.float64, int: np.int64}
_NUMPY_SCALARS = (np.float64, np.float32, np.float16, np.int64, np.int32, np.int16, np.int8,
                  np.uint64, np.uint32, np.uint16, np.uint8)


def number_list_type(items):
    """The element type of a list of numbers of one type (any length), else None."""
    return _number_type(items, 1)


def _number_type(items, min_length=MIN_LENGTH):
    if len(items) < max(min_length, 1):
        return None
    first = type(items[0])
    if first not in _PYTHON_DTYPES and first not in _NUMPY_SCALARS:
        return None
    if any(type(v) is not first for v in items):
        return None
    if first is int and not all(-2 ** 62 <= v <= 2 ** 62 for v in items):
        return None
    return first


_FLOATS = (float, np.float64, np.float32, np.float16)


def wrap_number_lists(value, int_lists=True, min_length=MIN_LENGTH, float_lists=False):
    """`value` with long homogeneous lists of floats (and of ints, if `int_lists`)
    replaced by NumberLists, inside tuples, lists and dicts (new containers: the
    caller's objects are not changed). `min_length`: for an argument whose length
    changes between calls (a prompt that grows by a token), any length.
    `float_lists`: float lists of any length (see the module doc)."""
    if type(value) is list:
        pytype = _number_type(value, 1)
        shortest = 1 if float_lists and pytype in _FLOATS else min_length
        if pytype is not None and len(value) >= shortest and (pytype is not int or int_lists):
            return NumberList(value, pytype)
        if any(type(v) in (list, tuple, dict) for v in value):
            return [wrap_number_lists(v, int_lists, float_lists=float_lists) for v in value]
        return value
    if type(value) is tuple:
        return tuple(wrap_number_lists(v, int_lists, float_lists=float_lists) for v in value)
    if type(value) is dict:
        return {k: wrap_number_lists(v, int_lists, float_lists=float_lists) for k, v in value.items()}
    return value


def has_short_float_lists(value) -> bool:
    """Whether `value` holds a float list that `wrap_number_lists` leaves as flat scalars."""
    if type(value) is list:
        if _number_type(value, 1) in _FLOATS and len(value) < MIN_LENGTH:
            return True
        return any(has_short_float_lists(v) for v in value)
    if type(value) is tuple:
        return any(has_short_float_lists(v) for v in value)
    if type(value) is dict:
        return any(has_short_float_lists(v) for v in value.values())
    return False
