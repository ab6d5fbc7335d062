"""Recorded dimensions: the ints a shape-family probe trace hands to the user's code.

A *shape family* (``runtime/shape_families.py``) serves every size of a varying
dimension from one trace. To build one, the runtime traces the function at a few
sizes with ``TraceState.record_dims`` on; then ``x.shape`` (and ``x.size``) give
``Dim`` objects, and every decision the code takes on a dimension is written down in
``TraceState.size_checks`` as a fact of the form ``(op, *numbers)`` that held while
tracing: ``("lt", 5, n)`` for an index 5 into an axis of length n, ``("ge", n, 32)``
for ``if x.shape[0] >= 32``. The runtime fits every number of the probes as an
affine function of the varying size, and re-checks each fact at a new size before it
reuses the plan: a branch that would go the other way, a slice that would clamp, an
index that would fall out of bounds, all send the call back to a real trace.

``Dim`` is an ``int`` (code and NumPy use it as one); arithmetic with ints keeps it a
``Dim``, so ``B * T > 4096`` is recorded too. What cannot be re-checked is recorded
as ``("const", value)``: the value must be the same in every probe, or there is no
family. That covers ``hash``, ``str``/``format`` and ``float`` of a dimension in the
user's code, and ``len(x)`` (Python turns ``__len__`` into a plain int, so what the
code does with it afterwards cannot be seen: ``x.shape[0]`` keeps it visible).
"""
from __future__ import annotations

import operator
import sys
from contextlib import contextmanager
from contextvars import ContextVar

CHECKS = {
    "lt": operator.lt, "le": operator.le, "gt": operator.gt, "ge": operator.ge,
    "eq": operator.eq, "ne": operator.ne,
    "mod_eq": lambda value, divisor, remainder: value % divisor == remainder,
    "const": lambda value: True,     # the fit itself requires the value not to vary
}

# the opposite relation, for a comparison that came out False
_NEGATED = {"lt": "ge", "le": "gt", "gt": "le", "ge": "lt", "eq": "ne", "ne": "eq"}
_INTERNAL_PACKAGES = ("tracejit", "numpy", "numba")


# the facts list of the probe trace being recorded in this thread or task (``recording``)
_RECORDING: ContextVar = ContextVar("tracejit_size_checks", default=None)


def _checks():
    return _RECORDING.get()


@contextmanager
def recording(checks: list | None):
    """Record facts into `checks` (None: record nothing) for the duration."""
    token = _RECORDING.set(checks)
    try:
        yield
    finally:
        _RECORDING.reset(token)


def record(op: str, *numbers) -> None:
    """Write down that `op` held for `numbers` (nothing outside a recording trace)."""
    checks = _checks()
    if checks is not None:
        checks.append((op,) + tuple(int(n) for n in numbers))


def record_relation(op: str, lhs, rhs) -> bool:
    """``lhs <op> rhs`` evaluated, and recorded whichever way it came out."""
    result = CHECKS[op](int(lhs), int(rhs))
    record(op if result else _NEGATED[op], lhs, rhs)
    return result


def _user_frame() -> bool:
    """Whether the code two frames up (the caller of the Dim method) is the user's:
    not in tracejit, NumPy or Numba (a user module named ``numpy_utils`` is the user's)."""
    name = sys._getframe(2).f_globals.get("__name__", "")
    return name.split(".", 1)[0] not in _INTERNAL_PACKAGES


def _plain(value):
    return int(value) if isinstance(value, int) and not isinstance(value, bool) else value


