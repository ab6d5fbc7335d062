"""Matmuls split over tracejit's own threads, with NumPy's OpenBLAS single-threaded.

Why: OpenBLAS's worker threads keep spinning for a while (~0.1 s, its THREAD_TIMEOUT)
after every call. A kernel that runs on two threads right after a matmul then shares a
core with a spinner: the attention block's softmax kernel took 9.9 ms right after a
matmul against 5.9 ms alone, on a 2-core machine. So a large matmul here is split by
rows (or columns) into one chunk per CPU, the chunks run on tracejit's thread pool, and
while any such matmul runs OpenBLAS is set to one thread
(``openblas_set_num_threads_local``, which NumPy's bundled OpenBLAS 0.3.27+ exports;
in its pthreads build the setting is process-wide, so a count of tracejit matmuls in
flight decides when the previous setting is put back). OpenBLAS's own workers stay
asleep. The cost: a NumPy matmul another thread makes during one of tracejit's runs on
one thread. Where no such OpenBLAS is loaded, this is ``np.matmul``.
"""
from __future__ import annotations

import ctypes
import functools
import os
import threading
from contextlib import contextmanager

import numpy as np

# below this many multiply-adds a matmul runs on the calling thread: handing a chunk to
# another thread and waiting for it costs 60-150 us on these VMs (an idle vCPU has to be
# woken). Measured in separate processes, float32, 2 cores: 512x64 @ 64x256 (8M) split
# 251 us, one thread 194; 512x256 @ 256x256 (34M) split 486, one thread 695
SPLIT_MIN_MACS = 1 << 24


@functools.lru_cache(maxsize=1)
def _set_local_threads():
    """OpenBLAS's ``openblas_set_num_threads_local`` (returns the previous count), from
    a library already loaded into this process, or None."""
    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps if "openblas" in line.lower() and "/" in line}
    except OSError:
        return None
    for path in sorted(paths):
        try:
            function = ctypes.CDLL(path).openblas_set_num_threads_local
        except (OSError, AttributeError):
            continue
        function.restype, function.argtypes = ctypes.c_int, [ctypes.c_int]
        return function
    return None


_LOCK = threading.Lock()
_in_flight = 0           # tracejit matmuls running with OpenBLAS set to one thread
_saved = None            # OpenBLAS's thread count before the first of them


@contextmanager
def _blas_on_one_thread(set_threads):
    global _in_flight, _saved
    with _LOCK:
        if _in_flight == 0:
            _saved = set_threads(1)
        _in_flight += 1
    try:
        yield
    finally:
        with _LOCK:
            _in_flight -= 1
            if _in_flight == 0:
                set_threads(_saved)


