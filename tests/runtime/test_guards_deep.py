"""Guards never go stale (issue 7, section 2): everything a trace read, at any depth.

Each test changes what the compiled function reads between calls (rebinding,
in-place updates, new values, new shapes) and compares with eager NumPy.
"""
import gc
import sys
import types
import weakref

import numpy as np
import pytest

import tracejit
from tests.runtime.eager_check import make_module

rng = np.random.default_rng(7)


def _same(compiled, eager):
    np.testing.assert_allclose(compiled, eager, rtol=1e-12, atol=0)
    assert np.asarray(compiled).dtype == np.asarray(eager).dtype


class Attn:
    def __init__(self, d):
        self.w = rng.standard_normal((d, d))
        self.scale = 0.5


class Block:
    def __init__(self, d):
        self.attn = Attn(d)


class Model:
    def __init__(self, d=4, n=2):
        self.blocks = [Block(d) for _ in range(n)]


def deep_forward(model, x):
    return x @ model.blocks[0].attn.w * model.blocks[0].attn.scale + x @ model.blocks[1].attn.w


@pytest.mark.parametrize("backend", ["interpret", "numba"])
def test_attributes_at_any_depth(backend):
    f = tracejit.compile(deep_forward, backend=backend)
    model, x = Model(), rng.standard_normal((3, 4))
    _same(f(model, x), deep_forward(model, x))
    model.blocks[0].attn.w[0, 0] = 100.0                 # in place
    _same(f(model, x), deep_forward(model, x))
    model.blocks[0].attn.w = rng.standard_normal((4, 4))  # rebound, same shape: no retrace
    _same(f(model, x), deep_forward(model, x))
    assert len(f.compiles) == 1
    model.blocks[0].attn.scale = 3.0                     # a scalar deep down
    _same(f(model, x), deep_forward(model, x))
    model.blocks[1] = Block(4)                           # a list item replaced
    _same(f(model, x), deep_forward(model, x))
    model.blocks[0].attn = Attn(4)                       # an object replaced
    _same(f(model, x), deep_forward(model, x))
    model.blocks[0].attn.w = rng.standard_normal((4, 1))  # new shape
    _same(f(model, x), deep_forward(model, x))


CFG = {"model": {"layers": [{"w": np.ones(3), "act": "relu", "gain": 2.0}]}}


def nested_config(x):
    layer = CFG["model"]["layers"][0]
    y = x * layer["w"] * layer["gain"]
    return np.maximum(y, 0) if layer["act"] == "relu" else np.tanh(y)


def test_containers_at_any_depth():
    f = tracejit.compile(nested_config, backend="interpret")
    x = np.linspace(-1, 1, 3)
    saved = CFG["model"]["layers"][0].copy()
    try:
        for change in (lambda d: d["w"].__setitem__(0, 5.0), lambda d: d.__setitem__("w", np.full(3, -2.0)),
                       lambda d: d.__setitem__("gain", 0.5), lambda d: d.__setitem__("act", "tanh"),
                       lambda d: CFG["model"].__setitem__("layers", [{"w": np.ones(3), "act": "relu",
                                                                      "gain": 7.0}])):
            change(CFG["model"]["layers"][0])
            _same(f(x), nested_config(x))
    finally:
        CFG["model"]["layers"] = [saved]


MODULE_SOURCE = """
import numpy as np
W = np.ones(3)
SCALE = 2.0
"""


def test_module_attributes():
    cfg = make_module(MODULE_SOURCE, "cfg")
    user = make_module("import numpy as np\ndef f(x):\n    return x * cfg.W * cfg.SCALE\n", "user")
    user.cfg = cfg
    f = tracejit.compile(user.f, backend="interpret")
    x = np.arange(3.0)
    _same(f(x), user.f(x))
    cfg.SCALE = 5.0
    _same(f(x), user.f(x))
    cfg.W = np.full(3, -1.0)
    _same(f(x), user.f(x))
    cfg.W[1] = 9.0
    _same(f(x), user.f(x))
    assert len(f.compiles) == 2                      # only the scalar change retraced


def relu(x):
    return np.maximum(x, 0)


def neg(x):
    return -x


act = relu


def uses_act(x):
    return act(x) * 2


def test_global_functions_rebound():
    global act
    f = tracejit.compile(uses_act, backend="interpret")
    x = np.linspace(-1, 1, 5)
    _same(f(x), uses_act(x))
    act = neg
    try:
        _same(f(x), uses_act(x))
    finally:
        act = relu
    _same(f(x), uses_act(x))


