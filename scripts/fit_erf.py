"""Derives the polynomial coefficients of tracejit/codegen/numba_erf.py and prints them
with the largest relative error each reaches on a dense grid (float64 evaluation).

    python scripts/fit_erf.py

Each fit is the Chebyshev interpolant (mpmath, 40 digits) of a smooth function on an
interval, mapped onto z in [-1, 1] and written as monomial coefficients in z (Horner):

- ``ERF_SMALL``: erf(x) / x as a function of u = x^2 on [0, 1] (|x| < 1);
- ``ERFCX``: erfcx(x) = erfc(x) exp(x^2) as a function of y = (x - 3) / (x + 3), which
  maps [0, inf) onto [-1, 1) and makes erfcx nearly polynomial (0.5 <= x <= 6);
- ``ERFCX_TAIL``: x erfcx(x) as a function of t = 1 / x (6 <= x <= 27.5, float64 erfc);
- ``ERF_NEAR_F32``: (erf(x) / x - 2 / sqrt(pi)) / u in u = x^2 on [0, 1], and
  ``ERFC_MID_F32``, ``ERFC_FAR_F32``: erfc(x) on [1, 2.2] and on [2.2, 3.919206] (where
  float32 erf reaches 1): float32 erf evaluated in float32 arithmetic (coefficients
  rounded to float32 by numba_erf.py; the tail has a fit of its own so that its small
  terms round finely, as 1 + erf(x) near x = -3 needs);
- the other ``_F32`` fits: shorter ones for float32 results computed in float64 (an
  error of ~1e-12 leaves the final rounding to float32 correct nearly always).
"""
from __future__ import annotations

import mpmath as mp
import numpy as np

mp.mp.dps = 40
K = 3


def erf_over_x(u):
    return mp.erf(mp.sqrt(u)) / mp.sqrt(u) if u > 0 else 2 / mp.sqrt(mp.pi)


def erf_over_x_beyond_linear(u):
    """(erf(x) / x - 2 / sqrt(pi)) / u: erf(x) = x (2 / sqrt(pi) + u R(u))."""
    return (erf_over_x(u) - 2 / mp.sqrt(mp.pi)) / u if u > 0 else -2 / (3 * mp.sqrt(mp.pi))


def erfcx(x):
    return mp.erfc(x) * mp.exp(x * x)


def erfcx_of_y(y):
    return erfcx(K * (1 + y) / (1 - y))


def x_erfcx_of_t(t):
    return erfcx(1 / t) / t


def y_of(x):
    return mp.mpf(x - K) / (x + K)


# name: (function, variable interval, degree, (x interval to check, x -> variable))
FITS = {
    "ERF_SMALL": (erf_over_x, (0, 1), 12),
    "ERF_SMALL_F32": (erf_over_x, (0, 1), 8),
    "ERF_NEAR_F32": (erf_over_x_beyond_linear, (0, 1), 6),
    "ERFC_MID_F32": (mp.erfc, (1, 2.2), 10),
    "ERFC_FAR_F32": (mp.erfc, (2.2, 3.919205904006958), 12),
    "ERFCX": (erfcx_of_y, (y_of(0.5), y_of(6)), 18),
    "ERFCX_F32": (erfcx_of_y, (y_of(0.5), y_of(10.1)), 14),
    "ERFCX_TAIL": (x_erfcx_of_t, (1 / mp.mpf(27.5), 1 / mp.mpf(6)), 12),
}


def chebyshev_monomials(f, a, b, degree) -> list:
    """Monomial coefficients (in z = (2v - a - b) / (b - a)) of f's Chebyshev interpolant on [a, b]."""
    n = degree + 1
    nodes = [mp.cos(mp.pi * (k + mp.mpf(1) / 2) / n) for k in range(n)]
    values = [f((b - a) / 2 * z + (a + b) / 2) for z in nodes]
    cheb = [2 * sum(v * mp.cos(mp.pi * j * (k + mp.mpf(1) / 2) / n) for k, v in enumerate(values)) / n
            for j in range(n)]
    cheb[0] /= 2
    basis = [[mp.mpf(1)], [mp.mpf(0), mp.mpf(1)]]
    while len(basis) < n:
        last, before = basis[-1], basis[-2]
        nxt = [mp.mpf(0)] + [2 * c for c in last]
        for i, c in enumerate(before):
            nxt[i] -= c
        basis.append(nxt)
    mono = [mp.mpf(0)] * n
    for j in range(n):
        for i, c in enumerate(basis[j]):
            mono[i] += cheb[j] * c
    return [float(m) for m in mono]


def largest_errors(f, a, b, coefficients, points=4000) -> tuple:
    """(relative, absolute) error of a float64 Horner evaluation on a grid; the
    absolute one is what counts for fits whose result is added to 1 (``ERF_NEAR_F32``
    and the ``ERFC_*_F32`` cross or approach zero)."""
    v = np.linspace(float(a), float(b), points)
    z = (2 * v - float(a) - float(b)) / (float(b) - float(a))
    approx = np.full_like(z, coefficients[-1])
    for c in coefficients[-2::-1]:
        approx = approx * z + c
    exact = np.array([float(f(mp.mpf(x))) for x in v])
    return float(np.max(np.abs(approx / exact - 1))), float(np.max(np.abs(approx - exact)))


def main() -> None:
    for name, (f, (a, b), degree) in FITS.items():
        coefficients = chebyshev_monomials(f, mp.mpf(a), mp.mpf(b), degree)
        relative, absolute = largest_errors(f, a, b, coefficients)
        print(f"# {name}: degree {degree} on [{float(a)!r}, {float(b)!r}], "
              f"largest error {relative:.2e} relative, {absolute:.2e} absolute")
        print(f"{name}_INTERVAL = ({float(a)!r}, {float(b)!r})")
        rows = [", ".join(repr(c) for c in coefficients[k:k + 3]) for k in range(0, len(coefficients), 3)]
        print(f"{name} = (\n    " + ",\n    ".join(rows) + ",\n)\n")


if __name__ == "__main__":
    main()
