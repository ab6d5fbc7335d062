"""The layout pass (passes/layout.py): elementwise ops and reductions over transposed
views are computed in the operand's memory order; the graph computes what it computed
before (checked with the reference interpreter), and compiled results, their layout and
in-place writes match NumPy's."""
import itertools

import numpy as np
import pytest

import tracejit
from tracejit.ir import TensorType, format_graph, run_graph
from tracejit.passes.layout import follow_input_layouts
from tracejit.passes.pipeline import CallFacts
from tracejit.tracer import trace
from tests.runtime.eager_check import check_like_eager


def _graphs(fn, *shapes, written=frozenset(), c_inputs=None):
    graph = trace(fn, tuple(TensorType(s, np.float32) for s in shapes), {}).graph
    c_inputs = frozenset(range(len(graph.inputs))) if c_inputs is None else c_inputs
    return graph, follow_input_layouts(graph, CallFacts(written, c_inputs))


def _ops_reading(graph, op):
    """The producers' op names of every `op` node's operands."""
    return [[v.producer.op.name if v.producer else "input" for v in n.inputs] for n in graph.nodes if n.op.name == op]


def _same_results(before, after, shapes, seed=0):
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    arrays[0].flat[::7] = np.nan
    for a, e in zip(run_graph(after, arrays), run_graph(before, arrays)):
        assert a.dtype == e.dtype and a.shape == e.shape
        np.testing.assert_allclose(a, e, rtol=1e-6, atol=1e-6, equal_nan=True)


def test_an_elementwise_chain_over_a_transpose_carries_one_transpose_to_its_end():
    before, after = _graphs(lambda x: np.exp(x.T) * 2 + 1, (6, 5))
    assert _ops_reading(after, "exp") == [["input"]]
    assert [n.op.name for n in after.nodes if n.op.name != "constant"][-1] == "transpose"
    assert after.outputs[0].producer.op.name == "transpose"
    _same_results(before, after, [(6, 5)])


def test_operands_transposed_alike_move_together_and_mixed_ones_stay():
    before, after = _graphs(lambda x, y: x.T * y.T, (4, 6), (4, 6))
    assert _ops_reading(after, "mul") == [["input", "input"]]
    _same_results(before, after, [(4, 6), (4, 6)])
    _, mixed = _graphs(lambda x, y: x.T + y, (5, 5), (5, 5))
    assert _ops_reading(mixed, "add") == [["transpose", "input"]]
    _, mixed_perms = _graphs(lambda x, y: x.transpose(1, 2, 0) + y.transpose(2, 0, 1), (3, 3, 3), (3, 3, 3))
    assert _ops_reading(mixed_perms, "add") == [["transpose", "transpose"]]


def test_a_result_written_into_an_argument_keeps_the_arguments_layout():
    before, after = _graphs(lambda x: x.T * 2, (5, 5), written=frozenset({0}))
    assert _ops_reading(after, "mul") == [["transpose", "constant"]]


def test_a_matmul_operand_is_computed_in_memory_order_and_read_transposed():
    before, after = _graphs(lambda x, w: (x.T * 2) @ w, (6, 5), (6, 3))
    assert _ops_reading(after, "mul") == [["input", "constant"]]
    assert _ops_reading(after, "matmul") == [["transpose", "input"]]
    _same_results(before, after, [(6, 5), (6, 3)])
    batched = lambda x, w: np.exp(x.transpose(0, 2, 1)) @ w
    before, after = _graphs(batched, (2, 6, 5), (6, 3))
    assert _ops_reading(after, "exp") == [["input"]]
    _same_results(before, after, [(2, 6, 5), (6, 3)])
    # the last axis moved out of the last two: BLAS would need a copy, so the op stays put
    _, kept = _graphs(lambda x, w: np.exp(x.transpose(2, 0, 1)) @ w, (4, 5, 6), (5, 3))
    assert _ops_reading(kept, "exp") == [["transpose"]]


REDUCTIONS = ["sum", "max", "min", "prod", "argmax", "argmin", "any"]


