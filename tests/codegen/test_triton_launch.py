"""Triton backend launch variants (interpreter) against run_graph: one-pass rows vs
looping rows, load reuse across phases, flat offsets for contiguous buffers (CONTIG),
int32 vs int64 index math (IDX64), and the per-(sizes, strides) launch-layout cache."""
from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import triton_support as ts  # noqa: E402  (sets TRITON_INTERPRET=1 first)

import numpy as np  # noqa: E402
import pytest  # noqa: E402

import graphs  # noqa: E402
from tracejit.ir import GraphBuilder, TensorType, run_graph  # noqa: E402
from tracejit.ir.loopnest import lower_region  # noqa: E402


def _layouts(kernel):
    """The constexpr choices of every launch so far."""
    return [blocks for _, blocks, _ in kernel._layouts.values()]


@pytest.mark.parametrize("single", [0, 1])
@pytest.mark.parametrize("shape", [(7, 300), (4, 5, 33)])
def test_softmax_layernorm_one_pass_and_looping_rows(shape, single):
    rng = np.random.default_rng(0)
    x = (rng.normal(size=shape) * 4).astype(np.float32)
    w = rng.normal(size=shape[-1:]).astype(np.float32)
    options = {"RBLOCK": 512, "SINGLE_PASS": single}
    kernel = ts.check_region(graphs.softmax_layernorm(shape), [x, w], options, rtol=2e-5, atol=1e-6)
    assert "if SINGLE_PASS:" in kernel.source
    assert [b["SINGLE_PASS"] for b in _layouts(kernel)] == [single]


def test_one_pass_chosen_when_row_fits_and_loads_reused():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(6, 40)).astype(np.float32)
    w = rng.normal(size=(40,)).astype(np.float32)
    kernel = ts.check_region(graphs.softmax_layernorm((6, 40)), [x, w], rtol=2e-5, atol=1e-6)
    assert _layouts(kernel)[0]["SINGLE_PASS"] == 1
    one_pass = kernel.source.split("if SINGLE_PASS:")[1].split("    else:")[0]
    # x is read from memory once per row in the one-pass branch, however many phases use it
    assert one_pass.count("tl.load(in0_ptr") == 1


def _transposed_reads():
    """Phases and epilogue read the same square input at (i, j) and at (j, i): the load
    cache must keep them apart (it is keyed by buffer and offset text)."""
    b = GraphBuilder("tread")
    x = b.add_input(TensorType((9, 9), np.float32))
    y = b.add_input(TensorType((9, 9), np.float32))
    ax = {"axes": (1,), "keepdims": True}
    xt = b.emit("transpose", [x], {"perm": (1, 0)})
    s = b.emit("reduce_sum", [b.emit("mul", [x, y])], ax)
    m = b.emit("reduce_max", [b.emit("sub", [xt, s])], ax)
    out = b.emit("add", [b.emit("sub", [x, m]), b.emit("mul", [xt, y])])
    return b.finish([out, b.emit("argmax", [xt], {"axes": (1,), "keepdims": False})])


@pytest.mark.parametrize("single", [0, 1])
def test_loads_at_different_indices_of_one_buffer(single):
    rng = np.random.default_rng(2)
    x, y = (rng.normal(size=(9, 9)).astype(np.float32) for _ in range(2))
    ts.check_region(_transposed_reads(), [x, y], {"RBLOCK": 16, "SINGLE_PASS": single}, rtol=1e-5, atol=1e-6)


def _run(kernel, nest, graph, arrays, outputs=None):
    want = run_graph(graph, arrays)
    if outputs is None:
        outputs = [np.full(e.shape, 77, e.dtype) for e in want]
    kernel(list(arrays), outputs, nest.sizes)
    for i, (g, e) in enumerate(zip(outputs, want)):
        ts.assert_same(np.asarray(g), e, rtol=1e-6, what=f"output {i}")


