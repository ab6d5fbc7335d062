"""Generated Triton kernels compile with Triton's real compiler for Hopper (sm_90),
without a GPU: this catches code the interpreter accepts but the compiler rejects.
The compile runs in a subprocess without TRITON_INTERPRET (kernels imported in
interpreter mode cannot be compiled)."""
from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import triton_support as ts  # noqa: E402  (sets TRITON_INTERPRET=1 first)

import numpy as np  # noqa: E402
import pytest  # noqa: E402

import graphs  # noqa: E402
from tracejit.ir import GraphBuilder, TensorType  # noqa: E402


def _hopper_available():
    try:
        from triton.backends.compiler import GPUTarget  # noqa: F401
        from triton.compiler import ASTSource  # noqa: F401
        import triton.backends.nvidia  # noqa: F401
    except Exception as exc:  # pragma: no cover - depends on the installed triton
        return f"triton.compile for a GPUTarget is unavailable here: {exc!r}"
    return None


def _gather_graph():
    b = GraphBuilder("gather")
    x = b.add_input(TensorType((5, 6), np.float32))
    i = b.add_input(TensorType((4,), np.int64))
    return b.finish([b.emit("take", [x, i], {"axis": 1})])


def _bias_graph():
    """2-D pointwise with a broadcast operand: CONTIG must keep the bias's own index."""
    b = GraphBuilder("bias")
    x = b.add_input(TensorType((5, 6), np.float32))
    w = b.add_input(TensorType((6,), np.float32))
    return b.finish([b.emit("tanh", [b.emit("add", [x, w])])])


def test_generated_kernels_compile_for_hopper():
    """Every constexpr variant the launcher picks (int32/int64 index math, flat or
    decomposed offsets, one-pass or looping rows, 2-16 warps) compiles."""
    reason = _hopper_available()
    if reason:
        pytest.skip(reason)
    from tracejit.codegen.triton_aot import compile_in_subprocess
    jobs = []
    pw32 = {"IDX64": 0, "int_type": "i32"}
    for graph, blocks in [
        (graphs.unary_graph(graphs.FLOAT_UNARY, np.float32, 8), {"BLOCK": 1024, "IDX64": 1, "CONTIG": 0}),
        (graphs.unary_graph(graphs.FLOAT_UNARY, np.float32, 8), {"BLOCK": 2048, **pw32, "CONTIG": 0, "num_warps": 8}),
        (graphs.binary_graph(graphs.FLOAT_BINARY, np.float64, 8), {"BLOCK": 256, "IDX64": 1, "CONTIG": 0}),
        (_bias_graph(), {"BLOCK": 1024, **pw32, "CONTIG": 1}),
        (_bias_graph(), {"BLOCK": 1024, "IDX64": 1, "CONTIG": 0}),
        (graphs.reductions_graph((6, 37), np.float32, (1,)), {"RBLOCK": 512, "SINGLE_PASS": 0}),
        (graphs.reductions_graph((6, 37), np.float32, (1,)), {"RBLOCK": 64, "SINGLE_PASS": 1, "num_warps": 2}),
        (graphs.softmax_layernorm((7, 300)), {"RBLOCK": 1024, "SINGLE_PASS": 0}),
        (graphs.softmax_layernorm((7, 300)), {"RBLOCK": 4096, "SINGLE_PASS": 1, "num_warps": 16,
                                            "int_type": "i32"}),
        (graphs.linear_relu(33, 17, 40, np.float32), {"BLOCK_M": 64, "BLOCK_N": 64, "BLOCK_K": 32}),
        (graphs.linear_relu(33, 17, 40, np.float64), {"BLOCK_M": 32, "BLOCK_N": 32, "BLOCK_K": 8}),
        (graphs.linear_relu(33, 17, 40, np.float32), {"BLOCK_M": 64, "BLOCK_N": 64, "BLOCK_K": 32,
                                                   "options": {"input_precision": "fp16"}}),
        (_gather_graph(), {"BLOCK": 1024, **pw32, "CONTIG": 1}),
        # online (merged) reductions of long rows: softmax and layernorm patterns
        (graphs.rows_graph("softmax", (6, 77)), {"RBLOCK": 16, "SINGLE_PASS": 0}),
        (graphs.rows_graph("layernorm", (6, 77)), {"RBLOCK": 16, "SINGLE_PASS": 0}),
        # scans: one block (associative_scan) and carried from block to block
        (graphs.scans((6, 37), np.float32, 1), {"RBLOCK": 64, "SINGLE_PASS": 1}),
        (graphs.scans((6, 37), np.int32, 0), {"RBLOCK": 16, "SINGLE_PASS": 0}),
        (graphs.reductions_graph((6, 37), np.bool_, (1,)), {"RBLOCK": 16, "SINGLE_PASS": 0}),
    ]:
        options = blocks.pop("options", None)
        _, kernel = ts.compile_region(graph, options) if options else ts.compile_region(graph)
        jobs.append((kernel, blocks))
    results = compile_in_subprocess(jobs)
    for (kernel, _), result in zip(jobs, results):
        assert result["ok"], f"{kernel.name} ({kernel.path}): {result.get('error')}"
        assert result["cubin"] > 0


def test_matmul_k_loop_is_software_pipelined_for_hopper():
    """The K loop is a `for` over range(), which Triton pipelines: with num_stages > 1
    the float32 tile loads become asynchronous copies (cp.async) in the sm_90 PTX. A
    `while` loop (the earlier form) is never pipelined and has none, whatever
    num_stages says."""
    reason = _hopper_available()
    if reason:
        pytest.skip(reason)
    from tracejit.codegen.triton_aot import compile_in_subprocess
    _, kernel = ts.compile_region(graphs.linear_relu(256, 256, 256, np.float32))
    tile = {"BLOCK_M": 128, "BLOCK_N": 128, "BLOCK_K": 32, "num_warps": 8}
    pipelined, single = compile_in_subprocess([(kernel, {**tile, "num_stages": 3}),
                                               (kernel, {**tile, "num_stages": 1})])
    assert pipelined["ok"] and single["ok"], (pipelined, single)
    assert pipelined["async_copies"] > 0
    assert single["async_copies"] == 0
