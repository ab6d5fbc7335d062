"""Matmuls split over tracejit's threads with OpenBLAS on one thread
(tracejit/codegen/blas_threads.py): the same results as np.matmul for row splits,
column splits, broadcast batches and non-BLAS dtypes; OpenBLAS's thread count is one
while chunks run and is put back afterwards, also when two threads overlap and when a
chunk raises; without the OpenBLAS setting it is plain np.matmul."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from tracejit.codegen import blas_threads

POOL = ThreadPoolExecutor(3)


class FakeBlas:
    """Stands in for openblas_set_num_threads_local: records what each chunk saw."""

    def __init__(self, count=2):
        self.count, self.seen, self.lock = count, [], threading.Lock()

    def __call__(self, count):
        with self.lock:
            previous, self.count = self.count, count
        return previous


def _cases(rng):
    f32 = lambda *s: rng.standard_normal(s).astype(np.float32)
    return {"rows": (f32(300, 64), f32(64, 90)), "columns": (f32(40, 64), f32(64, 2000)),
            "batched": (f32(4, 256, 32), f32(4, 32, 256)), "broadcast": (f32(256, 48), f32(3, 48, 128)),
            "transposed": (f32(256, 64), f32(256, 64).T), "int64": (rng.integers(-9, 9, (512, 80)),
                                                                   rng.integers(-9, 9, (80, 200)))}


@pytest.mark.parametrize("case", ["rows", "columns", "batched", "broadcast", "transposed", "int64"])
@pytest.mark.parametrize("real", [True, False])
def test_split_matmul_equals_numpy(case, real, monkeypatch):
    a, b = _cases(np.random.default_rng(3))[case]
    fake = FakeBlas()
    if not real:
        monkeypatch.setattr(blas_threads, "_set_local_threads", lambda: fake)
        monkeypatch.setattr(blas_threads, "_part_matmul",
                            lambda x, y, out: (fake.seen.append(fake.count), np.matmul(x, y, out=out)))
    monkeypatch.setattr(blas_threads, "SPLIT_MIN_MACS", 1)
    want = np.matmul(a, b)
    out = np.full(want.shape, 7, want.dtype)
    blas_threads.matmul(a, b, out, POOL.submit, 3)
    np.testing.assert_array_equal(out, want) if want.dtype.kind == "i" else \
        np.testing.assert_allclose(out, want, rtol=1e-5, atol=1e-5)
    if not real:
        assert fake.seen == [1, 1, 1] and fake.count == 2


def test_the_thread_count_comes_back_when_matmuls_overlap_or_raise(monkeypatch):
    fake = FakeBlas(count=5)
    monkeypatch.setattr(blas_threads, "_set_local_threads", lambda: fake)
    monkeypatch.setattr(blas_threads, "SPLIT_MIN_MACS", 1)
    rng = np.random.default_rng(4)
    a, b = rng.random((64, 16)), rng.random((16, 64))

    def many():
        for _ in range(50):
            blas_threads.matmul(a, b, np.empty((64, 64)), POOL.submit, 2)
    workers = [threading.Thread(target=many) for _ in range(3)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert fake.count == 5
    with pytest.raises(ValueError):
        blas_threads.matmul(a, b, np.empty((64, 65)), POOL.submit, 2)     # a chunk raises
    assert fake.count == 5


def test_numpys_openblas_setting_is_found_and_restored():
    set_threads = blas_threads._set_local_threads()
    if set_threads is None:
        pytest.skip("NumPy here is not built on an OpenBLAS with a per-call thread count")
    before = set_threads(3)
    set_threads(before)
    rng = np.random.default_rng(5)
    a, b = rng.random((400, 300), dtype=np.float32), rng.random((300, 400), dtype=np.float32)
    out = np.empty((400, 400), np.float32)
    blas_threads.matmul(a, b, out, POOL.submit, 2)
    np.testing.assert_allclose(out, a @ b, rtol=1e-5)
    after = set_threads(before)
    assert after == before
