"""float32 sin and cos in float32 arithmetic, for |x| < 2^24: the kernels' fast path.

Why: ``numba_trig``'s float32 sin/cos work for every input (Payne-Hanek reduction,
float64 polynomials) and cost ~2.3x more. Most arguments are small, so a Numba kernel
calls these instead and reruns, with the exact helpers, only the elements whose
argument was far (``near_paths.py`` writes that loop; `far_key_f32` is what it
compares with NEAR_LIMIT_F32).

Method:

- reduction in float64, Cody-Waite with pi/2 in three pieces: C1 and C2 of 29 bits
  (so k * C1 and k * C2 are exact for k < 2^24), C3 the rest rounded. For |x| < 2^24,
  a - k C1 is exact and each later step rounds once, relative to r: r has a relative
  error below 2^-52, even at the float32 closest to a multiple of pi/2 (2^-29.9
  quadrants away: scripts/float32_reduction_worst_case.py). r is then split in two
  float32s, rh + rl;
- polynomials in float32 (minimax, scripts/fit_math.py --float32): sin r = r + r^3 S(z)
  and cos r = 1 - z/2 + z^2 C(z), z = rh^2, relative errors 2^-32.6 and 2^-37.2; rl
  enters both (rl in sin, -rh rl in cos) and cos adds back the rounding of 1 - z/2;
- the quadrant k mod 4 in float64, then compared as float32.

Accuracy: within 1 ulp of the correctly rounded result (faithful, as NumPy's own
float32 sin/cos, which are not correctly rounded on ~15% of inputs). Measured on every
float32 in [0, 2^24) by scripts/check_near_trig.py: max 1 ulp for both, not correctly
rounded on 0.59% (sin) and 0.61% (cos) of them; ~3.5% of uniform inputs of magnitude
1-10^7 (tests/codegen/test_numba_trig_near.py samples the range). Special values as
NumPy: NaN -> NaN, +-inf -> NaN, sin keeps the sign of zero. For finite |x| >= 2^24
the result is meaningless: the caller reruns those with ``numba_trig``.
"""
from __future__ import annotations

from fractions import Fraction

import numba
import numpy as np

from .math_constants import pi_fixed, split, two_over_pi_fixed
from .numba_eft import fmadd
from .numba_math import f32_bits
from .vector_math_names import NEAR_MATH as NEAR_MATH_NAMES

_JIT = dict(nogil=True, cache=True, error_model="numpy", forceinline=True)   # LLVM alwaysinline

# see numba_trig.BUILT_ON (scripts/pin_helper_versions.py keeps it current)
BUILT_ON = {"math_constants": "4ce45765dbbd", "numba_eft": "9784a65ce58a", "numba_math": "7d7dd28b7b48", "vector_math_names": "611685fa015a"}

_N = 300
_C1, _C2 = split(pi_fixed(_N), _N + 1, 2, 29)                        # pi/2 = C1 + C2 + C3
_C3 = float(Fraction(pi_fixed(_N), 1 << (_N + 1)) - Fraction(_C1) - Fraction(_C2))
_TWO_OVER_PI = float(Fraction(two_over_pi_fixed(_N), 1 << _N))
_INF = np.float32(np.inf)
_HALF, _ONE, _TWO, _THREE = np.float32(0.5), np.float32(1.0), np.float32(2.0), np.float32(3.0)

# sin r = r + r^3 S(z), cos r = 1 - z/2 + z^2 C(z), z = r^2 (scripts/fit_math.py --float32)
_S0, _S1, _S2, _S3 = (np.float32(-0.16666667), np.float32(0.00833338),
                      np.float32(-0.00019853513), np.float32(2.8375428e-06))
_K0, _K1, _K2, _K3 = (np.float32(0.041666668), np.float32(-0.0013888982),
                      np.float32(2.4822986e-05), np.float32(-2.8977647e-07))


@numba.njit(**_JIT)
def _reduce(x):
    """(n, rh, rl): |x| = (4j + n) pi/2 + rh + rl, n in {0, 1, 2, 3} as a float32,
    |rh + rl| <= pi/4, for |x| < 2^24 (other inputs: finite or NaN garbage)."""
    a = abs(np.float64(x))
    k = np.rint(a * _TWO_OVER_PI)
    r = (a - k * _C1) - k * _C2
    r = r - k * _C3
    n = np.float32(k - 4.0 * np.floor(k * 0.25))
    rh = np.float32(r)
    return n, rh, np.float32(r - np.float64(rh))


@numba.njit(**_JIT)
def _sin_cos(rh, rl):
    """(sin, cos) of rh + rl, |rh| <= pi/4 (float32, before the final roundings' worth
    of error: each within ~0.6 ulp)."""
    z = rh * rh
    s = fmadd(z, fmadd(z, fmadd(z, _S3, _S2), _S1), _S0)
    sin = rh + (rl + (rh * z) * s)
    hz = _HALF * z
    w = _ONE - hz
    c = fmadd(z, fmadd(z, fmadd(z, _K3, _K2), _K1), _K0)
    cos = w + ((((_ONE - w) - hz) + (z * z) * c) - rh * rl)     # (1 - w) - hz: w's rounding
    return sin, cos


@numba.njit(**_JIT)
def sin_f32_near(x):
    """np.sin for a float32 with |x| < 2^24, NaN or +-inf (within 1 ulp)."""
    n, rh, rl = _reduce(x)
    sin, cos = _sin_cos(rh, rl)
    v = cos if (n == _ONE) | (n == _THREE) else sin
    v = -v if (n >= _TWO) != (f32_bits(x) < np.int32(0)) else v
    return v if abs(x) < _INF else x - x


@numba.njit(**_JIT)
def cos_f32_near(x):
    """np.cos for a float32 with |x| < 2^24, NaN or +-inf (within 1 ulp)."""
    n, rh, rl = _reduce(x)
    sin, cos = _sin_cos(rh, rl)
    v = sin if (n == _ONE) | (n == _THREE) else cos
    v = -v if (n == _ONE) | (n == _TWO) else v
    return v if abs(x) < _INF else x - x


@numba.njit(**_JIT)
def far_key_f32(x):
    """|x| where it is finite, else 0: a loop keeps the largest (a max reduction, which
    vectorizes) and compares it with the limit once."""
    a = abs(x)
    return a if a < _INF else np.float32(0.0)


NEAR_MATH = NEAR_MATH_NAMES["numba_trig_near"]       # (op, dtype) -> function defined above
