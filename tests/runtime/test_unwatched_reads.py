"""Reads that no entry of the discovered state covers: guarded where they can be,
else an eager fallback that names them, never a value frozen at trace time.

Each case runs the compiled function, changes what it read, and runs it again; both
results must equal eager NumPy's, and the function must compile (guarded) or fall
back with one warning naming the read, as the case states.
"""
import functools
import operator
import os
import sys
import types
import warnings
import weakref

import numpy as np
import pytest

import tracejit

X = np.arange(3.0)


class GetattrObject:
    def __init__(self):
        self._values = {"scale": 2.0}

    def __getattr__(self, name):
        return self._values[name]


class GetattributeObject:
    def __init__(self):
        self.base, self.mult = 2.0, 1.0

    def __getattribute__(self, name):
        if name == "scale":
            return object.__getattribute__(self, "base") * object.__getattribute__(self, "mult")
        return object.__getattribute__(self, name)


class Doubled:
    def __get__(self, obj, owner):
        return obj.base * 2


class DescriptorObject:
    scale = Doubled()

    def __init__(self):
        self.base = 1.0


class CachedObject:
    def __init__(self):
        self.base = 1.0

    @functools.cached_property
    def scale(self):
        return self.base * 3


class Plain:
    def __init__(self, scale=2.0):
        self.scale = scale

    def act(self, v):
        return v * 2


class AttrDict(dict):
    __getattr__ = dict.__getitem__


def read_scale(x, o):
    return x * o.scale


GET_SCALE = operator.attrgetter("scale")


def read_with_attrgetter(x, o):
    return x * GET_SCALE(o)


TARGET = Plain()
TARGET_REF = weakref.ref(TARGET)


def read_through_weakref(x):
    return x * TARGET_REF().scale


CONFIG_MODULE = types.ModuleType("tj_unwatched_config")
CONFIG_MODULE.scale = 2.0
sys.modules[CONFIG_MODULE.__name__] = CONFIG_MODULE


def read_imported_module(x):
    import tj_unwatched_config
    return x * tj_unwatched_config.scale


def read_from_imported_name(x):
    from tj_unwatched_config import scale
    return x * scale


SCALE = 2.0


def read_globals_dict(x):
    return x * globals()["SCALE"]


def read_environment(x):
    return x * float(os.environ["TJ_UNWATCHED_SCALE"])


def call_method(x, o):
    return o.act(x)


OBJECTS = np.array([Plain(1.0), Plain(2.0)], dtype=object)


def read_object_array(x):
    return x * OBJECTS[0].scale


ATTR_CONFIG = AttrDict(scale=2.0, w=np.ones(3))


def read_attr_dict(x):
    return x * ATTR_CONFIG.scale + ATTR_CONFIG.w


def _set_global(name, value):
    globals()[name] = value


def _uncache(obj):
    del obj.scale
    obj.base = 5.0


