"""Python state changed inside a compiled function (issue 7, section 1).

Every test runs the program eagerly and compiled side by side (``eager_check``):
results, printed text, attributes, globals, lists and arguments must match eager
NumPy after every call, with exactly the warnings stated.
"""
import random
import warnings

import numpy as np
import pytest

import tracejit
from tests.runtime.eager_check import check_like_eager, make_module

G3 = lambda m: (np.full(3, 1.0),)          # noqa: E731  (one argument: g = [1, 1, 1])


def calls(n=3, make=G3):
    return [make] * n


ADAM_T = """
import numpy as np
class Adam:
    def __init__(self):
        self.t = 0
    def step(self, g):
        self.t += 1                                   # <-
        return g / (1 - 0.9 ** self.t)
opt = Adam()
"""


@pytest.mark.parametrize("backend", ["interpret", "numba"])
def test_python_int_counter_is_compiled_as_a_traced_int(backend):
    # issue 7 allowed running it eagerly; the counter is now traced (tests/runtime/test_int_state.py)
    f, module = check_like_eager(ADAM_T, "opt.step", calls(), backend=backend)
    assert module.opt.t == 3 and type(module.opt.t) is int
    assert f.fallbacks == [] and len(f.compiles) == 1


EMA = """
import numpy as np
class EMA:
    def __init__(self):
        self.m = np.zeros(3)
    def update(self, g):
        self.m = 0.9 * self.m + 0.1 * g
        return self.m
ema = EMA()
"""


@pytest.mark.parametrize("backend", ["interpret", "numba"])
def test_array_attribute_rebound_is_an_implicit_output(backend):
    f, module = check_like_eager(EMA, "ema.update", calls(4), backend=backend)
    assert len(f.compiles) == 1 and f.fallbacks == []
    assert type(module.ema.m) is np.ndarray
    np.testing.assert_allclose(module.ema.m + 1, 1 + (1 - 0.9 ** 4))


COUNTER_0D = """
import numpy as np
class Adam:
    def __init__(self):
        self.t = np.zeros((), np.int64)
    def step(self, g):
        self.t = self.t + 1
        return g / (1 - 0.9 ** self.t)
opt = Adam()
"""


def test_zero_d_array_counter_is_compiled_as_state():
    f, module = check_like_eager(COUNTER_0D, "opt.step", calls(), backend="numba")
    # the first call turns the 0-d array into a NumPy scalar (as eager NumPy does): one retrace
    assert f.fallbacks == [] and len(f.compiles) == 2 and int(module.opt.t) == 3
    assert type(module.opt.t) is np.int64


GLOBAL_WRITE = """
import numpy as np
G = np.zeros(3)
def bump(x):
    G[0] += 1                                          # <-
    return x + G
"""


@pytest.mark.parametrize("backend", ["interpret", "numba"])
def test_writes_into_a_global_array_are_compiled_and_land_in_the_global(backend):
    f, module = check_like_eager(GLOBAL_WRITE, "bump", calls(3, lambda m: (np.zeros(3),)), backend=backend)
    np.testing.assert_array_equal(module.G, [3, 0, 0])
    assert f.fallbacks == [] and len(f.compiles) == 1


GLOBAL_REBIND = """
import numpy as np
G = np.zeros(3)
CFG = {"scale": np.ones(3)}
def step(x):
    global G
    G = 0.5 * G + x
    CFG["scale"] = CFG["scale"] * 2.0
    return G * CFG["scale"]
"""


@pytest.mark.parametrize("backend", ["interpret", "numba"])
def test_rebound_globals_and_dict_entries_are_implicit_outputs(backend):
    f, _ = check_like_eager(GLOBAL_REBIND, "step", calls(3, lambda m: (np.arange(3.0),)), backend=backend)
    assert f.fallbacks == [] and len(f.compiles) == 1


SHRINKING_STATE = """
import numpy as np
W = np.arange(12.0).reshape(3, 4)
class Model:
    def __init__(self):
        self.w = np.arange(20.0).reshape(4, 5)
        self.v = np.arange(6.0).reshape(2, 3)
    def step(self):
        self.w = self.w[:, 1:] * 1.0
        self.v = self.v.T * 0.9                  # (2, 3) -> (3, 2) -> (2, 3)
        return self.w.sum() + self.v[0].sum()
model = Model()
def shrink():
    global W
    W = W[:, 1:] * 2.0
    return W.sum()
"""


@pytest.mark.parametrize("name", ["model.step", "shrink"])
def test_state_the_function_rebinds_to_another_shape_is_traced_again(name):
    f, _ = check_like_eager(SHRINKING_STATE, name, calls(3, lambda m: ()), backend="numba")
    assert len(f.compiles) == 3 and all("rebound" in c.reason for c in f.compiles[1:])


