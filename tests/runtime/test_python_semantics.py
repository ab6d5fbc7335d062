"""Traced Python numbers keep Python's semantics, and other review findings (issue 7's
"never a silent wrong answer" for today's features): ints do not overflow, division
by zero raises ZeroDivisionError, a negative base to a fractional power is complex,
NumPy scalars are immutable, equal numbers are not changes, user classes defined by
exec or in a module named like the standard library are user state, counters keep
every thread's update, np.ascontiguousarray of a view is new memory."""
import threading

import numpy as np
import pytest

import tracejit
from tests.runtime.eager_check import check_like_eager

PROGRAMS = """
import numpy as np
class Counter:
    def __init__(self, t):
        self.t = t
        self.n = 1000
    def triple(self, g):
        self.t *= 3
        return g * (self.t % 7)
    def inverse(self, g):
        self.t += 1
        return g * (1 / self.t), g * (7 // self.t)
    def width(self, x):
        self.n = x.shape[0]
        return x * 2
BIG = Counter(3 ** 37)
SMALL = Counter(-3)
SIZE = Counter(0)
def root(x, v):
    return x * v ** 0.5   # <-
def compare(x, n):
    return x + (n > 2)
def bump_scalar(x, s):
    s += 1
    return x * s
def first_plus_one(x, ws):
    w = ws[0]
    w += 1
    return x * ws[0], w
def contiguous(x):
    return np.ascontiguousarray(x[::-1])
def float_power(x, w):
    return x * w ** 1000
def store_int(a, n):
    a[1] = n
    a[2] = 7
    return a
def store_literal(a):
    a[:2] = [300, 1]
    return a
def store_max(a, x):
    a[0] = x.max()
    a[1] = x[0]
    return a
def store_python_float(a, w):
    a[2] = w
    return a
def store_constant(a, x):
    a[x > 0] = np.inf
    return a
def fill_nan(a):
    a.fill(np.float32("nan"))
    return a
def store_as_array(a, x):
    a[0] = np.asarray(x.max())        # a 0-d array: cast, not converted (NaN gives INT64_MIN)
    return a
"""


@pytest.mark.parametrize("backend", ["interpret", "numba"])
def test_python_int_counters_do_not_overflow(backend):
    calls = [lambda m: (np.ones(2),)] * 3
    check_like_eager(PROGRAMS, "BIG.triple", calls, backend=backend, warns=1, names_line=False)


@pytest.mark.parametrize("backend", ["interpret", "numba"])
def test_division_by_a_traced_zero_raises_like_python(backend):
    calls = [lambda m: (np.ones(2),)] * 5            # t goes -2, -1, 0 (ZeroDivisionError), 1, 2
    f, _ = check_like_eager(PROGRAMS, "SMALL.inverse", calls, backend=backend)
    assert f.fallbacks == [] and len(f.compiles) == 1


def test_a_negative_base_to_a_fractional_power_is_complex_as_in_python():
    calls = [lambda m, v=v: (np.ones(2), v) for v in (4.0, 9.0, -1.0)]
    check_like_eager(PROGRAMS, "root", calls, backend="numba", warns=1)    # the warning names the line


def test_comparisons_of_traced_ints_compile():
    calls = [lambda m, n=n: (np.zeros(2), n) for n in (1, 2, 3, 5)]
    f, _ = check_like_eager(PROGRAMS, "compare", calls, backend="numba")
    assert f.fallbacks == []


@pytest.mark.parametrize("name, make", [
    ("bump_scalar", lambda m: (np.ones(2), np.float64(0.5))),
    ("first_plus_one", lambda m: (np.ones(2), [np.float32(i) for i in range(20)])),
])
def test_numpy_scalars_are_immutable(name, make):
    check_like_eager(PROGRAMS, name, [make, make])


def test_an_equal_number_stored_again_is_not_a_change():
    f, module = check_like_eager(PROGRAMS, "SIZE.width", [lambda m, n=n: (np.ones(n),) for n in (1000, 1000, 1001)])
    assert f.fallbacks == [] and module.SIZE.n == 1001


def test_ascontiguousarray_of_a_view_is_new_memory():
    check_like_eager(PROGRAMS, "contiguous", [lambda m: (np.arange(4.0),)] * 2)
    x = np.arange(4.0)
    result = tracejit.compile(contiguous_of_transpose, backend="numba")(x.reshape(2, 2))
    assert result.flags.c_contiguous and not np.shares_memory(result, x)


def contiguous_of_transpose(x):
    return np.ascontiguousarray(x.T)


def test_a_parameter_named_self_can_be_passed_by_keyword():
    def scaled(self, a):
        return a * self
    f = tracejit.compile(scaled, backend="interpret")
    np.testing.assert_array_equal(f(self=2.0, a=np.ones(2)), np.full(2, 2.0))


