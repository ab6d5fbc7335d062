"""Enum members and subclasses of int, float and str are values, not objects.

As arguments they are part of the cache key by value (``g(Act.TANH, x)`` after
``g(Act.RELU, x)`` traces again); as attributes or globals they are guarded by
identity (``self.act = Act.TANH`` is noticed). Both used to be treated as plain
objects whose attributes the guards watch, and none was read: the first call's
branch and numbers were served again (silent wrong answers).
"""
import numpy as np
import pytest

from tests.runtime.eager_check import check_like_eager

PROGRAMS = """
import enum
import numpy as np
class Act(enum.Enum):
    RELU = 1
    TANH = 2
class K(enum.IntEnum):
    A = 2
    B = 5
class Mode(str, enum.Enum):
    FAST = "fast"
    EXACT = "exact"
class Scale(float):
    pass
class Count(int):
    pass
class Tagged(int):
    def __new__(cls, value, scale):
        self = int.__new__(cls, value)
        self.scale = scale
        return self
def tagged(x, n):
    return x * n.scale
class Holder:
    def __init__(self):
        self.n = Tagged(1, 2.0)
    def forward(self, x):
        return x * self.n.scale
holder = Holder()
def activate(act, x):
    return np.maximum(x, 0) if act is Act.RELU else np.tanh(x)
def scaled(k, x):
    return x * k
def by_mode(mode, x):
    return x.sum() if mode == "fast" else np.sort(x)[::-1].sum()
class Layer:
    def __init__(self):
        self.act, self.k = Act.RELU, K.A
    def forward(self, x):
        y = x * self.k
        return np.maximum(y, 0) if self.act == Act.RELU else np.tanh(y)
layer = Layer()
"""


@pytest.mark.parametrize("backend", ["interpret", "numba"])
def test_enum_and_number_subclass_arguments_are_keyed_by_value(backend):
    x = np.array([-1.0, 2.0, 0.5])
    check_like_eager(PROGRAMS, "activate", [lambda m, a=a: (getattr(m.Act, a), x.copy())
                                            for a in ("RELU", "TANH", "RELU")], backend=backend)
    check_like_eager(PROGRAMS, "scaled", [lambda m: (m.K.A, x.copy()), lambda m: (m.K.B, x.copy()),
                                          lambda m: (m.Count(3), x.astype(np.int8)),
                                          lambda m: (m.Count(4), x.astype(np.int8)),
                                          lambda m: (m.Scale(0.5), x.astype(np.float32)),
                                          lambda m: (m.Scale(2.0), x.astype(np.float32))], backend=backend)
    check_like_eager(PROGRAMS, "by_mode", [lambda m: (m.Mode.FAST, x.copy()), lambda m: (m.Mode.EXACT, x.copy())],
                     backend=backend)


def _switch(attribute, value):
    def make(module):
        setattr(module.layer, attribute, getattr(module.K if attribute == "k" else module.Act, value))
        return (np.array([-1.0, 2.0]),)
    return make


@pytest.mark.parametrize("backend", ["interpret", "numba"])
def test_enum_attributes_are_guarded(backend):
    calls = [_switch("act", "RELU"), _switch("act", "TANH"), _switch("k", "B"), _switch("act", "RELU")]
    check_like_eager(PROGRAMS, "layer.forward", calls, backend=backend)


def test_a_number_subclass_with_attributes_runs_eagerly():
    """Tagged(1, 2.0) and Tagged(1, 5.0) are equal ints with different attributes: no
    value key nor identity guard covers both, so such a value runs eagerly."""
    calls = [lambda m: (np.ones(2), m.Tagged(1, 2.0)), lambda m: (np.ones(2), m.Tagged(1, 5.0))]
    check_like_eager(PROGRAMS, "tagged", calls, warns=1, names_line=False)

    def rescale(module):
        module.holder.n.scale = 7.0
        return (np.ones(2),)
    check_like_eager(PROGRAMS, "holder.forward", [lambda m: (np.ones(2),), rescale], warns=1, names_line=False)
