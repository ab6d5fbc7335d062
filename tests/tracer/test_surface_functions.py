"""NumPy functions of issue 8, section 5, compiled against eager NumPy.

Each program groups several forms (so few kernels are compiled) and runs eagerly and
compiled side by side (``tests/runtime/eager_check.py``): values, dtypes, result types
and writeability must be NumPy's, on every backend, without a fallback.
"""
import numpy as np
import pytest

from tests.runtime.eager_check import Call, check_like_eager

BACKENDS = ["interpret", "numba", "triton"]

GRIDS = """
import numpy as np

def spaced(lo, hi, x):
    a = np.linspace(lo, hi, 5)
    b, step = np.linspace(lo, hi, 4, endpoint=False, retstep=True)
    c = np.linspace(x[0], x[1], 3, axis=-1)
    d = np.linspace(lo, 10, 6, dtype=np.int32)          # floor, then the cast
    one, nan_step = np.linspace(lo, hi, 1, retstep=True)
    empty = np.linspace(x[0, 0], hi, 0)
    tiny = np.linspace(lo * 0.0, hi * 1e-323, 100)          # the step underflows to 0
    promoted = np.ones(2, np.result_type(x, lo))            # a traced Python float promotes weakly
    return a, b, step, c, d, one, nan_step, empty, tiny > 0, np.linspace(x[0, 0], hi, 3, dtype=np.float64), promoted

def logs(lo, hi, x):
    return (np.logspace(lo, hi, 4), np.logspace(x[0, 0], 2.0, 3, base=2.0),
            np.logspace(0.0, 1.0, 3, base=x[0, :, 0] + 2.0, axis=-1), np.logspace(lo, hi, 3, dtype=np.float32))

def grids(x, y, z):
    xx, yy = np.meshgrid(x, y)
    ii, jj, kk = np.meshgrid(x, y, z, indexing="ij")
    sx, sy = np.meshgrid(x, y, sparse=True)
    vx, vy = np.meshgrid(x, y, copy=False)
    return xx * 2, yy, ii, jj, kk, sx, sy, vx.sum(), np.meshgrid(z)

def tiles(x, s):
    return (np.tile(x, 2), np.tile(x, (2, 1)), np.tile(x, (2, 1, 3)), np.tile(x[0], (3, 2)),
            np.tile(x, (1, 1)), np.tile(x, 0), np.tile(s, 3), np.tile(x.T, (1, 2)))
"""

X3 = np.arange(12, dtype=np.float32).reshape(2, 3, 2) / 3
GRID_CASES = {
    "spaced": [lambda m: (0.5, 3.0, X3.copy()), lambda m: (-2.0, -1.5, X3.copy())],
    "logs": [lambda m: (0.5, 3.0, X3.copy())],
    "grids": [lambda m: (np.arange(3.0), np.arange(4, dtype=np.float32), np.array([1, 2], np.int32))],
    "tiles": [lambda m: (np.arange(6).reshape(2, 3), 1.5)],
}


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", sorted(GRID_CASES))
def test_grids_compile_like_eager(name, backend):
    f, _ = check_like_eager(GRIDS, name, GRID_CASES[name], backend=backend)
    assert f.fallbacks == []


def test_grid_errors_are_numpys():
    calls = [lambda m: Call(np.ones(2), -1), lambda m: Call(np.ones(2), 2, mode="bad")]
    check_like_eager("import numpy as np\ndef f(x, n, mode='xy'):\n"
                     "    return np.linspace(x[0], x[1], n), np.meshgrid(x, indexing=mode)\n", "f", calls)


NANS = """
import numpy as np

def nan_stats(x, i):
    return (np.nansum(x), np.nansum(x, axis=0), np.nansum(x, axis=-1, keepdims=True, dtype=np.float64),
            np.nanprod(x, axis=1), np.nanmean(x), np.nanmean(x, axis=1), np.nanmean(x, axis=0, keepdims=True),
            np.nanmax(x, axis=1), np.nanmin(x, axis=0), np.nanmax(x), np.nanvar(x, axis=1),
            np.nanstd(x, axis=0, ddof=1), np.nanvar(x), np.nancumsum(x, axis=1), np.nancumprod(x),
            np.nansum(i, axis=0), np.nanmean(i), np.nanmax(i))

def cleaned(x, s):
    a = np.nan_to_num(x)
    b = np.nan_to_num(x, nan=-1.0, posinf=1e300, neginf=-7)
    c = np.nan_to_num(s)
    d = np.nan_to_num(x[0], copy=False)          # writes into x
    return a, b, c, d, x.sum(), np.nan_to_num(np.arange(3))
"""

