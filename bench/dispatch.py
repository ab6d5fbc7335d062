"""Per-call overhead of a compiled function on tiny inputs, where dispatch dominates.

    python -m bench.dispatch

Rows: positional calls with 1, 3 and 6 array arguments, the same calls with keywords,
and a method of a model object holding 100 weight attributes (each guarded). Columns:
eager NumPy, tracejit, and jax.jit where it is installed, median microseconds per call
over many repeats in this process, the columns of a row timed in alternating rounds. On a shared machine the ratios hold, not the times.
"""
from __future__ import annotations

import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import tracejit  # noqa: E402
from bench.timing import interleaved_medians_us, median_us  # noqa: E402




def f1(a):
    return a * 2.0


def f3(a, b, c):
    return a * b + c


def f6(a, b, c, d, e, f):
    return a * b + c * d + e * f


class Model:
    """100 weight attributes, all read by the method."""

    def __init__(self):
        for i in range(100):
            setattr(self, f"w{i}", np.full(4, 0.01 * i, np.float32))

    def forward(self, x):
        h = x
        for i in range(100):
            h = h + getattr(self, f"w{i}")
        return h


def _jax():
    try:
        import jax
        import jax.numpy as jnp
        return jax, jnp
    except ImportError:
        return None, None


def rows():
    x = np.ones(4, np.float32)
    args = [np.full(4, float(k), np.float32) for k in range(6)]
    names = "abcdef"
    jax, jnp = _jax()
    result = []
    for label, fn, n in (("1 arg", f1, 1), ("3 args", f3, 3), ("6 args", f6, 6)):
        compiled = tracejit.compile(fn)
        call = args[:n]
        kwargs = dict(zip(names, call))
        calls = {"numpy": lambda: fn(*call), "tracejit": lambda: compiled(*call),
                 "tracejit keywords": lambda: compiled(**kwargs)}
        if jax is not None:
            jitted = jax.jit(fn)
            jcall = [jnp.asarray(a) for a in call]
            calls["jax.jit"] = lambda: jitted(*jcall).block_until_ready()
        row = {"case": label, **interleaved_medians_us(calls)}
        result.append(row)
    model = Model()
    method = tracejit.compile(Model.forward)
    result.append({"case": "100-attribute model", "numpy": median_us(lambda: model.forward(x), 501),
                   "tracejit": median_us(lambda: method(model, x), 501)})
    return result


def main():
    table = rows()
    columns = ["numpy", "tracejit", "tracejit keywords", "jax.jit"]
    print(f"{'case':<22}" + "".join(f"{c + ' us':>22}" for c in columns))
    for row in table:
        print(f"{row['case']:<22}" + "".join(f"{row[c]:22.1f}" if c in row else f"{'-':>22}" for c in columns))


if __name__ == "__main__":
    main()
