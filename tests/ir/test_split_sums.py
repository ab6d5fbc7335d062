"""Splitting a stashed value's widened sum into a loop of its own (ir/split_sums.py):
softmax's exp loop runs without the float64 sum in it, the sum loop reads the stored
values back, and results are bit-identical to the unsplit kernel."""
import numpy as np
import pytest

import tracejit

from tracejit.codegen import numba_dialect
from tracejit.runtime.backends import NumbaBackend
from tracejit.runtime.compilation import compile_function
from tracejit.ir.types import TensorType
from tests.runtime.eager_check import check_like_eager, make_module

PROGRAMS = """
import numpy as np
def softmax(x):
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)
def softmax_in_place(x):
    x[...] = softmax(x)
def sum_of_squares(x):
    s = x * x
    return s / s.sum(axis=1, keepdims=True)
def exp_and_other_sum(x):
    e = np.exp(x)
    return e / (e.sum(axis=1, keepdims=True) + x.sum(axis=1, keepdims=True))
"""


def _compile(name, dtype=np.float32, shape=(37, 300)):
    fn = getattr(make_module(PROGRAMS, "split_sums"), name)
    return compile_function(fn, (TensorType(shape, dtype),), {}, NumbaBackend(), name=name)


def _source(name, dtype=np.float32):
    return _compile(name, dtype).kernel_sources()[0][3]


def test_softmax_sums_the_stored_exponentials_in_their_own_loop():
    source = _source("softmax")
    exp_loop = source[source.index("reduction phase 1"):source.index("reduction phase 2")]
    sum_loop = source[source.index("reduction phase 2"):source.index("epilogue")]
    assert "_tj_vexp_f32(" in exp_loop and "_tj_radd" not in exp_loop and "float64" not in exp_loop
    assert "_tj_radd" in sum_loop and "_again = out0[" in sum_loop and "_tj_vexp_f32(" not in sum_loop


@pytest.mark.parametrize("name, dtype", [("softmax", np.float64),       # nothing to widen
                                         ("sum_of_squares", np.float32),  # nothing expensive
                                         ("exp_and_other_sum", np.float32)])  # the sums read x too
def test_phases_are_left_alone_where_splitting_would_not_pay_or_is_not_a_reload(name, dtype):
    assert "_again" not in _source(name, dtype)


def test_split_kernels_give_the_bits_of_the_unsplit_ones(monkeypatch):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((37, 300)).astype(np.float32) * 30
    x[4, 7], x[9, :] = np.inf, -np.inf
    x[11, 5] = np.nan
    softmax = make_module(PROGRAMS, "split_sums").softmax
    got = tracejit.compile(softmax, backend="numba")(x.copy())
    monkeypatch.setattr(numba_dialect, "LOWERING_STEPS",
                        [s for s in numba_dialect.LOWERING_STEPS if s[0] != "split_stashed_sums"])
    assert "_again" not in _source("softmax")
    want = tracejit.compile(softmax, backend="numba")(x.copy())
    assert got.dtype == want.dtype == np.float32
    assert np.array_equal(got.view(np.int32), want.view(np.int32))


@pytest.mark.parametrize("name", ["softmax", "softmax_in_place", "exp_and_other_sum"])
def test_results_and_in_place_writes_match_numpy(name):
    rng = np.random.default_rng(1)
    data = [rng.standard_normal((6, 300)).astype(np.float32) for _ in range(2)]
    data[1][2, 3] = np.inf
    check_like_eager(PROGRAMS, name, [lambda m, d=d: (d.copy(),) for d in data], backend="numba")
