"""Compile a kernel with Numba's compiler but none of its call wrappers: the object code
the native entry (``native_entry``) calls, and nothing else.

Why: a kernel goes from Numba to tracejit's own CPython entry point (``native_cache``),
which calls the compiled function directly. Compiling through the dispatcher also
builds, optimizes and emits two wrappers the entry never uses (the CPython wrapper and
the C-callable one) and writes Numba's own cache entry: measured on a small kernel,
165 ms per compile against 103 ms without them, and a cold GPT block compiles seven
kernels. The flags are the dispatcher's own (``nogil``, ``error_model``, ...), so the
function compiled is the one the dispatcher would compile.

The result is only ever used through the native entry; where that cannot be stored
(code that reaches Numba's runtime), the caller compiles through the dispatcher.

Numba also optimizes every function on its own at the full level (vectorizers
included) before the module passes optimize the module again at that level. For these
compiles the per-function step runs at level 1 instead (simplification, no
vectorizers): a cold GPT block's first call takes 1.67 s instead of 1.77 s (medians of
four new processes), and softmax, layernorm, GELU and sin*cos kernels run as fast
(within 1%, measured on one thread).
"""
from __future__ import annotations

import contextlib


def compile_object(dispatcher, types: tuple) -> tuple:
    """(object code, LLVM bitcode, the function's symbol) of `dispatcher`'s Python
    function compiled for the Numba `types`, without wrappers. Raises what Numba
    raises (a typing error, a damaged cache file of a helper)."""
    from numba.core import compiler
    from numba.core.compiler_lock import global_compiler_lock

    function_compiler = dispatcher._compiler
    flags = compiler.Flags()
    function_compiler.targetdescr.options.parse_as_flags(flags, function_compiler.targetoptions)
    flags.no_cpython_wrapper = True
    flags.no_cfunc_wrapper = True
    with global_compiler_lock, _light_function_passes():
        result = compiler.compile_extra(function_compiler.targetdescr.typing_context,
                                        function_compiler.targetdescr.target_context,
                                        dispatcher.py_func, args=types, return_type=None, flags=flags,
                                        locals=function_compiler.locals,
                                        pipeline_class=function_compiler.pipeline_class)
        if result.typing_error is not None:
            raise result.typing_error
        obj, bitcode = result.library.serialize_using_object_code()[2]
    return obj, bitcode, result.fndesc.llvm_func_name


@contextlib.contextmanager
def _light_function_passes():
    """Numba's per-function optimization at level 1 while this compile runs (see the
    module docstring). Swapped under Numba's global compiler lock, which every Numba
    compile holds, so no other compile sees it; left as it is where this Numba's
    internals differ."""
    from numba.core import codegen
    full = getattr(codegen.CPUCodeLibrary, "_optimize_functions", None)
    if full is None or not hasattr(codegen.JITCPUCodegen, "_function_pass_manager"):
        yield
        return

    def light(library, module):
        module.data_layout = library._codegen._data_layout
        for function in module.functions:
            manager, builder = library._codegen._function_pass_manager(opt=1, loop_vectorize=False,
                                                                       slp_vectorize=False)
            manager.run(function, builder)

    codegen.CPUCodeLibrary._optimize_functions = light
    try:
        yield
    finally:
        codegen.CPUCodeLibrary._optimize_functions = full
