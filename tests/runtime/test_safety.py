"""A universal safety net (issue 7, section 4): never a crash where NumPy works.

What tracejit cannot compile runs eagerly with one warning naming the construct and
the user's line; where eager NumPy raises, the user gets NumPy's own exception.
Fallbacks are checked against eager NumPy, world included (``eager_check``).
"""
import numpy as np
import pytest

import tracejit
from tests.runtime.eager_check import Call, check_like_eager
from tests.runtime.gpt_programs import PICO_GPT, gpt_params

X = lambda m: (np.arange(1.0, 7.0).reshape(2, 3),)     # noqa: E731

METHODS = {
    "resize": "(y.copy().resize(2, 3), y)[1]",
    "nonzero": "y.nonzero()[0] * 1.0",
    "view": "y.view(np.complex128)",
    "setflags": "y.setflags(write=False)",
    "choose": "y.astype(np.int64).choose([1, 2, 3])",
    "tobytes": "len(y.tobytes())",
}


@pytest.mark.parametrize("name", list(METHODS))
def test_ndarray_methods_and_attributes_tracejit_lacks_run_eagerly(name):
    source = f"""
import numpy as np
def f(x):
    y = x * 2.0
    return {METHODS[name]}, y                          # <-
"""
    f, _ = check_like_eager(source, "f", [X, X], warns=1)
    assert name in str(f.fallbacks[0])


COMPILED_METHODS = {
    "diagonal": "x.diagonal(), np.diagonal(x, 1), x.diagonal(-1), np.diag(x), np.diag(x, -1)",
    "trace": "x.trace(), np.trace(x, -1)",
    "conj": "x.conj() * 2, x.conjugate(), np.conj(x)",
    "imag": "x.imag + x.real",
    "range index": "x[range(2)], x[:, range(1, 3)]",
    "cumprod": "x.cumprod(), x.cumsum(axis=1)",
    "argsort": "x.argsort(), x.argsort(axis=0)",
    "view": "x.view(np.int64), x.view()",
    "strides": "np.array(x.strides), x.T.strides",
    "flags": "x.flags.c_contiguous, x.T.flags.f_contiguous, x[:, 1:].flags.writeable",
    "searchsorted": "x.ravel().searchsorted(2.5), x[0].searchsorted(x[1], side='right')",
}


@pytest.mark.parametrize("name", list(COMPILED_METHODS))
def test_methods_that_now_compile(name):
    source = f"import numpy as np\ndef f(x):\n    return {COMPILED_METHODS[name]}\n"
    f, _ = check_like_eager(source, "f", [X, X], backend="numba")
    assert f.fallbacks == []


def test_pico_gpt_runs_and_matches_numpy():
    params = gpt_params(np.random.default_rng(0))
    call = lambda m: Call(np.array([1, 5, 2, 7]), **params, n_head=2)      # noqa: E731
    f, _ = check_like_eager(PICO_GPT, "gpt2", [call, call], backend="numba")
    assert f.fallbacks == []


LOCAL_WRITE = """
import numpy as np
def qr_like(A):
    R = np.zeros((2, 2))
    R[0, 0] = np.sqrt((A @ A).sum())                   # <-
    return R
"""


def test_writing_a_traced_value_into_a_local_array_is_compiled():
    f, _ = check_like_eager(LOCAL_WRITE, "qr_like", [lambda m: (np.arange(4.0).reshape(2, 2),)] * 2)
    assert f.fallbacks == [] and len(f.compiles) == 1


DTYPE_ARGS = """
import numpy as np
def cast(xp, x, dtype):
    return xp.astype(x, dtype) * 2
"""


def test_dtypes_and_modules_as_arguments_are_static():
    f, _ = check_like_eager(DTYPE_ARGS, "cast", [lambda m: (np, np.arange(3), np.float32),
                                                  lambda m: (np, np.arange(3), np.dtype("int16")),
                                                  lambda m: (np, np.arange(3), np.float32)])
    assert f.fallbacks == [] and len(f.compiles) == 2


ISINSTANCE = """
import numpy as np
def f(x, lr):
    if isinstance(x, np.ndarray) and isinstance(lr, float):
        return x * lr
    return x * 0
"""


def test_isinstance_ndarray_takes_the_eager_branch():
    f, _ = check_like_eager(ISINSTANCE, "f", [lambda m: (np.ones(3), 0.5)] * 2, backend="numba")
    assert f.fallbacks == []


NUMPY_SCALAR_OF_A_FLOAT = """
import numpy as np
def f(x, lr):
    return x + np.float64(lr)                          # <-
"""


def test_a_numpy_scalar_made_of_a_float_argument_falls_back_naming_a_python_number():
    f, _ = check_like_eager(NUMPY_SCALAR_OF_A_FLOAT, "f", [lambda m: (np.ones(3, np.float32), 0.1)] * 2, warns=1)
    message = str(f.fallbacks[0])
    assert "traced Python number" in message and "converting a traced array" not in message


