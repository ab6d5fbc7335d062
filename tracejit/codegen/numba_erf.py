"""Vectorizable erf and erfc for the Numba kernels (``scipy.special.erf``/``erfc``).

Why: ``math.erf`` is an opaque libm call, and one such call in a loop body stops LLVM
from vectorizing the loop (see numba_math.py). These use only arithmetic, selects and
``exp``'s branch-free helper, so the loop vectorizes (the exact GELU,
``0.5 x (1 + erf(x / sqrt 2))``, is one fused pass).

Method (polynomials from erf_fits.py, derived by scripts/fit_erf.py):

- |x| < 1: erf(x) = x P(x^2);
- float32 erf is evaluated in float32 (16 lanes of AVX-512, not 8 of float64), from
  three short fits and no exp: x (2 / sqrt(pi) + x^2 R(x^2)) for |x| < 1, and 1 - Q(|x|)
  with Q a fit of erfc on [1, 2.2] and another on [2.2, 3.919206] (float32 erf is 1
  from there on). Each fit is a polynomial in t = |x| - c, c the interval's middle: t is
  exact (Sterbenz), so the variable adds no rounding; the tail's own fit keeps its
  terms small, so that they round finely where 1 + erf(x) cancels (near x = -3: the
  exact GELU). The exact GELU on 32M float32 values went from 25 ms (one degree-22
  polynomial in float64) to 12-14 ms, the copy floor (memory-bound again);
- |x| >= 0.5: erfc(|x|) = exp(-x^2) erfcx(|x|), erfcx(x) = erfc(x) exp(x^2) being a
  polynomial in y = (x - 3) / (x + 3) for x <= 6 and, for float64 erfc, x erfcx(x) a
  polynomial in 1 / x for 6 <= x <= 27.5 (erfc underflows to 0 beyond);
- erf = 1 - erfc for |x| >= 1, erfc = 1 - erf below 0.5, erfc(-x) = 2 - erfc(x);
- float64 erfc takes x^2 as a double-double (exp(-x^2) would otherwise lose
  x^2 ulps at large x); erf needs only erfc's absolute error, so it does not.

Every piece is evaluated and the right one selected (no branches: vector lanes differ).

Accuracy (tests/codegen/test_numba_erf.py, against mpmath): float64 erf within 2 ulp
and erfc within 5 ulp of the correctly rounded value; float32 erf within 1 ulp of the
correctly rounded value on every float32 (``scripts/check_float32_exhaustive.py erf``:
99.3% correctly rounded; ~10% misrounded by an ulp for 0.5 <= |x| < 1, 6% on [1, 1.5),
1% on [1.5, 2.5) and 0.01% beyond; scipy's float32 loop computes in float64 and rounds
once, so ours differs from it there by an ulp);
float32 erfc computed in float64 from fits accurate to ~1e-12 and rounded once, so
nearly always correctly rounded and never more than 1 ulp from scipy's. Special values as
scipy: NaN -> NaN, erf(+-inf) = +-1, erf(-0) = -0, erfc(inf) = 0, erfc(-inf) = 2.

scipy's float64 erfc is less accurate at large x (exp(-x^2) of a rounded square: up to
~x^2 ulp) and returns 0 once x^2 > 709.78 (x > 26.64) although erfc is a denormal
there; ours returns 0 there too (what eager code gives), and within 5 ulp below.
"""
from __future__ import annotations

import numba
import numpy as np

from .erf_fits import (ERF_NEAR_F32, ERF_NEAR_F32_INTERVAL, ERF_SMALL, ERF_SMALL_F32, ERF_SMALL_INTERVAL,
                       ERFC_FAR_F32, ERFC_FAR_F32_INTERVAL, ERFC_MID_F32, ERFC_MID_F32_INTERVAL, ERFCX, ERFCX_F32,
                       ERFCX_F32_INTERVAL, ERFCX_INTERVAL, ERFCX_TAIL, ERFCX_TAIL_INTERVAL)
from .numba_eft import fmadd, two_prod
from .numba_math import _exp_core, exp_f64
from .vector_math_names import VECTOR_MATH as VECTOR_MATH_NAMES

_JIT = dict(nogil=True, cache=True, error_model="numpy", forceinline=True)   # LLVM alwaysinline

# file versions (helper_versions.file_version) of the modules this one calls: see
# numba_math.BUILT_ON; scripts/pin_helper_versions.py rewrites it
BUILT_ON = {"erf_fits": "c211b93c6c60", "numba_eft": "9784a65ce58a", "numba_math": "f4f4ffe1d620", "vector_math_names": "ab8f62af50fa"}