ATTRIBUTE_STATE = """
import numpy as np
class Adam:
    def __init__(self):
        self.state = {"m": np.zeros(2), "v": np.zeros(2)}
        self.history = (np.zeros(2), np.zeros(2))
    def step(self, p, g):
        s = self.state
        s["m"] = 0.9 * s["m"] + 0.1 * g
        s["v"] = 0.99 * s["v"] + 0.01 * g * g
        self.history = (s["m"], s["v"])
        self.last = p                      # the argument itself: the same object, as in NumPy
        return p - 0.1 * s["m"] / (np.sqrt(s["v"]) + 1e-8)
opt = Adam()
"""


def test_state_in_attribute_dicts_tuples_and_new_attributes():
    p = np.ones(2)
    f, module = check_like_eager(ATTRIBUTE_STATE, "opt.step", calls(3, lambda m: (p, np.full(2, 0.5))))
    assert module.opt.last is p
    assert module.opt.history[0] is module.opt.state["m"]           # one array, two references
    assert f.fallbacks == []


ARGUMENT_DICT = """
import numpy as np
def sgd(params, grads, lr):
    for name in params:
        params[name] = params[name] - lr * grads[name]
    return len(params)
"""


def test_entries_of_argument_dicts_are_written_back_to_the_callers_dict():
    shared = {"w": np.ones(3), "b": np.zeros(3)}
    grads = {"w": np.full(3, 0.5), "b": np.ones(3)}
    f, _ = check_like_eager(ARGUMENT_DICT, "sgd", calls(1, lambda m: (shared, grads, 0.1)))
    assert f.fallbacks == []
    params = {"w": np.ones(3), "b": np.zeros(3)}
    for _ in range(3):
        f(params, grads, 0.1)
    np.testing.assert_allclose(params["w"], 1 - 3 * 0.05)
    np.testing.assert_allclose(params["b"], -0.3)


CLOSURE = """
import numpy as np
def make():
    total = np.zeros(2)
    def add(x):
        nonlocal total
        total = total + x
        return total * 1.0
    return add
add = make()
"""


def test_closure_variables_rebound_with_nonlocal():
    check_like_eager(CLOSURE, "add", calls(3, lambda m: (np.ones(2),)), backend="numba")


LOG = """
import numpy as np
LOG = []
def step(x):
    LOG.append((x * x).mean())                         # <-
    return x * 2
"""


def test_appending_a_traced_value_to_a_list_runs_eagerly():
    f, module = check_like_eager(LOG, "step", calls(3, lambda m: (np.arange(3.0),)), warns=1)
    assert len(module.LOG) == 3 and all(type(v) is np.float64 for v in module.LOG)
    assert "global LOG" in str(f.fallbacks[0])


PRINTS = """
import numpy as np
def step(x, lr):
    loss = (x * x).sum()
    print("loss", loss, "lr", lr, [loss, x.max()], sep=" | ")
    print("mean", x.mean(axis=0), end="!\\n")
    return x - lr * 2 * x
"""


@pytest.mark.parametrize("backend", ["interpret", "numba"])
def test_print_shows_the_values_of_every_call(backend):
    f, _ = check_like_eager(PRINTS, "step", [lambda m, i=i: (np.full((2, 3), float(i), np.float32), 0.1 * i)
                                             for i in range(3)], backend=backend)
    assert f.fallbacks == [] and len(f.compiles) == 1


PRINTS_THEN_WRITES = """
import sys
import numpy as np
class Model:
    def __init__(self):
        self.w = np.zeros(3)
    def step(self, x):
        print("before", x, x[1:], x[0], self.w)
        x += 1
        self.w[1:] += x[1:]
        print("after", x, self.w, file=sys.stderr)
        return x.sum()
model = Model()
"""


@pytest.mark.parametrize("backend", ["interpret", "numba"])
def test_print_shows_values_as_they_were_before_later_writes(backend):
    f, _ = check_like_eager(PRINTS_THEN_WRITES, "model.step",
                            [lambda m, i=i: (np.arange(3.0) + i,) for i in range(3)], backend=backend)
    assert f.fallbacks == []


def test_print_to_sys_stderr_writes_to_the_stream_of_each_call():
    import contextlib
    import io
    from tests.runtime.eager_check import make_module
    module = make_module(PRINTS_THEN_WRITES, "stderr")
    step = tracejit.compile(module.Model.step, backend="numba")
    streams = [io.StringIO(), io.StringIO()]
    for k, stream in enumerate(streams):
        with contextlib.redirect_stderr(stream), contextlib.redirect_stdout(io.StringIO()):
            step(module.model, np.full(3, float(k)))
    assert [s.getvalue().count("after") for s in streams] == [1, 1]