@pytest.mark.parametrize("perm", list(itertools.permutations(range(3))))
@pytest.mark.parametrize("keepdims", [False, True])
def test_reductions_of_a_transpose_read_the_operand_directly(perm, keepdims):
    shape = (3, 4, 5)
    for name in REDUCTIONS:
        for axes in ([0], [1], [2], [0, 2], [1, 2]) if name not in ("argmax", "argmin") else ([0], [1], [2]):
            axis = axes[0] if name in ("argmax", "argmin") else tuple(axes)

            def fn(x, name=name, axis=axis):
                return getattr(np, name)(x.transpose(perm), axis=axis, keepdims=keepdims)
            before, after = _graphs(fn, shape)
            reduced = [n for n in after.nodes if n.op.reduction is not None]
            direct = all(v.producer is None for n in reduced for v in n.inputs)
            if name in ("argmax", "argmin"):     # C-ordered results, as NumPy's: no transpose after
                assert after.outputs[0].producer.op.name != "transpose", (name, axes)
            else:
                assert direct, (name, axes)
            _same_results(before, after, [shape])


PROGRAMS = """
import numpy as np
def affine_t(x):
    return x.T * 2 + 1
def colsum_t(x):
    return x.T.sum(axis=1), x.T.max(axis=0, keepdims=True)
def centre_t(x):
    return x.T / x.T.sum(axis=-1, keepdims=True)
def write_t(x, y):
    x[...] = y.T * 2
def write_back_t(x):
    x[...] = np.sqrt(x.T) + 1
def then_matmul(x, w):
    return (x.T * 2) @ w
def in_a_loop(x):
    for _ in range(4):
        x = np.tanh(x.T) * 0.5
    return x
"""


@pytest.mark.parametrize("name, nargs", [("affine_t", 1), ("colsum_t", 1), ("centre_t", 1), ("write_t", 2),
                                         ("write_back_t", 1), ("then_matmul", 2), ("in_a_loop", 1)])
def test_compiled_results_and_writes_match_numpy(name, nargs):
    rng = np.random.default_rng(2)
    data = [[np.abs(rng.standard_normal((48, 48))).astype(np.float32) for _ in range(nargs)] for _ in range(2)]
    data[1][0][3, 4] = np.nan
    check_like_eager(PROGRAMS, name, [lambda m, d=d: tuple(a.copy() for a in d) for d in data], backend="numba")


LAYOUT_CASES = [
    (lambda x: x.T * 2 + 1, (64, 32), "C"),
    (lambda x: (x.T * 2).T + 1, (64, 32), "C"),                       # the transposes cancel
    (lambda x: (x.transpose(2, 0, 1) * 2).transpose(1, 2, 0) * 3, (4, 5, 6), "C"),
    (lambda x: x.transpose(2, 0, 1).argmin(axis=2), (4, 5, 6), "C"),
    (lambda x: x.transpose(2, 0, 1).sum(axis=2), (4, 5, 6), "C"),
    (lambda x: x.T * 2, (64, 32), "F"),                                 # an F-ordered argument
    (lambda x: x.T * 2 + x.T, (64, 1), "C"),                           # one long axis: no stride
    # layouts the program requests: NumPy's result has them whatever the plan computes in
    (lambda x: (x.T + 1).copy(), (64, 32), "C"),                        # computed in x's order, copied to C
    (lambda x: x.copy(order="F"), (64, 32), "C"),
    (lambda x: (x * 2).copy(order="F"), (64, 32), "C"),
    (lambda x: np.ascontiguousarray(x.T * 2), (64, 32), "C"),
    (lambda x: np.asfortranarray(x.T * 2 + 1), (64, 32), "C"),
    (lambda x: np.exp(x.transpose(2, 0, 1)).copy(), (4, 5, 6), "C"),
    (lambda x: (x.T * 2).copy(), (64, 32), "F"),                        # an F-ordered argument
    (lambda x: np.asfortranarray(x[:, :1] * 2), (64, 32), "C"),          # a column: C and F alike
    (lambda x: x.astype(np.float64, order="F"), (64, 32), "C"),
    (lambda x: x.T.astype(np.float64, order="C"), (64, 32), "C"),
    (lambda x: (x.T * 2).astype(np.float32, order="C"), (64, 32), "C"),
    # order-K copies of an argument's memory: NumPy keeps its layout (the runtime's copy does too)
    (lambda x: np.copy(x.T), (64, 32), "C"),
    (lambda x: np.array(x.T), (64, 32), "C"),
    (lambda x: x.T.copy(order="K"), (64, 32), "C"),
    (lambda x: np.copy(x), (64, 32), "F"),
    (lambda x: np.copy(x, order="A"), (64, 32), "F"),                 # F-contiguous: F
    (lambda x: np.copy(x.T, order="A"), (64, 32), "C"),               # x.T is F-contiguous
    (lambda x: np.copy(x[::2], order="A"), (64, 32), "F"),             # neither: C
    (lambda x: np.copy(np.broadcast_to(x[:1], (5, 32)), order="A"), (64, 32), "C"),
    (lambda x: np.array(x[::2].T), (64, 32), "C"),
]


