"""Movement functions, indexing, and the other array functions against eager NumPy."""
import numpy as np
import pytest

from _check import check, check_or_raises, data, run_traced
from tracejit.tracer import DataDependentError, UnsupportedError


def test_reshape_forms():
    x = data((2, 3, 4), "float32")
    check(lambda x: (x.reshape(6, 4), x.reshape((4, -1)), x.reshape(-1), np.reshape(x, (3, 8)),
                     np.reshape(x, shape=(24,)), x.reshape(2, 1, 12), x.ravel(), x.flatten(),
                     np.ravel(x)), x)
    check_or_raises(lambda x: x.reshape(5, -1), x)
    check_or_raises(lambda x: x.reshape(-1, -1), x)
    check(lambda x: x.reshape(0, 5), data((5, 0), "int32"))


def test_transpose_family():
    x = data((2, 3, 4), "int32")
    check(lambda x: (x.T, x.transpose(), x.transpose(1, 0, 2), x.transpose((2, 0, 1)),
                     np.transpose(x, (-1, 0, 1)), np.swapaxes(x, 0, -1), x.swapaxes(1, 2),
                     np.moveaxis(x, 0, -1), np.moveaxis(x, (0, 1), (2, 0)), x.mT,
                     np.permute_dims(x, (1, 2, 0)), np.matrix_transpose(x)), x)
    check_or_raises(lambda x: x.transpose(0, 1), x)


def test_expand_squeeze_broadcast():
    x = data((3, 1, 4), "float64")
    check(lambda x: (np.expand_dims(x, 0), np.expand_dims(x, -1), np.expand_dims(x, (0, 2)),
                     np.squeeze(x), x.squeeze(1), np.squeeze(x, axis=-2),
                     np.broadcast_to(x, (2, 3, 5, 4)), np.broadcast_to(x[0, 0], (3, 4)),
                     np.atleast_2d(x[0, 0, 0]), np.atleast_1d(x[0, 0, 0]), np.atleast_3d(x[:, 0])), x)
    check_or_raises(lambda x: np.squeeze(x, 0), x)
    check_or_raises(lambda x: np.broadcast_to(x, (3, 4)), x)
    check(lambda x, y: np.broadcast_arrays(x, y), data((3, 1), "float32"), data((4,), "int32"))


def test_concatenate_stack_split():
    a, b = data((2, 3), "float32", 1), data((4, 3), "float64", 2)
    check(lambda a, b: (np.concatenate([a, b]), np.concatenate((a, a), axis=1),
                        np.concatenate([a, b], axis=None), np.concatenate([a, b], dtype=np.float32,
                                                                          casting="same_kind"),
                        np.concat([a, a], axis=-1)), a, b)
    check(lambda a: (np.stack([a, a]), np.stack([a, a, a], axis=-1), np.stack([a, a], axis=1),
                     np.hstack([a, a]), np.vstack([a, a]), np.hstack([a[0], a[1]]),
                     np.vstack([a[0], a[1]]), np.column_stack([a[0], a[1]])), a)
    check_or_raises(lambda a, b: np.concatenate([a, b], axis=1), a, b)
    check_or_raises(lambda a, b: np.stack([a, b]), a, b)
    x = data((6, 5), "int32")
    check(lambda x: (np.split(x, 3), np.split(x, [1, 4], axis=0), np.array_split(x, 4, axis=1),
                     np.split(x, [2, 10]), np.split(x, [-2])), x)
    check_or_raises(lambda x: np.split(x, 4), x)


def test_flip_roll_repeat_pad_diff():
    x = data((3, 5), "float32")
    check(lambda x: (np.flip(x), np.flip(x, 0), np.flip(x, axis=-1), np.roll(x, 2), np.roll(x, -1, 0),
                     np.roll(x, (1, 2), (0, 1)), np.repeat(x, 2), np.repeat(x, 3, axis=1),
                     x.repeat(2, axis=0), np.pad(x, 1), np.pad(x, ((0, 1), (2, 0)), constant_values=5),
                     np.diff(x), np.diff(x, n=2, axis=0)), x)
    check(lambda x: np.diff(x), data((5,), "bool"))


BASIC_KEYS = [0, -1, 2, slice(None), slice(1, None), slice(None, None, -1), slice(-2, 0, -1),
              slice(10, 20), slice(None, None, 3), (0, 1), (Ellipsis, 0), (None, 1),
              (slice(None), None, 0), (1, Ellipsis, None), (-1, -2, -3), (slice(0, 0),),
              (slice(1, 3), slice(None, None, 2), 1), np.int64(1), (Ellipsis,)]


@pytest.mark.parametrize("key", BASIC_KEYS, ids=repr)
def test_basic_indexing(key):
    x = data((3, 4, 5), "float32")
    check(lambda x: x[key], x)