@pytest.mark.parametrize("text", ['f"{loss}"', 'f"{loss:.4f}"', 'format(loss, ".3e")', "str(loss)", "repr(loss)",
                                  '"%s" % loss', '"{}".format(loss)'])
def test_text_made_from_traced_values_runs_eagerly(text):
    source = f"""
import numpy as np
def step(x):
    loss = (x * x).sum()
    message = {text}                                   # <-
    print("loss", message)
    return loss
"""
    f, _ = check_like_eager(source, "step", [lambda m, i=i: (np.full(3, float(i)),) for i in range(3)], warns=1)
    assert "traced value" in str(f.fallbacks[0])


SIDE_EFFECTS = """
import numpy as np
SEEN = []
class Counter:
    def __init__(self):
        self.calls = 0
        self.names = {"a": 1}
counter = Counter()
def step(x):
    SEEN.append(len(SEEN))
    counter.calls += 1
    counter.names["b"] = 2
    counter.extra = "set"
    if x.sum() > 0:                                    # <-
        return x
    return -x
"""


def test_a_fallback_runs_the_side_effects_once():
    f, module = check_like_eager(SIDE_EFFECTS, "step", [lambda m, i=i: (np.full(2, i - 1.0),) for i in range(3)],
                                 warns=1)
    assert module.SEEN == [0, 1, 2] and module.counter.calls == 3


CACHE_WRITE = """
import numpy as np
class KV:
    def __init__(self):
        self.cache = np.zeros((2, 3))
    def put(self, x):
        self.cache[...] = x                            # <-
        return self.cache.sum()
kv = KV()
"""


def test_writes_into_an_attribute_array_are_compiled():
    f, module = check_like_eager(CACHE_WRITE, "kv.put",
                                 [lambda m, i=i: (np.full((2, 3), float(i)),) for i in range(3)])
    assert f.fallbacks == [] and np.all(module.kv.cache == 2.0)


INPLACE = """
import numpy as np
class Acc:
    def __init__(self):
        self.total = np.zeros(3)
    def add(self, x):
        self.total += x                                # <-
        return self.total
acc = Acc()
def add_out(x, y):
    np.add(x, 1.0, out=y)                              # <-
    return y
"""


@pytest.mark.parametrize("backend", ["interpret", "numba"])
def test_in_place_operators_and_out_on_state_and_arguments_are_compiled(backend):
    f, module = check_like_eager(INPLACE, "acc.add", calls(3, lambda m: (np.ones(3),)), backend=backend)
    assert f.fallbacks == [] and list(module.acc.total) == [3.0, 3.0, 3.0]
    assert f(np.ones(3)) is module.acc.total      # the state array itself, as in NumPy
    f, _ = check_like_eager(INPLACE, "add_out", calls(2, lambda m: (np.ones(3), np.zeros(3))), backend=backend)
    assert f.fallbacks == []


def test_state_is_restored_when_the_trace_fails_for_any_reason(monkeypatch):
    """The safety net: an internal error after the function changed state."""
    from tracejit.runtime import compilation

    def broken(*args, **kwargs):
        raise KeyError("a bug in a pass")
    monkeypatch.setattr(compilation, "_optimize", broken)
    monkeypatch.setenv("TRACEJIT_PLAN_CACHE", "0")          # an earlier run's stored plan would skip the passes
    f, _ = check_like_eager(EMA.replace("def update(self, g):", "def update(self, g):  # <-"), "ema.update", calls(3),
                            backend="numba", warns=1)
    assert "KeyError" in str(f.fallbacks[0])


DECAY = """
import numpy as np
class Decay:
    def __init__(self):
        self.scale = "1.0"
    def step(self, g):
        self.scale = self.scale + "0"                 # a Python string changed: not compiled
        return g * 2
opt = Decay()
"""


def test_fullgraph_raises_for_state_it_cannot_compile():
    module = __import__("tests.runtime.eager_check", fromlist=["make_module"]).make_module(DECAY, "fullgraph")
    f = tracejit.compile(module.opt.step, fullgraph=True, backend="interpret")
    with pytest.raises(tracejit.TracerError, match="self.scale"):
        f(np.ones(3))
    assert module.opt.scale == "1.0"                     # the trace's change was undone


