"""Flat pointwise nests (tracejit/ir/flatten.py): a pointwise nest over several dims
whose loads and stores are all at the identity index runs, on C-contiguous arrays, as
one loop over every point; on other layouts the nested kernel runs. Results, the
caller's arrays written in place, and the reports (compile time, assembly) are the
same either way."""
from __future__ import annotations

import numpy as np
import pytest

import tracejit
from tracejit.ir import GraphBuilder, TensorType
from tracejit.ir.flatten import flat_nest, flattened_buffers
from tracejit.ir.loopnest import lower_region

F32 = np.float32


def gelu(x):
    return 0.5 * x * (1.0 + np.tanh(0.7978845608 * (x + 0.044715 * x ** 3)))


def scaled_sum(x, y, s):
    return np.where(x > y, x * s, y - s), np.sqrt(np.abs(x)) > 1


def kernels(f):
    return [s.kernel for s in f.specializations()[-1].plan.steps if hasattr(s, "kernel")]


def _nest(shape, build):
    b = GraphBuilder("flat_probe")
    x = b.add_input(TensorType(shape, np.dtype(F32)))
    return lower_region(b.finish([build(b, x)]))


def test_which_nests_run_flat():
    pointwise = _nest((4, 5, 6), lambda b, x: b.emit("tanh", [b.emit("mul", [x, x])]))
    assert flattened_buffers(pointwise) == ("in0", "out0")
    flat = flat_nest(pointwise)
    assert flat.domain == (120,) and flat.sizes == {"n0": 120}
    assert [tuple(b.shape) for b in flat.inputs + flat.outputs] == [(120,), (120,)]
    # the index matters: a transposed read, a reduction, a 1-D nest (nothing to flatten)
    assert flattened_buffers(_nest((4, 5), lambda b, x: b.emit("transpose", [x], {"perm": (1, 0)}))) is None
    assert flattened_buffers(_nest((4, 5), lambda b, x: b.emit("reduce_sum", [x], {"axes": (1,),
                                                                                  "keepdims": False}))) is None
    assert flattened_buffers(_nest((20,), lambda b, x: b.emit("exp", [x]))) is None


def test_a_broadcast_operand_keeps_the_nest():
    f = tracejit.compile(lambda x, b: np.tanh(x + b), fullgraph=True)
    x, b = np.ones((8, 16), F32), np.arange(16, dtype=F32)
    np.testing.assert_allclose(f(x, b), np.tanh(x + b), rtol=1e-6)
    [k] = kernels(f)
    assert k.flat_variant is None and k._flat_positions is None


@pytest.mark.parametrize("shape", [(64, 96), (3, 5, 7), (1, 300), (300, 1), (0, 4)])
def test_contiguous_arrays_run_flat_with_numpys_results(shape):
    rng = np.random.default_rng(1)
    f = tracejit.compile(gelu, fullgraph=True)
    x = rng.standard_normal(shape).astype(F32)
    x.flat[: min(3, x.size)] = [np.nan, np.inf, -np.inf][: min(3, x.size)]
    got = f(x)
    with np.errstate(all="ignore"):
        want = gelu(x)
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=3e-6, atol=1e-6, equal_nan=True)   # tanh within 2 ulp
    [k] = kernels(f)
    assert k.flat_variant is not None and k.flat_variant.numba_signatures()
    assert all(sig[2].ndim == 1 for sig in k.flat_variant.numba_signatures())   # (start, stop, in0, ...)
    assert not k.numba_signatures()                                             # the nested one never ran


@pytest.mark.parametrize("view", ["transposed", "strided", "fortran"])
def test_other_layouts_run_nested(view):
    rng = np.random.default_rng(2)
    base = rng.standard_normal((40, 60)).astype(F32)
    x = {"transposed": base.T, "strided": base[:, ::2], "fortran": np.asfortranarray(base)}[view]
    y = rng.standard_normal(x.shape).astype(F32)
    f = tracejit.compile(scaled_sum, fullgraph=True)
    got = f(x, y, F32(1.5))
    want = scaled_sum(x, y, F32(1.5))
    for g, w in zip(got, want):
        assert g.dtype == w.dtype and g.shape == w.shape
        np.testing.assert_allclose(g, w, rtol=1e-6)
    nested = [k for k in kernels(f) if k.numba_signatures()]
    assert nested, "the nested kernel did not run for a non-contiguous argument"


