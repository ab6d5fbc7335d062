"""Vectorizable, accurate math for the Numba kernels: exp, expm1, exp2, log, log1p,
tanh, and the reduction combines that vectorize (reassociable sums, NaN-propagating
max/min). sin/cos/tan/arctan are in numba_trig.py, power in numba_pow.py.

Why: with IEEE-strict Numba, ``np.exp``/``np.tanh``/``np.log`` on a scalar become calls
into libm, and one opaque call in a loop body stops LLVM from vectorizing the whole
loop. These helpers use only arithmetic, comparisons, selects and integer bit
operations on the float's representation (``bitcast`` through the two intrinsics
below), so LLVM inlines them and vectorizes the loop (``<8 x double>``/``<16 x float>``
on AVX-512 machines).

Accuracy (see tests/codegen/test_numba_math.py):

- float32 functions compute in float64 (the float32 input range maps into float64's
  normal range, so overflow, underflow, denormal outputs and rounding all happen in the
  final float64 -> float32 conversion): results are the correctly rounded value in
  nearly every case, at most 1 ulp from it (log and expm1 on every float32 of their
  ranges: scripts/check_float32_exhaustive.py, fewer than 1 in 10^4 not correctly rounded).
- polynomials are evaluated in fused multiply-adds where the CPU has them (one
  rounding per step instead of two: the bounds hold either way; float64 exp + log on
  16M elements 59 -> 45 ms with them).
- float64 functions use Cody-Waite range reduction (ln2 split in a high part with
  trailing zero bits and a low part), Taylor polynomials long enough for full double
  accuracy, and scaling by 2^k built from integer bits (split in two factors so
  results in the denormal range round once): within 1-2 ulp of NumPy.
- exp2 (float64): x = k + f with f = x - rint(x) exact, f ln2 as a double-double
  (numba_eft.two_prod) and 1 + expm1 summed to round once: within 1 ulp of correctly
  rounded. log1p (float64): log(u) + c/u with u = fl(1 + x) and c its exact rounding
  error, the correction added before log's last rounding: within 1 ulp. Their
  float32 versions: float64 inside, one rounding (correctly rounded nearly always).

Special values follow NumPy exactly: NaN in -> NaN out, exp(-inf) = 0, exp(+inf) = inf,
overflow -> inf, log(0) = -inf, log(x<0) = NaN, tanh(+-inf) = +-1, expm1/tanh keep the
sign of zero; exp2 like exp; log1p(-1) = -inf, log1p(x<-1) = NaN, log1p keeps -0.

Every helper is ``@numba.njit(forceinline=True)``, not ``inline="always"``: Numba
compiles each once per process and signature (Numba-level inlining would re-type them
in every kernel: compile time), and LLVM's ``alwaysinline`` puts the body into every
kernel loop even where it is larger than LLVM's inlining threshold (tanh_f64 is; a
call left in the loop would stop vectorization).
"""
from __future__ import annotations

import numba
import numpy as np
from numba.core import types
from numba.core.extending import intrinsic

from .numba_eft import fast_two_sum, fmadd, two_prod
from .vector_math_names import VECTOR_MATH as VECTOR_MATH_NAMES

_JIT = dict(nogil=True, cache=True, error_model="numpy", forceinline=True)   # LLVM alwaysinline

# Numba's disk cache of this module's functions does not notice a change in the
# modules they call: the versions (helper_versions.file_version) this file was checked
# against; tests/codegen/test_numba_math.py fails when one differs, and updating the
# hash here invalidates the stale cache entries.
BUILT_ON = {"numba_eft": "9784a65ce58a", "vector_math_names": "ab8f62af50fa"}


# ---------------------------------------------------------------------------
# bit views of floats (bitcast: no memory traffic, vectorizes)
# ---------------------------------------------------------------------------

def _register_bitcast(name, source, target, doc):
    """An intrinsic reading a `source` number's IEEE-754 bits as a `target` number."""
    def typer(typingctx, x):
        if x != source:
            return None

        def codegen(context, builder, sig, args):
            return builder.bitcast(args[0], context.get_value_type(target))
        return target(source), codegen
    typer.__name__ = typer.__qualname__ = name
    typer.__doc__ = doc
    return intrinsic(typer)


f64_bits = _register_bitcast("f64_bits", types.float64, types.int64, "The bits of a float64 as an int64.")
bits_f64 = _register_bitcast("bits_f64", types.int64, types.float64, "The float64 with the bits of an int64.")
f32_bits = _register_bitcast("f32_bits", types.float32, types.int32, "The bits of a float32 as an int32.")
bits_f32 = _register_bitcast("bits_f32", types.int32, types.float32, "The float32 with the bits of an int32.")


