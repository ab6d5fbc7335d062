"""The backend-conformance suite: the same NumPy functions, compiled with ``fullgraph``
on every backend (``numba``, ``triton`` in its interpreter, ``interpret``), give eager
NumPy's results: dtype, shape, values within the stated tolerance, NaN/Inf alike.

Each test puts many ops into one function (and so, after fusion, one kernel) to keep
the number of compiles small. Backend-specific behaviour (launch variants, generated
text, parallel launches) is tested in test_numba_*.py and test_triton_*.py.
"""
from __future__ import annotations

import numpy as np
import pytest

import tracejit
from tests.helpers import assert_matches_numpy
from tracejit.ir.types import SUPPORTED_DTYPES

from tests.codegen.graphs import special_floats

BACKENDS = ["numba", "triton", "interpret"]
# accuracy of compiled math relative to NumPy: Numba's vectorized exp/log/tanh and
# Triton's formulations of the functions libdevice would provide, per float dtype
RTOL = {np.dtype(np.float16): 1e-3, np.dtype(np.float32): 4e-6, np.dtype(np.float64): 1e-13}


@pytest.fixture(params=BACKENDS)
def backend(request):
    return request.param


def run(fn, backend, *args, **tol):
    """fn compiled (no fallback allowed) against fn run eagerly; returns the result."""
    got = tracejit.compile(fn, backend=backend, fullgraph=True)(*args)
    with np.errstate(all="ignore"):
        want = fn(*args)
    assert_matches_numpy(got, want, **tol)
    return got


def _supported(ufunc, dtypes) -> bool:
    """NumPy has a loop for `ufunc` on `dtypes` and every dtype involved is supported."""
    try:
        resolved = ufunc.resolve_dtypes(tuple(np.dtype(d) for d in dtypes) + (None,) * ufunc.nout)
    except TypeError:
        return False
    return all(np.dtype(d) in SUPPORTED_DTYPES for d in resolved)


