"""The IR core: text form (golden), types, verifier, interpreter, loop-nest lowering."""
import numpy as np
import pytest

from tracejit.ir import (OPS, GraphBuilder, Node, TensorType, VerificationError, format_graph, parse_type,
                         run_graph, verify)
from tracejit.ir.loopnest import LoweringError, lower_region, reshape_groups

F32 = np.dtype(np.float32)


def softmax_graph(rows=256, cols=1000):
    b = GraphBuilder("softmax")
    x = b.add_input(TensorType((rows, cols), F32))
    m = b.emit("reduce_max", [x], dict(axes=(1,), keepdims=True), loc="/home/u/model.py:3")
    d = b.emit("sub", [x, m], loc="/home/u/model.py:3")
    e = b.emit("exp", [d], loc="/home/u/model.py:3")
    s = b.emit("reduce_sum", [e], dict(axes=(1,), keepdims=True), loc="/home/u/model.py:4")
    return b.finish([b.emit("div", [e, s], loc="/home/u/model.py:4")])


SOFTMAX_TEXT = """\
func @softmax(%0: f32[256,1000]) -> (f32[256,1000]) {
  %1 = reduce_max %0 axes=[1] keepdims : f32[256,1]       # model.py:3
  %2 = sub %0, %1 : f32[256,1000]                         # model.py:3
  %3 = exp %2 : f32[256,1000]                             # model.py:3
  %4 = reduce_sum %3 axes=[1] keepdims : f32[256,1]       # model.py:4
  %5 = div %3, %4 : f32[256,1000]                         # model.py:4
  return %5
}"""


def test_printer_golden():
    assert format_graph(softmax_graph()) == SOFTMAX_TEXT


def test_weak_types_and_attrs_print():
    b = GraphBuilder("f")
    lr = b.add_input(TensorType((), np.float64, weak=True))
    c = b.emit("constant", [], dict(value=2.0, dtype=np.dtype(np.float64), weak_result=True))
    y = b.emit("mul", [lr, c], dict(weak_result=True))
    text = format_graph(b.finish([y]))
    assert "%0: ~f64[]" in text
    assert "%1 = constant dtype=f64 value=2.0 : ~f64[]" in text
    assert "%2 = mul %0, %1 : ~f64[]" in text


@pytest.mark.parametrize("text", ["f32[256,1000]", "i64[]", "~f64[]", "bool[3]", "u8[1,2,3]"])
def test_type_text_round_trips(text):
    assert str(parse_type(text)) == text


def test_interpreter_runs_softmax():
    g = softmax_graph(3, 5)
    x = np.random.default_rng(0).random((3, 5), dtype=np.float32)
    (y,) = run_graph(g, [x])
    e = np.exp(x - x.max(1, keepdims=True))
    np.testing.assert_allclose(y, e / e.sum(1, keepdims=True), rtol=1e-6)
    assert y.dtype == np.float32


def test_verifier_accepts_valid_and_rejects_bad_types():
    g = softmax_graph(3, 5)
    verify(g)
    node = g.nodes[1]
    bad = Node(node.op, node.inputs, node.attrs, [TensorType((3, 5), np.float64)], node.loc)
    g.nodes[1] = bad
    with pytest.raises(VerificationError, match="result types"):
        verify(g)


def test_verifier_rejects_use_before_definition():
    g = softmax_graph(3, 5)
    g.nodes[0], g.nodes[1] = g.nodes[1], g.nodes[0]
    with pytest.raises(VerificationError, match="before its definition"):
        verify(g)


def test_shape_rules_give_numpy_messages():
    b = GraphBuilder("f")
    x = b.add_input(TensorType((3, 4), F32))
    y = b.add_input(TensorType((5,), F32))
    with pytest.raises(ValueError, match="could not be broadcast"):
        b.emit("add", [x, y])
    with pytest.raises(ValueError, match="cannot reshape"):
        b.emit("reshape", [x], dict(shape=(5, 2)))


