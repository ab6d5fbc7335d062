"""The ``_tj_*`` helpers every generated Triton file may call (its prelude).

Triton has no tanh, pow, arcsin, ... outside ``libdevice``, and libdevice does not run
in the interpreter, so these are written with ``tl.exp``/``tl.log``/``tl.sqrt``/
``tl.sin``/``tl.cos``/``tl.floor``/``tl.ceil`` only, in formulations that stay
accurate to a few ulp (Kahan's expm1/log1p, argument halving for arctan, ...).
Semantics follow NumPy: NaN-propagating maximum/minimum, floor division and modulo
(``x // 0 == 0`` and ``x % 0 == 0`` for integers), C ``pow`` special cases.
float16 operands are computed in float32 (Triton's math rejects fp16); the caller
casts results to the IR's dtype.

Helpers are kept as separate source snippets so a generated file carries only the
ones it uses (plus their dependencies): ``prelude_for(text)``.
"""
from __future__ import annotations

import re

from . import erf_fits

# name -> source; each snippet is one @triton.jit function
HELPERS: dict = {}


def _helper(source: str) -> None:
    name = re.search(r"def (_tj_\w+)\(", source).group(1)
    HELPERS[name] = source.strip("\n") + "\n"


_helper('''
@triton.jit
def _tj_up(x):
    """fp16 -> fp32 (Triton's math functions take fp32/fp64 only)."""
    if x.dtype == tl.float16:
        y = x.to(tl.float32)
    else:
        y = x
    return y
''')

_helper('''
@triton.jit
def _tj_c(value: tl.constexpr, like):
    """A scalar constant of `like`'s dtype (Python floats would be rounded to fp32)."""
    return tl.full([], value, like.dtype)
''')

_helper('''
@triton.jit
def _tj_signbit(x):
    """True for negative numbers and -0.0 (x != 0 or 1/x = -inf decides)."""
    return (x < 0) | ((x == 0) & ((1.0 / x) < 0))
''')

_helper('''
@triton.jit
def _tj_sign(x):
    """np.sign: -1, 0 or 1; NaN stays NaN; the zero is +0 (also for -0.0)."""
    one = tl.full([], 1, x.dtype)
    zero = tl.full([], 0, x.dtype)
    return tl.where(x > 0, one, tl.where(x < 0, -one, tl.where(x == 0, zero, x)))
''')

_helper('''
@triton.jit
def _tj_int_reciprocal(x):
    """np.reciprocal of an integer: 1 -> 1, -1 -> -1, anything else -> 0."""
    one = tl.full([], 1, x.dtype)
    zero = tl.full([], 0, x.dtype)
    if x.dtype.is_int_unsigned():
        r = tl.where(x == 1, one, zero)
    else:
        r = tl.where(x == 1, one, tl.where(x == -1, -one, zero))
    return r
''')

_helper('''
@triton.jit
def _tj_sqrt(x):
    """Correctly rounded square root (fp32: sqrt_rn; fp64 sqrt is exact on GPUs)."""
    u = _tj_up(x)
    if u.dtype == tl.float64:
        r = tl.sqrt(u)
    else:
        r = tl.sqrt_rn(u)
    return r
''')

_helper('''
@triton.jit
def _tj_div(a, b):
    """True division, correctly rounded (fp32 '/' is approximate on GPUs)."""
    x = _tj_up(a)
    y = _tj_up(b)
    if x.dtype == tl.float32:
        r = tl.math.div_rn(x, y)
    else:
        r = x / y
    return r
''')

# Triton math functions that need only the fp16 -> fp32 upcast
_UPCAST_MATH = {"exp": "tl.exp", "exp2": "tl.exp2", "log": "tl.log", "log2": "tl.log2",
                "sin": "tl.sin", "cos": "tl.cos"}
for _name, _function in _UPCAST_MATH.items():
    _helper(f"""
@triton.jit
def _tj_{_name}(x):
    return {_function}(_tj_up(x))
""")

_helper('''
@triton.jit
def _tj_log10(x):
    u = _tj_up(x)
    return tl.log(u) * _tj_c(0.43429448190325176, u)
''')

