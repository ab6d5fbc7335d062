"""What a function's bytecode names: the globals, attributes and keys it may read.

Guards and the state sandbox only look at what the code can reach by name, so that
a counter elsewhere on an object does not retrace. ``code_info`` reads the bytecode
of a code object (and the code objects nested in it: comprehensions, lambdas,
inner functions) once and caches the result.
"""
from __future__ import annotations

import builtins
import dis
import functools
import os
import sys
import sysconfig
import types
from dataclasses import dataclass, field

# Packages whose functions and objects are not user state: their code is not
# followed and their modules and classes are guarded by identity only.
THIRD_PARTY = frozenset({
    "numpy", "tracejit", "numba", "triton", "scipy", "torch", "cupy", "jax", "jaxlib",
    "pandas", "llvmlite", "pytest", "_pytest", "hypothesis", "pluggy", "IPython",
})
STDLIB = frozenset(getattr(sys, "stdlib_module_names", ()))
LIBRARY_PACKAGES = THIRD_PARTY | STDLIB | {"builtins"}
_STDLIB_DIRS = tuple(sorted({os.path.realpath(p) for key in ("stdlib", "platstdlib")
                             if (p := sysconfig.get_paths().get(key))}))

# Names that read or write attributes/keys chosen at run time: with them in the code,
# every attribute of a reached object counts as named.
DYNAMIC_NAMES = frozenset({"getattr", "setattr", "delattr", "vars", "dir", "globals", "locals", "eval",
                           "exec", "__dict__", "__getattribute__"})


def is_library(module_name) -> bool:
    """Library code, by module name: the packages above, and standard-library modules
    that really are the standard library (a user's own ``trace.py`` or ``types.py``,
    shadowing a standard name, is user code)."""
    top = (module_name or "").split(".")[0]
    if top in THIRD_PARTY or top == "builtins":
        return True
    return top in STDLIB and _in_stdlib(top)


@functools.lru_cache(maxsize=None)
def _in_stdlib(top: str) -> bool:
    module = sys.modules.get(top)
    path = getattr(module, "__file__", None) if module is not None else None
    if path is None:              # built into the interpreter, or not imported: trust the name
        return True
    return os.path.realpath(path).startswith(_STDLIB_DIRS)


def is_library_object(obj) -> bool:
    """Whether a class or function is library code. Code run by ``exec`` without a
    ``__name__`` gets ``__module__ == "builtins"``: it is the user's unless the builtins
    module really holds it."""
    module = getattr(obj, "__module__", "") or ""
    if module == "builtins":
        return getattr(builtins, getattr(obj, "__name__", ""), None) is obj
    return is_library(module)


@dataclass
class CodeInfo:
    globals: set = field(default_factory=set)     # LOAD_GLOBAL/STORE_GLOBAL names
    attrs: set = field(default_factory=set)       # LOAD_ATTR/STORE_ATTR/LOAD_METHOD names
    strings: set = field(default_factory=set)     # identifier-like string constants (keys)
    iterated: set = field(default_factory=set)    # names loaded right before GET_ITER
    stores: dict = field(default_factory=dict)    # stored attr/global/cell name -> "path:line"
    reads: dict = field(default_factory=dict)     # loaded attr/global name -> "path:line" (first)
    imports: set = field(default_factory=set)     # (module, relative level, from-names) imported inside
    dynamic: bool = False
    variable_keys: bool = False                   # subscripts by a key that is not a constant (d[k])
    catches: bool = False                         # has try/except or with: a failed read may be caught
    identity: bool = False                        # compares objects by identity (a is b, not `is None`; id())
    compares: bool = False                        # ==, != or `in`: by identity for objects without __eq__

    def merge(self, other: "CodeInfo") -> None:
        self.globals |= other.globals
        self.attrs |= other.attrs
        self.strings |= other.strings
        self.iterated |= other.iterated
        for name, loc in other.stores.items():
            self.stores.setdefault(name, loc)
        for name, loc in other.reads.items():
            self.reads.setdefault(name, loc)
        self.imports |= other.imports
        self.dynamic = self.dynamic or other.dynamic
        self.variable_keys = self.variable_keys or other.variable_keys
        self.catches = self.catches or other.catches
        self.identity = self.identity or other.identity
        self.compares = self.compares or other.compares


_LOADS_BEFORE_ITER = ("LOAD_GLOBAL", "LOAD_NAME", "LOAD_ATTR", "LOAD_METHOD", "LOAD_DEREF", "LOAD_FAST")


