"""What a compiled function reads besides its arguments is guarded, not baked in."""
import numpy as np

import tracejit

CFG = {"w": np.ones(3), "layers": [np.full(3, 2.0)]}
LR = 0.1
SCALE = 2


class Settings:
    def __init__(self):
        self.w = np.full(3, 3.0)


SETTINGS = Settings()


def uses_containers(x):
    return x * CFG["w"] + CFG["layers"][0] + SETTINGS.w


def test_arrays_inside_global_containers_are_guarded():
    f = tracejit.compile(uses_containers)
    x = np.arange(3.0)
    np.testing.assert_array_equal(f(x), uses_containers(x))
    old = CFG["w"], CFG["layers"][0], SETTINGS.w
    try:
        CFG["w"] = np.full(3, 5.0)
        np.testing.assert_array_equal(f(x), uses_containers(x))
        CFG["layers"][0] = np.full(3, -1.0)
        np.testing.assert_array_equal(f(x), uses_containers(x))
        SETTINGS.w = np.zeros(3)
        np.testing.assert_array_equal(f(x), uses_containers(x))
        assert len(f.compiles) == 1          # same shapes: the new arrays are read live
        CFG["w"] = np.full((2, 3), 5.0)
        np.testing.assert_array_equal(f(x), uses_containers(x))
        assert "CFG" in f.compiles[-1].reason and "rebound" in f.compiles[-1].reason
    finally:
        CFG["w"], CFG["layers"][0], SETTINGS.w = old


def sgd(p, g):
    return p - LR * g * SCALE


def helper_scale(x):
    return x * SCALE


def uses_helper(x):
    return helper_scale(x) + 1.0


def test_global_scalars_are_guarded_by_value():
    global LR, SCALE
    f = tracejit.compile(sgd)
    h = tracejit.compile(uses_helper)
    p, g = np.ones(4), np.full(4, 0.5)
    np.testing.assert_allclose(f(p, g), sgd(p, g))
    np.testing.assert_allclose(h(p), uses_helper(p))
    old = LR, SCALE
    try:
        LR = 0.5
        np.testing.assert_allclose(f(p, g), sgd(p, g))
        assert "LR" in f.compiles[-1].reason and "0.5" in f.compiles[-1].reason
        SCALE = 3
        np.testing.assert_allclose(f(p, g), sgd(p, g))
        np.testing.assert_allclose(h(p), uses_helper(p))      # read inside a helper function
    finally:
        LR, SCALE = old


def test_closure_scalars_and_self_attributes_are_guarded():
    eps = 1e-3

    def f(x):
        return x + eps
    c = tracejit.compile(f)
    x = np.zeros(2)
    np.testing.assert_allclose(c(x), x + eps)
    eps = 2.0
    np.testing.assert_allclose(c(x), x + 2.0)

    class Layer:
        def __init__(self):
            self.scale = 2.0

        def forward(self, x):
            return x * self.scale
    layer = Layer()
    forward = tracejit.compile(layer.forward)
    np.testing.assert_allclose(forward(np.ones(2)), 2.0)
    layer.scale = 4.0
    np.testing.assert_allclose(forward(np.ones(2)), 4.0)


HYPER = {"lr": 0.1, "unused": 1}


class Model:
    def __init__(self):
        self.w = np.ones(3)
        self.scale = 2.0
        self.calls = 0          # changes every call, never read by the compiled code

    @tracejit.compile
    def forward(self, x):
        self.calls += 0         # (Python-side state is not part of the trace)
        return self._apply(x) * HYPER["lr"]

    def _apply(self, x):
        return x * self.w * self.scale


class Scaler:
    def __init__(self):
        self.factor = np.float32(3.0)
        self.step = np.zeros(())

    def __call__(self, x):
        return x * self.factor + self.step


def test_methods_callable_objects_and_scalars_in_containers_are_guarded():
    global HYPER
    m = Model()
    x = np.arange(3.0)
    np.testing.assert_allclose(m.forward(x), x * 2.0 * 0.1)
    m.scale = 5.0                                   # read by a helper method
    np.testing.assert_allclose(m.forward(x), x * 5.0 * 0.1)
    HYPER["lr"] = 0.5                               # a scalar inside a global dict
    try:
        np.testing.assert_allclose(m.forward(x), x * 5.0 * 0.5)
        m.w = np.full(3, 2.0)                       # an array attribute of the instance
        np.testing.assert_allclose(m.forward(x), x * 2.0 * 5.0 * 0.5)
        HYPER["unused"] = 2                         # not read: no retrace
        compiles = len(Model.forward.compiles)
        m.forward(x)
        assert len(Model.forward.compiles) == compiles
    finally:
        HYPER["lr"] = 0.1
    s = Scaler()
    f = tracejit.compile(s)
    np.testing.assert_allclose(f(x), x * 3.0)
    s.factor = np.float32(4.0)                      # NumPy scalar attribute
    np.testing.assert_allclose(f(x), x * 4.0)
    s.step[()] = 1.0                                # 0-d array updated in place
    np.testing.assert_allclose(f(x), x * 4.0 + 1.0)


NAN_GLOBAL = float("nan")


def test_nan_valued_globals_do_not_retrace_every_call():
    f = tracejit.compile(lambda x: x + NAN_GLOBAL)
    for _ in range(3):
        assert np.isnan(f(np.ones(2))).all()
    assert len(f.compiles) == 1


def test_compiled_functions_can_call_compiled_functions():
    inner = tracejit.compile(lambda x: np.exp(x) + 1.0)
    outer = tracejit.compile(lambda x: inner(x) * 2.0)
    x = np.linspace(0, 1, 5)
    np.testing.assert_allclose(outer(x), (np.exp(x) + 1.0) * 2.0)
    assert outer.fallbacks == []


def test_static_positional_only_arguments_are_keyed_by_value():
    def scale(x, k, /):
        return x * k
    f = tracejit.compile(scale, static_argnames=("k",))
    x = np.ones(2)
    np.testing.assert_allclose(f(x, 0.5), 0.5)
    np.testing.assert_allclose(f(x, 0.7), 0.7)


class Optimizer:
    lr = 0.1                              # a class default, later set on the instance

    def __init__(self):
        self.t = np.zeros((), np.int64)   # a step counter updated in place

    def step(self, p, g):
        return p - self._rate() * g

    def _rate(self):
        return self.lr / (1 - 0.9 ** (self.t + 1))   # computed eagerly while tracing


def test_zero_d_counters_and_class_attributes_feeding_eager_math_are_guarded():
    opt = Optimizer()
    step = tracejit.compile(opt.step)
    p, g = np.ones(3), np.full(3, 0.5)
    np.testing.assert_allclose(step(p, g), opt.step(p, g))
    opt.t[...] = 5
    np.testing.assert_allclose(step(p, g), opt.step(p, g))
    opt.lr = 0.01
    np.testing.assert_allclose(step(p, g), opt.step(p, g))
    assert len(step.compiles) == 2           # the 0-d array is traced (read live); lr is baked in
