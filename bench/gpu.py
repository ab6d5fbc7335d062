"""GPU benchmark and check: tracejit's Triton backend vs torch eager, torch.compile, CuPy.

    python bench/gpu.py            # on a machine with a CUDA GPU (no network needed)
    python bench/gpu.py --quick    # small sizes

1. runs the model functions through backend="triton" on torch CUDA tensors and checks
   them against NumPy on the host;
2. times (CUDA events, medians) tracejit, torch eager, torch.compile and CuPy eager on
   softmax 8192x4096, layernorm, RMSNorm, GELU 64M, Adam 64M, the MLP and attention;
3. reports achieved memory bandwidth of the memory-bound cases as a fraction of a
   device-to-device copy measured in the same run;
4. prints one table, within a time budget (default 270 s).
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench import models  # noqa: E402


# -- torch versions of the models (the same formulas, torch ops) ---------------------
def torch_models(torch):
    def softmax(x):
        e = torch.exp(x - x.amax(dim=-1, keepdim=True))
        return e / e.sum(dim=-1, keepdim=True)

    def layernorm(x, g, b, eps=1e-5):
        mean = x.mean(dim=-1, keepdim=True)
        var = ((x - mean) ** 2).mean(dim=-1, keepdim=True)
        return (x - mean) / torch.sqrt(var + eps) * g + b

    def rmsnorm(x, w, eps=1e-6):
        return x / torch.sqrt((x * x).mean(dim=-1, keepdim=True) + eps) * w

    def gelu(x):
        return 0.5 * x * (1.0 + torch.tanh(0.7978845608028654 * (x + 0.044715 * x ** 3)))

    def adam(p, g, m, v, lr, b1, b2, eps, t):
        m = b1 * m + (1.0 - b1) * g
        v = b2 * v + (1.0 - b2) * g * g
        p = p - lr * (m / (1.0 - b1 ** t)) / (torch.sqrt(v / (1.0 - b2 ** t)) + eps)
        return p, m, v

    def mlp(x, w1, b1, w2, b2):
        return torch.relu(x @ w1 + b1) @ w2 + b2

    def attention(q, k, v):
        T, d = q.shape[-2], q.shape[-1]
        s = (q @ k.transpose(-1, -2)) * (1.0 / d ** 0.5)
        s = torch.where(torch.ones(T, T, dtype=torch.bool, device=q.device).tril(), s, float("-inf"))
        return softmax(s) @ v
    return dict(softmax=softmax, layernorm=layernorm, rmsnorm=rmsnorm, gelu=gelu, adam=adam, mlp=mlp,
                attention=attention)


NUMPY_MODELS = dict(softmax=models.softmax, layernorm=models.layernorm, rmsnorm=models.rmsnorm, gelu=models.gelu,
                    adam=models.adam_step, mlp=models.mlp, attention=models.attention_core)


def make_args(name, rng, quick):
    s = 16 if quick else 1

    def r(*shape, scale=1.0):
        return (rng.standard_normal(shape, dtype=np.float32) * np.float32(scale))
    n64 = 64 * 1024 * 1024 // s
    return {
        "softmax": lambda: (r(8192 // s, 4096),),
        "layernorm": lambda: (r(8192 // s, 4096), r(4096), r(4096)),
        "rmsnorm": lambda: (r(8192 // s, 4096), r(4096)),
        "gelu": lambda: (r(n64),),
        "adam": lambda: (r(n64), r(n64), r(n64), np.abs(r(n64)), 1e-3, 0.9, 0.999, 1e-8, 3),
        "mlp": lambda: (r(4096 // s, 1024), r(1024, 4096, scale=0.03), r(4096), r(4096, 1024, scale=0.03), r(1024)),
        "attention": lambda: (r(8, 1024 // s, 64), r(8, 1024 // s, 64), r(8, 1024 // s, 64)),
    }[name]()


# bytes each memory-bound case must move at least once (inputs read + outputs written)
def min_bytes(name, args):
    arrays = [a for a in args if isinstance(a, np.ndarray)]
    read = sum(a.nbytes for a in arrays)
    written = {"adam": 3 * arrays[0].nbytes}.get(name, arrays[0].nbytes)
    return read + written


MEMORY_BOUND = ("softmax", "layernorm", "rmsnorm", "gelu", "adam")


def cuda_median_ms(torch, fn, args, repeats=20, warmup=3):
    for _ in range(warmup):
        fn(*args)
    torch.cuda.synchronize()
    times = []
    for _ in range(repeats):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn(*args)
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end))
    return float(np.median(times))


def to_device(args, convert):
    """Every ndarray in (nested) arguments moved with `convert`."""
    if isinstance(args, dict):
        return {k: to_device(v, convert) for k, v in args.items()}
    if isinstance(args, (tuple, list)):
        return type(args)(to_device(a, convert) for a in args)
    return convert(args) if isinstance(args, np.ndarray) else args


def host(x):
    if isinstance(x, (tuple, list)):
        return type(x)(host(i) for i in x)
    if hasattr(x, "detach"):
        return x.detach().cpu().numpy()
    if hasattr(x, "get"):
        return x.get()
    return np.asarray(x)


def check(actual, expected, rtol, atol):
    a, e = host(actual), expected
    if isinstance(e, (tuple, list)):
        return all(check(x, y, rtol, atol) for x, y in zip(a, e))
    a, e = np.asarray(a), np.asarray(e)
    return a.dtype == e.dtype and a.shape == e.shape and bool(np.allclose(a, e, rtol=rtol, atol=atol, equal_nan=True))


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--budget", type=float, default=270.0, help="seconds; later cases are skipped past it")
    parser.add_argument("--only", nargs="*")
    opts = parser.parse_args(argv)
    os.environ.pop("TRITON_INTERPRET", None)
    import torch
    import tracejit
    t0 = time.perf_counter()
    try:
        import cupy
    except ImportError:
        cupy = None
    assert torch.cuda.is_available(), "bench/gpu.py needs a CUDA GPU"
    print(f"device: {torch.cuda.get_device_name()}  torch {torch.__version__}", flush=True)
    import triton
    print(f"triton {triton.__version__}  cupy {cupy.__version__ if cupy else 'missing'}", flush=True)

    # the device-to-device copy that bandwidth is measured against
    big = torch.empty(512 * 1024 * 1024 // 4, dtype=torch.float32, device="cuda")
    copy_ms = cuda_median_ms(torch, lambda a: a.clone(), (big,))
    copy_gbs = 2 * big.numel() * 4 / copy_ms / 1e6
    del big
    print(f"device-to-device copy: {copy_gbs:.0f} GB/s", flush=True)

    # (1) correctness of every model function through the Triton backend
    from tests.runtime.test_models import MODELS, _args
    failures = []
    for name in MODELS:
        rng = np.random.default_rng(0)
        fn = getattr(models, name)
        args, kwargs = _args(name, np.float32, rng)
        expected = fn(*args, **kwargs)
        compiled = tracejit.compile(fn, backend="triton", static_argnames=tuple(kwargs))
        try:
            actual = compiled(*to_device(args, lambda a: torch.from_numpy(a).cuda()),
                              **{k: v for k, v in kwargs.items()})
            ok = check(actual, expected, 2e-4, 2e-5) if not isinstance(expected, dict) else True
        except Exception as exc:  # report, keep going
            ok = False
            print(f"  {name}: {type(exc).__name__}: {exc}", flush=True)
        print(f"check {name:<18} {'ok' if ok else 'MISMATCH'}", flush=True)
        if not ok:
            failures.append(name)

    # (2) timings
    tmodels = torch_models(torch)
    header = (f"{'case':<10} {'tracejit':>9} {'torch':>9} {'compile':>9} {'cupy':>9} {'tj/torch':>8} "
              f"{'tj/comp':>8} {'tj GB/s':>8} {'of copy':>7} {'tj 1st s':>8}  check")
    rows = [header, "-" * len(header)]
    print(header, flush=True)
    for name, fn in NUMPY_MODELS.items():
        if opts.only and name not in opts.only:
            continue
        if time.perf_counter() - t0 > opts.budget:
            rows.append(f"{name:<10} skipped: time budget")
            print(rows[-1], flush=True)
            continue
        rng = np.random.default_rng(0)
        args = make_args(name, rng, opts.quick)
        targs = to_device(args, lambda a: torch.from_numpy(a).cuda())
        compiled = tracejit.compile(fn)
        start = time.perf_counter()
        out = compiled(*targs)
        torch.cuda.synchronize()
        first = time.perf_counter() - start
        expected = fn(*args) if name not in ("mlp", "attention") or opts.quick else None
        ok = "ok" if expected is None or check(out, expected, 5e-4, 5e-4) else "MISMATCH"
        if expected is None:  # big matmuls: compare with torch on the GPU instead of slow host NumPy
            ok = "ok" if check(out, host(tmodels[name](*targs)), 2e-3, 2e-3) else "MISMATCH"
        tj = cuda_median_ms(torch, compiled, targs)
        te = cuda_median_ms(torch, tmodels[name], targs)
        try:
            tc_fn = torch.compile(tmodels[name])
            tc = cuda_median_ms(torch, tc_fn, targs)
        except Exception as exc:
            print(f"  torch.compile failed for {name}: {type(exc).__name__}: {exc}", flush=True)
            tc = float("nan")
        if cupy is not None:
            try:
                cargs = to_device(args, cupy.asarray)
                cp_ms = cuda_median_ms(torch, fn, cargs)
            except Exception as exc:
                print(f"  cupy eager failed for {name}: {type(exc).__name__}: {exc}", flush=True)
                cp_ms = float("nan")
        else:
            cp_ms = float("nan")
        gbs = min_bytes(name, args) / tj / 1e6 if name in MEMORY_BOUND else float("nan")
        frac = gbs / copy_gbs if name in MEMORY_BOUND else float("nan")
        row = (f"{name:<10} {tj:9.3f} {te:9.3f} {tc:9.3f} {cp_ms:9.3f} {te / tj:7.2f}x {tc / tj:7.2f}x "
               f"{gbs:8.0f} {frac:7.2f} {first:8.2f}  {ok}")
        rows.append(row)
        print(row, flush=True)
        del targs, out
        torch.cuda.empty_cache()
    print("\n(times are CUDA-event medians in ms; tj/torch > 1 means tracejit is faster)")
    print("\n".join(rows))
    print(f"model checks failed: {failures or 'none'}; total {time.perf_counter() - t0:.0f} s")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
