"""Writes into arrays compile (issue 8, section 1): ``x[key] = v`` for every index
form, in-place operators on arrays and views, ``out=``, ``np.copyto``, ``np.add.at``,
into locals, arguments and state, with NumPy's aliasing (views taken before a write
see it) and NumPy's errors.

Every program runs eagerly and compiled side by side (``eager_check``): results,
arguments, attributes and globals must match after every call, without a fallback
unless one is stated.
"""
import warnings
import numpy as np
import pytest

import tracejit
from tests.runtime.eager_check import check_like_eager

PROGRAMS = """
import numpy as np

def basic(x):
    y = x.copy()
    y[0] = -1.0
    y[1:3, ::2] = 5
    y[-1, ::-1] = np.arange(x.shape[1])
    y[..., 1] *= 2
    y[:, None, 0] = 7.0
    return y

def int_arrays(x, idx):
    y = x.copy()
    y[idx] = 0.5                       # repeated indices: the last write wins
    y[:, [2, 0]] = -x[:, :2]
    y[np.arange(3), idx[:3]] += 10     # several index arrays
    return y

def masks(x, y):
    x[x > 0.5] = 0.5
    y[y < 0] = x[y < 0]
    z = np.zeros_like(x)
    z[np.array([True, False, True, False, True, False])] = 1
    return x.sum(), z

def augmented_views(x):
    v = x[1:, :2]
    t = x.T
    v += 1
    t[0] -= 3
    x[::2] *= -1
    return v.sum(), t * 1

def outs(x, y):
    np.multiply(x, 2, out=y)
    np.add(y, 1, out=y)
    np.copyto(x, 3.0, where=x > 0.5)
    z = np.empty_like(x)
    np.exp(x, out=z)
    return z

def scatter_add(x, idx, v):
    x[idx] = v
    np.add.at(x, idx, 1.0)
    return x

def view_after_write(x, y):
    x[0] = 1.0
    y.T[1] += x[:2]
    return x[1:], y[:, 1]

def heat(u, a):
    u[1:-1, 1:-1] = u[1:-1, 1:-1] + a * (u[2:, 1:-1] + u[:-2, 1:-1] + u[1:-1, 2:] + u[1:-1, :-2] - 4 * u[1:-1, 1:-1])
    return u

def sgd(W, dW, lr):
    W -= lr * dW

def lu(A):
    n = A.shape[0]
    for i in range(n):
        for j in range(i + 1, n):
            A[j, i] /= A[i, i]
            A[j, i + 1:] -= A[j, i] * A[i, i + 1:]
    return A

def build(x):
    out = np.zeros((3, x.shape[0]))
    for i in range(3):
        out[i] = x * i
    out[:, 0] = -1
    return out

def casts(i, x):
    i[0] = 2.7                 # a float into an int array truncates
    i[1:] += 1
    x[:] = i
    return i, x

class KV:
    def __init__(self):
        self.k = np.zeros((4, 3))
        self.pos = np.zeros((), np.int64)
    def put(self, row):
        self.k[1:] = self.k[:-1].copy()
        self.k[0] = row
        self.pos += 1
        return self.k.sum(axis=0)
kv = KV()

STATE = np.zeros(3)
def bump(x):
    STATE[0] += x.sum()
    STATE[1:] = x[:2]
    return STATE
"""


def rng_arrays(*shapes, seed=0):
    rng = np.random.default_rng(seed)
    return tuple(rng.standard_normal(s) for s in shapes)


