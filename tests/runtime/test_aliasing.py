"""Outputs never alias inputs where NumPy returns new memory (issue 7, section 3)."""
import numpy as np
import pytest

import tracejit

NEW_MEMORY = {
    "x.copy()": lambda x: x.copy(),
    "np.copy": lambda x: np.copy(x),
    "astype(same)": lambda x: x.astype(x.dtype),
    "x * 1": lambda x: x * 1,
    "x + 0": lambda x: x + 0,
    "flatten": lambda x: x.flatten(),
    "x.T.copy()": lambda x: x.T.copy(),
    "+x": lambda x: +x,
    "np.concatenate([x])": lambda x: np.concatenate([x]),
    "x.reshape(-1).copy()": lambda x: x.reshape(-1).copy(),
    "clip(-inf, inf)": lambda x: x.clip(-np.inf, np.inf),
}
SAME_OR_VIEW = {
    "x": lambda x: x,
    "x.T": lambda x: x.T,
    "x[1:]": lambda x: x[1:],
    "x.reshape(-1)": lambda x: x.reshape(-1),
    "astype(copy=False)": lambda x: x.astype(x.dtype, copy=False),
    "x.real": lambda x: x.real,
}
BACKENDS = ["interpret", "numba"]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", list(NEW_MEMORY))
def test_new_memory_where_numpy_returns_new_memory(name, backend):
    fn = NEW_MEMORY[name]
    f = tracejit.compile(fn, backend=backend)
    x = np.arange(6.0).reshape(2, 3)
    for _ in range(2):                              # the first call and the cached plan
        out = f(x)
        assert out is not x and not np.shares_memory(out, x)
        out[...] = -1.0                             # writing into the result leaves x alone
        np.testing.assert_array_equal(x, np.arange(6.0).reshape(2, 3))
    read_only = np.arange(6.0).reshape(2, 3)
    read_only.flags.writeable = False
    out = f(read_only)
    assert out.flags.writeable and not np.shares_memory(out, read_only)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", list(SAME_OR_VIEW))
def test_the_input_itself_where_numpy_returns_it(name, backend):
    fn = SAME_OR_VIEW[name]
    f = tracejit.compile(fn, backend=backend)
    x = np.arange(6.0).reshape(2, 3)
    out, expected = f(x), fn(x)
    assert (out is x) == (expected is x)
    np.testing.assert_array_equal(out, expected)


SMALL_RESULTS = {        # (function, argument): 0-d views, shape-(1,) views, the array itself
    "0-d x[...]": (lambda x: x[...], np.array(3.0)),
    "x[..., 0]": (lambda x: x[..., 0], np.arange(3.0)),
    "x[0, ...]": (lambda x: x[0, ...], np.arange(3.0)),
    "0-d x[()]": (lambda x: x[()], np.array(3.0)),
    "x[1]": (lambda x: x[1], np.arange(3.0)),
    "ascontiguousarray(0-d)": (lambda x: np.ascontiguousarray(x), np.array(3.0)),
    "ascontiguousarray(0-d, f32)": (lambda x: np.ascontiguousarray(x, np.float32), np.array(3.0)),
    "0-d reshape(1)": (lambda x: x.reshape(1), np.array(3.0)),
    "expand_dims(0-d)": (lambda x: np.expand_dims(x, 0), np.array(3.0)),
    "squeeze (nothing to squeeze)": (lambda x: x.squeeze(), np.arange(3.0)),
    "squeeze(axis=())": (lambda x: np.squeeze(x, axis=()), np.ones((1, 3))),
    "squeeze": (lambda x: x.squeeze(), np.ones((1, 3))),
}


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", list(SMALL_RESULTS))
def test_zero_d_views_scalars_and_the_array_itself_as_numpy_returns_them(name, backend):
    fn, x = SMALL_RESULTS[name]
    out, expected = tracejit.compile(fn, backend=backend)(x), fn(x)
    assert type(out) is type(expected) and np.shape(out) == np.shape(expected)
    assert (out is x) == (expected is x)
    assert (isinstance(out, np.ndarray) and np.shares_memory(out, x)) == \
        (isinstance(expected, np.ndarray) and np.shares_memory(expected, x))
    np.testing.assert_array_equal(out, expected)


@pytest.mark.parametrize("backend", BACKENDS)
def test_outputs_do_not_share_memory_with_each_other_unless_numpy_does(backend):
    def two(x):
        a = x * 2.0
        return a, a, a.T, x * 2.0, x.copy(), x.copy()
    f = tracejit.compile(two, backend=backend)
    x = np.arange(4.0).reshape(2, 2)
    a, same, view, other, c1, c2 = f(x)
    assert same is a and np.shares_memory(view, a)        # NumPy: one array, and a view of it
    assert not np.shares_memory(other, a)                 # NumPy: a new array (CSE must not merge them)
    assert not np.shares_memory(c1, c2) and not np.shares_memory(c1, x)


