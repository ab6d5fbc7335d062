"""The exact constants (tracejit/codegen/math_constants.py) and the error-free
transformations (numba_eft.py) the vector math is built on: pi, 2/pi, ln 2 and the
arctangents against float64 and long double values and identities between them;
the Payne-Hanek table's rows sum to the right bits of 2/pi; two_sum and both
two_prod variants are exact (checked with Fractions)."""
from __future__ import annotations

from fractions import Fraction

import numba
import numpy as np
import pytest

from tracejit.codegen import math_constants as C
from tracejit.codegen import numba_eft as E


def test_constants_match_float_and_long_double():
    n = 300
    assert C.nearest(C.pi_fixed(n), n, 1)[0] == np.pi
    assert C.nearest(C.two_over_pi_fixed(n), n, 1)[0] == 2 / np.pi
    assert C.nearest(C.ln2_fixed(n), n, 1)[0] == np.log(2.0)
    assert C.nearest(C.atan_fixed(1, 2, n), n, 1)[0] == np.arctan(0.5)
    for value, ref in ((C.pi_fixed(n), np.pi), (C.ln2_fixed(n), np.log(2.0))):
        hi, lo = C.nearest(value, n, 2)
        if np.finfo(np.longdouble).nmant > 52:
            exact = np.longdouble(4) * np.arctan(np.longdouble(1)) if ref == np.pi else np.log(np.longdouble(2))
            assert abs(np.longdouble(hi) + np.longdouble(lo) - exact) <= 2 * np.finfo(np.longdouble).eps


def test_fixed_point_identities():
    """2/pi * pi = 2 and atan(1/2) + atan(1/3) = pi/4 to the last bits."""
    n = 1000
    assert abs(C.two_over_pi_fixed(n) * C.pi_fixed(n) - (2 << (2 * n))) < 2 ** (n + 4)
    lhs = C.atan_fixed(1, 2, n) + C.atan_fixed(1, 3, n)
    assert abs(lhs - C.pi_fixed(n) // 4) < 16


def test_split_pieces_are_exact_and_short():
    v, n = C.two_over_pi_fixed(500), 500
    pieces = C.split(v, n, 4, 29)
    for p in pieces:
        digits = abs(Fraction(p).numerator)        # the denominator is a power of 2
        while digits % 2 == 0:
            digits //= 2
        assert digits.bit_length() <= 29
    assert 0 <= Fraction(v, 2 ** n) - sum(Fraction(p) for p in pieces) < Fraction(1, 2 ** 114)


@pytest.mark.parametrize("parts,bits,max_q", [(4, 53, 971), (2, 53, 104)])
def test_reduction_table_rows(parts, bits, max_q):
    """Row i holds 2/pi mod 2^(2-q), q = i + 2 (row 0: all of 2/pi), to the pieces'
    precision; rows from q = 501 of the float64 table are scaled by 2^600."""
    scale_from = 501 if max_q > 500 else None
    table = C.reduction_table(max_q, parts, bits, scale_from=scale_from, scale=600)
    rows = table.reshape(-1, parts)
    assert rows.shape[0] == max_q - 1
    total = 2000
    g = C.two_over_pi_fixed(total)
    for i in (0, 1, 2, 50, rows.shape[0] - 1) + ((498, 499, 500) if scale_from else ()):
        q = i + 2
        kept = Fraction(g if q <= 2 else g % (1 << (total + 2 - q)), 2 ** total)
        got = sum(Fraction(p) for p in rows[i])
        if scale_from is not None and q >= scale_from:
            got /= 2 ** 600
        assert 0 <= kept - got <= kept * Fraction(1, 2 ** (parts * bits - 2))


def _loop(fn):
    @numba.njit
    def run(a, b, hi, lo):
        for i in range(a.shape[0]):
            hi[i], lo[i] = fn(a[i], b[i])
    return run


@pytest.mark.parametrize("name", ["two_sum", "two_prod_fma", "two_prod_dekker", "fast_two_sum"])
def test_error_free_transformations_are_exact(name, rng):
    a = rng.standard_normal(2000) * np.exp2(rng.integers(-300, 300, 2000))
    b = rng.standard_normal(2000) * np.exp2(rng.integers(-300, 300, 2000))
    if name == "fast_two_sum":
        a, b = np.where(np.abs(a) >= np.abs(b), a, b), np.where(np.abs(a) >= np.abs(b), b, a)
    hi, lo = np.empty_like(a), np.empty_like(a)
    _loop(getattr(E, name))(a, b, hi, lo)
    for x, y, h, l in zip(a, b, hi, lo):
        want = Fraction(x) * Fraction(y) if "prod" in name else Fraction(x) + Fraction(y)
        assert Fraction(h) + Fraction(l) == want
        assert h == (x * y if "prod" in name else x + y)


def test_two_prod_is_the_variant_the_cpu_supports():
    assert E.two_prod is (E.two_prod_fma if E.HAS_FMA else E.two_prod_dekker)
    assert E.fmadd is (E.fma if E.HAS_FMA else E.mul_add)