def test_classes_made_by_exec_are_user_state():
    space = {}
    exec("class Opt:\n    def __init__(self):\n        self.t = 0\n", space)   # __module__ == 'builtins'
    opt = space["Opt"]()

    def step(o, g):
        o.t += 1
        return g / (1 - 0.9 ** o.t)
    f = tracejit.compile(step, backend="interpret")
    got = [f(opt, np.ones(1))[0] for _ in range(3)]
    np.testing.assert_allclose(got, [10.0, 1 / 0.19, 1 / 0.271])
    assert opt.t == 3 and f.fallbacks == []


def test_a_user_module_named_like_the_standard_library_is_user_code(tmp_path, monkeypatch):
    (tmp_path / "trace.py").write_text("class Model:\n    def __init__(self):\n        self.scale = 1.0\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(__import__("sys").modules, "trace", raising=False)
    from tracejit.runtime import codeinfo
    codeinfo._in_stdlib.cache_clear()
    model = __import__("trace").Model()
    f = tracejit.compile(lambda o, x: x * o.scale, backend="interpret")
    f(model, np.ones(2))
    model.scale = 5.0
    np.testing.assert_array_equal(f(model, np.ones(2)), np.full(2, 5.0))
    codeinfo._in_stdlib.cache_clear()


STATE = {"step": 0}


def counted(x):
    STATE["step"] += 1
    return x + STATE["step"]


def test_threads_do_not_lose_counter_updates():
    f = tracejit.compile(counted, backend="interpret")
    f(np.zeros(1))

    def work():
        for _ in range(50):
            f(np.zeros(1))
    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert STATE["step"] == 201


def branch_on_type(x, lr, n):
    a = 1.0 if type(lr) is float else 2.0
    b = 10.0 if type(x) is np.ndarray else 20.0
    return x * (a + b) + (100.0 if type(n) is int else 200.0)


def test_type_of_traced_values_answers_as_in_eager_code():
    f = tracejit.compile(branch_on_type, backend="interpret")
    for n in (1, 2, 3):                       # n becomes a traced int from its second value on
        np.testing.assert_array_equal(f(np.ones(2), 0.5, n), branch_on_type(np.ones(2), 0.5, n))
    assert f.fallbacks == [] and "type" not in branch_on_type.__globals__


@pytest.mark.parametrize("backend", ["interpret", "numba"])
def test_a_python_float_power_past_float64_raises_overflow_like_python(backend):
    calls = [lambda m, w=w: (np.ones(2), w) for w in (1.5, 10.0, 1.2)]     # 10.0 ** 1000: OverflowError
    f, _ = check_like_eager(PROGRAMS, "float_power", calls, backend=backend)
    assert f.fallbacks == []


@pytest.mark.parametrize("backend", ["interpret", "numba"])
def test_python_ints_stored_into_narrow_int_arrays_raise_numpys_overflow(backend):
    calls = [lambda m, n=n: (np.zeros(3, np.int8), n) for n in (5, 9, 500, -3)]    # 500: OverflowError
    check_like_eager(PROGRAMS, "store_int", calls, backend=backend)
    check_like_eager(PROGRAMS, "store_literal", [lambda m: (np.zeros(3, np.int8),)], backend=backend)


@pytest.mark.parametrize("backend", ["interpret", "numba"])
def test_float_scalars_stored_into_int_arrays_convert_as_numpys(backend):
    """NumPy converts a float scalar stored into an integer array with Python's int():
    NaN raises ValueError, infinity and values out of range OverflowError (a NumPy float
    scalar into an unsigned dtype is cast instead, wrapping); arrays are cast."""
    def arrays(dtype, *values):
        return lambda m: (np.arange(3, dtype=dtype), np.array(values))
    calls = [arrays(np.int64, 1.0, 2.7), arrays(np.int64, 1.0, np.nan), arrays(np.int64, -np.inf, 0.5),
             arrays(np.int8, 127.9, 1.0), arrays(np.int8, 128.0, 1.0), arrays(np.int8, -128.9, 1.0),
             arrays(np.uint8, -1.0, 3.0), arrays(np.uint8, np.nan, 3.0), arrays(np.int64, 2.0 ** 63, 1.0),
             arrays(np.int64, -2.0 ** 63, 1.0)]
    f, _ = check_like_eager(PROGRAMS, "store_max", calls, backend=backend)
    assert f.fallbacks == []
    calls = [lambda m, w=w, d=d: (np.zeros(3, d), w) for w, d in
             [(2.5, np.int16), (float("nan"), np.int16), (-1.0, np.uint8), (70000.0, np.int16), (3.0, np.uint8)]]
    check_like_eager(PROGRAMS, "store_python_float", calls, backend=backend)
    for name in ("store_constant", "store_as_array"):
        check_like_eager(PROGRAMS, name, [lambda m: (np.arange(3), np.array([1.0, np.nan, -1.0]))] * 2,
                         backend=backend)
    check_like_eager(PROGRAMS, "fill_nan", [lambda m: (np.arange(3),)], backend=backend)
