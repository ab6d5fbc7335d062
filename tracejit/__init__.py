"""tracejit: a tracing JIT compiler for NumPy code (Numba on the CPU, Triton on the GPU)."""
__version__ = "0.1.0"
