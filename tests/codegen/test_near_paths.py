"""Near-range sin/cos in generated kernels (tracejit/codegen/near_paths.py): the rewrite
of a rendered innermost loop, and compiled kernels whose far elements (finite |x| >=
2^24) are recomputed with the exact helpers. Every compiled result is compared bit for
bit with the helpers applied elementwise: the near helper where every argument of the
element is near, the exact one (numba_trig) where any is far, wherever the far element
sits (first, last, on both sides of a block edge, in a row or a column); the small
float32 helpers where every argument of the block lies below 2^16."""
from __future__ import annotations

import numpy as np
import pytest

import tracejit
from tests.codegen.ulp import apply
from tracejit.codegen import near_paths
from tracejit.codegen import numba_trig as T
from tracejit.codegen import numba_trig_near as N

FAR = np.array([1e30, 2.0 ** 24, -2.0 ** 24, 3.4e38, -3.4e38, 7.729179e28, 16777218.0], np.float32)
SPECIAL = np.array([np.inf, -np.inf, np.nan, -0.0, 0.0, 16777215.0, -16777215.0], np.float32)


def elementwise(op, x, far):
    """op(x) as the kernel must give it: exact where `far`, near elsewhere."""
    dtype = x.dtype.name
    exact = getattr(T, T.VECTOR_MATH[(op, dtype)])
    near = getattr(N, N.NEAR_MATH[(op, dtype)])
    return np.where(far, apply(exact, x), apply(near, x))


def is_far(x):
    """Where the kernel reruns: the key (|x| / limit, as a float32) reaches 1."""
    key = getattr(N, N.NEAR_MATH[("key", x.dtype.name)])
    return (apply(key, np.ascontiguousarray(x).ravel()) >= 1).reshape(x.shape)


def sprinkled(rng, n, positions):
    x = (rng.standard_normal(n) * 20).astype(np.float32)
    values = np.concatenate([FAR, SPECIAL])
    x[positions] = values[np.arange(len(positions)) % len(values)]
    return x


def sin_cos_chain(x):
    return np.sin(x) * np.cos(x) + x * x


def small_sin_cos(x):
    return apply(N.sin_f32_small, x) * apply(N.cos_f32_small, x) + x * x


SMALL = np.array([np.inf, -np.inf, np.nan, -0.0, 0.0, 65535.99, -65535.99, 252.89821, 1e-40, -3e-39],
                 np.float32)


def test_blocks_of_small_arguments_take_the_small_helpers(rng):
    n = 3 * near_paths.BLOCK + 17
    x = (rng.uniform(-1, 1, n) * rng.choice([1.0, 100.0, 60000.0], n)).astype(np.float32)
    x[[0, 5, near_paths.BLOCK, near_paths.BLOCK + 1, 2 * near_paths.BLOCK - 1, 7000, 9000, 12000, n - 2, n - 1]] = SMALL
    got = tracejit.compile(sin_cos_chain, backend="numba")(x)
    with np.errstate(invalid="ignore"):
        want = small_sin_cos(x)
    assert not np.array_equal(want, apply(N.sin_f32_near, x) * apply(N.cos_f32_near, x) + x * x)
    np.testing.assert_array_equal(got, want)


