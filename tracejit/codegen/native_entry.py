"""The CPython entry point of a stored Numba kernel, as LLVM IR text.

Why: a warm start must run kernels without importing Numba (its import and typing
machinery cost ~400 ms a process). Numba's compiled code for a kernel is an ordinary
native function; what Numba adds around it is a Python wrapper that unboxes the
arguments. This module writes a small replacement for that wrapper: a ``METH_FASTCALL``
builtin that checks each argument against the signature the code was compiled for,
reads the arrays' fields, releases the GIL and calls the native function.

The entry returns ``None`` when the kernel ran, ``False`` when an argument does not fit
the signature (nothing ran: the caller uses Numba instead), the address of Numba's
exception record (an int) when the kernel raised (``native_cache.kernel_exception``
turns it into the exception; running the kernel again could see arguments it already
wrote), and NULL with a Python error set only when an integer argument cannot be
converted.

Numba's native calling convention (numba.core.callconv, 0.5x-0.6x): ``i32 fn(ptr retptr,
ptr excinfo, args...)`` where an array argument is flattened into ``meminfo, parent,
nitems, itemsize, data, shape..., strides...``; status 0 or -2 (returned None) is
success. ``meminfo`` is NULL: the kernel borrows the caller's arrays, as with any array
Numba did not allocate, so its reference counting is a no-op.

The layouts read here are CPython's ``PyObject`` header (64-bit, non-debug, GIL builds)
and NumPy's ``PyArrayObject_fields``; ``native_cache.layout_is_supported`` checks both
on a live array before any entry is used.
"""
from __future__ import annotations

from dataclasses import dataclass

# byte offsets in a PyArrayObject (NumPy's ndarraytypes.h) and PyObject
OB_TYPE, DATA, ND, DIMENSIONS, STRIDES, DESCR, FLAGS = 8, 16, 24, 32, 40, 56, 64
# NumPy's array flags
C_CONTIGUOUS, F_CONTIGUOUS, ALIGNED, WRITEABLE = 0x1, 0x2, 0x100, 0x400
METH_FASTCALL = 0x80
# Numba's callconv statuses that mean "returned normally"
STATUS_OK, STATUS_NONE = 0, -2
# Numba's runtime: what the object imports under these prefixes only Numba's own Python
# wrapper reaches (``native_cache`` checks), never the entry, so they are defined as traps
UNREACHABLE_PREFIXES = ("NRT_", "numba_")


@dataclass(frozen=True)
class ArrayArg:
    """An array parameter as Numba typed it: dtype (NumPy ``str``), rank, layout
    ('C', 'F' or 'A'), whether it is writeable and aligned."""
    dtype: str
    ndim: int
    layout: str
    mutable: bool
    aligned: bool
    itemsize: int

    def required_flags(self) -> int:
        flags = {"C": C_CONTIGUOUS, "F": F_CONTIGUOUS}.get(self.layout, 0)
        return flags | (WRITEABLE if self.mutable else 0) | (ALIGNED if self.aligned else 0)


INT = "int"      # a Python int passed as int64