XN = np.array([[1.0, np.nan, 2.5, -1.0], [np.nan, np.nan, np.nan, np.nan], [0.5, 3.0, np.nan, 2.0]],
              np.float32)
XI = np.array([[np.inf, np.nan, 2.5], [-np.inf, 1.0, np.nan]])
NAN_CASES = {
    "nan_stats": [lambda m: (XN.copy(), np.arange(6, dtype=np.int32).reshape(2, 3))],
    "cleaned": [lambda m: (XI.copy(), np.float32(np.nan))],
}


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", sorted(NAN_CASES))
def test_nan_functions_compile_like_eager(name, backend):
    """All-NaN slices give NumPy's NaN (nanmax, nanmean, nanvar), without its RuntimeWarning."""
    f, _ = check_like_eager(NANS, name, NAN_CASES[name], backend=backend)
    assert f.fallbacks == []


CONTRACTIONS = """
import numpy as np

def products(a, b, t, v):
    return (np.einsum("ij,jk->ik", a, b), np.einsum("ij,jk", a, b), np.einsum("ij,kj->ik", a, b.T),
            np.einsum("bij,bjk->bik", t, t.transpose(0, 2, 1)), np.einsum("...ij,...jk->...ik", t, b),
            np.einsum("...j,j", t, v), np.einsum("i,j->ij", v, v), np.einsum("i,i", v, v),
            np.einsum("ijk,jil->kl", t, t.transpose(1, 0, 2)), np.einsum("i,i,i", v, v, v),
            np.einsum(a, [0, 1], b, [1, 2], [0, 2]), np.einsum("ij,j", a, v[:1]),
            np.tensordot(t, t, axes=([0, 1], [0, 1])), np.tensordot(a, b, 1), np.tensordot(v, v, 1),
            np.tensordot(a, v[:3], axes=(0, 0)), np.tensordot(t, a, axes=0))

def traces(c, i, m):
    d = np.einsum("ii->i", c)            # a view: writes reach c
    d *= 2.0
    return (np.einsum("ii", c), np.einsum("ij->ji", c), np.einsum("ij->", c), np.einsum("iij->ij", m),
            np.einsum("ij->i", i), np.einsum("ij,ij->", i, i), np.einsum("ij,jk", i > 4, i.T > 4),
            np.einsum("ij", c), np.einsum("bA", c[:, :2]))
"""

RA = np.random.default_rng(3)
A34, B45, T234, V4 = RA.standard_normal((3, 4)), RA.standard_normal((4, 5)), RA.standard_normal((2, 3, 4)), \
    RA.standard_normal(4)
C33, M332 = RA.standard_normal((3, 3)), RA.standard_normal((3, 3, 2))
CONTRACTION_CASES = {
    "products": [lambda m: (A34.copy(), B45.copy(), T234.copy(), V4.copy())],
    "traces": [lambda m: (C33.copy(), np.arange(12, dtype=np.int8).reshape(3, 4) * 20, M332.copy())],
}


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", sorted(CONTRACTION_CASES))
def test_einsum_and_tensordot_compile_like_eager(name, backend):
    """Results (int8 sums wrap as NumPy's einsum does), NumPy scalars for 0-d results,
    and NumPy's views ('ii->i', 'ij->ji') that writes reach the operand through."""
    f, _ = check_like_eager(CONTRACTIONS, name, CONTRACTION_CASES[name], backend=backend)
    assert f.fallbacks == []


def test_einsum_errors_are_numpys():
    calls = [lambda m: Call(np.ones((2, 3)), np.ones(2), "ij,j"), lambda m: Call(np.ones((2, 3)), np.ones(3), "ij,k->q"),
             lambda m: Call(np.ones((2, 3)), np.ones(3), "ii"), lambda m: Call(np.ones((2, 3)), np.ones((2, 2)), "t")]
    check_like_eager("import numpy as np\ndef f(a, b, s):\n    return np.einsum(s, a, b) if s != 't' else "
                     "np.tensordot(a, b)\n", "f", calls)


