"""Token-by-token generation compiles once per shape family, not once per token.

picoGPT's ``gpt2()`` as published (``wpe[range(len(inputs))]`` with ``inputs`` a list
that grows by one token per call) and a class-based Llama with a KV cache written at
``start_pos`` (an int that decides the attended length). Every step is compared with
eager NumPy: the logits, the generated tokens, and the caches the model leaves behind.
"""
import warnings

import numpy as np

import tracejit


def gelu(x):
    return 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3)))


def softmax(x):
    exp_x = np.exp(x - np.max(x, axis=-1, keepdims=True))
    return exp_x / np.sum(exp_x, axis=-1, keepdims=True)


def layer_norm(x, g, b, eps: float = 1e-5):
    mean = np.mean(x, axis=-1, keepdims=True)
    variance = np.var(x, axis=-1, keepdims=True)
    return g * (x - mean) / np.sqrt(variance + eps) + b


def linear(x, w, b):
    return x @ w + b


def ffn(x, c_fc, c_proj):
    return linear(gelu(linear(x, **c_fc)), **c_proj)


def attention(q, k, v, mask):
    return softmax(q @ k.T / np.sqrt(q.shape[-1]) + mask) @ v


def mha(x, c_attn, c_proj, n_head):
    x = linear(x, **c_attn)
    qkv_heads = list(map(lambda x: np.split(x, n_head, axis=-1), np.split(x, 3, axis=-1)))
    causal_mask = (1 - np.tri(x.shape[0], dtype=x.dtype)) * -1e10
    out_heads = [attention(q, k, v, causal_mask) for q, k, v in zip(*qkv_heads)]
    return linear(np.hstack(out_heads), **c_proj)


def transformer_block(x, mlp, attn, ln_1, ln_2, n_head):
    x = x + mha(layer_norm(x, **ln_1), **attn, n_head=n_head)
    return x + ffn(layer_norm(x, **ln_2), **mlp)


def gpt2(inputs, wte, wpe, blocks, ln_f, n_head):
    x = wte[inputs] + wpe[range(len(inputs))]
    for block in blocks:
        x = transformer_block(x, **block, n_head=n_head)
    return layer_norm(x, **ln_f) @ wte.T


def gpt2_params(rng, vocab=40, c=16, n_ctx=32):
    def w(*shape):
        return (rng.standard_normal(shape) * 0.2).astype(np.float32)

    def lin(i, o):
        return {"w": w(i, o), "b": w(o)}

    def ln():
        return {"g": 1 + w(c), "b": w(c)}
    block = {"mlp": {"c_fc": lin(c, 4 * c), "c_proj": lin(4 * c, c)},
             "attn": {"c_attn": lin(c, 3 * c), "c_proj": lin(c, c)}, "ln_1": ln(), "ln_2": ln()}
    return {"wte": w(vocab, c), "wpe": w(n_ctx, c), "blocks": [block], "ln_f": ln()}


def test_picogpt_generates_without_a_trace_per_token():
    params = gpt2_params(np.random.default_rng(0))
    compiled = tracejit.compile(gpt2)
    inputs = [3, 1, 4, 1]
    with warnings.catch_warnings():
        warnings.simplefilter("error", tracejit.FallbackWarning)
        for _ in range(12):
            expected = gpt2(inputs, **params, n_head=2)
            got = compiled(inputs, **params, n_head=2)
            assert got.dtype == expected.dtype and got.shape == expected.shape
            np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)
            inputs.append(int(np.argmax(expected[-1])))
    assert len(compiled.compiles) <= 3           # 4 tokens, 5 (a list of any length from now), 6 (the family)
    assert sum(len(f.sizes) for f in compiled.families.families) >= 9


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
            h = h + softmax(scores) @ values @ w["wo"]
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
