"""Checks float32 math helpers on every float32 of their range against the correctly
rounded result (long double libm), and prints each one's worst error and how often it
is not the correctly rounded value.

    python scripts/check_float32_exhaustive.py            # all of them (~30 min on one core)
    python scripts/check_float32_exhaustive.py tanh exp   # some

Ranges: the near sin/cos on [0, 2^24) and the small ones on [0, 2^16) (the helpers
reduce |x| and set the sign exactly, so negative inputs follow); tanh on [0, 10] (odd; from 9.02 on it rounds to
1, which the helper returns from 10 on); exp on [-104, 89] (outside: 0 and inf,
chosen by the helper without computing); expm1 on the same; log on every positive
finite float32 (subnormals included); erf on [0, 4.5] (odd; 1 from 3.919206 on) against
scipy's float64 erf rounded once. The tests sample the same ranges; this is the
exhaustive run behind the bounds the module docstrings state.
"""
from __future__ import annotations

import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tests.codegen.ulp import apply, correctly_rounded, ulps  # noqa: E402
from tracejit.codegen import numba_erf as E  # noqa: E402
from tracejit.codegen import numba_math as M  # noqa: E402
from tracejit.codegen import numba_trig_near as N  # noqa: E402

CHUNK = 1 << 24


def bits(value) -> int:
    return int(np.float32(value).view(np.uint32))


def erf_rounded(x):
    """scipy's float64 erf (within an ulp of float64) rounded to float32."""
    import scipy.special
    return scipy.special.erf(x.astype(np.float64)).astype(np.float32)


# name: (helper, reference: a NumPy function's name (long double) or a function,
#        [(first bits, last bits)] inclusive)
CHECKS = {
    "sin_near": (N.sin_f32_near, "sin", [(0, bits(2.0 ** 24) - 1)]),
    "cos_near": (N.cos_f32_near, "cos", [(0, bits(2.0 ** 24) - 1)]),
    "sin_small": (N.sin_f32_small, "sin", [(0, bits(2.0 ** 16) - 1)]),
    "cos_small": (N.cos_f32_small, "cos", [(0, bits(2.0 ** 16) - 1)]),
    "tanh": (M.tanh_f32, "tanh", [(0, bits(10.0))]),
    "exp": (M.exp_f32, "exp", [(0, bits(89.0)), (bits(-0.0), bits(-104.0))]),
    "expm1": (M.expm1_f32, "expm1", [(0, bits(89.0)), (bits(-0.0), bits(-104.0))]),
    "log": (M.log_f32, "log", [(1, bits(np.finfo(np.float32).max))]),
    "erf": (E.erf_f32, erf_rounded, [(0, bits(4.5))]),
}


def check(name: str) -> None:
    helper, op, ranges = CHECKS[name]
    worst, worst_x, inexact, total = 0.0, 0.0, 0, 0
    for first, last in ranges:
        for lo in range(first, last + 1, CHUNK):
            x = np.arange(lo, min(lo + CHUNK, last + 1), dtype=np.uint32).view(np.float32)
            want = correctly_rounded(op, x) if isinstance(op, str) else op(x)
            err = ulps(apply(helper, x), want)
            k = int(np.argmax(err))
            if err[k] > worst:
                worst, worst_x = float(err[k]), float(x[k])
            inexact += int(np.count_nonzero(err))
            total += x.size
    print(f"{name}: {total} inputs: max {worst:g} ulp (at {worst_x!r}), "
          f"not correctly rounded {inexact / total:.4%}", flush=True)


if __name__ == "__main__":
    for name in sys.argv[1:] or list(CHECKS):
        check(name)