def entry_ir(entry: str, target: str, params: list, traps: list) -> str:
    """LLVM IR of the entry `entry` calling Numba's native function `target`.

    `params`: INT or ``ArrayArg`` per kernel parameter. The module also defines
    ``<entry>_def`` (the PyMethodDef) and ``<entry>_types`` (the ndarray type object,
    then each array parameter's dtype object, filled in by the loader), and a trapping
    definition of each name in `traps`."""
    arrays = [p for p in params if p is not INT]
    body, native_args = [], []
    array_index = 0
    body.append(f"  %nargs_ok = icmp eq i64 %nargs, {len(params)}")
    body.append("  br i1 %nargs_ok, label %arg0, label %mismatch")
    for k, param in enumerate(params):
        body.append(f"arg{k}:")
        body.append(f"  %obj{k}.p = getelementptr ptr, ptr %args, i64 {k}")
        body.append(f"  %obj{k} = load ptr, ptr %obj{k}.p")
        if param is INT:
            body += [f"  %int{k} = call i64 @PyLong_AsLongLong(ptr %obj{k})",
                     f"  %maybe_err{k} = icmp eq i64 %int{k}, -1",
                     f"  br i1 %maybe_err{k}, label %check_err{k}, label %arg{k + 1}",
                     f"check_err{k}:",
                     f"  %err{k} = call ptr @PyErr_Occurred()",
                     f"  %has_err{k} = icmp ne ptr %err{k}, null",
                     f"  br i1 %has_err{k}, label %error, label %arg{k + 1}"]
            native_args.append(f"i64 %int{k}")
            continue
        array_index += 1
        body += _array_checks(k, param, array_index, entry)
        native_args += _array_fields(k, param, body)
        body.append(f"  br label %arg{k + 1}")
    body.append(f"arg{len(params)}:")
    native_types = ", ".join(a.split(" ", 1)[0] for a in native_args)
    call_args = ", ".join(["ptr %retptr", "ptr %excinfo"] + native_args)
    trap_defs = "\n".join(f'define void @"{name}"() {{\n  call void @llvm.trap()\n  unreachable\n}}'
                          for name in traps)
    return f"""; tracejit entry for {target}
@{entry}_name = private constant [{len(entry) + 1} x i8] c"{entry}\\00"
@{entry}_types = global [{len(arrays) + 1} x ptr] zeroinitializer
@{entry}_def = global {{ ptr, ptr, i32, ptr }} {{ ptr @{entry}_name, ptr @{entry}, i32 {METH_FASTCALL}, ptr null }}
@_Py_NoneStruct = external global i8
@_Py_FalseStruct = external global i8
declare i64 @PyLong_AsLongLong(ptr)
declare ptr @PyErr_Occurred()
declare ptr @PyEval_SaveThread()
declare void @PyEval_RestoreThread(ptr)
declare void @Py_IncRef(ptr)
declare ptr @PyLong_FromVoidPtr(ptr)
declare void @llvm.trap()
declare i32 @"{target}"(ptr, ptr{", " if native_types else ""}{native_types})

define ptr @{entry}(ptr %self, ptr %args, i64 %nargs) {{
entry:
  %retptr = alloca [8 x i64], align 16
  %excinfo = alloca ptr, align 8
  store ptr null, ptr %excinfo
{chr(10).join(body)}
  %thread = call ptr @PyEval_SaveThread()
  %status = call i32 @"{target}"({call_args})
  call void @PyEval_RestoreThread(ptr %thread)
  %is_ok = icmp eq i32 %status, {STATUS_OK}
  %is_none = icmp eq i32 %status, {STATUS_NONE}
  %ran = or i1 %is_ok, %is_none
  br i1 %ran, label %done, label %raised
done:
  call void @Py_IncRef(ptr @_Py_NoneStruct)
  ret ptr @_Py_NoneStruct
raised:
  %record = load ptr, ptr %excinfo
  %address = call ptr @PyLong_FromVoidPtr(ptr %record)
  ret ptr %address
mismatch:
  call void @Py_IncRef(ptr @_Py_FalseStruct)
  ret ptr @_Py_FalseStruct
error:
  ret ptr null
}}

{trap_defs}
"""


def _array_checks(k: int, param: ArrayArg, slot: int, entry: str) -> list:
    """Branch to %mismatch unless argument k is an ndarray of the parameter's type."""
    def load(name, offset, ty):
        return [f"  %{name}{k}.p = getelementptr i8, ptr %obj{k}, i64 {offset}",
                f"  %{name}{k} = load {ty}, ptr %{name}{k}.p"]
    need = param.required_flags()
    return [*load("type", OB_TYPE, "ptr"),
            f"  %want_type{k} = load ptr, ptr @{entry}_types",
            f"  %type_ok{k} = icmp eq ptr %type{k}, %want_type{k}",
            f"  br i1 %type_ok{k}, label %fields{k}, label %mismatch",
            f"fields{k}:",
            *load("nd", ND, "i32"), *load("descr", DESCR, "ptr"), *load("flags", FLAGS, "i32"),
            f"  %want_descr{k}.p = getelementptr ptr, ptr @{entry}_types, i64 {slot}",
            f"  %want_descr{k} = load ptr, ptr %want_descr{k}.p",
            f"  %nd_ok{k} = icmp eq i32 %nd{k}, {param.ndim}",
            f"  %descr_ok{k} = icmp eq ptr %descr{k}, %want_descr{k}",
            f"  %masked{k} = and i32 %flags{k}, {need}",
            f"  %flags_ok{k} = icmp eq i32 %masked{k}, {need}",
            f"  %ok{k}.a = and i1 %nd_ok{k}, %descr_ok{k}",
            f"  %ok{k} = and i1 %ok{k}.a, %flags_ok{k}",
            f"  br i1 %ok{k}, label %read{k}, label %mismatch",
            f"read{k}:"]


def _array_fields(k: int, param: ArrayArg, body: list) -> list:
    """Append the loads of argument k's data, shape and strides to `body`; return the
    native function's flattened arguments for it."""
    for name, offset in (("data", DATA), ("dims", DIMENSIONS), ("strides", STRIDES)):
        body += [f"  %{name}{k}.p = getelementptr i8, ptr %obj{k}, i64 {offset}",
                 f"  %{name}{k} = load ptr, ptr %{name}{k}.p"]
    count = "1"
    for d in range(param.ndim):
        for name, base in (("shape", "dims"), ("stride", "strides")):
            body += [f"  %{name}{k}_{d}.p = getelementptr i64, ptr %{base}{k}, i64 {d}",
                     f"  %{name}{k}_{d} = load i64, ptr %{name}{k}_{d}.p"]
        body.append(f"  %count{k}_{d} = mul i64 {count}, %shape{k}_{d}")
        count = f"%count{k}_{d}"
    return (["ptr null", f"ptr %obj{k}", f"i64 {count}", f"i64 {param.itemsize}", f"ptr %data{k}"]
            + [f"i64 %shape{k}_{d}" for d in range(param.ndim)]
            + [f"i64 %stride{k}_{d}" for d in range(param.ndim)])
