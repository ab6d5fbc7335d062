"""Fusion structure (XLA-style groups) and correctness (kernels compute the same)."""
import numpy as np
import pytest

from tracejit.ir import OpGroup, format_graph, run_graph, verify
from tracejit.ir.loopnest import lower_region
from tracejit.passes import describe_fusion, fuse
from tracejit.passes.fusion import VIEW_OPS, kernel_kind

import pass_graphs as pg
from pass_graphs import B, T, F32


def kernels(graph):
    return [n for n in graph.nodes if n.op.group is OpGroup.KERNEL]


def region_ops(kernel):
    return [n.op.name for n in kernel.attrs["region"].nodes if n.op.group is not OpGroup.SOURCE]


def check_fused(graph, seed=0):
    """Fuse; assert the output contract; compare with the unfused graph; return it."""
    text = format_graph(graph)
    fused = fuse(graph)
    assert format_graph(graph) == text                         # input untouched
    verify(fused)
    kernel_outputs = set()
    for node in fused.nodes:
        if node.op.group is OpGroup.KERNEL:
            region = node.attrs["region"]
            assert region.name == node.attrs["name"]
            assert node.attrs["name"].startswith(f"{graph.name}_k")
            lower_region(region)                               # every region is legal
            kernel_outputs.update(node.outputs)
        else:
            assert node.op.name in VIEW_OPS, node
            operand = node.inputs[0]
            assert operand in fused.inputs or operand in kernel_outputs or operand.producer.op.name in VIEW_OPS
    names = [k.attrs["name"] for k in kernels(fused)]
    assert len(set(names)) == len(names)
    arrays = pg.random_inputs(graph, seed)
    for a, e in zip(run_graph(fused, arrays), run_graph(graph, arrays)):
        assert a.dtype == e.dtype and a.shape == e.shape
        np.testing.assert_allclose(a, e, rtol=1e-6, atol=1e-7, equal_nan=True)
    assert format_graph(fuse(graph)) == format_graph(fused)    # deterministic
    return fused


def test_gelu_is_one_pointwise_kernel():
    fused = check_fused(pg.gelu())
    (k,) = kernels(fused)
    assert kernel_kind(k.attrs["region"]) == "pointwise"
    assert region_ops(k).count("tanh") == 1 and len(fused.nodes) == 1


@pytest.mark.parametrize("make", [pg.softmax, pg.layernorm, pg.rmsnorm, pg.logsumexp])
def test_row_normalizations_are_one_kernel(make):
    fused = check_fused(make())
    assert len(fused.nodes) == 1
    (k,) = kernels(fused)
    assert kernel_kind(k.attrs["region"]) == "reduction rows"


def test_layernorm_reads_gamma_and_beta_in_the_kernel():
    (k,) = kernels(check_fused(pg.layernorm()))
    assert [str(v.type) for v in k.attrs["region"].inputs] == ["f32[5,8]", "f32[8]", "f32[8]"]
    assert region_ops(k).count("reduce_sum") == 2


def test_adam_is_one_kernel_with_three_outputs():
    g = pg.adam()
    fused = check_fused(g)
    (k,) = kernels(fused)
    assert len(k.outputs) == 3
    assert set(fused.outputs) == set(k.outputs)
    assert len(k.inputs) == len(g.inputs)                     # each input read once


def test_matmul_epilogue_is_one_kernel_led_by_matmul():
    fused = check_fused(pg.matmul_bias_relu())
    (k,) = kernels(fused)
    assert region_ops(k) == ["matmul", "add", "maximum"]
    assert k.attrs["region"].nodes[0].op.name == "matmul"
    assert kernel_kind(k.attrs["region"]) == "matmul+epilogue"


def test_matmul_operand_producers_are_separate_kernels():
    fused = check_fused(pg.scaled_matmul())
    k0, k1 = kernels(fused)
    assert region_ops(k0) == ["mul"]
    assert region_ops(k1) == ["matmul"]
    assert k1.inputs[0] is k0.output                           # operand is a region input


def test_reduction_axes_mismatch_splits():
    fused = check_fused(pg.axis0_then_axis1())
    k0, k1 = kernels(fused)
    assert region_ops(k0) == ["reduce_sum", "sub", "exp"]
    assert region_ops(k1) == ["reduce_sum"]


