"""The recompile limit: how many times one function may be traced, and who is to blame.

Every new specialization costs a trace (milliseconds) and possibly kernel compiles
(up to a second each). A function whose arguments change in a way that needs a new
trace on every call (an int that decides a shape, a growing list, a new array shape
per call) would recompile forever, silently. Past ``limit`` traces (default 8, set per
function with ``tracejit.compile(..., recompile_limit=N)`` or for the process with
``TRACEJIT_RECOMPILE_LIMIT``), new specializations are not traced: those calls run
eagerly, and one FallbackWarning names the argument that kept changing and what to do.
Specializations already compiled keep running.
"""
from __future__ import annotations

import os
from collections import Counter

DEFAULT_RECOMPILE_LIMIT = 8


def recompile_limit(value=None) -> int:
    """The limit for a new function: `value`, else TRACEJIT_RECOMPILE_LIMIT, else 8."""
    if value is None:
        value = os.environ.get("TRACEJIT_RECOMPILE_LIMIT", DEFAULT_RECOMPILE_LIMIT)
    try:
        limit = int(value)
    except (TypeError, ValueError):
        raise ValueError(f"tracejit: recompile_limit must be a positive int, not {value!r}") from None
    if limit < 1:
        raise ValueError(f"tracejit: recompile_limit must be a positive int, not {value!r}")
    return limit


def strict_default() -> bool:
    """TRACEJIT_FULLGRAPH=1 makes every compiled function raise instead of falling back
    (for test suites that must not run eagerly by accident)."""
    return os.environ.get("TRACEJIT_FULLGRAPH", "") not in ("", "0")


def changed_paths(old_key, new_key, paths) -> list:
    """Argument paths whose part of the key differs between two keys."""
    if old_key is None:
        return []
    (old_tree, old_leaves), (new_tree, new_leaves) = old_key[:2], new_key[:2]
    if old_tree != new_tree or len(old_leaves) != len(new_leaves):
        return ["the structure of the arguments (containers, list lengths)"]
    return [path for path, old, new in zip(paths, old_leaves, new_leaves) if old != new]


class RecompileCounter:
    """Counts, per argument path, how many recompiles it caused."""

    def __init__(self, limit: int):
        self.limit = limit
        self.blame: Counter = Counter()
        self.warned = False

    def note(self, paths) -> None:
        self.blame.update(paths)

    def exceeded(self, traces: int) -> bool:
        return traces >= self.limit

    def message(self, name: str, strict: bool = False) -> str:
        culprits = ", ".join(f"`{path}` ({'once' if count == 1 else f'{count} times'})"
                             for path, count in self.blame.most_common(3)) \
            or "guards on what it reads (globals, attributes)"
        what = "Under fullgraph=True that is an error. " if strict else \
            "New specializations run eagerly; the compiled ones keep running. "
        return (f"{name} was traced {self.limit} time{'s' * (self.limit > 1)} (recompile_limit={self.limit}); "
                f"what kept changing: {culprits}. {what}If an int changes every call and decides a shape, "
                "pass arrays of a fixed shape (pad and mask) or mark it in static_argnames and accept one "
                "compile per value; to allow more, use tracejit.compile(..., recompile_limit=N) or "
                "TRACEJIT_RECOMPILE_LIMIT")


__all__ = ["DEFAULT_RECOMPILE_LIMIT", "RecompileCounter", "changed_paths", "recompile_limit", "strict_default"]
