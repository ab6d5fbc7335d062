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
import threading
from contextlib import contextmanager
from dataclasses import dataclass

from .errors import TracerError
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
            # the value now: a later write into the array must not change what this prints
            leaves[k] = TracedArray(leaf._value, state, scalar=leaf._scalar)
        else:
            str(leaf)      # what print would do: text from a value holding a proxy raises here
    state.host_steps.append(HostStep(tree, leaves, {"sep": sep, "end": end, "file": file, "flush": flush},
                                     user_loc()))


@contextmanager
def recording_prints():
    """Install the recording ``print`` for the duration of a trace (nested traces and
    threads share one installation)."""
    global _depth, _saved
    with _lock:
        if _depth == 0:
            _saved = builtins.print
            builtins.print = _recording_print
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                if builtins.print is _recording_print:
                    builtins.print = _saved     # (_saved stays set for a thread still inside it)
