"""NumPy ufuncs and functions traced as compositions of other ops (tracer/compositions.py,
tracer/order_statistics.py): deg2rad/rad2deg, signbit, copysign, heaviside, fix, sinc,
select, diag, rot90, cross, trapezoid, median, quantile and percentile, every dtype
they take, against eager NumPy bit for bit (float16 included)."""
import numpy as np
import pytest

from _check import check, check_or_raises, data, run_traced
from tracejit.tracer import UnsupportedError

DTYPES = ["float16", "float32", "float64", "int16", "int64"]


@pytest.mark.parametrize("dtype", DTYPES)
def test_elementwise_compositions(dtype):
    x = data((4, 6), dtype, special=dtype.startswith("float"), seed=1)
    check(lambda a: (np.deg2rad(a), np.rad2deg(a), np.radians(a), np.degrees(a), np.signbit(a), np.fix(a),
                     np.sinc(a)), x, rtol=0)
    check(lambda a: (np.copysign(a, -1.0), np.copysign(3.0, a), np.heaviside(a, 0.5)), x, rtol=0)


def test_signbit_sees_negative_zero_and_negative_nan():
    x = np.array([-0.0, 0.0, np.nan, -np.nan, -np.inf, 1e-45, -1e-45], np.float32)
    got, _ = run_traced(lambda a: (np.signbit(a), np.signbit(a.astype(np.float16)), np.signbit(a.astype(np.float64))), x)
    for g in got:
        np.testing.assert_array_equal(g, np.signbit(x))


def test_select_diag_rot90():
    x = data((4, 6), "float32", seed=2)
    check(lambda a: (np.select([a > 1, a < -1], [a * 2, a - 1], default=0.5),
                     np.select([a > 1, a < -1], [a * 2, 7], default=np.float32(0)),
                     np.select([a[0] > 0], [3])), x)
    with pytest.raises(TypeError, match="should be boolean"):
        run_traced(lambda a: np.select([a], [a]), x)
    check(lambda a: (np.diag(a), np.diag(a, 2), np.diag(a, -1), np.diag(a[0]), np.diag(a[0], 2),
                     np.diag(a[1], -3)), x)
    for k in range(-1, 5):
        check(lambda a: np.rot90(a, k), x)
    check(lambda a: np.rot90(a.reshape(2, 3, 4), 1, axes=(2, 0)), x)
    with pytest.raises(ValueError, match="Axes must be different"):
        run_traced(lambda a: np.rot90(a, 1, axes=(0, 0)), x)


def test_cross_and_trapezoid():
    v, w = data((5, 3), "float64", seed=5), data((5, 3), "float64", seed=6)
    check(lambda a, b: (np.cross(a, b), np.cross(a[0], b)), v, w)
    with pytest.raises(UnsupportedError):
        run_traced(lambda a, b: np.cross(a[:, :2], b[:, :2]), v, w)
    y = data((4, 6), "float64", seed=7)
    t = np.cumsum(np.abs(y), 1)
    check(lambda y, t: (np.trapezoid(y), np.trapezoid(y, dx=0.5, axis=0), np.trapezoid(y, t[0]),
                        np.trapezoid(y, t, axis=1)), y, t)


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64", "int32"])
def test_median_quantile_percentile(dtype):
    for seed, special in ((1, dtype.startswith("float")), (2, False)):
        x = data((5, 6), dtype, special=special, seed=seed)
        check(lambda a: (np.median(a), np.median(a, axis=0), np.median(a, axis=-1, keepdims=True),
                         np.median(a, keepdims=True)), x, rtol=0)
        check(lambda a: (np.percentile(a, 50), np.percentile(a, 90, axis=0),
                         np.quantile(a, 0.25, axis=1, keepdims=True), np.quantile(a, [0.1, 0.5, 1.0], axis=0),
                         np.percentile(a, [0, 33.3, 100]), np.quantile(a, [[0.2], [0.7]], axis=1, keepdims=True)),
              x, rtol=0)


@pytest.mark.parametrize("dtype", ["float32", "int64"])
def test_integer_q_takes_the_element_in_the_datas_dtype(dtype):
    x = data((3, 4, 5), dtype, special=dtype == "float32", seed=4)
    check(lambda a: (np.quantile(a, [0, 1], axis=-1), np.quantile(a, 1, axis=0, keepdims=True),
                     np.quantile(a, (0, 1)), np.percentile(a, [0, 100], axis=1)), x, rtol=0)