def test_result_dtypes_come_from_numpy():
    b = GraphBuilder("f")
    i32 = b.add_input(TensorType((2,), np.int32))
    f32 = b.add_input(TensorType((2,), np.float32))
    weak = b.add_input(TensorType((), np.float64, weak=True))
    assert b.emit("add", [i32, f32]).dtype == np.float64
    assert b.emit("mul", [f32, weak]).dtype == np.float32
    assert b.emit("sqrt", [i32]).dtype == np.float64
    assert b.emit("reduce_sum", [i32], dict(axes=(0,), keepdims=False)).dtype == np.int64
    assert b.emit("argmax", [f32], dict(axes=(0,), keepdims=False)).dtype == np.intp


@pytest.mark.parametrize("out_shape, in_shape, groups", [
    ((6,), (2, 3), [([0], [0, 1])]),
    ((2, 3), (6,), [([0, 1], [0])]),
    ((4, 1, 5), (4, 5), [([0], [0]), ([1, 2], [1])]),
    ((8, 2, 4), (8, 8), [([0], [0]), ([1, 2], [1])]),
])
def test_reshape_groups(out_shape, in_shape, groups):
    assert reshape_groups(out_shape, in_shape) == groups


def test_lowering_softmax_is_one_row_kernel_with_two_phases():
    nest = lower_region(softmax_graph(4, 6))
    assert nest.inner_axes == (1,)
    assert [r.kind for p in nest.phases for r in p.reductions] == ["reduce_max", "reduce_sum"]
    assert len(nest.phases) == 2
    assert sorted(nest.sizes.values()) == [4, 6]


def test_lowering_merges_independent_reductions_into_one_pass():
    b = GraphBuilder("stats")
    x = b.add_input(TensorType((4, 6), F32))
    s = b.emit("reduce_sum", [x], dict(axes=(1,), keepdims=False))
    sq = b.emit("reduce_sum", [b.emit("mul", [x, x])], dict(axes=(1,), keepdims=False))
    nest = lower_region(b.finish([s, sq]))
    assert len(nest.phases) == 1 and len(nest.phases[0].reductions) == 2


def test_lowering_rejects_mismatched_reductions_and_output_shapes():
    b = GraphBuilder("bad")
    x = b.add_input(TensorType((4, 6), F32))
    r0 = b.emit("reduce_sum", [x], dict(axes=(0,), keepdims=False))
    r1 = b.emit("reduce_sum", [x], dict(axes=(1,), keepdims=False))
    with pytest.raises(LoweringError):
        lower_region(b.finish([r0, r1]))
    b = GraphBuilder("bad2")
    x = b.add_input(TensorType((4, 6), F32))
    y = b.add_input(TensorType((6,), F32))
    with pytest.raises(LoweringError):
        lower_region(b.finish([b.emit("exp", [x]), b.emit("exp", [y])]))


@pytest.mark.parametrize("middle", [(30,), (6, 5), (3, 10)])
def test_a_flatten_then_an_unflatten_reads_at_the_loop_index(middle):
    """x [3, 2, 5] -> middle -> [3, 2, 5], then exp: the loads cancel to x[i0, i1, i2]
    (no division or remainder per element); a reshape that merges dims keeps them."""
    from tracejit.ir.nest_text import format_nest
    b = GraphBuilder("roundtrip")
    x = b.add_input(TensorType((3, 2, 5), F32))
    back = b.emit("reshape", [b.emit("reshape", [x], dict(shape=middle))], dict(shape=(3, 2, 5)))
    text = format_nest(lower_region(b.finish([b.emit("exp", [back])])))
    assert "load in0[i0, i1, i2]" in text and "//" not in text and "%" not in text
    merged = format_nest(lower_region(b.finish([b.emit("exp", [b.emit("reshape", [x], dict(shape=(6, 5)))])])))
    assert "//" in merged and "%" in merged
