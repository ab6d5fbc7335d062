"""trace(): inputs, lifted arrays, outputs, source locations, pytrees and errors."""
import collections
import inspect

import numpy as np
import pytest

from _check import check, data, run_traced
from tracejit.ir import TensorType, run_graph, verify
from tracejit.tracer import (ArgumentError, DataDependentError, TracedArray, TracerError,
                             UnsupportedError, flatten, leaf_paths, trace, unflatten)
from tracejit.tracer.state import _ACTIVE

F32 = TensorType((4,), np.float32)


def line_of(fn, marker):
    lines, start = inspect.getsourcelines(fn)
    for offset, text in enumerate(lines):
        if marker in text:
            return start + offset
    raise AssertionError(marker)


# --- pytree ---------------------------------------------------------------------------

Pair = collections.namedtuple("Pair", "a b")


def test_pytree_roundtrip_and_hashable():
    obj = ({"w1": 1, "b": [2, (3, None)]}, Pair(4, 5), "s")
    leaves, tree = flatten(obj)
    assert leaves == [1, 2, 3, None, 4, 5, "s"]
    assert unflatten(tree, leaves) == obj
    assert list(unflatten(tree, leaves)[0]) == ["w1", "b"]           # insertion order kept
    _, tree2 = flatten(({"w1": 9, "b": [9, (9, 9)]}, Pair(9, 9), 9))
    assert tree == tree2 and hash(tree) == hash(tree2)
    _, tree3 = flatten(({"b": [9, (9, 9)], "w1": 9}, Pair(9, 9), 9))
    assert tree != tree3
    assert leaf_paths(tree, "params") == ["params[0]['w1']", "params[0]['b'][0]",
                                          "params[0]['b'][1][0]", "params[0]['b'][1][1]",
                                          "params[1].a", "params[1].b", "params[2]"]
    with pytest.raises(ValueError):
        unflatten(tree, leaves[:-1])


# --- inputs, outputs, lifting ------------------------------------------------------

def test_nested_arguments_and_static_leaves():
    params = {"w": data((3, 2), "float32"), "b": data((2,), "float32", 1)}

    def f(params, x, n, act):
        y = x @ params["w"] + params["b"]
        for _ in range(n):                      # static int: the loop unrolls
            y = act(y)
        return {"y": y, "n": n, "name": "relu"}
    check(f, params, data((5, 3), "float32"), 2, np.tanh)
    _, tr = run_traced(f, params, data((5, 3), "float32"), 2, np.tanh)
    assert tr.traced_paths == ["args[0]['w']", "args[0]['b']", "args[1]"]
    assert sum(n.op.name == "tanh" for n in tr.graph.nodes) == 2


def test_outputs_kinds():
    x = data((3,), "float32")
    const = np.arange(3.0)

    def f(x, lr):
        return x, x.sum(), x[0], lr * 2.0, 7, None, const, x.reshape(3, 1)[0, 0], lr
    got, tr = run_traced(f, x, 0.5)
    assert type(got[1]) is np.float32 and type(got[2]) is np.float32
    assert type(got[3]) is float and got[3] == 1.0 and type(got[8]) is float
    assert got[4] == 7 and got[5] is None
    assert np.array_equal(got[6], const) and got[6] is not const      # static arrays are copied
    assert tr.out_weak == [False, False, False, True, False, False, False, False, True]
    check(f, x, 0.5)


def test_closure_global_and_attribute_arrays_are_lifted():
    w = data((3,), "float64", 5)

    class Model:
        def __init__(self):
            self.scale = data((3,), "float64", 6)

        def __call__(self, x):
            return (x * w + self.scale) @ w + GLOBAL_BIAS + np.arange(2)

    tr = check(Model(), data((2, 3), "float64"))
    assert len(tr.graph.inputs) == 1 + len(tr.lifted)
    assert any(a is w for a in tr.lifted) and any(a is GLOBAL_BIAS for a in tr.lifted)
    assert sum(a is w for a in tr.lifted) == 1                  # one input per array object
    scalar = np.float32(2.5)                  # NumPy scalars (immutable) become constants,
    step = np.array(1.0)                      # 0-d arrays (mutable) are lifted like arrays
    tr = check(lambda x: x * scalar + step, data((3,), "float32"))
    assert len(tr.lifted) == 1 and tr.lifted[0] is step


GLOBAL_BIAS = np.array([1.0, 2.0])


def test_node_locations_point_to_user_code():
    def f(x):
        y = np.exp(x)             # LINE-A
        return y.mean()           # LINE-B
    tr = trace(f, (F32,), {})
    locs = {n.op.name: n.loc for n in tr.graph.nodes}
    assert locs["exp"].endswith(f"test_trace.py:{line_of(f, 'LINE-A')}")
    assert locs["reduce_sum"].endswith(f"test_trace.py:{line_of(f, 'LINE-B')}")
    assert locs["div"].endswith(f"test_trace.py:{line_of(f, 'LINE-B')}")
    assert "f(" in str(tr.graph) or "@f" in str(tr.graph)


def test_active_trace_is_reset():
    with pytest.raises(DataDependentError):
        trace(lambda x: bool(x.sum()), (F32,), {})
    assert _ACTIVE.get() is None


# --- errors ---------------------------------------------------------------------------

@pytest.mark.parametrize("body", [
    lambda x: 1 if x.sum() > 0 else 2,
    lambda x: int(x[0]),
    lambda x: float(x.mean()),
    lambda x: x.item(),
    lambda x: x.tolist(),
    lambda x: [1, 2, 3][x[0].astype(np.int64)],
    lambda x: np.float32(x[0]),
    lambda x: x[0] and x[1],
])
def test_data_dependent_errors(body):
    with pytest.raises(DataDependentError) as info:
        trace(body, (F32,), {})
    err = info.value
    assert isinstance(err, TracerError) and err.loc.endswith(f":{body.__code__.co_firstlineno}")
    assert "np.where" in str(err) or "astype" in str(err) or "static" in str(err)