class Slotted:
    __slots__ = ("w", "scale", "__weakref__")

    def __init__(self):
        self.w = np.ones(3)
        self.scale = 2.0

    def apply(self, x):
        return x * self.w * self.scale


def test_slots_objects():
    s = Slotted()
    f = tracejit.compile(Slotted.apply, backend="interpret")
    x = np.arange(3.0)
    _same(f(s, x), s.apply(x))
    s.scale = 4.0
    _same(f(s, x), s.apply(x))
    s.w = np.full(3, 0.5)
    _same(f(s, x), s.apply(x))
    s.w[0] = -1
    _same(f(s, x), s.apply(x))


def test_static_arguments_compared_by_value_and_type():
    def scale(x, k):
        return x * k, type(k).__name__
    f = tracejit.compile(scale, static_argnames=("k",), backend="interpret")
    x = np.arange(3)
    for k in (1, True, 1.0, np.float32(1.0), 2, 0.0, -0.0, float("nan"), float("nan"), (1, 2)[0]):
        got, want = f(x, k), scale(x, k)
        assert got[1] == want[1]
        _same(got[0], want[0])
        assert np.array_equal(np.signbit(got[0]), np.signbit(want[0]))        # -0.0 is not 0.0
    assert len(f.compiles) == 8            # 1, True, 1.0, float32, 2, 0.0, -0.0, nan (once: NaN is NaN)


def test_dtype_objects_types_and_modules_are_static_arguments():
    def cast(xp, x, dtype):
        return xp.astype(x, dtype)
    f = tracejit.compile(cast, backend="interpret")
    x = np.arange(4)
    for dtype in (np.float32, np.dtype("float64"), "int8", np.float32):
        out = f(np, x, dtype)
        assert out.dtype == np.dtype(dtype)
        _same(out, cast(np, x, dtype))
    assert f.fallbacks == [] and len(f.compiles) == 3


class Layer:
    def __init__(self, scale):
        self.w = np.full(3, scale)
        self.scale = 1.0

    @tracejit.compile
    def forward(self, x):
        return x * self.w * self.scale


def test_compiled_methods_do_not_keep_instances_alive():
    x = np.ones(3)
    refs, weights = [], []
    for i in range(5):
        layer = Layer(float(i))
        np.testing.assert_allclose(layer.forward(x), float(i))
        refs.append(weakref.ref(layer))
        weights.append(weakref.ref(layer.w))
        del layer
    gc.collect()
    assert [r() for r in refs] == [None] * 5
    assert [w() for w in weights] == [None] * 5            # nor their arrays
    assert len(Layer.forward.compiles) == 1                # same structure: one specialization


def test_instances_with_different_state_get_their_own_results():
    a, b = Layer(1.0), Layer(2.0)
    b.scale = 3.0
    x = np.ones(3)
    for _ in range(2):
        np.testing.assert_allclose(a.forward(x), 1.0)
        np.testing.assert_allclose(b.forward(x), 6.0)


ITERATED = {"a": 1.0, "b": 2.0}


def sums_values(x):
    total = 0.0
    for key in ITERATED:
        total = total + ITERATED[key]
    return x * total


def test_dicts_iterated_by_the_code_are_guarded_entirely():
    f = tracejit.compile(sums_values, backend="interpret")
    x = np.ones(2)
    _same(f(x), sums_values(x))
    ITERATED["c"] = 4.0
    try:
        _same(f(x), sums_values(x))
        ITERATED["a"] = 10.0
        _same(f(x), sums_values(x))
    finally:
        ITERATED.clear()
        ITERATED.update({"a": 1.0, "b": 2.0})


class Stats:
    def __init__(self):
        self.w = np.arange(4.0)

    @property
    def weight(self):
        return self.w.T * 2

    def total(self, x):
        return x * self.w.sum() + x @ self.weight      # eager math on state, a property


def test_eager_numpy_code_on_state_arrays_is_traced_not_frozen():
    s = Stats()
    f = tracejit.compile(s.total, backend="interpret")
    x = np.ones(4)
    _same(f(x), s.total(x))
    s.w[0] = 100.0
    _same(f(x), s.total(x))
    s.w = np.full(4, -1.0)
    _same(f(x), s.total(x))
    assert len(f.compiles) == 1