def _to_unit(interval):
    """(scale, shift) with z = scale v + shift mapping `interval` onto [-1, 1]."""
    lo, hi = interval
    return 2.0 / (hi - lo), -(lo + hi) / (hi - lo)


_SMALL_SCALE, _SMALL_SHIFT = _to_unit(ERF_SMALL_INTERVAL)
_F32 = np.float32


def _in_offset(coefficients, interval):
    """(c, float32 coefficients of the same polynomial in t = v - c): c, the interval's
    middle in float32, makes t exact where v lies within [c/2, 2c] (Sterbenz: all of
    erfc's two intervals), so the variable adds no rounding, as a map onto [-1, 1]
    would; for erf's near fit, u = x^2 below 1/4 rounds t by under 2^-26, which R's
    small slope makes negligible."""
    lo, hi = interval
    center = _F32((lo + hi) / 2)
    scale, shift = _to_unit(interval)
    in_t = np.polynomial.Polynomial(coefficients)(np.polynomial.Polynomial([scale * float(center) + shift, scale]))
    return center, tuple(_F32(c) for c in in_t.coef)


_NEAR32_CENTER, _NEAR32 = _in_offset(ERF_NEAR_F32, ERF_NEAR_F32_INTERVAL)
_MID32_CENTER, _MID32 = _in_offset(ERFC_MID_F32, ERFC_MID_F32_INTERVAL)
_FAR32_CENTER, _FAR32 = _in_offset(ERFC_FAR_F32, ERFC_FAR_F32_INTERVAL)
_FAR32_START = _F32(ERFC_FAR_F32_INTERVAL[0])
_FAR32_END = _F32(ERFC_FAR_F32_INTERVAL[1])       # float32 erf is 1 from here on
_F32_ONE = _F32(1.0)
# 2 / sqrt(pi) = hi + lo, hi rounded down so that lo > 0 (erf(-0.0) = -0.0 + -0.0 lo)
_TWO_OVER_SQRT_PI_HI = np.nextafter(_F32(1.1283791670955126), _F32(0.0)) \
    if float(_F32(1.1283791670955126)) > 1.1283791670955126 else _F32(1.1283791670955126)
_TWO_OVER_SQRT_PI_LO = _F32(1.1283791670955126 - float(_TWO_OVER_SQRT_PI_HI))
_MID_SCALE, _MID_SHIFT = _to_unit(ERFCX_INTERVAL)
_MID32_SCALE, _MID32_SHIFT = _to_unit(ERFCX_F32_INTERVAL)
_TAIL_SCALE, _TAIL_SHIFT = _to_unit(ERFCX_TAIL_INTERVAL)
_SCIPY_UNDERFLOW = 709.782712893384      # x^2 beyond which scipy's float64 erfc is 0


# Horner in fused multiply-adds, one function per length: a loop over the tuple would
# not be unrolled before LLVM's vectorizer runs (measured: 38x slower)
@numba.njit(**_JIT)
def _poly7(z, c):
    p = fmadd(z, c[6], c[5])
    p = fmadd(z, p, c[4])
    p = fmadd(z, p, c[3])
    p = fmadd(z, p, c[2])
    p = fmadd(z, p, c[1])
    return fmadd(z, p, c[0])


@numba.njit(**_JIT)
def _poly9(z, c):
    return fmadd(z, fmadd(z, _poly7(z, c[2:]), c[1]), c[0])


@numba.njit(**_JIT)
def _poly11(z, c):
    return fmadd(z, fmadd(z, _poly9(z, c[2:]), c[1]), c[0])


@numba.njit(**_JIT)
def _poly13(z, c):
    return fmadd(z, fmadd(z, _poly11(z, c[2:]), c[1]), c[0])


@numba.njit(**_JIT)
def _poly15(z, c):
    return fmadd(z, fmadd(z, _poly13(z, c[2:]), c[1]), c[0])


@numba.njit(**_JIT)
def _poly17(z, c):
    return fmadd(z, fmadd(z, _poly15(z, c[2:]), c[1]), c[0])


@numba.njit(**_JIT)
def _poly19(z, c):
    return fmadd(z, fmadd(z, _poly17(z, c[2:]), c[1]), c[0])


@numba.njit(**_JIT)
def _poly21(z, c):
    return fmadd(z, fmadd(z, _poly19(z, c[2:]), c[1]), c[0])


@numba.njit(**_JIT)
def _poly23(z, c):
    return fmadd(z, fmadd(z, _poly21(z, c[2:]), c[1]), c[0])


