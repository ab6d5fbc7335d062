"""Real model functions, compiled, against NumPy eager on every backend.

The Triton backend runs in Triton's interpreter here (tests/conftest.py), on sizes
that still cross block boundaries.
"""
import numpy as np
import pytest

import tracejit
from bench import models
from tests.helpers import assert_matches_numpy

BACKENDS = ["numba", "interpret", "triton"]


def _args(name, dtype, rng):
    def r(*shape, scale=1.0):
        return (rng.standard_normal(shape) * scale).astype(dtype)
    if name == "gelu":
        return (r(7, 33),), {}
    if name == "softmax":
        return (r(5, 37) * 4,), {}
    if name == "layernorm":
        return (r(6, 40), r(40), r(40)), {}
    if name == "rmsnorm":
        return (r(3, 2, 24), r(24)), {}
    if name == "log_sum_exp":
        return (r(9, 17) * 10,), {}
    if name == "mlp":
        return (r(11, 16), r(16, 24, scale=0.2), r(24), r(24, 8, scale=0.2), r(8)), {}
    if name == "causal_attention":
        return (r(2, 5, 8), r(8, 24, scale=0.3), r(8, 8, scale=0.3)), {"n_head": 2}
    if name == "attention_core":
        return (r(2, 6, 4), r(2, 6, 4), r(2, 6, 4)), {}
    if name == "gpt_block":
        params = models.init_gpt_params(rng, 8, dtype)
        params = {k: (v + r(*v.shape, scale=0.05)).astype(dtype) for k, v in params.items()}
        return (r(2, 5, 8), params), {"n_head": 2}
    if name == "adam_step":
        return (r(13, 7), r(13, 7), r(13, 7), np.abs(r(13, 7)), 1e-2, 0.9, 0.999, 1e-8, 3), {}
    if name == "logistic_loss" or name == "logistic_grad":
        y = np.where(rng.random(19) > 0.5, 1.0, -1.0).astype(dtype)
        return (r(6, scale=0.5), dtype(0.1) if dtype is np.float32 else 0.1, r(19, 6), y), {}
    raise KeyError(name)


MODELS = ["gelu", "softmax", "layernorm", "rmsnorm", "log_sum_exp", "mlp", "causal_attention",
          "attention_core", "gpt_block", "adam_step", "logistic_loss", "logistic_grad"]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("name", MODELS)
def test_model_matches_numpy(name, dtype, backend):
    rng = np.random.default_rng(hash(name) % 2**32)
    fn = getattr(models, name)
    args, kwargs = _args(name, dtype, rng)
    static = tuple(kwargs)
    compiled = tracejit.compile(fn, backend=backend, static_argnames=static, fullgraph=True)
    expected = fn(*args, **kwargs)
    actual = compiled(*args, **kwargs)
    # transcendental chains (tanh, exp) and reassociated sums: a few ulps more for f32;
    # f32 models may return f64 (NEP 50: `x32 / np.sqrt(d)` is f64) but carry f32 error
    if dtype is np.float32:
        assert_matches_numpy(actual, expected, rtol=4e-4, atol=4e-5)
    else:
        assert_matches_numpy(actual, expected, scale=100)


@pytest.mark.parametrize("backend", ["numba", "triton"])
def test_models_fuse_into_few_kernels(backend):
    """The fusion contract on real code: one kernel per row-wise normalization."""
    rng = np.random.default_rng(1)
    for name, most in [("softmax", 1), ("layernorm", 1), ("rmsnorm", 1), ("gelu", 1), ("adam_step", 1),
                       ("log_sum_exp", 1)]:
        args, kwargs = _args(name, np.float32, rng)
        report = tracejit.explain(tracejit.compile(getattr(models, name), backend=backend), *args)
        assert not report.fallbacks, report.fallbacks
        # count kernel nodes, not distinct kernels: identical-bodied kernels share one object
        launches = report.graph.count("= kernel @")
        assert 1 <= launches <= most, f"{name}: {launches} kernels\n{report}"