def test_flat_offsets_only_for_contiguous_buffers():
    rng = np.random.default_rng(3)
    graph = graphs.bias_tanh((6, 10))
    nest, kernel = ts.compile_region(graph)
    assert "if CONTIG:" in kernel.source
    w = rng.normal(size=10).astype(np.float32)
    x = rng.normal(size=(6, 10)).astype(np.float32)
    _run(kernel, nest, graph, [x, w])
    xt = np.ascontiguousarray(rng.normal(size=(10, 6)).astype(np.float32)).T     # same shape, strided
    _run(kernel, nest, graph, [xt, w])
    big = np.zeros((6, 20), np.float32)
    outs = [big[:, ::2], np.full((6, 10), 77, np.float32)]                          # strided output
    _run(kernel, nest, graph, [x, w], outs)
    assert [b["CONTIG"] for b in _layouts(kernel)] == [1, 0, 0]
    assert all(b["IDX64"] == 0 for b in _layouts(kernel))


@pytest.mark.parametrize("idx64", [0, 1])
@pytest.mark.parametrize("contig", [0, 1])
def test_pinned_index_width_and_flat_offsets(idx64, contig):
    rng = np.random.default_rng(4)
    x = rng.normal(size=(3, 5, 7)).astype(np.float32)
    w = rng.normal(size=(7,)).astype(np.float32)
    ts.check_region(graphs.bias_tanh((3, 5, 7)), [x, w], {"IDX64": idx64, "CONTIG": contig, "BLOCK": 32})


def test_identity_index_into_a_larger_buffer_is_not_flat():
    """x[:, :5] reads x at (i0, i1) but x is wider than the domain: no flat offsets."""
    rng = np.random.default_rng(5)
    b = GraphBuilder("prefix")
    x = b.add_input(TensorType((4, 10), np.float32))
    s = b.emit("slice", [x], {"starts": (0, 0), "steps": (1, 1), "shape": (4, 5)})
    graph = b.finish([b.emit("exp", [s])])
    kernel = ts.check_region(graph, [rng.normal(size=(4, 10)).astype(np.float32)], rtol=1e-6)
    assert all(blocks["CONTIG"] == 0 for blocks in _layouts(kernel))


def test_layout_cache_keyed_by_sizes_and_strides():
    """One kernel serves two shapes of one structure; each gets its own layout."""
    rng = np.random.default_rng(6)
    g1, g2 = graphs.bias_tanh((6, 10)), graphs.bias_tanh((3, 12))
    from tracejit.codegen.triton_backend import compile_kernel
    n1, n2 = lower_region(g1), lower_region(g2)
    k1, k2 = compile_kernel(n1, ts.cache_dir()), compile_kernel(n2, ts.cache_dir())
    assert k1 is k2
    before = set(k1._layouts)     # the kernel may be shared with earlier tests' regions
    for graph, nest, shape in ((g1, n1, (6, 10)), (g2, n2, (3, 12)), (g1, n1, (6, 10))):
        x = rng.normal(size=shape).astype(np.float32)
        w = rng.normal(size=shape[-1:]).astype(np.float32)
        _run(k1, nest, graph, [x, w])
    added = set(k1._layouts) - before
    assert len(added) <= 2 and {key[0] for key in k1._layouts} >= {(6, 10), (3, 12)}


def test_gpu_config_tables():
    from tracejit.codegen.triton_backend import pointwise_config, row_config
    assert row_config(4096, False) == (4096, 8)
    assert row_config(8192, False) == (8192, 16)
    assert row_config(100, False)[0] == 128
    assert row_config(100000, False)[0] < 100000          # long rows loop
    block, warps = pointwise_config(64 * 1024 * 1024, False)
    assert 1024 <= block <= 4096 and 4 <= warps <= 8
    assert pointwise_config(10, True)[0] == 16
    lower_region(graphs.bias_tanh((2, 3)))                    # the helper graph lowers


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_small_constant_powers_are_products(dtype):
    """x ** 2, x ** 3, x ** 4 with a constant exponent (GELU's cube) use products:
    same values as NumPy (infinities, NaN, signed zero included), no exp2/log2."""
    x = graphs.special_floats(dtype)
    b = GraphBuilder("powers")
    xv = b.add_input(TensorType(x.shape, dtype))
    outs = []
    for n in (2, 3, 4, 2.5):
        c = b.emit("constant", [], {"value": float(n), "dtype": np.dtype(dtype)})
        outs.append(b.emit("pow", [xv, c]))
    graph = b.finish(outs)
    kernel = ts.check_region(graph, [x], rtol=1e-6 if dtype == np.float32 else 1e-13, atol=1e-300)
    assert kernel.source.count("_tj_pow(") == 1 + kernel.source.count("def _tj_pow(")   # only 2.5


