"""Pointwise kernels that read an array across its rows (``x + x.T``) walk the domain
in 32 x 32 tiles (codegen/numba_dialect.py ``reads_across``); results and in-place
writes match NumPy for every shape, tile remainders and 3-D transposes included."""
import numpy as np
import pytest

from tracejit.codegen.numba_dialect import BLOCK
from tracejit.ir.types import TensorType
from tracejit.runtime.backends import NumbaBackend
from tracejit.runtime.compilation import compile_function
from tests.runtime.eager_check import check_like_eager

PROGRAMS = """
import numpy as np
def symmetric(x):
    return x + x.T
def swapped(x):
    return x * np.swapaxes(x, 0, 2) + 1
def mixed(x, y):
    return np.exp(x.T) * y
def in_place(x):
    x[...] = x + x.T
def along_rows(x, y):
    return x + y
def broadcast_row(x, y):
    return x + y[0]
def broadcast_column(x, y):
    return x + y[:, :1]
"""


def _source(name, shapes):
    from tests.runtime.eager_check import make_module
    fn = getattr(make_module(PROGRAMS, "across"), name)
    types = tuple(TensorType(s, np.float32) for s in shapes)
    return compile_function(fn, types, {}, NumbaBackend(), name=name).kernel_sources()[0][3]


def test_transposed_reads_are_tiled_and_row_reads_are_not():
    assert f"range(start, stop, {BLOCK})" in _source("symmetric", [(40, 40)])
    assert f"range(start, stop, {BLOCK})" in _source("swapped", [(6, 5, 6)])
    assert "_b0" not in _source("along_rows", [(40, 40), (40, 40)])
    assert "_b0" not in _source("broadcast_row", [(40, 40), (40, 40)])
    assert "_b0" not in _source("broadcast_column", [(40, 40), (40, 40)])


@pytest.mark.parametrize("name, shapes", [("symmetric", [(37, 37)]), ("symmetric", [(1, 1)]),
                                          ("symmetric", [(70, 70)]), ("swapped", [(33, 5, 33)]),
                                          ("mixed", [(45, 33), (33, 45)]), ("in_place", [(65, 65)])])
def test_tiled_kernels_match_numpy(name, shapes):
    rng = np.random.default_rng(5)
    data = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    data[0].flat[::11] = np.nan
    check_like_eager(PROGRAMS, name, [lambda m: tuple(a.copy() for a in data)], backend="numba")
