"""Token-by-token generation compiles once per shape family, not once per token.

picoGPT's ``gpt2()`` as published (``wpe[range(len(inputs))]`` with ``inputs`` a list
that grows by one token per call) and a class-based Llama with a KV cache written at
``start_pos`` (an int that decides the attended length). Every step is compared with
eager NumPy: the logits, the generated tokens, and the caches the model leaves behind.
"""
import warnings

import numpy as np

import tracejit
from tests.runtime.eager_check import Call, check_like_eager
from tests.runtime.gpt_programs import PICO_GPT, gpt_params


def test_picogpt_generates_without_a_trace_per_token():
    """gpt2() called with the prompt growing by one token per call, world compared with
    eager NumPy after every call."""
    params = gpt_params(np.random.default_rng(0), ctx=32)
    tokens = [3, 1, 4, 1]
    calls = []
    for _ in range(12):
        calls.append(lambda m, t=list(tokens): Call(t, **params, n_head=2))
        tokens.append(len(tokens) * 7 % 11)
    f, _ = check_like_eager(PICO_GPT, "gpt2", calls, backend="numba")
    assert f.fallbacks == []
    assert len(f.compiles) <= 3           # 4 tokens, 5 (a list of any length from now), 6 (the family)
    assert sum(len(family.sizes) for family in f.families.families) >= 9


class Llama:
    """A minimal Llama-style decoder layer stack with a preallocated KV cache."""

    def __init__(self, seed=0, vocab=32, dim=16, layers=2, max_seq=32):
        rng = np.random.default_rng(seed)
        self.embedding = rng.standard_normal((vocab, dim)) * 0.3
        self.layers = [{name: rng.standard_normal((dim, dim)) * 0.3 for name in ("wq", "wk", "wv", "wo")}
                       for _ in range(layers)]
        self.cache_k = np.zeros((layers, max_seq, dim))
        self.cache_v = np.zeros((layers, max_seq, dim))
        self.head = rng.standard_normal((dim, vocab)) * 0.3

    def __call__(self, ids, start_pos):
        (length,) = ids.shape
        h = self.embedding[ids]
        mask = None
        if length > 1:
            mask = np.triu(np.full((length, length), float("-inf")), k=1)
            mask = np.concatenate([np.zeros((length, start_pos)), mask], axis=1)
        for i, w in enumerate(self.layers):
            q, k, v = h @ w["wq"], h @ w["wk"], h @ w["wv"]
            self.cache_k[i, start_pos:start_pos + length] = k
            self.cache_v[i, start_pos:start_pos + length] = v
            keys, values = self.cache_k[i, :start_pos + length], self.cache_v[i, :start_pos + length]
            scores = q @ keys.T / np.sqrt(q.shape[-1])
            if mask is not None:
                scores = scores + mask
            e = np.exp(scores - scores.max(axis=-1, keepdims=True))
            h = h + (e / e.sum(axis=-1, keepdims=True)) @ values @ w["wo"]
        return h[[-1]] @ self.head

    def generate(self, ids, steps, forward):
        out, pos = [], 0
        for _ in range(steps):
            logits = forward(ids, pos)
            out.append(logits)
            pos += ids.shape[0]
            ids = logits.argmax(-1)
        return out


def test_llama_with_a_kv_cache_generates_without_a_trace_per_token():
    eager, model = Llama(), Llama()
    compiled = tracejit.compile(model.__call__)
    prompt = np.array([1, 5, 9, 2])
    with warnings.catch_warnings():
        warnings.simplefilter("error", tracejit.FallbackWarning)
        got = model.generate(prompt, 14, compiled)
    expected = eager.generate(prompt, 14, eager)
    for e, g in zip(expected, got):
        np.testing.assert_allclose(g, e, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(model.cache_k, eager.cache_k, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(model.cache_v, eager.cache_v, rtol=1e-6, atol=1e-9)
    assert len(compiled.compiles) <= 4           # the prompt, then positions 4 and 5 (the family)
    assert compiled.fallbacks == []