def test_a_block_with_a_larger_argument_takes_the_near_helpers(rng):
    """The first half only small arguments, the second a mid-range one (2^16 <= |x| <
    2^24) in every 50 and a far one: each element is the small or the near result, the
    first block small, every mid-range element near, the far ones exact."""
    n = 4 * near_paths.BLOCK
    x = (rng.standard_normal(n) * 30).astype(np.float32)
    x[n // 2::50] = rng.uniform(65536, 1.6e7, len(x[n // 2::50])).astype(np.float32)
    x[[n // 2 + 7, n - 3]] = [1e30, -7.729179e28]
    got = tracejit.compile(sin_cos_chain, backend="numba")(x)
    far = is_far(x)
    with np.errstate(invalid="ignore", over="ignore"):
        near = elementwise("sin", x, far) * elementwise("cos", x, far) + x * x
        small = small_sin_cos(x)
    mid = np.abs(x) >= 65536
    assert far.sum() == 2 and mid.sum() > 80
    np.testing.assert_array_equal(got[mid], near[mid])
    np.testing.assert_array_equal(got[:near_paths.BLOCK], small[:near_paths.BLOCK])
    assert np.all((got == small) | (got == near) | np.isnan(got))
    assert np.count_nonzero(got[n // 2:] != small[n // 2:]) > 0      # the near tier ran there


def test_the_small_tier_of_two_arguments_in_rows(rng):
    x = (rng.standard_normal((60, 90)) * 10).astype(np.float32)
    b = (rng.standard_normal(90) * 1000).astype(np.float32)
    got = tracejit.compile(two_arguments, backend="numba")(x, b)
    arg = x * np.float32(2) + b[None, :]
    want = (apply(N.sin_f32_small, arg.ravel()).reshape(arg.shape)
            + apply(N.cos_f32_small, np.ascontiguousarray(np.broadcast_to(b, arg.shape)).ravel()).reshape(arg.shape))
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_one_dimension_far_elements_anywhere(rng, dtype):
    n = 3 * near_paths.BLOCK + 17
    x = sprinkled(rng, n, [0, 1, near_paths.BLOCK - 1, near_paths.BLOCK, 2 * near_paths.BLOCK + 5, n - 1])
    x = x.astype(dtype)
    if dtype == np.float64:
        x[[9, 4000, 9000]] = [2.0 ** 20, -1e6, 1048575.9999999999]       # near or just far
    got = tracejit.compile(sin_cos_chain, backend="numba")(x)
    far = is_far(x)
    with np.errstate(invalid="ignore", over="ignore"):
        want = elementwise("sin", x, far) * elementwise("cos", x, far) + x * x
    assert got.dtype == dtype and far.sum() >= 6
    np.testing.assert_array_equal(got, want)


def two_arguments(x, b):
    return np.sin(x * np.float32(2) + b[None, :]) + np.cos(b)[None, :]


@pytest.mark.parametrize("transposed", [False, True])
def test_rows_and_columns_with_two_arguments(rng, transposed):
    """An element reruns when either argument is far; the second input's far column
    reruns every row."""
    x = sprinkled(rng, 60 * 90, [7, 130, 4000, 5399]).reshape(60, 90)
    x = np.ascontiguousarray(x.T).T if transposed else x
    b = sprinkled(rng, 90, [3, 89])
    got = tracejit.compile(two_arguments, backend="numba")(x, b)
    with np.errstate(invalid="ignore", over="ignore"):
        arg = x * np.float32(2) + b[None, :]
        far = is_far(arg) | is_far(b)[None, :]
        want = (elementwise("sin", arg.ravel(), far.ravel()).reshape(arg.shape)
                + elementwise("cos", np.broadcast_to(b, arg.shape).ravel(), far.ravel()).reshape(arg.shape))
    np.testing.assert_array_equal(got, want)


def sin_in_place(x):
    x[...] = np.sin(x)


def sin_in_place_scaled(x):
    x[...] = np.sin(x) * np.float32(1e30)


def sin_and_bump(x):
    y = np.sin(x)
    x += 1.0
    return y


def add_sin(x):
    x += np.sin(x)


def gather_in_place(x, table):
    x[...] = np.sin(table[x.astype(np.int64)]) * 1e15


@pytest.mark.parametrize("case", ["sin", "scaled", "bump", "add", "gather"])
def test_kernels_written_in_place_keep_the_exact_helpers(case, rng):
    """The rerun reads the inputs again, so a kernel that overwrote them cannot take the
    near path (a near element whose new value is far was recomputed from it)."""
    n = 2 * near_paths.BLOCK + 3
    if case == "gather":
        table = np.linspace(0, 1, 10)
        table[3] = 1e300
        x = np.arange(n, dtype=np.float64) % 10
        f, args, want = gather_in_place, (table,), np.sin(table[(np.arange(n) % 10)]) * 1e15
    else:
        dtype = np.float64 if case in ("bump", "add") else np.float32
        x = sprinkled(rng, n, [0, 5, near_paths.BLOCK, 2 * near_paths.BLOCK + 2]).astype(dtype)
        x[[1, 2, 3]] = [1.0, 2.0 ** 20 - 0.5, 1048575.9]
        fn = {"sin": sin_in_place, "scaled": sin_in_place_scaled, "bump": sin_and_bump, "add": add_sin}[case]
        want_x = x.copy()
        with np.errstate(all="ignore"):
            want = fn(want_x)
        f, args = fn, ()
        want = want_x if want is None else (want, want_x)
    compiled = tracejit.compile(f, backend="numba")
    with np.errstate(all="ignore"):
        got = compiled(x, *args)
    got = x if got is None else (got, x)
    np.testing.assert_allclose(got, want, rtol=2e-7 if x.dtype == np.float32 else 4e-16, atol=0)
    for step in compiled.specializations()[0].plan.steps:
        for variant in getattr(getattr(step, "kernel", None), "in_place_variants", {}).values():
            assert "_tj_nsin" not in variant.source


def gather_by_sin(x, table):
    return table[((np.sin(x) + np.float32(1)) * np.float32(4)).astype(np.int64)]


def power_by_sin(x):
    return np.int64(3) ** (np.sin(x) + np.float32(1)).astype(np.int64)


@pytest.mark.parametrize("fn", [gather_by_sin, power_by_sin])
def test_checks_that_see_a_near_result_keep_the_exact_helpers(fn):
    """A far argument's near value is garbage: a bounds or value check on it would
    raise before the rerun (a fallback, or an error in place of NumPy's result)."""
    import warnings
    x = np.array([0.5, 1e30, 2.0, -3e38], np.float32)
    args = (x, np.arange(9, dtype=np.float32)) if fn is gather_by_sin else (x,)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = tracejit.compile(fn, backend="numba")(*args)
    np.testing.assert_array_equal(got, fn(*args))


def nested(x):
    return np.cos(np.sin(x) * np.float32(3e7))


def test_a_near_result_feeding_a_far_argument_reruns_that_element(rng):
    """sin(x) * 3e7 is far for most x: those elements rerun, exact all the way."""
    x = (rng.standard_normal(5000)).astype(np.float32)
    got = tracejit.compile(nested, backend="numba")(x)
    near_inner = apply(N.sin_f32_near, x) * np.float32(3e7)
    far = is_far(near_inner)
    assert far.mean() > 0.5
    exact_all = apply(T.cos_f32, apply(T.sin_f32, x) * np.float32(3e7))
    near_all = apply(N.cos_f32_near, near_inner)
    np.testing.assert_array_equal(got, np.where(far, exact_all, near_all))


def sum_of_sin(x):
    return np.sin(x).sum(axis=1)


def test_reductions_keep_the_exact_helpers(rng):
    x = sprinkled(rng, 40 * 50, [3, 77]).reshape(40, 50)
    f = tracejit.compile(sum_of_sin, backend="numba")
    got = f(x)
    np.testing.assert_allclose(got, np.sin(x.astype(np.float64)).sum(axis=1), rtol=1e-5, atol=1e-5)
    sources = [s.kernel.source for s in f.specializations()[0].plan.steps if hasattr(s, "kernel")]
    assert sources and all("_tj_nsin_f32" not in src for src in sources)


# -- the rewrite itself, on rendered text --------------------------------------------------

BODY = """    for i0 in range(start, stop):
        t1 = in0[np.uint64(i0)]
        t2 = np.float32(_tj_vsin_f32(t1))
        t3 = (t2 * t1)
        out0[np.uint64(i0)] = t3"""


def test_the_rewrite_of_a_one_dimensional_loop():
    text = near_paths.rewrite(BODY)
    first, _, rerun = text.partition("if _tj_far >= np.float32(1.0):")
    assert first.splitlines()[0] == "    for _tj_b in range(start, stop, 4096):"
    assert "for i0 in range(_tj_b, min(_tj_b + 4096, stop)):" in first
    assert "_tj_nsin_f32(t1)" in first and "_tj_vsin_f32" not in first
    assert "_tj_e = _tj_nkey_f32(t1)" in first and "_tj_far = _tj_rmaximum(_tj_far, _tj_e)" in first
    near_part, _, exact_part = rerun.partition("if _tj_e >= np.float32(1.0):")
    assert "_tj_nsin_f32" not in near_part and "out0" not in near_part     # only what the key needs
    assert [line.strip() for line in exact_part.strip().splitlines()] == \
        [line.strip() for line in BODY.splitlines()[1:]]
    compile("def kernel(start, stop, in0, out0):\n" + text, "<kernel>", "exec")


def test_the_small_tier_of_the_rewrite():
    """The small helpers run first, each call followed by its key; a block whose key
    reaches 1 runs the near tier and the exact rerun, which store it again."""
    text = near_paths.rewrite(BODY)
    small, _, two_tiers = text.partition("if _tj_near >= np.float32(1.0):")
    assert [line.strip() for line in small.splitlines()[1:] if line.strip()] == [
        "_tj_near = np.float32(0.0)", "for i0 in range(_tj_b, min(_tj_b + 4096, stop)):",
        "t1 = in0[np.uint64(i0)]", "t2 = np.float32(_tj_ssin_f32(t1))", "_tj_e = _tj_skey_f32(t1)",
        "t3 = (t2 * t1)", "out0[np.uint64(i0)] = t3", "_tj_near = _tj_rmaximum(_tj_near, _tj_e)"]
    assert "_tj_nsin_f32(t1)" in two_tiers and "if _tj_far >= np.float32(1.0):" in two_tiers
    assert "_tj_ssin" not in two_tiers
    compile("def kernel(start, stop, in0, out0):\n" + text, "<kernel>", "exec")


def test_a_loop_with_a_check_gets_no_small_tier():
    """The keys' pass would load before the check ran: only the near path and rerun."""
    body = BODY.replace("        t2 =", "        if not (0 <= i0 < 5):\n            raise IndexError('x')\n        t2 =")
    text = near_paths.rewrite(body)
    assert "_tj_nsin_f32" in text and "_tj_near" not in text and "_tj_ssin" not in text


@pytest.mark.parametrize("body", [
    BODY.replace("        t2 = np.float32(_tj_vsin_f32(t1))",
                 "        if _tj_vsin_f32(t1) > 0:\n            t2 = t1"),
    BODY.replace("_tj_vsin_f32", "_tj_vtan_f32"),
    BODY.replace("        out0[np.uint64(i0)] = t3", "        if t3 > 0:\n            out0[np.uint64(i0)] = t3"),
])
def test_loops_the_rewrite_cannot_handle_stay_exact(body):
    assert near_paths.rewrite(body) == body
