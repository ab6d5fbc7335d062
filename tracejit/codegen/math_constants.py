"""Exact constants for the vectorizable math helpers, computed with Python integers.

Why: range reductions need pi/2, 2/pi, ln 2 and a few arctangents to 100-1300 bits,
more than any float type holds, so they are computed here at import (a few
milliseconds) as fixed-point integers and then split into float64 pieces:

- ``pi_fixed(n)``: floor(pi * 2^n) (Machin's formula, 64 guard bits);
- ``two_over_pi_fixed(n)``: floor(2/pi * 2^n), the bits Payne-Hanek reduction uses;
- ``ln2_fixed(n)``, ``atan_fixed(p, q, n)``: ln 2 = 2 atanh(1/3) and atan(p/q) by
  their series;
- ``split(v, n, parts, bits)``: v / 2^n as a sum of float64s of at most `bits`
  significant bits each (truncated, so the pieces do not overlap);
- ``reduction_table(...)``: for Payne-Hanek reduction by pi/2, the bits of 2/pi that
  matter for an input with a given exponent, pre-split into float64 pieces.
"""
from __future__ import annotations

from fractions import Fraction
from functools import lru_cache

import numpy as np

_GUARD = 64


def _atan_inv_fixed(k: int, n: int) -> int:
    """atan(1/k) * 2^n (truncated series; error a few units in the last place)."""
    total, power, i, sign = 0, (1 << n) // k, 1, 1
    k2 = k * k
    while power:
        total += sign * (power // i)
        power //= k2
        i += 2
        sign = -sign
    return total


@lru_cache(maxsize=None)
def pi_fixed(n: int) -> int:
    """floor(pi * 2^n) (exact for every n in practice: 64 guard bits)."""
    m = n + _GUARD
    return (16 * _atan_inv_fixed(5, m) - 4 * _atan_inv_fixed(239, m)) >> _GUARD


@lru_cache(maxsize=None)
def two_over_pi_fixed(n: int) -> int:
    """floor(2/pi * 2^n)."""
    m = n + _GUARD
    return (1 << (n + 1 + m)) // pi_fixed(m)


@lru_cache(maxsize=None)
def ln2_fixed(n: int) -> int:
    """floor(ln 2 * 2^n): 2 atanh(1/3) = 2 sum 1 / ((2i+1) 3^(2i+1))."""
    m = n + _GUARD
    total, power, i = 0, (1 << m) // 3, 1
    while power:
        total += power // i
        power //= 9
        i += 2
    return (2 * total) >> _GUARD


@lru_cache(maxsize=None)
def atan_fixed(p: int, q: int, n: int) -> int:
    """atan(p/q) * 2^n for 0 < p/q < 1: sum (-1)^i (p/q)^(2i+1) / (2i+1)."""
    m = n + _GUARD
    total, i, sign = 0, 1, 1
    num, den = p, q
    while True:
        term = (num << m) // (den * i)
        if term == 0:
            break
        total += sign * term
        num, den, i, sign = num * p * p, den * q * q, i + 2, -sign
    return total >> _GUARD


def split(value: int, n: int, parts: int, bits: int = 53) -> list:
    """value / 2^n as `parts` float64 pieces of at most `bits` significant bits each,
    from the leading bit down, truncated (so they never overlap); zeros at the end
    when the value runs out of bits."""
    out = []
    for _ in range(parts):
        if value <= 0:
            out.append(0.0)
            continue
        shift = max(value.bit_length() - bits, 0)
        top = value >> shift
        out.append(float(np.ldexp(float(top), shift - n)))
        value -= top << shift
    return out


def nearest(value: int, n: int, parts: int) -> tuple:
    """value / 2^n as `parts` float64s, each the nearest to what the previous left
    (a tuple: Numba freezes tuple globals as constants)."""
    rest, out = Fraction(value, 1 << n), []
    for _ in range(parts):
        piece = float(rest)
        out.append(piece)
        rest -= Fraction(piece)
    return tuple(out)


def reduction_table(max_q: int, parts: int, bits: int, scale_from: int | None = None,
                    scale: int = 0) -> np.ndarray:
    """Rows of 2/pi bits for Payne-Hanek reduction of x = m 2^q (m an integer):
    row 0 for every q <= 2 holds 2/pi itself, row i >= 1 holds q = i + 2. Only
    x * G mod 4 matters (the quadrant and the fraction), and the bits of G = 2/pi
    worth 2^(2-q) or more contribute multiples of 4 m: a row keeps the others,
    G mod 2^(2-q), split in `parts` pieces of `bits` bits from its leading bit.
    Rows with q >= `scale_from` are multiplied by 2^`scale` (the caller divides x
    by it) so that their small pieces stay normal numbers."""
    total = max_q + 2 * parts * bits + 200
    g = two_over_pi_fixed(total)
    rows = []
    for i in range(max_q - 1):
        q = i + 2
        kept = g & ((1 << (total + 2 - q)) - 1) if q > 2 else g
        shift = scale if scale_from is not None and q >= scale_from else 0
        rows.append(split(kept, total - shift, parts, bits))
    return np.array(rows, dtype=np.float64).reshape(-1)