_helper('''
@triton.jit
def _tj_expm1(x):
    """Kahan: u = exp(x); (u - 1) * x / log(u) cancels exp's rounding error."""
    v = _tj_up(x)
    u = tl.exp(v)
    um1 = u - 1.0
    r = um1 * v / tl.log(u)
    r = tl.where(tl.abs(v) < 1.0, r, um1)    # no cancellation away from 0 (and um1 * v could overflow)
    r = tl.where(u == 1.0, v, r)
    r = tl.where(um1 == -1.0, _tj_c(-1.0, v), r)
    r = tl.where(u == float("inf"), u, r)
    return r
''')

_helper('''
@triton.jit
def _tj_log1p(x):
    """Kahan: u = 1 + x; log(u) * x / (u - 1) cancels the rounding of 1 + x."""
    v = _tj_up(x)
    u = v + 1.0
    r = tl.log(u) * v / (u - 1.0)
    r = tl.where(u == 1.0, v, r)
    r = tl.where(v == float("inf"), v, r)
    return r
''')

_helper('''
@triton.jit
def _tj_tan(x):
    u = _tj_up(x)
    return _tj_div(tl.sin(u), tl.cos(u))
''')

_helper('''
@triton.jit
def _tj_atan_unit(z):
    """arctan for 0 <= z <= 1: three argument halvings
    (atan z = 2 atan(z / (1 + sqrt(1 + z^2)))) bring z below tan(pi/32), where
    the Taylor series to z^17 is accurate to float64 precision."""
    w = z / (1.0 + tl.sqrt(1.0 + z * z))
    w = w / (1.0 + tl.sqrt(1.0 + w * w))
    w = w / (1.0 + tl.sqrt(1.0 + w * w))
    w2 = w * w
    p = _tj_c(1.0 / 17.0, w)
    p = p * w2 - _tj_c(1.0 / 15.0, w)
    p = p * w2 + _tj_c(1.0 / 13.0, w)
    p = p * w2 - _tj_c(1.0 / 11.0, w)
    p = p * w2 + _tj_c(1.0 / 9.0, w)
    p = p * w2 - _tj_c(1.0 / 7.0, w)
    p = p * w2 + _tj_c(1.0 / 5.0, w)
    p = p * w2 - _tj_c(1.0 / 3.0, w)
    p = p * w2 + 1.0
    return 8.0 * (w * p)
''')

_helper('''
@triton.jit
def _tj_arctan(x):
    u = _tj_up(x)
    a = tl.abs(u)
    big = a > 1.0
    z = tl.where(big, 1.0 / a, a)
    t = _tj_atan_unit(z)
    t = tl.where(big, _tj_c(1.5707963267948966, u) - t, t)
    t = tl.where(u < 0, -t, t)
    return tl.where(u == 0, u, t)
''')

_helper('''
@triton.jit
def _tj_arctan2(y, x):
    """NumPy/C atan2, signed zeros and infinities included."""
    yy = _tj_up(y)
    xx = _tj_up(x)
    yy, xx = tl.broadcast(yy, xx)   # a scalar operand's masks must combine with the block's
    ay = tl.abs(yy)
    ax = tl.abs(xx)
    t = _tj_arctan(ay / ax)
    t = tl.where((ay == 0) & (ax == 0), _tj_c(0.0, yy), t)
    both_inf = (ay == float("inf")) & (ax == float("inf"))
    t = tl.where(both_inf, _tj_c(0.7853981633974483, yy), t)
    t = tl.where(_tj_signbit(xx), _tj_c(3.141592653589793, yy) - t, t)
    return tl.where(_tj_signbit(yy), -t, t)
''')

_helper('''
@triton.jit
def _tj_arcsin(x):
    u = _tj_up(x)
    return _tj_arctan(u / tl.sqrt((1.0 - u) * (1.0 + u)))
''')

_helper('''
@triton.jit
def _tj_arccos(x):
    u = _tj_up(x)
    return 2.0 * _tj_arctan(tl.sqrt((1.0 - u) / (1.0 + u)))
''')

_helper('''
@triton.jit
def _tj_sinh(x):
    u = _tj_up(x)
    a = tl.abs(u)
    e = _tj_expm1(a)
    r = 0.5 * (e + e / (e + 1.0))
    h = tl.exp(0.5 * a)
    r = tl.where(a > 20.0, (0.5 * h) * h, r)
    r = tl.where(u < 0, -r, r)
    return tl.where(u == 0, u, r)
''')

