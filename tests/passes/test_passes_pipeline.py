"""The ordered pipeline: history, verification, final graph contract, dump text."""
import numpy as np
import pytest

from tracejit.ir import OpGroup, run_graph
from tracejit.passes import PIPELINE, final_graph, format_history, optimize
from tracejit.passes.fusion import VIEW_OPS

import pass_graphs as pg
from pass_graphs import B, T


@pytest.mark.parametrize("make", pg.ALL)
def test_optimize_history_and_result(make):
    g = make()
    history = optimize(g, verify_each=True)
    assert [name for name, _ in history] == ["traced"] + [name for name, _ in PIPELINE]
    assert history[0][1] is g
    final = final_graph(history)
    assert final is history[-1][1]
    for node in final.nodes:
        assert node.op.group is OpGroup.KERNEL or node.op.name in VIEW_OPS
    arrays = pg.random_inputs(g)
    for a, e in zip(run_graph(final, arrays), run_graph(g, arrays)):
        assert a.dtype == e.dtype and a.shape == e.shape
        np.testing.assert_allclose(a, e, rtol=1e-6, atol=1e-7, equal_nan=True)


def test_pipeline_cleans_then_fuses():
    b = B("clean")
    x = b.add_input(T((4, 5)))
    b.op("sin", x)                                                   # dead
    half = b.op("mul", b.const(0.25), b.const(2.0), weak_result=True)  # folds to 0.5
    y1 = b.op("mul", b.op("mul", x, half), b.const(1.0))             # * 1 goes away
    y2 = b.op("mul", x, half)                                        # CSE with the inner mul
    out = b.op("add", b.op("transpose", b.op("transpose", y1, perm=(1, 0)), perm=(1, 0)), y2)
    g = b.finish([out])
    history = optimize(g, verify_each=True)
    name, before_fusion = history[-3]
    assert name == "causal_weights" and history[-4][0] == "dce"
    assert [n.op.name for n in before_fusion.nodes if n.op.name != "constant"] == ["mul", "add"]
    (kernel,) = final_graph(history).nodes
    ops = [n.op.name for n in kernel.attrs["region"].nodes if n.op.group is not OpGroup.SOURCE]
    assert ops == ["mul", "add"]
    arrays = pg.random_inputs(g)
    np.testing.assert_array_equal(run_graph(final_graph(history), arrays)[0], run_graph(g, arrays)[0])


def test_verify_each_reports_broken_input():
    b = B("bad")
    x = b.add_input(T((3,)))
    y = b.op("exp", x)
    g = b.finish([y])
    g.nodes[0].outputs[0].type = T((4,))          # corrupt a (private) copy's type
    with pytest.raises(Exception):
        optimize(g, verify_each=True)


def test_trivial_graphs():
    b = B("id")
    x = b.add_input(T((3,)))
    g = b.finish([x, x])
    final = final_graph(optimize(g, verify_each=True))
    assert final.nodes == [] and final.outputs == [final.inputs[0]] * 2
    b = B("const")
    g = b.finish([b.const(3.0)])
    final = final_graph(optimize(g, verify_each=True))
    assert [n.op.name for n in final.nodes] == ["kernel"]
    assert run_graph(final, [])[0] == 3.0


def test_format_history_shows_changed_stages():
    text = format_history(optimize(pg.softmax()))
    assert "// ---- traced ----" in text and "// ---- fuse ----" in text
    assert "// ---- cse ----" not in text                          # nothing to merge: not shown
