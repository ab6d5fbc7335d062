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
        assert "CFG" in f.compiles[-1].reason and "rebound" in f.compiles[-1].reason
        CFG["layers"][0] = np.full(3, -1.0)
        np.testing.assert_array_equal(f(x), uses_containers(x))
        SETTINGS.w = np.zeros(3)
        np.testing.assert_array_equal(f(x), uses_containers(x))
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