def test_a_new_length_one_axis_keeps_a_requested_order():
    """NumPy gives a new length-1 axis any stride; the flags are what code reads."""
    x = np.random.default_rng(7).standard_normal((6, 8)).astype(np.float32)
    fn = lambda x: np.asfortranarray(x)[:, None]      # noqa: E731
    got, want = tracejit.compile(fn, fullgraph=True)(x), fn(x)
    assert got.flags.f_contiguous and want.flags.f_contiguous and not got.flags.c_contiguous
    np.testing.assert_array_equal(got, want)


def _filled_in_fortran_order(x):
    out = np.zeros(x.shape, np.float32, order="F")
    out[...] = x * 2
    return out


def _state_copy(x):
    _Holder.buf = (x.T + 1).copy()
    return _Holder.buf.sum()


class _Holder:
    buf = None


def test_an_array_made_in_fortran_order_and_written_keeps_its_order():
    x = np.random.default_rng(5).standard_normal((64, 32)).astype(np.float32)
    got, want = tracejit.compile(_filled_in_fortran_order, fullgraph=True)(x), _filled_in_fortran_order(x)
    assert got.strides == want.strides and got.flags.f_contiguous
    np.testing.assert_array_equal(got, want)


def test_a_copy_stored_as_state_has_numpys_layout_too():
    x = np.random.default_rng(6).standard_normal((64, 32)).astype(np.float32)
    tracejit.compile(_state_copy, fullgraph=True)(x)
    got = _Holder.buf
    _state_copy(x)
    assert got.strides == _Holder.buf.strides and got.flags.c_contiguous
    np.testing.assert_array_equal(got, _Holder.buf)


@pytest.mark.parametrize("fn, shape, order", LAYOUT_CASES)
def test_results_have_numpys_strides(fn, shape, order):
    x = np.asarray(np.random.default_rng(4).standard_normal(shape), dtype=np.float32, order=order)
    got, want = tracejit.compile(fn, fullgraph=True)(x), fn(x)
    assert got.strides == want.strides and got.dtype == want.dtype
    np.testing.assert_allclose(got, want, rtol=1e-6)        # sums: float64 accumulators


def test_an_elementwise_result_over_a_transpose_is_laid_out_as_numpy_lays_it_out():
    x = np.random.default_rng(3).standard_normal((64, 32)).astype(np.float32)
    got, want = tracejit.compile(lambda x: x.T * 2 + 1)(x), x.T * 2 + 1
    assert got.flags.f_contiguous == want.flags.f_contiguous == True and got.strides == want.strides
    np.testing.assert_array_equal(got, want)
    assert "transpose" in format_graph(_graphs(lambda x: x.T * 2 + 1, (64, 32))[1])


def test_an_argument_whose_order_the_layout_relied_on_is_guarded():
    f = tracejit.compile(lambda x: x.T * 2 + 1)
    c = np.arange(12, dtype=np.float32).reshape(3, 4)
    for x in (c, np.asfortranarray(c), c, np.asfortranarray(c)):
        got, want = f(x), x.T * 2 + 1
        assert got.strides == want.strides
        np.testing.assert_array_equal(got, want)
    assert len(f.compiles) == 2


def test_a_long_chain_of_2d_steps_derives_its_layouts_without_deep_recursion():
    # each step's strides come from its operands': 400 steps used to recurse past
    # Python's limit while tracing, and the function fell back (fullgraph: raised)
    def recurrence(total, table):
        for _ in range(400):
            total = np.tanh(total * 0.5 + table) * 1.5 - 0.25
        return total, total.strides
    f = tracejit.compile(recurrence, fullgraph=True)
    total, table = np.zeros((3, 5)), np.arange(15.0).reshape(3, 5)
    got, expected = f(total, table), recurrence(total, table)
    np.testing.assert_allclose(got[0], expected[0], rtol=1e-13)
    assert got[1] == expected[1]
