"""sin and cos below a limit (|x| < 2^24 for float32, 2^20 for float64): the kernels'
fast path; and float32 sin and cos below 2^16, with the reduction in float32 too: the
faster path a block of a kernel loop takes when all its arguments are that small
(see the section at the end).

Why: ``numba_trig``'s sin/cos work for every input (Payne-Hanek reduction with table
loads; float32 through float64 polynomials) and cost ~2x more. Most arguments are
small, so a Numba kernel calls these instead and reruns, with the exact helpers, only
the elements whose argument was far (``near_paths.py`` writes that loop; the
`far_key_*` functions give what it compares with 1: |x| / limit).

float32, in float32 arithmetic after a float64 reduction:

- Cody-Waite in float64 with pi/2 in three pieces: C1 and C2 of 29 bits (k * C1 and
  k * C2 exact for k < 2^24), C3 the rest rounded. For |x| < 2^24, a - k C1 is exact
  and each later step rounds once, relative to r: r has a relative error below 2^-52,
  even at the float32 closest to a multiple of pi/2 (2^-29.9 quadrants away:
  scripts/float32_reduction_worst_case.py). r is then split in two float32s, rh + rl;
- polynomials in float32 (minimax, scripts/fit_math.py --float32): sin r = r + r^3 S(z)
  and cos r = 1 - z/2 + z^2 C(z), z = rh^2, relative errors 2^-32.6 and 2^-37.2; rl
  enters both (rl in sin, -rh rl in cos) and cos adds back the rounding of 1 - z/2;
- the quadrant k mod 4 computed and compared in float32 (k < 2^24 is exact there).

Accuracy: within 1 ulp of the correctly rounded result (faithful, as NumPy's own
float32 sin/cos, which are not correctly rounded on ~15% of inputs). Measured on every
float32 in [0, 2^24) by scripts/check_float32_exhaustive.py: max 1 ulp for both, not correctly
rounded on 0.59% (sin) and 0.61% (cos) of them; ~3.5% of uniform inputs of magnitude
1-10^7 (tests/codegen/test_numba_trig_near.py samples the range).

float64: Cody-Waite in double-double with pi/2 = D1 + D2 + D3 + D4, D1-D3 of 33 bits
(k * Di exact for k < 2^20), D4 the rest: a - k D1 is exact, the next two terms are
added with error-free sums, and the result r + rl carries ~100 bits, far more than
the closest float64 below 2^20 to a multiple of pi/2 needs (no float64 comes closer
than ~2^-61 to one). Then numba_trig's double-double kernel: within 1 ulp, as the
exact helpers (sampled, including the multiples of pi/2 and their neighbours).

Special values as NumPy: NaN -> NaN, +-inf -> NaN, sin keeps the sign of zero. For
finite |x| at or above the limit the result is meaningless: the caller reruns those
with ``numba_trig``.
"""
from __future__ import annotations

from fractions import Fraction

import numba
import numpy as np

from .math_constants import pi_fixed, split, two_over_pi_fixed
from .numba_eft import HAS_FMA, fast_two_sum, fma, fmadd, two_sum
from .numba_math import bits_f32, f32_bits
from .numba_trig import _mod4, _sin_cos_kernel, cos_from_quadrant, sin_from_quadrant
from .vector_math_names import NEAR_LIMIT, SMALL_LIMIT
from .vector_math_names import NEAR_MATH as NEAR_MATH_NAMES
from .vector_math_names import SMALL_MATH as SMALL_MATH_NAMES

_JIT = dict(nogil=True, cache=True, error_model="numpy", forceinline=True)   # LLVM alwaysinline

# see numba_trig.BUILT_ON (scripts/pin_helper_versions.py keeps it current)
BUILT_ON = {"math_constants": "4ce45765dbbd", "numba_eft": "9784a65ce58a", "numba_math": "f4f4ffe1d620", "numba_trig": "70d78dafff36", "vector_math_names": "ab8f62af50fa"}

