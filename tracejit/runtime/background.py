"""Background compilation: the first calls run eagerly while the kernels compile.

With ``tracejit.compile(fn, background_compile=True)``, a new specialization is traced,
optimized and generated on the calling thread as usual (milliseconds: the trace must
see the caller's state undisturbed), but the kernels' machine-code compile (Numba,
0.1-1 s per kernel cold) runs on one background thread: it launches the plan once on
private copies of this call's inputs, which compiles every kernel for exactly these
argument types and layouts, and writes nothing the caller can see. Until that is done
the function runs eagerly (NumPy's own results), then it switches to the compiled plan.

Why not the default: the switch-over is visible. Results of the first calls come from
NumPy and later ones from the kernels, which may differ in the last bits where the
kernels sum in a different order; a timing loop sees the speed change mid-way. For
short-lived or interactive processes that call a function a few times, the first call
costs what eager NumPy costs plus the trace instead of plus the compile.
"""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from ..codegen import compile_share

_POOL: list = []
_POOL_LOCK = threading.Lock()
_RUNNING = [0]                         # warm-ups in progress
_PREFIX = "tracejit-compile"

compile_share.allow_idle_pool(_PREFIX, lambda: _RUNNING[0] == 0)


def _pool() -> ThreadPoolExecutor:
    with _POOL_LOCK:
        if not _POOL:                  # one worker: Numba compiles under one global lock anyway
            _POOL.append(ThreadPoolExecutor(max_workers=1, thread_name_prefix=_PREFIX))
        return _POOL[0]


def private_inputs(arrays: list) -> list:
    """Copies of the plan's inputs that no kernel write can reach the caller through."""
    return [np.array(a, copy=True) if isinstance(a, np.ndarray) else a for a in arrays]


class BackgroundCompile:
    """The pending warm-up of one specialization; `done` is set when its kernels have
    compiled (or the warm-up failed: the first compiled call then meets the error and
    handles it as any first call does)."""

    def __init__(self, spec, arrays):
        self.done = threading.Event()
        self.error = None
        with _POOL_LOCK:
            _RUNNING[0] += 1           # counted from here: the worker may not have started yet
        self.future = _pool().submit(self._warm, spec, private_inputs(arrays))

    def _warm(self, spec, arrays):
        try:
            spec.plan.run(spec.xp, arrays)
        except Exception as exc:       # noqa: BLE001  (reported by the first compiled call)
            self.error = exc
        finally:
            with _POOL_LOCK:
                _RUNNING[0] -= 1
            self.done.set()


__all__ = ["BackgroundCompile", "private_inputs"]
