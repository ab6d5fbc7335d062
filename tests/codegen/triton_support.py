"""Shared helpers of the Triton backend tests: they run kernels in Triton's CPU
interpreter (TRITON_INTERPRET=1 is set here, before anything imports triton) and
compare them with the reference interpreter ``tracejit.ir.run_graph``."""
from __future__ import annotations

import os

os.environ["TRITON_INTERPRET"] = "1"

import numpy as np  # noqa: E402
import pytest  # noqa: E402

triton = pytest.importorskip("triton")

from tracejit.codegen.triton_backend import compile_kernel  # noqa: E402
from tracejit.ir import run_graph  # noqa: E402
from tracejit.ir.loopnest import lower_region  # noqa: E402

_CACHE = {}


def cache_dir(tmp_root=None):
    import tempfile
    if "dir" not in _CACHE:
        _CACHE["dir"] = tempfile.mkdtemp(prefix="tj_triton_tests_")
    return _CACHE["dir"]


def compile_region(graph, options=None):
    nest = lower_region(graph)
    return nest, compile_kernel(nest, cache_dir(), str(graph), options)


def run_region(graph, arrays, options=None, outputs=None):
    """Compile `graph` as one kernel and run it; returns (results, expected, kernel)."""
    nest, kernel = compile_region(graph, options)
    expected = run_graph(graph, arrays)
    if outputs is None:
        outputs = [np.full(e.shape, 77, e.dtype) for e in expected]
    kernel(list(arrays), outputs, nest.sizes)
    return outputs, expected, kernel


def assert_same(got, want, rtol=1e-5, atol=0.0, what=""):
    """Same dtype and shape, NaN in the same places, values within tolerance."""
    assert got.dtype == want.dtype, (what, got.dtype, want.dtype)
    assert got.shape == want.shape, (what, got.shape, want.shape)
    if want.dtype.kind == "f":
        np.testing.assert_array_equal(np.isnan(got), np.isnan(want), err_msg=f"NaN positions of {what}")
        np.testing.assert_allclose(got, want, rtol=rtol, atol=atol, err_msg=what)
    else:
        np.testing.assert_array_equal(got, want, err_msg=what)


def check_region(graph, arrays, options=None, rtol=1e-5, atol=0.0):
    got, want, kernel = run_region(graph, arrays, options)
    for i, (g, w) in enumerate(zip(got, want)):
        assert_same(g, w, rtol, atol, what=f"output {i} of @{graph.name}")
    return kernel
