"""GPU exploration: where tracejit's Triton time goes, and which launch configs win.

    python bench/gpu_explore.py              # on a CUDA machine, ~4 min
    python bench/gpu_explore.py --dry        # here, on NumPy arrays in Triton's interpreter

For each case of ``bench/gpu.py`` (softmax, layernorm, RMSNorm, GELU, Adam, MLP,
attention) it reports:

- one call timed alone (host dispatch included) and 20 calls back to back (the GPU's
  own time per call, once the host runs ahead);
- the CUDA time of each kernel the call launched (``torch.profiler``);
- every kernel's time under a sweep of launch configs (warps, block sizes, matmul
  tiles and stages), each checked against the default config's result.

It also times the per-call cost of a tiny function (tracejit, torch eager,
torch.compile), and our own layers of it: the compiled call, ``TritonKernel.__call__``
and Triton's launcher alone. The last lines are a short table; everything is also
written as JSON to ``$OUT/explore.json`` (or ``--json``).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.gpu import NUMPY_MODELS, make_args, min_bytes, to_device, MEMORY_BOUND  # noqa: E402

POINTWISE_SWEEP = [(b, w) for b in (1024, 2048, 4096, 8192) for w in (4, 8, 16)]
ROW_SWEEP = [1, 2, 4, 8, 16, 32]
MATMUL_SWEEP = [(64, 64, 32, 4, 3), (128, 64, 32, 4, 3), (64, 128, 32, 4, 3), (128, 128, 32, 8, 3),
                (128, 128, 16, 8, 4), (128, 128, 32, 8, 4), (128, 256, 32, 8, 3), (256, 128, 32, 8, 3),
                (128, 128, 64, 8, 3), (64, 64, 64, 4, 4)]


class Device:
    """Timing and array moves on a CUDA device (torch), or on the host (dry run)."""

    def __init__(self, dry):
        self.dry = dry
        if not dry:
            import torch
            self.torch = torch

    def put(self, args):
        if self.dry:
            return args
        return to_device(args, lambda a: self.torch.from_numpy(a).cuda())

    def sync(self):
        if not self.dry:
            self.torch.cuda.synchronize()

    def per_call_ms(self, fn, inner=20, repeats=7):
        """Median over `repeats` of (time of `inner` back-to-back calls) / inner (one
        call in a dry run: the interpreter is slow and its times mean nothing)."""
        if self.dry:
            inner = repeats = 1
        fn()
        fn()
        self.sync()
        times = []
        for _ in range(repeats):
            if self.dry:
                start = time.perf_counter()
                for _ in range(inner):
                    fn()
                times.append((time.perf_counter() - start) * 1e3 / inner)
                continue
            start, end = self.torch.cuda.Event(enable_timing=True), self.torch.cuda.Event(enable_timing=True)
            start.record()
            for _ in range(inner):
                fn()
            end.record()
            end.synchronize()
            times.append(start.elapsed_time(end) / inner)
        return float(np.median(times))

    def host_us(self, fn, calls=300):
        """Host time per call of a loop of `calls` calls (the device synced after)."""
        calls = 3 if self.dry else calls
        fn()
        self.sync()
        best = []
        for _ in range(5):
            start = time.perf_counter()
            for _ in range(calls):
                fn()
            self.sync()
            best.append((time.perf_counter() - start) * 1e6 / calls)
        return float(np.median(best))

    def close(self, a, b, tol):
        if self.dry:
            return bool(np.allclose(np.asarray(a), np.asarray(b), rtol=tol, atol=tol, equal_nan=True))
        t = self.torch
        return bool(t.allclose(a.float(), b.float(), rtol=tol, atol=tol, equal_nan=True))

    def kernel_times(self, fn, calls=5):
        """{kernel name: CUDA ms per call} from torch.profiler."""
        if self.dry:
            return {}
        from torch.profiler import ProfilerActivity, profile
        fn()
        self.sync()
        with profile(activities=[ProfilerActivity.CUDA]) as prof:
            for _ in range(calls):
                fn()
            self.sync()
        out = {}
        for event in prof.key_averages():
            total = getattr(event, "device_time_total", None) or getattr(event, "cuda_time_total", 0)
            if total:
                out[event.key[:60]] = round(total / 1e3 / calls, 4)
        return out


def first_output(out):
    return out[0] if isinstance(out, (tuple, list)) else out


def new_kernels(before):
    from tracejit.codegen import triton_backend
    return [k for key, k in triton_backend._KERNELS.items() if key not in before]


def sweep_configs(kernel):
    if kernel.spec.kind == "pointwise":
        return [{"BLOCK": b, "num_warps": w} for b, w in POINTWISE_SWEEP]
    if kernel.spec.kind == "reduction":
        return [{"num_warps": w} for w in ROW_SWEEP]
    return [{"BLOCK_M": m, "BLOCK_N": n, "BLOCK_K": k, "num_warps": w, "num_stages": s}
            for m, n, k, w, s in MATMUL_SWEEP]


def with_options(kernel, options):
    """Re-point `kernel` at pinned `options` (launcher and layout cache rebuilt)."""
    kernel.options = dict(options)
    kernel._layouts.clear()
    kernel._launcher = kernel.fn if kernel.interpret else kernel._gpu_launcher()


def explore_case(dev, name, opts, record):
    import tracejit
    fn = NUMPY_MODELS[name]
    args = make_args(name, np.random.default_rng(0), opts.dry or opts.quick)
    targs = dev.put(args)
    from tracejit.codegen import triton_backend
    before = set(triton_backend._KERNELS)
    compiled = tracejit.compile(fn, backend="triton", matmul_precision=opts.precision)
    start = time.perf_counter()
    reference = first_output(compiled(*targs))
    dev.sync()
    first_s = time.perf_counter() - start
    kernels = new_kernels(before)
    row = {"first_call_s": round(first_s, 3), "kernels": [k.name for k in kernels]}
    row["b2b_ms"] = dev.per_call_ms(lambda: compiled(*targs))
    row["single_ms"] = dev.per_call_ms(lambda: compiled(*targs), inner=1, repeats=15)
    row["kernel_ms"] = dev.kernel_times(lambda: compiled(*targs))
    if name in MEMORY_BOUND:
        row["GBps_b2b"] = round(min_bytes(name, args) / row["b2b_ms"] / 1e6, 1)
    sweeps = {}
    for kernel in kernels:
        saved = dict(kernel.options)
        results = []
        for options in sweep_configs(kernel):
            try:
                with_options(kernel, {**saved, **options})
                out = first_output(compiled(*targs))
                ok = dev.close(out, reference, 2e-3 if kernel.spec.kind == "matmul" else 1e-5)
                ms = dev.per_call_ms(lambda: compiled(*targs), inner=10, repeats=5)
                results.append((options, round(ms, 4), ok))
            except Exception as exc:  # a config Triton rejects (registers, shared memory)
                results.append((options, None, f"{type(exc).__name__}: {str(exc)[:80]}"))
        with_options(kernel, saved)
        sweeps[kernel.name] = results
        good = [r for r in results if r[1] is not None and r[2] is True]
        best = min(good, key=lambda r: r[1]) if good else None
        print(f"  {name}/{kernel.name} ({kernel.spec.kind}): best {best}", flush=True)
        for options, ms, ok in results:
            print(f"     {options} {ms} {ok}", flush=True)
    row["sweeps"] = sweeps
    record[name] = row
    print(f"{name}: single {row['single_ms']:.3f} ms, b2b {row['b2b_ms']:.3f} ms, first {first_s:.2f} s, "
          f"kernels {row['kernel_ms']}", flush=True)


def explore_overhead(dev, record):
    """Per-call cost of a tiny two-input function, and of our layers under it."""
    import tracejit
    from tracejit.codegen import triton_backend

    def tiny(x, y):
        return x * y + 1.0

    x = np.arange(1024, dtype=np.float32)
    tx, ty = dev.put((x, x + 1))
    before = set(triton_backend._KERNELS)
    compiled = tracejit.compile(tiny, backend="triton")
    compiled(tx, ty)
    kernel = new_kernels(before)[0]
    out = compiled(tx, ty)
    sizes = {name: 1024 for name in kernel.nest.sizes}
    result = {"tracejit_us": dev.host_us(lambda: compiled(tx, ty)),
              "tracejit_kw_us": dev.host_us(lambda: compiled(x=tx, y=ty)),
              "TritonKernel_call_us": dev.host_us(lambda: kernel([tx, ty], [out], sizes))}
    args, blocks, grid = kernel.launch_args([tx, ty], [out], sizes)
    launcher = kernel._launcher
    result["triton_launch_us"] = dev.host_us(lambda: launcher[grid](*args, **blocks))
    if not dev.dry:
        result["torch_eager_us"] = dev.host_us(lambda: tx * ty + 1.0)
        try:
            tc = dev.torch.compile(tiny)
            result["torch_compile_us"] = dev.host_us(lambda: tc(tx, ty))
        except Exception as exc:
            result["torch_compile_us"] = f"{type(exc).__name__}"
    record["overhead"] = result
    print("overhead (host us per call):", result, flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--dry", action="store_true", help="NumPy arrays in Triton's interpreter, tiny sizes")
    parser.add_argument("--quick", action="store_true", help="small sizes on the GPU")
    parser.add_argument("--only", nargs="*")
    parser.add_argument("--precision", default="ieee")
    parser.add_argument("--budget", type=float, default=240.0, help="seconds; later cases are skipped")
    parser.add_argument("--json", default=os.path.join(os.environ.get("OUT", "."), "explore.json"))
    opts = parser.parse_args(argv)
    if opts.dry:
        os.environ["TRITON_INTERPRET"] = "1"
        global POINTWISE_SWEEP, ROW_SWEEP, MATMUL_SWEEP
        POINTWISE_SWEEP, ROW_SWEEP, MATMUL_SWEEP = POINTWISE_SWEEP[:2], ROW_SWEEP[:2], MATMUL_SWEEP[:2]
    else:
        os.environ.pop("TRITON_INTERPRET", None)
    dev = Device(opts.dry)
    record = {}
    t0 = time.perf_counter()
    if not opts.dry:
        torch = dev.torch
        record["device"] = torch.cuda.get_device_name()
        big = torch.empty(512 * 1024 * 1024 // 4, dtype=torch.float32, device="cuda")
        copy_ms = dev.per_call_ms(lambda: big.clone(), inner=5)
        record["copy_GBps"] = round(2 * big.numel() * 4 / copy_ms / 1e6, 1)
        del big
        print(f"device {record['device']}; copy {record['copy_GBps']} GB/s", flush=True)
    explore_overhead(dev, record)
    for name in NUMPY_MODELS:
        if opts.only and name not in opts.only:
            continue
        if time.perf_counter() - t0 > opts.budget:
            print(f"{name}: skipped (time budget)", flush=True)
            continue
        try:
            explore_case(dev, name, opts, record)
        except Exception as exc:
            print(f"{name}: FAILED {type(exc).__name__}: {exc}", flush=True)
            record[name] = {"error": f"{type(exc).__name__}: {exc}"}
        print(f"  [{time.perf_counter() - t0:.0f} s]", flush=True)
    with open(opts.json, "w") as f:
        json.dump(record, f, indent=1, default=str)
    print("\ncase       single ms   b2b ms   GB/s(b2b)")
    for name in NUMPY_MODELS:
        row = record.get(name, {})
        if "b2b_ms" in row:
            print(f"{name:<10} {row['single_ms']:9.3f} {row['b2b_ms']:8.3f} {row.get('GBps_b2b', float('nan')):10}")
    print(f"total {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
