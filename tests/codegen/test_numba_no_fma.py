"""The vector math on a CPU without fused multiply-add: in a subprocess with
NUMBA_CPU_NAME=generic (baseline x86-64: SSE2, no FMA) numba_eft picks Dekker's
two_prod and an unfused multiply-add, and every helper that uses them (the near-range float32 sin/cos too) keeps its
accuracy bound (within 1 ulp of correctly rounded) and still vectorizes."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.codegen.ulp import HAS_LONG_DOUBLE

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

SCRIPT = r"""
import json
import numpy as np
from tracejit.codegen import numba_eft as E, numba_math as M, numba_pow as P, numba_trig as T
from tracejit.codegen import numba_trig_near as N
from tests.codegen.ulp import apply, correctly_rounded, is_vectorized, random_bits, ulps, vector_loop_ir
rng = np.random.default_rng(5)
worst = {}
for dt in ("float32", "float64"):
    x = np.concatenate([random_bits(dt, 20000, rng), rng.uniform(-10, 10, 20000).astype(dt)])
    for module, op in ((T, "sin"), (T, "tan"), (T, "arctan"), (M, "exp2"), (M, "log1p")):
        got = apply(getattr(module, module.VECTOR_MATH[(op, dt)]), x)
        worst[op + "_" + dt] = float(ulps(got, correctly_rounded(op, x)).max())
    b = np.exp(rng.uniform(-80, 80, 20000)).astype(dt)
    y = (rng.uniform(-80, 80, 20000) / np.log(b.astype(np.float64))).astype(dt)
    got = apply(getattr(P, P.VECTOR_MATH[("pow", dt)]), b, y)
    worst["pow_" + dt] = float(ulps(got, correctly_rounded("power", b, y)).max())
for dt, top in (("float32", 1.6e7), ("float64", 1e6)):
    x = np.concatenate([rng.uniform(-top, top, 20000), rng.uniform(-10, 10, 20000)]).astype(dt)
    for op in ("sin", "cos"):
        got = apply(getattr(N, N.NEAR_MATH[(op, dt)]), x)
        worst[op + "_near_" + dt] = float(ulps(got, correctly_rounded(op, x)).max())
print(json.dumps({"fma": E.HAS_FMA, "dekker": E.two_prod is E.two_prod_dekker, "worst": worst,
                  "wide_powers": P.cube_f32 is P._cube_f32_wide and P.pow4_f32 is P._pow4_f32_wide,
                  "small_is_near": N.sin_f32_small is N.sin_f32_near and N.cos_f32_small is N.cos_f32_near
                                   and N.small_key_f32 is N.far_key_f32,
                  "vectorized": is_vectorized(vector_loop_ir(T.sin_f64, "float64"))}))
"""


@pytest.mark.skipif(not HAS_LONG_DOUBLE, reason="needs an extended long double for the reference")
def test_without_fma_the_helpers_keep_their_bounds():
    env = dict(os.environ, NUMBA_CPU_NAME="generic", PYTHONPATH=ROOT)
    env.pop("NUMBA_CPU_FEATURES", None)
    done = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert not result["fma"] and result["dekker"] and result["wide_powers"] and result["small_is_near"]
    assert max(result["worst"].values()) <= 1, result["worst"]
    assert result["vectorized"]
