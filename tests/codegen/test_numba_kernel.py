"""Numba backend, the kernel object: matmul regions, odd shapes (0-size, size-1, 0-d),
non-contiguous and broadcast inputs, the parallel launch path, the generated file,
and one kernel object for every shape of the same structure."""
from __future__ import annotations

import numpy as np
import pytest

from tracejit.codegen import numba_backend
from tracejit.ir.loopnest import lower_region


def f32(rng, *shape):
    return rng.standard_normal(shape).astype(np.float32)


def dense_relu(builder, name, a_shape, w_shape, dtype=np.float32):
    b, (a, w, bias) = builder(name, (a_shape, dtype), (w_shape, dtype), ((w_shape[-1],), dtype))
    mm = b.emit("matmul", [a, w])
    zero = b.emit("constant", [], {"value": 0.0, "dtype": np.dtype(np.float64), "weak_result": True})
    return b.finish([b.emit("maximum", [b.emit("add", [mm, bias]), zero])])


@pytest.mark.parametrize("a_shape,w_shape", [((5, 8), (8, 3)), ((2, 5, 8), (8, 3))])
def test_matmul_bias_relu_epilogue(a_shape, w_shape, rng, builder, check):
    region = dense_relu(builder, "dense", a_shape, w_shape)
    (got,), kernel = check(region, [f32(rng, *a_shape), f32(rng, *w_shape), f32(rng, w_shape[-1])])
    assert not kernel.plain_matmul and "mm" in kernel.source
    assert (got == 0).any() and (got > 0).any()


def test_plain_matmul_skips_the_kernel(rng, builder, check):
    b, (a, w) = builder("mm_only", ((2, 4, 6), np.float64), ((6, 5), np.float64))
    (got,), kernel = check(b.finish([b.emit("matmul", [a, w])]), [rng.standard_normal((2, 4, 6)),
                                                                rng.standard_normal((6, 5))])
    assert kernel.plain_matmul


def test_int_matmul_with_epilogue(rng, builder, check):
    b, (a, w) = builder("mm_int", ((3, 4), np.int32), ((4, 2), np.int64))
    mm = b.emit("matmul", [a, w])
    check(b.finish([b.emit("mul", [mm, mm])]), [rng.integers(-5, 5, (3, 4)).astype(np.int32),
                                               rng.integers(-5, 5, (4, 2))])


def softmax(builder, name, shape):
    b, (x,) = builder(name, (shape, np.float32))
    m = b.emit("reduce_max", [x], {"axes": (1,), "keepdims": True})
    e = b.emit("exp", [b.emit("sub", [x, m])])
    s = b.emit("reduce_sum", [e], {"axes": (1,), "keepdims": True})
    return b.finish([b.emit("div", [e, s])])


def test_new_batch_size_reuses_the_kernel(rng, builder, check):
    k1 = check(softmax(builder, "softmax_b", (5, 7)), [f32(rng, 5, 7)])[1]
    k2 = check(softmax(builder, "softmax_b", (9, 7)), [f32(rng, 9, 7)])[1]
    k3 = check(softmax(builder, "softmax_b", (9, 9)), [f32(rng, 9, 9)])[1]   # n0 == n1: new source
    assert k1 is k2
    assert k3 is not k1
    assert k1.compile_seconds is not None and k1.compile_seconds > 0


def test_softmax_of_a_single_row(rng, builder, check):
    check(softmax(builder, "softmax_b", (1, 7)), [f32(rng, 1, 7)])


def test_zero_size_domains(builder, check):
    for shape in ((0, 5), (4, 0)):
        b, (x,) = builder("zero_size", (shape, np.float64))
        outs = [b.emit("reduce_sum", [x], {"axes": (1,), "keepdims": False}),
                b.emit("reduce_any", [x], {"axes": (1,), "keepdims": False})]
        check(b.finish(outs), [np.zeros(shape)])
        b, (x,) = builder("zero_size_pw", (shape, np.float64))
        check(b.finish([b.emit("exp", [x])]), [np.zeros(shape)])


def test_size_one_dims_and_zero_d(rng, builder, check):
    b, (x, s) = builder("size_one", ((1, 5, 1), np.float32), ((), np.float32))
    y = b.emit("mul", [x, s])
    check(b.finish([y]), [f32(rng, 1, 5, 1), np.float32(3.0)])
    b, (x,) = builder("to_scalar", ((1, 5, 1), np.float32))
    outs = [b.emit("reduce_sum", [x], {"axes": (0, 1, 2), "keepdims": False}),
            b.emit("reduce_max", [x], {"axes": (0, 1, 2), "keepdims": False})]
    assert outs[0].shape == ()
    check(b.finish(outs), [f32(rng, 1, 5, 1)])


def test_non_contiguous_and_broadcast_inputs(rng, builder, check):
    b, (x, y) = builder("views", ((6, 4), np.float32), ((6, 4), np.float32))
    region = b.finish([b.emit("add", [x, y])])
    base = f32(rng, 12, 9)
    views = [base[::2, 1:9:2], base[:4, :6].T, np.broadcast_to(f32(rng, 4), (6, 4)),
             np.asfortranarray(f32(rng, 6, 4))]
    for v in views:
        check(region, [v, views[0]])