_LN2_HI = 6.93147180369123816490e-01   # high 32 bits of ln 2: k * _LN2_HI is exact
_LN2_LO = 1.90821492927058770002e-10   # ln 2 - _LN2_HI
_LOG2E = 1.4426950408889634
_LN2 = 0.6931471805599453
_LN2_TAIL = 2.3190468138462996e-17      # ln 2 - _LN2 (math_constants.ln2_fixed)


@numba.njit(**_JIT)
def _pow2(k):
    """2.0 ** k for an integer-valued int64 k in [-1022, 1023] (bits, no libm)."""
    return bits_f64((k + np.int64(1023)) << np.int64(52))


@numba.njit(**_JIT)
def _expm1_tail(r):
    """expm1(r) - r for |r| <= ln2/2 + tiny: r^2 times Taylor to degree 12."""
    p = 1.0 / 87178291200.0
    p = fmadd(r, p, 1.0 / 6227020800.0)
    p = fmadd(r, p, 1.0 / 479001600.0)
    p = fmadd(r, p, 1.0 / 39916800.0)
    p = fmadd(r, p, 1.0 / 3628800.0)
    p = fmadd(r, p, 1.0 / 362880.0)
    p = fmadd(r, p, 1.0 / 40320.0)
    p = fmadd(r, p, 1.0 / 5040.0)
    p = fmadd(r, p, 1.0 / 720.0)
    p = fmadd(r, p, 1.0 / 120.0)
    p = fmadd(r, p, 1.0 / 24.0)
    p = fmadd(r, p, 1.0 / 6.0)
    p = fmadd(r, p, 0.5)
    return (r * r) * p


@numba.njit(**_JIT)
def _expm1_reduced(r):
    """expm1(r) for |r| <= ln2/2 + tiny, Taylor to degree 14 (error < 1e-19 relative)."""
    return r + _expm1_tail(r)


@numba.njit(**_JIT)
def _reduce(x):
    """(k, r) with x = k ln2 + r, |r| <= ~ln2/2, for |x| <= ~746 (Cody-Waite)."""
    kf = np.rint(x * _LOG2E)
    r = fmadd(-kf, _LN2_LO, fmadd(-kf, _LN2_HI, x))      # kf * _LN2_HI is exact
    return kf, r


# ---------------------------------------------------------------------------
# float64
# ---------------------------------------------------------------------------

@numba.njit(**_JIT)
def exp_f64(x):
    """np.exp for float64: 1-2 ulp, NaN/inf/overflow/denormal results like NumPy."""
    xc = min(max(x, -746.0), 710.0)
    kf, r = _reduce(xc)
    p = 1.0 + _expm1_reduced(r)
    k = np.int64(kf)
    k1 = k >> np.int64(1)          # two factors: each is a normal number, and
    k2 = k - k1                    # p * 2^k1 is exact, so denormal results round once
    y = (p * _pow2(k1)) * _pow2(k2)
    return x if x != x else y


@numba.njit(**_JIT)
def expm1_f64(x):
    """np.expm1 for float64: expm1(r) scaled as 2^k expm1(r) + (2^k - 1)."""
    xc = min(max(x, -40.0), 710.0)          # expm1(x < -40) rounds to -1
    kf, r = _reduce(xc)
    e = _expm1_reduced(r)
    k = np.int64(kf)
    small = min(k, np.int64(60))
    s = _pow2(small)
    y = s * e + (s - 1.0)
    k1 = k >> np.int64(1)
    k2 = k - k1
    big = ((1.0 + e) * _pow2(k1)) * _pow2(k2)
    y = big if k > 60 else y
    y = e if k == 0 else y
    y = x if x == 0.0 else y                # keeps -0.0
    return x if x != x else y


