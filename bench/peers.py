"""The CPU table of issue 10: NumPy, jax.jit, torch.compile and tracejit on the same
functions in one process, next to floors measured in the same run.

    python -m bench --peers            # full sizes (a few minutes on 2 cores)
    python -m bench --peers --quick    # small sizes, to check the script
    python -m bench --peers --plot bench/peers.png

Peers run the very same Python function: jax.jit gets it with ``np`` bound to
``jax.numpy`` (JAX cannot trace NumPy calls), torch.compile gets it unchanged (it traces
NumPy calls itself). A peer that is not installed, or fails on a case, shows "-".

Floors: memory-bound cases move `bytes` at the copy bandwidth measured here
(``np.copyto`` of 128 MiB: one read and one write per byte copied); matmul cases run
at the SGEMM rate measured here (``np.matmul`` of two 2048x2048 float32 matrices).
Times are medians of repeats, float32, milliseconds; on a shared machine compare
ratios, not times.
"""
from __future__ import annotations

import os
import sys
import types

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import tracejit  # noqa: E402
from bench.timing import median_ms  # noqa: E402
from bench import models  # noqa: E402


def sincos(x):
    return np.sin(x) * np.cos(x) + x * x


def adam4(p, g, m, v, lr, beta1, beta2, eps, t):
    return models.adam_step(p, g, m, v, lr, beta1, beta2, eps, t)


def gelu_erf(x):
    """The exact GELU, as BERT-style code writes it with scipy.special.erf."""
    return 0.5 * x * (1.0 + special.erf(x * 0.7071067811865476))


try:
    from scipy import special
except ImportError:          # the case is left out
    special = None




def cases(scale):
    """name -> (function, arguments, bytes moved at least, flops of its matmuls)."""
    rng = np.random.default_rng(0)

    def n(x):
        return max(8, int(x * scale))

    def mk(*shape):
        return rng.standard_normal(shape, dtype=np.float32)
    rows, cols, big = n(8192), 4096, n(32 * 1024 * 1024)
    x = mk(rows, cols)
    elems = n(16 * 1024 * 1024)
    p, g, m, v = mk(elems), mk(elems), mk(elems), np.abs(mk(elems))
    batch, hidden = n(4096), 1024
    heads, seq = 8, n(1024)
    return {
        "softmax": (models.softmax, (x,), 2 * x.nbytes, 0),
        "layernorm": (models.layernorm, (x, mk(cols), mk(cols)), 2 * x.nbytes, 0),
        "rmsnorm": (models.rmsnorm, (x, mk(cols)), 2 * x.nbytes, 0),
        "gelu": (models.gelu, (mk(big),), 2 * 4 * big, 0),
        **({"gelu-erf": (gelu_erf, (mk(big),), 2 * 4 * big, 0)} if special is not None else {}),
        "adam": (adam4, (p, g, m, v, 1e-3, 0.9, 0.999, 1e-8, 3), 7 * 4 * elems, 0),
        "sin*cos+x^2": (sincos, (mk(big),), 2 * 4 * big, 0),
        "mlp": (models.mlp, (mk(batch, hidden), mk(hidden, 4 * hidden) * np.float32(0.03), mk(4 * hidden),
                             mk(4 * hidden, hidden) * np.float32(0.03), mk(hidden)), 0,
                2 * 2 * batch * hidden * 4 * hidden),
        "attention": (models.attention_core, (mk(heads, seq, 64), mk(heads, seq, 64), mk(heads, seq, 64)), 0,
                      2 * 2 * heads * seq * seq * 64),
    }


def copy_gbps() -> float:
    src = np.ones(32 * 1024 * 1024, np.float32)
    dst = np.empty_like(src)
    ms = median_ms(lambda: np.copyto(dst, src), 9)
    return 2 * src.nbytes / (ms * 1e-3) / 1e9


def sgemm_gflops() -> float:
    a = np.ones((2048, 2048), np.float32)
    ms = median_ms(lambda: a @ a, 7)
    return 2 * 2048 ** 3 / (ms * 1e-3) / 1e9


def _jax_version(fn):
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        return None
    namespace = dict(fn.__globals__, np=jnp)
    if fn is gelu_erf:
        import jax.scipy.special
        namespace["special"] = jax.scipy.special
    as_jax = types.FunctionType(fn.__code__, namespace, fn.__name__, fn.__defaults__, fn.__closure__)
    if fn is adam4:                 # it calls models.adam_step: rebind that one as well
        inner = models.adam_step
        namespace["models"] = types.SimpleNamespace(adam_step=types.FunctionType(
            inner.__code__, dict(inner.__globals__, np=jnp), inner.__name__, inner.__defaults__))
    if fn is models.attention_core:
        namespace["softmax"] = types.FunctionType(models.softmax.__code__, dict(models.__dict__, np=jnp))
    jitted = jax.jit(as_jax)

    def run(*args):
        return jax.block_until_ready(jitted(*args))
    return run, lambda args: tuple(jnp.asarray(a) if isinstance(a, np.ndarray) else a for a in args)