def _ints(dtype, n, seed):
    info = np.iinfo(dtype)
    rng = np.random.default_rng(seed)
    edges = np.array([0, 1, -1, 2, -2, 7, -7, 13, info.max, info.min + 1] if info.min < 0 else
                     [0, 1, 2, 7, 13, info.max, info.max - 1, 3, 5, 9], dtype)
    return np.concatenate([edges, rng.integers(info.min // 2, info.max // 2, n - len(edges), dtype=dtype)])


def sample(dtype, seed=0, n=64):
    dtype = np.dtype(dtype)
    if dtype.kind == "b":
        return np.random.default_rng(seed).random(n) < 0.5
    if dtype.kind in "iu":
        return _ints(dtype, n, seed)
    return special_floats(dtype, n=n, seed=seed)


UNARY = [np.negative, np.absolute, np.sign, np.sqrt, np.cbrt, np.square, np.reciprocal, np.exp, np.exp2, np.expm1,
         np.log, np.log2, np.log10, np.log1p, np.sin, np.cos, np.tan, np.arcsin, np.arccos, np.arctan,
         np.sinh, np.cosh, np.tanh, np.arcsinh, np.arccosh, np.arctanh, np.floor, np.ceil, np.trunc, np.rint,
         np.isnan, np.isinf, np.isfinite, np.logical_not, np.invert, np.positive]
BINARY = [np.add, np.subtract, np.multiply, np.true_divide, np.floor_divide, np.remainder, np.fmod, np.power,
          np.arctan2, np.logaddexp, np.hypot, np.maximum, np.minimum, np.fmax, np.fmin, np.equal, np.not_equal,
          np.less, np.less_equal, np.greater, np.greater_equal, np.logical_and, np.logical_or, np.logical_xor,
          np.bitwise_and, np.bitwise_or, np.bitwise_xor, np.left_shift, np.right_shift]
DTYPES = ["float32", "float64", "int8", "int32", "int64", "uint8", "bool"]


@pytest.mark.parametrize("dtype", DTYPES)
def test_unary_ufuncs(backend, dtype):
    ops = [u for u in UNARY if _supported(u, [dtype])]
    x = sample(dtype)
    if np.dtype(dtype).kind in "iu":
        x[x == 0] = 3                   # 1 / 0 is undefined for integers

    def unary(x):
        return tuple(op(x) for op in ops)
    run(unary, backend, x, rtol=RTOL.get(np.dtype(dtype), 1e-13), atol=1e-300)


@pytest.mark.parametrize("dtype", DTYPES)
def test_binary_ufuncs(backend, dtype):
    ops = [u for u in BINARY if _supported(u, [dtype, dtype])]
    x = sample(dtype, seed=1)
    y = np.random.default_rng(2).permutation(sample(dtype, seed=3))
    if np.dtype(dtype).kind in "iu":
        y[:3] = 0                        # x // 0 and x % 0 are 0, as NumPy's
        e = np.abs(y % 5).astype(dtype)  # non-negative exponents (negative ones raise)
    else:
        e = y

    def binary(x, y, e):
        return tuple(op(x, e if op is np.power else y) for op in ops)
    got = run(binary, backend, x, y, e, rtol=RTOL.get(np.dtype(dtype), 1e-13), atol=1e-300)
    assert len(got) >= 10


def test_float_floordiv_and_mod_keep_signs(backend):
    a = np.array([7, -7, 7, -7, 5.5, -5.5, 0.0, -0.0, 3, np.inf, 1, -1, 1e300], np.float64)
    b = np.array([2, 2, -2, -2, 0.0, 0.0, 3, 3, np.inf, 2, -0.0, np.nan, 1e-300], np.float64)
    q, r = run(lambda a, b: (a // b, a % b), backend, a, b, rtol=0)
    with np.errstate(all="ignore"):
        assert np.array_equal(np.signbit(q), np.signbit(a // b)) and np.array_equal(np.signbit(r), np.signbit(a % b))


def test_integer_arithmetic_wraps(backend):
    x = np.array([3, -5, 2 ** 31 - 1, -2 ** 31], np.int32)
    run(lambda x: (x * np.int32(2 ** 30), x + np.int32(2 ** 30), -x, x - np.int32(1)), backend, x)


@pytest.mark.parametrize("src", ["bool", "int8", "int32", "float32", "float64"])
def test_casts(backend, src):
    x = sample(src, n=40)
    if np.dtype(src).kind == "f":        # float -> int of NaN/Inf/out of range is undefined in C and NumPy
        x = np.where(np.isfinite(x) & (np.abs(x) < 100), x, 1.5).astype(src) * 1.25
        x[:3] = [0.0, -0.0, -0.7]
    targets = ["bool", "int8", "int16", "int32", "int64", "uint8", "float32", "float64"]
    # (a negative float to an unsigned type is out of range too: NumPy's result depends on the CPU)
    run(lambda x: tuple((abs(x) if t == "uint8" and x.dtype.kind == "f" else x).astype(t) for t in targets),
        backend, x)


def test_nan_and_inf_to_bool_and_narrower_floats(backend):
    x = np.array([np.nan, np.inf, -np.inf, -0.0, 1e300, 1e-300])
    run(lambda x: (x.astype(bool), x.astype(np.float32)), backend, x)


def test_where_clip_and_weak_scalars(backend):
    rng = np.random.default_rng(4)
    c = rng.random((5, 7)) < 0.5
    x = special_floats(np.float32, n=35)[:35].reshape(5, 7)
    i = rng.integers(-5, 5, 7).astype(np.int32)

    def f(c, x, i):
        return (np.where(c, x, i), np.where(c, i, 0.5), np.clip(x, -1.0, 2), x * 0.1 + 0.7,
                np.maximum(x, 0.0), x ** 2, i * 0.5, i // 2 + 1, (x > 0) & c)
    got = run(f, backend, c, x, i, rtol=1e-6)
    assert got[3].dtype == np.float32 and got[6].dtype == np.float64


def test_mixed_dtypes_promote_like_numpy(backend):
    rng = np.random.default_rng(17)
    i = rng.integers(-9, 9, (5, 7)).astype(np.int32)
    f = special_floats(np.float32, n=35)[:35].reshape(5, 7)
    j = rng.integers(-9, 9, (5, 7))
    got = run(lambda i, f, j: (i + f, i * j, i / i, np.maximum(f, j), i < f, f + np.float64(0.1), i * 2 ** 20),
              backend, i, f, j, rtol=1e-6)
    assert [g.dtype for g in got[:4]] == [np.float64, np.int64, np.float64, np.float64]


def test_constants_nan_inf(backend):
    x = np.array([1.0, -np.inf, np.nan], np.float32)
    run(lambda x: (x + np.float32(np.nan), x + np.float32(np.inf), x - np.float32(np.inf), x + 1.5,
                   np.full_like(x, 7, dtype=np.int64), np.ones_like(x, dtype=bool)), backend, x)


# --- reductions ---------------------------------------------------------------------

def _rows(dtype, shape=(6, 9), seed=5):
    rng = np.random.default_rng(seed)
    dtype = np.dtype(dtype)
    if dtype.kind == "b":
        x = rng.random(shape) < 0.5
        x[0], x[1] = True, False          # rows of all-True and all-False
        return x
    if dtype.kind in "iu":
        x = rng.integers(-9, 9, shape).astype(dtype)
        x[0] = x[0, 0]                    # ties: argmax gives the first
        return x
    x = (rng.random(shape) + 0.5).astype(dtype)
    x[0, 3] = x[0, 5] = np.nan            # NaN wins for max/min/argmax (the first one)
    x[1, 2] = np.inf
    x[2, :] = -np.inf
    x[3, 1:] = x[3, 0]                    # ties
    x[4, :] = np.nan                      # all NaN: nanmax gives NaN
    return x


@pytest.mark.parametrize("dtype", ["float32", "float64", "int32", "int64", "bool"])
@pytest.mark.parametrize("keepdims", [False, True])
def test_every_reduction_kind(backend, dtype, keepdims):
    def reductions(x):
        k = keepdims
        return (x.sum(1, keepdims=k), x.prod(1, keepdims=k), x.max(1, keepdims=k), x.min(1, keepdims=k),
                np.nanmax(x, 1, keepdims=k), np.nanmin(x, 1, keepdims=k), x.any(1, keepdims=k),
                x.all(1, keepdims=k), x.argmax(1, keepdims=k), x.argmin(1, keepdims=k), ~x if x.dtype == bool else -x)
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)      # NumPy warns on the all-NaN row
        run(reductions, backend, _rows(dtype), rtol=2e-6 if dtype == "float32" else 1e-12)


def test_integer_sums_widen(backend):
    got = run(lambda x: (x.sum(1), x.astype(bool).sum()), backend, np.full((2, 3), 2 ** 30, np.int32))
    assert got[0].dtype == np.int64 and got[0][0] == 3 * 2 ** 30


@pytest.mark.parametrize("axis,keepdims", [(0, False), (1, True), ((0, 2), False), (None, False), (None, True)])
def test_reduction_axes(backend, axis, keepdims):
    x = np.random.default_rng(6).standard_normal((4, 5, 6))
    run(lambda x: (x.sum(axis, keepdims=keepdims), x.max(axis, keepdims=keepdims),
                   x.mean(axis, keepdims=keepdims)), backend, x)


def test_argmax_over_axis_0_with_nan(backend):
    x = np.array([[1, 2, np.nan], [3, np.nan, 0], [3, 5, np.nan], [-1, 5, 0]], np.float32)
    run(lambda x: (x.argmax(0), x.argmin(0, keepdims=True), np.nanmax(x, 0)), backend, x)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_softmax_layernorm_and_log_sum_exp_rows(backend, dtype):
    rng = np.random.default_rng(7)
    x = (rng.standard_normal((3, 11, 40)) * 5).astype(dtype)
    x[0, 3, 7] = np.nan                 # that row becomes all NaN, like NumPy
    g, b = rng.standard_normal(40).astype(dtype), rng.standard_normal(40).astype(dtype)

    def rows(x, g, b):
        e = np.exp(x - x.max(-1, keepdims=True))
        mean = x.mean(-1, keepdims=True)
        norm = (x - mean) / np.sqrt(x.var(-1, keepdims=True) + 1e-5) * g + b
        lse = np.log(np.exp(x - x.max(-1, keepdims=True)).sum(-1)) + x.max(-1)
        return e / e.sum(-1, keepdims=True), norm, lse
    run(rows, backend, x, g, b, rtol=2e-5 if dtype == "float32" else 1e-11, atol=1e-6)


# --- scans ----------------------------------------------------------------------------

@pytest.mark.parametrize("axis", [0, 1, 2, -1, None])
def test_cumsum_and_cumprod_along_any_axis(backend, axis):
    rng = np.random.default_rng(8)
    x = rng.standard_normal((3, 5, 7)).astype(np.float32)
    i = rng.integers(-3, 4, (3, 5, 7)).astype(np.int32)
    run(lambda x, i: (np.cumsum(x, axis), np.cumprod(x * 0.5, axis=axis), i.cumsum(axis), np.cumprod(i, axis)),
        backend, x, i, rtol=2e-5, atol=1e-5)


@pytest.mark.parametrize("dtype", ["float64", "int64", "bool", "int8"])
def test_scan_dtypes_and_fused_neighbours(backend, dtype):
    x = _rows(dtype, shape=(6, 13))
    if np.dtype(dtype).kind == "f":
        x = np.where(np.isfinite(x), x, 0.5)

    def f(x):
        centred = x - x.max(axis=1, keepdims=True) if x.dtype != bool else x
        return np.cumsum(centred, axis=1) * 2, np.cumsum(x, axis=1, dtype=np.float64), np.cumprod(x, axis=0)
    run(f, backend, x, rtol=1e-12)


def test_scans_of_empty_and_single_rows(backend):
    run(lambda x, y: (np.cumsum(x, 1), np.cumprod(y, 0), np.cumsum(y)), backend,
        np.zeros((3, 0), np.float32), np.arange(1, 6, dtype=np.int64).reshape(1, 5))


# --- movement and gathers ---------------------------------------------------------------

def test_transposes_broadcasts_slices_and_reshapes(backend):
    rng = np.random.default_rng(9)
    x = rng.standard_normal((4, 6)).astype(np.float32)
    y = rng.standard_normal((6, 4)).astype(np.float32)
    z = rng.standard_normal((3, 4, 5))

    def f(x, y, z):
        return (x.T + y, (x.T + y) * x[:1].T, np.exp(z.transpose(2, 0, 1)), z.reshape(12, 5) + 1,
                z.reshape(6, 10) * 2, x[::-2, 1::3], x[-3:, ::3] + x[:3, ::-3], np.broadcast_to(x[:, :1], (4, 6)) - x)
    run(f, backend, x, y, z)


def test_concat_pad_flip_and_roll(backend):
    rng = np.random.default_rng(10)
    x = rng.integers(-5, 5, (3, 2)).astype(np.int32)
    y = rng.standard_normal((3, 4)).astype(np.float32)

    def f(x, y):
        return (np.concatenate([x, y, y[:, :1]], axis=1), np.vstack([y, y]), np.pad(y, ((1, 2), (0, 3)), constant_values=0.5),
                np.flip(y), np.roll(y, 2, axis=1), np.stack([y, y * 2], axis=-1))
    run(f, backend, x, y)


def test_gathers_with_negative_indices(backend):
    rng = np.random.default_rng(11)
    table = rng.standard_normal((7, 5)).astype(np.float32)
    ids = np.array([[0, -1, 6], [-7, 3, 3]])
    along = rng.integers(-5, 5, (7, 2))
    run(lambda t, i, a: (t[i] * 2, t[:, [4, -5, 0]], np.take_along_axis(t, a, axis=1), t[i].sum(-1)),
        backend, table, ids, along)


def test_reductions_of_transposed_and_gathered_inputs(backend):
    rng = np.random.default_rng(18)
    x = rng.standard_normal((6, 4)).astype(np.float32)
    ids = np.array([5, -1, 0], np.int32)
    run(lambda x, ids: (x.T[:, ids].sum(1), x[ids].max(0), x.T.cumsum(1)), backend, x, ids, rtol=1e-5, atol=1e-6)


def test_gathers_out_of_range_raise_index_error(backend):
    f = tracejit.compile(lambda t, i: t[i] + 1, backend=backend, fullgraph=True)
    table = np.arange(12.0).reshape(4, 3)
    np.testing.assert_array_equal(f(table, np.array([0, -4, 3])), table[[0, -4, 3]] + 1)
    with pytest.raises(IndexError):
        f(table, np.array([0, 4]))
    with pytest.raises(IndexError):
        f(table, np.array([-5, 0]))


def test_iota_based_masks(backend):
    x = np.random.default_rng(12).standard_normal((5, 5)).astype(np.float32)
    run(lambda x: (np.tril(x), np.triu(x, 1), np.where(np.tril(np.ones((5, 5), bool)), x, -np.inf)), backend, x)


# --- matmul ---------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", ["float32", "float64", "int32"])
def test_matmul_with_bias_and_relu_on_odd_sizes(backend, dtype):
    rng = np.random.default_rng(13)
    m, n, k = 33, 17, 40
    if dtype == "int32":
        x, w, b = (rng.integers(-9, 9, s).astype(dtype) for s in ((m, k), (k, n), (n,)))
    else:
        x, w, b = (rng.standard_normal(s).astype(dtype) for s in ((m, k), (k, n), (n,)))
    run(lambda x, w, b: (np.maximum(x @ w + b, 0), x @ w), backend, x, w, b, rtol=1e-5, atol=1e-5)


def test_batched_matmul_with_broadcast_batch_and_transposed_operand(backend):
    rng = np.random.default_rng(14)
    x = rng.standard_normal((2, 3, 9, 20)).astype(np.float32)
    w = np.ascontiguousarray(rng.standard_normal((3, 11, 20)).astype(np.float32)).transpose(0, 2, 1)
    s = rng.standard_normal((2, 1, 1, 11)).astype(np.float32)
    run(lambda x, w, s: np.tanh((x @ w) * s), backend, x, w, s, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("m,n,k", [(1, 5, 3), (4, 1, 1), (3, 4, 0), (0, 4, 3)])
def test_matmul_degenerate_sizes(backend, m, n, k):
    rng = np.random.default_rng(15)
    run(lambda a, b: a @ b, backend, rng.standard_normal((m, k)).astype(np.float32),
        rng.standard_normal((k, n)).astype(np.float32), rtol=1e-5, atol=1e-6)


# --- odd shapes and strides -------------------------------------------------------------------

def test_zero_size_size_one_and_zero_d(backend):
    run(lambda a, b, c: (np.exp(a), a.sum(1), b * c, np.sqrt(c) + 1.0), backend,
        np.zeros((0, 3), np.float32), np.arange(5, dtype=np.float32).reshape(1, 5, 1), np.float32(3.0))


def test_reshapes_of_zero_size_arrays_reduce_like_numpy(backend):
    run(lambda x: (x.reshape(-1).sum(), x.reshape(4, 0).sum(axis=1), x.reshape(2, 0, 2).sum(axis=(0, 2)),
                   x.reshape(0, 2, 2).max(-1), (x.reshape(2, 0, 2) + 1).prod(axis=1)),
        backend, np.zeros((0, 4), np.float32))


def test_non_contiguous_and_broadcast_arguments(backend):
    rng = np.random.default_rng(16)
    x = rng.standard_normal((7, 4)).T
    y = np.broadcast_to(rng.standard_normal((1, 7)), (4, 7))
    run(lambda x, y: (x - y, (x * y).sum(0), x[:, ::-1] + 1), backend, x, y)


# --- float16, unsigned and complex dtypes ---------------------------------------------------

def _bits(a):
    a = np.asarray(a)
    return a.view({2: np.uint16, 4: np.uint32, 8: np.uint64}[a.dtype.itemsize]) if a.dtype.kind == "f" else a


def test_float16_arithmetic_bit_for_bit(backend):
    """float16 ops compute in float32 and round the result to float16, as NumPy's loops."""
    rng = np.random.default_rng(19)
    x = (rng.standard_normal(500) * 3).astype(np.float16)
    y = (rng.standard_normal(500) * 3).astype(np.float16)
    x[:8] = [0, -0.0, np.inf, -np.inf, np.nan, 65504, 6e-8, -1e-5]
    z = rng.standard_normal(500)

    def f(x, y, z):
        return (x + y, x - y, x * y, x / y, -x, abs(x), np.maximum(x, y), np.sqrt(x), x * 0.1 + 0.7, x // y,
                x % y, np.floor(x), x ** 2, (x + z).astype(np.float16), z.astype(np.float16), x.astype(np.float32),
                np.where(x > y, x, y), x.astype(np.int32), np.float16(1.5) * x)
    got = tracejit.compile(f, backend=backend, fullgraph=True)(x, y, z)
    with np.errstate(all="ignore"):
        want = f(x, y, z)
    for k, (g, w) in enumerate(zip(got, want)):
        assert g.dtype == w.dtype, k
        same = (_bits(g) == _bits(w)) | (np.isnan(g) & np.isnan(w)) if w.dtype.kind == "f" else g == w
        assert same.all(), f"output {k}: {np.flatnonzero(~same)[:5]}"


def test_float16_math_reductions_and_scans(backend):
    x = np.linspace(-4, 4, 96, dtype=np.float16).reshape(8, 12)
    run(lambda x: (np.exp(x), np.tanh(x), np.log1p(np.abs(x)), x.sum(1), x.mean(0), x.max(), np.cumsum(x, 1),
                   x.astype(np.float32).sum(1)), backend, x, rtol=2e-3, atol=1e-3)


@pytest.mark.parametrize("dtype", ["uint16", "uint32", "uint64"])
def test_unsigned_integers(backend, dtype):
    x = sample(dtype, seed=20, n=40)
    y = np.random.default_rng(21).permutation(sample(dtype, seed=22, n=40))
    y[y == 0] = 3
    run(lambda x, y: (x + y, x - y, x * y, x // y, x % y, x > y, np.maximum(x, y), x & y, x ^ y, -x, x.max(),
                      x.astype(np.float64) / 3, x + 1, x * np.int8(2)), backend, x, y)


def test_complex_arithmetic_abs_exp_conj_parts_and_matmul(backend):
    """Compiled on the CPU (Numba's complex scalars); Triton has none: it runs eagerly."""
    rng = np.random.default_rng(23)
    z = (rng.standard_normal((4, 5)) + 1j * rng.standard_normal((4, 5))).astype(np.complex64)
    w = rng.standard_normal((5, 3)) + 1j * rng.standard_normal((5, 3))

    def f(z, w):
        return (z * z + z, z / (z + 1), abs(z), np.exp(z), np.conj(z), z @ w, np.sqrt(z), z.sum(1), z == z, -z,
                z * 1j + 2, z.real, z.imag, np.real(z) - np.imag(z), z.conj(), (z * z.conj()).real, z.mean())
    if backend == "triton":
        with pytest.warns(tracejit.FallbackWarning):
            got = tracejit.compile(f, backend=backend)(z, w)
        assert_matches_numpy(got, f(z, w))
        return
    run(f, backend, z, w, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("dtype", [np.complex64, np.complex128])
def test_complex_division_and_multiplication_of_special_values_match_numpy(dtype):
    """x / 0 is inf/NaN as in NumPy (Numba's complex `/` raises ZeroDivisionError), huge
    products overflow the way NumPy's fused loop does, and finite quotients are scaled."""
    parts = np.array([0.0, -0.0, 1.0, -2.5, 1e-300, 1e300, 3e38, np.inf, -np.inf, np.nan])
    re, im = np.meshgrid(parts, parts)
    with np.errstate(all="ignore"):          # 1j * inf, and 1e300 cast to complex64
        z = (re + 1j * im).ravel().astype(dtype)
    a, b = np.repeat(z, z.size), np.tile(z, z.size)
    f = tracejit.compile(lambda a, b: (a / b, a * b, a * a, 1 / b), backend="numba", fullgraph=True)
    with np.errstate(all="ignore"):
        got, want = f(a, b), (a / b, a * b, a * a, 1 / b)
    for g, w in zip(got, want):
        assert g.dtype == w.dtype
        for part in (np.real, np.imag):
            gp, wp = part(g), part(w)
            np.testing.assert_array_equal(np.isnan(gp), np.isnan(wp))
            np.testing.assert_array_equal(np.where(np.isinf(gp), gp, 0), np.where(np.isinf(wp), wp, 0))
            finite = np.isfinite(wp)
            np.testing.assert_allclose(gp[finite], wp[finite], rtol=4 * np.finfo(dtype).eps, atol=0)


def test_complex_times_one_is_a_complex_product(backend):
    """x * 1 is not x for complex x: an infinite part gives NaN, -0.0 parts become +0.0."""
    z = np.array([complex(1, np.inf), complex(0.0, -0.0), complex(-0.0, -0.0), 2 - 3j])
    if backend == "triton":
        return                                  # complex values run eagerly on Triton
    run(lambda z: (z * 1.0, 1 * z, z / 1.0, z * (1 + 0j)), backend, z)


def test_integer_to_a_negative_power_raises_value_error(backend):
    f = tracejit.compile(lambda x, y: x ** y + 1, backend=backend, fullgraph=True)
    np.testing.assert_array_equal(f(np.array([2, 3, -4]), np.array([62, 0, 3])),
                                  np.array([2, 3, -4]) ** np.array([62, 0, 3]) + 1)
    with pytest.raises(ValueError, match="negative integer powers"):
        f(np.array([2, 3, 4]), np.array([1, -1, 2]))


def test_signs_of_zero_like_numpy(backend):
    x = np.array([-0.0, 0.0, -0.0, -0.0, 0.0, -0.0])
    got = run(lambda x: (np.cumsum(x), np.tanh(x), np.sign(x), np.clip(x, 0, 1), np.maximum(x, 0.0),
                         np.minimum(0.0, x), x.sum()), backend, x)
    with np.errstate(all="ignore"):
        want = (np.cumsum(x), np.tanh(x), np.sign(x), np.clip(x, 0, 1), np.maximum(x, 0.0), np.minimum(0.0, x), x.sum())
    for g, w in zip(got, want):
        assert np.array_equal(np.signbit(g), np.signbit(w))



@pytest.mark.parametrize("backend", ["numba", "interpret"])
@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_signs_of_zero_on_ties_of_clip_maximum_and_minimum_like_numpy(backend, dtype):
    """One bound is np.maximum(x, lo) / np.minimum(x, hi) (the bound wins a tie); two
    are the clip ufunc (x wins a tie with a scalar bound, an array bound wins); float16
    loops keep the first operand on ties, float32/64 loops the second. (np.fmax/fmin
    of float32/64 are left out: NumPy's own result depends on the array's alignment.)"""
    x = np.array([-0.0, 0.0, -0.0, 0.0, -1.0, 2.0, np.nan, -np.inf] * 3, dtype)
    zeros, negative_zeros = np.zeros_like(x), np.full_like(x, -0.0)

    def f(x, zeros, negative_zeros):
        results = (np.clip(x, 0, None), np.clip(x, None, -0.0), np.clip(x, -0.0, 0.0), np.clip(x, 0, 1),
                   np.clip(x, zeros, zeros + 1), np.clip(x, negative_zeros - 1, negative_zeros),
                   np.clip(x, zeros - 1, 0.0), np.clip(np.outer(zeros[:2] + 1, x), zeros, zeros + 1),
                   np.clip(x[0], zeros, zeros + 1), np.clip(x.reshape(4, 6), zeros[:4, None], 1.0),
                   np.maximum(x, dtype(0)), np.maximum(dtype(0), x), np.minimum(x, dtype(-0.0)),
                   np.minimum(negative_zeros, x), np.maximum(x, zeros))
        return results + ((np.fmax(x, dtype(0)), np.fmin(negative_zeros, x)) if dtype == np.float16 else ())
    got = tracejit.compile(f, backend=backend, fullgraph=True)(x, zeros, negative_zeros)
    want = f(x, zeros, negative_zeros)
    for i, (g, w) in enumerate(zip(got, want)):
        np.testing.assert_array_equal(g, w, err_msg=f"result {i}")
        np.testing.assert_array_equal(np.signbit(g), np.signbit(w), err_msg=f"signs of result {i}")


def test_sums_of_negative_zeros_are_positive_zero(backend):
    """np.sum starts from +0.0: a sum of -0.0s, or of nothing, is +0.0; np.cumsum's
    prefixes start from the first element and keep -0.0."""
    rows, empty, cols = np.full((4, 7), -0.0), np.zeros((3, 0)), np.full(5, -0.0, np.float32)
    fn = lambda r, e, c: (r.sum(), r.sum(axis=0), r.sum(axis=1), r.mean(axis=1), np.nansum(r, axis=1),
                          (r * r).sum(axis=1, keepdims=True) + r, np.cumsum(r, axis=1),
                          e.sum(axis=1), e.sum(), c.sum(), np.cumsum(c))
    got = run(fn, backend, rows, empty, cols)
    want = fn(rows, empty, cols)
    for g, w in zip(got, want):
        assert np.array_equal(np.signbit(g), np.signbit(w))
    assert not np.signbit(got[0]) and np.signbit(got[6]).all()

def test_scans_over_size_one_axes(backend):
    x = np.arange(4.0).reshape(4, 1)
    run(lambda x, y: (np.cumsum(x, 1) * 2, np.cumprod(y, 0) + 1, np.cumsum(np.ones(1)) * 2), backend, x, x.T)


def test_scans_with_a_narrower_dtype(backend):
    x = np.array([[100, 100, 100], [1, 2, 3]], np.int32)
    run(lambda x: (np.cumsum(x, axis=1, dtype=np.int8), x.cumprod(axis=1, dtype=np.int16),
                   np.cumsum(x, axis=1, dtype=bool), np.cumsum(x, axis=0, dtype=np.uint8)), backend, x)


def test_a_moved_read_of_a_matmul_result(backend):
    rng = np.random.default_rng(24)
    a, b = rng.standard_normal((6, 6)).astype(np.float32), rng.standard_normal((6, 6)).astype(np.float32)
    run(lambda a, b: ((a @ b) + (a @ b).T, np.flip(a @ b, 1) + 1), backend, a, b, rtol=1e-5, atol=1e-5)


def test_elementwise_work_on_mask_reads_compiled(backend):
    """y[m] ** 2, x[m] - x[m].mean() and var/std of mask reads (tracer/masked.py)."""
    rng = np.random.default_rng(4)
    x, y = rng.standard_normal((5, 7)), rng.standard_normal((5, 7))
    fn = lambda x, y: (np.sum(y[x > 0] ** 2), (x[x > 0] - x[x > 0].mean()).max(), y[x > 0.5].var(),
                       np.std(x[y < 0], ddof=1), ((x[x > 0] * 2) > 1).sum())
    run(fn, backend, x, y, rtol=1e-12)


def test_masked_reductions_and_weighted_average(backend):
    """where=/initial= on reductions and np.average with weights, compiled; weights that
    sum to zero raise NumPy's ZeroDivisionError from the kernel."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((6, 9)).astype(np.float32)
    x[2, 3] = np.nan
    mask, w = rng.random((6, 9)) < 0.5, rng.random(9) + 0.1
    mask[4] = False
    fn = lambda x, m, w: (np.sum(x, axis=1, where=m), np.max(x, axis=0, where=m, initial=-5.0),
                          np.mean(x, axis=1, where=m), np.nansum(x, initial=1.0),
                          np.average(x, axis=1, weights=w), np.average(x, axis=1, weights=w, returned=True)[1])
    run(fn, backend, x, mask, w, rtol=1e-5, atol=1e-6)
    averaged = tracejit.compile(lambda x, w: np.average(x, axis=1, weights=w), backend=backend, fullgraph=True)
    with pytest.raises(ZeroDivisionError, match="Weights sum to zero"):
        averaged(x, np.zeros(9))


@pytest.mark.parametrize("backend", ["numba", "interpret"])
def test_int64_minimum_floor_divided_by_minus_one_wraps(backend):
    low = np.iinfo(np.int64).min
    a, b = np.array([low, low, 7, -7, 0, low + 1]), np.array([-1, 1, 0, 2, -3, -1])
    with np.errstate(all="ignore"):
        got = run(lambda a, b: (a // b, a % b, a.astype(np.int32) // b.astype(np.int32)), backend, a, b)
    assert got[0][0] == low


def test_ufunc_where_into_out_compiled(backend):
    a = np.linspace(-2, 2, 24).reshape(4, 6)
    b = np.where(np.arange(24).reshape(4, 6) % 5 == 0, 0.0, a + 3)
    run(lambda a, b: (np.divide(a, b, out=np.zeros_like(a), where=b != 0),
                      np.log(b, out=np.full_like(b, -1.0), where=b > 0)), backend, a, b)


def test_float16_sums_across_rows_round_at_every_row(backend):
    """NumPy adds whole rows into a float16 result (4096 rows of ones sum to 2048); along
    a row it sums in float32 and rounds once."""
    x = np.ones((4096, 2), np.float16)
    y = np.random.default_rng(5).standard_normal((300, 7)).astype(np.float16)
    got = run(lambda x, y: (x.sum(axis=0), y.sum(axis=0), y.mean(axis=0), y.sum(axis=1)), backend, x, y, rtol=0, atol=0)
    np.testing.assert_array_equal(got[0], [2048, 2048])
    column = np.ones((4096, 1), np.float16)             # one element per row: NumPy sums it as a line
    np.testing.assert_array_equal(run(lambda c: c.sum(axis=0), backend, column, rtol=0, atol=0), [4096])


@pytest.mark.parametrize("backend", ["numba", "interpret"])
def test_compositions_compiled(backend):
    x = np.random.default_rng(8).standard_normal((6, 7)).astype(np.float32)
    x[0, :3] = [-0.0, np.nan, -np.inf]
    got = run(lambda a: (np.signbit(a), np.copysign(1.0, a), np.deg2rad(a), np.heaviside(a, 0.5),
                         np.select([a > 1, a < -1], [a * 2, a - 1], 0.5), np.diag(a[1], 1), np.rot90(a) * 2,
                         np.median(a, axis=1), np.percentile(a, 75, axis=0)), backend, x)
    np.testing.assert_array_equal(got[0], np.signbit(x))


def test_negative_nan_constants_keep_their_sign(backend):
    """A median copies the data's NaN, sign included: the -nan and +nan constants it
    chooses between stay distinct through CSE and codegen (Numba folds ``-np.nan`` to
    +nan; ``repr`` and ``float.hex`` print both as "nan")."""
    x = np.array([[1.0, -np.nan, 3.0, 2.0], [4.0, 5.0, 6.0, 7.0], [np.nan, 0.5, 1.5, 2.5]], np.float32)
    got = run(lambda a: (np.median(a, axis=1), np.quantile(a, [0.3, 0.5], axis=1)), backend, x, rtol=0)
    np.testing.assert_array_equal(np.signbit(got[0]), [True, False, False])
    np.testing.assert_array_equal(np.signbit(got[1]), np.signbit(np.quantile(x, [0.3, 0.5], axis=1)))


@pytest.mark.parametrize("backend", ["numba", "interpret"])
def test_nanargmax_raises_for_an_all_nan_row_compiled(backend):
    x = np.random.default_rng(9).standard_normal((5, 8))
    x[1, ::2] = np.nan
    f = tracejit.compile(lambda a: (np.nanargmax(a, axis=1), np.clip(a, -0.5, 0.5, out=a)), backend=backend,
                         fullgraph=True)
    got, want = f(x.copy()), (np.nanargmax(x, axis=1), np.clip(x, -0.5, 0.5))
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(got[1], want[1])
    x[3] = np.nan
    with pytest.raises(ValueError, match="All-NaN slice"):
        f(x.copy())


@pytest.mark.parametrize("backend", ["numba", "interpret"])
def test_interp_and_convolve_compiled(backend):
    x = np.linspace(-3, 3, 50)
    x[7] = np.nan
    grid = np.linspace(-2, 2, 9)
    run(lambda x, g: (np.interp(x, g, np.sin(g), left=-1.0), np.convolve(x, [0.25, 0.5, 0.25], "same")),
        backend, x, grid, rtol=1e-12, atol=1e-12)
