"""The quick-start demo: compile a small transformer-style layer and compare with NumPy.

Run with ``python -m tracejit.demo`` (or ``bash scripts/demo.sh``).
"""
from __future__ import annotations

import time

import numpy as np

import tracejit


def layer(x, gamma, beta, w, b):
    """LayerNorm, a dense layer with a GELU, and a residual add."""
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    h = (x - mean) / np.sqrt(var + 1e-5) * gamma + beta
    y = h @ w + b
    gelu = 0.5 * y * (1.0 + np.tanh(0.7978845608 * (y + 0.044715 * y ** 3)))
    return x + gelu


def _median_ms(fn, *args, repeats=7):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn(*args)
        times.append(time.perf_counter() - start)
    return 1e3 * sorted(times)[len(times) // 2]


def main():
    rng = np.random.default_rng(0)
    n, d = 4096, 512
    args = (rng.standard_normal((n, d), dtype=np.float32),
            rng.standard_normal(d, dtype=np.float32), rng.standard_normal(d, dtype=np.float32),
            (rng.standard_normal((d, d), dtype=np.float32) / np.sqrt(d)).astype(np.float32),
            rng.standard_normal(d, dtype=np.float32))
    compiled = tracejit.compile(layer)
    start = time.perf_counter()
    result = compiled(*args)
    first = time.perf_counter() - start
    expected = layer(*args)
    error = float(np.max(np.abs(result - expected)))
    numpy_ms = _median_ms(layer, *args)
    tracejit_ms = _median_ms(compiled, *args)
    report = tracejit.explain(compiled, *args)
    print(f"layer on x: float32[{n},{d}]  (LayerNorm -> dense+GELU -> residual)")
    print(f"  result matches NumPy: max abs error {error:.2e}, dtype {result.dtype}, shape {result.shape}")
    print(f"  first call (trace + compile): {first * 1e3:.0f} ms")
    print(f"  NumPy eager {numpy_ms:.2f} ms, tracejit {tracejit_ms:.2f} ms: {numpy_ms / tracejit_ms:.2f}x")
    print(f"  {len(report.kernels)} kernels, sources written to:")
    for kernel in report.kernels:
        print(f"    {kernel.name}: {kernel.path}")
    print("  see every stage: python -m tracejit dump tracejit/demo.py:layer "
          f"--arg f32[{n},{d}] --arg f32[{d}] --arg f32[{d}] --arg f32[{d},{d}] --arg f32[{d}]")


if __name__ == "__main__":
    main()
