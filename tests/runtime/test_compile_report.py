"""f.compiles reports the whole compile cost (issue 9): the stages up to the plan and
the kernels' compile (or disk-cache load) at their first launch."""
import time

import numpy as np

import tracejit


def scaled_tanh_unique_to_this_test(x):
    return np.tanh(x * 1.25) - 0.5


def test_the_first_call_cost_is_reported_whole_and_split_by_stage():
    f = tracejit.compile(scaled_tanh_unique_to_this_test, backend="numba")
    x = np.linspace(-3, 3, 7000).reshape(70, 100)
    began = time.perf_counter()
    np.testing.assert_allclose(f(x), np.tanh(x * 1.25) - 0.5, rtol=1e-12)
    first_call = time.perf_counter() - began
    event = f.compiles[0]
    assert set(event.stages) == {"trace", "passes", "codegen", "guards", "kernel compile"}
    assert event.stages["kernel compile"] > 0
    assert abs(event.seconds - sum(event.stages.values())) < 1e-6
    assert event.seconds <= first_call and event.seconds > 0.5 * first_call
    assert "kernel compile" in str(event) and "kernel compile" in str(tracejit.explain(f, x))
    f(x)                                           # later calls add nothing
    assert len(f.compiles) == 1 and f.compiles[0].seconds == event.seconds