# (name, function, argument objects, the change, falls back (the words of its warning) or None)
CASES = [
    ("__getattr__", read_scale, lambda: [GetattrObject()], lambda o: o._values.update(scale=5.0), "__getattr__"),
    ("__getattribute__", read_scale, lambda: [GetattributeObject()], lambda o: setattr(o, "mult", 3.0),
     "__getattribute__"),
    ("descriptor", read_scale, lambda: [DescriptorObject()], lambda o: setattr(o, "base", 4.0), "Doubled descriptor"),
    ("cached_property", read_scale, lambda: [CachedObject()], _uncache, "cached_property"),
    ("attrgetter", read_with_attrgetter, lambda: [Plain()], lambda o: setattr(o, "scale", 9.0), None),
    ("weakref", read_through_weakref, lambda: [], lambda: setattr(TARGET, "scale", 7.0), "weak reference"),
    ("import", read_imported_module, lambda: [], lambda: setattr(CONFIG_MODULE, "scale", 8.0), None),
    ("from import", read_from_imported_name, lambda: [], lambda: setattr(CONFIG_MODULE, "scale", 6.0), None),
    ("globals()", read_globals_dict, lambda: [], lambda: _set_global("SCALE", 11.0), None),
    ("os.environ", read_environment, lambda: [], lambda: os.environ.update(TJ_UNWATCHED_SCALE="3"), "os.environ"),
    ("shadowing attribute", call_method, lambda: [Plain()], lambda o: setattr(o, "act", lambda v: v * 100), None),
    ("object array", read_object_array, lambda: [], lambda: OBJECTS.__setitem__(0, Plain(5.0)), "object array"),
    ("attribute dict", read_attr_dict, lambda: [], lambda: ATTR_CONFIG.update(scale=4.0, w=np.zeros(3)), None),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_reads_outside_the_guarded_state_are_never_frozen(case, monkeypatch):
    name, fn, objects, change, fallback_words = case
    monkeypatch.setenv("TJ_UNWATCHED_SCALE", "2")
    monkeypatch.setattr(CONFIG_MODULE, "scale", 2.0)
    monkeypatch.setitem(globals(), "SCALE", 2.0)
    monkeypatch.setattr(TARGET, "scale", 2.0)
    OBJECTS[0] = Plain(1.0)
    ATTR_CONFIG.update(scale=2.0, w=np.ones(3))
    args = [X] + objects()
    f = tracejit.compile(fn, backend="interpret")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        np.testing.assert_array_equal(f(*args), fn(*args))
        change(*args[1:])
        np.testing.assert_array_equal(f(*args), fn(*args))
    fallbacks = [str(w.message) for w in caught if issubclass(w.category, tracejit.FallbackWarning)]
    if fallback_words is None:
        assert fallbacks == [] and len(f.compiles) >= 1, fallbacks
    else:
        assert len(fallbacks) == 1 and fallback_words in fallbacks[0], fallbacks
        assert __file__ in fallbacks[0]                 # it names the user's line


class Leaky:
    slope = 0.0

    def __call__(self, x):
        return np.maximum(x, self.slope * x)


class WithProperty:
    @property
    def k(self):
        return 2.0


class Lazy:
    def __init__(self):
        self.lr = 0.5

    def __getattr__(self, name):
        raise AttributeError(name)


def _package(tmp_path, name):
    """A package `name` with utils.scale = 2.0, a same-named top-level utils (100.0),
    and model.py whose functions import utils relatively and lazily."""
    root = tmp_path / name
    (root / name).mkdir(parents=True)
    (root / name / "__init__.py").write_text("")
    (root / name / "utils.py").write_text("scale = 2.0\n")
    (root / name / "model.py").write_text(
        "def relative(x):\n    from .utils import scale\n    return x * scale\n"
        "def relative_module(x):\n    from . import utils\n    return x * utils.scale\n"
        f"def lazy(x):\n    import {name}_lazy\n    return x * {name}_lazy.scale\n")
    (root / "utils.py").write_text("scale = 100.0\n")
    (root / f"{name}_lazy.py").write_text("scale = 3.0\n")
    return root


@pytest.mark.parametrize("function", ["relative", "relative_module", "lazy"])
def test_relative_and_first_time_imports_inside_the_function_are_guarded(tmp_path, monkeypatch, function):
    name = f"tjpkg_{function}"
    monkeypatch.syspath_prepend(str(_package(tmp_path, name)))
    import importlib
    model = importlib.import_module(f"{name}.model")
    fn = getattr(model, function)
    f = tracejit.compile(fn, backend="interpret")
    with warnings.catch_warnings():
        warnings.simplefilter("error", tracejit.FallbackWarning)
        np.testing.assert_array_equal(f(X), fn(X))
        changed = sys.modules[f"{name}_lazy" if function == "lazy" else f"{name}.utils"]
        changed.scale = 5.0
        np.testing.assert_array_equal(f(X), fn(X))
    assert len(f.compiles) == 2


def test_modules_named_by_string_and_any_global_read_through_globals_are_guarded(monkeypatch):
    import importlib
    monkeypatch.setattr(CONFIG_MODULE, "scale", 2.0)
    monkeypatch.setitem(globals(), "SCALE", 2.0)
    name = "SCALE"
    for fn in (lambda x: x * importlib.import_module("tj_unwatched_config").scale,
               lambda x: x * sys.modules["tj_unwatched_config"].scale, lambda x: x * globals()[name]):
        f = tracejit.compile(fn, backend="interpret")
        np.testing.assert_array_equal(f(X), fn(X))
        CONFIG_MODULE.scale, globals()["SCALE"] = CONFIG_MODULE.scale + 1, globals()["SCALE"] + 1
        np.testing.assert_array_equal(f(X), fn(X))
        assert f.fallbacks == []


def test_classes_instantiated_inside_and_properties_replaced_on_the_class_are_guarded(monkeypatch):
    x = np.array([-2.0, 1.0])
    by_argument = tracejit.compile(lambda x, act: act()(x), backend="interpret")
    by_name = tracejit.compile(lambda x: Leaky()(x), backend="interpret")
    prop = tracejit.compile(lambda x, p: x * p.k, backend="interpret")
    obj = WithProperty()
    np.testing.assert_array_equal(by_argument(x, Leaky), [0.0, 1.0])
    np.testing.assert_array_equal(by_name(x), [0.0, 1.0])
    assert prop(x, obj).tolist() == [-4.0, 2.0]
    monkeypatch.setattr(Leaky, "slope", 0.5)
    monkeypatch.setattr(WithProperty, "k", property(lambda self: 100.0))
    np.testing.assert_array_equal(by_argument(x, Leaky), [-1.0, 1.0])
    np.testing.assert_array_equal(by_name(x), [-1.0, 1.0])
    assert prop(x, obj).tolist() == [-200.0, 100.0]


def test_ordinary_objects_do_not_fall_back():
    # a __getattr__ that only raises, with array method names in the code; enum values
    import enum

    class Mode(enum.Enum):
        TRAIN = 1
        EVAL = 2
    with warnings.catch_warnings():
        warnings.simplefilter("error", tracejit.FallbackWarning)
        f = tracejit.compile(lambda x, c: x.sum() * c.lr, backend="interpret")
        assert f(X, Lazy()) == 1.5
        g = tracejit.compile(lambda x, m: x * m.value, backend="interpret")
        assert g(X, Mode.EVAL).tolist() == [0.0, 2.0, 4.0]
