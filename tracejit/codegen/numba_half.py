"""float16 for the Numba kernels, which cannot take float16 arrays (TOOLCHAIN.md).

The runtime hands float16 buffers to a kernel as uint16 views of the same memory; a
kernel holds every float16 value in a float32 variable (exactly: every float16 is a
float32) and rounds to float16 after each operation, which is NumPy's own rule for
float16 ufunc loops (compute in float32, round the result). These helpers convert
between the bits and the float32 holder, with IEEE round-to-nearest-even, subnormals,
infinities and NaN as NumPy's ``npy_float_to_half``/``npy_double_to_half`` do. They use
integer and float arithmetic only, so LLVM inlines them.
"""
from __future__ import annotations

import numba
import numpy as np

from .numba_math import bits_f32, f32_bits, f64_bits

_JIT = dict(nogil=True, cache=True, error_model="numpy")



@numba.njit(**_JIT)
def half_to_float(h):
    """The float32 equal to the float16 whose bits are `h` (a uint16)."""
    h = np.int64(h)
    sign = (h & np.int64(0x8000)) << np.int64(16)
    em = h & np.int64(0x7FFF)
    if em < np.int64(0x0400):                               # zero or subnormal: em * 2^-24
        f = np.float32(em) * np.float32(5.9604644775390625e-08)
        return -f if sign else f
    if em >= np.int64(0x7C00):                              # inf / NaN (payload kept)
        bits = sign | np.int64(0x7F800000) | ((em & np.int64(0x3FF)) << np.int64(13))
    else:                                                   # normal: rebias the exponent
        bits = sign | ((em << np.int64(13)) + np.int64(0x38000000))
    return bits_f32(np.int32(np.uint32(bits)))


@numba.njit(**_JIT)
def float_to_half(f):
    """The bits (uint16) of the float16 nearest to the float32 `f` (ties to even)."""
    x = np.int64(f32_bits(np.float32(f))) & np.int64(0xFFFFFFFF)
    sign = (x >> np.int64(16)) & np.int64(0x8000)
    x = x & np.int64(0x7FFFFFFF)
    if x > np.int64(0x7F800000):                            # NaN: quiet, sign kept
        return np.uint16(sign | np.int64(0x7E00))
    if x >= np.int64(0x477FF000):                           # |f| >= 65520 rounds to inf
        return np.uint16(sign | np.int64(0x7C00))
    if x < np.int64(0x38800000):                            # below 2^-14: a subnormal (or 0)
        m = np.rint(np.float64(abs(np.float32(f))) * 16777216.0)   # |f| * 2^24, exact; ties to even
        return np.uint16(sign | np.int64(m))
    odd = (x >> np.int64(13)) & np.int64(1)
    x = x - np.int64(0x38000000) + np.int64(0xFFF) + odd   # rebias, round to nearest even
    return np.uint16(sign | (x >> np.int64(13)))


@numba.njit(**_JIT)
def double_to_half(d):
    """The bits (uint16) of the float16 nearest to the float64 `d` (one rounding)."""
    x = f64_bits(np.float64(d))
    sign = np.int64((x >> np.int64(48)) & np.int64(0x8000))
    x = x & np.int64(0x7FFFFFFFFFFFFFFF)
    if x > np.int64(0x7FF0000000000000):                    # NaN
        return np.uint16(sign | np.int64(0x7E00))
    if x >= np.int64(0x40EFFE0000000000):                   # |d| >= 65520 rounds to inf
        return np.uint16(sign | np.int64(0x7C00))
    if x < np.int64(0x3F10000000000000):                    # below 2^-14: a subnormal (or 0)
        m = np.rint(abs(np.float64(d)) * 16777216.0)
        return np.uint16(sign | np.int64(m))
    odd = (x >> np.int64(42)) & np.int64(1)
    x = x - np.int64(0x3F00000000000000) + np.int64(0x1FFFFFFFFFF) + odd
    return np.uint16(sign | (x >> np.int64(42)))


@numba.njit(**_JIT)
def round_to_half(f):
    """`f` (float32) rounded to the nearest float16, held as a float32."""
    return half_to_float(float_to_half(f))


@numba.njit(**_JIT)
def round_double_to_half(d):
    """`d` (float64) rounded once to the nearest float16, held as a float32."""
    return half_to_float(double_to_half(d))