def test_guard_cost_stays_small_for_100_weight_attributes():
    """Not timed (no test asserts on time): the guards read each attribute once."""
    body = "".join(f"    h = h + self.w{i}\n" for i in range(100))
    module = make_module(f"import numpy as np\ndef forward(self, x):\n    h = x\n{body}    return h\n", "hundred")

    class Big:
        pass
    big = Big()
    for i in range(100):
        setattr(big, f"w{i}", np.full(2, float(i)))
    f = tracejit.compile(module.forward, backend="interpret")
    x = np.zeros(2)
    _same(f(big, x), module.forward(big, x))
    spec = f.specializations()[0]
    inputs, _ = spec.match((big, x))
    assert len(inputs) == 100 and {id(a) for a in inputs} == {id(getattr(big, f"w{i}")) for i in range(100)}
    big.w5 = np.full(2, 50.0)
    _same(f(big, x), module.forward(big, x))
    assert len(f.compiles) == 1
    assert "hundred" in sys.modules[module.__name__].__name__ and isinstance(module, types.ModuleType)


class Dense:
    def __init__(self, d, seed):
        r = np.random.default_rng(seed)
        self.w, self.b = r.standard_normal((d, d)) * 0.3, r.standard_normal(d)

    def __call__(self, x):
        return np.tanh(x @ self.w + self.b)


class Stack:
    def __init__(self, n, d):
        self.layers = [Dense(d, i) for i in range(n)]
        self.gain = [1.0 + i for i in range(n)]

    @tracejit.compile(backend="numba")
    def forward(self, x):
        for layer, gain in zip(self.layers, self.gain):
            x = layer(x) * gain
        return x


def test_lists_of_same_shaped_objects_feed_the_plan_in_order():
    s, x = Stack(6, 5), rng.standard_normal((3, 5))
    _same(s.forward(x), Stack.forward.fn(s, x))
    s.layers[3].w = rng.standard_normal((5, 5))           # rebound: read live
    s.layers[1].b[:] = 7.0                                # in place
    _same(s.forward(x), Stack.forward.fn(s, x))
    assert len(Stack.forward.compiles) == 1
    s.gain[2] = -1.0
    _same(s.forward(x), Stack.forward.fn(s, x))
    s.layers.append(Dense(5, 9))
    s.gain.append(0.5)
    _same(s.forward(x), Stack.forward.fn(s, x))


def test_object_arguments_that_were_one_object_stay_one_object():
    def mix(a, b, x):
        a.w = a.w * 2
        return x * b.w
    f = tracejit.compile(mix, backend="interpret")
    shared = Layer(1.0)
    np.testing.assert_allclose(f(shared, shared, np.ones(3)), 2.0)      # b.w is the new a.w
    one, two = Layer(1.0), Layer(5.0)
    np.testing.assert_allclose(f(one, two, np.ones(3)), 5.0)
    np.testing.assert_allclose(one.w, 2.0)


def test_standard_library_namespaces_are_state():
    """types.SimpleNamespace and argparse.Namespace hold user data: what the code reads
    from them is guarded like a plain object's attributes."""
    import argparse
    import types
    model = types.SimpleNamespace(blocks=[types.SimpleNamespace(attn=types.SimpleNamespace(w=np.ones(2)))])
    opts = argparse.Namespace(scale=2.0)

    def use(x):
        return x * model.blocks[0].attn.w * opts.scale
    f = tracejit.compile(use, backend="interpret")
    np.testing.assert_array_equal(f(np.ones(2)), [2.0, 2.0])
    model.blocks[0].attn.w = np.full(2, 3.0)
    np.testing.assert_array_equal(f(np.ones(2)), [6.0, 6.0])
    model.blocks = [types.SimpleNamespace(attn=types.SimpleNamespace(w=np.full(2, 5.0)))]
    opts.scale = 0.5
    np.testing.assert_array_equal(f(np.ones(2)), use(np.ones(2)))


CLASS_ARGUMENT_SOURCE = """
import numpy as np
class Config:
    scale = 2.0
    w = np.ones(3)
    @staticmethod
    def act(v):
        return np.maximum(v, 0)
class Wide(Config):
    scale = 10.0
class Model:
    k = 2
    @classmethod
    def run(cls, x):
        return x * cls.k
def forward(x, cfg):
    return cfg.act(x) * cfg.scale + cfg.w
def accumulate(stats, x):
    stats.w = stats.w + x
    return stats.w.sum()
"""


