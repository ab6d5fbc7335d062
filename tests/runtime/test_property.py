"""Property tests: random programs of supported ops on random shapes.

Each generated program is ordinary NumPy code (a list of steps applied by
``run_program``); the compiled (Numba) and interpreted results must match eager NumPy.
Numba compiles cost ~0.3 s per new kernel, so the Numba property runs few examples.
"""
import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tracejit
from tests.helpers import assert_matches_numpy

UNARY = [np.exp, np.tanh, np.abs, np.negative, np.square, np.sin, np.floor, np.sqrt, np.log1p]
BINARY = [np.add, np.subtract, np.multiply, np.maximum, np.minimum, np.divide]


def run_program(program, x, y):
    values = [x, y]
    for step in program:
        kind = step[0]
        a = values[step[1] % len(values)]
        if kind == "unary":
            with np.errstate(all="ignore"):
                values.append(UNARY[step[2]](np.abs(a) if UNARY[step[2]] in (np.sqrt, np.log1p) else a))
        elif kind == "binary":
            b = values[step[2] % len(values)]
            try:
                np.broadcast_shapes(a.shape, b.shape)
            except ValueError:
                b = b.sum()
            with np.errstate(all="ignore"):
                values.append(BINARY[step[3]](a, b))
        elif kind == "scalar":
            values.append(a * step[2] + 0.5)
        elif kind == "reduce":
            if a.ndim:
                axis = step[2] % a.ndim
                func = (np.sum, np.max, np.mean)[step[3]]
                values.append(func(a, axis=axis, keepdims=True) - a)
        elif kind == "transpose":
            values.append(a.T)
        elif kind == "slice":
            if a.ndim and a.shape[0] > 1:
                values.append(a[::-1][: a.shape[0] - 1])
    return values[-1], values[len(values) // 2]


step_strategy = st.one_of(
    st.tuples(st.just("unary"), st.integers(0, 9), st.integers(0, len(UNARY) - 1)),
    st.tuples(st.just("binary"), st.integers(0, 9), st.integers(0, 9), st.integers(0, len(BINARY) - 1)),
    st.tuples(st.just("scalar"), st.integers(0, 9), st.sampled_from([0.5, -2.0, 3.0])),
    st.tuples(st.just("reduce"), st.integers(0, 9), st.integers(0, 3), st.integers(0, 2)),
    st.tuples(st.just("transpose"), st.integers(0, 9)),
    st.tuples(st.just("slice"), st.integers(0, 9)),
)


@st.composite
def cases(draw):
    rows = draw(st.integers(1, 9))
    cols = draw(st.integers(1, 9))
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal((rows, cols)) * 2).astype(dtype)
    y = (rng.standard_normal(cols) * 2).astype(dtype)
    program = tuple(draw(st.lists(step_strategy, min_size=1, max_size=6)))
    return program, x, y


def _check(backend, case):
    program, x, y = case
    expected = run_program(program, x, y)
    compiled = tracejit.compile(run_program, backend=backend, static_argnames=("program",), fullgraph=True)
    actual = compiled(program, x, y)
    assert_matches_numpy(actual, expected, scale=50)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_random_programs_interpreted(case):
    _check("interpret", case)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_random_programs_numba(case):
    _check("numba", case)
