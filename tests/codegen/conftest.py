"""Shared fixtures of the code generator tests.

Numba compiles each generated kernel in about 0.3 s, so all tests of a session share
one cache directory (and thereby the in-memory kernel cache of the backend): a test
that renders the same kernel source as an earlier one compiles nothing.
"""
from __future__ import annotations

import numpy as np
import pytest

from tracejit.ir import GraphBuilder, TensorType, run_graph
from tracejit.ir.loopnest import lower_region

TOL = {np.dtype(np.float32): dict(rtol=1e-5, atol=1e-6),
       np.dtype(np.float64): dict(rtol=1e-6, atol=1e-12)}


def assert_same(got, want, what="", **tol):
    """Same dtype and shape exactly; values close (floats) or equal; NaN/Inf alike."""
    got, want = np.asarray(got), np.asarray(want)
    assert got.dtype == want.dtype, f"{what}: dtype {got.dtype}, reference {want.dtype}"
    assert got.shape == want.shape, f"{what}: shape {got.shape}, reference {want.shape}"
    if want.dtype.kind == "f":
        options = dict(TOL.get(want.dtype, {}))      # other dtypes: the caller passes tolerances
        options.update(tol)
        assert np.array_equal(np.isnan(got), np.isnan(want)), f"{what}: NaN positions differ"
        assert np.array_equal(np.isposinf(got), np.isposinf(want)), f"{what}: +inf positions differ"
        assert np.array_equal(np.isneginf(got), np.isneginf(want)), f"{what}: -inf positions differ"
        np.testing.assert_allclose(got, want, equal_nan=True, err_msg=what, **options)
    else:
        np.testing.assert_array_equal(got, want, err_msg=what)


@pytest.fixture(scope="session")
def kernel_cache(tmp_path_factory):
    """One cache directory for every kernel compiled by these tests."""
    return tmp_path_factory.mktemp("numba-kernels")


@pytest.fixture(scope="session")
def numba_run(kernel_cache):
    """run(region, arrays) -> (outputs, kernel): lower, compile (cached), launch."""
    from tracejit.codegen.numba_backend import compile_kernel

    def run(region, arrays):
        nest = lower_region(region)
        kernel = compile_kernel(nest, kernel_cache, str(region))
        outputs = [np.empty(v.shape, v.dtype) for v in region.outputs]
        kernel(list(arrays), outputs, nest.sizes)
        return outputs, kernel
    return run


@pytest.fixture(scope="session")
def check(numba_run):
    """check(region, arrays, **tol): the kernel's outputs equal the interpreter's."""
    def check_region(region, arrays, **tol):
        got, kernel = numba_run(region, arrays)
        want = run_graph(region, [np.asarray(a) for a in arrays])
        for k, (g, w) in enumerate(zip(got, want)):
            assert_same(g, w, f"{region.name} output {k}", **tol)
        return got, kernel
    return check_region


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


@pytest.fixture(scope="session")
def builder():
    """builder(name, (shape, dtype), ...) -> (GraphBuilder, input values)."""
    def make(name, *types):
        b = GraphBuilder(name)
        return b, [b.add_input(TensorType(shape, dtype)) for shape, dtype in types]
    return make