def test_data_dependent_error_names_the_line():
    def f(x):
        y = x * 2
        if y.max() > 1:           # THE-LINE
            y = y - 1
        return y
    with pytest.raises(DataDependentError) as info:
        trace(f, (F32,), {})
    assert info.value.loc.endswith(f"test_trace.py:{line_of(f, 'THE-LINE')}")
    assert "bool()" in str(info.value) and "np.where" in str(info.value)


@pytest.mark.parametrize("body, name", [
    (lambda x: np.lexsort((x, x)), "np.lexsort"),
    (lambda x: np.unique(x), "np.unique"),
    (lambda x: np.linalg.eig(x.reshape(2, 2)), "np.linalg.eig"),
    (lambda x: np.where(x > 0), "np.where"),
    (lambda x: np.spacing(x), "np.spacing"),
    (lambda x: np.add.reduceat(x, [0, 1]), "np.add.reduceat"),
    (lambda x: np.add(x, 1, where=x > 0), "np.add"),
    (lambda x: x.sum(out=np.zeros(())), "sum"),
    (lambda x: np.fft.hfft(x), "np.fft.hfft"),
])
def test_unsupported_functions(body, name):
    with pytest.raises(UnsupportedError) as info:
        trace(body, (F32,), {})
    assert name in str(info.value)
    assert info.value.loc.endswith(f":{body.__code__.co_firstlineno}")


def test_unsupported_dtypes():
    with pytest.raises(UnsupportedError, match="object"):
        trace(lambda x: x, (TensorType((2,), np.dtype(object)),), {})
    with pytest.raises(UnsupportedError, match="datetime64"):
        trace(lambda x: x + np.ones(4, "datetime64[s]"), (F32,), {})


def test_shape_mismatch_is_numpy_valueerror():
    with pytest.raises(ValueError, match="could not be broadcast"):
        trace(lambda x: x + np.ones(3), (F32,), {})
    with pytest.raises(ValueError):
        trace(lambda x: x.reshape(3, 2), (F32,), {})


def test_escaped_tracer_and_inplace_rules():
    leaked = []
    trace(lambda x: leaked.append(x) or x, (F32,), {})
    with pytest.raises(TracerError):
        leaked[0] + 1
    with pytest.raises(TracerError):
        trace(lambda x: x + leaked[0], (F32,), {})



def test_writes_are_functionalized_and_recorded_as_mutations():
    def mutate_argument(x):
        x += 1
        return x
    tr = trace(mutate_argument, (F32,), {})
    assert tr.mutations == [(0, 0, None)] and tr.outputs[0].alias == 0     # x is written back; f returns x itself
    x = data((4,), "float32")
    before = x.copy()
    got, _ = run_traced(mutate_argument, x)
    np.testing.assert_array_equal(got, before + 1)

    def mutate_view(x):
        y = x * 1
        v = y[1:]
        y += 1                   # v sees the write, as in NumPy
        y[::2] = -y[::2]
        return v, y
    check(mutate_view, x)
    check(lambda x: (lambda y: (y.__setitem__(0, 1.0), y)[1])(x * 2), x)

def test_argument_error_names_path():
    err = ArgumentError("bad value", "params['w1']")
    assert isinstance(err, TypeError) and "params['w1']" in str(err)


def test_traced_array_attrs_and_no_text_while_tracing():
    seen = []

    def f(x):
        assert isinstance(x, TracedArray) and isinstance(x, np.ndarray)
        assert x.dtype == np.float32 and x.itemsize == 4 and x.nbytes == 16 and x.T.shape == (4,)
        seen.append(x)
        return x
    trace(f, (F32,), {})
    assert repr(seen[0]) == "TracedArray(f32[4])"          # after the trace: a debugging repr
    for to_text in (repr, str, lambda x: f"{x}", lambda x: f"{x:.4f}", lambda x: format(x, "")):
        with pytest.raises(UnsupportedError, match="traced value"):
            trace(lambda x: to_text(x), (F32,), {})


def test_isinstance_sees_what_eager_numpy_returns():
    def f(x, lr):
        s = x.sum()
        return (isinstance(x, np.ndarray), isinstance(s, np.ndarray), isinstance(s, np.floating),
                isinstance(lr, float), isinstance(lr * 2.0, float), isinstance(x[0], np.float32),
                type(x) is np.ndarray)        # type() answers as eager code too (tracer/eager_type.py)
    _, tr = run_traced(f, data((4,), "float32"), 0.5)
    assert [leaf.value for leaf in tr.outputs] == [True, False, True, True, True, True, True]


def test_a_caught_tracer_error_still_fails_the_trace():
    def f(x):
        try:
            if x.sum() > 0:
                return x
        except Exception:
            pass
        return -x
    with pytest.raises(DataDependentError):
        trace(f, (F32,), {})


def test_interpreter_weak_constant_bits():
    """Eager `x32 * 0.1` multiplies in float32; the graph must say so exactly."""
    x = data((1000,), "float32", 3)
    got, tr = run_traced(lambda x: x * 0.1, x)
    mul = [n for n in tr.graph.nodes if n.op.name == "mul"][0]
    assert mul.outputs[0].type.dtype == np.float32
    assert [v.type.weak for v in mul.inputs] == [False, True]
    np.testing.assert_allclose(got, x * 0.1, rtol=2e-7)