@pytest.mark.parametrize("key", [(0, 0, 0), (-1, 2, -5)])
def test_full_integer_index_is_numpy_scalar(key):
    check(lambda x: x[key], data((3, 4, 5), "int32"))


def test_integer_array_indexing():
    table = data((10, 4), "float32")
    ids = np.array([[1, 3], [9, 0], [-1, 2]])
    check(lambda t, i: t[i], table, ids)                           # traced ids -> take
    check(lambda t: t[ids], table)                                 # lifted index array
    check(lambda t: t[[0, 2, 2]], table)                           # list index
    check(lambda t, i: t[:, i], table, np.array([3, 0]))
    check(lambda t, i: t[1:, i], table, np.array([3, 0]))
    check(lambda t, i: t[i, 1:3], table, np.array([3, 0]))
    x = data((3, 4, 5, 6), "int32")
    check(lambda x, i: x[:, 0, :, i], x, np.array([1, 5]))        # separated: dims go first
    check(lambda x, i: x[:, i, 0], x, np.array([1, 2, 0]))        # adjacent: in place
    check(lambda x, i: x[i, :, 2], x, np.array([1, 2]))
    check(lambda x, i: x[..., i], x, np.array([[1, 5]]))
    check(lambda t, i: t[i], table, np.int64(4))                   # traced scalar index
    check_or_raises(lambda t: t[[0, 10]], table)


def test_index_errors():
    x = data((3, 4), "float32")
    check_or_raises(lambda x: x[3], x)
    check_or_raises(lambda x: x[0, 0, 0], x)
    check_or_raises(lambda x: x[..., ...], x)
    check_or_raises(lambda x: x[[0, 1], [1, 4]], x)
    check_or_raises(lambda x: x[[0, 1], [1, 2, 3]], x)
    check_or_raises(lambda x: x[np.array([True, False])], x)
    with pytest.raises(UnsupportedError, match="boolean mask"):      # the result's shape depends on the data
        run_traced(lambda x: x[x > 0], x)
    with pytest.raises(UnsupportedError, match="boolean mask"):
        run_traced(lambda x: x[x > 0] * 2, x)
    with pytest.raises(UnsupportedError, match="boolean mask"):
        run_traced(lambda x: {"kept": x[x > 0]}, x)


def test_several_integer_arrays_and_constant_masks():
    x = data((3, 4, 5), "float32")
    i, j = np.array([0, 2, -1]), np.array([[1], [3]])
    ti, tj = data((3,), "int64") % 3, np.array([[1], [-2]])
    check(lambda x: (x[i, j], x[i, :, j], x[:, i, 0], x[i, 0, j], x[np.arange(3), i], x[:, i[:, None], j[0]]), x)
    check(lambda x, ti, tj: (x[ti, tj], x[ti, :, tj], x[:, 1, ti], x[ti, 2]), x, ti, tj)
    check(lambda x: (x[np.array([True, False, True])], x[np.eye(3, 4, dtype=bool)], x[[False] * 3]), x)


def test_reductions_of_boolean_mask_reads():
    x = data((4, 5), "float32", special=False)
    i = data((4, 5), "int32")
    check(lambda x: (x[x > 0].sum(), np.sum(x[x < 1]), x[x > 0].mean(), x[x > -9].max(), x[x < 0].min(),
                     x[x > 0].any(), np.prod(x[x > 2])), x)
    check(lambda i: (i[i > 2].max(), i[i < 0].sum(), i[i != 0].min()), i)
    with pytest.raises(ValueError, match="zero-size"):
        run_traced(lambda x: x[x > 100].max(), x)


