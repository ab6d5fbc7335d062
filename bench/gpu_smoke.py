"""A one-minute GPU smoke check: CuPy and torch arrays in and out, matmul precisions.

    python bench/gpu_smoke.py      # on a machine with a CUDA GPU, CuPy and torch

Checks that compiled functions take CuPy arrays and torch CUDA tensors, return the
same kind of array, and match NumPy on the host; and that the opt-in matmul
precisions (tf32, fp16) are less exact than the default while the default matches.
"""
from __future__ import annotations

import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench import models  # noqa: E402


def main():
    os.environ.pop("TRITON_INTERPRET", None)
    import cupy
    import torch
    import tracejit
    start = time.perf_counter()
    rng = np.random.default_rng(0)
    x = rng.standard_normal((300, 1000), dtype=np.float32)
    g, b = rng.standard_normal(1000, dtype=np.float32), rng.standard_normal(1000, dtype=np.float32)
    failures = []
    for label, to_device, kind in (("cupy", cupy.asarray, cupy.ndarray),
                                   ("torch", lambda a: torch.from_numpy(a).cuda(), torch.Tensor)):
        for name, args in (("softmax", (x,)), ("layernorm", (x, g, b)), ("gelu", (x,))):
            fn = getattr(models, name)
            out = tracejit.compile(fn)(*(to_device(a) for a in args))
            host = out.get() if label == "cupy" else out.cpu().numpy()
            ok = isinstance(out, kind) and host.dtype == np.float32 and \
                np.allclose(host, fn(*args), rtol=1e-4, atol=1e-5)
            print(f"{label:<6} {name:<10} -> {type(out).__module__}.{type(out).__name__}: {'ok' if ok else 'MISMATCH'}",
                  flush=True)
            if not ok:
                failures.append(f"{label} {name}")
    a = rng.standard_normal((512, 512), dtype=np.float32)
    w = rng.standard_normal((512, 512), dtype=np.float32)
    exact = a.astype(np.float64) @ w.astype(np.float64)
    ta, tw = torch.from_numpy(a).cuda(), torch.from_numpy(w).cuda()
    for precision in ("ieee", "tf32", "fp16"):
        out = tracejit.compile(lambda p, q: p @ q, matmul_precision=precision)(ta, tw).cpu().numpy()
        error = float(np.max(np.abs(out - exact)) / np.max(np.abs(exact)))
        print(f"matmul precision {precision:<5} max relative error {error:.1e}", flush=True)
        if precision == "ieee" and error > 1e-5:
            failures.append("ieee matmul")
    print(f"failures: {failures or 'none'}; {time.perf_counter() - start:.0f} s")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
