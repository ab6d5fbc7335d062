"""Boolean masks after whole slices. ``x[:, :, mask] = v`` and ``x[..., mask] = v``
(attention's ``att[:, :, ~causal] = -np.inf``) are a select; values that would need one
entry per selected element run eagerly. Reads with a NumPy mask (``x[:, keep]``: its
count known when tracing) are an integer index; with a traced mask they run eagerly."""
import numpy as np
import pytest

from tests.runtime.eager_check import check_like_eager

PROGRAMS = """
import numpy as np
T = 6
CAUSAL = np.tril(np.ones((T, T), bool))
def causal_scores(q, k):
    att = q @ k.swapaxes(-1, -2)
    att[:, :, ~CAUSAL] = -np.inf
    e = np.exp(att - att.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)
def traced_mask(q, k):
    att = q @ k.swapaxes(-1, -2)
    att[..., ~np.tril(np.ones((T, T), dtype=bool))] = -np.inf
    return att
def per_leading_row(x, v):
    x[:, x[0] > 0] = v[:, None]
    return x
def into_ints(x):
    x[:, np.array([True, False, True, False])] = 2.7
    return x
def one_per_element(x):
    x[:, x[0] > 0] = np.arange(3.0)  # <-
    return x
def constant_reads(x, y):
    keep = np.array([True, False, True, True, False])
    grid = np.array([[1, 0, 1, 1, 0]] * 4, bool)
    x[:, keep] += 1
    return x[:, keep] * 2, x[..., keep].sum(-1), y[:, grid] + 1, y[:, :, [True, False, True, False, True]]
def traced_read(x):
    return x[:, x[0] > 0]
"""

RNG = np.random.default_rng(0)
Q, K = RNG.standard_normal((2, 3, 6, 4)), RNG.standard_normal((2, 3, 6, 4))


@pytest.mark.parametrize("backend", ["interpret", "numba"])
def test_a_causal_mask_written_into_scores_is_a_select(backend):
    check_like_eager(PROGRAMS, "causal_scores", [lambda m: (Q.copy(), K.copy())], backend=backend)
    check_like_eager(PROGRAMS, "traced_mask", [lambda m: (Q.copy(), K.copy())], backend=backend)


def test_a_value_per_leading_position_and_dtype_conversion():
    x = RNG.standard_normal((3, 5))
    x[0, 1] = -1.0
    v = RNG.standard_normal(3)
    check_like_eager(PROGRAMS, "per_leading_row", [lambda m: (x.copy(), v.copy())])
    check_like_eager(PROGRAMS, "into_ints", [lambda m: (np.arange(12).reshape(3, 4),)])


def test_one_value_per_selected_element_runs_eagerly():
    x = np.array([[1.0, -1, 1, 1, -1], [0, 0, 0, 0, 0]])
    check_like_eager(PROGRAMS, "one_per_element", [lambda m: (x.copy(),)], warns=1)


@pytest.mark.parametrize("backend", ["interpret", "numba"])
def test_reads_and_writes_with_a_numpy_mask_after_slices(backend):
    x, y = RNG.standard_normal((3, 5)), RNG.standard_normal((2, 4, 5))
    check_like_eager(PROGRAMS, "constant_reads", [lambda m: (x.copy(), y.copy())], backend=backend)


def test_a_read_with_a_traced_mask_after_slices_runs_eagerly():
    x = np.array([[1.0, -1, 1, 1, -1], [0, 0, 0, 0, 0]])
    check_like_eager(PROGRAMS, "traced_read", [lambda m: (x.copy(),)], warns=1, names_line=False)