@pytest.mark.parametrize("static", [False, True])
def test_classes_and_modules_passed_as_arguments_are_guarded_like_globals(static):
    m = make_module(CLASS_ARGUMENT_SOURCE, "classarg")
    options = {"static_argnames": ("cfg",)} if static else {}
    f = tracejit.compile(m.forward, backend="interpret", recompile_limit=100, **options)
    x = np.array([-1.0, 2.0, 3.0])
    ns = make_module("import numpy as np\nscale = 3.0\nw = np.zeros(3)\ndef act(v):\n    return -v\n", "ns")
    steps = [lambda: None, lambda: setattr(m.Config, "scale", 3.0), lambda: setattr(m.Config, "w", np.zeros(3)),
             lambda: m.Config.w.__setitem__(1, 7.0), lambda: setattr(m.Config, "act", staticmethod(np.abs))]
    for change in steps:
        change()
        for cfg in (m.Config, m.Wide, ns):
            _same(f(x, cfg), m.forward(x, cfg))
        ns.scale += 1.0
    assert f.fallbacks == []


def test_a_compiled_classmethod_sees_its_class_attributes_change():
    m = make_module(CLASS_ARGUMENT_SOURCE, "classmethod")
    m.Model.run = classmethod(tracejit.compile(m.Model.run.__func__, backend="interpret"))
    x = np.arange(3.0)
    _same(m.Model.run(x), x * 2)
    m.Model.k = 5
    _same(m.Model.run(x), x * 5)


def test_array_state_rebound_on_a_class_argument_is_written_back():
    m = make_module(CLASS_ARGUMENT_SOURCE, "classstate")
    f = tracejit.compile(m.accumulate, backend="interpret")
    x = np.arange(3.0)
    for expected in (6.0, 9.0, 12.0):
        assert f(m.Config, x) == expected
    _same(m.Config.w, np.ones(3) + 3 * x)


class Unit:
    def __init__(self):
        self.w = np.ones(3)

    def act(self, v):
        return v * 2


class Holder:
    def __init__(self):
        self.inner, self.units = Unit(), [Unit() for _ in range(4)]

    def run(self, x):
        x = self.inner.act(x)
        for unit in self.units:
            x = unit.act(x) + unit.w
        return x


def _guard_nodes(guard) -> int:
    return 1 + sum(_guard_nodes(kid) for kid in guard.kids)


def test_an_instance_attribute_hiding_a_method_is_noticed_at_any_depth():
    holder, x = Holder(), np.ones(3)
    f = tracejit.compile(lambda h, x: h.run(x), backend="interpret")
    _same(f(holder, x), holder.run(x))
    guard_tree = f.specializations()[0].guard
    # h, h.inner and h.units: the four units are one row-wise getter, not four nodes
    assert sum(_guard_nodes(g) for pos, _, g in guard_tree.roots if pos >= 0) == 3
    holder.inner.act = lambda v: v * 100             # hides Unit.act on a merged attribute object
    _same(f(holder, x), holder.run(x))
    holder.units[2].act = lambda v: v * 0            # on one object of a list read row-wise
    _same(f(holder, x), holder.run(x))
    del holder.units[2].act
    _same(f(holder, x), holder.run(x))


class Momentum:
    """An optimizer whose state dict is read and rebound by keys of the argument dict:
    no key is a constant of its code, so every entry must be state (it was frozen at
    the first trace: the second step read the first step's momentum)."""

    def __init__(self):
        self.m = {"w": np.zeros(3, np.float32), "b": np.zeros(2, np.float32)}
        self.beta = 0.9

    def step(self, params, grads):
        for k in grads:
            self.m[k] = self.beta * self.m[k] + (1 - self.beta) * grads[k]
            params[k] -= 0.1 * self.m[k]
        return params["w"].sum()


@pytest.mark.parametrize("backend", ["interpret", "numba"])
def test_state_dict_entries_read_by_variable_keys_are_state(backend):
    def fresh():
        r = np.random.default_rng(3)
        return (Momentum(), {"w": r.standard_normal(3).astype(np.float32), "b": r.standard_normal(2).astype(np.float32)},
                {"w": r.standard_normal(3).astype(np.float32), "b": r.standard_normal(2).astype(np.float32)})
    (opt_e, params_e, grads_e), (opt_c, params_c, grads_c) = fresh(), fresh()
    step = tracejit.compile(opt_c.step, backend=backend)
    for _ in range(4):
        _same(step(params_c, grads_c), opt_e.step(params_e, grads_e))
        for k in params_e:
            np.testing.assert_allclose(opt_c.m[k], opt_e.m[k], rtol=1e-6)
            np.testing.assert_allclose(params_c[k], params_e[k], rtol=1e-6)
    assert len(step.compiles) == 1


