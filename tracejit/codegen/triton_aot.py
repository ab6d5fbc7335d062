"""Ahead-of-time compilation of generated Triton kernels for a GPU target, no GPU needed.

``triton.compile(ASTSource(fn, signature, constexprs), target=GPUTarget("cuda", 90, 32))``
runs Triton's real compiler (TTIR -> TTGIR -> LLVM -> PTX -> cubin with the bundled
ptxas). It catches what the interpreter lets through (unsupported dtypes in tl.dot,
type changes of loop-carried values, shape errors only the compiler checks).

It must run in a process where the kernel module was imported WITHOUT
TRITON_INTERPRET=1 (in interpreter mode ``@triton.jit`` produces an interpreted
function that ``ASTSource`` cannot compile); ``compile_in_subprocess`` does that.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np

_PTR_TYPES = {
    np.dtype("bool"): "*i1", np.dtype("int8"): "*i8", np.dtype("int16"): "*i16",
    np.dtype("int32"): "*i32", np.dtype("int64"): "*i64", np.dtype("uint8"): "*u8",
    np.dtype("float16"): "*fp16", np.dtype("float32"): "*fp32", np.dtype("float64"): "*fp64",
}


def hopper_target():
    """GPUTarget("cuda", 90, 32); raises ImportError where this Triton lacks it."""
    from triton.backends.compiler import GPUTarget
    return GPUTarget("cuda", 90, 32)


def signature_for(spec, blocks: dict, int_type: str = "i64") -> tuple:
    """(signature, constexprs) for a KernelSpec: pointer types from the buffers'
    dtypes, every int argument as `int_type`, block sizes as constexprs."""
    signature, constexprs = {}, {}
    for buf in spec.inputs + spec.outputs:
        signature[f"{buf.name}_ptr"] = _PTR_TYPES[np.dtype(buf.dtype)]
    if spec.checks_indices:
        signature["err_ptr"] = "*i32"
    for name in spec.arg_names:
        if name.endswith("_ptr"):
            continue
        if name in spec.constexprs:
            signature[name] = "constexpr"
            constexprs[name] = int(blocks[name])
        else:
            signature[name] = int_type
    return signature, constexprs


def compile_for_target(kernel, blocks: dict, target=None, int_type: str = "i64", num_warps: int = 4,
                       num_stages: int = 3):
    """Compile `kernel` (a TritonKernel imported in compiled mode) for `target`
    (default Hopper sm_90) with the given constexpr block sizes. Returns the
    CompiledKernel (``.asm`` holds "ttir", "ptx", "cubin", ...)."""
    import triton
    from triton.compiler import ASTSource
    target = hopper_target() if target is None else target
    signature, constexprs = signature_for(kernel.spec, blocks, int_type)
    fn = kernel.fn
    try:
        src = ASTSource(fn, signature=signature, constexprs=constexprs)
    except TypeError:               # older API (Triton < 3.2): constants=
        src = ASTSource(fn, signature={k: v for k, v in signature.items() if v != "constexpr"},
                        constants=constexprs)
    return triton.compile(src, target=target, options={"num_warps": num_warps, "num_stages": num_stages})


_CHILD = r"""
import json, os, sys
os.environ.pop("TRITON_INTERPRET", None)
from tracejit.codegen import files
from tracejit.codegen.triton_aot import compile_for_target
from tracejit.codegen.triton_aot import spec_from_json
job = json.loads(sys.stdin.read())
results = []
for item in job:
    try:
        module = files.import_module(item["path"])
        class K: pass
        k = K(); k.fn = getattr(module, item["fn"]); k.spec = spec_from_json(item["spec"])
        blocks = dict(item["blocks"])
        warps = int(blocks.pop("num_warps", 4))
        stages = int(blocks.pop("num_stages", 3))
        compiled = compile_for_target(k, blocks, int_type=blocks.pop("int_type", "i64"), num_warps=warps,
                                      num_stages=stages)
        ptx = compiled.asm.get("ptx", "")
        results.append({"ok": True, "ptx": len(ptx), "cubin": len(compiled.asm.get("cubin", b"")),
                        "async_copies": ptx.count("cp.async")})
    except Exception as exc:
        results.append({"ok": False, "error": f"{type(exc).__name__}: {exc}"[:4000]})
print(json.dumps(results))
"""


class _Buf:
    def __init__(self, name, dtype, shape):
        self.name, self.dtype, self.shape = name, np.dtype(dtype), tuple(shape)


def spec_from_json(data: dict):
    from .triton_dialect import KernelSpec
    data = dict(data)
    for key in ("inputs", "outputs"):
        data[key] = [_Buf(b["name"], b["dtype"], b["shape"]) for b in data[key]]
    return KernelSpec(**data)


def _spec_json(spec) -> dict:
    bufs = lambda bs: [{"name": b.name, "dtype": np.dtype(b.dtype).str, "shape": list(b.shape)} for b in bs]
    return {"kind": spec.kind, "fn_name": spec.fn_name, "inputs": bufs(spec.inputs),
            "outputs": bufs(spec.outputs), "size_names": list(spec.size_names),
            "extents": list(spec.extents), "constexprs": list(spec.constexprs), "strides": list(spec.strides),
            "errors": [list(e) for e in spec.errors]}


def compile_in_subprocess(kernels_and_blocks, timeout: float = 300) -> list:
    """Compile [(TritonKernel, blocks)] for Hopper in a fresh non-interpreter process.
    `blocks` holds the constexpr values and optionally "num_warps", "num_stages" and "int_type"
    ("i32" | "i64": the type of every int argument; default "i64").
    Returns one dict per kernel: {"ok": True, "ptx": n, "cubin": n, "async_copies": n} or {"ok": False,
    "error": text}."""
    job = [{"path": str(k.path), "fn": k.spec.fn_name, "spec": _spec_json(k.spec), "blocks": blocks}
           for k, blocks in kernels_and_blocks]
    child = _CHILD
    env = dict(os.environ)
    env.pop("TRITON_INTERPRET", None)
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.run([sys.executable, "-c", child], input=json.dumps(job), capture_output=True,
                          text=True, timeout=timeout, env=env)
    if proc.returncode != 0:
        raise RuntimeError(f"AOT compile process failed:\n{proc.stderr[-4000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])
