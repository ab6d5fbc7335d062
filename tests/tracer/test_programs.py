"""Whole small programs (softmax, layernorm, MLP step, attention) traced vs eager NumPy."""
import numpy as np
import pytest

from _check import check, data


def softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def layernorm(x, g, b, eps=1e-5):
    mu = x.mean(-1, keepdims=True)
    var = x.var(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * g + b


def gelu(x):
    return 0.5 * x * (1.0 + np.tanh(0.7978845608 * (x + 0.044715 * x ** 3)))


def mlp_step(params, x, labels, lr):
    h = np.maximum(x @ params["w1"] + params["b1"], 0.0)
    logits = h @ params["w2"]
    shifted = logits - logits.max(axis=1, keepdims=True)
    logp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -np.take_along_axis(logp, labels[:, None], axis=1).mean()
    probs = np.exp(logp)
    onehot = (np.arange(probs.shape[1]) == labels[:, None]).astype(x.dtype)
    dlogits = (probs - onehot) / x.shape[0]
    dw2 = h.T @ dlogits
    return loss, {"w1": params["w1"], "b1": params["b1"], "w2": params["w2"] - lr * dw2}


def attention(q, k, v):
    scores = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    mask = np.triu(np.ones((q.shape[-2], k.shape[-2]), dtype=bool), 1)
    scores = np.where(mask, -np.inf, scores)
    return softmax(scores) @ v


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape", [(4, 7), (1, 1), (3, 1000), (2, 3, 5)])
def test_softmax_layernorm_gelu(dtype, shape):
    x = data(shape, dtype, special=False)
    g, b = data(shape[-1:], dtype, 1), data(shape[-1:], dtype, 2)
    check(softmax, x, rtol=1e-5 if dtype == "float32" else 1e-12)
    check(layernorm, x, g, b, rtol=1e-5 if dtype == "float32" else 1e-12)
    # f32 gelu cancels near -inf; the interpreter's f64 weak constants shift it by ~1e-7
    check(gelu, x, rtol=1e-5 if dtype == "float32" else 1e-12, atol=1e-6 if dtype == "float32" else 0)


def test_mlp_step():
    rng = np.random.default_rng(0)
    params = {"w1": data((5, 8), "float32", 1), "b1": data((8,), "float32", 2),
              "w2": data((8, 3), "float32", 3)}
    labels = rng.integers(0, 3, size=6)
    check(mlp_step, params, data((6, 5), "float32"), labels, 0.1, rtol=1e-5)


def test_attention():
    q, k, v = (data((2, 5, 4), "float32", s) for s in range(3))
    check(attention, q, k, v, rtol=1e-5)
