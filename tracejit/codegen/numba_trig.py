"""Vectorizable sin, cos, tan and arctan for the Numba kernels (float32 and float64).

Why: ``np.sin`` in a Numba loop is a libm call, and one opaque call keeps LLVM from
vectorizing the whole loop. These helpers are arithmetic, selects, bit operations and
loads from constant tables only, so LLVM inlines and vectorizes them (see
numba_math.py for the same design of exp/log).

Range reduction (sin, cos, tan). One path for every finite input, no branch:
Payne-Hanek reduction by pi/2. For x = m 2^q, only x * (2/pi) mod 4 matters; the bits
of 2/pi worth 2^(2-q) or more only add multiples of 4. A constant table holds, for each
exponent, the bits of 2/pi that matter, split in float64 pieces
(``math_constants.reduction_table``); ``two_prod`` gives each product x * piece exactly
as a double-double, integer parts are dropped exactly with ``rint``, and the fractions
are added with error-free sums. The result is the quadrant n and r = x - (4k + n) pi/2
in [-pi/4, pi/4]:

- float64: four 53-bit pieces (212 bits), r to ~2^-150 absolute (a float64 comes no
  closer than ~2^-61 to a multiple of pi/2); ~70 flops and four table loads;
- float32 (reduced in float64): two pieces (106 bits) are enough, because a float32
  comes no closer than 2^-29.9 quadrants to a multiple of pi/2 (measured over all of
  them: scripts/float32_reduction_worst_case.py), so r keeps >= 48 bits; ~20 flops.

So sin(1e300) and sin(3.4e38f) are as accurate as sin(1). Why not Cody-Waite for
ordinary arguments and this only for huge ones: vectorized code evaluates both sides
of a select, so two paths cost their sum; one table path is cheaper than that (and
an ``if`` around the slow path stops LLVM from vectorizing the loop at all).

Polynomials: minimax fits from ``scripts/fit_math.py`` (Remez in long double against
Taylor series; coefficients rounded one at a time): sin r = r + r^3 S(r^2) and
cos r = 1 - r^2/2 + r^4 C(r^2) on |r| <= pi/4, relative errors 2^-57.9 and 2^-64;
atan t = t + t^3 A(t^2) on |t| <= 7/16, 2^-57.7. float64 sin/cos evaluate the low
part of r and the rounding of 1 - r^2/2 exactly (one final rounding); tan is the
double-double quotient of the two.

Accuracy (tests/codegen/test_numba_trig.py, against long double libm, over every
exponent of both signs, subnormals, multiples of pi/2 and huge arguments):

- float32: computed in float64 (errors ~2^-50 relative) and rounded once: at most
  1 ulp from the correctly rounded result, and equal to it on every one of the ~700k
  test inputs of each function (huge arguments and the worst case included).
- float64: sin, cos, tan, arctan within 1 ulp of the correctly rounded result
  (~0.5-0.6 ulp of error: one final rounding plus ~2^-57 of polynomial error);
  huge arguments also checked against exact arithmetic.

Special values as NumPy: NaN -> NaN, sin/cos/tan(+-inf) = NaN, sin/tan/arctan keep the
sign of zero, arctan(+-inf) = +-pi/2.
"""
from __future__ import annotations

import numba
import numpy as np

from .math_constants import atan_fixed, nearest, pi_fixed, reduction_table
from .numba_eft import fast_two_sum, fmadd, two_prod, two_sum
from .numba_math import f32_bits, f64_bits
from .vector_math_names import VECTOR_MATH as VECTOR_MATH_NAMES

_JIT = dict(nogil=True, cache=True, error_model="numpy", forceinline=True)   # LLVM alwaysinline

# Numba's disk cache of this module's functions does not notice a change in the
# modules they call: these are the versions (numba_math.source_version) this file was
# checked against. tests/codegen/test_numba_trig.py fails when one differs; updating
# the hash here changes this file, which invalidates the stale cache entries.
BUILT_ON = {"math_constants": "4ce45765dbbd", "numba_eft": "9784a65ce58a", "numba_math": "f4f4ffe1d620", "vector_math_names": "ab8f62af50fa"}

_N = 300
_PIO2_HI, _PIO2_LO = nearest(pi_fixed(_N), _N + 1, 2)
_TABLE64 = reduction_table(971, 4, 53, scale_from=501, scale=600)
_TABLE32 = reduction_table(104, 2, 53)
_ROWS64 = _TABLE64.shape[0] // 4 - 1
_ROWS32 = _TABLE32.shape[0] // 2 - 1
_TWO_M600 = 2.0 ** -600
_TINY64 = 2.0 ** -26            # below: sin x = tan x = x and cos x = 1 after rounding