def test_state_written_back_does_not_alias_the_result_unless_numpy_does():
    class State:
        def __init__(self):
            self.m = np.zeros(2)
            self.prev = np.zeros(2)

        def step(self, g):
            self.prev = self.m.copy()
            self.m = self.m + g
            return self.m, self.m * 1
    s = State()
    f = tracejit.compile(s.step, backend="numba")
    for _ in range(3):
        out, scaled = f(np.ones(2))
        assert out is s.m and not np.shares_memory(scaled, s.m)
        assert not np.shares_memory(s.prev, s.m)
    np.testing.assert_array_equal(s.m, 3.0)
    np.testing.assert_array_equal(s.prev, 2.0)


def test_lifted_arrays_are_not_returned_as_new_memory():
    w = np.ones(3)

    def f(x):
        return w.copy() + 0 * x, w
    g = tracejit.compile(f, backend="numba")
    copy, same = g(np.zeros(3))
    assert same is w and not np.shares_memory(copy, w)


RESHAPE_COPIES = """
import numpy as np
def write_through_flat_transpose(a):
    flat = a.T.reshape(-1)              # NumPy copies: the write does not reach a
    flat[0] = 100.0
    return a.sum(), flat
def write_through_reshaped_result(x):
    y = x.T * 2                          # F-ordered in NumPy: its reshape copies
    z = y.reshape(-1)
    z[0] = 5.0
    return y
def result_and_its_reshape(x):
    y = x.T * 2
    return y, y.reshape(-1)
def write_through_reshaped_view(a):
    v = a.reshape(2, -1)                 # C-ordered: a view, the write reaches a
    v[0, 0] = 7.0
    return a.sum()
"""


@pytest.mark.parametrize("name", ["write_through_flat_transpose", "write_through_reshaped_result",
                                  "result_and_its_reshape", "write_through_reshaped_view"])
@pytest.mark.parametrize("backend", BACKENDS)
def test_a_reshape_numpy_must_copy_is_new_memory(name, backend):
    from tests.runtime.eager_check import check_like_eager
    x = np.arange(12, dtype=np.float32).reshape(3, 4)
    check_like_eager(RESHAPE_COPIES, name, [lambda m: (x.copy(),)] * 2, backend=backend)
    if name == "result_and_its_reshape":
        y, flat = tracejit.compile(lambda x: (x.T * 2, (x.T * 2).reshape(-1)), backend=backend)(x.copy())
        assert not np.shares_memory(y, flat)


RAVEL_AND_UNKNOWN = """
import numpy as np
W = np.arange(6.0).reshape(2, 3)
def ravel_and_write(x):
    r = x.ravel()                        # a copy unless x is C-contiguous
    r[0] = -1.0
    return r, x.sum()
def ravel_in_order_k(x):
    return x.ravel(order="K") * 1.0
def write_through_reshaped_state():
    v = W.T.reshape(-1)                  # W's layout is not modelled: NumPy may copy or view
    v[0] = 100.0
    return W.sum()
"""


@pytest.mark.parametrize("make", [lambda: np.arange(12.0)[::2], lambda: np.arange(24.0).reshape(4, 6)[:, ::2],
                                  lambda: np.arange(12.0).reshape(3, 4)])
def test_ravel_copies_what_is_not_c_contiguous_as_numpy_does(make):
    from tests.runtime.eager_check import check_like_eager
    check_like_eager(RAVEL_AND_UNKNOWN, "ravel_and_write", [lambda m: (make(),)] * 2, backend="numba")


def test_order_k_of_an_f_ordered_array_and_writes_through_an_unmodelled_reshape_run_eagerly():
    from tests.runtime.eager_check import check_like_eager
    f = np.asfortranarray(np.arange(6.0).reshape(2, 3))
    check_like_eager(RAVEL_AND_UNKNOWN, "ravel_in_order_k", [lambda m: (f.copy(order="F"),)], warns=1,
                     backend="numba", names_line=False)
    check_like_eager(RAVEL_AND_UNKNOWN, "ravel_in_order_k", [lambda m: (np.arange(6.0).reshape(2, 3),)],
                     backend="numba")
    check_like_eager(RAVEL_AND_UNKNOWN, "write_through_reshaped_state", [lambda m: ()] * 2, warns=1,
                     backend="numba", names_line=False)
