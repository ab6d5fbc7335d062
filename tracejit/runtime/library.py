"""Library ops on the GPU: torch and CuPy implementations of ``ir/ops_library.py``.

On the CPU the plan calls each op's NumPy reference (``ArrayLib.library``), so results
and errors are NumPy's exactly. On the GPU the same ops call the GPU library, with
these documented differences from NumPy:

- sorts are always stable (``kind`` is ignored; NumPy's quicksort/heapsort may order
  equal elements differently, its ``stable`` sort agrees); NaN sorts last as in NumPy;
- eigenvectors (``eigh``), singular vectors (``svd``) and ``qr``'s factors may differ
  from LAPACK's by the sign (phase) of each vector: both are valid factorizations;
  eigenvalues and singular values agree within rounding;
- a singular matrix raises ``numpy.linalg.LinAlgError`` from the step (torch's
  ``LinAlgError`` is translated; CuPy checks under ``cupyx.errstate(linalg="raise")``);
- ``fft`` is cuFFT's (torch.fft, cupy.fft): equal to NumPy's pocketfft within rounding,
  not bit for bit; float16 and integer inputs run on the host.

Dtypes a GPU library does not implement for an op, ``svd(hermitian=True)``,
``np.<ufunc>.at`` (``ufunc_at``, in ``HOST_ONLY``: sequential by definition), and
everything else not listed run on the host: the arrays are copied to NumPy, the
NumPy reference runs, and the results are copied back (correct, not fast).

These paths need a GPU: CI runs the CPU ones (the Triton interpreter takes NumPy
arrays, whose library steps are NumPy's).
"""
from __future__ import annotations

import numpy as np

from ..ir.ops import OPS
from ..ir.types import broadcast_shapes


def via_host(lib, name, attrs, arrays, out_types) -> list:
    """The NumPy reference on host copies of `arrays`, results copied back."""
    results = OPS[name].reference([lib.to_numpy(a) for a in arrays], attrs, out_types)
    return [lib.from_numpy(np.ascontiguousarray(r)) for r in results]


_TORCH_DTYPES = ("bool", "int8", "uint8", "int16", "int32", "int64", "float16", "float32", "float64",
                 "complex64", "complex128")
_LINALG_DTYPES = ("float32", "float64", "complex64", "complex128")


def _operand_dtypes(arrays, lib) -> set:
    return {lib.shape_dtype(a)[1].name for a in arrays}


def _solve_operands(xp_broadcast, a, b):
    """NumPy 2's solve: b is a vector only when it is 1-D; otherwise a stack of
    matrices whose batch dims broadcast with a's (made explicit for the library)."""
    m = a.shape[-1]
    if b.ndim == 1:
        return a, xp_broadcast(b[:, None], tuple(a.shape[:-2]) + (m, 1)), True
    batch = broadcast_shapes(tuple(a.shape[:-2]), tuple(b.shape[:-2]))
    return xp_broadcast(a, batch + (m, m)), xp_broadcast(b, batch + (m, b.shape[-1])), False


# library ops that always run on the host on the GPU: np.<ufunc>.at applies values in
# turn, and a GPU index_add_ adds them in no fixed order (rounding would differ run to run)
HOST_ONLY = ("ufunc_at",)


def torch_library(lib, name, attrs, arrays, out_types) -> list:
    if name in HOST_ONLY:
        return via_host(lib, name, attrs, arrays, out_types)
    torch = lib.torch
    dtypes = _operand_dtypes(arrays, lib)
    needed = _TORCH_DTYPES if name in ("sort", "argsort", "partition", "argpartition", "searchsorted", "bincount",
                                       "write_window", "last_writer") \
        else _LINALG_DTYPES
    if not dtypes <= set(needed) or (name == "svd" and attrs["hermitian"]):
        return via_host(lib, name, attrs, arrays, out_types)
    try:
        results = _torch_op(torch, name, attrs, arrays, out_types, lib)
    except torch.linalg.LinAlgError as exc:
        raise np.linalg.LinAlgError(str(exc)) from exc
    return [r.to(lib._dtype(t.dtype)).reshape(tuple(t.shape)).contiguous() for r, t in zip(results, out_types)]


def _window(arrays):
    return arrays[0], arrays[1], [int(o) for o in arrays[2:]]


