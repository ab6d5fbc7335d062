"""Backends: where kernels come from and which array library runs them.

- ``numba``: CPU, NumPy arrays in and out, kernels from codegen/numba_backend.py.
- ``triton``: GPU arrays (CuPy, torch CUDA) in and out; NumPy arrays only under
  Triton's interpreter (``TRITON_INTERPRET=1``), which is how CI covers it.
- ``interpret``: the reference interpreter on the traced graph (no kernels).
``auto`` picks triton when the inputs live on a GPU, numba otherwise.
"""
from __future__ import annotations

from ..codegen.files import default_cache_dir
from ..ir.loopnest import lower_region
from ..ir.printer import format_graph

BACKENDS = ("auto", "numba", "triton", "interpret")


class BackendError(Exception):
    pass


class NumbaBackend:
    name = "numba"
    matmul_rows = True      # BLAS fills a product buffer first: a kernel may reduce its rows

    def compile_region(self, region, cache_dir=None):
        from ..codegen import numba_backend
        nest = lower_region(region)
        kernel = numba_backend.compile_kernel(nest, cache_dir or default_cache_dir(),
                                              region_text=format_graph(region))
        return kernel, nest


class TritonBackend:
    name = "triton"

    def __init__(self, matmul_precision: str = "ieee"):
        # "ieee": float32 matmuls in full precision (NumPy parity); "tf32", "fp16": opt-in
        # speed (TensorFloat-32, or operands rounded to float16; float32 sums either way)
        self.options = {} if matmul_precision == "ieee" else {"input_precision": matmul_precision}

    def compile_region(self, region, cache_dir=None):
        from ..codegen import triton_backend
        nest = lower_region(region)
        kernel = triton_backend.compile_kernel(nest, cache_dir or default_cache_dir(),
                                               region_text=format_graph(region), options=self.options or None)
        return kernel, nest


class InterpretBackend:
    name = "interpret"


def triton_interpreter_enabled() -> bool:
    from ..codegen import triton_arrays
    return triton_arrays.interpreter_enabled()


MATMUL_PRECISIONS = ("ieee", "tf32", "fp16")


def choose_backend(requested: str, libraries, matmul_precision: str = "ieee") -> object:
    """Resolve `requested` for arguments living in `libraries` (a set of ArrayLibs)."""
    if matmul_precision not in MATMUL_PRECISIONS:
        raise ValueError(f"tracejit: matmul_precision must be one of {', '.join(MATMUL_PRECISIONS)}, "
                         f"got {matmul_precision!r}")
    if requested not in BACKENDS:
        raise ValueError(f"tracejit: unknown backend {requested!r}; choose one of {', '.join(BACKENDS)}")
    names = {lib.name for lib in libraries}
    on_gpu = any(lib.on_gpu for lib in libraries)
    if on_gpu and len(names) > 1:
        raise BackendError(f"tracejit: arguments live in different array libraries/devices ({', '.join(sorted(names))}); "
                           "move them to one device before calling")
    if requested == "auto":
        requested = "triton" if on_gpu else "numba"
    if requested == "numba" and on_gpu:
        raise BackendError("tracejit: backend='numba' runs on the CPU but the arguments are GPU arrays; "
                           "use backend='triton' or 'auto'")
    if requested == "triton" and not on_gpu and not triton_interpreter_enabled():
        raise BackendError("tracejit: backend='triton' needs GPU arrays (CuPy or torch CUDA tensors), or "
                           "Triton's interpreter (set TRITON_INTERPRET=1 before importing triton) for NumPy arrays")
    if requested == "triton":
        return TritonBackend(matmul_precision)
    return {"numba": NumbaBackend, "interpret": InterpretBackend}[requested]()
