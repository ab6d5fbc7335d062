"""Ufuncs that are not NumPy's: ``scipy.special``'s, a Numba ``@vectorize``, ``np.frompyfunc``.

Why: ``__array_ufunc__`` hands the tracer a ufunc object, and two ufuncs may share a
``__name__`` (``scipy.special.exp2``, or a user's ``@vectorize def add``). Only NumPy's
own ufunc objects are traced as NumPy's; any other is traced only if it is listed here
(scipy.special's erf, erfc, expit, and its exp2/expm1/log1p, which compute NumPy's
functions in scipy's own loop dtypes: float16 and integers in float64). Anything else
raises ``UnsupportedError`` with the ufunc's real name, so the function runs eagerly.
"""
from __future__ import annotations

import sys

import numpy as np

from .errors import UnsupportedError
from .location import user_loc
from .state import as_value, current, wrap
from .ufuncs import apply

_NUMPY_UFUNCS = {u.__name__: u for module in (np, getattr(np, "_core", np).umath)
                 for u in vars(module).values() if isinstance(u, np.ufunc)}

# scipy.special name -> how to trace it: an IR op, or ("numpy", NumPy ufunc name)
_SCIPY_SPECIAL = {"erf": "erf", "erfc": "erfc", "expit": "expit",
                  "exp2": ("numpy", "exp2"), "expm1": ("numpy", "expm1"), "log1p": ("numpy", "log1p")}


def is_numpy_ufunc(ufunc) -> bool:
    return _NUMPY_UFUNCS.get(ufunc.__name__) is ufunc


def _scipy_name(ufunc):
    special = sys.modules.get("scipy.special")
    name = ufunc.__name__
    if special is not None and getattr(special, name, None) is ufunc:
        return name
    return None


def public_name(ufunc) -> str:
    """How the user's code names `ufunc` (for messages)."""
    if is_numpy_ufunc(ufunc):
        return f"np.{ufunc.__name__}"
    scipy_name = _scipy_name(ufunc)
    if scipy_name is not None:
        return f"scipy.special.{scipy_name}"
    return f"the ufunc {ufunc.__name__!r} (not one of NumPy's)"


def supported(ufunc) -> bool:
    return _scipy_name(ufunc) in _SCIPY_SPECIAL


def call(ufunc, inputs, kwargs):
    """Trace ``ufunc(*inputs)`` for a foreign ufunc listed above (plain calls only)."""
    where = public_name(ufunc)
    if not supported(ufunc):
        raise UnsupportedError(where, where, user_loc(),
                               hint="tracejit traces NumPy's ufuncs and scipy.special's erf, erfc, expit")
    if kwargs or len(inputs) != ufunc.nin:
        raise UnsupportedError(f"{where} with keyword arguments or {len(inputs)} operands", where, user_loc())
    state = current()
    (value,) = [as_value(x) for x in inputs]
    operand = np.dtype(np.float64) if value.type.weak else value.type.dtype
    try:
        loop = np.dtype(ufunc.resolve_dtypes((operand, None))[0])
    except TypeError:
        raise UnsupportedError(f"{where} of {operand}", where, user_loc()) from None
    if loop.kind != "f" or loop not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise UnsupportedError(f"{where} of {operand} (computed in {loop})", where, user_loc())
    if value.type.dtype != loop or value.type.weak:
        value = state.emit("cast", (value,), {"dtype": loop})
    how = _SCIPY_SPECIAL[_scipy_name(ufunc)]
    if isinstance(how, tuple):
        return apply(how[1], (wrap(value, scalar=value.type.shape == ()),))
    if how == "expit":
        return _expit(wrap(value, scalar=value.type.shape == ()))
    result = state.emit(how, (value,))
    return wrap(result, scalar=result.type.shape == ())


# scipy's float32 expit is 1 / (1 + exp(-x)) in float32: 0 from where exp(-x) overflows
_EXPIT_F32_ZERO_AT = np.float32(-88.72284)


def _expit(x):
    """1 / (1 + exp(-x)) (0 at -inf, 1 at inf); float32 computed in float64 and rounded
    once: within 1 ulp of the true value, where float32 arithmetic was up to 4 ulp
    from scipy's own float32 loop (itself ~2 ulp off); and 0 where scipy's is, from
    x <= -88.72284 on (the true value is a subnormal there)."""
    single = x.dtype == np.float32
    wide = x.astype(np.float64) if single else x
    result = apply("true_divide", (1.0, apply("add", (1.0, apply("exp", (apply("negative", (wide,)),))))))
    if not single:
        return result
    kept = apply("greater", (x, _EXPIT_F32_ZERO_AT))          # False for NaN: NaN * 0 stays NaN
    return apply("multiply", (result.astype(np.float32), kept))
