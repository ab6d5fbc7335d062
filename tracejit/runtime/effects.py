"""Does a function do I/O that a compiled call could not replay? Then it runs eagerly.

A trace runs the function's Python code once; a file write or a log record made
then would not happen again on later calls (``print`` is the exception: it is
recorded and replayed, see ``tracer/host.py``). The check looks at what the code can
reach (``discover.py``): the builtins ``open`` and ``input``, the ``logging`` module
and loggers, and file objects or ``sys`` when the code calls ``write``.
"""
from __future__ import annotations

import io
import logging
import sys

_LOG_METHODS = frozenset({"debug", "info", "warning", "warn", "error", "critical", "exception"})
_WRITES = frozenset({"write", "writelines"})


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
    return None
