"""Does a function have effects a compiled call could not replay? Then it runs eagerly.

A trace runs the function's Python code once; a file write, a log record or a
warning made then would not happen again on later calls, and a clock reading, a
draw from Python's ``random`` or the next value of an iterator would be frozen
(``print`` is the exception: it is recorded and replayed, see ``tracer/host.py``;
NumPy's random generators are ``randomness.py``'s). ``warnings.warn`` and the
functions of ``time`` and ``random`` called through their modules are refused while
tracing (``tracer/host.py``), so only a call the trace makes counts. This module
checks what a trace cannot intercept, in what the code can reach
(``discover.py``) and in its static arguments: the builtins ``open`` and ``input``,
``logging`` and loggers, file objects or ``sys`` when the code calls ``write``,
functions imported from ``time``/``random``/``warnings`` by name, ``secrets``,
``uuid``, ``datetime.now``, ``random.Random`` instances and iterators
(``itertools.count()``, generators).
"""
from __future__ import annotations

import collections.abc
import datetime
import io
import logging
import os
import random
import secrets
import sys
import uuid
import warnings

_LOG_METHODS = frozenset({"debug", "info", "warning", "warn", "error", "critical", "exception"})
_WRITES = frozenset({"write", "writelines"})
_CLOCK_NAMES = frozenset({"time", "time_ns", "perf_counter", "perf_counter_ns", "monotonic", "monotonic_ns",
                          "process_time", "process_time_ns", "thread_time", "thread_time_ns", "sleep",
                          "now", "today", "utcnow"})
# the functions of `random` and `time` called through their modules are refused while
# tracing (tracer/host.py); these are what a trace cannot intercept
_NONDETERMINISTIC_MODULES = (secrets, uuid)
_CLOCK_OBJECTS = (datetime, datetime.datetime, datetime.date)
_WARN_FUNCTIONS = (warnings.warn, warnings.warn_explicit)


def _is_one_of(value, objects) -> bool:
    return any(value is o for o in objects)       # identity: `in` would compare arrays elementwise


def io_source(discovery) -> str | None:
    """What I/O the function does (a description), or None."""
    info = discovery.info
    for name in ("open", "input"):
        if name in info.globals and any(name in node.absent for node in discovery.nodes):
            return f"{name}()"
    writes = bool(info.attrs & _WRITES)
    logs = bool(info.attrs & _LOG_METHODS)
    for node in discovery.nodes:
        for key, (_, value) in node.entries.items():
            if logs and (value is logging or isinstance(value, logging.Logger)):
                return f"logging through {node.child_desc(key)}"
            if writes and (isinstance(value, io.IOBase) or value is sys):
                return f"writing to {node.child_desc(key)}"
            if _is_one_of(value, _WARN_FUNCTIONS):      # `from warnings import warn` (warnings.warn is
                return f"warnings.warn through {node.child_desc(key)}"     # refused while tracing: tracer/host.py)
    return None


def unrepeatable_source(discovery, statics=()) -> str | None:
    """What the function reads that changes on every call (a clock, Python's random
    numbers, an iterator's next value) through its state or its static arguments (a
    generator, ``random.Random``, ``time`` or ``time.perf_counter`` passed in), or None."""
    clocks = bool(discovery.info.attrs & _CLOCK_NAMES)
    for value in statics:
        what = _unrepeatable(value, True)
        if what:
            return f"{what} through a static argument"
    for node in discovery.nodes:
        for key, (_, value) in node.entries.items():
            what = _unrepeatable(value, clocks)
            if what:
                return f"{what} through {node.child_desc(key)}"
    return None


def _unrepeatable(value, clocks: bool) -> str:
    if _is_one_of(value, _NONDETERMINISTIC_MODULES) or isinstance(value, random.Random) or \
            isinstance(owner_of(value), random.Random) or _module_of(value) in ("random", "secrets") or \
            _is_one_of(value, (os.urandom, os.getrandom) if hasattr(os, "getrandom") else (os.urandom,)):
        return "Python random numbers"
    if clocks and _is_one_of(value, _CLOCK_OBJECTS) or \
            _module_of(value) == "time" and getattr(value, "__name__", "") in _CLOCK_NAMES:
        return "reading the clock"
    if isinstance(value, collections.abc.Iterator) and not isinstance(value, io.IOBase) or \
            isinstance(owner_of(value), collections.abc.Iterator):
        return "advancing an iterator"
    return ""


def owner_of(value):
    """The object a bound method is bound to (``__self__``), or None; safe for objects
    whose ``__getattr__`` raises something else than AttributeError."""
    try:
        return getattr(value, "__self__", None)
    except Exception:    # noqa: BLE001  (a __getattr__ that raises KeyError, ...)
        return None


def _module_of(value) -> str:
    if not callable(value) or isinstance(value, type):
        return ""
    try:
        return getattr(value, "__module__", "") or ""
    except Exception:    # noqa: BLE001
        return ""