CASES = {
    "basic": lambda m: rng_arrays((4, 5)),
    "int_arrays": lambda m: rng_arrays((5, 3)) + (np.array([0, 3, 3, -1]),),
    "masks": lambda m: (np.linspace(0, 1, 6), np.linspace(-1, 1, 6)),
    "augmented_views": lambda m: rng_arrays((4, 3)),
    "outs": lambda m: (np.linspace(0, 1, 5), np.zeros(5)),
    "scatter_add": lambda m: (np.zeros(5), np.array([0, 3, 3, -1]), np.array([1.0, 2.0, 3.0, 4.0])),
    "view_after_write": lambda m: rng_arrays((4,), (2, 3)),
    "heat": lambda m: rng_arrays((6, 7)) + (0.1,),
    "sgd": lambda m: rng_arrays((3, 3), (3, 3)) + (0.1,),
    "lu": lambda m: (np.eye(4) * 4 + np.arange(16.0).reshape(4, 4) / 16,),
    "build": lambda m: rng_arrays((4,)),
    "casts": lambda m: (np.arange(4), np.zeros(4)),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_writes_compile_like_eager(name):
    f, _ = check_like_eager(PROGRAMS, name, [CASES[name]] * 2)
    assert f.fallbacks == [] and len(f.compiles) == 1


@pytest.mark.parametrize("backend", ["numba", "triton"])
@pytest.mark.parametrize("name", ["int_arrays", "augmented_views", "masks", "heat", "scatter_add"])
def test_writes_compile_like_eager_on_the_backends(name, backend):
    f, _ = check_like_eager(PROGRAMS, name, [CASES[name]] * 2, backend=backend)
    assert f.fallbacks == []


@pytest.mark.parametrize("backend", ["interpret", "numba"])
def test_writes_into_state_land_in_the_objects(backend):
    f, module = check_like_eager(PROGRAMS, "kv.put", [lambda m, i=i: (np.full(3, float(i)),) for i in range(5)],
                                 backend=backend)
    assert f.fallbacks == [] and int(module.kv.pos) == 5 and module.kv.k[0, 0] == 4.0
    f, module = check_like_eager(PROGRAMS, "bump", [lambda m: (np.ones(3),)] * 3, backend=backend)
    assert f.fallbacks == [] and list(module.STATE) == [9.0, 1.0, 1.0]


def test_a_write_into_an_argument_returns_the_argument_itself():
    f = tracejit.compile(lambda x: x.__iadd__(1))
    x = np.zeros(3)
    assert f(x) is x and list(x) == [1.0, 1.0, 1.0]


ALIASED = """
import numpy as np
def shift(a, b):
    a[1:] = b[:-1]
    return a
"""


def test_aliased_arguments_run_eagerly():
    """The same array passed twice (or overlapping views): NumPy's result depends on
    the order of element accesses, so such calls run eagerly, with NumPy's result."""
    twice = lambda m: (lambda x: (x, x))(np.arange(5.0))        # noqa: E731
    f, _ = check_like_eager(ALIASED, "shift", [lambda m: (np.arange(5.0), np.arange(5.0)), twice],
                            warns=1, names_line=False)
    assert len(f.compiles) == 1 and "shares memory" in str(f.fallbacks[0])


def test_an_aliased_call_does_not_make_later_calls_eager():
    separate = lambda m: (np.arange(5.0), np.arange(5.0))        # noqa: E731
    twice = lambda m: (lambda x: (x, x))(np.arange(5.0))        # noqa: E731
    f, _ = check_like_eager(ALIASED, "shift", [separate, twice, separate, twice, separate],
                            backend="numba", warns=1, names_line=False)
    assert len(f.fallbacks) == 1 and f.fallbacks[0].loc                  # one record, with a line
    assert [s.eager for s in f.specializations()] == [False] and len(f.compiles) == 1


ERRORS = """
import numpy as np
def read_only(x):
    v = np.broadcast_to(x, (2, 3))
    v[0, 0] = 1.0
    return v
def same_kind(i, x):
    i += x                 # float into int: NumPy's casting error
    return i
def bad_shape(x):
    x[:2] = np.ones(3)
    return x
def out_of_range(x, idx):
    x[idx] = 0.0
    return x
"""


@pytest.mark.parametrize("name, make", [
    ("read_only", lambda m: (np.zeros(3),)),
    ("same_kind", lambda m: (np.arange(3), np.ones(3))),
    ("bad_shape", lambda m: (np.zeros(4),)),
    ("out_of_range", lambda m: (np.zeros(4), np.array([0, 4]))),
])
def test_writes_raise_numpys_errors(name, make):
    check_like_eager(ERRORS, name, [make], warns=0)


IN_PLACE = """
import numpy as np
def sgd(W, dW, lr):
    W -= lr * dW
def reversed_copy(x):
    x[...] = x[::-1] * 2           # reads other points: must not be written in place
def old_and_new(W, g):
    before = W * 1.0
    W -= g
    return before.sum(), W.sum()
def keep_view(W, g):
    v = W[1:]
    W *= g
    return v
def copy_then_overwrite(x, y):
    y[...] = x                     # y's new contents are x's old ones
    x[...] = y * 2
def return_old(x, y):
    prev = x.copy()                # NumPy's copy keeps the old values
    x *= y
    return prev
def partial_after_copy(x, y):
    prev = np.copy(x)
    x[1:] = y[1:]
    return prev
def swap(x, y):
    t = x.copy()
    x[...] = y
    y[...] = t
"""


@pytest.mark.parametrize("name", ["sgd", "reversed_copy", "old_and_new", "keep_view", "copy_then_overwrite",
                                  "return_old", "partial_after_copy", "swap"])
def test_full_writes_in_place_or_copied_match_eager(name):
    make = (lambda m: rng_arrays((64, 32), (64, 32)) + (0.1,)) if name == "sgd" else \
        (lambda m: rng_arrays((64, 32))) if name == "reversed_copy" else (lambda m: rng_arrays((64, 32), (64, 32)))
    strided = lambda m: tuple(a[:, ::2] if isinstance(a, np.ndarray) else a for a in make(m))   # noqa: E731
    f, _ = check_like_eager(IN_PLACE, name, [make, make, strided], backend="numba")
    assert f.fallbacks == []


def test_a_pointwise_full_write_goes_straight_into_the_callers_array():
    from tests.runtime.eager_check import make_module
    module = make_module(IN_PLACE, "in_place")
    sgd, reversed_copy = (tracejit.compile(getattr(module, n), backend="numba") for n in ("sgd", "reversed_copy"))
    W, dW = rng_arrays((64, 32), (64, 32))
    sgd(W, dW, 0.1)
    x = rng_arrays((64, 32))[0]
    reversed_copy(x)
    [written] = [s.into for s in sgd.specializations()[0].plan.steps if getattr(s, "into", None)]
    assert written == {0: 0}                  # output 0 of the kernel is argument 0
    assert not any(getattr(s, "into", None) for s in reversed_copy.specializations()[0].plan.steps)


def test_an_in_place_kernel_stores_through_its_input():
    """Written into its own input, a pointwise kernel runs a variant that stores through
    the input's name (one pointer: LLVM vectorizes without a run-time overlap check,
    which a separate output of the same address always fails)."""
    from tests.runtime.eager_check import make_module
    sgd = tracejit.compile(make_module(IN_PLACE, "in_place_variant").sgd, backend="numba")
    W, dW = rng_arrays((64, 32), (64, 32))
    want = W - 0.1 * dW
    sgd(W, dW, 0.1)
    np.testing.assert_allclose(W, want, rtol=1e-6)
    [step] = [s for s in sgd.specializations()[0].plan.steps if getattr(s, "into", None)]
    [variant] = step.kernel.in_place_variants.values()
    target = step.kernel.input_names[step.inputs.index(step.into[0])]        # W's buffer in the kernel
    assert f"# Written in place: out0 is {target}." in variant.source
    _, _, body = variant.source.partition("def ")
    assert "out0" not in body and f"{target}[np.uint64(i0), np.uint64(i1)] = " in body
    sgd(W, dW, 0.5)
    np.testing.assert_allclose(W, want - 0.5 * dW, rtol=1e-6)


TABLE = np.arange(10.0)


def _bump_and_look_up(x):
    x += 1
    return TABLE[x]


@pytest.mark.parametrize("first", [-13, -12, 40])
def test_a_kernel_that_raises_after_writing_an_argument_raises(first):
    """x += 1, then a bounds check fails: a plan that can raise writes no argument in
    place, so NumPy runs the call again from the untouched x: NumPy's error, x written
    once, never a silent result computed from the changed x."""
    f = tracejit.compile(_bump_and_look_up, backend="numba")
    np.testing.assert_array_equal(f(np.array([0, 1])), [1.0, 2.0])
    x = np.array([first, 0])
    with warnings.catch_warnings():
        warnings.simplefilter("error", tracejit.FallbackWarning)
        with pytest.raises(IndexError):
            f(x)
    assert x[0] == first + 1                     # written once, as NumPy's `x += 1`
    np.testing.assert_array_equal(f(np.array([2, 3])), [3.0, 4.0])


def test_a_plan_that_cannot_raise_still_writes_in_place():
    def step(p, g):
        p -= 0.1 * g

    f = tracejit.compile(step, backend="numba")
    p, g = np.ones(64), np.arange(64.0)
    f(p, g)
    [kernel] = [s for s in f.specializations()[-1].plan.steps if hasattr(s, "kernel")]
    assert kernel.into, "the update was not written into p in place"
    np.testing.assert_allclose(p, 1 - 0.1 * np.arange(64.0))


class _Holder:
    def __init__(self):
        self.state = np.array([[0.0, 1.0], [1.0, 3.0]])


def _bump_and_invert(a, holder):
    a += 1
    holder.state *= 2
    return np.linalg.inv(a) + np.linalg.inv(holder.state)


def test_a_library_error_after_writing_an_argument_raises_once():
    """a += 1 makes `a` singular and LAPACK raises: NumPy's LinAlgError, `a` and the
    attribute written once, never the function run again on the changed arrays."""
    f = tracejit.compile(_bump_and_invert, backend="numba")
    holder = _Holder()
    np.testing.assert_allclose(f(np.array([[1.0, 0.0], [0.0, 1.0]]), holder),
                               np.linalg.inv([[2.0, 1.0], [1.0, 2.0]]) + np.linalg.inv([[0.0, 2.0], [2.0, 6.0]]))
    a, holder = np.array([[0.0, 1.0], [1.0, 3.0]]), _Holder()
    with warnings.catch_warnings():
        warnings.simplefilter("error", tracejit.FallbackWarning)
        with pytest.raises(np.linalg.LinAlgError):
            f(a, holder)
    np.testing.assert_array_equal(a, [[1.0, 2.0], [2.0, 4.0]])
    np.testing.assert_array_equal(holder.state, [[0.0, 2.0], [2.0, 6.0]])

def correlation(m, data):
    """NPBench's correlation kernel: writes into an np.eye result inside a loop."""
    mean = np.mean(data, axis=0)
    stddev = np.std(data, axis=0)
    stddev[stddev <= 0.1] = 1.0
    data -= mean
    data /= np.sqrt(float(data.shape[0])) * stddev
    corr = np.eye(m, dtype=data.dtype)
    for i in range(m - 1):
        corr[i + 1:m, i] = corr[i, i + 1:m] = data[:, i] @ data[:, i + 1:m]
    return corr


def test_writes_into_an_identity_matrix_compile():
    data = np.random.default_rng(4).random((30, 12))
    f = tracejit.compile(correlation)
    a, b = data.copy(), data.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("error", tracejit.FallbackWarning)
        got = f(12, a)
    np.testing.assert_allclose(got, correlation(12, b), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(a, b, rtol=1e-14)
    for k in (0, 1, -2):
        g = tracejit.compile(lambda n, k=k: np.eye(n, n + 1, k=k, dtype=np.int32) + np.identity(n + 1)[0])
        want = np.eye(5, 6, k=k, dtype=np.int32) + np.identity(6)[0]
        assert g(5).dtype == want.dtype and np.array_equal(g(5), want)


def _bump_then_scale(x, n):
    x += 1
    return x * (n * n)


def _bump_then_divide(x, n):
    x += 1
    return x * (1 / n)


def _scale_by_gather(x, w, idx):
    x *= np.exp(w[idx])
    return x


def test_python_number_rules_after_a_write_run_eagerly_from_untouched_arrays():
    """Checks that mean "Python computes this otherwise" (an int product past int64,
    1 / 0) fail after x += 1: the call runs again eagerly, so x is written once and the
    result, or the exception, is Python's."""
    g = tracejit.compile(_bump_then_scale)
    g(np.ones(2), 2)
    g(np.ones(2), 3)                              # n is traced from now on
    x = np.ones(2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", tracejit.FallbackWarning)
        np.testing.assert_array_equal(g(x, 2 ** 40), np.full(2, 2.0 * 2 ** 80))
    np.testing.assert_array_equal(x, [2.0, 2.0])
    h = tracejit.compile(_bump_then_divide)
    h(np.ones(2), 2)
    h(np.ones(2), 3)
    x = np.ones(2)
    with pytest.raises(ZeroDivisionError):
        h(x, 0)
    np.testing.assert_array_equal(x, [2.0, 2.0])


def test_a_failing_check_leaves_the_argument_as_numpy_does():
    f = tracejit.compile(_scale_by_gather)
    x, w = np.ones((2, 4), np.float32), np.ones(4, np.float32)
    np.testing.assert_allclose(f(x.copy(), w, np.array([0, 1, 2, 3])), np.full((2, 4), np.e, np.float32))
    with pytest.raises(IndexError):
        f(x, w, np.array([0, 1, 2, 9]))
    np.testing.assert_array_equal(x, np.ones((2, 4), np.float32))     # NumPy raises before x *= ...


def test_overlapping_arguments_run_eagerly_with_one_warning():
    def add_exp(x, y):
        x += np.exp(y)
        return x

    f = tracejit.compile(add_exp)
    a, b = np.ones((2, 3), np.float32), np.ones((2, 3), np.float32)
    with pytest.warns(tracejit.FallbackWarning, match="shares memory"):
        got = f(a, a)
    add_exp(b, b)
    np.testing.assert_array_equal(a, b)
    assert got is a


def test_under_fullgraph_an_aliased_call_raises_before_changing_anything():
    import tests.runtime.eager_check as eager_check
    module = eager_check.make_module(ALIASED, "aliased_fullgraph")
    f = tracejit.compile(module.shift, backend="interpret", fullgraph=True)
    f(np.arange(5.0), np.arange(5.0))
    x = np.arange(5.0)
    with pytest.raises(tracejit.TracerError, match="shares memory"):
        f(x, x)
    np.testing.assert_array_equal(x, np.arange(5.0))


@pytest.mark.parametrize("backend", ["interpret", "numba"])
def test_copyto_casts_python_numbers_by_numpys_rule(backend):
    """np.copyto's casting applies to a Python number by its kind (NumPy 2): 0.5 into an
    int64 array is a TypeError under 'same_kind' and 'safe', 3 is fine, and 'no' takes
    the number's default dtype. Constants and traced Python numbers alike."""
    cases = [(np.int64, 0.5, "same_kind"), (np.int64, 3, "same_kind"), (np.float32, 0.5, "safe"),
             (np.int64, 0.5, "safe"), (np.bool_, 1, "same_kind"), (np.uint8, 3, "safe"),
             (np.int64, True, "no"), (np.float64, 2.0, "no"), (np.float64, 2, "equiv")]
    for dtype, value, casting in cases:
        def constant(a, value=value, casting=casting):
            np.copyto(a, value, casting=casting)
            return a

        def traced(a, w, casting=casting):
            np.copyto(a, w, casting=casting)
            return a
        for fn, extra in ((constant, ()), (traced, (value,))):
            try:
                want = fn(np.zeros(2, dtype), *extra)
            except TypeError:
                with pytest.raises(TypeError):
                    tracejit.compile(fn, backend=backend)(np.zeros(2, dtype), *extra)
                continue
            got = tracejit.compile(fn, backend=backend)(np.zeros(2, dtype), *extra)
            assert got.dtype == want.dtype
            np.testing.assert_array_equal(got, want)
