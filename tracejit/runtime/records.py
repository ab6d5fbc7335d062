"""What happened to a compiled function: compilations (with reasons) and fallbacks."""
from __future__ import annotations

import os
import sys
import warnings
from dataclasses import dataclass, field


class FallbackWarning(UserWarning):
    """Emitted once per signature when tracejit runs a function eagerly instead."""


@dataclass
class Fallback:
    function: str
    op: str
    loc: str
    message: str

    def __str__(self) -> str:
        return f"{self.function}: {self.op} at {self.loc or '?'}: {self.message}"


@dataclass
class CompileEvent:
    """One specialization's whole compile cost. `stages`: seconds per stage (trace,
    passes, codegen, guards (the state it reads, the specialization), and "kernel compile": Numba compiling or loading each kernel from
    its disk cache at the first launch, added once the first call has run)."""
    function: str
    reason: str
    seconds: float
    stages: dict = field(default_factory=dict)

    def add_stage(self, name: str, seconds: float) -> None:
        self.stages[name] = self.stages.get(name, 0.0) + seconds
        self.seconds += seconds

    def __str__(self) -> str:
        split = ", ".join(f"{name} {value * 1e3:.1f}" for name, value in self.stages.items())
        return f"{self.function}: compiled ({self.reason}) in {self.seconds * 1e3:.1f} ms" + \
            (f" ({split} ms)" if split else "")


_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


def warn_fallback(fallback: Fallback) -> None:
    """One FallbackWarning, attributed to the user's call (the first frame outside tracejit)."""
    level, frame = 1, sys._getframe(0)
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        frame, level = frame.f_back, level + 1
    warnings.warn(f"tracejit: running {fallback.function} eagerly (not compiled): {fallback.op} at "
                  f"{fallback.loc or '?'}: {fallback.message}", FallbackWarning, stacklevel=level)


class CompilerError(Exception):
    """tracejit failed to compile code it traced (a pass or a code generator refused
    it). The runtime runs such a function eagerly with a warning, or raises this under
    fullgraph=True. `stage` says where, `op`/`loc` name the kernel or op if known."""

    def __init__(self, stage: str, cause: BaseException, op: str = "", loc: str = ""):
        super().__init__(f"{stage} failed: {type(cause).__name__}: {cause}")
        self.stage, self.cause, self.op, self.loc = stage, cause, op or stage, loc


def is_kernel_compiler_error(exc: BaseException) -> bool:
    """Errors Numba or Triton raise when compiling a kernel (not run-time errors such
    as an out-of-bounds index, which NumPy would raise too)."""
    return type(exc).__module__.split(".")[0] in ("numba", "triton") or isinstance(exc, NotImplementedError)


def mark_exception(exc, name, value) -> None:
    """Note on an exception where in a plan it came from (not all exceptions take it)."""
    try:
        setattr(exc, name, value)
    except AttributeError:
        pass