def _torch_op(torch, name, attrs, arrays, out_types, lib):
    linalg = torch.linalg
    if name == "write_window":         # plans run it in place (WindowWriteStep); as a library op, a copy
        x, v, starts = _window(arrays)
        x = x.clone()
        lib.write_slice(x, starts, attrs["steps"], attrs["shape"], v)
        return [x]
    # a sort is a partition: NumPy leaves the order within each side undefined
    if name in ("sort", "partition"):
        return [torch.sort(arrays[0], dim=attrs["axis"], stable=True).values]
    if name in ("argsort", "argpartition"):
        return [torch.argsort(arrays[0], dim=attrs["axis"], stable=True)]
    if name == "searchsorted":
        a, v = arrays
        common = lib._dtype(np.result_type(lib.shape_dtype(a)[1], lib.shape_dtype(v)[1]))
        flat = v.to(common).reshape(-1)
        return [torch.searchsorted(a.to(common).contiguous(), flat, right=attrs["side"] == "right")]
    if name == "bincount":
        return [torch.bincount(arrays[0].to(torch.int64), minlength=attrs["length"])]
    if name == "last_writer":          # the largest k per position: deterministic, as NumPy's last write
        positions = arrays[0].to(torch.int64)
        winner = torch.full((attrs["length"],), -1, dtype=torch.int64, device=positions.device)
        ks = torch.arange(positions.shape[0], dtype=torch.int64, device=positions.device)
        return [winner.scatter_reduce_(0, positions, ks, reduce="amax")]
    if name == "fft":
        return [getattr(torch.fft, attrs["kind"])(arrays[0], n=attrs["n"], dim=attrs["axis"], norm=attrs["norm"])]
    (a, *rest) = arrays
    if name == "cholesky":
        return [linalg.cholesky(a, upper=bool(attrs.get("upper", False)))]
    if name == "inv":
        return [linalg.inv(a)]
    if name == "det":
        return [linalg.det(a)]
    if name == "slogdet":
        return list(linalg.slogdet(a))
    if name == "solve":
        a, b, vector = _solve_operands(lambda x, shape: x.expand(*shape), a, rest[0])
        common = lib._dtype(out_types[0].dtype)
        x = linalg.solve(a.to(common), b.to(common))
        return [x[..., 0] if vector else x]
    if name == "eigh":
        if attrs.get("values_only"):
            return [linalg.eigvalsh(a, UPLO=attrs["UPLO"])]
        return list(linalg.eigh(a, UPLO=attrs["UPLO"]))
    if name == "qr":
        q, r = linalg.qr(a, mode=attrs["mode"])
        return [r] if attrs["mode"] == "r" else [q, r]
    if name == "svd":
        if not attrs["compute_uv"]:
            return [linalg.svdvals(a)]
        return list(linalg.svd(a, full_matrices=attrs["full_matrices"]))
    raise NotImplementedError(f"torch: library op {name}")


def cupy_library(lib, name, attrs, arrays, out_types) -> list:
    if name in HOST_ONLY:
        return via_host(lib, name, attrs, arrays, out_types)
    cp = lib.cp
    dtypes = _operand_dtypes(arrays, lib)
    sorting = name in ("sort", "argsort", "partition", "argpartition", "searchsorted", "bincount", "last_writer")
    if (not sorting and not dtypes <= set(_LINALG_DTYPES)) or (name == "svd" and attrs["hermitian"]) \
            or (sorting and any(d.startswith("complex") or d == "float16" for d in dtypes)):
        return via_host(lib, name, attrs, arrays, out_types)
    import cupyx
    with cupyx.errstate(linalg="raise"):
        results = _cupy_op(cp, name, attrs, arrays, out_types)
    return [cp.ascontiguousarray(cp.asarray(r).astype(t.dtype, copy=False).reshape(tuple(t.shape)))
            for r, t in zip(results, out_types)]


def _cupy_op(cp, name, attrs, arrays, out_types):
    linalg = cp.linalg
    if name == "write_window":
        from ..ir.ops import slice_index
        x, v, starts = _window(arrays)
        x = x.copy()
        x[slice_index(starts, attrs["steps"], attrs["shape"])] = v
        return [x]
    if name == "sort":
        return [cp.sort(arrays[0], axis=attrs["axis"])]            # stable (CuPy's only sort)
    if name == "partition":
        return [cp.partition(arrays[0], list(attrs["kth"]), axis=attrs["axis"])]
    if name == "argpartition":
        return [cp.argpartition(arrays[0], list(attrs["kth"]), axis=attrs["axis"])]
    if name == "argsort":
        return [cp.argsort(arrays[0], axis=attrs["axis"])]
    if name == "searchsorted":
        return [cp.searchsorted(arrays[0], arrays[1], side=attrs["side"])]
    if name == "bincount":
        return [cp.bincount(arrays[0], minlength=attrs["length"])]
    if name == "last_writer":          # the largest k per position, as NumPy's last write
        import cupyx
        winner = cp.full(attrs["length"], -1, cp.int64)
        cupyx.scatter_max(winner, arrays[0], cp.arange(arrays[0].shape[0], dtype=cp.int64))
        return [winner]
    if name == "fft":
        return [getattr(cp.fft, attrs["kind"])(arrays[0], n=attrs["n"], axis=attrs["axis"], norm=attrs["norm"])]
    (a, *rest) = arrays
    if name == "cholesky":
        lower = linalg.cholesky(a)
        return [cp.swapaxes(lower, -1, -2).conj() if attrs.get("upper") else lower]
    if name == "inv":
        return [linalg.inv(a)]
    if name == "det":
        return [linalg.det(a)]
    if name == "slogdet":
        return list(linalg.slogdet(a))
    if name == "solve":
        a, b, vector = _solve_operands(cp.broadcast_to, a, rest[0])
        x = linalg.solve(a.astype(out_types[0].dtype), b.astype(out_types[0].dtype))
        return [x[..., 0] if vector else x]
    if name == "eigh":
        if attrs.get("values_only"):
            return [linalg.eigvalsh(a, UPLO=attrs["UPLO"])]
        return list(linalg.eigh(a, UPLO=attrs["UPLO"]))
    if name == "qr":
        result = linalg.qr(a, mode=attrs["mode"])
        return [result] if attrs["mode"] == "r" else list(result)
    if name == "svd":
        if not attrs["compute_uv"]:
            return [linalg.svd(a, compute_uv=False)]
        return list(linalg.svd(a, full_matrices=attrs["full_matrices"]))
    raise NotImplementedError(f"CuPy: library op {name}")
