"""Detection of mergeable reduction phases (ir/online.py)."""
import numpy as np

from tracejit.ir import GraphBuilder, TensorType
from tracejit.ir.loopnest import lower_region
from tracejit.ir.online import merge_online_phases

F32 = np.dtype(np.float32)


def kinds(nest):
    return [[r.kind for r in p.reductions] for p in nest.phases]


def rows(name="rows", shape=(4, 10)):
    b = GraphBuilder(name)
    return b, b.add_input(TensorType(shape, F32))


def test_softmax_max_and_sum_of_exp_merge():
    b, x = rows()
    m = b.emit("reduce_max", [x], dict(axes=(1,), keepdims=True))
    e = b.emit("exp", [b.emit("sub", [x, m])])
    s = b.emit("reduce_sum", [e], dict(axes=(1,), keepdims=True))
    nest = merge_online_phases(lower_region(b.finish([b.emit("div", [e, s])])))
    assert kinds(nest) == [["online_max_sumexp"]]
    assert len(nest.segments) == 2


def test_variance_after_mean_merges():
    b, x = rows()
    total = b.emit("reduce_sum", [x], dict(axes=(1,), keepdims=True))
    n = b.emit("constant", [], dict(value=10.0, dtype=F32))
    mean = b.emit("div", [total, n])
    d = b.emit("sub", [x, mean])
    var = b.emit("reduce_sum", [b.emit("mul", [d, d])], dict(axes=(1,), keepdims=True))
    nest = merge_online_phases(lower_region(b.finish([b.emit("div", [d, var])])))
    assert kinds(nest) == [["welford_sum_m2"]]


def test_different_sources_do_not_merge():
    b, x = rows()
    y = b.add_input(TensorType((4, 10), F32))
    m = b.emit("reduce_max", [x], dict(axes=(1,), keepdims=True))
    e = b.emit("exp", [b.emit("sub", [y, m])])              # exp(y - max(x))
    s = b.emit("reduce_sum", [e], dict(axes=(1,), keepdims=True))
    nest = lower_region(b.finish([s]))
    assert merge_online_phases(nest) is nest
    b, x = rows()
    total = b.emit("reduce_sum", [x], dict(axes=(1,), keepdims=True))
    d = b.emit("sub", [b.emit("exp", [x]), total])           # (exp(x) - sum(x))**2: not a variance
    var = b.emit("reduce_sum", [b.emit("mul", [d, d])], dict(axes=(1,), keepdims=True))
    nest = lower_region(b.finish([var]))
    assert merge_online_phases(nest) is nest


def test_integer_rows_are_left_alone():
    b = GraphBuilder("ints")
    x = b.add_input(TensorType((3, 5), np.int32))
    m = b.emit("reduce_max", [x], dict(axes=(1,), keepdims=True))
    s = b.emit("reduce_sum", [b.emit("sub", [x, m])], dict(axes=(1,), keepdims=True))
    nest = lower_region(b.finish([s]))
    assert merge_online_phases(nest) is nest