def _torch_version(fn):
    try:
        import torch
    except ImportError:
        return None
    compiled = torch.compile(fn)
    return compiled, lambda args: args


def rows(scale=1.0, repeats=7, only=()):
    gbps, gflops = copy_gbps(), sgemm_gflops()
    result = []
    for name, (fn, args, moved, flops) in cases(scale).items():
        if only and name not in only:
            continue
        row = {"case": name, "numpy": median_ms(lambda: fn(*args), repeats)}
        for peer, make in (("jax.jit", _jax_version), ("torch.compile", _torch_version)):
            try:
                made = make(fn)
                if made is None:
                    continue
                run, convert = made
                peer_args = convert(args)
                row[peer] = median_ms(lambda: run(*peer_args), repeats)
            except Exception as exc:   # noqa: BLE001  (a peer that cannot run a case shows "-")
                print(f"  {peer} failed on {name}: {type(exc).__name__}: {str(exc)[:120]}", file=sys.stderr)
        compiled = tracejit.compile(fn, backend="numba")
        got, want = compiled(*args), fn(*args)
        pairs = zip(got, want) if isinstance(got, tuple) else [(got, want)]
        row["matches"] = all(np.allclose(a, b, rtol=2e-3, atol=2e-3) for a, b in pairs)
        row["tracejit"] = median_ms(lambda: compiled(*args), repeats)
        row["floor"] = moved / (gbps * 1e9) * 1e3 if moved else flops / (gflops * 1e9) * 1e3
        row["floor kind"] = "copy" if moved else "BLAS"
        result.append(row)
        print(_line(row), flush=True)
    return result, gbps, gflops


COLUMNS = ["numpy", "jax.jit", "torch.compile", "tracejit", "floor"]


def _line(row) -> str:
    cells = "".join(f"{row[c]:>17.2f}" if c in row else f"{'-':>17}" for c in COLUMNS)
    peers = [row[c] for c in ("jax.jit", "torch.compile") if c in row]
    vs = f"{min(peers) / row['tracejit']:6.2f}x" if peers else "     -"
    return (f"{row['case']:<13}{cells}  {row['tracejit'] / row['floor']:5.2f}x floor ({row['floor kind']})"
            f"  {vs} vs faster peer  {'ok' if row['matches'] else 'MISMATCH'}")


def plot(table, path) -> None:
    """Bars: each system's time as a multiple of the floor (lower is better)."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed (pip install -e .[bench]): no plot", file=sys.stderr)
        return
    systems = [c for c in COLUMNS[:-1] if any(c in r for r in table)]
    fig, ax = plt.subplots(figsize=(10, 4.5))
    width = 0.8 / len(systems)
    for k, system in enumerate(systems):
        xs = [i + k * width for i in range(len(table))]
        ys = [r[system] / r["floor"] if system in r else 0 for r in table]
        ax.bar(xs, ys, width, label=system)
    ax.axhline(1.0, color="black", linewidth=0.8)
    ax.set_xticks([i + width * (len(systems) - 1) / 2 for i in range(len(table))])
    ax.set_xticklabels([r["case"] for r in table], rotation=20)
    ax.set_yscale("log")
    ax.set_ylabel("time / floor (log; 1 = at the floor)")
    ax.set_title("CPU, float32: time as a multiple of the measured floor (lower is better)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    print(f"plot written to {path}")


def main(argv=None):
    import argparse
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (checks the script, not speed)")
    parser.add_argument("--plot", metavar="PNG", help="save a bar chart of time / floor here")
    parser.add_argument("--repeats", type=int, default=7, help="timed repeats per measurement (median)")
    parser.add_argument("--only", nargs="*", default=(), metavar="CASE", help="run only these cases")
    opts = parser.parse_args(argv)
    print(f"{'case':<13}" + "".join(f"{c + ' ms':>17}" for c in COLUMNS))
    table, gbps, gflops = rows(1 / 64 if opts.quick else 1.0, opts.repeats, tuple(opts.only))
    print(f"floors measured in this run: copy {gbps:.1f} GB/s (read + write), SGEMM {gflops:.0f} GFLOP/s")
    if opts.plot:
        plot(table, opts.plot)
    return table


if __name__ == "__main__":
    main()
