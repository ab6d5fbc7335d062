"""background_compile=True (issue 9): the first calls run eagerly while the kernels
compile on a background thread; then the compiled plan runs. Results and state are
NumPy's either way, and the warm-up writes nothing the caller sees."""
import numpy as np

import tracejit


def scaled_update_for_background(w, g, lr):
    w -= lr * np.tanh(g)          # an in-place write: the warm-up must not do it to w
    return (w * w).sum()


def test_calls_run_eagerly_until_the_kernels_are_ready_then_compiled():
    f = tracejit.compile(scaled_update_for_background, backend="numba", background_compile=True)
    w_eager, w = np.linspace(0, 1, 3000), np.linspace(0, 1, 3000)
    g = np.linspace(-2, 2, 3000)
    expected = [scaled_update_for_background(w_eager, g, 0.1) for _ in range(2)]
    got = [f(w, g, 0.1)]                           # eager while compiling (or compiled, if already done)
    np.testing.assert_allclose(got[0], expected[0], rtol=1e-12)
    spec = f.specializations()[0]
    first_was_compiled = spec.pending_event is None   # only a compiled run consumes it (kernels were cached)
    assert f.wait_compiled(timeout=120)
    assert first_was_compiled or spec.pending_event is not None     # no compiled run while waiting
    got.append(f(w, g, 0.1))                        # compiled now
    np.testing.assert_allclose(got[1], expected[1], rtol=1e-12)
    np.testing.assert_allclose(w, w_eager, rtol=1e-12)
    assert spec.pending_event is None and spec.warming is None
    assert f.compiles[0].stages["kernel compile"] > 0 and f.fallbacks == []
    assert len(f.compiles) == 1
