"""Library ops: work the plan hands to an array library between kernels.

Sorting and dense linear algebra are not loop nests: they run as plan steps that call
the array library the arguments live in (NumPy and its LAPACK on the CPU; torch or
CuPy on the GPU, ``runtime/library.py``). Fusion treats them as opaque, like kernels:
the elementwise work before and after them still fuses into kernels around them.

Each op's ``reference`` is the NumPy call itself (the interpreter's oracle, and what
the CPU runs): ``np.sort`` with the user's ``kind``, ``np.linalg.eigh``, ... so CPU
results are NumPy's bit for bit, ties and eigenvector signs included, and NumPy's
errors (``LinAlgError`` for a singular matrix) are raised by NumPy itself. The shape
and dtype rules follow ``numpy.linalg``: integer and bool matrices are computed in
float64, float16 is refused with NumPy's ``TypeError``, and shape errors raise what
NumPy raises.

Registered into the one op table (``ops.OPS``) when ``tracejit.ir`` is imported.
"""
from __future__ import annotations

import numpy as np

from .ops import OpGroup, OpSpec, _register
from .types import TensorType, broadcast_shapes

INDEX = np.dtype(np.intp)


def _library(name, arity, infer, reference, doc, attrs=()):
    _register(OpSpec(name, OpGroup.LIBRARY, arity, infer, reference, doc=doc, attrs=attrs))


def _cast_all(results, out_types):
    return [np.asarray(r).astype(t.dtype, copy=False).reshape(t.shape) for r, t in zip(results, out_types)]


# ---------------------------------------------------------------------------
# sorting and searching
# ---------------------------------------------------------------------------

def _check_axis(x, attrs):
    if not 0 <= attrs["axis"] < max(x.rank, 1):
        raise ValueError(f"axis {attrs['axis']} is out of bounds for array of dimension {x.rank}")


def _sort_infer(types, attrs):
    (x,) = types
    _check_axis(x, attrs)
    return [TensorType(x.shape, x.dtype)]


def _argsort_infer(types, attrs):
    (x,) = types
    _check_axis(x, attrs)
    return [TensorType(x.shape, INDEX)]


def _sorting_reference(func):
    def reference(arrays, attrs, out_types):
        return _cast_all([func(arrays[0], axis=attrs["axis"], kind=attrs["kind"], stable=attrs["stable"])],
                         out_types)
    return reference


_library("sort", 1, _sort_infer, _sorting_reference(np.sort),
         "np.sort along `axis` with NumPy's `kind`/`stable` (NaN last)", ("axis", "kind", "stable"))
_library("argsort", 1, _argsort_infer, _sorting_reference(np.argsort),
         "np.argsort along `axis` with NumPy's `kind`/`stable`", ("axis", "kind", "stable"))


def _partition_infer(types, attrs):
    (x,) = types
    _check_axis(x, attrs)
    n = x.shape[attrs["axis"]] if x.rank else 1
    if not all(0 <= k < n for k in attrs["kth"]):
        raise ValueError(f"kth(={attrs['kth']}) out of bounds ({n})")
    return [TensorType(x.shape, x.dtype)]


def _argpartition_infer(types, attrs):
    (x,) = _partition_infer(types, attrs)
    return [TensorType(x.shape, INDEX)]


_library("partition", 1, _partition_infer,
         lambda a, attrs, t: _cast_all([np.partition(a[0], list(attrs["kth"]), axis=attrs["axis"])], t),
         "np.partition along `axis`: the elements at positions `kth` (non-negative ints) are "
         "those a sort would put there, smaller ones before and larger after (NaN last); the "
         "order within each side is undefined, as NumPy documents it (NumPy's own on the CPU; "
         "a GPU library may sort)", ("axis", "kth"))
_library("argpartition", 1, _argpartition_infer,
         lambda a, attrs, t: _cast_all([np.argpartition(a[0], list(attrs["kth"]), axis=attrs["axis"])], t),
         "np.argpartition along `axis` (the order within each side undefined, as for partition)",
         ("axis", "kth"))


def _searchsorted_infer(types, attrs):
    a, v = types
    if a.rank != 1:
        raise ValueError("object too deep for desired array")
    return [TensorType(v.shape, INDEX)]


_library("searchsorted", 2, _searchsorted_infer,
         lambda a, attrs, t: _cast_all([np.searchsorted(a[0], a[1], side=attrs["side"])], t),
         "np.searchsorted(a, v, side): where v's values go in the sorted 1-D a", ("side",))


