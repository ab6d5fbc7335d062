"""Errors the tracer raises.

Every ``TracerError`` names the operation (``op``) and the user's source line
(``loc``, ``"path:line"``) and says what to do instead. The runtime turns them into
an eager fallback with one warning (or re-raises them with ``fullgraph=True``).
"""
from __future__ import annotations

from contextvars import ContextVar

# While a trace runs, every TracerError created is also noted here, so that a trace
# whose function caught one (``try: ... except Exception: ...``) still fails: the
# function's Python code took a path eager NumPy would not have taken.
RAISED: ContextVar = ContextVar("tracejit_raised_errors", default=None)


class TracerError(Exception):
    """Base of the errors that stop a trace; ``op`` and ``loc`` say what and where."""

    def __init__(self, message: str, op: str = "", loc: str = ""):
        self.op = op
        self.loc = loc
        self.detail = message
        super().__init__(f"{message} [at {loc}]" if loc else message)
        noted = RAISED.get()
        if noted is not None:
            noted.append(self)


class DataDependentError(TracerError):
    """Python asked for a traced array's *values* (``bool``, ``int``, ``float``,
    ``item()``, ``tolist()``, ``np.asarray``): tracing only knows shapes and dtypes."""

    def __init__(self, op: str, loc: str = "", hint: str = ""):
        message = (
            f"{op} needs the values of a traced array, but while tracing only its shape and "
            f"dtype are known: Python control flow (if/while/and/or, int(), float(), indexing "
            f"a Python list) cannot depend on array *values*. "
            + (hint or "Use np.where(cond, a, b) for value-dependent choices, or pass the "
               "value as a static argument (static_argnames) if it is a setting, not data.")
        )
        super().__init__(message, op, loc)


class UnsupportedError(TracerError):
    """A NumPy function, ufunc, method, argument or dtype the tracer does not handle."""

    def __init__(self, what: str, op: str = "", loc: str = "", hint: str = ""):
        message = f"{what} is not supported by the tracejit tracer"
        if hint:
            message += f"; {hint}"
        else:
            message += "; such a function runs eagerly with NumPy (fullgraph=True makes it an error)"
        super().__init__(message, op or what, loc)


class StateError(TracerError):
    """The function changed Python state that tracejit cannot replay on later calls
    (a Python scalar attribute, a list append, a traced value stored where it cannot
    be written back). ``op`` names the state (``self.t``, ``global LOG``)."""

    def __init__(self, what: str, op: str, loc: str = "", hint: str = ""):
        message = f"{what}; tracejit cannot replay this on later calls, so it cannot be compiled"
        if hint:
            message += f" ({hint})"
        super().__init__(message, op, loc)


class ArgumentError(TypeError):
    """A bad argument to a traced function; ``path`` names it (``params['w1']``)."""

    def __init__(self, message: str, path: str = ""):
        self.path = path
        super().__init__(f"{path}: {message}" if path else message)