STATISTICS = """
import numpy as np

def covariances(m, i):
    return (np.cov(m), np.cov(m, bias=True), np.cov(m.T, rowvar=False, ddof=0), np.cov(m[0], m[1]),
            np.cov(m[0]), np.cov(i, dtype=np.float32), np.corrcoef(m), np.corrcoef(m[0]), np.corrcoef(m[0], m[1]),
            np.cov(m[:, :1]))

def histograms(x, i, c):
    return (np.histogram(x), np.histogram(x, bins=7, range=(-1, 1.5)), np.histogram(i, 5),
            np.histogram(c, 4), np.histogram(x, 3, density=True), np.histogram(i, 6, range=(0, 10)),
            np.histogram(x[:0], 3), np.histogram(np.array([0.0, 0.25, 0.5, 1.0, np.nan, 2.0]) * x[0], 4, range=(0.0, 1.0)),
            np.histogram(i.astype(np.int64) * 2**58, 2))

def few_histograms(x, i, c):
    return np.histogram(x), np.histogram(i, 6, range=(0, 10)), np.histogram(c, 4)
"""

RS = np.random.default_rng(11)
STATISTICS_CASES = {
    "covariances": [lambda m: (RS_M.copy(), np.arange(12, dtype=np.int16).reshape(3, 4) % 5)],
    "histograms": [lambda m: (RS_X.copy(), RS_I.copy(), np.full(7, 3.0)),
                   lambda m: (RS_X[::-1].copy(), RS_I[::2].copy(), np.full(7, -1.0))],
}
STATISTICS_CASES["few_histograms"] = STATISTICS_CASES["histograms"]
ON_INTERPRET = {"histograms"}              # every form; the compiling backends take a few (kernel count)
RS_M = RS.standard_normal((3, 6))
RS_X = RS.standard_normal(50).astype(np.float32)
RS_I = RS.integers(-5, 20, size=40).astype(np.int32)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("backend, name", [(b, n) for b in BACKENDS for n in sorted(STATISTICS_CASES)
                                           if b == "interpret" or n not in ON_INTERPRET])
def test_statistics_compile_like_eager(name, backend):
    """cov/corrcoef (rowvar, bias, ddof, y, dtype, one variable: a 0-d array) and
    histogram (bins from the data's min and max or from range, NumPy's right-edge rule,
    values out of range and NaN counted nowhere, equal min and max widened, int64
    counts), on every backend."""
    f, _ = check_like_eager(STATISTICS, name, STATISTICS_CASES[name], backend=backend)
    assert f.fallbacks == []


def test_histogram_data_errors_are_raised_by_the_compiled_code():
    """A NaN in the data makes NumPy's autodetected range non-finite: ValueError from
    the compiled code too (no fallback: the next call compiles as before)."""
    f, _ = check_like_eager("import numpy as np\ndef f(x):\n    return np.histogram(x, 3)\n", "f",
                            [lambda m: (np.array([1.0, np.nan, 2.0]),), lambda m: (np.array([1.0, 1.5, 2.0]),),
                             lambda m: (np.array([1.0, np.inf, 2.0]),)], backend="numba")
    assert f.fallbacks == [] and len(f.compiles) == 1


BINARY_MATH = """
import numpy as np

def logs_and_norms(x, y, lr):
    return (np.logaddexp(x, y), np.logaddexp(x, lr), np.logaddexp(x.astype(np.float64), 0.5),
            np.hypot(x, y), np.hypot(x, 3), np.hypot(x[:, None], y[:2]))
"""

XB = np.array([0.0, -np.inf, np.inf, np.nan, 1e30, -3.5, 2.0], np.float32)
YB = np.array([1.0, -np.inf, -np.inf, 0.0, 1e30, 700.0, -2.0], np.float32)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("backend", BACKENDS)
def test_logaddexp_and_hypot_compile_like_eager(backend):
    """Infinities, NaN, overflow-free large values, a weak Python scalar, broadcasting."""
    f, _ = check_like_eager(BINARY_MATH, "logs_and_norms", [lambda m: (XB.copy(), YB.copy(), 0.25)], backend=backend)
    assert f.fallbacks == []