IDENTITY_AND_DYNAMIC = """
import functools
import numpy as np
class Cfg:
    def __init__(self, k):
        self.k = k
DEFAULT, OTHER = Cfg(1), Cfg(1)
class Model:
    TABLE = {DEFAULT: 2.0, OTHER: 3.0}
    def __init__(self):
        self.cfg = DEFAULT
        self.a, self.b = np.ones(2), np.full(2, 2.0)
    def scaled(self, x):
        return x * 2 if self.cfg is DEFAULT else x * 3
    def equal(self, x):
        return x * (5.0 if self.cfg == DEFAULT else 6.0)
    def looked_up(self, x):
        return x * self.TABLE[self.cfg]
class Bag:
    def __init__(self):
        self.a, self.b = np.ones(2), np.full(2, 2.0)
    def total(self, x):
        return sum(v * x for k, v in sorted(vars(self).items()))
model, bag = Model(), Bag()
clip = functools.partial(np.clip, a_min=0.0, a_max=1.0)
def clipped(x):
    return clip(x) * 2
"""


def _run_changes(changes, name, backend, x=(-1.0, 0.5, 2.0)):
    from tests.runtime.eager_check import check_like_eager

    def call(change):
        def make(module):
            change(module)
            return (np.array(x),)
        return make
    check_like_eager(IDENTITY_AND_DYNAMIC, name, [call(c) for c in changes], backend=backend)


@pytest.mark.parametrize("backend", ["interpret", "numba"])
def test_an_object_reached_twice_is_guarded_by_identity_on_both_paths(backend):
    """``self.cfg is DEFAULT``: an equal but other Cfg object on self is a change."""
    _run_changes([lambda m: None, lambda m: setattr(m.model, "cfg", m.Cfg(1)),
                  lambda m: setattr(m.model, "cfg", m.DEFAULT)], "model.scaled", backend)


@pytest.mark.parametrize("backend", ["interpret", "numba"])
@pytest.mark.parametrize("name", ["model.equal", "model.looked_up"])
def test_objects_compared_without_an_eq_or_used_as_keys_are_guarded_by_identity(name, backend):
    """`self.cfg == DEFAULT` (object's own ==) and `TABLE[self.cfg]` depend on which
    object it is: after DEFAULT, OTHER, then DEFAULT again, each call is eager's."""
    _run_changes([lambda m: None, lambda m: setattr(m.model, "cfg", m.OTHER),
                  lambda m: setattr(m.model, "cfg", m.DEFAULT)], name, backend)


@pytest.mark.parametrize("backend", ["interpret", "numba"])
def test_vars_of_an_object_notices_an_attribute_added(backend):
    _run_changes([lambda m: None, lambda m: setattr(m.bag, "c", np.full(2, 10.0)),
                  lambda m: delattr(m.bag, "a")], "bag.total", backend, x=(-1.0, 0.5))


@pytest.mark.parametrize("backend", ["interpret", "numba"])
def test_a_partials_arguments_and_keywords_are_guarded(backend):
    _run_changes([lambda m: None, lambda m: m.clip.keywords.__setitem__("a_max", 0.5),
                  lambda m: setattr(m, "clip", m.functools.partial(m.np.clip, a_min=-2.0, a_max=3.0))],
                 "clipped", backend)


def test_objects_compared_with_nothing_still_share_a_specialization():
    """Code with an `==` on arrays pins no object whose class is not a named constant's:
    two models of one structure share the trace (and their blocks' row-wise guards)."""
    module = make_module("""
import numpy as np
class Block:
    def __init__(self):
        self.w, self.b = np.ones(4), np.zeros(4)
class Model:
    def __init__(self):
        self.blocks = [Block() for _ in range(6)]
def forward(m, x):
    for block in m.blocks:
        x = x * block.w + block.b
    return np.where(x == 0, 1.0, x)
""", "shared_structure")
    f = tracejit.compile(module.forward, backend="interpret")
    for model in (module.Model(), module.Model()):
        np.testing.assert_array_equal(f(model, np.arange(4.0)), module.forward(model, np.arange(4.0)))
    assert len(f.compiles) == 1