@numba.njit(**_JIT)
def _log_plus(x, corr):
    """log(x) + corr for a positive finite float64 x and |corr| <= ~ulp(log x) (added
    with the low-order terms, before the last rounding); fdlibm's reduction: x = 2^e m,
    m in [sqrt(1/2), sqrt(2)), log m = 2 atanh(f / (2 + f)), f = m - 1, as a Taylor
    series in s^2."""
    tiny = x < 2.2250738585072014e-308
    xs = x * 18014398509481984.0 if tiny else x      # denormals: scale by 2^54
    bits = f64_bits(xs)
    # move m into [sqrt(1/2), sqrt(2)): add the offset of sqrt(1/2)'s mantissa first
    shifted = bits + np.int64(0x00095F619980C433)
    e = (shifted >> np.int64(52)) - np.int64(1023)
    e = e - np.int64(54) if tiny else e
    m = bits_f64((shifted & np.int64(0x000FFFFFFFFFFFFF)) + np.int64(0x3FE6A09E667F3BCD))
    f = m - 1.0
    s = f / (2.0 + f)
    z = s * s
    r = 2.0 / 23.0
    r = fmadd(z, r, 2.0 / 21.0)
    r = fmadd(z, r, 2.0 / 19.0)
    r = fmadd(z, r, 2.0 / 17.0)
    r = fmadd(z, r, 2.0 / 15.0)
    r = fmadd(z, r, 2.0 / 13.0)
    r = fmadd(z, r, 2.0 / 11.0)
    r = fmadd(z, r, 2.0 / 9.0)
    r = fmadd(z, r, 2.0 / 7.0)
    r = fmadd(z, r, 2.0 / 5.0)
    r = fmadd(z, r, 2.0 / 3.0)
    r = z * r
    hfsq = 0.5 * f * f
    dk = np.float64(e)
    return dk * _LN2_HI - ((hfsq - (s * (hfsq + r) + (dk * _LN2_LO + corr))) - f)


@numba.njit(**_JIT)
def log_f64(x):
    """np.log for float64 (`_log_plus` with no correction, special values as NumPy)."""
    y = _log_plus(x, 0.0)
    y = x if x == np.inf else y
    y = -np.inf if x == 0.0 else y
    y = np.nan if x < 0.0 else y
    return x if x != x else y


@numba.njit(**_JIT)
def log1p_f64(x):
    """np.log1p for float64: log(u) + c/u, u = fl(1 + x), c = 1 + x - u exactly (the
    rounding error of u, by Dekker's sum), log(u + c) = log u + c/u to first order."""
    u = 1.0 + x
    c = (1.0 - (u - x)) if abs(x) > 1.0 else (x - (u - 1.0))
    y = _log_plus(u, c / u)
    y = x if x == np.inf else y
    y = -np.inf if x == -1.0 else y
    y = np.nan if x < -1.0 else y
    y = x if x == 0.0 else y                   # keeps -0.0
    return x if x != x else y


@numba.njit(**_JIT)
def exp2_f64(x):
    """np.exp2 for float64: 2^k 2^f, k = rint(x), f = x - k (exact), 2^f = exp(f ln2)
    with f ln2 as a double-double and 1 + expm1 summed so that it rounds once."""
    xc = min(max(x, -1080.0), 1025.0)
    kf = np.rint(xc)
    f = xc - kf
    r, rl = two_prod(f, _LN2)
    rl = rl + f * _LN2_TAIL
    a, b = fast_two_sum(1.0, r)                # 1 + r exactly
    p = a + (b + (_expm1_tail(r) + rl * (1.0 + r)))
    k = np.int64(kf)
    k1 = k >> np.int64(1)
    k2 = k - k1
    y = (p * _pow2(k1)) * _pow2(k2)
    return x if x != x else y


@numba.njit(**_JIT)
def tanh_f64(x):
    """np.tanh for float64: expm1(2|x|) / (expm1(2|x|) + 2), sign restored."""
    a = min(abs(x), 22.0)                   # tanh(22) rounds to 1
    e = expm1_f64(2.0 * a)
    t = e / (e + 2.0)
    t = a if a < 1e-300 else t              # tiny and +-0: tanh(x) == x
    y = np.copysign(t, x)
    return x if x != x else y


# ---------------------------------------------------------------------------
# float32: computed in float64, rounded once at the end
# ---------------------------------------------------------------------------

@numba.njit(**_JIT)
def _exp_small(r):
    """exp(r) for |r| <= ln2/2 + tiny, Taylor to degree 10 (~1e-16 relative)."""
    p = 1.0 / 3628800.0
    p = fmadd(r, p, 1.0 / 362880.0)
    p = fmadd(r, p, 1.0 / 40320.0)
    p = fmadd(r, p, 1.0 / 5040.0)
    p = fmadd(r, p, 1.0 / 720.0)
    p = fmadd(r, p, 1.0 / 120.0)
    p = fmadd(r, p, 1.0 / 24.0)
    p = fmadd(r, p, 1.0 / 6.0)
    p = fmadd(r, p, 0.5)
    return 1.0 + (r + (r * r) * p)


@numba.njit(**_JIT)
def _exp_core(x):
    """exp(x) for a float64 |x| <= 200 to ~1e-15 relative, no special cases."""
    kf = np.rint(x * _LOG2E)
    r = x - kf * _LN2                       # k <= 289: error ~1e-14 relative, enough
    return _exp_small(r) * _pow2(np.int64(kf))


