"""``numpy.linalg``'s factorizations and solvers: cholesky, solve, inv, det, slogdet,
eigh, eigvalsh, qr, svd.

Each records one library op (``ir/ops_library.py``), run between kernels by the array
library: LAPACK through NumPy on the CPU, so results (eigenvector signs included) and
errors (``LinAlgError`` for a singular matrix, raised when the plan runs, then by
NumPy itself) are NumPy's. Results come back in NumPy's named tuples
(``EighResult``, ``QRResult``, ``SVDResult``, ``SlogdetResult``); 0-d results
(``det`` of one matrix) are NumPy scalars, as NumPy returns them. ``eig``/``eigvals``
(whose result dtype depends on the data), ``lstsq``, ``pinv`` and ``qr(mode='raw')``
are not traced: they run eagerly.
"""
from __future__ import annotations

import numpy as np

from .errors import UnsupportedError
from .location import user_loc
from .shapes import as_traced
from .state import as_value, current, wrap

_EYE = np.eye(1)
EighResult = type(np.linalg.eigh(_EYE))
QRResult = type(np.linalg.qr(_EYE))
SVDResult = type(np.linalg.svd(_EYE))
SlogdetResult = type(np.linalg.slogdet(_EYE))


def library(op: str, operands, attrs=None) -> list:
    """Record library op `op` on `operands`; one proxy per result (0-d ones are scalars)."""
    values = [as_value(as_traced(x)) for x in operands]
    node = current().builder.add(op, values, attrs or {}, user_loc())
    return [wrap(v, scalar=v.type.shape == ()) for v in node.outputs]


def cholesky(a, /, *, upper=False):
    return library("cholesky", [a], {"upper": bool(upper)})[0]


def inv(a):
    return library("inv", [a])[0]


def det(a):
    return library("det", [a])[0]


def slogdet(a):
    return SlogdetResult(*library("slogdet", [a]))


def solve(a, b):
    return library("solve", [a, b])[0]


def _uplo(UPLO):
    UPLO = UPLO.upper()
    if UPLO not in ("L", "U"):
        raise ValueError("UPLO argument must be 'L' or 'U'")
    return UPLO


def eigh(a, UPLO="L"):
    return EighResult(*library("eigh", [a], {"UPLO": _uplo(UPLO), "values_only": False}))


def eigvalsh(a, UPLO="L"):
    return library("eigh", [a], {"UPLO": _uplo(UPLO), "values_only": True})[0]


def qr(a, mode="reduced"):
    if mode not in ("reduced", "complete", "r"):
        if mode == "raw":
            raise UnsupportedError("np.linalg.qr(mode='raw')", "np.linalg.qr", user_loc())
        np.linalg.qr(_EYE, mode=mode)            # NumPy's own error for an unknown mode
        raise UnsupportedError(f"np.linalg.qr(mode={mode!r})", "np.linalg.qr", user_loc())
    results = library("qr", [a], {"mode": mode})
    return results[0] if mode == "r" else QRResult(*results)


def svd(a, full_matrices=True, compute_uv=True, hermitian=False):
    attrs = {"full_matrices": bool(full_matrices), "compute_uv": bool(compute_uv), "hermitian": bool(hermitian)}
    results = library("svd", [a], attrs)
    return SVDResult(*results) if compute_uv else results[0]


HANDLERS = {np.linalg.cholesky: cholesky, np.linalg.inv: inv, np.linalg.det: det, np.linalg.slogdet: slogdet,
            np.linalg.solve: solve, np.linalg.eigh: eigh, np.linalg.eigvalsh: eigvalsh, np.linalg.qr: qr,
            np.linalg.svd: svd}
