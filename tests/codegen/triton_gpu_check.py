"""Run a few generated Triton kernels on a real GPU (torch CUDA tensors) and compare
with run_graph. Invoked as a script by test_triton_gpu.py in a process WITHOUT
TRITON_INTERPRET; prints one line per check and exits non-zero on a mismatch.

``--sweep`` instead times the kernels of a few bench models (GELU, Adam, softmax,
layernorm at bench sizes) under pinned launch options (block size, num_warps, one-pass
vs looping rows, int32 vs int64 index math) to tune ``triton_backend``'s tables."""
from __future__ import annotations

import os
import sys
import tempfile

os.environ.pop("TRITON_INTERPRET", None)
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from tracejit.codegen.triton_backend import compile_kernel  # noqa: E402
from tracejit.ir import GraphBuilder, TensorType, run_graph  # noqa: E402
from tracejit.ir.loopnest import lower_region  # noqa: E402


def graphs():
    rng = np.random.default_rng(0)
    b = GraphBuilder("gpu_pw")
    x = b.add_input(TensorType((300, 257), np.float32))
    ops = ["tanh", "exp", "log1p", "expm1", "sqrt", "arctan", "arcsinh", "sin"]
    yield b.finish([b.emit(op, [x]) for op in ops]), [rng.normal(size=(300, 257)).astype(np.float32)], 2e-5
    b = GraphBuilder("gpu_int")
    x = b.add_input(TensorType((1000,), np.int32))
    y = b.add_input(TensorType((1000,), np.int32))
    yield b.finish([b.emit(op, [x, y]) for op in ("floordiv", "mod", "maximum")]), \
        [rng.integers(-50, 50, 1000).astype(np.int32), rng.integers(-5, 5, 1000).astype(np.int32)], 0
    b = GraphBuilder("gpu_rows")
    x = b.add_input(TensorType((64, 3000), np.float32))
    ax = {"axes": (1,), "keepdims": True}
    mx = b.emit("reduce_max", [x], ax)
    e = b.emit("exp", [b.emit("sub", [x, mx])])
    am = b.emit("argmax", [x], {"axes": (1,), "keepdims": False})
    data = rng.normal(size=(64, 3000)).astype(np.float32)
    data[3, 7] = np.nan
    yield b.finish([b.emit("div", [e, b.emit("reduce_sum", [e], ax)]), am]), [data], 2e-5
    for dtype, tol in ((np.float32, 1e-4), (np.float64, 1e-12)):
        b = GraphBuilder("gpu_mm")
        x = b.add_input(TensorType((2, 200, 130), dtype))
        w = b.add_input(TensorType((130, 70), dtype))
        bias = b.add_input(TensorType((70,), dtype))
        mm = b.emit("matmul", [x, w])
        zero = b.emit("constant", [], {"value": 0.0, "dtype": np.dtype(dtype)})
        r = b.emit("maximum", [b.emit("add", [mm, bias]), zero])
        yield b.finish([r]), [rng.normal(size=s).astype(dtype) for s in ((2, 200, 130), (130, 70), (70,))], tol


def main() -> int:
    cache = tempfile.mkdtemp()
    failures = 0
    for graph, arrays, tol in graphs():
        nest = lower_region(graph)
        kernel = compile_kernel(nest, cache, str(graph))
        want = run_graph(graph, arrays)
        dev_in = [torch.from_numpy(np.ascontiguousarray(a)).cuda() for a in arrays]
        dev_out = [torch.empty(w.shape, dtype=torch.from_numpy(w).dtype, device="cuda") for w in want]
        kernel(dev_in, dev_out, nest.sizes)
        torch.cuda.synchronize()
        for i, (d, w) in enumerate(zip(dev_out, want)):
            got = d.cpu().numpy()
            ok = got.dtype == w.dtype and np.array_equal(np.isnan(got), np.isnan(w)) if w.dtype.kind == "f" else True
            ok = ok and np.allclose(got, w, rtol=tol, atol=tol, equal_nan=True)
            err = np.nanmax(np.abs(got.astype(np.float64) - w) / (np.abs(w) + 1e-30)) if w.size else 0
            print(f"{graph.name} out{i}: {'ok' if ok else 'MISMATCH'} max rel err {err:.3g}")
            failures += not ok
    return 1 if failures else 0


def _median_ms(fn, repeats=15):
    for _ in range(3):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(repeats):
        a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        a.record()
        fn()
        b.record()
        b.synchronize()
        times.append(a.elapsed_time(b))
    return float(np.median(times))


SWEEPS = {
    "gelu": [{}, {"BLOCK": 1024, "num_warps": 4}, {"BLOCK": 4096, "num_warps": 8},
             {"BLOCK": 2048, "num_warps": 4}, {"IDX64": 1}],
    "adam_step": [{}, {"BLOCK": 1024, "num_warps": 4}, {"BLOCK": 4096, "num_warps": 8}],
    "softmax": [{}, {"num_warps": 4}, {"num_warps": 16}, {"num_warps": 32},
                {"RBLOCK": 1024, "SINGLE_PASS": 0, "num_warps": 4}],
    "layernorm": [{}, {"num_warps": 4}, {"num_warps": 16}],
}


def sweep() -> int:
    """Time each kernel of the bench models under the option sets of SWEEPS."""
    import tracejit
    from bench import models
    from tracejit.codegen.triton_backend import compile_kernel
    rng = np.random.default_rng(0)
    r = lambda *shape: torch.from_numpy(rng.standard_normal(shape, dtype=np.float32)).cuda()  # noqa: E731
    n = 64 * 1024 * 1024
    cases = {"gelu": (r(n),), "adam_step": (r(n), r(n), r(n), r(n).abs(), 1e-3, 0.9, 0.999, 1e-8, 3),
             "softmax": (r(8192, 4096),), "layernorm": (r(8192, 4096), r(4096), r(4096))}
    copy = torch.empty(n * 4, dtype=torch.float32, device="cuda")
    copy_gbs = 2 * copy.numel() * 4 / _median_ms(lambda: copy.clone()) / 1e6
    del copy
    print(f"copy {copy_gbs:.0f} GB/s", flush=True)
    cache = tempfile.mkdtemp()
    for name, args in cases.items():
        compiled = tracejit.compile(getattr(models, name))
        compiled(*args)
        spec = compiled.specializations()[0]
        calls = []
        for step in spec.plan.steps:
            kernel = getattr(step, "kernel", None)
            if kernel is None:
                continue

            def record(i, o, s, kernel=kernel):
                calls.append((kernel, list(i), list(o), s))
                kernel(i, o, s)
            step.kernel = record
        compiled(*args)
        for kernel, ins, outs, sizes in calls:
            nbytes = sum(x.numel() * x.element_size() for x in ins + outs)
            for options in SWEEPS[name]:
                variant = compile_kernel(kernel.nest, cache, options=options)
                ms = _median_ms(lambda: variant(ins, outs, sizes))
                layout = list(variant._layouts.values())[0][1]
                gbs = nbytes / ms / 1e6
                print(f"{kernel.name:<14} {str(options):<48} {ms:8.3f} ms {gbs:6.0f} GB/s "
                      f"{gbs / copy_gbs:5.2f} of copy  {layout}", flush=True)
        del args, calls
        torch.cuda.empty_cache()
    return 0


if __name__ == "__main__":
    sys.exit(sweep() if "--sweep" in sys.argv else main())
