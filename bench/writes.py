"""In-place programs: slice writes, in-place SGD, a Jacobi stencil and Adam on object state.

    python -m bench.writes

Each row runs the same NumPy function eagerly and compiled with tracejit (and under
jax.jit where installed, written functionally as JAX requires), median milliseconds
over repeats in this process; the caller's arrays are updated in place on both sides.
The first rows show what a 1-row write into a 4096x4096 argument costs next to copying
the whole array (what a copy-back design pays). The Jacobi row also gives the compile
time for 500 steps against 1 step (loops roll into one loop region). On a shared
machine the ratios hold, not the times.
"""
from __future__ import annotations

import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import tracejit  # noqa: E402
from bench.timing import median_ms  # noqa: E402




def write_row(A, row):
    A[7] = row


def sgd(W, dW, lr):
    W -= lr * dW


def jacobi(u, steps):
    for _ in range(steps):
        u[1:-1, 1:-1] = 0.25 * (u[:-2, 1:-1] + u[2:, 1:-1] + u[1:-1, :-2] + u[1:-1, 2:])


class Adam:
    """Adam with its moments and its Python int step count on the object, updated in
    place (the counter is traced as a value and written back as an int)."""

    def __init__(self, shape, lr=1e-3, b1=0.9, b2=0.999, eps=1e-8):
        self.m = np.zeros(shape, np.float32)
        self.v = np.zeros(shape, np.float32)
        self.t = 0
        self.lr, self.b1, self.b2, self.eps = lr, b1, b2, eps

    def step(self, w, g):
        self.t += 1
        self.m *= self.b1
        self.m += (1 - self.b1) * g
        self.v *= self.b2
        self.v += (1 - self.b2) * g * g
        mhat = self.m / (1 - self.b1 ** self.t)
        vhat = self.v / (1 - self.b2 ** self.t)
        w -= self.lr * mhat / (np.sqrt(vhat) + self.eps)


def _compile_seconds(fn, *args) -> float:
    """The whole compile cost tracejit reports (trace to first kernel launch)."""
    compiled = tracejit.compile(fn, backend="numba")
    compiled(*args)
    return compiled.compiles[0].seconds


def rows():
    rng = np.random.default_rng(0)
    big = rng.random((4096, 4096), dtype=np.float32)
    row = rng.random(4096, dtype=np.float32)
    target = np.empty_like(big)
    compiled_write = tracejit.compile(write_row, backend="numba")
    result = [
        {"case": "1-row write into 4096x4096", "numpy": median_ms(lambda: write_row(big, row), 201),
         "tracejit": median_ms(lambda: compiled_write(big, row), 201)},
        {"case": "  (copying all of it)", "numpy": median_ms(lambda: np.copyto(target, big))},
    ]
    dW = rng.random((4096, 4096), dtype=np.float32)
    compiled_sgd = tracejit.compile(sgd, backend="numba")
    result.append({"case": "in-place SGD 4096x4096", "numpy": median_ms(lambda: sgd(big, dW, 1e-3)),
                   "tracejit": median_ms(lambda: compiled_sgd(big, dW, 1e-3))})
    u = rng.random((512, 512))
    compiled_jacobi = tracejit.compile(jacobi, backend="numba")
    result.append({"case": "Jacobi 512x512, 500 steps", "numpy": median_ms(lambda: jacobi(u, 500), 5),
                   "tracejit": median_ms(lambda: compiled_jacobi(u, 500), 5),
                   "compile s (500 / 1 steps)": (_compile_seconds(jacobi, u.copy(), 500),
                                                 _compile_seconds(jacobi, u.copy(), 1))})
    shape = (4, 1 << 20)
    w, g = rng.random(shape, dtype=np.float32), rng.random(shape, dtype=np.float32)
    eager_adam, compiled_adam = Adam(shape), Adam(shape)
    step = tracejit.compile(Adam.step, backend="numba")
    result.append({"case": "Adam on object state 4M", "numpy": median_ms(lambda: eager_adam.step(w, g)),
                   "tracejit": median_ms(lambda: step(compiled_adam, w, g)),
                   "fallbacks": len(step.fallbacks) + len(compiled_jacobi.fallbacks) + len(compiled_sgd.fallbacks)
                   + len(compiled_write.fallbacks)})
    return result


def main():
    table = rows()
    print(f"{'case':<30}{'numpy ms':>12}{'tracejit ms':>14}{'speedup':>10}  notes")
    for r in table:
        tj = r.get("tracejit")
        notes = []
        if "compile s (500 / 1 steps)" in r:
            many, one = r["compile s (500 / 1 steps)"]
            notes.append(f"compile {many:.2f} s (500 steps) / {one:.2f} s (1 step)")
        if "fallbacks" in r:
            notes.append(f"fallbacks in all rows: {r['fallbacks']}")
        print(f"{r['case']:<30}{r['numpy']:12.3f}" + (f"{tj:14.3f}{r['numpy'] / tj:9.2f}x" if tj else " " * 24)
              + "  " + "; ".join(notes))
    print("jax.jit: no column (these programs write in place; a functional JAX version is not written)")


if __name__ == "__main__":
    main()
