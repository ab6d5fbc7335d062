"""Reductions and NumPy's composite statistics, every dtype, axes forms and keepdims."""
import numpy as np
import pytest

from _check import check, check_or_raises, data, run_traced

DTYPES = ["bool", "int8", "int32", "int64", "float32", "float64"]
AXES = [None, 0, 1, -1, (0, 2), (-1, 0), ()]


@pytest.mark.parametrize("name", ["sum", "prod", "max", "min", "any", "all", "mean", "amax", "amin"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("axis", AXES)
@pytest.mark.parametrize("keepdims", [False, True])
def test_reductions(name, dtype, axis, keepdims):
    func = getattr(np, name)
    x = data((3, 4, 5), dtype, special=name not in ("prod",))
    check(lambda x: func(x, axis=axis, keepdims=keepdims), x)


@pytest.mark.parametrize("name", ["sum", "prod", "max", "min", "any", "all", "mean", "var", "std",
                                  "argmax", "argmin"])
def test_methods(name):
    x = data((4, 3), "float32", special=True)
    check(lambda x: getattr(x, name)(), x)
    check(lambda x: getattr(x, name)(axis=0), x)
    check(lambda x: getattr(x, name)(-1), x)


@pytest.mark.parametrize("name", ["var", "std"])
@pytest.mark.parametrize("dtype", ["bool", "int32", "float32", "float64"])
@pytest.mark.parametrize("axis", [None, 0, -1, (0, 1)])
@pytest.mark.parametrize("ddof", [0, 1])
def test_var_std(name, dtype, axis, ddof):
    func = getattr(np, name)
    x = data((5, 7), dtype, seed=3)
    check(lambda x: func(x, axis=axis, ddof=ddof), x)
    check(lambda x: func(x, axis=axis, ddof=ddof, keepdims=True), x)


def test_var_float32_exact():
    # NumPy divides by a strong intp count (float64 division, then cast): bit-identical
    x = data((9, 13), "float32", seed=5)
    check(lambda x: (np.mean(x, 0), np.var(x, 1), np.std(x)), x, rtol=0)


@pytest.mark.parametrize("dtype", ["float32", "int32", "bool", "int8"])
def test_sum_mean_dtype_argument(dtype):
    x = data((4, 6), dtype)
    check(lambda x: np.sum(x, axis=1, dtype=np.float64), x)
    check(lambda x: np.sum(x, dtype=np.int32), x)
    check(lambda x: np.mean(x, axis=0, dtype=np.float32), x)
    check(lambda x: np.prod(x, axis=0, dtype=np.int64), x)


@pytest.mark.parametrize("name", ["argmax", "argmin"])
@pytest.mark.parametrize("axis", [None, 0, 1, -1])
@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("dtype", ["float32", "int32", "bool"])
def test_argmax_argmin(name, axis, keepdims, dtype):
    func = getattr(np, name)
    x = data((4, 5), dtype, special=True)
    check(lambda x: func(x, axis=axis, keepdims=keepdims), x)


def test_ufunc_reduce():
    x = data((3, 4), "float32")
    check(lambda x: np.add.reduce(x), x)
    check(lambda x: np.add.reduce(x, axis=1, keepdims=True), x)
    check(lambda x: np.maximum.reduce(x, axis=-1), x)
    check(lambda x: np.minimum.reduce(x, axis=None), x)
    check(lambda x: np.multiply.reduce(x, 0), data((3, 4), "int32"))
    check(lambda x: np.add.reduce(x), data((3,), "int8"))


def test_irregular_shapes():
    for shape in [(0,), (1,), (0, 3), (3, 0), (1, 1), (7, 1, 3)]:
        x = data(shape, "float32")
        check(lambda x: (np.sum(x), np.sum(x, axis=0), np.prod(x, axis=-1), np.mean(x, axis=0),
                         np.any(x > 0, axis=0), np.all(x, axis=-1)), x)


def test_empty_max_raises_like_numpy():
    check_or_raises(lambda x: np.max(x, axis=0), data((0, 3), "float32"))
    check_or_raises(lambda x: np.argmax(x), data((0,), "float32"))
    check(lambda x: np.max(x, axis=1), data((0, 3), "float32"))


def test_axis_errors():
    x = data((2, 3), "float32")
    check_or_raises(lambda x: x.sum(axis=2), x)
    check_or_raises(lambda x: x.sum(axis=(0, 0)), x)
    check_or_raises(lambda x: x.max(axis=-3), x)


@pytest.mark.parametrize("ord", [None, 1, 2, np.inf, -np.inf, 0, 3, 0.5, -1])
@pytest.mark.parametrize("dtype", ["float32", "float64", "int32"])
def test_vector_norm(ord, dtype):
    x = data((4, 6), dtype, seed=4)
    check(lambda x: np.linalg.norm(x[0], ord=ord), x, rtol=1e-5)
    check(lambda x: np.linalg.norm(x, ord=ord, axis=1), x, rtol=1e-5)
    check(lambda x: np.linalg.norm(x, ord=ord, axis=0, keepdims=True), x, rtol=1e-5)


@pytest.mark.parametrize("ord", [None, "fro", 1, -1, np.inf, -np.inf])
def test_matrix_norm(ord):
    x = data((3, 4, 5), "float64", seed=6)
    check(lambda x: np.linalg.norm(x[0], ord=ord), x)
    check(lambda x: np.linalg.norm(x, ord=ord, axis=(1, 2)), x)
    check(lambda x: np.linalg.norm(x, ord=ord, axis=(2, 0), keepdims=True), x)
    check(lambda x: np.linalg.norm(x), x)
    check(lambda x: np.linalg.norm(x, keepdims=True), x)


def test_average_and_ptp():
    x = data((3, 5), "float64")
    check(lambda x: (np.average(x), np.average(x, axis=1), np.ptp(x, axis=0)), x)


def test_weak_scalar_reduction_is_strong():
    got, _ = run_traced(lambda lr: np.sum(lr), 0.5)
    assert type(got) is np.float64 and got == 0.5


# where= and initial=: masked-out elements are skipped, initial joins every result
MASKED = ["sum", "prod", "max", "min", "nanmax", "nanmin", "any", "all", "mean", "nansum", "nanprod"]
NEEDS_INITIAL = {"max": -7, "min": 7, "nanmax": -7, "nanmin": 7}


@pytest.mark.parametrize("name", MASKED)
@pytest.mark.parametrize("dtype", ["bool", "int8", "int32", "float32", "float64"])
@pytest.mark.parametrize("axis", [None, 0, -1, (0, 2)])
def test_where_masks_elements(name, dtype, axis):
    func = getattr(np, name)
    x = data((3, 4, 5), dtype, special=name != "prod", seed=2)
    full, row = data((3, 4, 5), "bool", seed=4), data((5,), "bool", seed=5)
    extra = {"initial": NEEDS_INITIAL[name]} if name in NEEDS_INITIAL and dtype != "bool" else \
        {"initial": True} if name in NEEDS_INITIAL else {}
    tol = {"rtol": 1e-5, "atol": 1e-6}      # NumPy's masked loops add in another order
    check_or_raises(lambda x, m: func(x, axis=axis, where=m, **extra), x, full, **tol)
    check_or_raises(lambda x, m: func(x, axis=axis, where=m, keepdims=True, **extra), x, row, **tol)


@pytest.mark.parametrize("name", ["sum", "prod", "max", "min", "nanmax", "nanmin", "nansum"])
@pytest.mark.parametrize("dtype", ["int8", "int64", "float32"])
def test_initial_joins_every_result(name, dtype):
    func = getattr(np, name)
    x = data((4, 6), dtype, special=name != "prod", seed=7)
    check_or_raises(lambda x: func(x, axis=1, initial=3), x)
    check_or_raises(lambda x: func(x, initial=-2.5), x)
    check_or_raises(lambda x: func(x[:, :0], axis=1, initial=5), x)      # empty slices: the initial


def test_where_errors_as_numpy():
    x, m = data((3, 4), "float32"), data((3, 4), "bool")
    with pytest.raises(ValueError, match="does not have an identity"):
        run_traced(lambda x, m: np.max(x, where=m), x, m)
    with pytest.raises(TypeError, match="Cannot cast"):
        run_traced(lambda x, m: np.sum(x, where=m.astype(np.int32)), x, m)
    with pytest.raises(ValueError, match="more dimensions"):
        run_traced(lambda x, m: np.sum(x[0], where=m), x, m)
    with pytest.raises(OverflowError):
        run_traced(lambda x: np.max(x, initial=300), data((3,), "int8"))


@pytest.mark.parametrize("name", ["var", "std"])
@pytest.mark.parametrize("axis", [None, 0, -1])
def test_var_std_where(name, axis):
    func = getattr(np, name)
    x, m = data((5, 7), "float32", seed=8), data((5, 7), "bool", seed=9)
    check(lambda x, m: func(x, axis=axis, where=m), x, m, rtol=1e-5)
    check(lambda x, m: func(x, axis=axis, where=m, ddof=1, keepdims=True), x, m, rtol=1e-5)


def test_ufunc_reduce_where_initial():
    x, m = data((3, 4), "float64", seed=3), data((3, 4), "bool", seed=1)
    check(lambda x, m: (np.add.reduce(x, axis=1, where=m), np.maximum.reduce(x, None, where=m, initial=-1.0),
                        np.multiply.reduce(x, 0, initial=2.0), np.logical_or.reduce(x > 0, where=m)), x, m)


@pytest.mark.parametrize("dtype", ["int32", "float32", "float64"])
def test_average_with_weights(dtype):
    x = data((3, 4, 5), dtype, seed=10)
    w5, w34, wfull = (np.abs(data(s, "float32", seed=11)) + 0.1 for s in [(5,), (3, 4), (3, 4, 5)])
    check(lambda x, w: np.average(x, axis=-1, weights=w), x, w5, rtol=1e-5)
    check(lambda x, w: np.average(x, axis=(1, 0), weights=w.T, returned=True), x, w34, rtol=1e-5)
    check(lambda x, w: np.average(x, weights=w, returned=True, keepdims=True), x, wfull, rtol=1e-5)
    check(lambda x: (np.average(x, axis=0, returned=True), np.average(x, returned=True)), x, rtol=1e-5)


def test_average_weight_errors_as_numpy():
    x = data((3, 4), "float64")
    with pytest.raises(TypeError, match="Axis must be specified"):
        run_traced(lambda x, w: np.average(x, weights=w), x, np.ones(4))
    with pytest.raises(ValueError, match="consistent with shape"):
        run_traced(lambda x, w: np.average(x, axis=0, weights=w), x, np.ones(4))


def test_signed_zero_sums_over_no_axes_start_from_plus_zero():
    got, _ = run_traced(lambda x: (np.sum(x), np.mean(x), np.nansum(x)), np.float64(-0.0))
    assert not any(np.signbit(g) for g in got)
    got, _ = run_traced(lambda x: (np.sum(x, axis=()), np.add.reduce(x, axis=()), np.prod(x, axis=())),
                        np.array([-0.0, 1.0]))
    assert list(np.signbit(got[0])) == [False, False] == list(np.signbit(got[1]))
    assert np.signbit(got[2][0])                                   # 1 * -0.0 stays -0.0


def test_initial_is_converted_as_numpy_converts_it():
    x8 = np.ones((3, 2), np.int8)
    check(lambda x: (np.sum(x, initial=2.5), np.sum(x, axis=0, dtype=np.int8, initial=np.int64(100))), x8)
    for bad, error in [(200, OverflowError), (np.int64(1000), OverflowError), (np.ones(2), ValueError),
                       ([1.0], TypeError)]:
        with pytest.raises(error):
            run_traced(lambda x: np.sum(x, axis=0, dtype=np.int8, initial=bad), x8)
        with pytest.raises(error):
            np.sum(x8, axis=0, dtype=np.int8, initial=bad)
    with pytest.raises(ValueError):
        run_traced(lambda x: np.sum(x, axis=0, initial=np.ones(2)), np.ones((3, 2)))


def test_a_negative_zero_initial_is_not_traced():
    # NumPy's sum then starts from -0.0; the trace would start from +0.0
    from tracejit.tracer.errors import UnsupportedError
    with pytest.raises(UnsupportedError, match="initial=-0.0"):
        run_traced(lambda x: np.sum(x, initial=-0.0), np.full(3, -0.0))


@pytest.mark.parametrize("dtype", ["complex64", "complex128"])
def test_complex_variance_and_norms_are_real(dtype):
    rng = np.random.default_rng(12)
    c = (rng.standard_normal((4, 5)) + 1j * rng.standard_normal((4, 5))).astype(dtype)
    tol = dict(rtol=1e-5) if dtype == "complex64" else {}
    check(lambda c: (np.var(c), np.std(c, axis=0), np.var(c, axis=1, ddof=1, keepdims=True)), c, **tol)
    check(lambda c: (np.linalg.norm(c), np.linalg.norm(c, axis=1), np.linalg.norm(c, "fro"),
                     np.linalg.norm(c, axis=(0, 1)), np.linalg.norm(c, ord=0, axis=1),
                     np.linalg.norm(c, ord=3, axis=0)), c, **tol)
    check(lambda c: (np.vdot(c, c), np.vdot(c[0], c[1])), c, **tol)


def test_norms_of_empty_axes():
    x = np.zeros((0, 3))
    check(lambda x: (np.linalg.norm(x, ord=np.inf, axis=0), np.linalg.norm(x, ord=1), np.linalg.norm(x, ord=np.inf)), x)


def test_float16_mean_sums_and_divides_in_float32():
    x = np.array([-5.86, -4.355, -2.53], np.float16)
    got, _ = run_traced(lambda x: np.mean(x), x)
    assert got.dtype == np.float16 and got == np.mean(x)
    check(lambda x: (x.mean(axis=0), np.mean(x, axis=1, keepdims=True)), data((5, 7), "float16", seed=2))


def test_average_of_nothing_raises_as_numpy():
    with pytest.raises(ZeroDivisionError):
        run_traced(lambda x: np.average(x, axis=1), np.zeros((0, 3)))


def test_nan_statistics_with_where_and_positional_method_arguments():
    x, m = data((4, 6), "float32", special=True, seed=13), data((4, 6), "bool", seed=14)
    x = np.where(np.isinf(x), np.float32(2), x)
    tol = {"rtol": 1e-5, "atol": 1e-6}
    check(lambda x, m: (np.nanmean(x, axis=1, where=m), np.nanvar(x, axis=0, where=m, ddof=1),
                        np.nanstd(x, where=m)), x, m, **tol)
    check(lambda x, m: (x.sum(1, None, None, True, 1.0, m), x.max(0, None, False, -5.0, m),
                        np.sum(x, where=[True, False] * 3), np.sum(x, where=[1, 0, 1, 1, 0, 1])), x, m, **tol)


def test_nanargmax_nanargmin():
    x = data((4, 6), "float32", special=True, seed=1)
    x[2] = np.nan
    check_or_raises(lambda a: np.nanargmax(a, axis=1), x)          # an all-NaN row: ValueError
    check(lambda a: (np.nanargmin(a[:2], axis=1), np.nanargmax(a[:2]),
                     np.nanargmax(a[[0, 1, 3]], axis=1, keepdims=True)), x)
    check(lambda a: (np.nanargmax(a), np.nanargmin(a, axis=0)), data((3, 4), "int32"))


def _clip_in_place(p, lo):
    np.clip(p, lo, 1.0, out=p)
    return np.clip(p, -0.5, None, out=np.empty_like(p))


def test_clip_into_out():
    p = data((4, 6), "float64", seed=3)
    check(_clip_in_place, p.copy(), -0.2)
    with pytest.raises(TypeError, match="Cannot cast"):
        run_traced(lambda p: np.clip(p, 0, 1, out=np.empty(p.shape, np.int32)), p)