def test_internal_errors_anywhere_fall_back_with_one_warning(monkeypatch):
    """A bug in the tracer (here: an AttributeError from a ufunc) is not the user's problem."""
    from tracejit.tracer import ufuncs
    real = ufuncs.apply

    def buggy(name, operands, python_op=False):
        if name == "exp":
            raise AttributeError("'NoneType' object has no attribute 'type'")
        return real(name, operands, python_op)
    monkeypatch.setattr(ufuncs, "apply", buggy)
    source = "import numpy as np\ndef f(x):\n    return np.exp(x) + 1                             # <-\n"
    f, _ = check_like_eager(source, "f", [X, X], warns=1, names_line=False)
    assert "AttributeError" in str(f.fallbacks[0]) and "test_safety.py" in str(f.fallbacks[0])   # where it was raised


def test_where_numpy_raises_the_user_sees_numpys_exception():
    f = tracejit.compile(lambda a, b: a @ b, backend="interpret")
    with pytest.raises(ValueError) as info:
        f(np.ones((2, 3)), np.ones((2, 3)))
    with pytest.raises(ValueError) as eager:
        np.ones((2, 3)) @ np.ones((2, 3))
    assert str(info.value) == str(eager.value)
    assert f.fallbacks == []                                 # not a fallback: the user's error


def test_run_time_errors_numpy_raises_too_keep_the_compiled_code():
    table = np.arange(10.0)
    f = tracejit.compile(lambda ids: table[ids] * 2, backend="numba")
    np.testing.assert_array_equal(f(np.array([1, 2])), [2.0, 4.0])
    with pytest.raises(IndexError):
        f(np.array([1, 20]))
    np.testing.assert_array_equal(f(np.array([3, 4])), [6.0, 8.0])
    assert f.fallbacks == [] and len(f.specializations()) == 1


def test_plan_failures_numpy_does_not_share_fall_back(monkeypatch):
    from tracejit.runtime import plan
    f = tracejit.compile(lambda x: np.exp(x) * 2.0, backend="numba")
    x = np.linspace(0, 1, 5)
    f(x)

    def broken(self, xp, arrays):
        raise RuntimeError("a buffer bug")
    monkeypatch.setattr(plan.Plan, "run", broken)
    with pytest.warns(tracejit.FallbackWarning, match="RuntimeError"):
        np.testing.assert_allclose(f(x), np.exp(x) * 2.0)
    np.testing.assert_allclose(f(x), np.exp(x) * 2.0)
    assert len(f.fallbacks) == 1


def test_fullgraph_raises_instead():
    f = tracejit.compile(lambda x: x.choose([1, 2, 3]), fullgraph=True, backend="interpret")
    with pytest.raises(tracejit.UnsupportedError, match="choose"):
        f(np.ones(3))


def test_bad_calls_raise_pythons_own_error():
    def f(x, y):
        return x + y
    g = tracejit.compile(f)
    with pytest.raises(TypeError) as info:
        g(np.ones(2))
    with pytest.raises(TypeError) as eager:
        f(np.ones(2))
    assert str(info.value) == str(eager.value)


OBJECT_RETURNS = """
import numpy as np
class Box:
    def __init__(self):
        self.w = np.ones(2)
        self.inner = Inner()
class Inner:
    pass
box = Box()
def chain(b, x):
    b.w = b.w + x
    return b, b.inner
def fresh(x):
    return Inner(), x * 2                               # <-
"""


def test_returned_objects_are_this_calls_objects():
    from tests.runtime.eager_check import make_module
    module = make_module(OBJECT_RETURNS, "objects")
    f = tracejit.compile(module.chain, backend="interpret")
    a, b = module.Box(), module.Box()
    for box in (a, b, a):
        got, inner = f(box, np.ones(2))
        assert got is box and inner is box.inner
    np.testing.assert_array_equal(a.w, 3.0)
    assert f.fallbacks == []


def test_objects_created_while_tracing_are_not_returned_again():
    check_like_eager(OBJECT_RETURNS, "fresh", [lambda m: (np.ones(2),)] * 2, warns=1, names_line=False)


FUNCTION_ATTRIBUTES = """
import numpy as np
def counted(x):
    counted.calls = getattr(counted, "calls", 0) + 1
    return x * 2
"""


def test_attributes_of_functions_are_state_too():
    check_like_eager(FUNCTION_ATTRIBUTES, "counted", [lambda m: (np.ones(2),)] * 3, warns=1, names_line=False)


CLASS_ARRAYS = """
import numpy as np
class Layer:
    W = np.ones(3)
    PAIR = (np.ones(3), np.full(3, 2.0))
    def forward(self, x):
        return x * self.W + self.PAIR[1]
layer = Layer()
"""


def test_arrays_read_through_the_class_are_never_stale():
    from tests.runtime.eager_check import make_module
    module = make_module(CLASS_ARRAYS, "classes")
    f = tracejit.compile(module.layer.forward, backend="interpret")
    x = np.arange(3.0)
    np.testing.assert_array_equal(f(x), module.layer.forward(x))
    module.Layer.W = np.full(3, 5.0)
    module.Layer.PAIR = (np.ones(3), np.full(3, -2.0))
    np.testing.assert_array_equal(f(x), module.layer.forward(x))
    module.Layer.W[0] = 100.0
    np.testing.assert_array_equal(f(x), module.layer.forward(x))