# ---------------------------------------------------------------------------
# float64
# ---------------------------------------------------------------------------

@numba.njit(**_JIT)
def _erf_small(x):
    """erf(x) for |x| <= 1 (keeps -0.0)."""
    return x * _poly13(fmadd(x * x, _SMALL_SCALE, _SMALL_SHIFT), ERF_SMALL)


@numba.njit(**_JIT)
def _erfcx_mid(a):
    """erfc(a) exp(a^2) for 0.5 <= a <= 6."""
    return _poly19(fmadd((a - 3.0) / (a + 3.0), _MID_SCALE, _MID_SHIFT), ERFCX)


@numba.njit(**_JIT)
def _erfcx_tail(a):
    """erfc(a) exp(a^2) for 6 <= a <= 27.5."""
    t = 1.0 / a
    return _poly13(fmadd(t, _TAIL_SCALE, _TAIL_SHIFT), ERFCX_TAIL) * t


@numba.njit(**_JIT)
def erf_f64(x):
    """scipy.special.erf for float64 (the module doc says how, and how accurate)."""
    a = abs(x)
    ac = 6.0 if a > 6.0 else a                     # erf rounds to +-1 beyond; NaN stays NaN
    large = 1.0 - exp_f64(-(ac * ac)) * _erfcx_mid(ac)
    large = large if x > 0.0 else -large
    return large if a >= 1.0 else _erf_small(x)  # NaN: the small path, NaN too


@numba.njit(**_JIT)
def erfc_f64(x):
    """scipy.special.erfc for float64."""
    a = abs(x)
    ac = 27.5 if a > 27.5 else a
    hi, lo = two_prod(ac, ac)
    e = exp_f64(-hi)
    e = fmadd(-e, lo, e)                           # exp(-hi - lo) to first order in lo
    g = _erfcx_tail(ac) if ac >= 6.0 else _erfcx_mid(ac)
    tail = e * g if hi <= _SCIPY_UNDERFLOW else 0.0   # 0 where scipy's erfc gives 0
    tail = tail if x > 0.0 else 2.0 - tail
    return tail if a >= 0.5 else 1.0 - _erf_small(x)


# ---------------------------------------------------------------------------
# float32: computed in float64, rounded once
# ---------------------------------------------------------------------------

@numba.njit(**_JIT)
def _erfc_f32_tail(ac):
    """erfc(ac) for 0.5 <= ac <= 10.1, float64 to ~1e-12 relative."""
    g = _poly15(fmadd((ac - 3.0) / (ac + 3.0), _MID32_SCALE, _MID32_SHIFT), ERFCX_F32)
    return _exp_core(-(ac * ac)) * g


@numba.njit(**_JIT)
def erf_f32(x):
    """scipy.special.erf for float32 in float32 arithmetic: x (2 / sqrt(pi) + u R(u)),
    u = x^2, below 1, rounded once from x hi + x (lo + u R) (keeps -0.0 and NaN; the lo
    term underflows below ~1e-37, an ulp there), +-(1 - Q(|x|)) up to 3.919206, +-1
    beyond."""
    u = x * x
    beyond_linear = fmadd(u, _poly7(u - _NEAR32_CENTER, _NEAR32), _TWO_OVER_SQRT_PI_LO)
    near = fmadd(x, _TWO_OVER_SQRT_PI_HI, x * beyond_linear)
    a = abs(x)
    mid = _F32_ONE - _poly11(min(a, _FAR32_START) - _MID32_CENTER, _MID32)
    tail = _F32_ONE - _poly13(min(max(a, _FAR32_START), _FAR32_END) - _FAR32_CENTER, _FAR32)
    far = mid if a < _FAR32_START else (_F32_ONE if a >= _FAR32_END else tail)
    far = far if x > 0 else -far
    return far if a >= _F32_ONE else near


@numba.njit(**_JIT)
def erfc_f32(x):
    """scipy.special.erfc for float32 (denormal results rounded once, from float64)."""
    xd = np.float64(x)
    a = abs(xd)
    ac = 10.1 if a > 10.1 else a                   # below half float32's least denormal beyond
    tail = _erfc_f32_tail(ac)
    tail = tail if xd > 0.0 else 2.0 - tail
    small = 1.0 - xd * _poly9(fmadd(xd * xd, _SMALL_SCALE, _SMALL_SHIFT), ERF_SMALL_F32)
    return np.float32(tail if a >= 0.5 else small)


VECTOR_MATH = VECTOR_MATH_NAMES["numba_erf"]     # (op, dtype) -> function defined above
