"""Vectorizable np.power of floats for the Numba kernels (float32 and float64).

Why: ``np.power`` in a Numba loop is a libm call that keeps LLVM from vectorizing the
loop; this helper is arithmetic, selects and bit operations only (see numba_math.py).

Method: x^y = exp(y log|x|), with the sign and the special cases decided apart.
exp amplifies an absolute error d of y log|x| into a relative error d of the result,
and |y log|x|| reaches 745 before the result overflows or underflows, so log|x| is
needed to ~2^-64 relative, not 2^-53: plain float64 exp(y * log(x)) would be off by
up to hundreds of ulps. Here log|x| is a double-double (hi + lo):

- |x| = 2^e m, m in [sqrt(1/2), sqrt(2)); s = (m - 1)/(m + 1) as a double-double
  (the division's remainder from an exact product);
- log m = 2s + s^3 (2/3 + s^2 R(s^2)), R a degree-7 minimax fit of the atanh series
  tail (scripts/fit_math.py, 2^-72); s^3 and the product with (2/3 + ...) carried
  in double-double, the tail R in float64 (it is < 2e-4 of the value);
- e ln 2 with ln 2 in three parts (the first with 11 trailing zero bits: exact).

Then y log|x| as a double-double, and exp(hi + lo) = 2^k exp(r + rl), r = hi - k ln2
(Cody-Waite, exact) and 1 + r + expm1-tail(r) + rl summed so that it rounds once.
Error: ~0.5 ulp from the final rounding plus ~2^-64 |y log x| (under 0.4 ulp even at
the overflow edge); denormal results round twice (at most 1 ulp there).

float32 needs less: |y log x| < ~104 before a float32 result overflows or underflows,
so plain float64 log and exp leave the float64 result within ~2^-45 of exact, and
one rounding to float32 is at most 1 ulp from correctly rounded (equal to it on all
but about one input in 10^6).

Special cases exactly as NumPy (C99 pow): x^0 = 1 and 1^y = 1 even for NaN; NaN
otherwise propagates; a finite x < 0 with a finite non-integer y gives NaN; a
negative base with an odd integer exponent keeps its sign (also for -0 and -inf);
0^y is +-0 for y > 0 and +-inf for y < 0; inf^y is inf or 0; (+-1)^(+-inf) = 1,
|x| < 1: x^inf = 0, x^-inf = inf; |x| > 1: the reverse; overflow -> inf,
underflow -> 0. (Constant exponents 2..4 never get here: the code generator
writes them as products.)
"""
from __future__ import annotations

import numba
import numpy as np

from .math_constants import ln2_fixed, nearest, split
from .numba_eft import HAS_FMA, fast_two_sum, fma, fmadd, two_prod, two_sum
from .numba_math import _exp_core, _expm1_tail, _log_plus, _pow2, bits_f64, f64_bits
from .vector_math_names import VECTOR_MATH as VECTOR_MATH_NAMES

_JIT = dict(nogil=True, cache=True, error_model="numpy", forceinline=True)   # LLVM alwaysinline

# Numba's disk cache of this module's functions does not notice a change in the
# modules they call: these are the versions (numba_math.file_version) this file was
# checked against; tests/codegen/test_numba_pow.py fails when one differs, and
# updating the hash here invalidates the stale cache entries.
BUILT_ON = {"math_constants": "4ce45765dbbd", "numba_eft": "9784a65ce58a", "numba_math": "f4f4ffe1d620", "vector_math_names": "ab8f62af50fa"}