class Dim(int):
    """A dimension length that records the comparisons made on it (module doc)."""

    __slots__ = ()

    def _compare(self, other, op):
        if not isinstance(other, int) or isinstance(other, bool):
            if isinstance(other, float):
                record("const", self)
            return NotImplemented if not isinstance(other, float) else CHECKS[op](int(self), other)
        return record_relation(op, self, other)

    def __lt__(self, other):
        return self._compare(other, "lt")

    def __le__(self, other):
        return self._compare(other, "le")

    def __gt__(self, other):
        return self._compare(other, "gt")

    def __ge__(self, other):
        return self._compare(other, "ge")

    def __eq__(self, other):
        if not isinstance(other, (int, float)):
            return NotImplemented
        return self._compare(other, "eq")

    def __ne__(self, other):
        if not isinstance(other, (int, float)):
            return NotImplemented
        return self._compare(other, "ne")

    def __bool__(self):
        return record_relation("ne", self, 0)

    def __hash__(self):
        if _user_frame():
            record("const", self)
        return int.__hash__(self)

    def __repr__(self):
        if _user_frame():
            record("const", self)
        return int.__repr__(self)

    __str__ = __repr__

    def __format__(self, spec):
        if _user_frame():
            record("const", self)
        return format(int(self), spec)

    def __float__(self):
        record("const", self)
        return float(int(self))

    def __truediv__(self, other):
        record("const", self)
        return int(self) / _plain(other)

    def __rtruediv__(self, other):
        record("const", self)
        return _plain(other) / int(self)

    def __pow__(self, other, mod=None):
        record("const", self)
        return pow(int(self), _plain(other), mod)

    def __rpow__(self, other):
        record("const", self)
        return pow(_plain(other), int(self))

    # exact integer arithmetic stays a Dim (and stays visible)
    def _arith(self, other, fn):
        if not isinstance(other, int) or isinstance(other, bool):
            record("const", self)                 # with a float (or anything else): not followed
            return fn(int(self), other)
        return Dim(fn(int(self), int(other)))

    def __add__(self, other):
        return self._arith(other, operator.add)

    def __radd__(self, other):
        return self._arith(other, lambda a, b: b + a)

    def __sub__(self, other):
        return self._arith(other, operator.sub)

    def __rsub__(self, other):
        return self._arith(other, lambda a, b: b - a)

    def __mul__(self, other):
        return self._arith(other, operator.mul)

    def __rmul__(self, other):
        return self._arith(other, lambda a, b: b * a)

    def __neg__(self):
        return Dim(-int(self))

    def __pos__(self):
        return self

    def __abs__(self):
        record_relation("ge", self, 0)
        return Dim(abs(int(self)))

    def _division(self, divisor, fn):
        """Floor division and remainder by an int: exact only with a fixed remainder,
        which is recorded (``("mod_eq", self, divisor, remainder)``)."""
        if not isinstance(divisor, int) or isinstance(divisor, bool):
            record("const", self)
            return fn(int(self), _plain(divisor))
        dividend, divisor = int(self), int(divisor)
        if divisor == 0:
            return fn(dividend, divisor)          # Python's ZeroDivisionError
        record("mod_eq", self, divisor, dividend % divisor)
        return Dim(fn(dividend, divisor))

    def __floordiv__(self, other):
        return self._division(other, operator.floordiv)

    def __rfloordiv__(self, other):
        if _user_frame():
            record("const", self)                 # a varying divisor: not followed
        return _plain(other) // int(self)

    def __mod__(self, other):
        return self._division(other, operator.mod)

    def __rmod__(self, other):
        if _user_frame():
            record("const", self)
        return _plain(other) % int(self)

    def __divmod__(self, other):
        return self // other, self % other

    def __rdivmod__(self, other):
        record("const", self)                     # a varying divisor: not followed
        return divmod(_plain(other), int(self))

    def __round__(self, ndigits=None):
        if ndigits is None or ndigits >= 0:
            return self
        record("const", self)
        return round(int(self), ndigits)

    def __int__(self):
        # int(n) in the user's code gives a plain int whose uses cannot be seen
        if _user_frame():
            record("const", self)
        return int.__int__(self)

    def _opaque(self, fn, *args):
        record("const", self)
        return fn(int(self), *[_plain(a) for a in args])

    def __and__(self, other):
        return self._opaque(operator.and_, other)

    __rand__ = __and__

    def __or__(self, other):
        return self._opaque(operator.or_, other)

    __ror__ = __or__

    def __xor__(self, other):
        return self._opaque(operator.xor, other)

    __rxor__ = __xor__

    def __lshift__(self, other):
        return self._opaque(operator.lshift, other)

    def __rlshift__(self, other):
        return self._opaque(lambda a, b: b << a, other)

    def __rshift__(self, other):
        return self._opaque(operator.rshift, other)

    def __rrshift__(self, other):
        return self._opaque(lambda a, b: b >> a, other)

    def __invert__(self):
        return self._opaque(operator.invert)

    def bit_length(self):
        return self._opaque(int.bit_length)

    def bit_count(self):
        return self._opaque(int.bit_count)

    def to_bytes(self, *args, **kwargs):
        record("const", self)
        return int(self).to_bytes(*args, **kwargs)

    def as_integer_ratio(self):
        record("const", self)
        return int(self).as_integer_ratio()

    def __trunc__(self):
        return self

    def __floor__(self):
        return self

    def __ceil__(self):
        return self

    def __reduce__(self):
        return (int, (int(self),))


def dims(shape: tuple) -> tuple:
    """`shape` as Dims."""
    return tuple(Dim(d) for d in shape)


def record_slice(n: int, start, stop, step) -> None:
    """The facts Python's slice normalization (``slice.indices``) relied on for an axis
    of length `n`: on which side of the axis ends each given bound fell, and whether the
    slice came out empty."""
    checks = _checks()
    if checks is None:
        return
    for bound in (start, stop):
        if bound is None:
            continue
        bound = int(bound)
        distance = -bound if bound < 0 else bound       # a negative bound counts from the end
        record_relation("le", distance, n)
        record_relation("lt", distance, n)
    first, last, step = slice(start, stop, step).indices(int(n))
    record_relation("lt" if step > 0 else "gt", first, last)


def record_index(n: int, index: int) -> None:
    """An integer index into an axis of length `n` (it was in bounds)."""
    if _checks() is None:
        return
    record_relation("lt", -index - 1 if index < 0 else index, n)
