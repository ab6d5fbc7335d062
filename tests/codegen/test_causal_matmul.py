"""Causal products (tracejit/ir/masked_product.py, blas_threads.causal_matmul): a
matmul whose epilogue uses its product only where column <= row + c is computed only
there, in row blocks; everything the kernel stores stays NumPy's result. The analysis
finds c for np.tril masks written as NumPy code (any k, `where(mask, s, -inf)`), and
refuses masks it cannot prove (np.triu, a mask argument, a product also used outside
the where, a product inside the condition)."""
from __future__ import annotations

import numpy as np
import pytest

import tracejit
from tracejit.codegen import blas_threads


def _softmax(x):
    e = np.exp(x - np.max(x, axis=-1, keepdims=True))
    return e / np.sum(e, axis=-1, keepdims=True)


def causal(q, k, v, kk=0):
    T = q.shape[-2]
    s = (q @ k.swapaxes(-1, -2)) * 0.25
    s = np.where(np.tril(np.ones((T, T), dtype=bool), kk), s, -np.inf)
    return _softmax(s) @ v


def causal_scores(q, k):
    T = q.shape[-2]
    return np.where(np.tril(np.ones((T, T), dtype=bool)), q @ k.swapaxes(-1, -2), np.float32(-1e9))


def upper(q, k):
    T = q.shape[-2]
    return np.where(np.triu(np.ones((T, T), dtype=bool)), q @ k.swapaxes(-1, -2), 0.0)


def given_mask(q, k, mask):
    return np.where(mask, q @ k.swapaxes(-1, -2), -np.inf)


def also_raw(q, k):
    T = q.shape[-2]
    raw = q @ k.swapaxes(-1, -2)
    return np.where(np.tril(np.ones((T, T), dtype=bool)), raw, -np.inf) + raw


def product_in_condition(q, k):
    T = q.shape[-2]
    raw = q @ k.swapaxes(-1, -2)
    return np.where(np.tril(np.ones((T, T), dtype=bool)) & (raw > 0), raw, 0.0)


def offsets(f):
    kernels = [s.kernel for s in f.specializations()[-1].plan.steps if hasattr(s, "kernel")]
    return [k.causal_offset for k in kernels if getattr(k, "matmul", None) is not None]


def data(rng, *shape):
    return rng.standard_normal(shape).astype(np.float32)


@pytest.mark.parametrize("T", [2, 127, 129, 300])
@pytest.mark.parametrize("kk", [-1, 0, 5])
def test_causal_attention_matches_numpy(rng, T, kk):
    q, k, v = data(rng, 3, T, 16), data(rng, 3, T, 16), data(rng, 3, T, 16)
    f = tracejit.compile(causal, static_argnames=("kk",))
    got = f(q, k, v, kk=kk)
    with np.errstate(invalid="ignore"):
        want = causal(q, k, v, kk)
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5, equal_nan=True)
    assert offsets(f)[0] == kk                      # the scores' matmul: the causal part only
    source = [s.kernel.source for s in f.specializations()[-1].plan.steps if hasattr(s, "kernel")][0]
    assert f"only where column <= row + {kk}" in source


def test_scores_returned_exactly_with_inf_and_nan_inputs(rng):
    """The stored scores are NumPy's below the diagonal, the fill above, call after call
    (the product buffer is reused: what it held stays unread)."""
    f = tracejit.compile(causal_scores)
    for T in (200, 333, 200):
        q, k = data(rng, 2, T, 8), data(rng, 2, T, 8)
        q[0, 5, 3], k[1, 7, 0], k[0, 150, 2] = np.inf, np.nan, -np.inf
        with np.errstate(invalid="ignore"):
            want = causal_scores(q, k)
            got = f(q, k)
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5, equal_nan=True)
        assert offsets(f) == [0]


@pytest.mark.parametrize("fn", [upper, also_raw, product_in_condition])
def test_products_used_elsewhere_are_computed_whole(rng, fn):
    q, k = data(rng, 2, 150, 8), data(rng, 2, 150, 8)
    f = tracejit.compile(fn)
    np.testing.assert_allclose(f(q, k), fn(q, k), rtol=1e-5, atol=1e-5)
    assert all(o is None for o in offsets(f))


def test_a_mask_argument_is_not_trusted(rng):
    q, k = data(rng, 2, 150, 8), data(rng, 2, 150, 8)
    mask = rng.random((150, 150)) < 0.5
    f = tracejit.compile(given_mask)
    np.testing.assert_allclose(f(q, k, mask), given_mask(q, k, mask), rtol=1e-5, atol=1e-5)
    assert all(o is None for o in offsets(f))


@pytest.mark.parametrize("threads", [1, 2, 3])
@pytest.mark.parametrize("offset", [-200, -3, 0, 2, 500])
def test_causal_matmul_fills_exactly_the_needed_part(rng, threads, offset):
    a, b = data(rng, 2, 300, 40), data(rng, 2, 40, 260)
    out = np.full((2, 300, 260), 7.0, np.float32)
    from concurrent.futures import ThreadPoolExecutor
    with ThreadPoolExecutor(2) as pool:
        blas_threads.causal_matmul(a, b, out, offset, pool.submit, threads)
    i, j = np.indices((300, 260))
    needed = j <= i + offset
    full = a @ b
    np.testing.assert_allclose(out[:, needed], full[:, needed], rtol=1e-5, atol=1e-5)
    # beyond: untouched, or the product itself (a block computes up to its last row's need)
    rest = out[:, ~needed]
    assert np.all((rest == 7.0) | np.isclose(rest, full[:, ~needed], rtol=1e-5, atol=1e-5))


def iota_mask(q, k):
    T = q.shape[-2]
    rows, cols = np.arange(T)[:, None], np.arange(T)[None, :]
    s = q @ k.swapaxes(-1, -2)
    return np.where(rows >= cols, s, -np.inf), np.where(cols < rows + 2, s * 2, 0.0)


def test_masks_from_aranges(rng):
    """(Materialized by a kernel of their own, these reach the product's kernel as a bool
    array: the product is computed whole, and the results stay NumPy's.)"""
    q, k = data(rng, 2, 150, 8), data(rng, 2, 150, 8)
    f = tracejit.compile(iota_mask)
    for got, want in zip(f(q, k), iota_mask(q, k)):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def gathered(q, k, table):
    T = q.shape[-2]
    s = q @ k.swapaxes(-1, -2)
    return np.where(np.tril(np.ones((T, T), dtype=bool)), s + table[(s > 0).astype(np.int64)], -np.inf)


def test_an_index_computed_from_the_product_keeps_it_whole(rng):
    q, k = data(rng, 2, 150, 8), data(rng, 2, 150, 8)
    table = rng.standard_normal(2).astype(np.float32)
    f = tracejit.compile(gathered)
    np.testing.assert_array_equal(f(q, k, table), gathered(q, k, table))
    assert all(o is None for o in offsets(f))