_N = 300
_LN2 = ln2_fixed(_N)
_LN2_TOP = (_LN2 >> (_LN2.bit_length() - 42)) << (_LN2.bit_length() - 42)
_LN2_HI = split(_LN2_TOP, _N, 1)[0]                   # 42 bits: k * _LN2_HI exact, |k| < 2048
_LN2_LO, _LN2_LO2 = nearest(_LN2 - _LN2_TOP, _N, 2)
_LOG2E = 1.4426950408889634
_TWO_THIRDS_HI, _TWO_THIRDS_LO = nearest((2 << _N) // 3, _N, 2)
_R0, _R1, _R2, _R3, _R4, _R5, _R6, _R7 = (          # scripts/fit_math.py, "log R(z)"
    0.3999999999999998, 0.2857142857144362, 0.22222222217863075, 0.18181818834274444,
    0.15384559093574748, 0.13336239608646597, 0.11676265494438258, 0.11977903615009816)


@numba.njit(**_JIT)
def _log_dd(ax):
    """(hi, lo): log(ax) to ~2^-64 relative, for a positive finite float64 ax."""
    tiny = ax < 2.2250738585072014e-308
    xs = ax * 18014398509481984.0 if tiny else ax        # denormals: scale by 2^54
    shifted = f64_bits(xs) + np.int64(0x00095F619980C433)
    e = (shifted >> np.int64(52)) - np.int64(1023)
    e = e - np.int64(54) if tiny else e
    m = bits_f64((shifted & np.int64(0x000FFFFFFFFFFFFF)) + np.int64(0x3FE6A09E667F3BCD))
    f = m - 1.0                                          # exact
    dh, dl = fast_two_sum(2.0, f)                        # m + 1 = 2 + f exactly
    sh = f / dh
    ph, pl = two_prod(sh, dh)
    sl = (((f - ph) - pl) - sh * dl) / dh                 # s = f / (2 + f) = sh + sl
    zh, zl = two_prod(sh, sh)
    zl = zl + 2.0 * sh * sl                               # s^2
    ch, cl = two_prod(zh, sh)
    cl = cl + (zl * sh + zh * sl)                         # s^3
    r = fmadd(zh, _R7, _R6)
    r = fmadd(zh, r, _R5)
    r = fmadd(zh, r, _R4)
    r = fmadd(zh, r, _R3)
    r = fmadd(zh, r, _R2)
    r = fmadd(zh, r, _R1)
    r = fmadd(zh, r, _R0)
    bh, bl = fast_two_sum(_TWO_THIRDS_HI, zh * r)         # 2/3 + s^2 R(s^2)
    bl = bl + _TWO_THIRDS_LO
    th, tl = two_prod(ch, bh)
    tl = tl + (ch * bl + cl * bh)                         # s^3 (2/3 + s^2 R)
    dk = np.float64(e)
    h, l1 = two_sum(dk * _LN2_HI, 2.0 * sh)
    h, l2 = two_sum(h, th)
    lo = (l1 + l2) + ((2.0 * sl + tl) + (dk * _LN2_LO + dk * _LN2_LO2))
    return fast_two_sum(h, lo)


@numba.njit(**_JIT)
def _exp_dd(zh, zl):
    """exp(zh + zl) for |zh| <= 746, |zl| <= ulp(zh): 2^k (1 + r + tail(r) + rl e^r)."""
    kf = np.rint(zh * _LOG2E)
    r, rl = two_sum(zh - kf * _LN2_HI, -(kf * _LN2_LO))   # zh - k LN2_HI is exact
    rl = rl + (zl - kf * _LN2_LO2)
    a, b = fast_two_sum(1.0, r)
    tail = _expm1_tail(r)
    p = a + (b + (tail + rl * (1.0 + (r + tail))))       # rl (up to ~2^-44) times exp(r)
    k = np.int64(kf)
    k1 = k >> np.int64(1)                                 # two factors: denormal results
    k2 = k - k1                                           # round in the last product only
    return (p * _pow2(k1)) * _pow2(k2)


@numba.njit(**_JIT)
def _with_special_cases(x, y, mag):
    """x^y from `mag` = |x|^y computed for finite nonzero x and finite y: the sign and
    every special case of C99 pow decided here."""
    ax = abs(x)
    yint = np.rint(y) == y                                # also +-inf
    yodd = yint & (abs(y) < 9007199254740992.0) & (np.rint(0.5 * y) != 0.5 * y)
    ypos = y > 0.0
    mag = (0.0 if ypos else np.inf) if ax == 0.0 else mag
    mag = (np.inf if ypos else 0.0) if ax == np.inf else mag
    inf_side = (ax > 1.0) == ypos                         # |x|^(+-inf): inf or 0 (or 1)
    mag = ((np.inf if inf_side else 0.0) if ax != 1.0 else 1.0) if abs(y) == np.inf else mag
    v = -mag if (f64_bits(x) < np.int64(0)) & yodd else mag
    v = np.nan if (x < 0.0) & (x > -np.inf) & (not yint) & (abs(y) < np.inf) else v
    v = np.nan if (x != x) | (y != y) else v
    return 1.0 if (y == 0.0) | (x == 1.0) else v


@numba.njit(**_JIT)
def pow_f64(x, y):
    """np.power for float64 (within 1 ulp of correctly rounded; special cases as C99)."""
    lh, ll = _log_dd(abs(x))
    zh, zl = two_prod(y, lh)
    zl = zl + y * ll
    zc = min(max(zh, -746.0), 710.0)                      # beyond: 0 or inf anyway
    return _with_special_cases(x, y, _exp_dd(zc, zl if zc == zh else 0.0))


@numba.njit(**_JIT)
def pow_f32(x, y):
    """np.power for float32, in float64: |y log x| < ~104 before the float32 result
    overflows or underflows, so float64 log and exp (relative errors ~2^-52) leave
    y log x within ~2^-45 and the result within 1 ulp of correctly rounded (equal to
    it on all but about one input in 10^6); rounded once."""
    xd = np.float64(x)
    yd = np.float64(y)
    z = min(max(yd * _log_plus(abs(xd), 0.0), -200.0), 200.0)
    return np.float32(_with_special_cases(xd, yd, _exp_core(z)))


# float32 x**3 and x**4 for a constant exponent. The exact power is x*x*x = (h + e) x with
# h = fl(x*x) and e = x*x - h (exact, by one FMA); one more FMA rounds h x + fl(e x) once,
# which is within 2^-47 relative of the exact power before that rounding: the correctly
# rounded result except where the exact value lies that close to a rounding boundary,
# or the result is below about 2^-100 (e x is then subnormal and rounds on that grid:
# within 1 ulp).
# Where that overflows (e x may overflow first, with either sign) or x is inf or
# NaN, h*x alone is the answer: +-inf or NaN. Four float32
# operations in 8 lanes, where widening to float64 costs two conversions each way and
# runs in 4 lanes. Without FMA the products run in float64 (exact for x*x, one rounding
# for x*x*x, then one to float32).
_F32_INF = np.float32(np.inf)


@numba.njit(**_JIT)
def _cube_f32_fma(x):
    h = x * x
    e = fma(x, x, -h)
    c = fma(h, x, e * x)
    return c if abs(c) < _F32_INF else h * x


@numba.njit(**_JIT)
def _pow4_f32_fma(x):
    h = x * x
    e = fma(x, x, -h)
    c = fma(h, h, (h + h) * e)         # (h + e)^2 less e^2, which is below 2^-48 of it
    return c if abs(c) < _F32_INF else h * h


@numba.njit(**_JIT)
def _cube_f32_wide(x):
    xd = np.float64(x)
    return np.float32(xd * xd * xd)


@numba.njit(**_JIT)
def _pow4_f32_wide(x):
    xd = np.float64(x)
    return np.float32(xd * xd * xd * xd)


cube_f32 = _cube_f32_fma if HAS_FMA else _cube_f32_wide      # np.power(x, 3) for float32
pow4_f32 = _pow4_f32_fma if HAS_FMA else _pow4_f32_wide      # np.power(x, 4) for float32

VECTOR_MATH = VECTOR_MATH_NAMES["numba_pow"]     # (op, dtype) -> function defined above
