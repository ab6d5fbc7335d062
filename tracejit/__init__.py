"""tracejit: a tracing JIT compiler for NumPy code (Numba on the CPU, Triton on the GPU).

    @tracejit.compile
    def layer(x, w, b):
        return np.maximum(x @ w + b, 0.0)

The public names are imported lazily, so ``import tracejit.ir`` stays light.
"""
__version__ = "0.1.0"

_PUBLIC = {
    "compile": "tracejit.api", "explain": "tracejit.api", "Explanation": "tracejit.api",
    "CompiledFunction": "tracejit.api", "FallbackWarning": "tracejit.runtime.records",
    "RecompileLimitError": "tracejit.runtime.compiled",
    "TracerError": "tracejit.tracer.errors", "DataDependentError": "tracejit.tracer.errors",
    "UnsupportedError": "tracejit.tracer.errors",
}

__all__ = sorted(_PUBLIC) + ["__version__"]


def __getattr__(name):
    if name in _PUBLIC:
        import importlib
        value = getattr(importlib.import_module(_PUBLIC[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'tracejit' has no attribute {name!r}")
