"""What happened to a compiled function: compilations (with reasons) and fallbacks."""
from __future__ import annotations

import warnings
from dataclasses import dataclass


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
    function: str
    reason: str
    seconds: float

    def __str__(self) -> str:
        return f"{self.function}: compiled ({self.reason}) in {self.seconds * 1e3:.1f} ms"


def warn_fallback(fallback: Fallback) -> None:
    warnings.warn(f"tracejit: running {fallback.function} eagerly (not compiled): {fallback.op} at "
                  f"{fallback.loc or '?'}: {fallback.message}", FallbackWarning, stacklevel=4)
