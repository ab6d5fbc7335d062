"""Derives the polynomial coefficients of tracejit/codegen/numba_trig.py (sin, cos,
atan) and numba_pow.py (the log tail): a Remez exchange in long double (x87, 64-bit mantissa) for the minimax
polynomial of each kernel, with targets from Taylor series (so no libm and no
published coefficients are involved), then the coefficients rounded to float64 and
the rounded polynomial's error measured on a dense grid.

    python scripts/fit_math.py            # prints every fit and its error
    python scripts/fit_math.py --float32  # numba_trig_near.py's float32 sin/cos fits

Each fit is P(z) ~ f(z) on [0, zmax] minimizing max |w(z) (P(z) - f(z))|, where w
makes the error the one the caller sees (relative to the function's value):

- sin r = r + r^3 S(z), z = r^2: error relative to sin r is z (S - S*), so w = z.
- cos r = 1 - z/2 + z^2 C(z): error relative to cos r ~ z^2 (C - C*), w = z^2.
- atan t = t + t^3 A(z), z = t^2: w = z.
- log m = 2s + 2s^3/3 + s^5 R(z), z = s^2 (s = (m-1)/(m+1)): w = z^2.
"""
from __future__ import annotations

import numpy as np

LD = np.longdouble


def series(coef, z):
    """sum_k coef[k] z^k in long double (coef: long doubles, highest last)."""
    acc = np.zeros_like(z)
    for c in coef[::-1]:
        acc = acc * z + c
    return acc


def sin_target(n=30):
    """S(z) = (sin r - r) / r^3 = sum_k (-1)^(k+1) z^k / (2k+3)!"""
    out, term = [], LD(-1) / LD(6)
    for k in range(n):
        out.append(term)
        term = -term / LD((2 * k + 4) * (2 * k + 5))
    return out


def cos_target(n=30):
    """C(z) = (cos r - 1 + z/2) / z^2 = sum_k (-1)^k z^k / (2k+4)!"""
    out, term = [], LD(1) / LD(24)
    for k in range(n):
        out.append(term)
        term = -term / LD((2 * k + 5) * (2 * k + 6))
    return out


def atan_target(n=60):
    """A(z) = (atan t - t) / t^3 = sum_k (-1)^(k+1) z^k / (2k+3)"""
    return [LD((-1) ** (k + 1)) / LD(2 * k + 3) for k in range(n)]


def log_target(n=30):
    """R(z) = (2 atanh s - 2s - 2s^3/3) / s^5 = sum_k 2 z^k / (2k+5)"""
    return [LD(2) / LD(2 * k + 5) for k in range(n)]


def solve(a, b):
    """Gaussian elimination with partial pivoting in long double."""
    a, b = a.copy(), b.copy()
    n = len(b)
    for i in range(n):
        p = i + int(np.argmax(np.abs(a[i:, i])))
        a[[i, p]], b[[i, p]] = a[[p, i]], b[[p, i]]
        for j in range(i + 1, n):
            f = a[j, i] / a[i, i]
            a[j, i:] -= f * a[i, i:]
            b[j] -= f * b[i]
    x = np.zeros(n, dtype=LD)
    for i in range(n - 1, -1, -1):
        x[i] = (b[i] - np.dot(a[i, i + 1:], x[i + 1:])) / a[i, i]
    return x


def extrema(err, grid, count):
    """`count` alternating-sign extrema of err on grid (largest per sign run)."""
    sign = np.sign(err)
    runs, start = [], 0
    for i in range(1, len(err) + 1):
        if i == len(err) or sign[i] != sign[start]:
            j = start + int(np.argmax(np.abs(err[start:i])))
            runs.append(j)
            start = i
    while len(runs) > count:                 # drop the smaller end
        runs.pop(0 if abs(err[runs[0]]) < abs(err[runs[-1]]) else -1)
    return grid[runs]


def remez(target, zmax, degree, weight, fixed=(), iterations=30, grid_size=20000):
    """Minimax P of `degree` for the series `target` on [0, zmax] with weight w(z):
    an unweighted fit of w f by the basis w z^j (well conditioned where w -> 0).
    `fixed`: leading coefficients already chosen (the fit covers the others)."""
    lead = [LD(c) for c in fixed]
    target = [t - (lead[k] if k < len(lead) else 0) for k, t in enumerate(target)]
    first = len(lead)
    grid = (LD(zmax) * (1 - np.cos(np.linspace(0, np.pi, grid_size).astype(LD)))) / 2
    grid = grid[1:]                     # not z = 0, where the weight (and the error) is 0
    n = degree + 2 - first
    pts = (LD(zmax) * (1 - np.cos(np.pi * (np.arange(n) + 1) / n).astype(LD))) / 2
    best, best_err = None, np.inf
    for _ in range(iterations):
        a = np.zeros((n, n), dtype=LD)
        for j in range(first, degree + 1):
            a[:, j - first] = weight(pts) * pts ** j
        a[:, -1] = LD(1) * (-1) ** np.arange(n)
        coef = [LD(0)] * first + list(solve(a, weight(pts) * series(target, pts))[:-1])
        err = weight(grid) * (series(list(coef), grid) - series(target, grid))
        worst = float(np.max(np.abs(err)))
        if worst < best_err:
            best, best_err = lead + coef[first:], worst
        new = extrema(err, grid, n)
        if len(new) != n:
            break
        pts = new
    return best


def fit_rounded(target, zmax, degree, weight, kind=float):
    """Coefficients of type `kind` (float: float64), rounded one at a time from the
    lowest, each time refitting the higher ones to absorb the rounding of those fixed
    so far."""
    c64 = []
    for i in range(degree + 1):
        coef = remez(target, zmax, degree, weight, fixed=c64)
        c64.append(float(kind(coef[i])))
    return c64


def report(name, target, zmax, degree, weight, kind=float):
    c64 = fit_rounded(target, zmax, degree, weight, kind)
    grid = np.linspace(0, zmax, 200001).astype(LD)[1:]
    err = weight(grid) * (series([LD(c) for c in c64], grid) - series(target, grid))
    print(f"# {name}: degree {degree} in z on [0, {zmax!r}], max weighted error "
          f"{float(np.max(np.abs(err))):.3e} (2^{np.log2(float(np.max(np.abs(err)))):.1f})")
    for c in c64:
        print(f"    {c!r},")
    return c64


if __name__ == "__main__":
    import sys
    quarter = (np.pi / 4 * (1 + 2 ** -20)) ** 2          # |r| <= pi/4, a little slack
    if "--float32" in sys.argv:                           # numba_trig_near.py
        report("sin S(z), float32", sin_target(), quarter, 3, lambda z: z, np.float32)
        report("cos C(z), float32", cos_target(), quarter, 3, lambda z: z * z, np.float32)
        sys.exit(0)
    report("sin S(z)", sin_target(), quarter, 5, lambda z: z)
    report("cos C(z)", cos_target(), quarter, 5, lambda z: z * z)
    report("atan A(z)", atan_target(), (7 / 16) ** 2, 10, lambda z: z)
    smax = float((np.sqrt(2) - 1) / (np.sqrt(2) + 1)) * (1 + 2 ** -20)
    report("log R(z)", log_target(), smax ** 2, 7, lambda z: z * z)
