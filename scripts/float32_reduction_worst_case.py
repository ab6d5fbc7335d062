"""Finds the float32 closest to a multiple of pi/2, measured in quadrants: the
smallest |x * 2/pi - k| over every finite float32 x (>= 2^-7; below, the value is
x * 2/pi itself). numba_trig's float32 reduction keeps 106 bits of 2/pi because of it.

    python scripts/float32_reduction_worst_case.py      # ~10 s, all 2^31 magnitudes

Method: x = m 2^q with m < 2^24, and frac(x * 2/pi) = frac(m * frac(2^q 2/pi)); with
frac(2^q 2/pi) as a 64-bit fraction F, m * F mod 2^64 is a wrapping uint64 product
(error m 2^-64 <= 2^-40, far below the result), for all 2^23 mantissas at once.
Result (2026): 2^-29.9 quadrants at x = 7.729179e+28.
"""
from __future__ import annotations

import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from tracejit.codegen.math_constants import two_over_pi_fixed  # noqa: E402


def main() -> None:
    bits = 400
    g = two_over_pi_fixed(bits)
    m = np.arange(2 ** 23, 2 ** 24, dtype=np.uint64)
    best, where = 1.0, None
    for q in range(-30, 105):                    # float32 exponents with x >= 2^-7
        frac = (g << q if q >= 0 else g >> -q) & ((1 << bits) - 1)
        v = m * np.uint64(frac >> (bits - 64))      # wraps: m F mod 2^64
        d = np.minimum(v, np.uint64(0) - v)         # distance to the nearest integer, * 2^64
        i = int(np.argmin(d))
        if float(d[i]) / 2 ** 64 < best:
            best, where = float(d[i]) / 2 ** 64, float(m[i]) * 2.0 ** q
    print(f"closest: {best:.4e} quadrants (2^{np.log2(best):.1f}) at x = {np.float32(where)!r}")


if __name__ == "__main__":
    main()
