"""Tools of the math helper accuracy tests: ulp distances, loops that apply a helper
to arrays (plain Numba functions, no code generator involved), reference values from
long double libm, input samples over every exponent, and a check that a loop calling
helpers compiled to vector code."""
from __future__ import annotations

import re

import numba
import numpy as np

HAS_LONG_DOUBLE = np.finfo(np.longdouble).nmant > 52      # x87 80-bit or better


def ordered(a):
    """Float bits as integers that count ulps monotonically across zero."""
    bits = a.view(np.int32 if a.dtype == np.float32 else np.int64).astype(np.int64)
    sign_mask = np.int64(0x7FFFFFFF) if a.dtype == np.float32 else np.int64(0x7FFFFFFFFFFFFFFF)
    return np.where(bits < 0, -(bits & sign_mask), bits)


def ulps(got, want):
    """|got - want| in ulps (float64 counted in float64 so no overflow); NaN==NaN."""
    a, b = ordered(got), ordered(want)
    same_sign = (a >= 0) == (b >= 0)          # int64 difference cannot overflow
    with np.errstate(over="ignore"):
        near = np.abs(np.where(same_sign, a - b, 0)).astype(np.float64)
    d = np.where(same_sign, near, np.abs(a.astype(np.float64)) + np.abs(b.astype(np.float64)))
    d[np.isnan(got) & np.isnan(want)] = 0
    d[np.isnan(got) != np.isnan(want)] = np.inf
    return d


_LOOPS = {}


def apply(helper, *arrays):
    """helper(a[i], b[i], ...) for every i, through a Numba loop (one per helper)."""
    key = (helper, len(arrays))
    if key not in _LOOPS:
        _LOOPS[key] = _loop(helper, len(arrays))
    out = np.empty_like(arrays[0])
    _LOOPS[key](*arrays, out)
    return out


def correctly_rounded(fn, *arrays):
    """np.<fn> in long double, rounded to the arrays' dtype: the correctly rounded
    result except within ~2^-11 ulp of a rounding boundary (glibc's long double
    functions are accurate to about an ulp of long double, for any argument)."""
    dtype = arrays[0].dtype
    with np.errstate(all="ignore"):
        return getattr(np, fn)(*(a.astype(np.longdouble) for a in arrays)).astype(dtype)


def random_bits(dtype, n, rng, finite=True):
    """n floats from uniformly random bit patterns: every exponent and sign, denormals,
    (unless `finite`) infinities and NaNs."""
    dtype = np.dtype(dtype)
    raw = rng.integers(0, 2 ** (8 * dtype.itemsize), n,
                       dtype=np.uint64 if dtype.itemsize == 8 else np.uint32).view(dtype)
    return raw[np.isfinite(raw)] if finite else raw


def subnormals(dtype, n, rng):
    info = np.finfo(dtype)
    small = np.concatenate([rng.uniform(0, 1, n) * float(info.tiny), [float(info.smallest_subnormal)]])
    small = small.astype(dtype)
    return np.concatenate([small, -small])


def _loop(helper, arity):
    """A fresh Numba loop ``out[i] = helper(a[i])`` (or ``helper(a[i], b[i])``)."""
    if arity == 1:
        @numba.njit(nogil=True, error_model="numpy")
        def loop(a, out):
            for i in range(a.shape[0]):
                out[i] = helper(a[i])
    else:
        @numba.njit(nogil=True, error_model="numpy")
        def loop(a, b, out):
            for i in range(a.shape[0]):
                out[i] = helper(a[i], b[i])
    return loop


def vector_loop_ir(helper, dtype, arity=1):
    """The LLVM IR of a fresh loop out[i] = helper(a[i]) (or helper(a[i], b[i]))."""
    loop = _loop(helper, arity)
    x = np.linspace(0.5, 3, 64).astype(dtype)
    loop(*([x] * arity), np.empty_like(x))
    return loop.inspect_llvm(loop.signatures[0])


def is_vectorized(ir: str) -> bool:
    """Vector float arithmetic in the IR, every helper inlined (no call to a tracejit
    function) and no libm call (only LLVM intrinsics, Numba's runtime, the wrapper)."""
    vector = re.search(r"<\d+ x (double|float)>", ir) is not None
    calls = set(re.findall(r"call [^@\n]*@([\w.$]+)\(", ir))
    helpers = {c for c in calls if "tracejit" in c}
    libm = {c for c in calls if not c.startswith(("llvm.", "NRT_", "Py", "numba_", "_ZN"))}
    return vector and not helpers and not libm
