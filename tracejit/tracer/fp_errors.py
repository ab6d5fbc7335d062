"""Whether NumPy is set to raise on (or call back or log for) floating-point errors.

Compiled kernels do not detect division by zero, overflow, underflow or invalid
operations, so they cannot honour ``np.errstate(divide="raise")`` or
``np.seterr(all="call")`` (or ``"log"``). While such a setting is active, calls run eagerly (the
runtime checks at each call) and traces that emit ops under it stop with an
`UnsupportedError` (the function set it itself). "warn", "print" and "ignore" need no
detection to keep results right, so they compile; their RuntimeWarnings are not issued.

The check reads NumPy's error-state context variable and decides once per state
object: about 0.2 µs per call.
"""
from __future__ import annotations

import numpy as np

try:
    from numpy._core._multiarray_umath import _extobj_contextvar as _STATE
except ImportError:             # another NumPy layout: ask np.geterr() every time
    _STATE = None

_NEEDS_DETECTION = frozenset({"raise", "call", "log"})     # "log" writes to the seterrcall object
_last = (object(), False)       # (the error-state object last seen, whether it needs detection)


def errors_need_detection() -> bool:
    """True while some floating-point error category is set to 'raise', 'call' or 'log'."""
    global _last
    if _STATE is None:
        return _decide()
    state = _STATE.get()
    seen, decision = _last
    if state is seen:
        return decision
    decision = _decide()
    _last = (state, decision)
    return decision


def _decide() -> bool:
    return any(mode in _NEEDS_DETECTION for mode in np.geterr().values())


def settings() -> str:
    """The categories that need detection, as NumPy's keywords: "divide='raise'"."""
    return ", ".join(f"{k}={v!r}" for k, v in np.geterr().items() if v in _NEEDS_DETECTION)