def _after_fork_in_child() -> None:
    """The child has only the forking thread: no matmul of the parent is in flight."""
    global _LOCK, _in_flight
    _LOCK = threading.Lock()
    if _in_flight:
        _in_flight = 0
        _set_local_threads()(_saved)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def matmul(a, b, out, submit, threads: int) -> None:
    """``np.matmul(a, b, out=out)``, on up to `threads` threads (`submit` hands a call to
    the pool and returns its future) when OpenBLAS's thread count can be set."""
    if threads < 2 or out.size * a.shape[-1] < SPLIT_MIN_MACS:
        np.matmul(a, b, out=out)
        return
    set_threads = _set_local_threads()
    rows, cols = (out.shape[-2], out.shape[-1]) if out.ndim >= 2 else (1, 1)
    by_rows = rows >= cols
    extent = rows if by_rows else cols
    if (set_threads is None or a.ndim < 2 or b.ndim < 2 or threads < 2 or extent < 2 * threads
            or out.size * a.shape[-1] < SPLIT_MIN_MACS):
        np.matmul(a, b, out=out)
        return
    bounds = [extent * k // threads for k in range(threads + 1)]

    def part(lo, hi):
        if by_rows:
            return a[..., lo:hi, :], b, out[..., lo:hi, :]
        return a, b[..., lo:hi], out[..., lo:hi]
    with _blas_on_one_thread(set_threads):
        futures = [submit(_part_matmul, *part(lo, hi)) for lo, hi in zip(bounds[1:-1], bounds[2:])]
        try:
            _part_matmul(*part(bounds[0], bounds[1]))
        finally:
            errors = [f.exception() for f in futures]
    for error in errors:
        if error is not None:
            raise error


CAUSAL_ROWS = 128      # rows of the product one causal block computes


def causal_matmul(a, b, out, offset: int, submit, threads: int) -> None:
    """``out[.., i, j] = (a @ b)[.., i, j]`` for every j <= i + offset (elements beyond
    are left as they are: the caller never uses them, ``ir/masked_product.py``), in
    blocks of CAUSAL_ROWS rows, each up to the last column its rows need; the blocks
    are shared among up to `threads` threads, the most work first."""
    rows, cols = out.shape[-2], out.shape[-1]

    def block(width, lo, hi):
        np.matmul(a[..., lo:hi, :], b[..., :width], out=out[..., lo:hi, :width])
    _run_blocks(_row_blocks(rows, cols, offset), block, a.shape[-1] * _batch(out), submit, threads)


def zero_tail_matmul(a, b, out, offset: int, submit, threads: int) -> None:
    """``out = a @ b`` where each row i of `a` is 0 past column i + offset
    (``passes/causal_weights.py``) and `b` is finite (the caller checks): each block of
    CAUSAL_ROWS rows multiplies only the columns of `a` its rows can have nonzero, and
    the matching rows of `b` (half the work for a causal attention's weights @ v)."""
    rows, inner = a.shape[-2], a.shape[-1]

    def block(width, lo, hi):
        np.matmul(a[..., lo:hi, :width], b[..., :width, :], out=out[..., lo:hi, :])
    _run_blocks(_row_blocks(rows, inner, offset), block, out.shape[-1] * _batch(out), submit, threads)


def _batch(out) -> int:
    return max(1, out.size // (out.shape[-2] * out.shape[-1])) if out.shape[-2] * out.shape[-1] else 1


def _row_blocks(rows: int, width_limit: int, offset: int) -> list:
    """(width, lo, hi) per block of CAUSAL_ROWS rows: the columns its last row reaches."""
    blocks = []
    for lo in range(0, rows, CAUSAL_ROWS):
        hi = min(lo + CAUSAL_ROWS, rows)
        width = min(width_limit, hi + offset)
        if width > 0:
            blocks.append((width, lo, hi))
    return blocks


def _run_blocks(blocks, block, macs_per_cell: int, submit, threads: int) -> None:
    """Every block computed: on this thread for small work, else shared among up to
    `threads` threads (the most work first, each to the least loaded thread) with
    OpenBLAS on one thread meanwhile."""
    work = sum(w * (hi - lo) for w, lo, hi in blocks) * macs_per_cell
    set_threads = _set_local_threads()
    if set_threads is None or threads < 2 or len(blocks) < 2 or work < SPLIT_MIN_MACS:
        for width, lo, hi in blocks:
            block(width, lo, hi)
        return
    blocks = sorted(blocks, reverse=True)
    shares, loads = [[] for _ in range(threads)], [0] * threads
    for width, lo, hi in blocks:
        t = loads.index(min(loads))
        shares[t].append((width, lo, hi))
        loads[t] += width * (hi - lo)

    def run(share):
        for width, lo, hi in share:
            block(width, lo, hi)
    with _blas_on_one_thread(set_threads):
        futures = [submit(run, share) for share in shares[1:] if share]
        try:
            run(shares[0])
        finally:
            errors = [f.exception() for f in futures]
    for error in errors:
        if error is not None:
            raise error


def _part_matmul(a, b, out) -> None:
    np.matmul(a, b, out=out)
