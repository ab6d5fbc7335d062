"""Library ops (``ir/ops_library.py``): sorting, searching and ``numpy.linalg`` run as
plan steps between kernels, with NumPy's results, dtypes and errors.

Each program runs eagerly and compiled side by side (``tests/runtime/eager_check.py``)
on every backend: results must be NumPy's (values, dtypes, result types such as
``EighResult``), with no fallback; NumPy's errors (``LinAlgError``, ``TypeError``) must
be raised by the compiled call too.
"""
import numpy as np
import pytest

import tracejit
from tests.runtime.eager_check import check_like_eager

BACKENDS = ["interpret", "numba", "triton"]

PROGRAMS = """
import numpy as np

def sorting(x, v):
    s = np.sort(x)
    s0 = np.sort(x, axis=0, kind="stable")
    flat = np.sort(x, axis=None)
    order = np.argsort(x, kind="stable")
    order0 = x.argsort(axis=0, kind="stable")
    left = np.searchsorted(flat, v)
    right = np.searchsorted(flat, v, side="right")
    y = x * 2.0
    y.sort(axis=-2)
    return s, s0, flat, order, order0, left, right, y + 1.0

def sorted_by(a, v):
    return np.searchsorted(a, v, sorter=np.argsort(a, kind="stable")), np.searchsorted(a, 0.5)

def factor(a, b):
    spd = a @ a.T + 4.0 * np.eye(a.shape[0])
    lower = np.linalg.cholesky(spd)
    upper = np.linalg.cholesky(spd, upper=True)
    x = np.linalg.solve(spd, b)
    xv = np.linalg.solve(spd, b[:, 0])
    inv = np.linalg.inv(spd)
    det = np.linalg.det(spd)
    sign, logdet = np.linalg.slogdet(spd)
    w = np.linalg.eigvalsh(spd, UPLO="U")
    return lower, upper, x * 2, xv, inv @ b, det, sign, logdet, w, np.linalg.eigh(spd)

def decompose(a):
    q, r = np.linalg.qr(a)
    qc, rc = np.linalg.qr(a, mode="complete")
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    return q @ r, np.linalg.qr(a, mode="r"), qc.shape, rc, (u * s) @ vh, np.linalg.svd(a, compute_uv=False)

def stacked(a, b):
    return np.linalg.solve(a, b), np.linalg.det(a), np.linalg.inv(a).sum(axis=0)

def singular(a):
    return np.linalg.inv(a * 0.0)

def integers(i):
    return np.linalg.det(i), np.sort(i)[::-1], np.argsort(-i, axis=0, kind="stable")
"""

RNG = np.random.default_rng(7)
X = RNG.standard_normal((5, 4)).astype(np.float32)
X[1, 2] = np.nan                                  # NaN sorts last
X[3] = X[0]                                       # ties
V = np.array([-1.0, 0.0, X[0, 0], np.nan, 5.0], np.float32)
A = RNG.standard_normal((4, 4))
B = RNG.standard_normal((4, 3))
D = RNG.standard_normal((5, 3)).astype(np.float32)
P = RNG.permutation(7).astype(np.float64) / 7

CASES = {
    "sorting": lambda m: (X.copy(), V.copy()),
    "sorted_by": lambda m: (P.copy(), np.array([0.1, 0.9, 0.0])),
    "factor": lambda m: (A.copy(), B.copy()),
    "decompose": lambda m: (D.copy(),),
    "stacked": lambda m: (A.reshape(1, 4, 4) + np.eye(4) * np.arange(1, 4).reshape(3, 1, 1),
                          np.ones((3, 4, 2))),
    "integers": lambda m: (np.array([[2, 1, 0], [1, 3, 1], [0, 1, 4]], np.int32),),
}


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", sorted(CASES))
def test_library_ops_compile_like_eager(name, backend):
    f, _ = check_like_eager(PROGRAMS, name, [CASES[name]] * 2, backend=backend)
    assert f.fallbacks == [] and len(f.compiles) == 1


@pytest.mark.parametrize("backend", ["interpret", "numba"])
def test_numpy_errors_come_from_the_library_step(backend):
    """A singular matrix raises NumPy's LinAlgError when the plan runs (no fallback:
    NumPy raises it too, and the next call is compiled again); float16 and non-square
    matrices raise NumPy's errors while tracing."""
    f, _ = check_like_eager(PROGRAMS, "singular", [lambda m: (np.eye(3),)] * 2, backend=backend)
    assert f.fallbacks == [] and len(f.compiles) == 1
    g = tracejit.compile(lambda a: np.linalg.inv(a), backend=backend)
    with pytest.raises(TypeError):
        g(np.eye(2, dtype=np.float16))
    with pytest.raises(np.linalg.LinAlgError):
        g(np.ones((2, 3)))


def test_library_ops_are_plan_steps_between_kernels():
    """Fusion keeps a library op opaque: the elementwise work around it fuses into
    kernels before and after, and the plan calls the library in between."""
    from tracejit.runtime.plan import LibraryStep
    f = tracejit.compile(lambda x: np.sort(x * 2.0 + 1.0) - 1.0, backend="numba")
    x = np.array([3.0, -1.0, 2.0])
    np.testing.assert_array_equal(f(x), np.sort(x * 2.0 + 1.0) - 1.0)
    (spec,) = f.specializations()
    steps = [type(s).__name__ for s in spec.plan.steps]
    assert steps.count("LibraryStep") == 1 and steps.index("LibraryStep") not in (0, len(steps) - 1), steps
    assert isinstance(spec.plan.steps[steps.index("LibraryStep")], LibraryStep)



PARTITIONS = [lambda a: np.partition(a, 3), lambda a: np.partition(a, (1, -2), axis=0),
              lambda a: np.partition(a, 2, axis=None), lambda a: np.argpartition(a, 3),
              lambda a: np.argpartition(a, [0, 3], axis=0), lambda a: a.argpartition(2),
              lambda a: (lambda b: (b.partition(2), b)[1])(a.copy()),
              lambda a: np.take_along_axis(a, np.argpartition(a, 1, axis=1)[:, :2], axis=1)]


@pytest.mark.parametrize("backend", ["numba", "interpret"])
def test_partition_and_argpartition_are_numpys_own(backend):
    """np.partition / np.argpartition / x.partition: on the CPU NumPy's arrangement
    exactly (the order of the other elements too, which NumPy leaves undefined), NaN
    last; NumPy's errors for a bad kth."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((6, 9))
    x[1, 3] = np.nan
    for a in (x, rng.integers(0, 5, (4, 7)), x.T, x.astype(np.float32)):
        for fn in PARTITIONS:
            got, want = tracejit.compile(fn, backend=backend, fullgraph=True)(a), fn(a)
            assert got.dtype == want.dtype and got.shape == want.shape
            np.testing.assert_array_equal(got, want)
    for fn, error in [(lambda a: np.partition(a, 30), ValueError), (lambda a: np.argpartition(a, 1.5), TypeError)]:
        with pytest.raises(error):
            fn(x)
        with pytest.raises(error):
            tracejit.compile(fn, backend=backend)(x)
