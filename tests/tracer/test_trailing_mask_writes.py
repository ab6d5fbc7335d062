"""``x[:, :, mask] = v`` and ``x[..., mask] = v``: a boolean mask over the trailing axes
after whole slices (attention's ``att[:, :, ~causal] = -np.inf``) is a select, as NumPy
writes it; values that would need one entry per selected element run eagerly."""
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