@numba.njit(**_JIT)
def exp2_f32(x):
    """np.exp2 for float32: 2^rint(x) exp((x - rint(x)) ln2) in float64, rounded once
    (overflow, underflow and denormal results in that rounding)."""
    xd = min(max(np.float64(x), -200.0), 200.0)
    kf = np.rint(xd)
    y = np.float32(_exp_small((xd - kf) * _LN2) * _pow2(np.int64(kf)))
    return x if x != x else y


@numba.njit(**_JIT)
def log1p_f32(x):
    """np.log1p for float32: the float64 helper, rounded once."""
    return np.float32(log1p_f64(np.float64(x)))


@numba.njit(**_JIT)
def expm1_f32(x):
    """np.expm1 for float32: exp - 1 in float64 except near 0 (Taylor there)."""
    xd = min(max(np.float64(x), -200.0), 200.0)
    big = _exp_core(xd) - 1.0
    near = _expm1_reduced(xd)                # |x| <= 0.35: direct series
    y = np.float32(near if abs(xd) < 0.34 else big)
    y = x if x == np.float32(0.0) else y     # keeps -0.0
    return x if x != x else y


# float32 tanh and exp in float32 arithmetic (8 lanes on AVX2, where float64 has 4): a
# polynomial near 0, 1 - 2 / (exp(2|x|) + 1) beyond; coefficients fitted by weighted
# least squares on Chebyshev nodes (approximation errors 1e-9 and 4e-9 relative);
# polynomials in fused multiply-adds where the CPU has them. Checked on every float32
# of their ranges (scripts/check_float32_exhaustive.py, with FMA): tanh within 2 ulp of
# the correctly rounded result (not equal to it on 0.31%), exp within 1 ulp (3.5%). The reductions by ln 2 are fused too.
_F32 = np.float32
_TANH_P = (_F32(-0.333333186500199), _F32(0.13332616787405854), _F32(-0.05385511069655526),
           _F32(0.021082018616260908), _F32(-0.006287600914111306))        # a <= 0.55
_EXP_Q = (_F32(0.49999987904801707), _F32(0.166665124597883), _F32(0.04166964655625863),
          _F32(0.008369631168488467), _F32(0.0013748823363182953))          # |r| <= ln2 / 2
_F32_LOG2E, _F32_LN2_HI, _F32_LN2_LO = _F32(1.4426950408889634), _F32(0.693359375), _F32(-2.12194440e-4)
_F32_NEAR, _F32_FAR, _F32_ONE, _F32_TWO = _F32(0.55), _F32(10.0), _F32(1.0), _F32(2.0)
_F32_EXP_LO, _F32_EXP_HI, _F32_ZERO = _F32(-104.0), _F32(89.0), _F32(0.0)


@numba.njit(**_JIT)
def _exp_f32_core(y):
    """exp(y) in float32 arithmetic for 0 <= y <= 20: 2^k e^r, |r| <= ln2/2 (about 1 ulp)."""
    kf = np.rint(y * _F32_LOG2E)
    r = fmadd(-kf, _F32_LN2_LO, fmadd(-kf, _F32_LN2_HI, y))   # kf * _F32_LN2_HI is exact for k < 2^14
    q = _EXP_Q
    p = _F32_ONE + r + r * r * fmadd(r, fmadd(r, fmadd(r, fmadd(r, q[4], q[3]), q[2]), q[1]), q[0])
    return p * bits_f32(np.int32((np.int32(kf) + np.int32(127)) << np.int32(23)))    # int32 sums widen


@numba.njit(**_JIT)
def exp_f32(x):
    """np.exp for float32 within 2 ulp, in float32 arithmetic: 2^k e^r with 2^k applied
    as two factors, so that overflow gives inf and results below 2^-126 round once into
    the subnormals (x is clamped to 89, beyond which exp is inf; below -104 it is 0,
    chosen without computing: a subnormal product costs a microcode assist per lane,
    and softmax's masked -inf scores are exactly that case)."""
    tiny = x < _F32_EXP_LO               # exp is 0: never form a subnormal product for it
    xc = _F32_ZERO if tiny else min(x, _F32_EXP_HI)
    kf = np.rint(xc * _F32_LOG2E)
    r = fmadd(-kf, _F32_LN2_LO, fmadd(-kf, _F32_LN2_HI, xc))
    q = _EXP_Q
    p = _F32_ONE + r + r * r * fmadd(r, fmadd(r, fmadd(r, fmadd(r, q[4], q[3]), q[2]), q[1]), q[0])
    k = np.int32(kf)
    half = np.int32(k >> np.int32(1))
    rest = np.int32(k - half)
    y = (p * bits_f32(np.int32((half + np.int32(127)) << np.int32(23)))) * \
        bits_f32(np.int32((rest + np.int32(127)) << np.int32(23)))
    y = _F32_ZERO if tiny else y
    return x if x != x else y


