"""The physical copies a plan makes, and why (runtime/copies.py, the dump's
``=== physical copies ===``): each claim is checked against what NumPy and the plan
actually do with memory."""
import numpy as np
import pytest

from tracejit.ir import TensorType
from tracejit.runtime.backends import choose_backend
from tracejit.runtime.compilation import compile_function
from tracejit.runtime.dump import format_dump

X = TensorType((64, 32), np.dtype(np.float32))
W = TensorType((64, 16), np.dtype(np.float32))


def _copies(fn, *types):
    compilation = compile_function(fn, types or (X,), {}, choose_backend("numba", ()))
    return [str(c) for c in compilation.physical_copies()]


def test_elementwise_work_over_views_copies_nothing():
    assert _copies(lambda x: np.exp(x.T) + x.T[::-1] * x[:1].T) == []
    assert _copies(lambda x: (x[:, 1:].reshape(-1) + 1).sum()) == []       # a reshape inside a kernel: an index map
    assert _copies(lambda x, w: (x.T * 2) @ w, X, W) == []                 # BLAS reads the transposed view


# (view of a (64, 32) C-ordered array, reshape): NumPy's own reshape decides whether it copies
RESHAPES = [
    (lambda x: x.T, (-1,)),
    (lambda x: x.T, (16, 128)),
    (lambda x: x[:, :16], (-1,)),
    (lambda x: x[:, :16], (32, 2, 16)),
    (lambda x: x[::2], (-1,)),
    (lambda x: x[::2], (16, 64)),
    (lambda x: x[:, ::2], (64, 4, 4)),
    (lambda x: x.reshape(8, 8, 32).transpose(1, 0, 2), (8, 256)),
    (lambda x: x.reshape(8, 8, 32).transpose(1, 0, 2), (64, 32)),
    (lambda x: x[:1], (32,)),
]


@pytest.mark.parametrize("view, shape", RESHAPES)
def test_a_returned_reshape_is_reported_as_a_copy_exactly_where_numpy_copies(view, shape):
    x = np.zeros((64, 32), np.float32)
    numpy_copies = not np.shares_memory(view(x).reshape(shape), x)
    found = _copies(lambda x: view(x).reshape(shape))
    assert bool(found) == numpy_copies, found
    if numpy_copies:
        assert found[0].startswith("reshape f32[") and "needed by the returned value" in found[0], found


def test_a_reshape_copy_names_the_matmul_that_needs_it():
    (found,) = _copies(lambda x, w: x.T.reshape(64, 32) @ w[:32], X, W)
    assert "reshape f32[32,64] -> f32[64,32]" in found and "the matmul of kernel" in found and "BLAS" in found


def test_a_matmul_operand_without_a_unit_stride_is_reported():
    found = _copies(lambda x, w: x[::2, ::2].T @ w[::2][:, ::2].T.T, X, W)
    assert len(found) == 2 and all("np.matmul copies it for BLAS" in f for f in found), found
    assert _copies(lambda x, w: x[::2].T @ w[::2], X, W) == []              # a row step keeps a unit stride


def test_kernels_that_only_move_data_and_what_needs_them():
    (found,) = _copies(lambda x, w: np.concatenate([x, w], axis=1), X, W)
    assert "only moves data (concat)" in found and "the returned value" in found
    (found,) = _copies(lambda x: np.pad(x, 1))
    assert "only moves data (pad)" in found
    assert _copies(lambda x: np.concatenate([x, np.exp(x)])) == []          # the kernel computes too


def test_a_returned_copy_of_an_argument_view_is_reported_and_is_new_memory():
    (found,) = _copies(lambda x: x.T.copy())
    assert found.startswith("output 0") and "NumPy returns new memory" in found
    assert _copies(lambda x: x.T) == []                                      # a view, as NumPy's


def test_a_loop_writing_into_its_carried_array_reports_the_entry_copy():
    def rows(x):
        for i in range(1, 64):
            x[i] = x[i] * 2 + x[i - 1]
        return x
    (found,) = _copies(rows)
    assert found.startswith("loop carried value 0") and "copied once on entry" in found


def test_the_dump_shows_the_section():
    compilation = compile_function(lambda x: x.T.reshape(-1), (X,), {}, choose_backend("numba", ()))
    text = format_dump(compilation)
    section = text.split("=== physical copies ===\n")[1].split("\n\n")[0]
    assert section.startswith("reshape f32[32,64] -> f32[2048]")
    compilation = compile_function(lambda x: x.T + 1, (X,), {}, choose_backend("numba", ()))
    assert "=== physical copies ===\nnone: every transpose" in format_dump(compilation)


# loops whose body, once simplified, returns one of its inputs (x * 1.0 -> x) or one
# buffer twice: each returned array is new memory, as NumPy's are, unless NumPy's is x
def _loop_passes_an_argument_through(a, x):
    b = np.zeros(6)
    for _ in range(100):
        a = a * 0.5 + b + np.sin(a)
        b = x * 1.0
    return a, b


def _loop_returns_hoisted_work_also_computed_outside(a, x):
    b = np.zeros(6)
    for _ in range(100):
        a = a * 0.5 + b + np.sin(a)
        b = np.exp(x) * 1.0
    return a, b, np.exp(x)


def _loop_returns_one_buffer_twice(a, x):
    b, c = np.zeros(6), np.zeros(6)
    for _ in range(100):
        a = a * 0.5 + b + c + np.sin(a)
        b = np.exp(x) * 1.0
        c = np.exp(x) * 1.0
    return a, b, c


def _loop_returns_the_argument_itself(a, x):
    b = np.zeros(6)
    for _ in range(100):
        a = a * 0.5 + b + np.sin(a)
        b = x
    return a, b


@pytest.mark.parametrize("fn", [_loop_passes_an_argument_through, _loop_returns_hoisted_work_also_computed_outside,
                                _loop_returns_one_buffer_twice, _loop_returns_the_argument_itself])
def test_loop_results_share_memory_only_where_numpys_do(fn):
    import tracejit
    from tracejit.runtime.plan import LoopStep
    compiled = tracejit.compile(fn, fullgraph=True)
    for call in range(2):
        a, x = np.linspace(0.0, 1.0, 6), np.linspace(-1.0, 1.0, 6) * (call + 1)
        want = fn(a.copy(), x.copy())
        got = compiled(a, x)
        for g, w in zip(got, want):
            np.testing.assert_allclose(g, w, rtol=1e-13)
        arrays = [*got, x]
        for i in range(len(arrays)):
            for j in range(i + 1, len(arrays)):
                if i == 1 and j == len(arrays) - 1 and fn is _loop_returns_the_argument_itself:
                    assert got[1] is x                    # NumPy's b is x
                    continue
                assert not np.shares_memory(arrays[i], arrays[j]), (i, j)
    plan = next(iter(compiled._cache.values()))[0].plan
    assert any(type(step) is LoopStep for step in plan.steps)