_helper('''
@triton.jit
def _tj_cosh(x):
    u = _tj_up(x)
    a = tl.abs(u)
    e = tl.exp(a)
    r = 0.5 * (e + 1.0 / e)
    h = tl.exp(0.5 * a)
    return tl.where(a > 20.0, (0.5 * h) * h, r)
''')

_helper('''
@triton.jit
def _tj_tanh(x):
    """float32: odd polynomial x + x z p(z), z = x*x, below |x| = 0.625 (coefficients
    fitted here to tanh, <= 0.75 ulp) and 1 - 2 / (exp(2|x|) + 1) above (no
    cancellation there): ~1.5 ulp, a third of the work of the expm1 form.
    float64: tanh |x| = t / (t + 2) with t = expm1(2|x|): accurate near 0 (no 1 - 1
    cancellation), exactly 1 beyond |x| = 20 where t would overflow."""
    u = _tj_up(x)
    a = tl.abs(u)
    if u.dtype == tl.float32:
        z = u * u
        p = (((-0.0057878196239471436 * z + 0.020711705088615417) * z - 0.05376138538122177) * z
             + 0.13331691920757294) * z - 0.333332896232605
        small = u + u * (z * p)
        big = 1.0 - 2.0 / (tl.exp(2.0 * a) + 1.0)
        big = tl.where(u < 0, -big, big)
        r = tl.where(a < 0.625, small, big)
        r = tl.where(u == 0, u, r)          # keeps the sign of zero
    else:
        t = _tj_expm1(2.0 * a)
        r = t / (t + 2.0)
        r = tl.where(a > 20.0, _tj_c(1.0, u), r)
        r = tl.where(u < 0, -r, r)
        r = tl.where(u == 0, u, r)
    return r
''')

_helper('''
@triton.jit
def _tj_arcsinh(x):
    u = _tj_up(x)
    a = tl.abs(u)
    r = _tj_log1p(a + a * a / (1.0 + tl.sqrt(1.0 + a * a)))
    r = tl.where(a > 268435456.0, tl.log(a) + _tj_c(0.6931471805599453, u), r)
    r = tl.where(u < 0, -r, r)
    return tl.where(u == 0, u, r)
''')

_helper('''
@triton.jit
def _tj_arccosh(x):
    u = _tj_up(x)
    t = u - 1.0
    r = _tj_log1p(t + tl.sqrt(2.0 * t + t * t))
    r = tl.where(u > 268435456.0, tl.log(u) + _tj_c(0.6931471805599453, u), r)
    return tl.where(u < 1.0, _tj_c(float("nan"), u), r)
''')

_helper('''
@triton.jit
def _tj_arctanh(x):
    u = _tj_up(x)
    a = tl.abs(u)
    r = 0.5 * _tj_log1p(2.0 * a / (1.0 - a))
    r = tl.where(u < 0, -r, r)
    return tl.where(u == 0, u, r)
''')

_helper('''
@triton.jit
def _tj_trunc(x):
    u = _tj_up(x)
    return tl.where(u < 0, tl.ceil(u), tl.floor(u))
''')

_helper('''
@triton.jit
def _tj_rint(x):
    """Round half to even."""
    u = _tj_up(x)
    r = tl.floor(u)
    d = u - r
    odd = (r - 2.0 * tl.floor(0.5 * r)) == 1.0
    r = tl.where((d > 0.5) | ((d == 0.5) & odd), r + 1.0, r)
    return tl.where(tl.abs(u) >= 4503599627370496.0, u, r)
''')

_helper('''
@triton.jit
def _tj_isinf(x):
    return tl.abs(x) == float("inf")
''')

_helper('''
@triton.jit
def _tj_isfinite(x):
    return tl.abs(x) < float("inf")
''')

_helper('''
@triton.jit
def _tj_fmod(a, b):
    """C fmod (Triton's float % is fmod)."""
    return a % b
''')