def test_scalar_inputs_given_as_one_element_arrays():
    """Array libraries may turn a 0-d scalar into shape (1,) (np.ascontiguousarray does):
    the kernel still gets one stride argument per buffer dim (none for a scalar)."""
    rng = np.random.default_rng(7)
    b = GraphBuilder("scaled")
    x = b.add_input(TensorType((4, 6), np.float32))
    s = b.add_input(TensorType((), np.float32))
    graph = b.finish([b.emit("mul", [x, s])])
    nest, kernel = ts.compile_region(graph)
    xv = rng.normal(size=(4, 6)).astype(np.float32)
    want = run_graph(graph, [xv, np.asarray(np.float32(2.5))])[0]
    out = np.zeros((4, 6), np.float32)
    kernel([xv, np.ascontiguousarray(np.asarray(np.float32(2.5)))], [out], nest.sizes)
    ts.assert_same(out, want, rtol=0)


@pytest.mark.parametrize("kind", ["softmax", "logsumexp", "layernorm"])
def test_long_rows_merge_dependent_reductions_into_one_loop(kind):
    """Rows longer than a block: max+sum(exp) and mean+variance run as one online loop
    (ir/online.py), so the row is read twice (reduction loop, epilogue loop)."""
    rng = np.random.default_rng(3)
    x = (rng.normal(size=(6, 77)) * 5 + 3).astype(np.float32)
    x[1, 5] = np.nan            # NaN row
    x[2, :] = -np.inf           # all -inf: NaN like the two-pass form
    x[3, 10] = np.inf           # one +inf
    x[4, 7:9] = np.inf          # two +inf
    kernel = ts.check_region(graphs.rows_graph(kind, x.shape), [x], {"RBLOCK": 16, "SINGLE_PASS": 0},
                             rtol=2e-5, atol=2e-6)
    looped = kernel.source.split("if SINGLE_PASS:")[1].split("\n    else:")[1]
    assert looped.count("while r0 < R:") == (1 if kind == "logsumexp" else 2)
    assert ("_tj_exp(" in looped) == (kind != "layernorm")


def test_expm1_near_overflow_and_batch_one_matmul_epilogue():
    import tracejit
    x = np.array([88.7, 88.72, 50.0, 2.0, 1.0, 1e-3, -1e-7, -5.0, -100.0, 0.0, np.inf, -np.inf, np.nan],
                 np.float32)
    got = tracejit.compile(np.expm1, backend="triton", fullgraph=True)(x)
    ts.assert_same(got, np.expm1(x), 4e-7, 0.0, what="expm1")
    rng = np.random.default_rng(9)
    q = rng.standard_normal((1, 2, 5, 4)).astype(np.float32)
    k = rng.standard_normal((1, 2, 4, 5)).astype(np.float32)

    def scores(q, k):
        return (q @ k) * 0.5 + 1.0
    got = tracejit.compile(scores, backend="triton", fullgraph=True)(q, k)
    ts.assert_same(got, scores(q, k), 1e-5, 1e-6, what="batch-1 matmul epilogue")


def test_out_of_range_gather_indices_raise_like_numpy():
    import tracejit
    table = np.arange(30.0).reshape(10, 3)
    rows = tracejit.compile(lambda t, ids: t[ids] * 2, backend="triton")
    np.testing.assert_array_equal(rows(table, np.array([0, -1, 9])), table[[0, -1, 9]] * 2)
    with pytest.raises(IndexError, match="out of bounds"):
        rows(table, np.array([0, 10]))
    along = tracejit.compile(lambda x, i: np.take_along_axis(x, i, axis=1), backend="triton")
    with pytest.raises(IndexError, match="out of bounds"):
        along(table, np.full((10, 1), 3))
