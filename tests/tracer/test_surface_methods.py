"""ndarray methods and attributes, ufunc methods and data-dependent selections of issue 8,
section 5, compiled against eager NumPy (``tests/runtime/eager_check.py``): values,
dtypes, views (memory shared with the arguments, writes through them), layouts
(``strides``, ``flags``) and, where NumPy's result has a data-dependent shape, one
FallbackWarning naming the construct and the line.
"""
import numpy as np
import pytest

import tracejit
from tests.runtime.eager_check import check_like_eager

BACKENDS = ["interpret", "numba", "triton"]

METHODS = """
import numpy as np

def methods(x, t):
    return (x.conj(), x.conjugate(), x.real * 2, x.imag, x.diagonal(), x.diagonal(1), x.diagonal(-1),
            t.diagonal(0, 1, 2), t.diagonal(1, axis1=-2, axis2=-1), x.trace(), x.trace(offset=1, dtype=np.int64),
            t.trace(axis1=1, axis2=2), x.cumsum(), x.cumsum(axis=0, dtype=np.float64), x.cumprod(axis=-1),
            x.argsort(), x.argsort(axis=0, kind="stable"), x.itemsize, x.nbytes, t.nbytes, x[0].itemsize)

def complexes(c):
    return c.conj(), c.real * 2, c.imag + 1, np.conj(c) * c, np.real(c) + np.imag(c)   # (c.real is a copy here)

def views(x, i):
    bits = x.view(np.int32)
    exponent = (x * 2).view(np.uint32) & 0x7F800000
    back = (bits + 1).view(np.float32)
    same = x.view()
    same[0, 0] = 7.0                     # writes through x.view() reach x
    bits[1] = 0x3F800000                 # ... and through x.view(np.int32): x[1] is 1.0
    return bits, exponent, back, same, x[0, 0].view(np.int32), i.view(np.float64), x.T.view(np.int32), \\
        x.view(np.ndarray)
"""

RM = np.random.default_rng(5)
XM = np.array([[1.5, -0.0, np.nan, 2.0], [np.inf, 3.25, -7.0, 0.5], [1.0, 2.0, 3.0, 4.0]], np.float32)
TM = RM.standard_normal((2, 3, 4))
METHOD_CASES = {
    "methods": [lambda m: (XM.copy(), TM.copy())],
    "views": [lambda m: (XM.copy(), np.arange(4, dtype=np.int64) * 123456789)],
}


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", sorted(METHOD_CASES))
def test_ndarray_methods_compile_like_eager(name, backend):
    f, _ = check_like_eager(METHODS, name, METHOD_CASES[name], backend=backend)
    assert f.fallbacks == []


@pytest.mark.parametrize("backend", ["interpret", "numba"])
def test_complex_methods_compile_on_the_cpu(backend):
    c = (XM[:2, :3] + 1j * XM[1:, 1:]).astype(np.complex64)
    f, _ = check_like_eager(METHODS, "complexes", [lambda m: (c.copy(),)], backend=backend)
    assert f.fallbacks == []


def test_views_are_bitcasts_on_both_backends():
    """x.view(np.int32) is one `bitcast` op: a register bitcast in Numba, `.to(bitcast=True)` in Triton."""
    for backend, text in (("numba", "_tj_bitcast("), ("triton", "bitcast=True")):
        f = tracejit.compile(lambda x: (x * 2).view(np.int32) & 0x7FFFFFFF, backend=backend)
        x = np.array([1.0, -2.0, np.nan], np.float32)
        np.testing.assert_array_equal(f(x), (x * 2).view(np.int32) & 0x7FFFFFFF)
        sources = "".join(k[3] for k in f.specializations()[0].compilation.kernel_sources())   # (name, backend, path, source, ...)
        assert text in sources


def test_views_of_other_dtypes_fall_back():
    f, _ = check_like_eager("import numpy as np\ndef f(x):\n    return x.view(np.int64)  # <-\n", "f",
                            [lambda m: (np.ones(4, np.float32),)], backend="numba", warns=1)
    assert "x.view(int64)" in f.fallbacks[0].message


LAYOUTS = """
import numpy as np

def describe(a):
    return a.strides, a.flags.c_contiguous, a.flags.f_contiguous, a.flags.writeable, a.flags["F"], a.flags.fortran

def layouts(x):
    y = np.zeros((2, 3))
    y[0] = 1.0
    return (describe(x), describe(x.T), describe(x[::2]), describe(x[:, 1:]), describe(x * 2),
            describe(x.T.copy()), describe(np.broadcast_to(x[0], x.shape)), describe(x.sum(axis=0)),
            describe(np.zeros((2, 3), order="F")), describe(np.zeros_like(x)), describe(x.view(np.int64)),
            describe(np.ascontiguousarray(x.T)), np.ascontiguousarray(x) is x, describe(y), describe(y.T),
            describe(x @ x.T), describe(np.cumsum(x, axis=1)), describe(x.reshape(-1)))

def fortran(x):
    return describe(x), describe(x.T), describe(x * 2 + x), describe(x.T.copy()), describe(np.zeros_like(x))
"""

XL = np.arange(12.0).reshape(3, 4)


@pytest.mark.parametrize("backend", ["interpret", "numba"])
def test_strides_and_flags_are_numpys(backend):
    """The layout eager NumPy's arrays have: arguments (guarded: a new layout traces
    again), views, copies, new arrays; a read-only argument is not writeable."""
    read_only = XL.copy()
    read_only.flags.writeable = False
    f, _ = check_like_eager(LAYOUTS, "layouts", [lambda m: (XL.copy(),), lambda m: (XL[:, ::2],),
                                                 lambda m: (XL.copy(),), lambda m: (read_only,),
                                                 lambda m: (XL[::-1, ::-1],)], backend=backend)
    assert f.fallbacks == [] and len(f.compiles) == 4
    assert "memory layout" in f.compiles[2].reason           # the read-only one: same shape, new flags
    f, _ = check_like_eager(LAYOUTS, "fortran", [lambda m: (np.asfortranarray(XL),)], backend=backend)
    assert f.fallbacks == []