_helper('''
@triton.jit
def _tj_floordiv(a, b):
    """NumPy floor_divide: floors; integer x // 0 == 0; float via NumPy's divmod."""
    if a.dtype.is_floating():
        x = _tj_up(a)
        y = _tj_up(b)
        m = _tj_fmod(x, y)
        d = (x - m) / y
        d = tl.where((m != 0) & ((y < 0) != (m < 0)), d - 1.0, d)
        f = tl.floor(d)
        f = tl.where(d - f > 0.5, f + 1.0, f)
        f = tl.where(d == 0, _tj_c(0.0, x) * (x / y), f)
        r = tl.where(y == 0, x / y, f)
    else:
        zero = tl.full([], 0, a.dtype)
        safe = tl.where(b == 0, tl.full([], 1, b.dtype), b)
        q = a // safe
        m = a % safe
        q = tl.where((m != 0) & ((m < 0) != (safe < 0)), q - 1, q)
        r = tl.where(b == 0, zero, q)
    return r
''')

_helper('''
@triton.jit
def _tj_cfmod(a, b):
    """np.fmod: C's fmod for floats; integers: the remainder with the dividend's sign,
    x fmod 0 and fmod -1 are 0."""
    if a.dtype.is_floating():
        r = _tj_fmod(_tj_up(a), _tj_up(b))
    else:
        if b.dtype.is_int_signed():
            bad = (b == 0) | (b == -1)
        else:
            bad = b == 0
        r = tl.where(bad, a - a, a % tl.where(bad, 1, b))
    return r
''')

_helper('''
@triton.jit
def _tj_lshift(a, b, bits: tl.constexpr):
    """np.left_shift: a count below 0 or at the dtype's width or more gives 0."""
    fits = (b >= 0) & (b < bits)
    return tl.where(fits, a << tl.where(fits, b, 0), 0)
''')

_helper('''
@triton.jit
def _tj_rshift(a, b, bits: tl.constexpr):
    """np.right_shift: a count below 0 or at the width or more gives -1 for a negative a, else 0."""
    fits = (b >= 0) & (b < bits)
    return tl.where(fits, a >> tl.where(fits, b, 0), tl.where(a < 0, a - a - 1, a - a))
''')

_helper('''
@triton.jit
def _tj_mod(a, b):
    """NumPy remainder: the sign of the divisor; integer x % 0 == 0."""
    if a.dtype.is_floating():
        x = _tj_up(a)
        y = _tj_up(b)
        m = _tj_fmod(x, y)
        m = tl.where((m != 0) & ((y < 0) != (m < 0)), m + y, m)
        zero = _tj_c(0.0, x)
        m = tl.where(m == 0, tl.where(_tj_signbit(y), -zero, zero), m)
        r = tl.where(y == 0, _tj_fmod(x, y), m)
    else:
        zero = tl.full([], 0, a.dtype)
        safe = tl.where(b == 0, tl.full([], 1, b.dtype), b)
        m = a % safe
        m = tl.where((m != 0) & ((m < 0) != (safe < 0)), m + safe, m)
        r = tl.where(b == 0, zero, m)
    return r
''')

_helper('''
@triton.jit
def _tj_pow(a, b):
    """NumPy power: C pow special cases for floats (computed as exp2(b*log2|a|),
    in float64 for float32 operands); square-and-multiply for integers."""
    if a.dtype.is_floating():
        if a.dtype == tl.float64:
            x = a
            y = b
        else:
            x = a.to(tl.float64)
            y = b.to(tl.float64)
        # a scalar operand's comparisons must combine with the other's block
        x, y = tl.broadcast(x, y)
        ax = tl.abs(x)
        r = tl.exp2(y * tl.log2(ax))
        y_int = tl.floor(y) == y
        odd = y_int & ((2.0 * tl.floor(0.5 * y)) != y)
        neg = _tj_signbit(x)
        r = tl.where(neg & odd, -r, r)
        r = tl.where((x < 0) & (~y_int) & (ax != float("inf")), _tj_c(float("nan"), x), r)
        one = _tj_c(1.0, x)
        r = tl.where((ax == 1.0) & (tl.abs(y) == float("inf")), one, r)
        r = tl.where((y == 0) | (x == 1.0), one, r)
        result = r.to(a.dtype)
    else:
        result = tl.full([], 1, a.dtype) + a * 0
        base = a + a * 0
        e = b + a * 0
        for _k in range(64):
            result = tl.where((e & 1) != 0, result * base, result)
            base = base * base
            e = e >> 1
    return result
''')

