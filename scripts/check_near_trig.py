"""Checks numba_trig_near's float32 sin and cos on every float32 below 2^24 against
the correctly rounded result (long double libm), and prints the worst error and how
often the result is not the correctly rounded one. Negative inputs follow by symmetry
(the helpers reduce |x| and set the sign exactly).

    python scripts/check_near_trig.py            # ~1.3e9 inputs per function, minutes

The tests (tests/codegen/test_numba_trig_near.py) sample the same range; this is the
exhaustive run behind the bound the module docstring states.
"""
from __future__ import annotations

import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tests.codegen.ulp import apply, correctly_rounded, ulps  # noqa: E402
from tracejit.codegen import numba_trig_near as N  # noqa: E402

LIMIT_BITS = int(np.float32(2.0 ** 24).view(np.uint32))
CHUNK = 1 << 24


def main() -> None:
    for op, helper in (("sin", N.sin_f32_near), ("cos", N.cos_f32_near)):
        worst, worst_x, inexact, total = 0.0, 0.0, 0, 0
        for lo in range(0, LIMIT_BITS, CHUNK):
            x = np.arange(lo, min(lo + CHUNK, LIMIT_BITS), dtype=np.uint32).view(np.float32)
            err = ulps(apply(helper, x), correctly_rounded(op, x))
            k = int(np.argmax(err))
            if err[k] > worst:
                worst, worst_x = float(err[k]), float(x[k])
            inexact += int(np.count_nonzero(err))
            total += x.size
        print(f"{op}: {total} inputs in [0, 2^24): max {worst:g} ulp (at {worst_x!r}), "
              f"not correctly rounded {inexact / total:.4%}")


if __name__ == "__main__":
    main()