# sin r = r + r^3 S(r^2), cos r = 1 - r^2/2 + r^4 C(r^2)  (scripts/fit_math.py)
_S0, _S1, _S2, _S3, _S4, _S5 = (
    -0.1666666666666663, 0.008333333333321796, -0.00019841269829292248,
    2.7557313506595936e-06, -2.5050728184806555e-08, 1.5895012636936353e-10)
_C0, _C1, _C2, _C3, _C4, _C5 = (
    0.0416666666666666, -0.0013888888888874476, 2.480158728967353e-05,
    -2.755731440168644e-07, 2.087572937463132e-09, -1.1359939127069955e-11)


# ---------------------------------------------------------------------------
# range reduction
# ---------------------------------------------------------------------------

@numba.njit(**_JIT)
def _mod4(i):
    """i mod 4 in [0, 4) for an integer-valued float64 (exact; no int conversion,
    which AVX2 cannot vectorize for float64)."""
    return i - 4.0 * np.floor(i * 0.25)


@numba.njit(**_JIT)
def _reduce_f64(a):
    """(n, r, rl): a = (4k + n) pi/2 + r + rl, n in {0, 1, 2, 3} as a float, |r| <=
    pi/4, for a finite float64 a >= 2^-26 (other inputs: any finite garbage)."""
    q = ((f64_bits(a) >> np.int64(52)) & np.int64(0x7FF)) - np.int64(1075)   # a = m 2^q
    row = min(max(q - np.int64(2), np.int64(0)), np.int64(_ROWS64)) * np.int64(4)
    xs = a * _TWO_M600 if q >= np.int64(501) else a       # rows from q = 501 are x 2^600
    p0, e0 = two_prod(xs, _TABLE64[row])
    p1, e1 = two_prod(xs, _TABLE64[row + np.int64(1)])
    p2, e2 = two_prod(xs, _TABLE64[row + np.int64(2)])
    p3 = xs * _TABLE64[row + np.int64(3)]
    # |p0| < 2^55, |e0|, |p1| < 4: drop their integer parts (exactly)
    i0 = np.rint(p0)
    i1 = np.rint(e0)
    i2 = np.rint(p1)
    s, u1 = two_sum(p0 - i0, e0 - i1)
    s, u2 = two_sum(s, p1 - i2)
    i3 = np.rint(s)
    s = s - i3
    # the 2^-51 level, then the 2^-104 level (error ~2^-157)
    b, v1 = two_sum(u1, u2)
    b, v2 = two_sum(b, e1)
    b, v3 = two_sum(b, p2)
    c = ((v1 + v2) + v3) + (e2 + p3)
    h, lo = two_sum(s, b)
    lo = lo + c
    i4 = np.rint(h)
    h = h - i4
    n = _mod4(_mod4(i0) + _mod4(i1) + _mod4(i2) + i3 + i4)
    r, rl = two_prod(h, _PIO2_HI)
    rl = rl + (h * _PIO2_LO + lo * _PIO2_HI)
    r, rl = fast_two_sum(r, rl)
    return n, r, rl


@numba.njit(**_JIT)
def _reduce_f32(x, a):
    """(n, r): a = (4k + n) pi/2 + r to ~2^-78 absolute, |r| <= pi/4, for a = |x| in
    float64 of a finite float32 x (subnormals and zero included). Two 53-bit pieces
    of 2/pi suffice: x has 24 bits and comes no closer than 2^-29.9 quadrants to a
    multiple of pi/2 (scripts/float32_reduction_worst_case.py), so r keeps >= 48 bits."""
    q = ((f32_bits(x) >> np.int32(23)) & np.int32(0xFF)) - np.int32(150)   # x = m 2^q, m < 2^24
    row = min(max(q - np.int32(2), np.int32(0)), np.int32(_ROWS32)) * np.int32(2)
    p0, e0 = two_prod(a, _TABLE32[row])              # |p0| < 2^26, |e0| < 2^-27
    p1 = a * _TABLE32[row + np.int32(1)]             # < 2^-25, rounding error < 2^-78
    i0 = np.rint(p0)
    s, u = two_sum(p0 - i0, e0 + p1)
    i1 = np.rint(s)
    return _mod4(_mod4(i0) + i1), ((s - i1) + u) * _PIO2_HI


# ---------------------------------------------------------------------------
# kernels on [-pi/4, pi/4]
# ---------------------------------------------------------------------------

