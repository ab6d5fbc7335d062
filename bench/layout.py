"""Ops over transposed views: computed in the operand's memory order, or in tiles.

    python -m bench.layout [--n N]

float32 N x N (default 4096). Each case next to eager NumPy and, where installed,
jax.jit of the same function; medians of repeats in one process (ratios hold on a
shared machine, times do not). The copy of one N x N array is the floor.
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import tracejit  # noqa: E402
from bench.timing import median_ms  # noqa: E402

CASES = {
    "x.T * 2 + 1": (lambda x, y: x.T * 2 + 1, "passes/layout.py: one kernel in memory order"),
    "x.T.sum(axis=1)": (lambda x, y: x.T.sum(axis=1), "passes/layout.py: x.sum(axis=0)"),
    "x + x.T": (lambda x, y: x + x.T, "32 x 32 tiles"),
    "x.T + y": (lambda x, y: x.T + y, "32 x 32 tiles"),
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=4096)
    parser.add_argument("--repeats", type=int, default=9)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    x, y = (rng.standard_normal((args.n, args.n)).astype(np.float32) for _ in range(2))
    out = np.empty_like(x)
    print(f"copy floor: {median_ms(lambda: np.copyto(out, x), args.repeats):.2f} ms")
    jax = None
    if importlib.util.find_spec("jax") is not None:
        import jax
        import jax.numpy as jnp
        jx, jy = jnp.asarray(x), jnp.asarray(y)
    print(f"{'case':<18}{'numpy ms':>10}{'jax.jit ms':>12}{'tracejit ms':>13}   how")
    for name, (fn, how) in CASES.items():
        compiled = tracejit.compile(fn)
        got, want = compiled(x, y), fn(x, y)
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-3)     # column sums: NumPy float32 errors
        numpy_ms = median_ms(lambda: fn(x, y), args.repeats)
        ours = median_ms(lambda: compiled(x, y), args.repeats)
        peer = "-"
        if jax is not None:
            jitted = jax.jit(fn)
            peer = f"{median_ms(lambda: jitted(jx, jy).block_until_ready(), args.repeats):.2f}"
        print(f"{name:<18}{numpy_ms:>10.2f}{peer:>12}{ours:>13.2f}   {how}")


if __name__ == "__main__":
    main()