def test_order_statistics_errors_and_empty_slices():
    x = data((3, 4), "float64")
    check(lambda a: np.median(a[:, :0], axis=1), x)
    check_or_raises(lambda a: np.quantile(a, 1.5), x)
    check_or_raises(lambda a: np.percentile(a, -1), x)
    with pytest.raises(UnsupportedError):
        run_traced(lambda a: np.quantile(a, 0.5, method="nearest"), x)


def test_pad_width_must_be_integral():
    x = data((3, 4), "float64")
    check(lambda a: np.pad(a, np.int64(1)), x)
    for width in (1.5, 1.0, [(1, 2.0), (0, 1)]):
        with pytest.raises(TypeError, match="integral"):
            run_traced(lambda a: np.pad(a, width), x)


def test_traced_python_floats_stay_weak():
    x = data((4, 6), "float32", special=True, seed=3)
    check(lambda a, s: (np.copysign(a, s), np.copysign(s, a), np.heaviside(a, s), np.deg2rad(a) * s), x, -0.5,
          rtol=0)


def test_fix_of_0d_is_a_scalar():
    check(lambda a: (np.fix(a[0, 0]), np.fix(a.sum()), np.fix(np.asarray(a[1, 1]))), data((2, 2), "float64"))


def test_order_statistics_copy_the_datas_nan():
    x = np.array([[1.0, -np.nan, 3.0, 2.0], [4.0, 5.0, 6.0, 7.0], [np.nan, 0.5, 1.5, 2.5]])
    got, _ = run_traced(lambda a: (np.median(a, axis=1), np.quantile(a, [0.3, 0.5], axis=1), np.median(a[0]),
                                   np.percentile(a, 40, axis=1), np.median(a.astype(np.float32), axis=1)), x)
    want = (np.median(x, axis=1), np.quantile(x, [0.3, 0.5], axis=1), np.median(x[0]), np.percentile(x, 40, axis=1),
            np.median(x.astype(np.float32), axis=1))
    for g, w in zip(got, want):
        np.testing.assert_array_equal(np.signbit(g), np.signbit(w))
        np.testing.assert_array_equal(g, w)


def test_overwrite_input_runs_eagerly():
    x = data((3, 4), "float64")
    for fn in (lambda a: np.median(a, overwrite_input=True), lambda a: np.quantile(a, 0.5, overwrite_input=True),
               lambda a: np.percentile(a, 5, axis=0, overwrite_input=True)):
        with pytest.raises(UnsupportedError, match="overwrite_input"):
            run_traced(fn, x)


def test_scalar_results_of_composed_ufuncs_are_scalars():
    x = np.array([1.5, -0.0], np.float16)
    check(lambda a, s: (np.copysign(a[0], s), np.copysign(s, s), np.heaviside(a[1], s), np.signbit(a[0]),
                        np.deg2rad(a[0])), x, -1.0, rtol=0)


def test_order_statistics_partition_instead_of_sorting():
    """NumPy's median and quantile partition (linear time); so does the trace, at just
    the positions they read, and the results stay NumPy's, signs of zero included."""
    from tracejit.tracer import trace
    from tracejit.ir.types import TensorType
    tr = trace(lambda a: (np.median(a, axis=0), np.percentile(a, [10, 90], axis=0)),
               (TensorType((101, 3), np.dtype(np.float64)),), {})
    ops = [node.op.name for node in tr.graph.nodes]
    assert "sort" not in ops and ops.count("partition") == 2
    kth = sorted(node.attrs["kth"] for node in tr.graph.nodes if node.op.name == "partition")
    assert kth == [(10, 11, 90, 91), (50,)]
    x = np.array([[0.0, -0.0, 1.0, -1.0, -0.0, 0.0, 2.0], [-0.0] * 7, [3.0, -0.0, 0.0, 0.0, -0.0, 5.0, -2.0]])
    fns = lambda a: (np.median(a, axis=1), np.median(a[:, :6], axis=1), np.quantile(a, [0.0, 0.3, 0.5, 1.0], axis=1),
                     np.percentile(a.T, 50, axis=0))
    got, _ = run_traced(fns, x)
    for g, w in zip(got, fns(x)):
        np.testing.assert_array_equal(g, w)
        np.testing.assert_array_equal(np.signbit(g), np.signbit(w))
    check(lambda a: (np.quantile(a, np.linspace(0, 1, 17), axis=1), np.median(a)), data((5, 40), "float32", seed=3),
          rtol=0)