def test_layouts_not_modelled_fall_back():
    source = "import numpy as np\ndef f(x):\n    return x.diagonal().strides  # <-\n"
    f, _ = check_like_eager(source, "f", [lambda m: (np.asfortranarray(XL),)], backend="numba", warns=1)
    assert "x.strides/x.flags" in f.fallbacks[0].message


UFUNC_METHODS = """
import numpy as np

def reduces(i, b, f):
    return (np.add.reduce(i), np.add.reduce(i, axis=None), np.multiply.reduce(f, axis=1, keepdims=True),
            np.maximum.reduce(f, axis=(0, 1)), np.minimum.reduce(i, 1), np.fmax.reduce(f, axis=1),
            np.fmin.reduce(f, axis=-1), np.logical_and.reduce(f), np.logical_or.reduce(i, axis=1),
            np.add.reduce(i, dtype=np.int8), np.add.reduce(b, axis=0))

def accumulates(i, b, f):
    return (np.add.accumulate(i), np.add.accumulate(b, axis=1), np.multiply.accumulate(f, 1),
            np.maximum.accumulate(f, axis=1), np.minimum.accumulate(i, axis=0), np.maximum.accumulate(i[0], axis=None),
            np.add.accumulate(i, dtype=np.float32), np.minimum.accumulate(f[:, ::-1], axis=-1))

def outers(i, f):
    return np.multiply.outer(i[0], f[1]), np.add.outer(i, [1, 2]), np.subtract.outer(f[0], 2.0), np.maximum.outer(f[0], f[1])

def ats(x, i):
    np.maximum.at(x, [0, 0, 2], np.array([1.0, 5.0, -1.0]))
    np.minimum.at(x, i, -3.0)
    np.multiply.at(x, [1, 1], 2.0)
    np.subtract.at(x, i, 1.0)
    np.add.at(x, [3], 0.5)
    return x
"""

I23 = np.arange(6, dtype=np.int32).reshape(2, 3) - 2
B23 = np.array([[True, False, True], [False, False, True]])
F23 = np.array([[1.0, np.nan, 2.0], [3.0, 0.0, -1.0]], np.float32)
UFUNC_CASES = {
    "reduces": [lambda m: (I23.copy(), B23.copy(), F23.copy())],
    "accumulates": [lambda m: (I23.copy(), B23.copy(), F23.copy())],
    "outers": [lambda m: (I23.copy(), F23.copy())],
    "ats": [lambda m: (np.arange(5.0), np.array([4, 4, 1]))],
}


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", sorted(UFUNC_CASES))
def test_ufunc_methods_compile_like_eager(name, backend):
    """reduce (axis, tuple and None axes, keepdims, dtype), accumulate (NaN propagating
    maximum scans, NumPy 2's int promotion), outer, at with repeated indices."""
    f, _ = check_like_eager(UFUNC_METHODS, name, UFUNC_CASES[name], backend=backend)
    assert f.fallbacks == []


@pytest.mark.parametrize("body", ["np.subtract.reduce(x)", "np.add.reduceat(x, [0, 2])", "np.negative.at(x, [0])",
                                  "np.add.accumulate(x.reshape(2, 2), axis=None)"])
def test_other_ufunc_methods_fall_back_or_raise_as_numpy(body):
    source = f"import numpy as np\ndef f(x):\n    return {body}  # <-\n"
    fails = "axis=None" in body                    # NumPy raises: no fallback, the same error
    check_like_eager(source, "f", [lambda m: (np.arange(4.0),)], backend="numba", warns=0 if fails else 1)


SELECTIONS = {
    "x[x > 0]": "returning or keeping x[mask]",
    "x[x > 0] * 2": "returning or keeping x[mask]",
    "x[x > 0] @ x[x > 0]": "using x[mask]",
    "np.nonzero(x > 0)": "np.nonzero",
    "(x > 0).nonzero()": "x.nonzero()",
    "np.argwhere(x)": "np.argwhere",
    "np.where(x > 0)": "np.where(condition) with one argument",
    "np.flatnonzero(x > 1)": "np.flatnonzero",
    "np.unique(x)": "np.unique",
    "np.compress(x > 0, x)": "np.compress with a traced condition",
}


@pytest.mark.parametrize("body", sorted(SELECTIONS))
def test_data_dependent_shapes_fall_back_naming_the_construct(body):
    """Results whose shape depends on the data run eagerly, with one warning that names
    the construct and the user's line (NumPy's result, also on the second call)."""
    source = f"import numpy as np\ndef f(x):\n    y = x - 1.0\n    return {body.replace('x', 'y')}  # <-\n"
    f, _ = check_like_eager(source, "f", [lambda m: (np.arange(5.0),)] * 2, backend="numba", warns=1)
    assert SELECTIONS[body] in f.fallbacks[0].message and "data" in f.fallbacks[0].message


def test_static_shaped_selections_compile():
    source = """
import numpy as np
def f(x, m):
    return (x[m].sum(), x[x > 1].max(), np.count_nonzero(x), np.count_nonzero(x.reshape(2, 3) > 1, axis=0),
            np.compress([True, False, True], x), np.where(m, x, 0.0), x[m].mean())
"""
    for backend in ("numba", "triton"):
        f, _ = check_like_eager(source, "f", [lambda m: (np.arange(6.0) - 2, np.arange(6) % 2 == 0)], backend=backend)
        assert f.fallbacks == []
