"""What a new size of a varying dimension costs: a retrace, or a shape family's rebuild.

    python -m bench.shapes [--sizes N]

A GPT block (C=64, 4 heads) called with N batch sizes, then with N sequence lengths.
The first two sizes compile; every later size is new. Per new size: the first call's
time minus the median of warm calls at that size (the extra work a new size costs),
with shape families off (``dynamic_shapes=False``: a trace, passes and codegen per
size, kernels shared) and on (default), next to jax.jit (a retrace and an XLA compile
per shape) where it is installed; and the family's rebuild alone. Medians over the
sizes, in one process: the ratios hold on a shared machine, the times do not.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import tracejit  # noqa: E402
from bench import models  # noqa: E402
from bench.timing import median_seconds  # noqa: E402

C, HEADS = 64, 4


def _shape(axis, n):
    return (n, 16, C) if axis == "batch" else (2, n, C)


def new_size_costs(call, axis, sizes, rng):
    """Per size after the first two: (first call - warm call) seconds."""
    costs = []
    for k, n in enumerate(sizes):
        x = rng.standard_normal(_shape(axis, n)).astype(np.float32)
        start = time.perf_counter()
        call(x)
        first = time.perf_counter() - start
        warm = median_seconds(lambda: call(x), 5)
        if k >= 2:
            costs.append(first - warm)
    return costs


def _jax_block(params):
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        return None
    jparams = {k: jnp.asarray(v) for k, v in params.items()}

    def block(x, p):
        def ln(x, g, b):
            mu = x.mean(-1, keepdims=True)
            var = ((x - mu) ** 2).mean(-1, keepdims=True)
            return (x - mu) / jnp.sqrt(var + 1e-5) * g + b
        B, T, _ = x.shape
        h = ln(x, p["ln1_g"], p["ln1_b"])
        q, k, v = jnp.split(h @ p["w_qkv"], 3, axis=-1)
        split = lambda t: t.reshape(B, T, HEADS, C // HEADS).transpose(0, 2, 1, 3)   # noqa: E731
        s = split(q) @ split(k).swapaxes(-1, -2) / np.sqrt(C // HEADS)
        s = jnp.where(jnp.tril(jnp.ones((T, T), bool)), s, -jnp.inf)
        w = jax.nn.softmax(s, axis=-1)
        h = x + ((w @ split(v)).transpose(0, 2, 1, 3).reshape(B, T, C)) @ p["w_attn_out"]
        m = jax.nn.gelu(ln(h, p["ln2_g"], p["ln2_b"]) @ p["w_fc"] + p["b_fc"], approximate=True)
        return h + m @ p["w_proj"] + p["b_proj"]
    jitted = jax.jit(block)
    return lambda x: jitted(x, jparams).block_until_ready()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, default=30, help="distinct sizes per dimension (default 30)")
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    params = models.init_gpt_params(rng, C)
    jax_call = _jax_block(params)
    print(f"new-size cost of a GPT block (C={C}), median over {args.sizes - 2} new sizes, ms")
    print(f"{'dimension':<10} {'retrace':>9} {'family':>9} {'rebuild':>9} {'jax.jit':>9}   traces (off / on)")
    for axis in ("batch", "sequence"):
        sizes = list(range(4, 4 + args.sizes))
        results, traces = {}, {}
        for dynamic in (False, True):
            f = tracejit.compile(models.gpt_block, static_argnames="n_head", dynamic_shapes=dynamic,
                                 recompile_limit=10 * args.sizes)
            results[dynamic] = np.median(new_size_costs(lambda x: f(x, params, HEADS), axis, sizes, rng))
            traces[dynamic] = len(f.compiles)
            if dynamic:
                families = f.families.families
                rebuild = median_seconds(lambda: families[-1].instantiate(sizes[-1] + 1), 201) \
                    if families else float("nan")
        jax_cost = np.median(new_size_costs(jax_call, axis, sizes, rng)) if jax_call else float("nan")
        print(f"{axis:<10} {results[False] * 1e3:9.3f} {results[True] * 1e3:9.3f} {rebuild * 1e3:9.3f} "
              f"{jax_cost * 1e3:9.3f}   {traces[False]} / {traces[True]}")


if __name__ == "__main__":
    main()
