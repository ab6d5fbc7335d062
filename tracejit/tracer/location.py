"""Where the user's code is: the innermost stack frame outside tracejit, NumPy and
the standard library.

Every op the tracer records and every error it raises names that ``path:line``. This
module imports nothing else of the tracer, so everything can use it.
"""
from __future__ import annotations

import os
import sys

import numpy as np

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
_NUMPY_DIR = os.path.dirname(os.path.abspath(np.__file__)) + os.sep
_STDLIB_DIR = os.path.dirname(os.path.abspath(os.__file__)) + os.sep     # logging, functools, ...
_SKIP_CACHE: dict = {}


def not_user_code(filename: str) -> bool:
    """Whether a frame of `filename` belongs to tracejit, NumPy or the standard library."""
    return _skipped(filename)


def _generated_or_compiler(path: str) -> bool:
    """A kernel file tracejit generated (``kernels/tj_*.py`` in its cache), or the
    compilers that run it: errors raised there belong to the user's call, not to them."""
    if os.path.basename(path).startswith("tj_") and os.path.basename(os.path.dirname(path)) == "kernels":
        return True
    return any(f"{os.sep}{name}{os.sep}" in path for name in ("numba", "llvmlite", "triton"))


def _skipped(filename: str) -> bool:
    skip = _SKIP_CACHE.get(filename)
    if skip is None:
        path = os.path.abspath(filename) if not filename.startswith("<") else filename
        skip = (path.startswith(_PACKAGE_DIR) or path.startswith(_NUMPY_DIR)
                or (path.startswith(_STDLIB_DIR) and "site-packages" not in path)
                or filename.startswith("<frozen") or _generated_or_compiler(path))
        _SKIP_CACHE[filename] = skip
    return skip


def user_loc() -> str:
    """``"path:line"`` of the innermost stack frame outside tracejit, NumPy and the
    standard library."""
    frame = sys._getframe(1)
    while frame is not None:
        if not _skipped(frame.f_code.co_filename):
            return f"{frame.f_code.co_filename}:{frame.f_lineno}"
        frame = frame.f_back
    return ""