def code_info(code: types.CodeType) -> CodeInfo:
    """The names `code` uses (cached; the file is part of the key, as equal code
    objects of two files are equal)."""
    return _code_info(code, code.co_filename, code.co_firstlineno)


@functools.lru_cache(maxsize=4096)
def _code_info(code: types.CodeType, filename: str, first_line: int) -> CodeInfo:
    info = CodeInfo()
    previous = before = None
    for ins in dis.get_instructions(code):
        op = ins.opname
        if op in ("LOAD_GLOBAL", "STORE_GLOBAL", "DELETE_GLOBAL", "LOAD_NAME", "STORE_NAME"):
            info.globals.add(ins.argval)
        elif op in ("LOAD_ATTR", "STORE_ATTR", "DELETE_ATTR", "LOAD_METHOD", "LOAD_SUPER_ATTR"):
            info.attrs.add(ins.argval)
        elif op == "LOAD_CONST" and isinstance(ins.argval, str) and ins.argval.isidentifier():
            info.strings.add(ins.argval)
        elif op == "GET_ITER" and previous is not None and previous.opname in _LOADS_BEFORE_ITER:
            info.iterated.add(previous.argval)
        elif op == "IMPORT_NAME":     # after LOAD_CONST level, LOAD_CONST fromlist
            level = before.argval if before is not None and before.opname == "LOAD_CONST" else 0
            names = previous.argval if previous is not None and previous.opname == "LOAD_CONST" else None
            names = tuple(n for n in names if isinstance(n, str)) if isinstance(names, tuple) else ()
            info.imports.add((ins.argval, level if isinstance(level, int) else 0, names))
        elif op == "IMPORT_FROM":                 # `from m import name` reads m.name
            info.attrs.add(ins.argval)
        elif (op == "COMPARE_OP" and ins.argval in ("==", "!=")) or op == "CONTAINS_OP":
            info.compares = True
        elif op == "IS_OP" and previous is not None and not (previous.opname == "LOAD_CONST" and
                                                               previous.argval is None):
            info.identity = True                  # self.cfg is DEFAULT: which object, not only its kind
        elif op in ("BINARY_SUBSCR", "STORE_SUBSCR", "DELETE_SUBSCR") and previous is not None \
                and previous.opname not in ("LOAD_CONST", "BUILD_SLICE"):
            info.variable_keys = True             # self.m[k]: any key of a dict it reaches may be read
        if op in ("STORE_ATTR", "STORE_GLOBAL", "STORE_DEREF", "DELETE_ATTR", "DELETE_GLOBAL"):
            info.stores.setdefault(ins.argval, _where(code, ins))
        elif op in ("LOAD_ATTR", "LOAD_METHOD", "LOAD_GLOBAL", "IMPORT_NAME", "IMPORT_FROM") and \
                isinstance(ins.argval, str):
            info.reads.setdefault(ins.argval, _where(code, ins))
        before, previous = previous, ins
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            info.merge(code_info(const))
    info.dynamic = info.dynamic or bool((info.globals | info.attrs) & DYNAMIC_NAMES)
    info.identity = info.identity or "id" in info.globals
    info.catches = info.catches or bool(getattr(code, "co_exceptiontable", b"x"))
    return info


def _where(code, ins) -> str:
    line = ins.positions.lineno if ins.positions is not None else None
    return f"{code.co_filename}:{line or code.co_firstlineno}"


def definition_line(fn) -> str:
    code = getattr(getattr(fn, "__func__", fn), "__code__", None)
    return f"{code.co_filename}:{code.co_firstlineno}" if code else ""


def callable_target(fn):
    """(Python function behind `fn`, the object it is bound to or None); (None, None)
    for builtins, ufuncs and library code. Compiled functions are seen through."""
    seen = 0
    while seen < 8:
        seen += 1
        inner = getattr(fn, "fn", None)
        if inner is not None and type(fn).__name__ == "CompiledFunction":
            fn = inner
            continue
        if isinstance(fn, functools.partial):
            fn = fn.func
            continue
        wrapped = getattr(fn, "__wrapped__", None)
        if isinstance(fn, types.FunctionType) and isinstance(wrapped, types.FunctionType):
            fn = wrapped
            continue
        break
    if isinstance(fn, types.MethodType):
        target, owner = fn.__func__, fn.__self__
        return (target, owner) if isinstance(target, types.FunctionType) else (None, None)
    if isinstance(fn, types.FunctionType):
        return fn, None
    call = getattr(type(fn), "__call__", None)       # a callable object: its __call__, bound
    if isinstance(call, types.FunctionType) and not is_library_object(call):
        return call, fn
    return None, None