def _bincount_infer(types, attrs):
    (x,) = types
    if x.rank != 1 or x.dtype.kind not in "iu":
        raise TypeError("bincount takes a 1-D integer array")
    return [TensorType((attrs["length"],), INDEX)]


def _bincount_reference(arrays, attrs, out_types):
    (x,) = arrays
    if x.size and (x.min() < 0 or x.max() >= attrs["length"]):
        raise ValueError(f"bincount: values outside [0, {attrs['length']})")
    return _cast_all([np.bincount(x, minlength=attrs["length"])], out_types)


_library("bincount", 1, _bincount_infer, _bincount_reference,
         "np.bincount(x, minlength=length) of values known to lie in [0, length)", ("length",))

# ---------------------------------------------------------------------------
# writes through an index array (x[idx] = v, np.add.at): one pass over the index
# ---------------------------------------------------------------------------

def _positions_type(positions):
    if positions.rank != 1 or positions.dtype.kind not in "iu":
        raise TypeError("the positions of a write through an index are a 1-D integer array")


def _last_writer_infer(types, attrs):
    (positions,) = types
    _positions_type(positions)
    return [TensorType((attrs["length"],), np.dtype(np.int64))]


def _last_writer_reference(arrays, attrs, out_types):
    (positions,) = arrays
    winner = np.full(attrs["length"], -1, np.int64)
    np.maximum.at(winner, positions, np.arange(positions.shape[0], dtype=np.int64))
    return [winner]


_library("last_writer", 1, _last_writer_infer, _last_writer_reference,
         "for each p in [0, length): the last k with positions[k] == p, else -1 (which value of "
         "x[idx] = v lands where: NumPy's last write wins)", ("length",))


def _ufunc_at_infer(types, attrs):
    target, positions, values = types
    _positions_type(positions)
    axis = attrs["axis"]
    want = target.shape[:axis] + positions.shape + target.shape[axis + 1:]
    if tuple(values.shape) != tuple(want) or values.dtype != np.result_type(target.dtype, values.dtype):
        raise TypeError(f"{attrs['ufunc']}.at: values of type {values.dtype}{list(values.shape)}, expected "
                        f"{list(want)} in the common type of the target's {target.dtype} and theirs")
    return [TensorType(target.shape, target.dtype)]


def _ufunc_at_reference(arrays, attrs, out_types):
    target, positions, values = arrays
    out = np.array(target, copy=True)
    getattr(np, attrs["ufunc"]).at(out, (slice(None),) * attrs["axis"] + (positions,), values)
    return [out]


_library("ufunc_at", 3, _ufunc_at_infer, _ufunc_at_reference,
         "a copy of target with np.<ufunc>.at(copy, (:,) * axis + (positions,), values) applied: "
         "each value in turn, in the values' dtype (the common one), each result cast back into "
         "the target, as NumPy's unbuffered in-place operation", ("ufunc", "axis"))

# ---------------------------------------------------------------------------
# linear algebra (numpy.linalg's rules)
# ---------------------------------------------------------------------------


def linalg_dtype(dtype) -> np.dtype:
    """The dtype numpy.linalg computes and returns for `dtype` input."""
    dtype = np.dtype(dtype)
    if dtype.kind in "biu":
        return np.dtype(np.float64)
    if dtype.kind not in "fc" or dtype == np.float16:
        raise TypeError(f"array type {dtype} is unsupported in linalg")
    return dtype


def _real(dtype) -> np.dtype:
    return np.dtype(np.finfo(dtype).dtype)


def _stacked_2d(x):
    if x.rank < 2:
        raise np.linalg.LinAlgError(f"{x.rank}-dimensional array given. Array must be at least two-dimensional")


def _stacked_square(x):
    _stacked_2d(x)
    if x.shape[-1] != x.shape[-2]:
        raise np.linalg.LinAlgError("Last 2 dimensions of the array must be square")


def _square_infer(types, attrs):
    (x,) = types
    _stacked_square(x)
    return [TensorType(x.shape, linalg_dtype(x.dtype))]


def _linalg_reference(func, **fixed):
    def reference(arrays, attrs, out_types):
        result = func(*arrays, **fixed, **attrs)
        return _cast_all(list(result) if isinstance(result, tuple) else [result], out_types)
    return reference


_library("cholesky", 1, _square_infer, _linalg_reference(np.linalg.cholesky),
         "np.linalg.cholesky (lower factor; `upper`: the upper one)", ("upper",))
_library("inv", 1, _square_infer, _linalg_reference(np.linalg.inv), "np.linalg.inv")