@numba.njit(**_JIT)
def tanh_f32(x):
    """np.tanh for float32 within 2 ulp of the correctly rounded result, computed in
    float32: a + a z P(z) (z = a^2) for a = |x| < 0.55, else 1 - 2 / (exp(2a) + 1)
    with a at most 10 (tanh(a) rounds to 1 from 9.02 on)."""
    a = abs(x)
    z = a * a
    p = _TANH_P
    near = a + a * z * fmadd(z, fmadd(z, fmadd(z, fmadd(z, p[4], p[3]), p[2]), p[1]), p[0])
    far = _F32_ONE - _F32_TWO / (_exp_f32_core(_F32_TWO * min(a, _F32_FAR)) + _F32_ONE)
    t = far if a >= _F32_NEAR else near     # NaN takes `near`, which stays NaN
    return np.copysign(t, x)


@numba.njit(**_JIT)
def log_f32(x):
    """np.log for float32 (float64 inside: float32 denormals are normal there)."""
    xd = np.float64(x)
    bits = f64_bits(xd)
    shifted = bits + np.int64(0x00095F619980C433)
    e = (shifted >> np.int64(52)) - np.int64(1023)
    m = bits_f64((shifted & np.int64(0x000FFFFFFFFFFFFF)) + np.int64(0x3FE6A09E667F3BCD))
    f = m - 1.0
    s = f / (2.0 + f)
    z = s * s
    r = 2.0 / 15.0
    r = fmadd(z, r, 2.0 / 13.0)
    r = fmadd(z, r, 2.0 / 11.0)
    r = fmadd(z, r, 2.0 / 9.0)
    r = fmadd(z, r, 2.0 / 7.0)
    r = fmadd(z, r, 2.0 / 5.0)
    r = fmadd(z, r, 2.0 / 3.0)
    logm = 2.0 * s + s * (z * r)             # 2 atanh(s), error << float32's ulp
    y = np.float32(np.float64(e) * _LN2 + logm)
    y = x if x == np.float32(np.inf) else y
    y = np.float32(-np.inf) if x == np.float32(0.0) else y
    y = np.float32(np.nan) if x < np.float32(0.0) else y
    return x if x != x else y


# ---------------------------------------------------------------------------
# what the emitter maps: (numpy function, dtype name) -> helper name in this module
# ---------------------------------------------------------------------------

VECTOR_MATH = VECTOR_MATH_NAMES["numba_math"]     # (op, dtype) -> function defined above


# ---------------------------------------------------------------------------
# reductions that vectorize
# ---------------------------------------------------------------------------

@numba.njit(nogil=True, cache=True, fastmath={"reassoc"})
def radd(acc, x):
    """acc + x, marked reassociable: the only fast-math flag in a kernel. LLVM inlines
    it and may then keep several partial sums (vector lanes x interleave) in a
    reduction loop and add them at the end: the loop vectorizes, and the sum is more
    accurate than one running sum. NaN/inf behave as in any float addition."""
    return acc + x


@numba.njit(nogil=True, cache=True, fastmath={"reassoc"})
def rmul(acc, x):
    """acc * x, reassociable (see `radd`)."""
    return acc * x


def _nan_propagating(name):
    """An intrinsic calling LLVM's `llvm.maximum`/`llvm.minimum`: NaN wins (like NumPy's
    max/min reductions), branch-free, and recognised by LLVM's loop vectorizer as a
    reduction. Differs from NumPy only in the sign of a zero result (-0.0 vs 0.0
    ties: LLVM orders -0.0 below +0.0; NumPy keeps the operand its loop meets last)."""
    @intrinsic
    def impl(typingctx, a, b):
        if a != b or a not in (types.float32, types.float64):
            return None

        def codegen(context, builder, sig, args):
            from llvmlite import ir
            ty = context.get_value_type(sig.return_type)
            fn = builder.module.declare_intrinsic(f"llvm.{name}", [ty], ir.FunctionType(ty, [ty, ty]))
            return builder.call(fn, args)
        return a(a, a), codegen
    return impl


# NaN-propagating (np.maximum/np.max semantics), unlike np.fmax/np.fmin
propagating_maximum = _nan_propagating("maximum")
propagating_minimum = _nan_propagating("minimum")
