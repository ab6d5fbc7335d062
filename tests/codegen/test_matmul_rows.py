"""Matmul kernels that reduce rows of the product (CallFacts.matmul_rows, Numba only):
a residual + layernorm or a causal softmax after a matmul is one kernel, matches
NumPy, and keeps the causal product shortcut only where every row reduction reads
masked values."""
from __future__ import annotations

import numpy as np

import tracejit
import tracejit.codegen.numba_backend as nb
from tracejit.passes.fusion import fuse
from tracejit.passes.pipeline import CallFacts
from tracejit.tracer.trace import trace
from tracejit.ir import TensorType


def _softmax(x):
    e = np.exp(x - np.max(x, axis=-1, keepdims=True))
    return e / np.sum(e, axis=-1, keepdims=True)


def resid_layernorm(x, w, r):
    h = r + x @ w
    mu = h.mean(-1, keepdims=True)
    return (h - mu) / np.sqrt(((h - mu) ** 2).mean(-1, keepdims=True) + 1e-5), h


def masked_softmax_and_sum(q, k):
    s = q @ k.swapaxes(-1, -2)
    T = s.shape[-1]
    m = np.where(np.tril(np.ones((T, T), dtype=bool)), s, -np.inf)
    return _softmax(m), s.sum(-1)


def _offsets(f, *args):
    """The causal offset of each kernel of f's plan (kernels are shared by code, so an
    earlier test's function of the same code may own them: found by path)."""
    paths = {str(k.path) for k in tracejit.explain(f, *args).kernels}
    return [k.causal_offset for k in nb._KERNELS.values() if str(k.path) in paths]


def test_residual_layernorm_after_a_matmul_is_one_kernel():
    rng = np.random.default_rng(0)
    x, w, r = (rng.standard_normal(s, dtype=np.float32) for s in ((33, 20), (20, 24), (33, 24)))
    f = tracejit.compile(resid_layernorm)
    for _ in range(2):
        got = f(x, w, r)
    want = resid_layernorm(x, w, r)
    for g, e in zip(got, want):
        assert g.dtype == e.dtype and g.shape == e.shape
        np.testing.assert_allclose(g, e, rtol=2e-5, atol=2e-5)
    assert len(tracejit.explain(f, x, w, r).kernels) == 1


def test_an_unmasked_row_sum_keeps_the_whole_product():
    rng = np.random.default_rng(1)
    q, k = (rng.standard_normal((2, 40, 8), dtype=np.float32) for _ in range(2))
    k[1, 39, 0] = np.inf
    f = tracejit.compile(masked_softmax_and_sum)
    with np.errstate(all="ignore"):
        got, want = f(q, k), masked_softmax_and_sum(q, k)
    for g, e in zip(got, want):
        np.testing.assert_allclose(g, e, rtol=2e-5, atol=2e-5)
    assert _offsets(f, q, k) == [None]


def test_without_the_capability_a_matmul_kernel_reduces_nothing():
    types = (TensorType((4, 6), np.dtype("float32")), TensorType((6, 5), np.dtype("float32")),
             TensorType((4, 5), np.dtype("float32")))
    graph = trace(resid_layernorm, types, {}).graph
    kernels = [n for n in fuse(graph).nodes if n.op.name == "kernel"]
    facts = CallFacts(frozenset(), frozenset(), matmul_rows=True)
    fused = [n for n in fuse(graph, facts).nodes if n.op.name == "kernel"]
    assert len(kernels) == 2 and len(fused) == 1


def causal_attention(q, k, v):
    T = q.shape[-2]
    s = (q @ k.swapaxes(-1, -2)) * 0.25
    s = np.where(np.tril(np.ones((T, T), dtype=bool)), s, -np.inf)
    return _softmax(s) @ v


def test_causal_scores_and_softmax_are_one_kernel_that_multiplies_half():
    rng = np.random.default_rng(2)
    q, k, v = (rng.standard_normal((2, 70, 8), dtype=np.float32) for _ in range(3))
    f = tracejit.compile(causal_attention)
    for _ in range(2):
        got = f(q, k, v)
    np.testing.assert_allclose(got, causal_attention(q, k, v), rtol=2e-5, atol=2e-6)
    assert len(tracejit.explain(f, q, k, v).kernels) == 2
    assert sorted(_offsets(f, q, k, v), key=str) == [0, None]   # scores+softmax, then weights @ v


def rolled_loop(x, w):
    for t in range(40):                  # rolled into one loop node: matmul, then a row softmax
        x = _softmax(x @ w[t % 4]) * 1.5
    return x


def test_a_loop_body_fuses_as_the_top_level_does():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((6, 8), dtype=np.float32)
    ws = rng.standard_normal((4, 8, 8), dtype=np.float32)
    f = tracejit.compile(rolled_loop)
    for _ in range(2):
        got = f(x, ws)
    np.testing.assert_allclose(got, rolled_loop(x, ws), rtol=2e-5, atol=2e-6)
    report = tracejit.explain(f, x, ws)
    assert " loop " in str(report.graph)
    with_matmul = [k for k in report.kernels if "= matmul" in k.source]
    assert len(with_matmul) == 1 and "reduce_max" in with_matmul[0].source
