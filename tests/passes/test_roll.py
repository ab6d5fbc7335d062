"""Loop rolling (issue 8, section 2): a traced Python loop becomes one ``loop`` node.

Graph level: the rolled graph computes what the unrolled trace computes (both run in
the reference interpreter), and its size does not grow with the trip count. End to
end: programs with loops match eager NumPy on the backends, with one body kernel set
whatever the trip count.
"""
import numpy as np
import pytest

import tracejit
from tracejit.ir import TensorType, run_graph, verify
from tracejit.passes import optimize
from tracejit.passes.roll import MIN_NODES, roll_loops
from tracejit.tracer import trace
from tests.runtime.eager_check import check_like_eager

F64 = np.dtype(np.float64)


def jacobi(u, steps):
    for _ in range(steps):
        u[1:-1, 1:-1] = 0.25 * (u[2:, 1:-1] + u[:-2, 1:-1] + u[1:-1, 2:] + u[1:-1, :-2])
    return u


def diag_tanh(a):
    acc = np.zeros(())
    for i in range(a.shape[0]):
        acc += np.tanh(a[i, i])          # a different slice every trip: dynamic offsets
    return acc


def schedule(x, w):
    for t in range(120):
        lr = 0.1 / (1 + t)               # a different constant every trip: a table
        x = x - lr * (x @ w)
    return x


def per_layer(x, ws):
    for w in ws:                         # a different weight every trip: a per-trip operand
        x = np.tanh(x @ w) + 0.5 * x - 1.0
    return x


def losses(x):
    out = []
    for _ in range(100):
        x = np.sin(x) * 0.99
        out.append(x.sum())              # every trip's value is read after the loop: stacked
    return x, out


def nested(x):
    for _ in range(6):
        for _ in range(100):
            x = np.cos(x) + 0.1
        x = x * 0.5
    return x


def _traced(fn, *args):
    types = tuple(TensorType(a.shape, a.dtype) if isinstance(a, np.ndarray) else
                  [TensorType(w.shape, w.dtype) for w in a] if isinstance(a, list) else a for a in args)
    tr = trace(fn, types, {})
    arrays = [a for a in args if isinstance(a, np.ndarray)] + \
        [w for a in args if isinstance(a, list) for w in a] + list(tr.lifted)
    return tr.graph, arrays


def _loops(graph):
    return [n for n in graph.nodes if n.op.name == "loop"]


RNG = np.random.default_rng(0)
CASES = {
    "jacobi": (jacobi, (RNG.random((12, 10)), 60)),
    "diag_tanh": (diag_tanh, (RNG.random((300, 300)),)),
    "schedule": (schedule, (RNG.random((4, 4)), RNG.random((4, 4)) * 0.1)),
    "per_layer": (per_layer, (RNG.random((3, 5)), [RNG.random((5, 5)) * 0.2 for _ in range(80)])),
    "losses": (losses, (RNG.random(7),)),
    "nested": (nested, (RNG.random(6),)),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_rolled_graph_computes_the_unrolled_trace(name):
    fn, args = CASES[name]
    graph, arrays = _traced(fn, *args)
    rolled = roll_loops(graph)
    verify(rolled)
    assert _loops(rolled), "nothing was rolled"
    computing = [n for n in rolled.nodes if n.op.name not in ("slice", "reshape")]   # (rows of stacks)
    assert len(computing) < len(graph.nodes) / 4
    for want, got in zip(run_graph(graph, arrays), run_graph(rolled, arrays)):
        assert want.dtype == got.dtype and want.shape == got.shape
        np.testing.assert_array_equal(got, want)


def _rolled(name):
    fn, args = CASES[name]
    return roll_loops(_traced(fn, *args)[0])


def test_what_varies_per_trip_becomes_tables_groups_and_stacks():
    (loop,) = _loops(_rolled("schedule"))
    assert loop.attrs["tables"] and loop.attrs["tables"][0].shape == (loop.attrs["trips"],)
    (loop,) = _loops(_rolled("diag_tanh"))
    assert {n.op.name for n in loop.attrs["body"].nodes} >= {"dynamic_slice", "tanh"}
    (loop,) = _loops(_rolled("per_layer"))
    assert loop.attrs["per_trip"] == 1
    (loop,) = _loops(_rolled("losses"))
    assert loop.attrs["stacked"] == 1
    inner, outer = _loops(_rolled("nested"))         # the first outer trip's inner loop, then the rest
    assert inner.attrs["trips"] == 100 and outer.attrs["trips"] == 5
    assert _loops(outer.attrs["body"]), "the inner loop rolls inside the outer one"


def test_the_rolled_size_does_not_grow_with_the_trip_count():
    small = roll_loops(_traced(jacobi, RNG.random((12, 10)), 40)[0])
    large = roll_loops(_traced(jacobi, RNG.random((12, 10)), 400)[0])
    assert len(large.nodes) == len(small.nodes)
    assert [n.attrs["trips"] for n in _loops(large)] == [n.attrs["trips"] + 360 for n in _loops(small)]


def test_short_runs_stay_unrolled_for_fusion():
    def horner(x):
        y = x * 0
        for c in range(8):
            y = y * x + c
        return y
    graph, _ = _traced(horner, RNG.random(5))
    assert len(graph.nodes) < MIN_NODES and roll_loops(graph) is graph


def test_a_loop_whose_trips_differ_is_not_rolled():
    def triangular(a):
        acc = a[0, :1].sum()
        for i in range(1, a.shape[0]):
            acc = acc + a[i, :i].sum() * 0.5 + 1.0       # the shapes change every trip
        return acc
    graph, arrays = _traced(triangular, RNG.random((120, 120)))
    rolled = roll_loops(graph)
    assert not _loops(rolled)
    np.testing.assert_allclose(run_graph(optimize(graph)[-1][1], arrays)[0], triangular(arrays[0]))


PROGRAMS = """
import numpy as np
def jacobi(u):
    for _ in range(6 * u.shape[0]):
        u[1:-1, 1:-1] = 0.25 * (u[2:, 1:-1] + u[:-2, 1:-1] + u[1:-1, 2:] + u[1:-1, :-2])
    return u
def diag_tanh(a):
    acc = np.zeros(())
    for i in range(a.shape[0]):
        acc += np.tanh(a[i, i])
    return acc
def losses(x):
    out = []
    for t in range(100):
        x = np.sin(x) * 0.99 + 0.01 * t
        out.append(x.sum())
    return x, out
"""


@pytest.mark.parametrize("backend", ["numba", "triton"])
@pytest.mark.parametrize("name, n", [("jacobi", 10), ("diag_tanh", 100), ("losses", 5)])
def test_loops_compile_once_and_match_eager(name, n, backend):
    n = n * 4 if backend == "numba" else n           # (Triton's interpreter is slow: fewer trips there)
    make = lambda m: (np.random.default_rng(n).random((n, 9) if name == "jacobi" else (n, n) if name == "diag_tanh"
                                                      else n),)      # noqa: E731
    f, _ = check_like_eager(PROGRAMS, name, [make, make], backend=backend)
    assert f.fallbacks == [] and len(f.compiles) == 1
    steps = f.specializations()[0].plan.steps
    assert any(type(s).__name__ == "LoopStep" for s in steps)
    assert len(f.specializations()[0].plan.kernels) <= 3


def test_scalar_index_loops_of_two_thousand_trips_compile():
    f = tracejit.compile(diag_tanh, backend="numba")
    a = np.random.default_rng(4).random((2000, 2000))
    np.testing.assert_allclose(f(a), diag_tanh(a), rtol=1e-12)
    assert f.fallbacks == []