def test_residual_and_transposed_operand():
    b = B("res")
    x, w, r = b.add_input(T((4, 6))), b.add_input(T((5, 6))), b.add_input(T((4, 5)))
    wt = b.op("transpose", w, perm=(1, 0))
    h = b.op("add", b.op("matmul", x, wt), r)
    y = b.op("mul", h, b.op("tanh", h))
    fused = check_fused(b.finish([y]))
    assert [n.op.name for n in fused.nodes] == ["transpose", "kernel"]   # x @ w.T: w.T is a view
    (k,) = kernels(fused)
    assert region_ops(k) == ["matmul", "add", "tanh", "mul"]


def test_matmul_then_softmax_is_two_kernels():
    b = B("attn")
    q, kt = b.add_input(T((4, 6))), b.add_input(T((6, 5)))
    s = b.op("mul", b.op("matmul", q, kt), b.const(0.125))
    e = b.op("exp", b.op("sub", s, b.max(s, (1,))))
    fused = check_fused(b.finish([b.op("div", e, b.sum(e, (1,)))]))
    k0, k1 = kernels(fused)
    assert region_ops(k0) == ["matmul", "mul"]
    assert kernel_kind(k1.attrs["region"]) == "reduction rows"


def test_no_cycle_between_kernels():
    # a feeds both the matmul and its epilogue: the epilogue must not join a's group
    b = B("cyc")
    x, w = b.add_input(T((4, 4))), b.add_input(T((4, 4)))
    a = b.op("exp", x)
    c = b.op("add", a, b.op("matmul", a, w))
    fused = check_fused(b.finish([c]))
    k0, k1 = kernels(fused)
    assert region_ops(k0) == ["exp"] and region_ops(k1) == ["matmul", "add"]


def test_sibling_multi_output():
    b = B("sib")
    x = b.add_input(T((3, 4)))
    fused = check_fused(b.finish([b.op("exp", x), b.op("sin", x), b.sum(x, (1,))]))
    (k,) = kernels(fused)
    assert len(k.outputs) == 3 and k.inputs == (fused.inputs[0],)


def test_shared_reduction_not_duplicated():
    b = B("share")
    x = b.add_input(T((3, 4)))
    s = b.sum(b.op("exp", x), (1,))
    y = b.op("div", x, s)                          # joins the reduction kernel
    z = b.op("mul", b.op("reshape", s, shape=(1, 3)), b.add_input(T((5, 3))))  # other domain
    fused = check_fused(b.finish([y, z]))
    assert sum(region_ops(k).count("reduce_sum") for k in kernels(fused)) == 1


def test_sources_and_views_at_top_level():
    b = B("src")
    x = b.add_input(T((3, 4)))
    full = b.op("broadcast_to", b.const(2.0, F32, weak=False), shape=(3, 4))
    y = b.op("exp", x)
    fused = check_fused(b.finish([b.const(7.0), full, b.op("transpose", y, perm=(1, 0)),
                                  b.op("reshape", x, shape=(12,)), b.op("iota", shape=(2, 3), axis=1,
                                                                       dtype=np.dtype(np.int64))]))
    ops = [n.op.name for n in fused.nodes]
    assert ops.count("kernel") == 4                 # constant, broadcast constant, exp, iota
    assert ops.count("transpose") == 1 and ops.count("reshape") == 1


def test_cheap_scalars_are_duplicated_with_a_reason():
    b = B("scal")
    x, z, lr = b.add_input(T((3, 4))), b.add_input(T((5,))), b.add_input(T((), np.float64, weak=True))
    s = b.op("mul", lr, b.const(2.0), weak_result=True)
    fused = check_fused(b.finish([b.op("mul", x, s), b.op("mul", z, s)]))
    ks = kernels(fused)
    assert len(ks) == 2
    assert all("reason" in k.attrs and "mul" in k.attrs["reason"] for k in ks)
    assert "reason: recomputes" in describe_fusion(fused)


def test_movement_inside_kernels_as_index_maps():
    b = B("mov")
    x = b.add_input(T((3, 4)))
    y = b.op("transpose", b.op("exp", x), perm=(1, 0))
    z = b.op("add", y, b.op("slice", b.add_input(T((8, 3))), starts=(0, 0), steps=(2, 1), shape=(4, 3)))
    fused = check_fused(b.finish([z]))
    (k,) = kernels(fused)
    assert "transpose" in region_ops(k) and "slice" in region_ops(k)


def test_fusing_twice_keeps_kernels():
    once = fuse(pg.adam())
    twice = check_fused(once)
    assert format_graph(twice) == format_graph(once)


def test_describe_fusion_lists_kernels():
    text = describe_fusion(fuse(pg.matmul_bias_relu()))
    assert "mlp_k0 [matmul+epilogue]" in text
    assert "matmul@model.py:1" in text and "f32[5,7]" in text