_N = 300
_C1, _C2 = split(pi_fixed(_N), _N + 1, 2, 29)                        # pi/2 = C1 + C2 + C3
_C3 = float(Fraction(pi_fixed(_N), 1 << (_N + 1)) - Fraction(_C1) - Fraction(_C2))
_TWO_OVER_PI = float(Fraction(two_over_pi_fixed(_N), 1 << _N))
_INF = np.float32(np.inf)
_KEY32 = np.float32(1.0 / NEAR_LIMIT["float32"])
_KEY64 = 1.0 / NEAR_LIMIT["float64"]
# float64: pi/2 = D1 + D2 + D3 + D4, the first three of 33 bits (k * Di exact for k < 2^20)
_D1, _D2, _D3 = split(pi_fixed(_N), _N + 1, 3, 33)
_D4 = float(Fraction(pi_fixed(_N), 1 << (_N + 1)) - Fraction(_D1) - Fraction(_D2) - Fraction(_D3))
_HALF, _ONE = np.float32(0.5), np.float32(1.0)
_I1, _I2, _I30, _SIGN = np.int32(1), np.int32(2), np.int32(30), np.int32(-2 ** 31)
_TWO_23 = np.float32(2.0 ** 23)      # k + 2^23 (exact, k < 2^23) has k in its low mantissa bits

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
    r = fmadd(-k, _C3, fmadd(-k, _C2, fmadd(-k, _C1, a)))   # k C1, k C2 exact: fused or not alike
    kf = np.float32(k)                                       # exact: k < 2^24
    n = fmadd(np.float32(-4.0), np.floor(kf * np.float32(0.25)), kf)
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
def _sin_of_quadrant(q, x, sin, cos):
    """sin x from sin and cos of its reduced argument, k mod 4 in q's low bits: the
    quadrant picks one and flips its sign bit, as does a negative x (sin(-x) = -sin(x))."""
    v = cos if (q & _I1) != np.int32(0) else sin
    return bits_f32(np.int32(f32_bits(v) ^ (((q & _I2) << _I30) ^ (f32_bits(x) & _SIGN))))


@numba.njit(**_JIT)
def _cos_of_quadrant(q, sin, cos):
    """cos x likewise (even: the sign of x plays no part)."""
    v = sin if (q & _I1) != np.int32(0) else cos
    return bits_f32(np.int32(f32_bits(v) ^ np.int32(((q + _I1) & _I2) << _I30)))


@numba.njit(**_JIT)
def sin_f32_near(x):
    """np.sin for a float32 with |x| < 2^24, NaN or +-inf (within 1 ulp; +-inf reduce to
    NaN)."""
    n, rh, rl = _reduce(x)
    sin, cos = _sin_cos(rh, rl)
    return _sin_of_quadrant(f32_bits(n + _TWO_23), x, sin, cos)


@numba.njit(**_JIT)
def cos_f32_near(x):
    """np.cos for a float32 with |x| < 2^24, NaN or +-inf (within 1 ulp)."""
    n, rh, rl = _reduce(x)
    sin, cos = _sin_cos(rh, rl)
    return _cos_of_quadrant(f32_bits(n + _TWO_23), sin, cos)


# ---------------------------------------------------------------------------
# float64: Cody-Waite in double-double, numba_trig's kernel
# ---------------------------------------------------------------------------

@numba.njit(**_JIT)
def _reduce_f64(a):
    """(n, r, rl): a = (4j + n) pi/2 + r + rl, n in {0, 1, 2, 3} as a float, for
    2^-26 <= a < 2^20; r + rl to ~2^-100 relative (see the module docstring)."""
    k = np.rint(a * _TWO_OVER_PI)
    r1 = a - k * _D1                                   # exact
    s, e1 = two_sum(r1, -k * _D2)                      # k * D2, k * D3: exact
    s, e2 = two_sum(s, -k * _D3)
    lo = (e1 + e2) - k * _D4
    r, rl = fast_two_sum(s, lo)
    return _mod4(k), r, rl


@numba.njit(**_JIT)
def sin_f64_near(x):
    """np.sin for a float64 with |x| < 2^20, NaN or +-inf (within 1 ulp)."""
    a = abs(x)
    n, r, rl = _reduce_f64(a)
    sh, sl, ch, cl = _sin_cos_kernel(r, rl)
    return sin_from_quadrant(x, a, n, sh, ch) if a < np.inf else x - x


@numba.njit(**_JIT)
def cos_f64_near(x):
    """np.cos for a float64 with |x| < 2^20, NaN or +-inf (within 1 ulp)."""
    a = abs(x)
    n, r, rl = _reduce_f64(a)
    sh, sl, ch, cl = _sin_cos_kernel(r, rl)
    return cos_from_quadrant(a, n, sh, ch) if a < np.inf else x - x


