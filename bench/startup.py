"""Start-up latency of a GPT-style block (9 kernels): what a new process pays.

    python -m bench.startup

Each row runs in a fresh Python process: `import tracejit` alone; the block's first
call with an empty kernel cache (cold) and with the cache filled by an earlier process
(warm), each split into tracejit's reported stages; the cold first call with
``background_compile=True``; and jax.jit's first call of the same function (``np``
bound to ``jax.numpy``) where jax is installed. Medians of 3 processes, milliseconds.
A warm first call runs the kernels' stored native code without importing Numba
(``tracejit/codegen/native_cache.py``).
"""
from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

_BLOCK = """
import json, sys, time
t0 = time.perf_counter()
import numpy as np
t_numpy = time.perf_counter()
{import_line}
t_import = time.perf_counter()
sys.path.insert(0, {root!r})
from bench.models import gpt_block, init_gpt_params
rng = np.random.default_rng(0)
x = rng.random((1, 64, 128), dtype=np.float32)
params = init_gpt_params(rng, 128)
{call}
print(json.dumps(dict(numpy_import=(t_numpy - t0) * 1e3, import_ms=(t_import - t_numpy) * 1e3, **row)))
"""

_TRACEJIT_CALL = """
f = tracejit.compile(gpt_block, static_argnames=("n_head",), background_compile={background})
t = time.perf_counter(); f(x, params, n_head=4); first = time.perf_counter() - t
row = dict(first_ms=first * 1e3, stages={{k: v * 1e3 for k, v in f.compiles[0].stages.items()}} if not {background}
           else {{}})
"""

_JAX_CALL = """
import types, functools
import bench.models as models
ns = dict(models.__dict__, np=jnp)
def rebound(f):
    return types.FunctionType(f.__code__, ns, f.__name__, f.__defaults__)
fn = rebound(gpt_block)
for name in ("layernorm", "causal_attention", "gelu", "softmax"):
    ns[name] = rebound(getattr(models, name))
jitted = jax.jit(fn, static_argnames=("n_head",))
t = time.perf_counter(); jax.block_until_ready(jitted(x, params, n_head=4)); first = time.perf_counter() - t
row = dict(first_ms=first * 1e3, stages={})
"""


def _run(code: str, cache_dir: str) -> dict:
    env = dict(os.environ, TRACEJIT_CACHE_DIR=cache_dir)
    env.pop("PYTHONDONTWRITEBYTECODE", None)    # Python's own bytecode cache on, as users have it
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT,
                         timeout=600)
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-2000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def _median(rows, key):
    values = sorted(r[key] for r in rows)
    return values[len(values) // 2]


def measure(repeats: int = 3) -> dict:
    tracejit_code = _BLOCK.format(import_line="import tracejit", root=ROOT,
                                  call=_TRACEJIT_CALL.format(background=False))
    background_code = _BLOCK.format(import_line="import tracejit", root=ROOT,
                                    call=_TRACEJIT_CALL.format(background=True))
    cold, warm, background = [], [], []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as cache:
            cold.append(_run(tracejit_code, cache))
            warm.append(_run(tracejit_code, cache))
        with tempfile.TemporaryDirectory() as cache:
            background.append(_run(background_code, cache))
    result = {"import tracejit": _median(cold, "import_ms"),
              "cold first call": _median(cold, "first_ms"), "warm first call": _median(warm, "first_ms"),
              "cold first call, background_compile": _median(background, "first_ms"),
              "cold stages": cold[len(cold) // 2]["stages"], "warm stages": warm[len(warm) // 2]["stages"]}
    if importlib.util.find_spec("jax") is None:
        return result
    jax_code = _BLOCK.format(import_line="import jax, jax.numpy as jnp", root=ROOT, call=_JAX_CALL)
    with tempfile.TemporaryDirectory() as cache:
        rows = [_run(jax_code, cache) for _ in range(repeats)]
    result["import jax"] = _median(rows, "import_ms")
    result["jax.jit first call"] = _median(rows, "first_ms")
    return result


def main():
    result = measure()
    for key, value in result.items():
        if isinstance(value, dict):
            print(f"{key:<40} " + ", ".join(f"{k} {v:.0f}" for k, v in value.items()))
        else:
            print(f"{key:<40} {value:8.0f} ms")


if __name__ == "__main__":
    main()