def test_elementwise_work_on_boolean_mask_reads_then_reductions():
    """y[m] ** 2, x[m] - x[m].mean(), comparisons and casts of selections under one
    mask stay selections (tracer/masked.py); their reductions compile, var/std too."""
    x = data((4, 5), "float64", special=False)
    y = data((4, 5), "float64", special=False, seed=3)
    i = data((4, 5), "int32")

    def centred(x, y):
        m = x > 0
        return (np.sum(y[m] ** 2), (x[m] - x[m].mean()).max(), (x[m] * y[m] + 1).mean(), (-x[m]).min(),
                (abs(y[m]) > 0.5).any(), x[m].var(), np.std(y[m], ddof=1), (2 ** x[m]).sum(),
                x[m].astype(np.float32).sum(), (x[m] / y[m]).prod(), (1 - x[m]).sum())
    check(centred, x, y)
    check(lambda i: ((i[i > 0] * 3).sum(), (i[i < 5] // 2).max(), (i[i > 0] > 2).sum(), i[i > 0].std()), i)
    check(lambda x: (x[x > 100] * 2).sum(), x)           # nothing selected: the sum is 0
    check(lambda x, y: (x[x > 0] * y[x > 0]).sum(), x, y)  # two evaluations of one mask

    def selected_before_writes(x):
        m = x > 0
        s = x[m]
        x += 10.0                          # the selection keeps the values it selected
        m[:] = True                        # and the elements
        return (s * 2).sum(), s.sum(), s.var()
    check(selected_before_writes, x.copy())
    for fn in (lambda x, y: (x[x > 0] + y[y > 0]).sum(), lambda x, y: (x[x > 0] + y).sum(),
               lambda x, y: (x.astype(np.int64)[x > 0] ** 2).sum(), lambda x, y: len(x[x > 0] * 2)):
        with pytest.raises(UnsupportedError):
            run_traced(fn, x, y)


def test_iteration_and_len():
    x = data((3, 2), "float32")
    check(lambda x: [row * 2 for row in x], x)
    check(lambda x: len(x) + x.shape[1] + x.ndim + x.size, x)
    check(lambda x: sum(x), x)
    check_or_raises(lambda x: len(x[0, 0]), x)


def test_where_clip_round():
    x = data((4, 5), "float32", special=True)
    i = data((4, 5), "int32")
    check(lambda x: (np.where(x > 0, x, 0.0), np.where(x > 0, 1, 2.0), np.where(x, x, -x)), x)
    check(lambda x, i: (np.where(i > 0, x, i), np.where(i > 2, i, 2), np.where(i > 2, i, 1.5)), x, i)
    check(lambda x: (np.clip(x, -1, 1.5), x.clip(0), x.clip(max=1), np.clip(x, min=-1, max=1),
                     np.clip(x, 2, 1)), x)
    check(lambda i: (np.clip(i, 0, 5), np.clip(i, 0.5, 5), np.clip(i, -1, None)), i)
    y = np.array([0.5, 1.5, 2.5, -0.5, 1.25, 2.35, 123.456, -7.77, np.nan], np.float64)
    check(lambda y: (np.round(y), np.round(y, 1), np.around(y, 2), y.round(-1), np.round(y, 3)), y, rtol=0)
    check(lambda y: np.round(y, 1), y.astype(np.float32), rtol=0)
    check(lambda i: (np.round(i), np.round(i * 37, -1), np.round(i, 2)), i)


def test_astype_copy():
    x = data((5,), "float32", special=True)
    check(lambda x: (x.astype(np.int32), x.astype(np.float64), x.astype(bool), x.astype("float32"),
                     np.astype(x, np.int8), x.copy(), np.copy(x)), np.nan_to_num(x))
    check(lambda x: x.astype(np.float32), data((5,), "int64"))
    check(lambda x: (x.astype(np.float16), x.astype(np.uint16), x.astype(np.complex64)), np.nan_to_num(x))


def test_like_functions():
    x = data((2, 3), "int32")
    check(lambda x: (np.zeros_like(x), np.ones_like(x, dtype=np.float32), np.full_like(x, 2.7),
                     np.full_like(x, 7, dtype=np.float64), np.zeros_like(x, shape=(4,)),
                     np.full_like(x, x[0, 0])), x)
    got, _ = run_traced(lambda x: np.empty_like(x), x)
    assert got.shape == x.shape and got.dtype == x.dtype


@pytest.mark.parametrize("k", [-2, -1, 0, 1, 3])
def test_tril_triu(k):
    check(lambda m: (np.tril(m, k), np.triu(m, k)), data((2, 4, 5), "float32"))
    check(lambda m: (np.tril(m, k), np.triu(m, k=k)), data((3,), "int32"))


def test_dot_matmul_outer():
    def d(*shape, seed=0, dtype="float64"):
        return data(shape, dtype, seed=seed)
    check(lambda a, b: (a @ b, np.matmul(a, b), np.dot(a, b)), d(3, 4), d(4, 5))
    check(lambda a, b: (a @ b, np.dot(a, b), np.inner(a, b), np.vdot(a, b)), d(4), d(4, seed=1))
    check(lambda a, b: (a @ b, np.dot(a, b)), d(4), d(4, 5))
    check(lambda a, b: (a @ b, np.dot(a, b)), d(2, 3, 4), d(4))
    check(lambda a, b: a @ b, d(2, 1, 3, 4), d(5, 4, 2))            # batched broadcast
    check(lambda a, b: np.dot(a, b), d(2, 3, 4), d(5, 4, 2))        # N-D dot
    check(lambda a, b: np.dot(a, b), d(4), d(2, 4, 3))
    check(lambda a, b: (np.dot(a, b), np.dot(2.0, a), np.dot(a, 3)), d(3, 4), d(4, 5))
    check(lambda a, b: (np.outer(a, b), np.inner(a, b)), d(3, 4), d(2, 4, seed=3))
    check(lambda a, b: a @ b, d(3, 4, dtype="float32"), d(4, 2, dtype="int32"))
    check(lambda a, b: a @ b, d(3, 4, dtype="int32"), d(4, 2, dtype="int64"))
    check(lambda a, b: a @ b, d(0, 4), d(4, 2))
    w = d(4, 2, seed=4)
    tr = check(lambda a: a @ w, d(3, 4))
    assert tr.lifted[0] is w
    check_or_raises(lambda a, b: a @ b, d(3, 4), d(5, 2))
    check_or_raises(lambda a, b: np.dot(a, b), d(3, 4), d(5, 2))
    check_or_raises(lambda a: a @ 2.0, d(3, 4))


def test_take_take_along_axis():
    x = data((4, 5), "float32")
    idx = np.array([[0, 3], [1, 1], [3, 2], [-1, 0]])
    check(lambda x, i: (np.take(x, i), np.take(x, i, axis=1), x.take(i, axis=0),
                        np.take_along_axis(x, i, axis=1), np.take(x, 3), np.take(x, [1, 2], axis=-1)),
          x, idx)
    check(lambda x, i: np.take_along_axis(x, i, axis=None), x, np.array([0, 19, 3]))
    check(lambda x: np.take_along_axis(x, np.argmax(x, axis=1, keepdims=True), axis=1), x)
    check_or_raises(lambda x: np.take(x, 20), x)


def test_isclose_shape_helpers():
    x, y = data((6,), "float64", 1, special=True), data((6,), "float64", 2, special=True)
    y[:4] = x[:4]
    check(lambda x, y: (np.isclose(x, y), np.isclose(x, y, equal_nan=True),
                        np.isclose(x, x + 1e-9)), x, y)
    check(lambda x: (np.shape(x), np.ndim(x), np.size(x), np.result_type(x, 1.0)),
          data((2, 3), "float32"))


def test_nested_list_of_traced_values_is_stacked():
    check(lambda a, b: a + [a, b], data((3,), "float32"), data((3,), "float32", 1))
    check(lambda a: a * [1.0, 2.0, 3.0], data((3,), "float32"))     # list -> strong f64 array
    with pytest.raises(DataDependentError):     # NumPy converts the list itself: no dispatch
        run_traced(lambda a, b: np.add([a, b], 1.0), data((3,), "float32"), data((3,), "float32"))


def test_np_array_and_asarray_of_traced_values():
    x = data((3, 4), "float32")
    i = data((3,), "int32")
    check(lambda x: (np.asarray(x) + 1, np.array(x) * 2, np.ascontiguousarray(x), np.asanyarray(x, np.float64)), x)
    check(lambda x, i: (np.array([x.sum(), x.max(), 2.0]), np.array([i.sum(), 3]), np.array([x[0], x[1]]),
                        np.array([[x[0, 0], 1], [2, x[1, 1]]], dtype=np.float32), np.asarray((i[0], i[1]))), x, i)

    def aliases(x):
        y = np.asarray(x)          # the same array: a write through it is a write into x
        z = np.array(x)            # a copy
        y[0] = -1.0
        z[1] = -2.0
        return x, z
    check(aliases, x)
    check_or_raises(lambda x: np.array([x[0], x[0, :2]]), x)


@pytest.mark.parametrize("mode", ["edge", "reflect", "symmetric", "wrap"])
@pytest.mark.parametrize("dtype", ["float32", "int16"])
def test_pad_modes_cut_from_the_array(mode, dtype):
    x = data((4, 5, 3), dtype, seed=1)
    for width in [1, (1, 2), ((0, 3), (2, 1), (1, 1)), ((3, 0), (4, 4), (0, 2)), 0]:
        check(lambda a: np.pad(a, width, mode=mode), x)
    if mode == "edge":
        check(lambda a: np.pad(a, 9, mode=mode), x)
        return
    with pytest.raises(UnsupportedError, match="wider than the array"):
        run_traced(lambda a: np.pad(a, 9, mode=mode), x)            # NumPy reflects again: eager


def test_diff_prepend_append():
    x = data((4, 5), "float32", seed=2)
    check(lambda a: (np.diff(a, prepend=0), np.diff(a, axis=0, append=a[:1]),
                     np.diff(a, n=2, prepend=1.5, append=2), np.diff(a, n=0, prepend=7) * 1,
                     np.diff(a[:, 0], 3)), x)
    check_or_raises(lambda a: np.diff(a, n=-1), x)
    check_or_raises(lambda a: np.diff(a.sum()), x)
