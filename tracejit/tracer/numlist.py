"""A list of numbers passed as one array (``runtime/numlists.py``), in the trace.

The function sees a real ``list`` whose elements behave as the numbers it was given:
Python floats and ints as weak scalars (NEP 50), NumPy scalars as strong 0-d values,
each read from the one vector input when first touched (a 10,000-float list that is
only summed with ``np.asarray`` adds no per-element ops). ``np.asarray(lst)``,
``np.array(lst)`` and indexing with the list (``wte[tokens]``) use the vector itself.
Changing the list (``append``, item assignment) would change the caller's list in eager
Python: the trace refuses it.
"""
from __future__ import annotations

from .errors import UnsupportedError
from .location import user_loc
from .proxy import TracedArray


class _Unread:
    """Placeholder for an element not read yet (one object per slot, so an item
    assignment is visible as a changed identity)."""

    __slots__ = ()


class TracedList(list):
    """The list argument; `array` is the proxy of its vector. Elements are made on
    first access (``__getitem__``, iteration) and cached."""

    def __init__(self, array: TracedArray, weak_elements: bool):
        n = array.shape[0]
        self._slots = [_Unread() for _ in range(n)]
        super().__init__(self._slots)
        self.array = array
        self._weak = weak_elements
        self._elements: dict = {}

    def _element(self, i: int) -> TracedArray:
        cached = self._elements.get(i)
        if cached is None:
            state = self.array._state
            value = state.emit("slice", [self.array._value], {"starts": (i,), "steps": (1,), "shape": (1,)})
            value = state.emit("reshape", [value], {"shape": ()})
            if self._weak:
                value = state.emit("cast", [value], {"dtype": self.array.dtype, "weak_result": True})
            cached = self._elements[i] = TracedArray(value, state, scalar=not self._weak)
        return cached

    def _resolve(self, i: int, raw):
        return self._element(i) if i < len(self._slots) and raw is self._slots[i] else raw

    def __getitem__(self, index):
        raw = list.__getitem__(self, index)
        if isinstance(index, slice):
            positions = range(*index.indices(list.__len__(self)))
            return [self._resolve(i, r) for i, r in zip(positions, raw)]
        i = index.__index__()
        return self._resolve(i + list.__len__(self) if i < 0 else i, raw)

    def __iter__(self):
        for i in range(list.__len__(self)):
            yield self._resolve(i, list.__getitem__(self, i))

    def __reversed__(self):
        for i in reversed(range(list.__len__(self))):
            yield self._resolve(i, list.__getitem__(self, i))

    # Reads that CPython would do on the raw slots go through the elements instead.
    def copy(self):
        return list(self)

    def __add__(self, other):
        return list(self) + other

    def __radd__(self, other):
        return other + list(self)

    def __mul__(self, count):
        return list(self) * count

    __rmul__ = __mul__

    def __contains__(self, item):
        return item in list(self)

    def index(self, *args):
        return list(self).index(*args)

    def count(self, item):
        return list(self).count(item)

    def __eq__(self, other):
        return list(self) == other

    def __ne__(self, other):
        return list(self) != other

    __hash__ = None

    def _refuse(self, *args, **kwargs):
        raise UnsupportedError("changing a list argument (append, item assignment) inside the function",
                               "list argument", user_loc())

    append = extend = insert = pop = remove = clear = sort = reverse = _refuse
    __setitem__ = __delitem__ = __iadd__ = __imul__ = _refuse

    # np.mean(lst), np.dot(lst, x), np.add(lst, 1): NumPy asks the list itself, and the
    # vector answers.
    def __array_function__(self, func, types, args, kwargs):
        return func(*_vectors(args), **dict(zip(kwargs, _vectors(tuple(kwargs.values())))))

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        return getattr(ufunc, method)(*_vectors(inputs), **kwargs)

    def __repr__(self) -> str:
        return f"TracedList(len={list.__len__(self)}, {self.array!r})"

    def changed(self) -> bool:
        if list.__len__(self) != len(self._slots):
            return True
        return any(a is not b for a, b in zip(list.__iter__(self), self._slots))


def _vectors(values: tuple) -> tuple:
    out = []
    for value in values:
        if isinstance(value, TracedList):
            if value.changed():
                raise UnsupportedError("using a list argument as an array after changing it", "list argument")
            value = value.array
        out.append(value)
    return tuple(out)


def traced_list(array: TracedArray, weak_elements: bool = True) -> TracedList:
    return TracedList(array, weak_elements)


def check_unchanged(lists, loc="") -> None:
    for lst in lists:
        if lst.changed():
            raise UnsupportedError("changing a list argument (append, item assignment) inside the function",
                                   "list argument", loc)


def backing_array(obj):
    """The vector behind an unchanged TracedList (None for anything else)."""
    return obj.array if isinstance(obj, TracedList) and not obj.changed() else None


__all__ = ["TracedList", "traced_list", "check_unchanged", "backing_array"]
