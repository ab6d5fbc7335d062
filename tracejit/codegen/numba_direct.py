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
"""
from __future__ import annotations


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
    with global_compiler_lock:
        result = compiler.compile_extra(function_compiler.targetdescr.typing_context,
                                        function_compiler.targetdescr.target_context,
                                        dispatcher.py_func, args=types, return_type=None, flags=flags,
                                        locals=function_compiler.locals,
                                        pipeline_class=function_compiler.pipeline_class)
        if result.typing_error is not None:
            raise result.typing_error
        obj, bitcode = result.library.serialize_using_object_code()[2]
    return obj, bitcode, result.fndesc.llvm_func_name
