"""np.interp, np.convolve and np.correlate (tracer/signal.py) against eager NumPy:
NaN, infinite samples, samples hit exactly, left/right, every mode, both orders."""
import numpy as np
import pytest

from _check import check, data, run_traced
from tracejit.tracer import UnsupportedError


def test_interp_as_numpys_loop():
    x = np.array([0.5, np.nan, 3, -1, 2.0, 1.0, 0.0, 1.5])
    xp = np.array([0.0, 1, 2])
    for fp in (np.array([0, np.inf, 1]), np.array([1.0, 1.0, np.inf]), np.array([-2.0, 5.0, 1.0])):
        check(lambda x, xp, fp: (np.interp(x, xp, fp), np.interp(x, xp, fp, left=-5, right=7.5)), x, xp, fp, rtol=0)
    grid = np.linspace(-2, 2, 9)
    check(lambda x: np.interp(x, grid, np.sin(grid)), data((5, 7), "float32", seed=1), rtol=0)
    check(lambda x: np.interp(x, [0.0], [3.0]), data((5,), "float64", seed=2))
    check(lambda: np.interp(2.5, [0, 1, 2], [1, 2, 3]))
    with pytest.raises(ValueError, match="same length"):
        run_traced(lambda x: np.interp(x, [0.0, 1.0], [1.0]), x)
    with pytest.raises(UnsupportedError, match="period"):
        run_traced(lambda x: np.interp(x, [0.0, 1.0], [1.0, 2.0], period=2.0), x)


@pytest.mark.parametrize("mode", ["full", "same", "valid"])
def test_convolve_and_correlate(mode):
    a, v = data((20,), "float64", seed=2), data((5,), "float64", seed=3)
    check(lambda a, v: (np.convolve(a, v, mode), np.convolve(v, a, mode), np.correlate(a, v, mode),
                        np.correlate(v, a, mode)), a, v, rtol=1e-12, atol=1e-12)
    ints = data((4,), "int32", seed=4)
    check(lambda a, v: (np.convolve(a, v, mode), np.correlate(v, a, mode)), ints, ints[:3])


def test_long_kernels_run_eagerly():
    with pytest.raises(UnsupportedError, match="taps"):
        run_traced(lambda a: np.convolve(a, a), np.ones(100))


@pytest.mark.parametrize("mode", ["full", "same", "valid"])
def test_only_overlapping_products_are_summed(mode):
    """An infinite tap over the signal's edge: NumPy never multiplies it by a padding zero,
    and every sum starts from +0.0 (the sum of -0.0 products is +0.0)."""
    a = np.array([1.0, 2.0, 3.0, -0.0])
    for v in (np.array([np.inf, 1.0]), np.array([1.0, -np.inf, 2.0]), np.array([-0.0, 1.0])):
        check(lambda a, v: (np.convolve(a, v, mode), np.correlate(a, v, mode), np.correlate(v, a, mode)), a, v,
              rtol=0)
    check(lambda a: np.correlate(a * 0.0, np.abs(a), mode), -np.abs(a), rtol=0)


def test_complex_correlate_conjugates_v_and_convolve_does_not():
    a = np.array([1 + 1j, 2 - 0.5j, -3j, 0.25])
    v = np.array([1j, 1 - 2j])
    for mode in ("full", "same", "valid"):
        check(lambda a, v: (np.correlate(a, v, mode), np.correlate(v, a, mode), np.convolve(a, v, mode),
                            np.correlate(a.real, v, mode)), a, v, rtol=1e-15)


def test_float16_sums_in_float32():
    h = np.array([60000, 60000, -60000, 1], np.float16)
    ones = np.ones(3, np.float16)
    check(lambda h, w: (np.correlate(h, w), np.convolve(h, w[:2]), np.correlate(h, w, "full")), h, ones, rtol=0)


def test_one_sample_interp_gives_fp0_for_nan():
    x = np.array([np.nan, 0.5, 1.0, 2.0, -np.inf])
    check(lambda x: (np.interp(x, [1.0], [5.0]), np.interp(x, [1.0], [5.0], left=-1.0, right=9.0),
                     np.interp(x, [0.0, 1.0], [5.0, 6.0])), x, rtol=0)
