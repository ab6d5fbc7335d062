"""The tracer: runs a Python function on proxy arrays and records a typed IR Graph.

``trace(fn, args, kwargs)`` returns a ``Trace``; see ``trace.py``. Errors that stop a
trace are ``TracerError`` subclasses naming the op and the user's source line.
"""
from .errors import ArgumentError, DataDependentError, TracerError, UnsupportedError
from .proxy import TracedArray
from .pytree import TreeDef, flatten, leaf_paths, unflatten
from .trace import OutputLeaf, Trace, trace
from . import methods  # noqa: E402,F401  (last: installs the proxy's ndarray surface)

__all__ = ["trace", "Trace", "OutputLeaf", "TracedArray", "flatten", "unflatten", "leaf_paths",
           "TreeDef", "TracerError", "DataDependentError", "UnsupportedError", "ArgumentError"]
