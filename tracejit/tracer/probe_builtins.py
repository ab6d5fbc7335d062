"""``len`` and ``range`` while a shape-family probe is traced (``dims.py``).

``len(x)`` of a traced array or list argument is a plain int whatever ``__len__``
returns (Python converts it), and ``range`` keeps plain ints, so a size that passes
through either would leave the code's decisions on it unseen: picoGPT's
``wpe[range(len(inputs))]`` is the common case. During a probe trace the builtins
are replaced: ``len`` of a traced value gives a ``Dim``, and ``range`` called from
the user's code with a ``Dim`` gives a ``SizedRange``, a sequence of Dims that
answers ``isinstance(r, range)`` like a range and indexes arrays as the integer
array it is. Everything else goes to the builtins themselves, and so does every call
in other threads and ordinary traces (the replacements check that a probe is being
recorded in this context first).
"""
from __future__ import annotations

import builtins
from contextlib import contextmanager

from .dims import Dim, _checks, _user_frame, record, record_relation
from .installs import SharedInstall
from .numlist import TracedList
from .proxy import TracedArray

_BUILTIN_LEN = builtins.len
_BUILTIN_RANGE = builtins.range


def probe_len(obj):
    if _checks() is not None:
        if type(obj) is TracedArray and obj._value.type.shape:
            return Dim(obj._value.type.shape[0])
        if type(obj) is TracedList:
            return Dim(list.__len__(obj))
        if type(obj) is SizedRange:
            return obj._length()
    return _BUILTIN_LEN(obj)


class SizedRange:
    """``range(start, stop, step)`` whose bounds hold Dims: the same sequence, of Dims."""

    __slots__ = ("start", "stop", "step", "_plain")

    def __init__(self, start, stop, step):
        self.start, self.stop, self.step = start, stop, step
        self._plain = _BUILTIN_RANGE(int(start), int(stop), int(step))

    @property
    def __class__(self):
        return _BUILTIN_RANGE

    def _length(self):
        span, step = self.stop - self.start, self.step
        if step > 0:
            return Dim((span + step - 1) // step if span > 0 else 0)
        return Dim((span + step + 1) // step if span < 0 else 0)

    def __len__(self):
        record("const", _BUILTIN_LEN(self._plain))     # len() of it goes through probe_len
        return _BUILTIN_LEN(self._plain)

    def __iter__(self):
        for i in _BUILTIN_RANGE(_BUILTIN_LEN(self._plain)):
            yield Dim(self.start + i * self.step)

    def __reversed__(self):
        n = _BUILTIN_LEN(self._plain)
        for i in _BUILTIN_RANGE(n - 1, -1, -1):
            yield Dim(self.start + i * self.step)

    def __getitem__(self, index):
        if isinstance(index, slice):
            record("const", _BUILTIN_LEN(self._plain))
            return self._plain[index]
        n = self._length()
        index = int(index)
        if index < 0:
            record_relation("le", -index, n)
            position = n + index
        else:
            record_relation("lt", index, n)
            position = index
        if not 0 <= position < n:
            raise IndexError("range object index out of range")
        return Dim(self.start + position * self.step)

    def __contains__(self, value):
        record("const", _BUILTIN_LEN(self._plain))
        return value in self._plain

    def __eq__(self, other):
        record("const", _BUILTIN_LEN(self._plain))
        return self._plain == (other._plain if type(other) is SizedRange else other)

    def __hash__(self):
        record("const", _BUILTIN_LEN(self._plain))
        return hash(self._plain)

    def __repr__(self):
        return repr(self._plain)

    def index(self, value):
        record("const", _BUILTIN_LEN(self._plain))
        return self._plain.index(value)

    def count(self, value):
        record("const", _BUILTIN_LEN(self._plain))
        return self._plain.count(value)


class _RangeType(type):
    """``isinstance(r, range)`` keeps working while ``range`` is replaced."""

    def __instancecheck__(cls, obj):
        return isinstance(obj, _BUILTIN_RANGE)

    def __subclasscheck__(cls, subclass):
        return issubclass(subclass, _BUILTIN_RANGE) or subclass is SizedRange


class probe_range(metaclass=_RangeType):
    """``range`` during a probe: a SizedRange when the user's code passes a Dim."""

    def __new__(cls, *args):
        if _checks() is not None and any(type(a) is Dim for a in args) and _user_frame() \
                and 1 <= _BUILTIN_LEN(args) <= 3 and all(isinstance(a, int) for a in args):
            start, stop, step = (0, args[0], 1) if _BUILTIN_LEN(args) == 1 else \
                (args[0], args[1], args[2] if _BUILTIN_LEN(args) == 3 else 1)
            if step != 0:                          # else Python's own ValueError
                return SizedRange(Dim(start), Dim(stop), Dim(step))
        return _BUILTIN_RANGE(*args)


def _install():
    builtins.len, builtins.range = probe_len, probe_range


def _restore():
    builtins.len, builtins.range = _BUILTIN_LEN, _BUILTIN_RANGE


_INSTALL = SharedInstall(_install, _restore)


@contextmanager
def probe_builtins(active: bool):
    """Install ``probe_len`` and ``probe_range`` for a probe trace (when `active`)."""
    if not active:
        yield
        return
    with _INSTALL.active():
        yield
