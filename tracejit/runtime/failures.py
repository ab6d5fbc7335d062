"""Words for failures: where in the user's code, and what the arguments were.

The safety net (``compiled.py``) turns an unexpected exception into an eager
fallback; its warning names the exception and the innermost line of the user's
code it came from. When eager NumPy raises as well, NumPy's exception reaches the
user with a note saying which call tracejit was running.
"""
from __future__ import annotations

import re

from ..tracer.location import not_user_code


def user_line(tb) -> str:
    """The innermost traceback frame outside tracejit, NumPy and the standard library,
    as path:line."""
    found = ""
    while tb is not None:
        path = tb.tb_frame.f_code.co_filename
        if not not_user_code(path):
            found = f"{path}:{tb.tb_lineno}"
        tb = tb.tb_next
    return found


_CHECK_LOC = re.compile(r"\(at ([^()]+:\d+)\)")


def describe_failure(exc, stage: str) -> tuple:
    """(op, loc, message) for a fallback caused by `exc` while `stage` ran."""
    loc = getattr(exc, "loc", "") or user_line(exc.__traceback__)
    if not loc:                 # a check in a kernel names the user's line in its message
        named = _CHECK_LOC.search(str(exc))
        loc = named.group(1) if named else ""
    what = f"{type(exc).__name__}: {exc}"
    message = (f"{stage} raised {what}, but eager NumPy does not, so the function runs eagerly "
               "(a tracejit limitation)")
    return type(exc).__name__, loc, message


def argument_note(name: str, bound, exc) -> str:
    """``tracejit: while running name(a: float64[3, 4], ...) at path:line``."""
    described = []
    for arg, value in bound.arguments.items():
        if hasattr(value, "shape") and hasattr(value, "dtype"):
            described.append(f"{arg}: {value.dtype}{list(value.shape)}")
    where = user_line(exc.__traceback__)
    return f"(tracejit: while running {name}({', '.join(described)}){' at ' + where if where else ''})"