@numba.njit(**_JIT)
def _sin_cos_kernel(r, rl):
    """(sin hi, sin lo, cos hi, cos lo) of r + rl, |r| <= pi/4, |rl| <= ulp(r):
    each pair is the value to ~2^-60 relative, the hi part its rounding."""
    z, zl = two_prod(r, r)                             # r^2 = z + zl exactly
    hz = 0.5 * z
    s = fmadd(z, fmadd(z, fmadd(z, fmadd(z, fmadd(z, _S5, _S4), _S3), _S2), _S1), _S0)
    ts = (z * r) * s + (rl - rl * hz)                   # sin(r + rl) ~ sin r + rl cos r
    sh = r + ts
    sl = ts - (sh - r)
    c = fmadd(z, fmadd(z, fmadd(z, fmadd(z, fmadd(z, _C5, _C4), _C3), _C2), _C1), _C0)
    w = 1.0 - hz
    tc = ((1.0 - w) - hz) + ((z * z) * c - (0.5 * zl + r * rl))   # (1-w)-hz: w's rounding
    ch = w + tc
    cl = tc - (ch - w)
    return sh, sl, ch, cl


# ---------------------------------------------------------------------------
# float64
# ---------------------------------------------------------------------------

@numba.njit(**_JIT)
def sin_from_quadrant(x, a, n, sh, ch):
    """sin x for a finite float64 x = +-a, a = (4k + n) pi/2 + r, from sin r and cos r
    (numba_trig_near's float64 sin ends the same way)."""
    v = ch if (n == 1.0) | (n == 3.0) else sh
    v = -v if n >= 2.0 else v
    v = a if a < _TINY64 else v
    return -v if f64_bits(x) < np.int64(0) else v


@numba.njit(**_JIT)
def cos_from_quadrant(a, n, sh, ch):
    """cos x for a finite float64 x = +-a, a = (4k + n) pi/2 + r, from sin r and cos r."""
    v = sh if (n == 1.0) | (n == 3.0) else ch
    v = -v if (n == 1.0) | (n == 2.0) else v
    return 1.0 if a < _TINY64 else v


@numba.njit(**_JIT)
def sin_f64(x):
    """np.sin for float64 (within 1 ulp of correctly rounded, every finite input)."""
    a = abs(x)
    n, r, rl = _reduce_f64(a)
    sh, sl, ch, cl = _sin_cos_kernel(r, rl)
    v = sin_from_quadrant(x, a, n, sh, ch)
    v = np.nan if a == np.inf else v
    return x if x != x else v


@numba.njit(**_JIT)
def cos_f64(x):
    """np.cos for float64 (within 1 ulp of correctly rounded, every finite input)."""
    a = abs(x)
    n, r, rl = _reduce_f64(a)
    sh, sl, ch, cl = _sin_cos_kernel(r, rl)
    v = cos_from_quadrant(a, n, sh, ch)
    v = np.nan if a == np.inf else v
    return x if x != x else v


@numba.njit(**_JIT)
def tan_f64(x):
    """np.tan for float64: sin/cos (even quadrants) or -cos/sin (odd) as a
    double-double quotient (within 1 ulp of correctly rounded)."""
    a = abs(x)
    n, r, rl = _reduce_f64(a)
    sh, sl, ch, cl = _sin_cos_kernel(r, rl)
    odd = (n == 1.0) | (n == 3.0)
    nh = ch if odd else sh
    nl = cl if odd else sl
    dh = -sh if odd else ch
    dl = -sl if odd else cl
    q = nh / dh
    qd, qe = two_prod(q, dh)
    rem = ((nh - qd) - qe) + (nl - q * dl)             # nh - qd is exact (Sterbenz)
    v = q + rem / dh
    v = a if a < _TINY64 else v
    v = -v if f64_bits(x) < np.int64(0) else v
    v = np.nan if a == np.inf else v
    return x if x != x else v


# ---------------------------------------------------------------------------
# float32: reduced and evaluated in float64, rounded once
# ---------------------------------------------------------------------------

@numba.njit(**_JIT)
def sin_f32(x):
    """np.sin for float32 (float64 inside; 1 final rounding)."""
    xd = np.float64(x)
    n, r = _reduce_f32(x, abs(xd))
    sh, sl, ch, cl = _sin_cos_kernel(r, 0.0)
    v = ch if (n == 1.0) | (n == 3.0) else sh
    v = -v if n >= 2.0 else v
    v = -v if f64_bits(xd) < np.int64(0) else v
    y = np.float32(v)
    y = np.float32(np.nan) if abs(x) == np.float32(np.inf) else y
    return x if x != x else y


