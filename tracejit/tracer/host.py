"""``print`` inside a traced function: recorded while tracing, replayed on every call.

Eager NumPy prints on every call, with the values of that call. While a trace runs,
``builtins.print`` is replaced by a recorder (only for the context that is tracing;
other threads print as usual): the call's arguments are kept as a pytree whose
traced leaves become extra graph outputs, and nothing is written. The runtime then
prints the real values after each call, in the order the function printed them (the
host step of the plan, as ``jax.debug.print``).

Text *made* from a traced value (``str(x)``, ``f"{x:.4f}"``, ``format``, ``repr``)
cannot be deferred like this: the proxy raises ``UnsupportedError`` and the
function runs eagerly.
"""
from __future__ import annotations

import builtins
import random
import sys
import threading
import time
import warnings
from contextlib import contextmanager
from dataclasses import dataclass

from .errors import TracerError, UnsupportedError
from .location import user_loc
from .proxy import TracedArray
from .pytree import TreeDef, flatten
from .state import _ACTIVE


@dataclass
class HostStep:
    """One ``print`` call: its arguments as a pytree (``leaves`` hold proxies and
    static values; ``trace()`` turns them into output leaves) and its options."""

    tree: TreeDef
    leaves: list
    options: dict
    loc: str
    outputs: list = None      # OutputLeaf per leaf, set by trace()


_lock = threading.Lock()
_depth = 0
_saved = builtins.print


class _Stream:
    """``file=sys.stdout`` or ``file=sys.stderr`` in a recorded print: the stream that
    ``sys`` holds when the call prints (``contextlib.redirect_stderr`` replaces it),
    as eager code reads ``sys.stderr`` on every call."""

    def __init__(self, name):
        self.name = name

    def __repr__(self) -> str:
        return f"sys.{self.name}"


_STREAMS = {"stdout": _Stream("stdout"), "stderr": _Stream("stderr")}


def print_options(options: dict) -> dict:
    """A recorded print's keyword arguments for this call (its stream looked up now)."""
    stream = options["file"]
    if isinstance(stream, _Stream):
        return {**options, "file": getattr(sys, stream.name)}
    return options


def _recording_print(*args, sep=" ", end="\n", file=None, flush=False):
    state = _ACTIVE.get()
    if state is None or not state.live:
        return _saved(*args, sep=sep, end=end, file=file, flush=flush)
    for name, option in (("sep", sep), ("end", end)):
        if option is not None and not isinstance(option, str):
            raise TypeError(f"{name} must be None or a string, not {type(option).__name__}")
    leaves, tree = flatten(args)
    for k, leaf in enumerate(leaves):
        if isinstance(leaf, TracedArray):
            if leaf._state is not state:
                raise TracerError("a traced array of another trace was printed", "print", user_loc())
            # the value now: a later write into the array must not change what this prints;
            # an array gets a value of its own (as x.copy()), so that an argument written
            # after the print is printed as it was (the runtime copies it before writing)
            value = leaf._value if leaf._value.type.weak else \
                state.emit("cast", [leaf._value], {"dtype": leaf._value.type.dtype})
            leaves[k] = TracedArray(value, state, scalar=leaf._scalar)
        else:
            str(leaf)      # what print would do: text from a value holding a proxy raises here
    if file is not None and (file is sys.stdout or file is sys.stderr):
        file = _STREAMS["stdout" if file is sys.stdout else "stderr"]
    state.host_steps.append(HostStep(tree, leaves, {"sep": sep, "end": end, "file": file, "flush": flush},
                                     user_loc()))


# module functions whose effect a trace cannot replay: while tracing they raise
# UnsupportedError, so the function runs eagerly, and only when the trace really calls
# them (a call in a branch the trace does not take costs nothing). Names bound before
# (`from time import perf_counter`) are found by runtime/effects.py instead.
_REFUSED = {
    warnings: ("warn", "warn_explicit"),
    time: ("time", "time_ns", "perf_counter", "perf_counter_ns", "monotonic", "monotonic_ns", "process_time",
           "process_time_ns", "thread_time", "thread_time_ns", "sleep"),
    random: ("random", "uniform", "randint", "randrange", "choice", "choices", "shuffle", "sample", "gauss",
             "normalvariate", "lognormvariate", "expovariate", "vonmisesvariate", "gammavariate",
             "betavariate", "paretovariate", "weibullvariate", "triangular", "getrandbits", "randbytes",
             "binomialvariate", "seed", "setstate"),
}
_ORIGINALS: dict = {}         # (module, name) -> the function while the refusing one is installed


def _refusing(module, name, original):
    where = f"{module.__name__}.{name}"

    def refusing(*args, **kwargs):
        state = _ACTIVE.get()
        if state is None or not state.live:
            if module is warnings and name == "warn":       # the caller's frame, not this one
                if len(args) > 2:
                    args = args[:2] + (args[2] + 1,) + args[3:]
                else:
                    kwargs["stacklevel"] = kwargs.get("stacklevel", 1) + 1
            return original(*args, **kwargs)
        raise UnsupportedError(f"{where}() inside a compiled function", where, user_loc(),
                               hint="traced once, it would run (or be read) while tracing, not on every call")
    refusing.__wrapped_original__ = original
    return refusing


def _install_refusals() -> None:
    for module, names in _REFUSED.items():
        for name in names:
            original = getattr(module, name, None)
            if original is not None and not hasattr(original, "__wrapped_original__"):
                _ORIGINALS[(module, name)] = original
                setattr(module, name, _refusing(module, name, original))


def _remove_refusals() -> None:
    for (module, name), original in list(_ORIGINALS.items()):
        if getattr(getattr(module, name, None), "__wrapped_original__", None) is original:
            setattr(module, name, original)
    _ORIGINALS.clear()


@contextmanager
def recording_prints():
    """Install the recording ``print`` (and the refusing functions of ``_REFUSED``) for
    the duration of a trace (nested traces and threads share one installation)."""
    global _depth, _saved
    with _lock:
        if _depth == 0:
            _saved = builtins.print
            builtins.print = _recording_print
            _install_refusals()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                if builtins.print is _recording_print:
                    builtins.print = _saved     # (_saved stays set for a thread still inside it)
                _remove_refusals()
