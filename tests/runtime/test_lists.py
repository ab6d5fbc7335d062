"""Lists of numbers as arguments (issue 8, section 4): a long list of floats, ints or
NumPy scalars of one type is one vector input, not one traced value per element; its
elements keep Python's (weak) or NumPy's (strong) promotion; a list of token ids
indexes an embedding; int lists that decide shapes are retried as static values;
changing or returning the list runs eagerly."""
import numpy as np
import pytest

from tests.runtime.eager_check import check_like_eager

PROGRAMS = """
import numpy as np
def weighted(x, ws):
    return x * np.asarray(ws).sum() + sum(ws[:3]) + ws[-1]
def embed(wte, wpe, inputs):
    return wte[inputs] + wpe[range(len(inputs))]
def reads(x, ws):
    return x * ws[0] + np.mean(ws) + np.dot(ws, ws) + np.add(ws, 1)[:2].sum() + len(ws), list(reversed(ws))[0] + ws.copy()[1]
def shape_ints(x, sizes):
    return x.reshape(sizes[:2]).sum() + len(sizes)
def appends(x, ws):
    ws.append(1.0)   # <-
    return x * ws[-1]
def returns(x, ws):
    return ws, x + 1
def as_array(x, ws):
    return np.exp(ws) * x.sum() + np.maximum(ws, 0.3) + np.asarray(ws).mean() + ws[0]
def writes_item(x, ws):
    ws[0] = 5.0
    return x * ws[0] + ws[1]
"""


def floats(n, offset=0.0):
    return [offset + i / 7 for i in range(n)]


def test_a_long_float_list_is_one_input_with_weak_elements():
    calls = [lambda m, k=k: (np.ones(3, np.float32), floats(10_000, k)) for k in (0.0, 0.5, 2.0)]
    f, _ = check_like_eager(PROGRAMS, "weighted", calls, backend="numba")
    assert len(f.compiles) == 1                         # new values: no retrace
    graph = f.specializations()[0].compilation.graph
    assert len(graph.inputs) == 2                       # not 10,001


@pytest.mark.parametrize("element", [float, np.float32, np.float64, int])
def test_elements_promote_as_the_numbers_they_stand_for(element):
    calls = [lambda m, k=k: (np.ones(3, np.float32), [element(i + k) for i in range(20)]) for k in (1, 2)]
    f, _ = check_like_eager(PROGRAMS, "reads", calls, backend="numba")
    assert len(f.compiles) == 1


@pytest.mark.parametrize("backend", ["numba", "triton"])
def test_token_id_lists_index_embeddings(backend):
    rng = np.random.default_rng(0)
    wte, wpe = rng.random((100, 8)), rng.random((64, 8))
    tokens = [list(range(k, k + 20)) for k in (0, 5)] + [[3] * 20]
    calls = [lambda m, t=t: (wte.copy(), wpe.copy(), t) for t in tokens]
    f, _ = check_like_eager(PROGRAMS, "embed", calls, backend=backend)
    assert len(f.compiles) == 1                         # new token values of one length: no retrace


def test_int_lists_that_decide_shapes_become_static():
    calls = [lambda m, s=s: (np.arange(6.0), s + [1] * 14) for s in ([2, 3], [2, 3], [3, 2])]
    f, _ = check_like_eager(PROGRAMS, "shape_ints", calls)
    assert f.fallbacks == [] and len(f.compiles) == 2


@pytest.mark.parametrize("name", ["appends", "returns"])
def test_changing_or_returning_the_list_runs_eagerly(name):
    calls = [lambda m: (np.ones(3), floats(20))] * 2
    check_like_eager(PROGRAMS, name, calls, warns=1, names_line=name == "appends")


def test_a_token_list_that_grows_by_one_per_call_is_not_traced_per_token():
    rng = np.random.default_rng(1)
    wte, wpe = rng.random((50, 8)), rng.random((64, 8))
    tokens = [3, 1, 4]
    calls = []
    for _ in range(14):                      # 3 tokens up to 16: the length changes every call
        calls.append(lambda m, t=list(tokens): (wte.copy(), wpe.copy(), t))
        tokens.append(len(tokens) % 7)
    f, _ = check_like_eager(PROGRAMS, "embed", calls, backend="numba")      # (families need kernels)
    # 3 tokens (a plain list), 4 (a number list from now on), 5 (and a shape family)
    assert len(f.compiles) == 3


def test_a_short_float_list_used_as_an_array_compiles_as_one_vector():
    """np.exp(weights) on a 3-float list: traced scalars cannot become an array, so the
    function retries with float lists as one vector; new values do not retrace."""
    calls = [lambda m, k=k: (np.ones(4, np.float32), [0.5 + k, 0.25, -1.5]) for k in (0.0, 1.0, 2.0)]
    f, _ = check_like_eager(PROGRAMS, "as_array", calls, backend="numba")
    assert f.fallbacks == [] and len(f.compiles) == 1


def test_a_short_float_list_written_by_item_still_writes_the_callers_list():
    calls = [lambda m, k=k: (np.ones(3), [1.0 + k, 2.0]) for k in (0.0, 1.0)]
    f, _ = check_like_eager(PROGRAMS, "writes_item", calls, backend="numba")
    assert f.fallbacks == []
