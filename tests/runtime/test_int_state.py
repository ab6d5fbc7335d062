"""Python int counters in state (issue 7's `self.t += 1`, now compiled): an int
attribute, global or container entry the function changes is traced as a value after
the first trace sees it change; the plan writes the new int back on every call, so
the object holds exactly what eager Python leaves. Counters that decide control flow
run eagerly with one warning."""
import numpy as np
import pytest

from tests.runtime.eager_check import check_like_eager

PROGRAMS = """
import numpy as np
class Opt:
    def __init__(self):
        self.t = 0
        self.m = np.zeros(3)
    def step(self, g):
        self.t += 1
        self.m = 0.9 * self.m + 0.1 * g
        return self.m / (1 - 0.9 ** self.t)
class Cache:
    def __init__(self):
        self.pos = 0
        self.k = np.zeros((6, 2))
    def push(self, x):
        self.k[self.pos] = x
        self.pos += 1
        return self.k[:3].sum(axis=0)
OPT = Opt()
CACHE = Cache()
STEP = 0
class Decay:
    def __init__(self):
        self.scale = 1.0
    def step(self, g):
        self.scale *= 0.5
        return g * self.scale
DECAY = Decay()
class Sim:
    def __init__(self):
        self.t = 0.0
        self.n = 0
        self.x = np.zeros(3)
    def step(self, dt, k):
        self.t += dt
        self.n += k
        self.x = self.x + dt * self.t
        return self.x.sum(), self.t, self.n
SIM = Sim()
def bias_corrected(g):
    return OPT.step(g)
def counted(x):
    global STEP
    STEP = STEP + 2
    return x * STEP
def branchy(x):
    OPT.t += 1
    if OPT.t % 2:   # <-
        return x
    return -x
"""


@pytest.mark.parametrize("backend", ["interpret", "numba"])
def test_an_int_counter_on_an_object_is_compiled_and_written_back(backend):
    calls = [lambda m: (np.full(3, 10.0),)] * 4
    f, module = check_like_eager(PROGRAMS, "bias_corrected", calls, backend=backend)
    assert module.OPT.t == 4 and type(module.OPT.t) is int
    assert len(f.compiles) == 1 and f.fallbacks == [] and f.int_state == {"global OPT.t"}


def test_a_global_int_counter_is_compiled():
    f, module = check_like_eager(PROGRAMS, "counted", [lambda m: (np.arange(3.0),)] * 3)
    assert module.STEP == 6 and len(f.compiles) == 1


def test_a_counter_positioning_a_write_is_a_dynamic_offset_and_runs_eagerly_past_the_end():
    # pos 0..5 fit the cache; the 7th push raises IndexError in NumPy, and so here
    calls = [lambda m, k=k: (np.full(2, float(k)),) for k in range(6)]
    f, module = check_like_eager(PROGRAMS, "CACHE.push", calls)
    assert module.CACHE.pos == 6 and len(f.compiles) == 1
    calls = [lambda m, k=k: (np.full(2, float(k)),) for k in range(7)]
    f, module = check_like_eager(PROGRAMS, "CACHE.push", calls)     # the 7th: IndexError, as NumPy


def test_a_counter_that_decides_control_flow_runs_eagerly():
    check_like_eager(PROGRAMS, "branchy", [lambda m: (np.arange(3.0),)] * 3, warns=1)


def test_a_python_float_the_function_changes_is_traced_too():
    f, module = check_like_eager(PROGRAMS, "DECAY.step", [lambda m: (np.ones(3, np.float32),)] * 3)
    assert module.DECAY.scale == 0.125 and type(module.DECAY.scale) is float and len(f.compiles) == 1


@pytest.mark.parametrize("backend", ["interpret", "numba"])
def test_numbers_advanced_by_traced_arguments_are_traced_too(backend):
    # self.t += dt (dt a float argument), self.n += k (k an int that changes): one trace
    calls = [lambda m, i=i: (0.1 * (i + 1), i) for i in range(10)]
    f, module = check_like_eager(PROGRAMS, "SIM.step", calls, backend=backend)
    assert type(module.SIM.t) is float and type(module.SIM.n) is int and module.SIM.n == 45
    assert f.fallbacks == [] and len(f.compiles) <= 2, [c.reason for c in f.compiles]
