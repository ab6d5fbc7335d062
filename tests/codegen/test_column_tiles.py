"""Column tiles (codegen/column_tiles.py): reductions over leading axes take tiles of
columns, with per-column values in lane arrays. Widths past one tile and not a
multiple of it, several outer axes, multi-phase reductions with epilogues, index
reductions, NaN, and integer/bool kinds must all match NumPy."""
import numpy as np
import pytest

import tracejit
from tracejit.codegen import column_tiles
from tracejit.runtime.backends import NumbaBackend
from tracejit.runtime.compilation import compile_function
from tracejit.ir.types import TensorType


def colnorm(x):
    return x / np.sqrt((x * x).sum(axis=0))


def standardize(x):
    return (x - x.mean(axis=0)) / (x.std(axis=0) + 1e-3)


def middle(x):
    return x.max(axis=1) + x.argmin(axis=1)


def counts(b):
    return b.any(axis=0), b.all(axis=0), b.sum(axis=0)


FUNCTIONS = [colnorm, standardize, middle, lambda x: x.argmax(axis=0), lambda x: np.nanmax(x, axis=0),
             lambda x: x.sum(axis=(0, 1)), lambda x: x.prod(axis=0, keepdims=True) + x]


@pytest.mark.parametrize("fn", FUNCTIONS)
@pytest.mark.parametrize("shape", [(7, 600), (3, 5, 300), (5, 2 * column_tiles.TILE + 37)])   # last: 3 tiles
def test_reductions_over_leading_axes_match_numpy(fn, shape):
    rng = np.random.default_rng(3)
    x = rng.standard_normal(shape).astype(np.float32) + np.float32(0.5)
    x.flat[::97] = np.nan
    x.flat[5] = np.inf
    got, want = tracejit.compile(fn, backend="numba")(x), fn(x)
    np.testing.assert_allclose(got, want, rtol=2e-6, atol=1e-6, equal_nan=True)
    assert got.dtype == want.dtype and got.shape == want.shape


def test_integer_and_bool_columns():
    b = np.random.default_rng(4).random((9, 513)) > 0.3
    for got, want in zip(tracejit.compile(counts, backend="numba")(b), counts(b)):
        np.testing.assert_array_equal(got, want)
        assert got.dtype == want.dtype


def test_the_column_form_is_used_for_axis_0_and_not_for_rows():
    def source(fn, shape):
        compilation = compile_function(fn, (TensorType(shape, np.float32),), {}, NumbaBackend(), name="f")
        return compilation.kernel_sources()[0][3]
    assert f"for _lo in range(start, stop, {column_tiles.TILE}):" in source(colnorm, (8, 600))
    assert "_lo" not in source(lambda x: x.sum(axis=1), (8, 600))


def backward_of_a_masked_layer(d, w, h):
    """An MLP's backward step: the product's rows masked, then summed over the batch
    axis (the bias gradient) in the matmul's epilogue."""
    d_h = (d @ w.T) * (h > 0)
    return d_h, d_h.sum(axis=0)


def test_a_matmul_epilogue_that_sums_over_axis_0_takes_column_tiles():
    rng = np.random.default_rng(5)
    d, w = rng.standard_normal((300, 10)).astype(np.float32), rng.standard_normal((700, 10)).astype(np.float32)
    h = rng.standard_normal((300, 700)).astype(np.float32)
    d[7, 3] = np.nan
    shapes = (TensorType(d.shape, np.float32), TensorType(w.shape, np.float32), TensorType(h.shape, np.float32))
    compilation = compile_function(backward_of_a_masked_layer, shapes, {}, NumbaBackend(), name="f")
    matmul_sources = [entry[3] for entry in compilation.kernel_sources() if "np.matmul" in entry[3]]
    assert matmul_sources and f"for _lo in range(start, stop, {column_tiles.TILE}):" in matmul_sources[0]
    got = tracejit.compile(backward_of_a_masked_layer, backend="numba")(d, w, h)
    for g, want in zip(got, backward_of_a_masked_layer(d, w, h)):
        np.testing.assert_allclose(g, want, rtol=2e-6, atol=1e-5, equal_nan=True)
        assert g.dtype == want.dtype and g.shape == want.shape
