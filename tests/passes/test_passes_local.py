"""dce, cse and constant folding: exact results, verified graphs, inputs untouched."""
import numpy as np
import pytest

from tracejit.ir import format_graph, run_graph, verify
from tracejit.passes import cse, dce, fold_constants

import pass_graphs as pg
from pass_graphs import B, T, F32, F64


def assert_exact(before, after, seed=0):
    verify(after)
    arrays = pg.random_inputs(before, seed)
    for a, e in zip(run_graph(after, arrays), run_graph(before, arrays)):
        assert a.dtype == e.dtype and a.shape == e.shape
        np.testing.assert_array_equal(a, e)


@pytest.mark.parametrize("make", pg.ALL)
@pytest.mark.parametrize("pass_fn", [dce, cse, fold_constants])
def test_pass_is_pure_and_exact(make, pass_fn):
    graph = make()
    text = format_graph(graph)
    result = pass_fn(graph)
    assert format_graph(graph) == text          # input not mutated
    assert not set(graph.nodes) & set(result.nodes)
    assert_exact(graph, result)


def test_dce_removes_unused_and_keeps_outputs():
    b = B("g")
    x = b.add_input(T((3,)))
    b.op("exp", x)                                  # dead
    y = b.op("neg", x)
    dead_chain = b.op("sin", y)
    b.op("cos", dead_chain)                         # dead chain
    g = b.finish([y, x])
    out = dce(g)
    assert [n.op.name for n in out.nodes] == ["neg"]
    assert len(out.outputs) == 2 and out.outputs[1] is out.inputs[0]
    assert_exact(g, out)


def test_cse_merges_identical_nodes_only():
    b = B("g")
    x = b.add_input(T((3,)))
    a1, a2 = b.op("exp", x), b.op("exp", x)
    s1 = b.sum(x, (0,))
    s2 = b.sum(x, (0,), keepdims=False)            # different attrs: kept
    c1, c2 = b.const(0.0), b.const(-0.0)           # 0.0 and -0.0 differ
    n1, n2 = b.const(float("nan")), b.const(float("nan"))  # NaN constants are identical
    t1 = b.op("transpose", b.op("reshape", x, shape=(3, 1)), perm=(1, 0))
    t2 = b.op("transpose", b.op("reshape", x, shape=(3, 1)), perm=(1, 0))
    outs = [b.op("add", a1, c1), b.op("add", a2, c2), s1, s2, b.op("add", x, n1), b.op("add", x, n2), t1, t2]
    g = b.finish(outs)
    out = cse(g)
    names = [n.op.name for n in out.nodes]
    assert names.count("exp") == 1
    assert names.count("reduce_sum") == 2
    assert names.count("constant") == 3           # 0.0, -0.0, one NaN
    assert names.count("transpose") == 1 and names.count("reshape") == 1
    assert_exact(g, out)


def test_cse_distinguishes_dtypes_and_weakness():
    b = B("g")
    x = b.add_input(T((3,), F64))
    c1 = b.const(1.0, F64, weak=True)
    c2 = b.const(1.0, F64, weak=False)
    c3 = b.const(1.0, F32, weak=False)
    g = b.finish([b.op("add", x, c1), b.op("add", x, c2), b.op("add", x, c3)])
    out = cse(g)
    assert [n.op.name for n in out.nodes].count("constant") == 3
    assert_exact(g, out)


def test_cse_kernel_regions_by_identity():
    from tracejit.passes import fuse
    fused = fuse(pg.gelu())
    region = fused.nodes[0].attrs["region"]
    b = B("g")
    x = b.add_input(T((6, 7)))
    k1 = b.op("kernel", x, name="a", region=region)
    k2 = b.op("kernel", x, name="a", region=region)
    other = pg.gelu()
    k3 = b.op("kernel", x, name="a", region=fuse(other).nodes[0].attrs["region"])
    g = b.finish([k1, k2, k3])
    out = cse(g)
    assert len(out.nodes) == 2
    assert_exact(g, out)


def test_fold_scalar_chain_keeps_dtype_and_weakness():
    b = B("g")
    x = b.add_input(T((4,)))
    w = b.op("mul", b.const(2.0), b.const(3.0), weak_result=True)        # weak f64
    w2 = b.op("sqrt", w, weak_result=True)
    s = b.op("add", b.fconst(1.5), b.fconst(2.25))                        # strong f32
    i = b.op("mul", b.const(7, np.int64, weak=False), b.const(3, np.int64, weak=False))
    g = b.finish([b.op("mul", x, w2), b.op("add", x, s), i])
    out = fold_constants(g)
    consts = [n for n in out.nodes if n.op.name == "constant"]
    assert [n.op.name for n in out.nodes if n.op.name != "constant"] == ["mul", "add"]
    weak = [c for c in consts if c.output.type.weak]
    assert weak and all(c.output.dtype == F64 for c in weak)
    assert any(c.output.type == T((), F32) for c in consts)
    assert any(c.output.type == T((), np.int64) and c.attrs["value"] == 21 for c in consts)
    assert_exact(g, out)


def test_fold_skips_non_scalar_and_errors():
    b = B("g")
    x = b.add_input(T((4,)))
    big = b.op("broadcast_to", b.const(2.0), shape=(4,))
    e = b.op("exp", big, weak_result=True)                                  # shape (4,): not folded
    bad = b.op("pow", b.const(2, np.int64, weak=False), b.const(-1, np.int64, weak=False))  # raises
    g = b.finish([b.op("mul", x, e), bad])
    out = fold_constants(g)
    names = [n.op.name for n in out.nodes]
    assert "exp" in names and "pow" in names
    verify(out)


def test_fold_nan_and_float32_rounding():
    b = B("g")
    x = b.add_input(T((2,)))
    nan = b.op("sub", b.fconst(float("inf")), b.fconst(float("inf")))
    third = b.op("div", b.fconst(1.0), b.fconst(3.0))
    g = b.finish([b.op("add", x, nan), b.op("mul", x, third)])
    out = fold_constants(g)
    assert [n.op.name for n in out.nodes if n.op.name != "constant"] == ["add", "mul"]
    assert_exact(g, out)
