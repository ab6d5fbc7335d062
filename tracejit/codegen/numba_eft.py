"""Error-free transformations for the Numba math helpers: sums and products that
return their own rounding error exactly, and a multiply-add for polynomials.

Why: range reductions and pow need more than float64 precision in a few places
(x mod pi/2 for huge x, log x to ~64 bits). A value carried as an unevaluated sum
hi + lo of two float64s ("double-double") does that with plain arithmetic, which
LLVM vectorizes; these are its building blocks. All results are exact identities
under round-to-nearest (no fast-math: Numba's default IEEE semantics are required).

Portability: ``two_prod`` uses a fused multiply-add (``llvm.fma``, one vector
instruction) when the CPU Numba compiles for has one, else Dekker's splitting (exact
too, ~17 flops): a libm ``fma`` call would be exact but slow and would stop
vectorization. ``fmadd`` is ``fma`` where the CPU has FMA and a multiply and an add
elsewhere (LLVM's own ``llvm.fmuladd`` never fuses under Numba's strict FP options);
use it only where either rounding is fine (polynomials whose error bounds assume the
unfused form). Numba's cache is keyed by CPU name and features, so each kind of
machine compiles its own variant.
"""
from __future__ import annotations

import numba
from numba.core import config, types
from numba.core.extending import intrinsic

_JIT = dict(nogil=True, cache=True, error_model="numpy", forceinline=True)   # LLVM alwaysinline


def target_has_fma() -> bool:
    """Whether the CPU Numba compiles for has fused multiply-add: NUMBA_CPU_FEATURES
    if set, else the host's features unless NUMBA_CPU_NAME names another CPU."""
    if config.CPU_FEATURES:
        return "+fma" in config.CPU_FEATURES.split(",")
    if config.CPU_NAME and config.CPU_NAME != "host":
        return False
    import llvmlite.binding as ll
    return bool(ll.get_host_cpu_features().get("fma", False))


HAS_FMA = target_has_fma()


def _llvm_call(name):
    """An intrinsic calling LLVM's `name` on three operands of one float type."""
    @intrinsic
    def impl(typingctx, a, b, c):
        if not (a == b == c and a in (types.float32, types.float64)):
            return None

        def codegen(context, builder, sig, args):
            from llvmlite import ir
            ty = context.get_value_type(sig.return_type)
            fn = builder.module.declare_intrinsic(name, [ty], ir.FunctionType(ty, [ty, ty, ty]))
            return builder.call(fn, args)
        return a(a, a, a), codegen
    return impl


fma = _llvm_call("llvm.fma")             # a * b + c, one rounding (libm call without FMA)


@numba.njit(**_JIT)
def mul_add(a, b, c):
    """a * b + c, two roundings."""
    return a * b + c


fmadd = fma if HAS_FMA else mul_add      # a * b + c, fused where that is one instruction


@numba.njit(**_JIT)
def two_sum(a, b):
    """(s, e) with s = fl(a + b) and s + e == a + b exactly (Knuth; any order)."""
    s = a + b
    bb = s - a
    e = (a - (s - bb)) + (b - bb)
    return s, e


@numba.njit(**_JIT)
def fast_two_sum(a, b):
    """(s, e) with s = fl(a + b), s + e == a + b exactly, when |a| >= |b| (Dekker)."""
    s = a + b
    return s, b - (s - a)


@numba.njit(**_JIT)
def two_prod_fma(a, b):
    """(p, e) with p = fl(a * b) and p + e == a * b exactly (barring underflow)."""
    p = a * b
    return p, fma(a, b, -p)


@numba.njit(**_JIT)
def two_prod_dekker(a, b):
    """`two_prod_fma` without FMA: Veltkamp's split of each operand in 26 + 27 bits
    makes the partial products exact (float64; |a|, |b| < 2^995)."""
    ca = 134217729.0 * a
    ah = ca - (ca - a)
    al = a - ah
    cb = 134217729.0 * b
    bh = cb - (cb - b)
    bl = b - bh
    p = a * b
    return p, ((ah * bh - p) + ah * bl + al * bh) + al * bl


two_prod = two_prod_fma if HAS_FMA else two_prod_dekker