def test_parallel_launch_matches(rng, builder, check, monkeypatch):
    """Launches measured as long split the first outer axis over threads (the first
    launch of a shape runs on one thread and is timed); same results, and an error
    raised in a worker thread reaches the caller."""
    monkeypatch.setattr(numba_backend, "PARALLEL_MIN_SECONDS", -1.0)
    monkeypatch.setattr(numba_backend, "_CPUS", 3)
    monkeypatch.setattr(numba_backend.os, "cpu_count", lambda: 3)
    region = softmax(builder, "softmax_par", (37, 11))
    for _ in range(2):
        _, kernel = check(region, [f32(rng, 37, 11)])
    assert [shape[1] for shape in kernel._launch_shapes.values()][-1] is not None   # measured, then split
    b, (x, ids) = builder("take_par", ((7, 5), np.float32), ((40, 3), np.int64))
    region = b.finish([b.emit("take", [x, ids], {"axis": 0})])
    ids_ok = rng.integers(-7, 7, (40, 3))
    for _ in range(2):
        check(region, [f32(rng, 7, 5), ids_ok])
    ids_bad = ids_ok.copy()
    ids_bad[39, 2] = 7                      # in the last chunk: a worker thread's
    with pytest.raises(IndexError):
        check(region, [f32(rng, 7, 5), ids_bad])


def test_a_parallel_launch_hands_out_row_ranges_in_turn(rng, builder, check, monkeypatch):
    """More row ranges than threads (CHUNKS_PER_THREAD each), covering the rows exactly
    once: a thread that loses its core leaves the ranges it has not taken to the others."""
    monkeypatch.setattr(numba_backend, "PARALLEL_MIN_SECONDS", -1.0)
    monkeypatch.setattr(numba_backend, "_CPUS", 2)
    region = softmax(builder, "softmax_chunks", (37, 11))
    _, kernel = check(region, [f32(rng, 37, 11)])          # the first launch: timed, one range
    taken, run = [], kernel._run
    monkeypatch.setattr(kernel, "_run", lambda lo, hi, *args: (taken.append((lo, hi)), run(lo, hi, *args))[1])
    check(region, [f32(rng, 37, 11)])
    assert len(taken) == 2 * numba_backend.CHUNKS_PER_THREAD
    covered = sorted(taken)
    assert covered[0][0] == 0 and covered[-1][1] == 37
    assert all(a[1] == b[0] for a, b in zip(covered, covered[1:]))


def test_generated_file(builder, kernel_cache):
    region = softmax(builder, "softmax_file", (6, 10))
    nest = lower_region(region)
    fresh_cache = kernel_cache / "generated_file"   # earlier tests' identical softmax kernels live elsewhere
    kernel = numba_backend.compile_kernel(nest, fresh_cache, str(region))
    kernel_cache = fresh_cache
    assert kernel.backend == "numba" and kernel.name == "softmax_file"
    assert kernel.path.read_text() == kernel.source
    assert kernel.path.parent.parent == kernel_cache
    text = kernel.source
    assert "#   func @softmax_file(%0: f32[n0,n1])" in text
    assert "import numpy as np" in text and "import numba" in text
    assert 'error_model="numpy"' in text and "fastmath" not in text and "prange" not in text
    assert "def softmax_file(start, stop, in0, out0, n1):" in text   # n0 (rows) is only the launch range
    assert "for i0 in range(start, stop):" in text
    assert numba_backend.compile_kernel(nest, kernel_cache) is kernel   # no header: same kernel
    renamed = softmax(builder, "softmax_renamed", (3, 10))
    assert numba_backend.compile_kernel(lower_region(renamed), kernel_cache) is kernel   # another name: same kernel


def weak(b, value, dtype):
    return b.emit("constant", [], {"value": value, "dtype": np.dtype(dtype), "weak_result": True})


def test_weak_scalars_keep_float32_bit_for_bit(rng, builder, numba_run):
    """x*0.1 + 0.7 on float32 stays float32 and is bit-equal to NumPy (typed constants)."""
    b, (x,) = builder("weak_f32", ((1000,), np.float32))
    y = b.emit("add", [b.emit("mul", [x, weak(b, 0.1, np.float64)]), weak(b, 0.7, np.float64)])
    z = b.emit("maximum", [x, weak(b, 0.0, np.float64)])
    w = b.emit("pow", [x, weak(b, 2, np.int64)])
    region = b.finish([y, z, w])
    assert [v.dtype for v in region.outputs] == [np.float32] * 3
    data = rng.standard_normal(1000).astype(np.float32)
    (got_y, got_z, got_w), kernel = numba_run(region, [data])
    np.testing.assert_array_equal(got_y, data * 0.1 + 0.7)
    np.testing.assert_array_equal(got_z, np.maximum(data, 0.0))
    np.testing.assert_allclose(got_w, data ** 2, rtol=1e-6)
    assert "np.float64(0.1)" in kernel.source and "np.float32(" in kernel.source


def test_scans_are_sequential_like_numpy(rng, builder, check):
    """A float32 cumsum adds in order, in float32: the same bits as NumPy (a reduction
    may reassociate; a scan, whose every partial sum is an output, may not)."""
    b, (x,) = builder("cumsum_f32", ((3, 1000), np.float32))
    region = b.finish([b.emit("cumsum", [x], {"axis": 1})])
    data = rng.standard_normal((3, 1000)).astype(np.float32)
    (got,), kernel = check(region, [data])
    np.testing.assert_array_equal(got, np.cumsum(data, axis=1))
    assert "_tj_radd" not in kernel.source
