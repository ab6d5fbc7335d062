"""Slice writes into a loop's carried arrays done in place (passes/loop_writes.py):
the loops that qualify, the ones that must not (the old array is still read after
the write), and their results against NumPy."""
import numpy as np

import tracejit
from tracejit.ir.types import TensorType
from tracejit.runtime.arrays import NUMPY
from tracejit.runtime.backends import choose_backend
from tracejit.runtime.compilation import compile_function


def recurrence(x):
    y = np.empty_like(x)
    y[:, 0] = x[:, 0]
    for j in range(1, x.shape[1]):
        y[:, j] = 0.5 * x[:, j] + 0.25 * y[:, j - 1]
    return y


def keeps_the_old_array(x):
    y = x.copy()
    total = np.zeros(x.shape[0])
    for j in range(1, x.shape[1]):
        old = y.copy()                    # read after the write below: it must see the old y
        y[:, j] = y[:, j - 1] * 2.0
        total = total + old[:, j]
    return y, total


def _loop_attrs(fn, shape):
    compilation = compile_function(fn, (TensorType(shape, np.float64),), {},
                                   choose_backend("auto", {NUMPY}, "ieee"))
    (loop,) = [n for n in compilation.graph.nodes if n.op.name == "loop"]
    return loop.attrs


def test_a_column_recurrence_writes_in_place():
    attrs = _loop_attrs(recurrence, (12, 40))
    assert attrs["in_place"] == (0,)
    assert any(n.op.name == "write_window" for n in attrs["body"].nodes)
    f = tracejit.compile(recurrence)
    for shape in ((12, 40), (12, 40), (5, 30)):
        x = np.random.default_rng(0).random(shape)
        np.testing.assert_allclose(f(x), recurrence(x), rtol=1e-14)


def test_a_write_whose_old_array_is_read_later_is_not_in_place():
    attrs = _loop_attrs(keeps_the_old_array, (6, 40))
    assert "in_place" not in attrs
    f = tracejit.compile(keeps_the_old_array)
    x = np.random.default_rng(1).random((6, 40))
    for got, want in zip(f(x), keeps_the_old_array(x)):
        np.testing.assert_allclose(got, want, rtol=1e-14)


def test_the_callers_array_is_not_written_through_the_loop():
    def into_argument(y):
        for j in range(1, y.shape[1]):
            y[:, j] = y[:, j - 1] + 1.0
        return y.sum()
    f = tracejit.compile(into_argument)
    x = np.random.default_rng(2).random((4, 40))
    a, b = x.copy(), x.copy()
    assert np.isclose(f(a), into_argument(b))
    np.testing.assert_array_equal(a, b)            # the write-back leaves eager's array
    c = x.copy()
    f(c)
    np.testing.assert_array_equal(c, b)