@numba.njit(**_JIT)
def cos_f32(x):
    """np.cos for float32 (float64 inside; 1 final rounding)."""
    xd = np.float64(x)
    n, r = _reduce_f32(x, abs(xd))
    sh, sl, ch, cl = _sin_cos_kernel(r, 0.0)
    v = sh if (n == 1.0) | (n == 3.0) else ch
    v = -v if (n == 1.0) | (n == 2.0) else v
    y = np.float32(v)
    y = np.float32(np.nan) if abs(x) == np.float32(np.inf) else y
    return x if x != x else y


@numba.njit(**_JIT)
def tan_f32(x):
    """np.tan for float32 (float64 sin/cos quotient; 1 final rounding)."""
    xd = np.float64(x)
    n, r = _reduce_f32(x, abs(xd))
    sh, sl, ch, cl = _sin_cos_kernel(r, 0.0)
    v = -ch / sh if (n == 1.0) | (n == 3.0) else sh / ch
    v = -v if f64_bits(xd) < np.int64(0) else v
    y = np.float32(v)
    y = np.float32(np.nan) if abs(x) == np.float32(np.inf) else y
    return x if x != x else y


# ---------------------------------------------------------------------------
# arctan: atan|x| = atan c + atan((|x| - c) / (1 + c|x|)), c in {0, 1/2, 1, 3/2, inf}
# ---------------------------------------------------------------------------

_ATAN_HALF = nearest(atan_fixed(1, 2, _N), _N, 2)
_ATAN_ONE = nearest(pi_fixed(_N), _N + 2, 2)                                  # pi/4
_ATAN_3HALF = nearest(pi_fixed(_N) - 2 * atan_fixed(2, 3, _N), _N + 1, 2)    # pi/2 - atan(2/3)
_ATAN_INF = (_PIO2_HI, _PIO2_LO)
_A = (-0.33333333333332915, 0.1999999999987204, -0.1428571427208896, 0.11111110386294297,
      -0.09090886624890801, 0.07691867880191898, -0.06660986256009466, 0.058329909183934936,
      -0.04974491060167538, 0.03647619460857488, -0.016230517584430216)
_A0, _A1, _A2, _A3, _A4, _A5, _A6, _A7, _A8, _A9, _A10 = _A


@numba.njit(**_JIT)
def _atan_abs(a):
    """atan(a) for float64 a >= 0 (or NaN), to ~0.6 ulp: |t| <= 7/16 after the shift."""
    r1 = a < 0.4375
    r2 = a < 0.6875
    r3 = a < 1.1875
    far = not (a < 2.4375)
    c = 0.0 if r1 else (0.5 if r2 else (1.0 if r3 else 1.5))
    hi = 0.0 if r1 else (_ATAN_HALF[0] if r2 else (_ATAN_ONE[0] if r3 else _ATAN_3HALF[0]))
    lo = 0.0 if r1 else (_ATAN_HALF[1] if r2 else (_ATAN_ONE[1] if r3 else _ATAN_3HALF[1]))
    num = -1.0 if far else a - c                       # a - c is exact in its range
    den = a if far else 1.0 + c * a
    hi = _ATAN_INF[0] if far else hi
    lo = _ATAN_INF[1] if far else lo
    t = num / den
    z = t * t
    p = fmadd(z, _A10, _A9)
    p = fmadd(z, p, _A8)
    p = fmadd(z, p, _A7)
    p = fmadd(z, p, _A6)
    p = fmadd(z, p, _A5)
    p = fmadd(z, p, _A4)
    p = fmadd(z, p, _A3)
    p = fmadd(z, p, _A2)
    p = fmadd(z, p, _A1)
    p = fmadd(z, p, _A0)
    return hi + (lo + (t + t * z * p))


@numba.njit(**_JIT)
def arctan_f64(x):
    """np.arctan for float64 (within 1 ulp of correctly rounded)."""
    y = np.copysign(_atan_abs(abs(x)), x)
    return x if x != x else y


@numba.njit(**_JIT)
def arctan_f32(x):
    """np.arctan for float32 (the float64 helper, rounded once)."""
    xd = np.float64(x)
    y = np.float32(np.copysign(_atan_abs(abs(xd)), xd))
    return x if x != x else y


VECTOR_MATH = VECTOR_MATH_NAMES["numba_trig"]     # (op, dtype) -> function defined above
