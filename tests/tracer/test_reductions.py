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