IO = """
import numpy as np, io, logging
BUF = io.StringIO()
log = logging.getLogger("tracejit-test-io")
def writes(x):
    BUF.write(f"{x.shape}\\n")
    return x * 2
def logs(x):
    log.debug("shape %s", x.shape)
    return x * 2
"""


def test_io_other_than_print_runs_eagerly():
    f, module = check_like_eager(IO, "writes", calls(3), warns=1, names_line=False)
    assert module.BUF.getvalue() == "(3,)\n" * 3 and "writing to global BUF" in str(f.fallbacks[0])
    f, _ = check_like_eager(IO, "logs", calls(2), warns=1, names_line=False)
    assert "logging" in str(f.fallbacks[0])


UNREPEATABLE = """
import datetime, itertools, random, time, warnings
from random import gauss
from time import perf_counter
import numpy as np
COUNTER = itertools.count()
GENERATOR = random.Random(0)
def draws(x):
    return x * random.random()
def draws_imported(x):
    return x * gauss(0, 1)
def draws_from_instance(x):
    return x * GENERATOR.random()
def clock(x):
    return x * 0 + (time.perf_counter() > 0)
def clock_imported(x):
    return x + perf_counter() * 0
def clock_datetime(x):
    return x + datetime.datetime.now().microsecond * 0
def counts(x):
    return x + next(COUNTER)
def warns(x):
    warnings.warn("careful")
    return x * 2
"""


@pytest.mark.parametrize("name, words", [
    ("draws", "random.random"), ("draws_imported", "random numbers"), ("draws_from_instance", "random numbers"),
    ("clock", "time.perf_counter"), ("clock_imported", "clock"), ("clock_datetime", "clock"),
    ("counts", "iterator"), ("warns", "warnings.warn")])
def test_reads_that_change_every_call_and_warnings_run_eagerly(name, words):
    # eager and compiled draw from their own module's generators: equal only when both run
    # eagerly, once per call (a frozen trace-time value differs on the second call)
    module = make_module(UNREPEATABLE, "unrepeatable")
    random.seed(5)
    f = tracejit.compile(getattr(module, name), backend="interpret")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        compiled = [f(np.arange(3.0)) for _ in range(3)]
    random.seed(5)
    eager_module = make_module(UNREPEATABLE, "unrepeatable_eager")
    with warnings.catch_warnings(record=True) as caught_eager:
        warnings.simplefilter("always")
        eager = [getattr(eager_module, name)(np.arange(3.0)) for _ in range(3)]
    if name not in ("clock", "clock_imported", "clock_datetime"):
        for c, e in zip(compiled, eager):
            np.testing.assert_array_equal(c, e)
    assert len(f.fallbacks) == 1 and words in str(f.fallbacks[0])
    user_warnings = [w for w in caught if not issubclass(w.category, tracejit.FallbackWarning)]
    assert len(user_warnings) == len(caught_eager)


def test_iterators_generators_and_random_sources_passed_as_arguments_run_eagerly():
    import itertools
    import time

    def numbers():
        n = 0
        while True:
            n += 1
            yield n
    counter, generator, source = itertools.count(), numbers(), random.Random(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", tracejit.FallbackWarning)
        f = tracejit.compile(lambda x, it: x * next(it), backend="interpret")
        assert [f(np.ones(1), counter)[0] for _ in range(3)] == [0.0, 1.0, 2.0]
        assert [f(np.ones(1), generator)[0] for _ in range(3)] == [1.0, 2.0, 3.0]
        g = tracejit.compile(lambda x, r: x * r.random(), backend="interpret")
        drawn = [g(np.ones(1), source)[0] for _ in range(3)]
        reference = random.Random(0)
        assert drawn == [reference.random() for _ in range(3)]
        h = tracejit.compile(lambda x, clock=time.perf_counter: x * clock(), backend="interpret")
        assert len({h(np.ones(1))[0] for _ in range(3)}) == 3
        k = tracejit.compile(lambda x, fn: x * fn(), backend="interpret")
        step = itertools.count().__next__
        assert [k(np.ones(1), step)[0] for _ in range(3)] == [0.0, 1.0, 2.0]


DEAD_BRANCHES = """
import random, time, warnings
import numpy as np
def checked(x, verbose=False):
    if verbose:
        print(time.perf_counter(), random.random())
    if x.ndim != 1:
        warnings.warn("expected a vector")
    return x * 2
"""


def test_clocks_random_numbers_and_warnings_in_branches_the_trace_skips_do_not_fall_back():
    f, _ = check_like_eager(DEAD_BRANCHES, "checked", [lambda m: (np.arange(3.0),)] * 3, backend="interpret")
    assert f.fallbacks == [] and len(f.compiles) == 1
