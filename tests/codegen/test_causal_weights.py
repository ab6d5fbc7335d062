"""Causal weights (tracejit/passes/causal_weights.py, blas_threads.zero_tail_matmul):
``softmax(where(tril, s, -inf)) @ v`` is computed over the columns each row of the
weights can have nonzero, when v is finite; the result is NumPy's, NaN rows included;
other weights are multiplied whole."""
from __future__ import annotations

import numpy as np
import pytest

import tracejit
from tests.codegen.test_causal_matmul import _softmax, causal
from tracejit.codegen import blas_threads
from tracejit.passes.causal_weights import zero_past_diagonal
from tracejit.tracer import trace
from tracejit.ir import TensorType

F32 = np.float32


attention = causal          # softmax(where(tril(.., kk), q @ k.T * 0.25, -inf)) @ v


def attention_reciprocal(q, k, v):
    T = q.shape[-2]
    x = np.where(np.tril(np.ones((T, T), dtype=bool)), q @ k.swapaxes(-1, -2), -np.inf)
    e = np.exp(x - x.max(-1, keepdims=True))
    return (e * (1.0 / e.sum(-1, keepdims=True))) @ v


def upper(q, k, v):
    T = q.shape[-2]
    return _softmax(np.where(np.triu(np.ones((T, T), dtype=bool)), q @ k.swapaxes(-1, -2), -np.inf)) @ v


def big_negative(q, k, v):
    T = q.shape[-2]
    return _softmax(np.where(np.tril(np.ones((T, T), dtype=bool)), q @ k.swapaxes(-1, -2), F32(-1e9))) @ v


def kernel_sources(f):
    return "\n".join(s.kernel.source for s in f.specializations()[-1].plan.steps if hasattr(s, "kernel"))


def _qkv(T, seed=0, heads=2, d=16):
    rng = np.random.default_rng(seed)
    return tuple(rng.standard_normal((heads, T, d)).astype(F32) for _ in range(3))


@pytest.mark.parametrize("T", [257, 300, 640])
@pytest.mark.parametrize("kk", [0, 3])
def test_causal_attention_as_numpy(T, kk):
    q, k, v = _qkv(T)
    f = tracejit.compile(attention, static_argnames=("kk",), fullgraph=True)
    np.testing.assert_allclose(f(q, k, v, kk=kk), attention(q, k, v, kk), rtol=2e-5, atol=2e-6)
    assert f"rows are 0 past column row + {kk}" in kernel_sources(f)


def test_a_reciprocal_sum_is_proved_too():
    q, k, v = _qkv(300, seed=3)
    f = tracejit.compile(attention_reciprocal, fullgraph=True)
    np.testing.assert_allclose(f(q, k, v), attention_reciprocal(q, k, v), rtol=2e-5, atol=2e-6)
    assert "rows are 0 past column row + 0" in kernel_sources(f)


def test_non_finite_values_give_numpys_nan_rows():
    q, k, v = _qkv(300, seed=1)
    f = tracejit.compile(attention, fullgraph=True)
    v_bad = v.copy()
    v_bad[0, 299, 3] = np.inf                   # past every row's diagonal but the last one's
    got, want = f(q, k, v_bad), attention(q, k, v_bad)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    assert np.isnan(got[0, :299, 3]).all()      # 0 * inf: NaN in every row, as NumPy
    q_bad = q.copy()
    q_bad[1, 5, :] = np.nan                     # a NaN score row
    k_bad = k.copy()
    k_bad[1, 0, :] = -np.inf                    # row 0's only kept score is +-inf
    for args in ((q_bad, k, v), (q, k_bad, v)):
        got, want = f(*args), attention(*args)
        np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
        np.testing.assert_allclose(got, want, rtol=2e-5, atol=2e-6, equal_nan=True)


def test_what_is_not_proved_is_multiplied_whole():
    q, k, v = _qkv(300, seed=2)
    for fn in (upper, big_negative):
        f = tracejit.compile(fn, fullgraph=True)
        np.testing.assert_allclose(f(q, k, v), fn(q, k, v), rtol=2e-5, atol=2e-6)
        assert "rows are 0 past column" not in kernel_sources(f)
    g = tracejit.compile(attention, static_argnames=("kk",), fullgraph=True)
    np.testing.assert_allclose(g(q, k, v, kk=-1), attention(q, k, v, -1), rtol=2e-5, atol=2e-6, equal_nan=True)
    assert "rows are 0 past column" not in kernel_sources(g)     # row 0 keeps nothing: its NaN must stay


def test_the_proof_on_graphs():
    t = TensorType((2, 64, 64), np.dtype(F32))
    tr = trace(lambda s: _softmax(np.where(np.tril(np.ones((64, 64), dtype=bool), 2), s, -np.inf)), (t,), {})
    assert zero_past_diagonal(tr.graph.outputs[0]) == 2
    tr = trace(lambda s: _softmax(np.where(np.tril(np.ones((64, 64), dtype=bool)), s, -np.inf)[..., ::-1]), (t,), {})
    assert zero_past_diagonal(tr.graph.outputs[0]) is None       # reversed columns: not a row's tail
    tr = trace(lambda s: _softmax(np.where(np.tril(np.ones((64, 64), dtype=bool)).T, s, -np.inf)), (t,), {})
    assert zero_past_diagonal(tr.graph.outputs[0]) is None       # triu


@pytest.mark.parametrize("offset", [0, 1, 5, 200])
def test_zero_tail_matmul_itself(offset):
    rng = np.random.default_rng(offset)
    a = rng.standard_normal((3, 300, 300)).astype(F32)
    a = np.where(np.tril(np.ones((300, 300), dtype=bool), offset), a, 0)
    b = rng.standard_normal((3, 300, 24)).astype(F32)
    out = np.empty((3, 300, 24), F32)
    for threads in (1, 2, 3):
        out[:] = np.nan
        blas_threads.zero_tail_matmul(a, b, out, offset, lambda fn, *args: _Done(fn(*args)), threads)
        np.testing.assert_allclose(out, a.astype(np.float64) @ b.astype(np.float64), rtol=1e-4, atol=1e-4)


class _Done:
    def __init__(self, value):
        self.value = value

    def exception(self):
        return None
