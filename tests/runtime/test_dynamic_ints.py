"""Ints that change every call (issue 8, section 3): after a second distinct value an
int argument that only feeds arithmetic, or positions a fixed-length window
(``cache[pos:pos + L]``, ``x[pos]``), is traced as a value: no retrace, no
recompile. Ints that decide shapes or control flow stay static; a value outside the
range where the trace holds (a window past the end, a negative index) gets a static
trace of its own, so NumPy's clipping and wrapping stay exact."""
import numpy as np
import pytest

import tracejit
from tests.runtime.eager_check import check_like_eager

PROGRAMS = """
import numpy as np
def bias_correct(m, t):
    return m / (1 - 0.9 ** t) + t // 2, t * 3
def window(cache, x, pos):
    cache[pos:pos + 2] = x
    return cache[pos:pos + 2].sum(axis=0) + cache[pos], cache[pos:pos + 3].sum()
def prefix(x, n):
    return x[:n].sum()
def repeat(x, n):
    for _ in range(n):
        x = x * 2
    return x
"""


def test_an_int_that_feeds_arithmetic_is_traced_after_its_second_value():
    calls = [lambda m, t=t: (np.full(3, 2.0), t) for t in [1, 1, 2, 3, 7, 40, 2]]
    f, _ = check_like_eager(PROGRAMS, "bias_correct", calls, backend="numba")
    assert len(f.compiles) == 2 and f.dynamic_ints == {"t"}
    assert "int traced as a value" in f.compiles[1].reason
    assert "ints traced as values" in str(tracejit.explain(f, np.ones(3), 5))


@pytest.mark.parametrize("backend", ["interpret", "numba", "triton"])
def test_a_window_position_is_a_dynamic_offset(backend):
    calls = [lambda m, p=p: (np.arange(24.0).reshape(8, 3), np.full((2, 3), p + 0.5), p) for p in [0, 1, 2, 5, 3]]
    f, _ = check_like_eager(PROGRAMS, "window", calls, backend=backend)
    assert len(f.compiles) == 2 and f.dynamic_ints == {"pos"}


def test_positions_outside_the_window_range_trace_statically_like_numpy():
    # pos = 6: cache[6:9] clips to 2 rows; pos = -2: NumPy wraps (x[-2:0] is empty; cache[-2] is row 6)
    calls = [lambda m, p=p: (np.arange(24.0).reshape(8, 3), np.full((2, 3), 1.5), p) for p in [0, 1, 6, -2, 7, 2]]
    f, _ = check_like_eager(PROGRAMS, "window", calls, backend="numba")
    assert f.dynamic_ints == {"pos"} and f.fallbacks == []
    assert len(f.specializations()) >= 3           # the dynamic one and static ones for 6 and -2


@pytest.mark.parametrize("name", ["prefix", "repeat"])
def test_ints_that_decide_shapes_or_loops_stay_static(name):
    calls = [lambda m, n=n: (np.arange(6.0), n) for n in [1, 2, 3, 2]]
    f, _ = check_like_eager(PROGRAMS, name, calls)
    assert f.dynamic_ints == set() and len(f.compiles) == 3 and f.fallbacks == []


def test_a_changing_int_that_does_not_fit_a_narrow_dtype_raises_as_numpy_does():
    x = np.arange(4, dtype=np.int8)
    f = tracejit.compile(lambda x, k: (x + k, x < k, x * (k * 2)))
    for k in (3, 4, 100, 128, 300, -200, 5):
        try:
            expected = (x + k, x < k, x * (k * 2))
        except OverflowError:
            with pytest.raises(OverflowError):
                f(x, k)
            continue
        for e, g in zip(expected, f(x, k)):
            assert g.dtype == e.dtype
            np.testing.assert_array_equal(g, e)
    assert f.fallbacks == []


def test_a_changing_int_compared_with_uint64_is_exact():
    x = np.array([2 ** 64 - 1, 2 ** 63, 5, 0], np.uint64)
    f = tracejit.compile(lambda x, k: (x < k, k >= x, x == k, x != k, np.where(x == k, x, 1)))
    for k in (3, 7, -1, -5, 5, 2 ** 62, 0):
        for e, g in zip((x < k, k >= x, x == k, x != k, np.where(x == k, x, 1)), f(x, k)):
            assert g.dtype == e.dtype
            np.testing.assert_array_equal(g, e)
    assert f.fallbacks == [] and len(f.compiles) == 2


@pytest.mark.parametrize("bounds", [(0, -1), (-5, 3), (0, 300), (300, 400), (-1, 2), (-200, 200), (0, -129)])
def test_clip_bounds_outside_an_int_dtype_behave_as_numpy(bounds):
    lo, hi = bounds
    for dtype in (np.uint8, np.int8):
        x = np.arange(-2, 4).astype(dtype)
        f = tracejit.compile(lambda x: np.clip(x, lo, hi), backend="interpret")
        try:
            expected = np.clip(x, lo, hi)
        except OverflowError:
            with pytest.raises(OverflowError):
                f(x)
            continue
        got = f(x)
        assert got.dtype == expected.dtype
        np.testing.assert_array_equal(got, expected)


def test_uint64_compared_with_an_int_outside_its_range_compiles_exactly():
    x = np.array([2 ** 64 - 1, 2 ** 63, 5, 0], np.uint64)
    f = tracejit.compile(lambda x: (x < -1, -3 <= x, x != -1, np.less(x, -2), x[0] > -1), backend="interpret")
    for e, g in zip((x < -1, -3 <= x, x != -1, np.less(x, -2), x[0] > -1), f(x)):
        assert type(g) is type(e) and np.asarray(g).dtype == np.asarray(e).dtype
        np.testing.assert_array_equal(g, e)
    assert f.fallbacks == []


def test_a_huge_int_after_the_int_became_dynamic_is_keyed_by_its_value():
    # values beyond 2**62 are static (keyed by value); later small values must not reuse that
    # trace. 2**70 is outside int64: that one call runs eagerly, with one warning
    calls = [lambda m, t=t: (np.arange(3.0), t) for t in [2, 3, 2 ** 62 + 5, 7, -2 ** 62 - 9, 5, 2 ** 70, 4]]
    f, _ = check_like_eager("def scale(x, k):\n    return x * k, k  # <-\n", "scale", calls,
                            backend="numba", warns=1)
    assert f.dynamic_ints == {"k"}


def test_an_int_beyond_int64_raises_overflow_as_numpy_does_after_it_became_dynamic():
    f = tracejit.compile(lambda x, k: x + k)
    x = np.arange(3)
    assert f(x, 1).tolist() == [1, 2, 3] and f(x, 2).tolist() == [2, 3, 4]
    assert f(x, 2 ** 63 - 1).tolist() == (x + (2 ** 63 - 1)).tolist()
    for k in (2 ** 63, -2 ** 63 - 1):
        with pytest.raises(OverflowError):
            f(x, k)
    assert f(x, 3).tolist() == [3, 4, 5]
