"""The public face: ``tracejit.compile`` and ``tracejit.explain``."""
from __future__ import annotations

from .runtime.compiled import CompiledFunction
from .runtime.explain import Explanation, explain


def compile(fn=None, *, static_argnames=(), backend="auto", fullgraph=None, matmul_precision="ieee",
            recompile_limit=None, background_compile=False, dynamic_shapes=True):
    """Compile `fn` on first call per argument signature; usable bare or with options.

    backend: "auto" (Triton for GPU arrays, Numba otherwise), "numba", "triton",
    "interpret" (the reference interpreter). fullgraph=True raises instead of falling
    back to eager NumPy on unsupported code (default: False, or True when the environment
    sets TRACEJIT_FULLGRAPH=1, so a test suite can forbid fallbacks everywhere).
    recompile_limit: how many specializations the function may trace (default 8, or
    TRACEJIT_RECOMPILE_LIMIT); past it new ones run eagerly with one warning naming the
    argument that kept changing (``runtime/recompiles.py``). background_compile=True:
    on the CPU, the kernels of a new specialization compile on a background thread while
    the calls run eagerly, then the function switches over (``runtime/background.py``;
    off by default, see the README). matmul_precision: "ieee" (default, float32
    matmuls match NumPy), or opt in on the GPU to "tf32" (TensorFloat-32) or "fp16"
    (operands rounded to float16, float32 accumulation); the CPU backends always
    compute in full precision. dynamic_shapes=True (default): once an array dimension
    took a second size, later sizes reuse one trace where the function's code allows it
    (``runtime/shape_families.py``); False traces every size on its own.
    """
    def wrap(function):
        return CompiledFunction(function, static_argnames=static_argnames, backend=backend,
                                fullgraph=fullgraph, matmul_precision=matmul_precision,
                                recompile_limit=recompile_limit, background_compile=background_compile,
                                dynamic_shapes=dynamic_shapes)
    if fn is None:
        return wrap
    return wrap(fn)


__all__ = ["compile", "explain", "Explanation", "CompiledFunction"]