# ---------------------------------------------------------------------------
# keys: |x| / limit, 0 where x is not finite; a loop keeps the largest (a float32 max
# reduction, which vectorizes) and reruns when it reaches 1
# ---------------------------------------------------------------------------

@numba.njit(**_JIT)
def far_key_f32(x):
    """|x| / 2^24 (exact) where x is finite, else 0."""
    a = abs(x)
    return a * _KEY32 if a < _INF else np.float32(0.0)


@numba.njit(**_JIT)
def far_key_f64(x):
    """|x| / 2^20 as a float32 (rounding keeps every far key >= 1), 0 where not finite."""
    a = abs(x)
    return np.float32(a * _KEY64) if a < np.inf else np.float32(0.0)


# ---------------------------------------------------------------------------
# float32 below 2^16: the reduction in float32 arithmetic as well (FMA machines)
# ---------------------------------------------------------------------------
# pi/2 = P1 + P2 + P3 + ..., P1 and P2 of 24 bits (truncated), P3 the rest rounded. With
# k = rint(a 2/pi), a - k P1 is exact by one FMA (a and k P1 lie on the 2^-23 grid of
# [1, 2) or on a finer one, and the difference is below 2 in magnitude); k P2 = ph + pe
# exactly (FMA), (a - k P1) - ph = s + se exactly (two_sum), and se - pe - k P3 adds the
# rest: about k 2^-70 absolute error, against |r| >= 2^-27.9 for every float32 below
# 2^16 (the closest to a multiple of pi/2 is 252.89821, 2^-28.5 quadrants away:
# scripts/float32_reduction_worst_case.py 16). k may be off by one where a 2/pi lies
# within ~2^-9 of a half-integer, so |r| <= pi/4 + 2^-8; the polynomials hold there.
# The quadrant and signs as integer bits. Checked on every float32 below 2^16
# (scripts/check_float32_exhaustive.py sin_small cos_small): within 1 ulp.
_P1, _P2 = (np.float32(p) for p in split(pi_fixed(_N), _N + 1, 2, 24))
_P3 = np.float32(float(Fraction(pi_fixed(_N), 1 << (_N + 1)) - Fraction(float(_P1)) - Fraction(float(_P2))))
_TWO_OVER_PI_F32 = np.float32(_TWO_OVER_PI)
_SMALL_KEY = np.float32(1.0 / SMALL_LIMIT["float32"])


@numba.njit(**_JIT)
def _reduce_small(x):
    """(q, rh, rl): |x| = k pi/2 + rh + rl with k mod 4 the low bits of the int32 q, for
    |x| < 2^16 (NaN for NaN and +-inf, whose q is then meaningless)."""
    a = abs(x)
    k = np.rint(a * _TWO_OVER_PI_F32)
    r1 = fma(-k, _P1, a)                     # exact
    ph = k * _P2
    pe = fma(k, _P2, -ph)                    # k P2 = ph + pe
    s, se = two_sum(r1, -ph)
    rh, rl = fast_two_sum(s, fma(-k, _P3, se - pe))
    return f32_bits(k + _TWO_23), rh, rl          # k's low bits, no conversion of NaN to int


@numba.njit(**_JIT)
def _sin_f32_small(x):
    q, rh, rl = _reduce_small(x)
    sin, cos = _sin_cos(rh, rl)
    return _sin_of_quadrant(q, x, sin, cos)


@numba.njit(**_JIT)
def _cos_f32_small(x):
    q, rh, rl = _reduce_small(x)
    sin, cos = _sin_cos(rh, rl)
    return _cos_of_quadrant(q, sin, cos)


@numba.njit(**_JIT)
def _small_key_f32(x):
    """|x| / 2^16 (exact) where x is finite, else 0."""
    a = abs(x)
    return a * _SMALL_KEY if a < _INF else np.float32(0.0)


# np.sin / np.cos for a float32 with |x| < 2^16, NaN or +-inf (within 1 ulp), and the
# key of x; without FMA these are the near ones and their key (the FMA steps above
# would be libm calls)
sin_f32_small = _sin_f32_small if HAS_FMA else sin_f32_near
cos_f32_small = _cos_f32_small if HAS_FMA else cos_f32_near
small_key_f32 = _small_key_f32 if HAS_FMA else far_key_f32

NEAR_MATH = NEAR_MATH_NAMES["numba_trig_near"]       # (op, dtype) -> function defined above
SMALL_MATH = SMALL_MATH_NAMES["numba_trig_near"]
