"""Module attributes swapped in while traces run, shared by nested and concurrent traces.

The tracer replaces a few functions process-wide for the duration of a trace (NumPy's
array creators, ``creation.py``; ``len`` and ``range`` during shape-family probes,
``probe_builtins.py``). The replacements check for themselves whether the calling
context is tracing, so one installation serves every trace running at the moment: it
is put in place by the first to enter and taken out by the last to leave.
"""
from __future__ import annotations

import threading
from contextlib import contextmanager


class SharedInstall:
    """`install()` when the first user enters, `restore()` when the last one leaves."""

    def __init__(self, install, restore):
        self._install, self._restore = install, restore
        self._lock = threading.Lock()
        self._depth = 0

    @contextmanager
    def active(self):
        with self._lock:
            if self._depth == 0:
                self._install()
            self._depth += 1
        try:
            yield
        finally:
            with self._lock:
                self._depth -= 1
                if self._depth == 0:
                    self._restore()
