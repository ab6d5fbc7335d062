"""NumPy 2's vector products, which are gufuncs: ``np.vecdot`` ((n),(n)->()),
``np.matvec`` ((m,n),(n)->(m)) and ``np.vecmat`` ((n),(n,m)->(m)), of real values.

Reached through ``__array_ufunc__`` (``dispatch.array_ufunc``; its ``axes=``/``axis=``
keywords run eagerly). ``vecdot`` is a sum of products in the result dtype NumPy's loop
picks (``np.any`` of ``&`` for bools); ``matvec``/``vecmat`` are matmuls, so large ones
run in BLAS. Complex operands (NumPy conjugates the first) run eagerly.
"""
from __future__ import annotations

import numpy as np

from .errors import UnsupportedError
from .location import user_loc
from .shapes import as_traced


def _operands(name, signature, *operands, needs=()):
    traced = [as_traced(x) for x in operands]
    for k, (x, rank) in enumerate(zip(traced, needs)):
        if x.ndim < rank:
            raise ValueError(f"{name}: Input operand {k} does not have enough dimensions (has {x.ndim}, gufunc "
                             f"core with signature {signature} requires {rank})")
    if any(x.dtype.kind == "c" for x in traced):
        raise UnsupportedError(f"np.{name} of complex values", f"np.{name}", user_loc())
    ufunc = getattr(np, name)
    dtype = np.dtype(ufunc.resolve_dtypes(tuple(x.dtype for x in traced) + (None,))[-1])
    return [x.astype(dtype) if x.dtype != dtype else x for x in traced], dtype


def _core_mismatch(name, signature, got, want):
    raise ValueError(f"{name}: Input operand 1 has a mismatch in its core dimension 0, with gufunc signature "
                     f"{signature} (size {got} is different from {want})")


def vecdot(x1, x2):
    (x1, x2), dtype = _operands("vecdot", "(n),(n)->()", x1, x2, needs=(1, 1))
    if x1.shape[-1] != x2.shape[-1]:
        _core_mismatch("vecdot", "(n),(n)->()", x2.shape[-1], x1.shape[-1])
    if dtype == np.bool_:
        return np.any(np.logical_and(x1, x2), axis=-1)
    if dtype == np.float16:          # NumPy's half dot: float32 products and sum, rounded once
        return np.sum(np.multiply(x1.astype(np.float32), x2.astype(np.float32)), axis=-1).astype(dtype)
    return np.sum(np.multiply(x1, x2), axis=-1, dtype=dtype)


def matvec(x1, x2):
    (a, v), dtype = _operands("matvec", "(m,n),(n)->(m)", x1, x2, needs=(2, 1))
    if a.shape[-1] != v.shape[-1]:
        _core_mismatch("matvec", "(m,n),(n)->(m)", v.shape[-1], a.shape[-1])
    if dtype == np.bool_:
        return np.any(np.logical_and(a, v[..., None, :]), axis=-1)
    return np.matmul(a, v[..., None])[..., 0]


def vecmat(x1, x2):
    (v, a), dtype = _operands("vecmat", "(n),(n,m)->(m)", x1, x2, needs=(1, 2))
    if a.shape[-2] != v.shape[-1]:
        _core_mismatch("vecmat", "(n),(n,m)->(m)", a.shape[-2], v.shape[-1])
    if dtype == np.bool_:
        return np.any(np.logical_and(v[..., :, None], a), axis=-2)
    return np.matmul(v[..., None, :], a)[..., 0, :]


GUFUNCS = {"vecdot": vecdot, "matvec": matvec, "vecmat": vecmat}
