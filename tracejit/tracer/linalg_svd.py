"""What ``numpy.linalg`` computes from singular values: the matrix norms of order 2,
-2 and 'nuc', ``pinv`` and ``matrix_rank``, written as NumPy 2's ``_linalg.py``
writes them, on the ``svd`` library op (``lapack.py``; NumPy's own LAPACK on the
CPU, so the singular values are NumPy's bit for bit).
"""
from __future__ import annotations

import numpy as np

from . import reductions, shapes, ufuncs
from .errors import UnsupportedError
from .lapack import svd
from .location import user_loc
from .proxy import TracedArray
from .shapes import as_traced
from .state import as_value, current, wrap

_NOVALUE = np._NoValue


def svd_norm(x, ord, row_axis, col_axis):
    """``norm(x, ord, axis=(row_axis, col_axis))`` for ord 2, -2 or 'nuc'."""
    moved = shapes.moveaxis(x, (row_axis, col_axis), (-2, -1))
    values = svd(moved, compute_uv=False)
    if ord == 2:
        return reductions.max(values, axis=-1, initial=0)
    if ord == -2:
        return reductions.min(values, axis=-1)
    return reductions.sum(values, axis=-1)


def _constant(value, name):
    if isinstance(value, TracedArray):
        raise UnsupportedError(f"np.linalg.{name} of a traced tolerance", name, user_loc())
    return np.asarray(value)


def pinv(a, rcond=None, hermitian=False, *, rtol=_NOVALUE):
    """``np.linalg.pinv``: V diag(1/s) U^H over the singular values above the cutoff."""
    a = as_traced(a)
    if rcond is None:
        if rtol is _NOVALUE:
            rcond = 1e-15
        elif rtol is None:
            rcond = max(a.shape[-2:]) * np.finfo(a.dtype).eps     # NumPy's ValueError for integers
        else:
            rcond = rtol
    elif rtol is not _NOVALUE:
        raise ValueError("`rtol` and `rcond` can't be both set.")
    rcond = _constant(rcond, "pinv")
    if a.ndim >= 2 and 0 in a.shape[-2:]:
        raise UnsupportedError("np.linalg.pinv of an empty matrix", "pinv", user_loc())
    u, s, vt = svd(ufuncs.apply("conjugate", (a,)) if a.dtype.kind == "c" else a,
                   full_matrices=False, hermitian=hermitian)
    cutoff = ufuncs.apply("multiply", (wrap(current().constant(rcond, rcond.dtype))
                                       if rcond.ndim == 0 else as_traced(rcond[..., np.newaxis]),
                                       reductions.max(s, axis=-1, keepdims=True)))
    large = ufuncs.apply("greater", (s, cutoff))
    one = wrap(current().constant(1, s.dtype))
    reciprocal = ufuncs.apply("true_divide", (one, s))
    inverted = wrap(current().emit("where", [as_value(large), as_value(reciprocal),
                                             current().constant(0, s.dtype)]))
    scaled = ufuncs.apply("multiply", (shapes.expand_dims(inverted, -1), shapes.swapaxes(u, -1, -2)))
    return np.matmul(shapes.swapaxes(vt, -1, -2), scaled)


def matrix_rank(A, tol=None, hermitian=False, *, rtol=None):
    """``np.linalg.matrix_rank``: singular values above the tolerance, counted."""
    A = as_traced(A)
    if A.ndim < 2:
        raise UnsupportedError("np.linalg.matrix_rank of a vector (a Python int from the data)",
                               "matrix_rank", user_loc())
    S = svd(A, compute_uv=False, hermitian=hermitian)
    if tol is None:
        if rtol is None:
            rtol = max(A.shape[-2:]) * np.finfo(S.dtype).eps
            scale = wrap(current().constant(rtol, S.dtype))
        else:
            scale = as_traced(_constant(rtol, "matrix_rank")[..., np.newaxis])
        tol = ufuncs.apply("multiply", (reductions.max(S, axis=-1, keepdims=True), scale))
    else:
        tol = as_traced(_constant(tol, "matrix_rank")[..., np.newaxis])
    above = ufuncs.apply("greater", (S, tol))
    return reductions.sum(above, axis=-1, dtype=np.intp)


HANDLERS = {np.linalg.pinv: pinv, np.linalg.matrix_rank: matrix_rank}
