"""Issue 9's rule for small inputs: never slower than NumPy on a step where NumPy takes
0.1-1 ms. Model steps sized so, each run eagerly and compiled in this process.

    python -m bench.small_steps [--repeats N]

Rows: a small MLP's training step (512x64 -> 256 -> 10, forward, backward and SGD, the
issue's own case), 20 steps of logistic regression by gradient descent in a Python
loop, 40 steps of least squares by gradient descent (whose a.T @ a runs once: the loop's
invariant work is hoisted), a GPT block (2x64 tokens, C=128), layernorm and softmax of a small batch, an Adam
update of 100k parameters, 10 Jacobi sweeps on 128x128, and a k-means assignment and
update step. Columns: NumPy and tracejit medians (microseconds) and NumPy / tracejit (above
1: tracejit is faster). A row whose NumPy time falls outside 0.1-1 ms is marked: the
rule is about that range. Medians over alternating rounds of repeats, in one process:
the ratios hold on a shared machine, the times do not.
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import tracejit  # noqa: E402
from bench import models  # noqa: E402
from bench.timing import interleaved_medians_us  # noqa: E402


def mlp_train_step(x, labels, w1, b1, w2, b2, lr):
    """One SGD step of a ReLU MLP with softmax cross-entropy; returns the new weights and the loss."""
    h = np.maximum(x @ w1 + b1, 0.0)
    logits = h @ w2 + b2
    logits = logits - logits.max(axis=1, keepdims=True)
    p = np.exp(logits)
    p /= p.sum(axis=1, keepdims=True)
    n = x.shape[0]
    loss = -np.log(p[np.arange(n), labels]).mean()
    d_logits = p.copy()
    d_logits[np.arange(n), labels] -= 1.0
    d_logits /= n
    d_w2 = h.T @ d_logits
    d_b2 = d_logits.sum(axis=0)
    d_h = (d_logits @ w2.T) * (h > 0)
    d_w1 = x.T @ d_h
    d_b1 = d_h.sum(axis=0)
    return w1 - lr * d_w1, b1 - lr * d_b1, w2 - lr * d_w2, b2 - lr * d_b2, loss


def logistic_regression(w, x, y, lr):
    for _ in range(20):
        p = 1 / (1 + np.exp(-(x @ w)))
        w = w - lr * (x.T @ (p - y)) / len(y)
    return w


def least_squares_descent(a, b, w, lr):
    for _ in range(40):
        w = w - lr * ((a.T @ a) @ w - a.T @ b)      # a.T @ a and a.T @ b: the same every step
    return w


def jacobi(u, steps):
    u = u.copy()
    for _ in range(steps):
        u[1:-1, 1:-1] = 0.25 * (u[:-2, 1:-1] + u[2:, 1:-1] + u[1:-1, :-2] + u[1:-1, 2:])
    return u


def kmeans_step(points, centers):
    d = ((points[:, None, :] - centers[None, :, :]) ** 2).sum(axis=-1)
    assign = d.argmin(axis=1)
    one_hot = (assign[:, None] == np.arange(centers.shape[0])[None, :]).astype(points.dtype)
    counts = one_hot.sum(axis=0)
    sums = one_hot.T @ points
    return sums / np.maximum(counts, 1.0)[:, None], assign


def gpt_block(x, params):
    return models.gpt_block(x, params, 4)


def cases():
    """name -> (function, arguments)."""
    rng = np.random.default_rng(0)
    f32 = np.float32

    def mk(*shape, scale=1.0):
        return rng.standard_normal(shape, dtype=f32) * f32(scale)
    n = 100_000
    return {
        "MLP train step 512x64->256->10": (mlp_train_step, (
            mk(512, 64), rng.integers(0, 10, 512), mk(64, 256, scale=0.1), mk(256, scale=0.1),
            mk(256, 10, scale=0.1), mk(10, scale=0.1), 0.05)),
        "logistic regression, 20 steps 4000x32": (logistic_regression, (
            np.zeros(32), rng.random((4000, 32)), (rng.random(4000) > 0.5).astype(float), 0.1)),
        "least squares, 40 descent steps 500x32": (least_squares_descent, (
            rng.standard_normal((500, 32)), rng.standard_normal(500), np.zeros(32), 1e-3)),
        "GPT block 2x64, C=128": (gpt_block, (mk(2, 64, 128), models.init_gpt_params(rng, 128))),
        "layernorm 256x768": (models.layernorm, (mk(256, 768), mk(768), mk(768))),
        "softmax 512x1000": (models.softmax, (mk(512, 1000),)),
        "Adam update 100k": (models.adam_step, (mk(n), mk(n), mk(n), np.abs(mk(n)), 1e-3, 0.9, 0.999, 1e-8, 3)),
        "Jacobi 128x128, 10 sweeps": (jacobi, (rng.random((128, 128)), 10)),
        "k-means step 2000x8, k=16": (kmeans_step, (mk(2000, 8), mk(16, 8))),
    }


def rows(repeats: int):
    table = []
    for name, (fn, args) in cases().items():
        compiled = tracejit.compile(fn)
        compiled(*args)
        # NumPy and tracejit in alternating rounds: a slow spell of this shared machine
        # lands on both
        found = interleaved_medians_us({"numpy": lambda: fn(*args), "tracejit": lambda: compiled(*args)}, repeats)
        table.append((name, found["numpy"], found["tracejit"]))
    return table


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=301, help="timed calls per row and side")
    opts = parser.parse_args(argv)
    print(f"{'step':40s} {'NumPy us':>9s} {'tracejit us':>11s} {'NumPy/tracejit':>14s}")
    for name, numpy_us, tracejit_us in rows(opts.repeats):
        mark = "" if 100 <= numpy_us <= 1000 else "   (NumPy outside 0.1-1 ms)"
        print(f"{name:40s} {numpy_us:9.1f} {tracejit_us:11.1f} {numpy_us / tracejit_us:13.2f}x{mark}")


if __name__ == "__main__":
    main()
