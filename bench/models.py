"""Model functions written as ordinary eager NumPy code.

Shared by the tests (each compared with NumPy eager) and the benchmarks.
"""
from __future__ import annotations

import math

import numpy as np


def gelu(x):
    return 0.5 * x * (1.0 + np.tanh(0.7978845608028654 * (x + 0.044715 * x ** 3)))


def softmax(x):
    e = np.exp(x - np.max(x, axis=-1, keepdims=True))
    return e / np.sum(e, axis=-1, keepdims=True)


def layernorm(x, gamma, beta, eps=1e-5):
    mean = x.mean(axis=-1, keepdims=True)
    var = x.var(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * gamma + beta


def rmsnorm(x, weight, eps=1e-6):
    return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps) * weight


def log_sum_exp(x):
    m = x.max(axis=-1)
    return m + np.log(np.exp(x - m[:, None]).sum(axis=-1))


def mlp(x, w1, b1, w2, b2):
    h = np.maximum(x @ w1 + b1, 0.0)
    return h @ w2 + b2


def causal_attention(x, w_qkv, w_out, n_head):
    """Multi-head causal self-attention on x: [B, T, C]."""
    B, T, C = x.shape
    head = C // n_head
    qkv = x @ w_qkv                                   # [B, T, 3C]
    q, k, v = np.split(qkv, 3, axis=-1)
    q = q.reshape(B, T, n_head, head).transpose(0, 2, 1, 3)
    k = k.reshape(B, T, n_head, head).transpose(0, 2, 1, 3)
    v = v.reshape(B, T, n_head, head).transpose(0, 2, 1, 3)
    scores = (q @ k.swapaxes(-1, -2)) / np.sqrt(head)
    mask = np.tril(np.ones((T, T), dtype=bool))
    scores = np.where(mask, scores, -np.inf)
    weights = softmax(scores)
    y = (weights @ v).transpose(0, 2, 1, 3).reshape(B, T, C)
    return y @ w_out


def gpt_block(x, params, n_head):
    """A pre-norm GPT block taking a dict of parameters."""
    h = x + causal_attention(layernorm(x, params["ln1_g"], params["ln1_b"]),
                             params["w_qkv"], params["w_attn_out"], n_head)
    m = gelu(layernorm(h, params["ln2_g"], params["ln2_b"]) @ params["w_fc"] + params["b_fc"])
    return h + m @ params["w_proj"] + params["b_proj"]


def adam_step(p, g, m, v, lr, beta1, beta2, eps, t):
    m = beta1 * m + (1.0 - beta1) * g
    v = beta2 * v + (1.0 - beta2) * g * g
    m_hat = m / (1.0 - beta1 ** t)
    v_hat = v / (1.0 - beta2 ** t)
    p = p - lr * m_hat / (np.sqrt(v_hat) + eps)
    return p, m, v


def logistic_loss(w, b, x, y):
    z = x @ w + b
    # log(1 + exp(-y z)) written stably
    margin = -y * z
    return np.mean(np.maximum(margin, 0.0) + np.log1p(np.exp(-np.abs(margin))))


def logistic_grad(w, b, x, y):
    z = x @ w + b
    s = 1.0 / (1.0 + np.exp(y * z))       # sigmoid(-y z)
    coeff = -y * s / x.shape[0]
    return x.T @ coeff, np.sum(coeff)


def init_gpt_params(rng, c, dtype=np.float32):
    def w(*shape):
        return (rng.standard_normal(shape) * 0.02).astype(dtype)
    return {
        "ln1_g": np.ones(c, dtype), "ln1_b": np.zeros(c, dtype),
        "w_qkv": w(c, 3 * c), "w_attn_out": w(c, c),
        "ln2_g": np.ones(c, dtype), "ln2_b": np.zeros(c, dtype),
        "w_fc": w(c, 4 * c), "b_fc": np.zeros(4 * c, dtype),
        "w_proj": w(4 * c, c), "b_proj": np.zeros(c, dtype),
    }


def attention_core(q, k, v):
    """Causal scaled-dot-product attention on q, k, v: [heads, T, d]."""
    T, d = q.shape[-2], q.shape[-1]
    scores = (q @ k.swapaxes(-1, -2)) * (1.0 / math.sqrt(d))   # a Python float keeps float32
    scores = np.where(np.tril(np.ones((T, T), dtype=bool)), scores, -np.inf)
    return softmax(scores) @ v
