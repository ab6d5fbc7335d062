"""CPU benchmark table: NumPy eager vs tracejit (Numba backend).

    python -m bench            # full sizes (several minutes on 2 cores)
    python -m bench --quick    # small sizes, to check the script itself

Columns: median time of NumPy eager and of tracejit (ms) and their ratio; tracejit's
first-call time (trace + passes + codegen + Numba compile, s); the first call in a
fresh process with a warm on-disk cache (s); per-call time on a tiny 4x4-sized input
(us) for NumPy and tracejit. Ratios are measured in one process; absolute times on a
shared machine are noisy.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import tracejit  # noqa: E402
from bench import models  # noqa: E402


def cases(scale: float):
    """name -> (function, argument maker(rng, scale), static kwargs)."""
    def n(x):
        return max(4, int(x * scale))
    f32 = np.float32

    def mk(*shape):
        return lambda rng: rng.standard_normal(shape, dtype=f32)
    return {
        "softmax": (models.softmax, lambda r: (mk(n(8192), 4096)(r),), {}),
        "layernorm": (models.layernorm, lambda r: (mk(n(8192), 4096)(r), mk(4096)(r), mk(4096)(r)), {}),
        "rmsnorm": (models.rmsnorm, lambda r: (mk(n(8192), 4096)(r), mk(4096)(r)), {}),
        "gelu": (models.gelu, lambda r: (mk(n(32 * 1024 * 1024))(r),), {}),
        "adam": (models.adam_step, lambda r: (mk(n(16 * 1024 * 1024))(r), mk(n(16 * 1024 * 1024))(r),
                                              mk(n(16 * 1024 * 1024))(r),
                                              np.abs(mk(n(16 * 1024 * 1024))(r)), 1e-3, 0.9, 0.999, 1e-8, 3),
                 {}),
        "mlp": (models.mlp, lambda r: (mk(n(4096), 1024)(r), mk(1024, 4096)(r) * f32(0.03), mk(4096)(r),
                                       mk(4096, 1024)(r) * f32(0.03), mk(1024)(r)), {}),
        "attention": (models.attention_core, lambda r: (mk(8, n(1024), 64)(r), mk(8, n(1024), 64)(r),
                                                        mk(8, n(1024), 64)(r)), {}),
    }


def tiny_args(args):
    """Arguments of the same structure with every array shrunk to at most 4 per dim."""
    return tuple(a[tuple(slice(0, 4) for _ in a.shape)].copy() if isinstance(a, np.ndarray) else a
                 for a in args)


def median_seconds(fn, args, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn(*args)
        times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2]


def warm_start_seconds(name, scale):
    """First-call time of one case in a fresh process (on-disk kernel cache warm)."""
    code = ("import sys, time, numpy as np; sys.path.insert(0, %r); from bench.run import cases; import tracejit; "
            "fn, make, _ = cases(%r)[%r]; args = make(np.random.default_rng(0)); "
            "c = tracejit.compile(fn); t = time.perf_counter(); c(*args); print(time.perf_counter() - t)"
            % (os.path.dirname(os.path.dirname(os.path.abspath(__file__))), scale, name))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=dict(os.environ))
    try:
        return float(out.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return float("nan")


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="small sizes (checks the script)")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--only", nargs="*")
    parser.add_argument("--json", help="also write the rows as JSON here")
    opts = parser.parse_args(argv)
    scale = 1 / 64 if opts.quick else 1.0
    rng = np.random.default_rng(0)
    rows = []
    header = (f"{'case':<10} {'numpy ms':>9} {'tracejit ms':>11} {'speedup':>8} {'compile s':>9} "
              f"{'warm s':>7} {'np 4x4 us':>9} {'tj 4x4 us':>9}  check")
    print(header)
    print("-" * len(header))
    for name, (fn, make, _) in cases(scale).items():
        if opts.only and name not in opts.only:
            continue
        args = make(rng)
        compiled = tracejit.compile(fn)
        start = time.perf_counter()
        result = compiled(*args)
        compile_s = time.perf_counter() - start
        expected = fn(*args)
        ok = all(np.allclose(np.asarray(a), np.asarray(b), rtol=2e-3, atol=2e-3)
                 for a, b in zip(_leaves(result), _leaves(expected)))
        t_np = median_seconds(fn, args, opts.repeats)
        t_tj = median_seconds(compiled, args, opts.repeats)
        small = tiny_args(args)
        compiled(*small)
        o_np = median_seconds(fn, small, 201)
        o_tj = median_seconds(compiled, small, 201)
        warm = warm_start_seconds(name, scale)
        row = dict(case=name, numpy_ms=t_np * 1e3, tracejit_ms=t_tj * 1e3, speedup=t_np / t_tj,
                   compile_s=compile_s, warm_s=warm, numpy_tiny_us=o_np * 1e6, tracejit_tiny_us=o_tj * 1e6,
                   kernels=len(tracejit.explain(compiled, *args).kernels), matches=ok)
        rows.append(row)
        print(f"{name:<10} {row['numpy_ms']:9.2f} {row['tracejit_ms']:11.2f} {row['speedup']:7.2f}x "
              f"{compile_s:9.2f} {warm:7.2f} {row['numpy_tiny_us']:9.1f} {row['tracejit_tiny_us']:9.1f}  "
              f"{'ok' if ok else 'MISMATCH'} ({row['kernels']} kernels)", flush=True)
    if opts.json:
        with open(opts.json, "w") as handle:
            json.dump(rows, handle, indent=1)
    return rows


def _leaves(x):
    if isinstance(x, (tuple, list)):
        return [leaf for item in x for leaf in _leaves(item)]
    return [x]


if __name__ == "__main__":
    main()