def test_writes_into_the_callers_array_land_in_place():
    def step(p, g, lr):
        p -= lr * np.tanh(g)
        p *= 0.5

    f = tracejit.compile(step, fullgraph=True)
    rng = np.random.default_rng(3)
    p, g = rng.standard_normal((32, 48)).astype(F32), rng.standard_normal((32, 48)).astype(F32)
    want = p.copy()
    step(want, g, F32(0.1))
    assert f(p, g, F32(0.1)) is None
    np.testing.assert_allclose(p, want, rtol=2e-6, atol=1e-6)
    half = rng.standard_normal((32, 96)).astype(F32)
    view, want_half = half[:, ::2], half.copy()          # a strided view: the nested kernel writes it
    step(want_half[:, ::2], g, F32(0.1))
    f(view, g, F32(0.1))
    np.testing.assert_allclose(half, want_half, rtol=2e-6, atol=1e-6)


def test_float16_and_bool_arrays_run_flat():
    f = tracejit.compile(lambda x, y: (x * y + 1, x > y), fullgraph=True)
    x = np.linspace(-2, 2, 600).astype(np.float16).reshape(20, 30)
    y = x[::-1].copy()
    got = f(x, y)
    want = (x * y + 1, x > y)
    assert got[0].dtype == np.float16 and got[1].dtype == np.bool_
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(got[1], want[1])
    assert any(k.flat_variant is not None for k in kernels(f))


def test_the_flat_compile_is_reported_and_its_assembly_shown():
    from tracejit.codegen.numba_asm import kernel_assembly

    def unique_to_this_test(x):
        return np.exp(x) * 0.375 - x

    f = tracejit.compile(unique_to_this_test, fullgraph=True)
    f(np.ones((50, 70)))
    assert f.compiles[0].stages["kernel compile"] > 0
    [k] = kernels(f)
    assert k.flat_variant.compile_seconds is not None and k.compile_seconds is None
    assert "ymm" in kernel_assembly(k) or "xmm" in kernel_assembly(k)
    assert "runs flat instead" in k.source


def test_a_buffer_also_read_at_one_element_runs_nested():
    def corners(y):
        return np.exp(y - y[(0,) * y.ndim]) * y[(2,) * y.ndim] + y[(1,) * y.ndim]

    f = tracejit.compile(corners, fullgraph=True)
    for y in (np.arange(12.0).reshape(3, 4) / 7, np.arange(15.0).reshape(3, 5) / 7,
              np.arange(60.0).reshape(3, 4, 5) / 9):
        np.testing.assert_allclose(f(y), corners(y), rtol=1e-14)
        assert all(k.flat_variant is None for k in kernels(f))


def test_a_later_compile_for_new_layouts_is_reported():
    def unique_scaled_exp(x):
        return np.exp(x) * 0.625 + x

    f = tracejit.compile(unique_scaled_exp, fullgraph=True)
    x = np.asfortranarray(np.ones((30, 40)))
    f(x)
    first = f.compiles[0].stages["kernel compile"]
    f(x)
    assert f.compiles[0].stages["kernel compile"] == first          # nothing compiled again
    f(np.ascontiguousarray(x))                                       # the flat form compiles now
    assert f.compiles[0].stages["kernel compile"] > first and len(f.compiles) == 1


def test_a_kernel_of_the_same_code_over_slices_is_not_run_flat():
    def f(x, y):
        a = x * y                              # the same kernel code as the sliced product
        x[:, 2:] = x[:, :2] * y[:, :2]
        return a, x

    x = np.arange(12.0).reshape(3, 4)
    got, want = tracejit.compile(f)(x.copy(), x + 1), f(x.copy(), x + 1)
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)