def _det_infer(types, attrs):
    (x,) = types
    _stacked_square(x)
    return [TensorType(x.shape[:-2], linalg_dtype(x.dtype))]


_library("det", 1, _det_infer, _linalg_reference(np.linalg.det), "np.linalg.det")


def _slogdet_infer(types, attrs):
    (x,) = types
    _stacked_square(x)
    dtype = linalg_dtype(x.dtype)
    return [TensorType(x.shape[:-2], dtype), TensorType(x.shape[:-2], _real(dtype))]


_library("slogdet", 1, _slogdet_infer, _linalg_reference(np.linalg.slogdet),
         "np.linalg.slogdet: (sign, log|det|)")


def _solve_infer(types, attrs):
    a, b = types
    _stacked_square(a)
    dtype = np.result_type(linalg_dtype(a.dtype), linalg_dtype(b.dtype))
    m = a.shape[-1]
    if b.rank == 1:                         # NumPy 2: a vector only when b is 1-D
        if b.shape[0] != m:
            raise ValueError(f"solve1: Input operand 1 has a mismatch in its core dimension 0, with gufunc "
                             f"signature (m,m),(m)->(m) (size {b.shape[0]} is different from {m})")
        return [TensorType(a.shape[:-1], dtype)]
    if b.shape[-2] != m:
        raise ValueError(f"solve: Input operand 1 has a mismatch in its core dimension 0, with gufunc "
                         f"signature (m,m),(m,n)->(m,n) (size {b.shape[-2]} is different from {m})")
    batch = broadcast_shapes(a.shape[:-2], b.shape[:-2])
    return [TensorType(batch + (m, b.shape[-1]), dtype)]


_library("solve", 2, _solve_infer, _linalg_reference(np.linalg.solve), "np.linalg.solve(a, b)")


def _eigh_infer(types, attrs):
    (x,) = types
    _stacked_square(x)
    dtype = linalg_dtype(x.dtype)
    values = TensorType(x.shape[:-1], _real(dtype))
    return [values] if attrs.get("values_only") else [values, TensorType(x.shape, dtype)]


def _eigh_reference(arrays, attrs, out_types):
    if attrs.get("values_only"):
        return _cast_all([np.linalg.eigvalsh(arrays[0], UPLO=attrs["UPLO"])], out_types)
    return _cast_all(list(np.linalg.eigh(arrays[0], UPLO=attrs["UPLO"])), out_types)


_library("eigh", 1, _eigh_infer, _eigh_reference,
         "np.linalg.eigh: (eigenvalues, eigenvectors) of a Hermitian matrix (`values_only`: eigvalsh)",
         ("UPLO", "values_only"))


def _qr_infer(types, attrs):
    (x,) = types
    _stacked_2d(x)
    dtype = linalg_dtype(x.dtype)
    *batch, m, n = x.shape
    k = min(m, n)
    batch = tuple(batch)
    mode = attrs["mode"]
    if mode == "r":
        return [TensorType(batch + (k, n), dtype)]
    if mode == "complete":
        return [TensorType(batch + (m, m), dtype), TensorType(batch + (m, n), dtype)]
    if mode == "reduced":
        return [TensorType(batch + (m, k), dtype), TensorType(batch + (k, n), dtype)]
    raise ValueError(f"Unrecognized mode '{mode}'")


_library("qr", 1, _qr_infer, _linalg_reference(np.linalg.qr),
         "np.linalg.qr: (Q, R), or R alone for mode='r'", ("mode",))


def _svd_infer(types, attrs):
    (x,) = types
    _stacked_2d(x)
    dtype = linalg_dtype(x.dtype)
    *batch, m, n = x.shape
    k = min(m, n)
    batch = tuple(batch)
    s = TensorType(batch + (k,), _real(dtype))
    if attrs["hermitian"] and m != n:
        raise np.linalg.LinAlgError("Last 2 dimensions of the array must be square")
    if not attrs["compute_uv"]:
        return [s]
    if attrs["full_matrices"]:
        return [TensorType(batch + (m, m), dtype), s, TensorType(batch + (n, n), dtype)]
    return [TensorType(batch + (m, k), dtype), s, TensorType(batch + (k, n), dtype)]


_library("svd", 1, _svd_infer, _linalg_reference(np.linalg.svd),
         "np.linalg.svd: (U, S, Vh), or S alone when not compute_uv",
         ("full_matrices", "compute_uv", "hermitian"))

LIBRARY_NAMES = ("sort", "argsort", "partition", "argpartition", "searchsorted", "bincount", "cholesky", "inv", "det", "slogdet",
                 "solve", "eigh", "qr", "svd")