_helper('''
@triton.jit
def _tj_logaddexp(a, b):
    """np.logaddexp: log(exp(a) + exp(b)) = max + log1p(exp(-|a - b|)); equal arguments
    (infinities of one sign included) give a + log(2); NaN propagates."""
    x = _tj_up(a)
    y = _tj_up(b)
    x, y = tl.broadcast(x, y)
    m = tl.maximum(x, y)
    r = m + _tj_log1p(tl.exp(-tl.abs(x - y)))
    r = tl.where(x == y, x + _tj_c(0.6931471805599453, x), r)
    return tl.where((x != x) | (y != y), x + y, r)
''')

_helper('''
@triton.jit
def _tj_hypot(a, b):
    """np.hypot: sqrt(a*a + b*b) without overflow (the larger magnitude factored out);
    an infinite operand gives inf even next to NaN."""
    x = tl.abs(_tj_up(a))
    y = tl.abs(_tj_up(b))
    x, y = tl.broadcast(x, y)
    big = tl.maximum(x, y)
    small = tl.minimum(x, y)
    q = _tj_div(small, tl.where(big == 0, 1.0, big))
    r = big * _tj_sqrt(1.0 + q * q)
    r = tl.where((x != x) | (y != y), x + y, r)
    return tl.where((x == float("inf")) | (y == float("inf")), _tj_c(float("inf"), x), r)
''')

_helper('''
@triton.jit
def _tj_maximum(a, b):
    """np.maximum: NaN wins; between equal values (0.0 and -0.0) the second, as NumPy's
    `a > b ? a : b` (the hardware max orders -0.0 below 0.0)."""
    if a.dtype == tl.int1:
        r = a | b
    elif a.dtype.is_floating():
        r = tl.where(a != a, a, tl.where(a > b, a, b))
    else:
        r = tl.maximum(a, b)
    return r
''')

_helper('''
@triton.jit
def _tj_minimum(a, b):
    """np.minimum: NaN wins; between equal values the second (see _tj_maximum)."""
    if a.dtype == tl.int1:
        r = a & b
    elif a.dtype.is_floating():
        r = tl.where(a != a, a, tl.where(a < b, a, b))
    else:
        r = tl.minimum(a, b)
    return r
''')

_helper('''
@triton.jit
def _tj_fmax(a, b):
    """np.fmax: the non-NaN operand wins."""
    if a.dtype.is_floating():
        r = tl.where(a != a, b, tl.where(b != b, a, _tj_maximum(a, b)))
    else:
        r = _tj_maximum(a, b)
    return r
''')

_helper('''
@triton.jit
def _tj_fmin(a, b):
    """np.fmin: the non-NaN operand wins."""
    if a.dtype.is_floating():
        r = tl.where(a != a, b, tl.where(b != b, a, _tj_minimum(a, b)))
    else:
        r = _tj_minimum(a, b)
    return r
''')

# --- combine functions of argmax/argmin (tl.reduce over (value, index) pairs) ---------

_helper('''
@triton.jit
def _tj_arg_gt_combine(v1, i1, v2, i2):
    """argmax: the larger value wins, NaN wins, ties go to the smaller index; index -1
    marks a lane that saw nothing."""
    nan1 = v1 != v1
    nan2 = v2 != v2
    same = (v1 == v2) | (nan1 & nan2)
    take1 = (i2 < 0) | ((i1 >= 0) & ((v1 > v2) | (nan1 & (~nan2)) | (same & (i1 < i2))))
    return tl.where(take1, v1, v2), tl.where(take1, i1, i2)
''')

_helper('''
@triton.jit
def _tj_arg_lt_combine(v1, i1, v2, i2):
    """argmin: the smaller value wins, NaN wins, ties go to the smaller index."""
    nan1 = v1 != v1
    nan2 = v2 != v2
    same = (v1 == v2) | (nan1 & nan2)
    take1 = (i2 < 0) | ((i1 >= 0) & ((v1 < v2) | (nan1 & (~nan2)) | (same & (i1 < i2))))
    return tl.where(take1, v1, v2), tl.where(take1, i1, i2)
''')



