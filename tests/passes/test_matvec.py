"""The matvec pass (passes/matvec.py): elementwise ops after ``x @ vector`` are
computed in the product's shape, so they become the matmul's epilogue; results are
bit-identical (reference interpreter) and compiled ones match NumPy; and the Numba
kernel of such an epilogue has no loop over the unit axis (which kept LLVM from
vectorizing it)."""
import numpy as np
import pytest

import tracejit
from tracejit.ir import TensorType, run_graph
from tracejit.passes.matvec import compute_in_product_shape
from tracejit.passes.pipeline import final_graph, optimize
from tracejit.tracer import trace


def _graphs(fn, *shapes, dtype=np.float64):
    graph = trace(fn, tuple(TensorType(s, np.dtype(dtype)) for s in shapes), {}).graph
    return graph, compute_in_product_shape(graph)


def _kernels(fn, *shapes):
    graph = final_graph(optimize(trace(fn, tuple(TensorType(s, np.dtype(np.float64)) for s in shapes), {}).graph))
    return [node for node in graph.nodes if node.op.name == "kernel"]


def _bit_identical(before, after, shapes, seed=0):
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal(s) for s in shapes]
    arrays[0].flat[::5] = np.nan
    for a, e in zip(run_graph(after, arrays), run_graph(before, arrays)):
        assert a.dtype == e.dtype and a.shape == e.shape
        np.testing.assert_array_equal(a, e)


def logistic_step(w, x, y):
    p = 1 / (1 + np.exp(-(x @ w)))
    return w - 0.5 * (x.T @ (p - y)) / len(y)


def test_the_ops_after_a_matrix_vector_product_run_in_its_shape():
    before, after = _graphs(lambda x, w, y: np.exp(x @ w) - y, (6, 4), (4,), (6,))
    sub = next(n for n in after.nodes if n.op.name == "sub")
    assert sub.output.type.shape == (6, 1)
    assert after.outputs[0].type.shape == (6,) and after.outputs[0].producer.op.name == "reshape"
    _bit_identical(before, after, [(6, 4), (4,), (6,)])


def test_a_logistic_regression_step_is_two_kernels_with_fused_epilogues():
    kernels = _kernels(logistic_step, (32,), (50, 32), (50,))
    assert len(kernels) == 2
    for kernel in kernels:
        ops = [n.op.name for n in kernel.attrs["region"].nodes]
        assert ops[0] == "matmul" and "sub" in ops
    before, after = _graphs(logistic_step, (32,), (50, 32), (50,))
    _bit_identical(before, after, [(32,), (50, 32), (50,)])


def test_what_broadcasts_past_the_product_or_is_no_product_is_left_alone():
    before, after = _graphs(lambda x, w, z: (x @ w)[:, None] * z + np.exp(w).sum(), (6, 4), (4,), (6, 3))
    assert all(n.output.type.shape != (6, 1, 3) for n in after.nodes)
    _bit_identical(before, after, [(6, 4), (4,), (6, 3)])
    _, untouched = _graphs(lambda a, b: np.exp(a.reshape(6)) + b, (6, 1), (6,))
    assert [n.op.name for n in untouched.nodes] == ["reshape", "exp", "add"]


@pytest.mark.parametrize("backend", ["numba", "interpret"])
def test_compiled_products_with_epilogues_match_numpy(backend):
    rng = np.random.default_rng(1)
    cases = [
        (logistic_step, (rng.standard_normal(16), rng.standard_normal((300, 16)), rng.random(300))),
        (lambda v, a: np.tanh(v @ a) * 2.0 + v.sum(), (rng.standard_normal(16), rng.standard_normal((16, 9)))),
        (lambda a, v: np.maximum(a @ v, 0.0).astype(np.float32), (rng.standard_normal((4, 7, 5)),
                                                                    rng.standard_normal(5))),
    ]
    for fn, args in cases:
        got, want = tracejit.compile(fn, backend=backend)(*args), fn(*args)
        assert got.dtype == want.dtype and got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_a_numba_epilogue_has_no_loop_over_the_unit_axis():
    from tracejit.codegen import numba_dialect
    from tracejit.ir.loopnest import lower_region
    (kernel,) = _kernels(lambda x, w: np.exp(x @ w), (300, 8), (8,))
    region = kernel.attrs["region"]
    text = numba_dialect.generate_source(lower_region(region), str(region))[0]
    assert "range(1)" not in text and "i1 = 0" in text


def test_a_vector_that_is_both_operand_and_epilogue_input_compiles():
    """``w - lr * (g @ w - c)``: after this pass w's column view feeds both the product
    and the epilogue; fusion used to pull that view into the region behind the
    product, and the kernel's operands no longer matched its region (a fallback)."""
    kernels = _kernels(lambda w, g, c: w - 0.1 * (g @ w - c), (8,), (8, 8), (8,))
    assert len(kernels) == 1 and kernels[0].attrs["region"].nodes[0].op.name == "matmul"
    rng = np.random.default_rng(4)
    w, g, c = rng.standard_normal(8), rng.standard_normal((8, 8)), rng.standard_normal(8)
    f = tracejit.compile(lambda w, g, c, lr: w - lr * (g @ w - c), fullgraph=True)
    for lr in (0.1, 0.01):
        np.testing.assert_allclose(f(w, g, c, lr), w - lr * (g @ w - c), rtol=1e-13, atol=1e-14)
