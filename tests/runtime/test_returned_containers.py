"""Dicts and lists of the caller's, returned or stored, are the caller's own objects.

Eager code that ends an optimizer step with ``return params`` or ``return self.state``
returns the very dict it was given or holds; ``self.last = grads`` stores it. The
compiled function must do the same: a copy would be another object (later changes to
one would not show in the other), and a copy of state was worse, since the state
world restores a node after tracing and the copy held the values from before the
trace on every later call. ``eager_check`` compares which returned containers are the
caller's after every call.
"""
import numpy as np
import pytest

import tracejit
from tests.runtime.eager_check import check_like_eager

BACKENDS = ["interpret", "numba"]

STATE_DICT = """
import numpy as np
class Momentum:
    def __init__(self):
        self.state = {"m": np.zeros(3)}
        self.history = [np.zeros(3)]
    def step(self, g):
        self.state["m"] = 0.9 * self.state["m"] + g
        self.history[0] = self.history[0] + self.state["m"]
        return self.state, self.history
opt = Momentum()
"""

ARGUMENT_DICT = """
import numpy as np
def sgd(params, grads, lr):
    for k in params:
        params[k] = params[k] - lr * grads[k]
    return params
"""

NESTED = """
import numpy as np
def forward(p, x):
    h = np.tanh(x @ p["layer"]["w"])
    return {"layer": p["layer"], "acts": [h, p["acts"]]}
"""

STORED = """
import numpy as np
class Recorder:
    def __init__(self):
        self.last = None
        self.params = {"w": np.ones(2)}
        self.best = None
    def step(self, grads):
        self.params["w"] = self.params["w"] - 0.5 * grads["w"]
        self.last = grads
        self.best = self.params
        return self.params["w"].sum()
rec = Recorder()
"""

GLOBAL_DICT = """
import numpy as np
CACHE = {"total": np.zeros(2)}
def accumulate(x):
    CACHE["total"] = CACHE["total"] + x
    return CACHE
"""


def _grads(module):
    return (np.full(3, 1.0),)


@pytest.mark.parametrize("backend", BACKENDS)
def test_returning_a_state_dict_returns_it_with_this_calls_values(backend):
    f, module = check_like_eager(STATE_DICT, "opt.step", [_grads] * 3, backend=backend)
    state, history = f(np.full(3, 1.0))
    assert state is module.opt.state and history is module.opt.history
    np.testing.assert_allclose(state["m"], [3.439] * 3)      # not the zeros held before the trace
    assert len(f.compiles) == 1 and f.fallbacks == []


@pytest.mark.parametrize("backend", BACKENDS)
def test_returning_an_argument_dict_returns_the_callers_dict(backend):
    calls = [lambda m: ({"w": np.ones(4), "b": np.zeros(2)}, {"w": np.ones(4), "b": np.ones(2)}, 0.1)] * 3
    f, _ = check_like_eager(ARGUMENT_DICT, "sgd", calls, backend=backend)
    params = {"w": np.ones(4), "b": np.zeros(2)}
    out = f(params, {"w": np.ones(4), "b": np.ones(2)}, 0.5)
    assert out is params and out["w"][0] == 0.5 and len(f.compiles) == 1


@pytest.mark.parametrize("backend", BACKENDS)
def test_argument_containers_inside_a_new_result_are_the_callers(backend):
    calls = [lambda m: ({"layer": {"w": np.ones((3, 2))}, "acts": [np.zeros(2)]}, np.ones((4, 3)))] * 2
    f, _ = check_like_eager(NESTED, "forward", calls, backend=backend)
    p = {"layer": {"w": np.ones((3, 2))}, "acts": [np.zeros(2)]}
    out = f(p, np.ones((5, 3)))                       # another batch size
    assert out["layer"] is p["layer"] and out["acts"][1] is p["acts"] and out is not p


@pytest.mark.parametrize("backend", BACKENDS)
def test_containers_stored_in_state_are_the_callers(backend):
    calls = [lambda m: ({"w": np.full(2, 2.0)},)] * 3
    f, module = check_like_eager(STORED, "rec.step", calls, backend=backend)
    grads = {"w": np.ones(2)}
    f(grads)
    assert module.rec.last is grads and module.rec.best is module.rec.params


@pytest.mark.parametrize("backend", BACKENDS)
def test_returning_a_global_dict_returns_it(backend):
    f, module = check_like_eager(GLOBAL_DICT, "accumulate", [lambda m: (np.ones(2),)] * 3, backend=backend)
    assert f(np.ones(2)) is module.CACHE and module.CACHE["total"][0] == 4.0


def test_one_specialization_returns_each_instances_own_state():
    source = STATE_DICT + "other = Momentum()\n"
    from tests.runtime.eager_check import make_module
    module = make_module(source, "instances")
    step = tracejit.compile(type(module.opt).step, backend="numba")
    for _ in range(2):
        a, _ = step(module.opt, np.ones(3))
        b, _ = step(module.other, np.full(3, 2.0))
    assert a is module.opt.state and b is module.other.state
    np.testing.assert_allclose(a["m"], [1.9] * 3)
    np.testing.assert_allclose(b["m"], [3.8] * 3)


NEW_AND_STORED = """
import numpy as np
class Cache:
    def __init__(self):
        self.state = {"m": np.zeros(2)}
        self.rows = [np.zeros(2)]
    def step(self, x):
        self.state = {"m": self.state["m"] + x}
        self.rows = [x * 2]
        return self.state, self.rows
cache = Cache()
"""


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_new_container_stored_and_returned_is_one_object(backend):
    f, module = check_like_eager(NEW_AND_STORED, "cache.step", [lambda m: (np.ones(2),)] * 3, backend=backend)
    state, rows = f(np.ones(2))
    assert state is module.cache.state and rows is module.cache.rows and state["m"][0] == 4.0


STATE_AS_ARGUMENT = """
import numpy as np
class M:
    def __init__(self):
        self.state = {"m": np.zeros(2)}
    def step(self, d):
        d["m"] = d["m"] + 1                         # <-
        self.state["m"] = self.state["m"] * 2
        return self.state["m"]
m = M()
"""


def test_a_state_dict_passed_as_an_argument_too_runs_eagerly():
    """f(m, m.state): one dict under two names, which the trace would keep apart (the
    write through the argument was lost)."""
    check_like_eager(STATE_AS_ARGUMENT, "m.step", [lambda mod: (mod.m.state,)] * 3, warns=1, names_line=False)