def _horner(var: str, coefficients, indent: str) -> str:
    """Triton lines computing p = sum c_k var^k (Horner; constants in var's dtype)."""
    lines = [f"p = _tj_c({coefficients[-1]!r}, {var})"]
    lines += [f"p = p * {var} + _tj_c({c!r}, {var})" for c in coefficients[-2::-1]]
    return "".join(f"{indent}{line}\n" for line in lines)


def _unit(interval) -> tuple:
    lo, hi = interval
    return 2.0 / (hi - lo), -(lo + hi) / (hi - lo)


_helper('''
@triton.jit
def _tj_cbrt(x):
    """np.cbrt in float64 for every dtype: exp(log|x| / 3) and one Newton step (within
    ~1 ulp; arguments below 2^-960 scaled by 2^300 first so the step's cube stays
    normal), x's sign; zeros, infinities and NaN are their own cube roots."""
    u = _tj_up(x)
    v = u.to(tl.float64)
    a = tl.abs(v)
    tiny = a < _tj_c(2.0 ** -960, v)
    s = tl.where(tiny, a * _tj_c(2.0 ** 300, v), a)
    y = tl.exp(tl.log(s) / 3.0)
    y = y - (y * y * y - s) / (3.0 * (y * y))
    y = tl.where(tiny, y * _tj_c(2.0 ** -100, v), y)
    y = tl.where((a == 0) | (a == float("inf")) | (v != v), a, y)
    return tl.where(_tj_signbit(v), -y, y).to(u.dtype)
''')

_helper('''
@triton.jit
def _tj_erf(x):
    """scipy.special.erf: Triton's own (libdevice on the GPU)."""
    return tl.math.erf(_tj_up(x))
''')

_helper(f'''
@triton.jit
def _tj_erfc(x):
    """scipy.special.erfc, computed in float64 for every input dtype (float32 arithmetic
    was up to 7 ulp off): 1 - erf below 0.5; above, exp(-x^2) (x^2 as hi + lo) times
    erfcx, a polynomial in (x - 3) / (x + 3) up to 6 and x erfcx one in 1 / x beyond,
    from erf_fits.py as Numba's numba_erf.py; 0 where x^2 > 709.78, as scipy's;
    erfc(-x) = 2 - erfc(x)."""
    u = _tj_up(x)
    v = u.to(tl.float64)
    a = tl.abs(v)
    ac = tl.where(a > 27.5, _tj_c(27.5, v), a)
    z = (ac - 3.0) / (ac + 3.0) * _tj_c({_unit(erf_fits.ERFCX_INTERVAL)[0]!r}, v) \\
        + _tj_c({_unit(erf_fits.ERFCX_INTERVAL)[1]!r}, v)
{_horner("z", erf_fits.ERFCX, "    ")}    mid = p
    t = 1.0 / ac
    w = t * _tj_c({_unit(erf_fits.ERFCX_TAIL_INTERVAL)[0]!r}, v) + _tj_c({_unit(erf_fits.ERFCX_TAIL_INTERVAL)[1]!r}, v)
{_horner("w", erf_fits.ERFCX_TAIL, "    ")}    g = tl.where(ac >= 6.0, p * t, mid)
    hi = ac * ac
    lo = tl.fma(ac, ac, -hi)
    e = tl.exp(-hi)
    tail = (e - e * lo) * g
    tail = tl.where(hi <= _tj_c(709.782712893384, v), tail, _tj_c(0.0, v))
    tail = tl.where(v > 0, tail, 2.0 - tail)
    return tl.where(a >= 0.5, tail, 1.0 - tl.math.erf(v)).to(u.dtype)
''')

def prelude_for(text: str) -> str:
    """The helper definitions `text` uses, dependencies first (definition order)."""
    wanted: set = set()
    pending = set(re.findall(r"\b(_tj_\w+)\b", text))
    while pending:
        name = pending.pop()
        if name in wanted or name not in HELPERS:
            continue
        wanted.add(name)
        pending |= set(re.findall(r"\b(_tj_\w+)\b", HELPERS[name])) - {name}
    return "\n\n".join(HELPERS[n] for n in HELPERS if n in wanted)
