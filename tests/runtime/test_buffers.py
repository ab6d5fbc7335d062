"""Buffer planning (runtime/buffers.py): intermediates share buffers across kernels and
calls, and a result is never a buffer the next call overwrites."""
import numpy as np

import tracejit
from tracejit.runtime.plan import KernelStep

RNG = np.random.default_rng(3)
WS = [RNG.standard_normal((16, 16)) * 0.3 for _ in range(5)]


def deep(x):
    h = x
    for w in WS:
        h = np.tanh(h @ w) + h          # matmuls keep the layers in separate kernels
    return h * 2.0, h.sum(axis=1)


def _pooled_outputs(plan):
    return [b for step in plan.steps if isinstance(step, KernelStep) for b in (step.pool or ()) if b >= 0]


def test_a_chain_of_layers_reuses_its_intermediate_buffers():
    f = tracejit.compile(deep)
    x = RNG.standard_normal((32, 16))
    f(x)
    (spec,) = f.specializations()
    pooled = _pooled_outputs(spec.plan)
    assert len(pooled) >= 4
    assert spec.plan.pool_size <= 2 < len(pooled)      # two activation buffers serve every layer
    before = [id(b) for b in spec.plan.pool]
    f(RNG.standard_normal((32, 16)))
    f(RNG.standard_normal((32, 16)))
    assert [id(b) for b in spec.plan.pool] == before    # reused, never found still in use


def test_results_stay_valid_when_the_plan_runs_again():
    f = tracejit.compile(deep)
    xs = [RNG.standard_normal((32, 16)) for _ in range(3)]
    kept = [f(x) for x in xs]                      # earlier results held while later calls run
    for x, (a, b) in zip(xs, kept):
        ea, eb = deep(x)
        np.testing.assert_allclose(a, ea, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(b, eb, rtol=1e-12, atol=1e-12)
    assert not np.shares_memory(kept[0][0], kept[1][0])


def test_a_buffer_a_view_keeps_alive_is_not_reused():
    def views(x):
        a = np.exp(x @ WS[0])
        t = a.T                          # a view of an intermediate, read by a later kernel
        b = np.tanh(x @ WS[1])
        return (t @ b) + b.sum()
    f = tracejit.compile(views)
    for _ in range(3):
        x = RNG.standard_normal((16, 16))
        np.testing.assert_allclose(f(x), views(x), rtol=1e-10, atol=1e-10)
