"""Every kernel compile (or cache load) of this process, in order, as seconds.

The runtime reads how far the log got before and after a call: a compile that happens
after a function's first call (a variant for new argument layouts: Fortran-ordered or
strided arrays, the flat form of a nest first run nested) is added to that function's
reported compile cost, so ``f.compiles`` keeps telling the whole cost."""
from __future__ import annotations

import threading

SECONDS: list = []
_LOCK = threading.Lock()


def record(seconds: float) -> None:
    with _LOCK:
        SECONDS.append(seconds)


__all__ = ["SECONDS", "record"]