def test_fuse_keeps_locations():
    (k,) = kernels(fuse(pg.softmax()))
    assert k.loc == "/src/model.py:1"
    assert [n.loc for n in k.attrs["region"].nodes] == [f"/src/model.py:{i}" for i in range(1, 6)]


def test_reduction_over_extent_one_axis():
    b = B("unit")
    x = b.add_input(T((3, 1)))
    check_fused(b.finish([b.sum(x, (1,))]))


# ---------------------------------------------------------------------------
# random graphs: fusion must always give legal, correct, acyclic kernel graphs
# ---------------------------------------------------------------------------

_UNARY = ["neg", "exp", "tanh", "abs", "sin"]
_BINARY = ["add", "sub", "mul", "maximum", "div"]


def random_graph(seed, n_ops=14):
    rng = np.random.default_rng(seed)
    b = B(f"rand{seed}")
    pool = [b.add_input(T((3, 4))), b.add_input(T((4,))), b.add_input(T((3, 1))), b.add_input(T((4, 3)))]
    for _ in range(n_ops):
        kind = rng.choice(["u", "b", "b", "r", "t", "c", "m", "rs"])
        x = pool[rng.integers(len(pool))]
        y = pool[rng.integers(len(pool))]
        try:
            if kind == "u":
                v = b.op(str(rng.choice(_UNARY)), x)
            elif kind == "b":
                v = b.op(str(rng.choice(_BINARY)), x, y)
            elif kind == "r" and x.type.rank == 2:
                op = str(rng.choice(["reduce_sum", "reduce_max"]))
                axis = int(rng.integers(2))
                if x.type.shape[axis] == 1:
                    continue            # see test_reduction_over_extent_one_axis
                v = b.op(op, x, axes=(axis,), keepdims=bool(rng.integers(2)))
            elif kind == "t" and x.type.rank == 2:
                v = b.op("transpose", x, perm=(1, 0))
            elif kind == "c":
                v = b.op("mul", x, b.const(float(rng.uniform(-2, 2))))
            elif kind == "m" and x.type.rank == 2 and y.type.rank == 2:
                v = b.op("matmul", x, y)
            elif kind == "rs" and x.type.rank == 2:
                v = b.op("reshape", x, shape=(x.type.size,))
            else:
                continue
        except (ValueError, TypeError):   # make_node raised before appending
            continue
        pool.append(v)
    outs = pool[4:][-3:] or pool[:1]
    return b.finish(outs)


@pytest.mark.parametrize("seed", range(40))
def test_random_graphs(seed):
    check_fused(random_graph(seed), seed)


def _norm_tanh_chain(blocks):
    """`blocks` times: layernorm-style rows, then tanh (each block's reductions read the
    previous block's tanh in every pass over the row)."""
    from tracejit.tracer import trace
    from tracejit.ir import TensorType

    def chain(x):
        for _ in range(blocks):
            mean = x.mean(-1, keepdims=True)
            x = np.tanh((x - mean) / np.sqrt(x.var(-1, keepdims=True) + 1e-5))
        return x
    return trace(chain, (TensorType((6, 32), np.float32),), {}).graph


def _evaluations(fused, op):
    """How many statements computing `op` the kernels' loop nests hold, in all."""
    from tracejit.ir.nest import Compute
    total = 0
    for kernel in kernels(fused):
        nest = lower_region(kernel.attrs["region"])
        total += sum(isinstance(s, Compute) and s.op.name == op for s in nest.statements())
    return total


def test_expensive_work_grows_linearly_with_the_number_of_blocks():
    """Inlining every block into one kernel would evaluate block k's tanh in every later
    pass over the row (n^2 tanh per element); fusion materializes it instead and the
    kernel's reason says so."""
    counts = {}
    for n in (1, 2, 4, 8):
        graph = _norm_tanh_chain(n)
        fused = check_fused(graph)
        counts[n] = _evaluations(fused, "tanh")
        assert counts[n] <= 2 * n, counts
    assert counts[8] - counts[4] <= 2 * (counts[4] - counts[2]) + 2      # no quadratic growth
    text = describe_fusion(fuse(_norm_tanh_chain(3)))
    assert "reason: starts a new kernel instead of joining its producer's: tanh at" in text
    assert "would be computed in 3 passes over each row" in text


def test_softmax_keeps_its_exp_in_two_passes():
    """The sum's pass and the output's pass may both evaluate exp: one kernel."""
    fused = check_fused(pg.softmax())
    assert len(kernels(fused)) == 1 and _evaluations(fused, "exp") == 2
