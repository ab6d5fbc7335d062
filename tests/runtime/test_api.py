"""End-to-end behaviour of tracejit.compile: caching, recompiles, fallbacks, errors."""
import warnings

import numpy as np
import pytest

import tracejit
from tests.helpers import assert_matches_numpy

rng = np.random.default_rng(0)


def scale_shift(x, y, alpha=2.0):
    return x * alpha + y


def test_compiles_once_per_signature_and_reuses_the_plan():
    f = tracejit.compile(scale_shift)
    x, y = rng.random((5, 7), dtype=np.float32), rng.random(7, dtype=np.float32)
    assert_matches_numpy(f(x, y), scale_shift(x, y))
    assert_matches_numpy(f(x, y), scale_shift(x, y))
    assert len(f.compiles) == 1
    assert f.compiles[0].reason == "first call"


def test_new_python_float_does_not_recompile_and_stays_float32():
    f = tracejit.compile(scale_shift)
    x, y = rng.random((3, 4), dtype=np.float32), rng.random((3, 4), dtype=np.float32)
    for alpha in (0.5, 1.5, -3.25):
        out = f(x, y, alpha)
        assert out.dtype == np.float32
        assert_matches_numpy(out, scale_shift(x, y, alpha))
    assert len(f.compiles) == 1


def test_new_shape_recompiles_with_a_reason_naming_the_argument():
    f = tracejit.compile(scale_shift)
    f(np.ones((2, 3)), np.ones(3))
    f(np.ones((4, 3)), np.ones(3))
    assert len(f.compiles) == 2
    assert "x" in f.compiles[1].reason and "[4,3]" in f.compiles[1].reason


def test_new_batch_size_reuses_the_generated_kernels():
    from bench.models import softmax
    f = tracejit.compile(softmax)
    a = f(rng.random((8, 33), dtype=np.float32))
    b = f(rng.random((16, 33), dtype=np.float32))
    assert a.shape == (8, 33) and b.shape == (16, 33)
    k1 = [s.plan.kernels for s in f.specializations()]
    assert len(k1) == 2
    assert [k.source for k in k1[0]] == [k.source for k in k1[1]]
    assert all(x is y for x, y in zip(k1[0], k1[1]))


def test_static_int_argument_is_part_of_the_key():
    def power_sum(x, n):
        total = x
        for _ in range(n - 1):
            total = total * x
        return total.sum()
    f = tracejit.compile(power_sum)
    x = rng.random(10)
    assert_matches_numpy(f(x, 2), power_sum(x, 2))
    assert_matches_numpy(f(x, 3), power_sum(x, 3))
    assert len(f.compiles) == 2
    assert "n=3" in f.compiles[1].reason


def test_static_argnames_makes_any_argument_static():
    def pick(x, mode):
        return np.exp(x) if mode == "exp" else np.sqrt(x)
    f = tracejit.compile(pick, static_argnames=("mode",))
    x = rng.random(6)
    assert_matches_numpy(f(x, mode="exp"), np.exp(x))
    assert_matches_numpy(f(x, mode="sqrt"), np.sqrt(x))


def test_keyword_defaults_and_nested_dict_arguments_and_outputs():
    def step(params, x, *, scale=1.0):
        h = x @ params["w"] + params["b"]
        return {"out": h * scale, "norm": (h * h).sum()}
    f = tracejit.compile(step)
    params = {"w": rng.random((4, 3), dtype=np.float32), "b": rng.random(3, dtype=np.float32)}
    x = rng.random((5, 4), dtype=np.float32)
    assert_matches_numpy(f(params, x), step(params, x))
    assert_matches_numpy(f(params, x, scale=0.5), step(params, x, scale=0.5))


def test_scalar_outputs_have_numpy_types():
    def stats(x, lr):
        return x.sum(), lr * 2.0, x.shape[0]
    f = tracejit.compile(stats)
    x = rng.random(5, dtype=np.float32)
    out = f(x, 0.25)
    expected = stats(x, 0.25)
    assert isinstance(out[0], np.float32)
    assert isinstance(out[1], float) and out[1] == 0.5
    assert out[2] == 5 and isinstance(out[2], int)
    assert_matches_numpy(out, expected)


def test_data_dependent_control_flow_falls_back_with_one_warning_naming_the_line():
    def relu_if_positive(x):
        if x.sum() > 0:  # data-dependent: line named in the warning
            return np.maximum(x, 0)
        return x
    f = tracejit.compile(relu_if_positive)
    x = rng.standard_normal(8)
    with pytest.warns(tracejit.FallbackWarning, match=r"test_api.py:\d+"):
        assert_matches_numpy(f(x), relu_if_positive(x))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert_matches_numpy(f(x), relu_if_positive(x))   # no second warning
    assert len(f.fallbacks) == 1
    report = tracejit.explain(f, x)
    assert report.fallbacks and "test_api.py" in report.fallbacks[0].loc


def test_fullgraph_raises_instead_of_falling_back():
    def bad(x):
        return float(x[0]) * x
    f = tracejit.compile(bad, fullgraph=True)
    with pytest.raises(tracejit.DataDependentError, match="float"):
        f(np.ones(3))


def test_unsupported_function_falls_back_and_gives_the_right_answer():
    def sorted_sum(x):
        return np.lexsort((x, -x)) * 2
    f = tracejit.compile(sorted_sum)
    x = rng.random(9)
    with pytest.warns(tracejit.FallbackWarning, match="lexsort"):
        np.testing.assert_array_equal(f(x), sorted_sum(x))


@pytest.mark.parametrize("value, words", [
    (np.array(["a", "b"]), "<U1"),
    (np.array([object()], dtype=object), "object"),
])
def test_unsupported_dtypes_run_eagerly_naming_the_argument(value, words):
    """NumPy runs these (or raises its own error): tracejit must not crash instead."""
    f = tracejit.compile(lambda weights: weights * 2)
    try:
        expected = value * 2
    except TypeError as exc:
        expected = exc
    with pytest.warns(tracejit.FallbackWarning, match=r"weights") as record:
        if isinstance(expected, Exception):
            with pytest.raises(type(expected)):
                f(value)
        else:
            np.testing.assert_array_equal(f(value), expected)
    assert words in str(record[0].message)


def test_unhashable_non_array_argument_runs_eagerly_naming_the_argument():
    f = tracejit.compile(lambda x, cfg: x * 2)
    with pytest.warns(tracejit.FallbackWarning, match="cfg"):
        np.testing.assert_array_equal(f(np.ones(2), bytearray(b"ab")), np.full(2, 2.0))
    np.testing.assert_array_equal(f(np.ones(2), {"a": set()}), np.full(2, 2.0))   # a set: static by value


def test_mismatched_shapes_raise_a_clear_error():
    f = tracejit.compile(lambda a, b: a + b)
    with pytest.raises(ValueError, match=r"\(3, ?4\).*\(5,?\)|broadcast"):
        f(np.ones((3, 4)), np.ones(5))


W_GLOBAL = np.arange(6, dtype=np.float64)


def uses_global(x):
    return x * W_GLOBAL


def test_global_arrays_are_lifted_not_baked_in():
    global W_GLOBAL
    f = tracejit.compile(uses_global)
    x = np.ones(6)
    np.testing.assert_array_equal(f(x), x * W_GLOBAL)
    W_GLOBAL[0] = 100.0                     # in-place update is seen
    np.testing.assert_array_equal(f(x), x * W_GLOBAL)
    old = W_GLOBAL
    W_GLOBAL = np.full(6, 7.0)              # rebinding to the same shape: read live, no retrace
    try:
        np.testing.assert_array_equal(f(x), x * 7.0)
        assert len(f.compiles) == 1
        W_GLOBAL = np.full(1, 3.0)          # another shape retraces
        np.testing.assert_array_equal(f(x), np.full(6, 3.0))
        assert len(f.compiles) == 2 and "W_GLOBAL" in f.compiles[-1].reason
    finally:
        W_GLOBAL = old


def test_closure_arrays_are_lifted():
    w = np.linspace(0, 1, 5)

    def f(x):
        return x + w
    g = tracejit.compile(f)
    np.testing.assert_allclose(g(np.ones(5)), 1 + w)
    w[2] = 9.0
    np.testing.assert_allclose(g(np.ones(5)), 1 + w)


def test_interpret_backend_matches():
    from bench.models import layernorm
    f = tracejit.compile(layernorm, backend="interpret")
    x, g, b = rng.random((4, 9)), rng.random(9), rng.random(9)
    assert_matches_numpy(f(x, g, b), layernorm(x, g, b))


def test_explain_lists_kernels_and_graph_without_touching_the_cache():
    from bench.models import softmax
    f = tracejit.compile(softmax)
    x = rng.random((4, 10), dtype=np.float32)
    report = tracejit.explain(f, x)
    assert report.fallbacks == []
    assert report.graph.count("= kernel @") == 1
    assert len(report.kernels) == 1 and report.kernels[0].backend == "numba"
    assert "reduce_max" in report.graph and "kernel" in report.graph
    assert f.specializations() == []
    assert "softmax" in str(report)


def test_explain_without_the_calls_arguments_names_the_missing_one():
    from bench.models import softmax
    with pytest.raises(TypeError, match=r"explain\(softmax, \.\.\.\) takes the arguments.*'x'"):
        tracejit.explain(tracejit.compile(softmax))


def test_unknown_backend_and_triton_without_gpu_are_clear_errors(monkeypatch):
    with pytest.raises(ValueError, match="backend"):
        tracejit.compile(lambda x: x, backend="cuda")(np.ones(2))
    monkeypatch.setattr("tracejit.runtime.backends.triton_interpreter_enabled", lambda: False)
    with pytest.raises(Exception, match="GPU arrays"):
        tracejit.compile(lambda x: x + 1, backend="triton")(np.ones(2))


def test_bad_static_argname_is_rejected():
    with pytest.raises(ValueError, match="nope"):
        tracejit.compile(lambda x: x, static_argnames=("nope",))


def test_output_buffers_are_reused_only_when_the_caller_dropped_them():
    f = tracejit.compile(lambda x: np.exp(x) + 1.0)
    x = rng.random(64)
    first = f(x)
    second = f(x)                           # `first` is alive: must not be overwritten
    assert first is not second
    np.testing.assert_array_equal(first, second)
    view = second[:10]
    del first, second
    third = f(x * 2)                        # a view of `second` is alive: no reuse of it
    np.testing.assert_allclose(view, np.exp(x[:10]) + 1.0)
    np.testing.assert_allclose(third, np.exp(x * 2) + 1.0)
    p = f(x)
    p_id = id(p)
    del p
    assert id(f(x)) == p_id                 # dropped: the buffer is reused


def test_results_passed_back_as_arguments_are_not_clobbered():
    from bench.models import adam_step
    f = tracejit.compile(adam_step)
    p, g, m, v = (rng.random(50) for _ in range(4))
    ep, em, ev = p, m, v
    for t in range(1, 4):
        p, m, v = f(p, g, m, v, 1e-2, 0.9, 0.999, 1e-8, t)
        ep, em, ev = adam_step(ep, g, em, ev, 1e-2, 0.9, 0.999, 1e-8, t)
    np.testing.assert_allclose(p, ep, rtol=1e-12)
    np.testing.assert_allclose(v, ev, rtol=1e-12)


def test_fast_path_keeps_static_values_and_defaults_apart():
    def affine(x, eps, scale=3.0):
        return x * scale + eps
    f = tracejit.compile(affine, static_argnames=("eps",))
    x = rng.random(4)
    for eps in (0.5, 0.25, 0.5):
        np.testing.assert_allclose(f(x, eps), affine(x, eps))          # default traced
        np.testing.assert_allclose(f(x, eps, 1.5), affine(x, eps, 1.5))  # fast path
    assert len(f.compiles) == 2   # one per static eps; scale is a traced float


def test_mismatched_shapes_name_the_arguments_and_line():
    def add(a, b):
        return a + b
    f = tracejit.compile(add)
    with pytest.raises(ValueError, match="broadcast") as info:       # NumPy's own exception
        f(np.ones((3, 4)), np.ones(5))
    note = " ".join(getattr(info.value, "__notes__", []))
    assert "a: float64[3, 4]" in note and "b: float64[5]" in note and "test_api.py" in note


def test_kernel_compile_failure_falls_back_with_a_warning(monkeypatch):
    """A code generator that refuses a region must not crash the call."""
    from tracejit.runtime import backends

    def refuse(self, region, cache_dir=None):
        raise NotImplementedError("no kernel for you")
    monkeypatch.setattr(backends.NumbaBackend, "compile_region", refuse)
    f = tracejit.compile(lambda x: np.exp(x) * 2.0)
    x = rng.random(5)
    with pytest.warns(tracejit.FallbackWarning, match="no kernel for you"):
        np.testing.assert_allclose(f(x), np.exp(x) * 2.0)
    g = tracejit.compile(lambda x: np.exp(x) * 2.0, fullgraph=True)
    with pytest.raises(Exception, match="no kernel for you"):
        g(x)


def test_matmul_precision_is_ieee_unless_tf32_is_asked_for():
    x, w = rng.random((5, 20), dtype=np.float32), rng.random((20, 3), dtype=np.float32)
    default = tracejit.explain(tracejit.compile(lambda a, b: a @ b, backend="triton"), x, w)
    fast = tracejit.explain(tracejit.compile(lambda a, b: a @ b, backend="triton", matmul_precision="tf32"), x, w)
    assert 'input_precision="ieee"' in default.kernels[0].source
    assert 'input_precision="tf32"' in fast.kernels[0].source
    with pytest.raises(ValueError, match="matmul_precision"):
        tracejit.compile(lambda a: a, matmul_precision="int8")(x)


@pytest.mark.parametrize("precision, dtype_name", [("fp16", "float16")])
def test_sixteen_bit_matmul_inputs_only_on_opt_in(precision, dtype_name):
    x, w = rng.random((5, 40), dtype=np.float32), rng.random((40, 3), dtype=np.float32)
    f = tracejit.compile(lambda a, b: a @ b, backend="triton", matmul_precision=precision)
    assert f"a.to(tl.{dtype_name}), b.to(tl.{dtype_name})" in tracejit.explain(f, x, w).kernels[0].source
    out = f(x, w)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, x @ w, rtol=2e-2)             # 16-bit operands, float32 sums


def test_stencil_chains_are_split_instead_of_recomputed_exponentially():
    """Each step reads the previous one at three shifted indices: inlining all steps
    into one kernel would recompute 3**steps values per point."""
    def heat(u, steps, alpha=0.1):
        for _ in range(steps):
            u = np.concatenate([u[:1], u[1:-1] + alpha * (u[2:] - 2 * u[1:-1] + u[:-2]), u[-1:]])
        return u
    f = tracejit.compile(heat)
    u = rng.random(33).astype(np.float32)
    assert_matches_numpy(f(u, 6), heat(u, 6))
    report = tracejit.explain(f, u, 6)
    assert 1 < report.graph.count("= kernel @") <= 6
    assert len(report.kernels) < report.graph.count("= kernel @")   # same-bodied steps share a kernel


def test_numpy_float64_arguments_are_strong_scalars():
    f = tracejit.compile(lambda x, s: x * s)
    x = rng.random(4).astype(np.float32)
    assert_matches_numpy(f(x, np.float64(0.5)), x * np.float64(0.5))      # float64, as NumPy
    assert_matches_numpy(f(x, 0.5), x * 0.5)                              # float32: weak
    g = tracejit.compile(lambda b: b * 2)
    out = g(np.float64(0.5))
    assert type(out) is np.float64 and out == 1.0


@pytest.mark.filterwarnings("ignore:the matrix subclass:PendingDeprecationWarning")
def test_ndarray_subclasses_run_eagerly_with_a_warning():
    f = tracejit.compile(lambda a, b: a * b)
    m = np.matrix([[1.0, 2.0], [3.0, 4.0]])
    with pytest.warns(tracejit.FallbackWarning, match="matrix"):
        out = f(m, m)
    assert isinstance(out, np.matrix)
    np.testing.assert_array_equal(out, m * m)                         # a matrix product


def test_python_complex_scalars_are_weak():
    f = tracejit.compile(lambda x: (x * 1j, (2 + 1j) - x), backend="numba", fullgraph=True)
    x = np.arange(5)
    assert_matches_numpy(f(x), (x * 1j, (2 + 1j) - x))
    z = np.ones(3, np.complex64)
    assert f(z)[0].dtype == np.complex64          # a weak complex keeps complex64


def test_ufuncs_compile_directly():
    f = tracejit.compile(np.exp)
    x = rng.random(5)
    assert_matches_numpy(f(x), np.exp(x))


@pytest.mark.parametrize("fn", [np.sum, np.mean, np.max, np.amin, np.prod, np.std, np.var, np.any, np.all,
                                np.argmax, np.cumsum, np.nansum, np.ptp, np.count_nonzero])
def test_numpy_functions_compile_directly_with_their_unset_defaults(fn):
    # binding np.sum's signature fills keepdims=np._NoValue: it means "not given", not True
    x = rng.random((2, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("error", tracejit.FallbackWarning)
        assert_matches_numpy(tracejit.compile(fn, backend="interpret")(x), fn(x))


@pytest.mark.parametrize("fn", [lambda x: x.sum(axis=[0]), lambda x: np.max(x, axis=[0, 1]),
                                lambda x: np.mean(x, [1]), lambda x: np.sum(x, axis=True),
                                lambda x: x.max(axis=False), lambda x: np.squeeze(x, axis=[0])])
def test_a_list_or_a_bool_as_axis_raises_as_numpy_does(fn):
    x = np.ones((1, 3))
    with pytest.raises(TypeError):
        fn(x)
    with pytest.raises(TypeError):
        tracejit.compile(fn, backend="interpret")(x)


def test_positional_only_parameters_after_an_unset_default_bind():
    def f(x, a=np._NoValue, b=1, /):
        return x * (2 if a is np._NoValue else a) + b
    with warnings.catch_warnings():
        warnings.simplefilter("error", tracejit.FallbackWarning)
        assert tracejit.compile(f, backend="interpret")(np.ones(2)).tolist() == [3.0, 3.0]


@pytest.mark.parametrize("fn", [lambda x: np.gcd(x, 6), lambda x: np.lcm(4, x)], ids=["gcd", "lcm"])
def test_unsupported_ufuncs_fall_back_instead_of_crashing(fn):
    f = tracejit.compile(fn)
    x = np.arange(5)
    with pytest.warns(tracejit.FallbackWarning):
        np.testing.assert_array_equal(f(x), fn(x))


def test_lazy_kernel_compile_failure_names_the_kernel_and_line(monkeypatch):
    from tracejit.codegen import numba_backend

    def broken(self, inputs, outputs, launch):
        raise NotImplementedError("cannot compile this")
    monkeypatch.setattr(numba_backend.NumbaKernel, "launch", broken)

    def scaled(x):
        return np.sqrt(x) * 3.0        # the kernel's first op is on this line
    f = tracejit.compile(scaled)
    x = rng.random(7)
    with pytest.warns(tracejit.FallbackWarning, match=r"scaled_k0 at .*test_api.py:\d+"):
        np.testing.assert_allclose(f(x), scaled(x))
    np.testing.assert_allclose(f(x), scaled(x))        # now eager, no new warning
    assert len(f.fallbacks) == 1


def test_long_float32_sums_are_as_accurate_as_numpy():
    f = tracejit.compile(lambda x: (x.sum(), x.mean(axis=0)))
    x = np.full((2 ** 18, 2), 0.1, np.float32)
    total, mean = f(x)
    exact_total, exact_mean = x.astype(np.float64).sum(), x.astype(np.float64).mean(axis=0)
    # at least as close to the exact value as NumPy (whose axis-0 mean is not pairwise)
    assert abs(float(total) - exact_total) <= max(abs(float(x.sum()) - exact_total), 1e-7 * exact_total)
    assert np.all(np.abs(mean - exact_mean) <= np.maximum(np.abs(x.mean(axis=0) - exact_mean), 1e-7))


def test_fast_path_fills_in_traced_and_static_defaults():
    def norm(x, g, eps=1e-5, power=2):
        return x ** power / (g + eps)
    f = tracejit.compile(norm)
    x, g = rng.random(3), rng.random(3)
    for _ in range(2):                     # second round takes the fast path
        np.testing.assert_allclose(f(x, g), norm(x, g))
        np.testing.assert_allclose(f(x, g, 0.5), norm(x, g, 0.5))
        np.testing.assert_allclose(f(x, g, 0.5, 3), norm(x, g, 0.5, 3))
    assert len(f.compiles) == 2            # power=2 and power=3; eps is traced


def test_keyword_calls_take_the_fast_path_with_the_same_results():
    def norm(x, g, eps=1e-5, power=2):
        return x ** power / (g + eps)
    f = tracejit.compile(norm)
    x, g = rng.random(3), rng.random(3)
    forms = [((x,), {"g": g}), ((), {"x": x, "g": g}), ((x, g), {"power": 3}), ((x,), {"g": g, "eps": 0.5}),
             ((), {"g": g, "x": x, "power": 2, "eps": 1e-5})]
    for args, kwargs in forms:
        np.testing.assert_allclose(f(*args, **kwargs), norm(*args, **kwargs))
    compiled_key = f._key
    f._key = None                          # the general path is not taken any more
    for args, kwargs in forms:
        np.testing.assert_allclose(f(*args, **kwargs), norm(*args, **kwargs))
    f._key = compiled_key
    with pytest.raises(TypeError):
        f(x, g, x=x)                       # Python's own errors stay
    with pytest.raises(TypeError):
        f(x, h=g)
    assert len(f.compiles) == 2


def test_backend_choice_by_where_arguments_live():
    from tracejit.runtime.arrays import NUMPY
    from tracejit.runtime.backends import BackendError, choose_backend

    class FakeTorchCuda:
        name, on_gpu = "torch", True
    gpu = FakeTorchCuda()
    assert choose_backend("auto", {NUMPY}).name == "numba"
    assert choose_backend("auto", {gpu}).name == "triton"
    with pytest.raises(BackendError, match="different array libraries"):
        choose_backend("auto", {gpu, NUMPY})
    with pytest.raises(BackendError, match="GPU arrays"):
        choose_backend("numba", {gpu})


def test_python_operator_results_on_python_scalars_keep_python_types():
    f = tracejit.compile(lambda x, lr, flag: (x * lr, lr > 0.5, lr * 2, flag + lr))
    out = f(np.ones(2), 0.25, True)
    assert_matches_numpy(out, (np.ones(2) * 0.25, 0.25 > 0.5, 0.5, True + 0.25))


def test_clip_with_python_int_bounds_beyond_the_dtype():
    a = np.arange(-5, 5, dtype=np.int8)
    f = tracejit.compile(lambda x: np.clip(x, -2, 300))
    assert_matches_numpy(f(a), np.clip(a, -2, 300))


RNG = np.random.default_rng(0)


def noisy(x):
    return x + RNG.standard_normal(x.shape)


def test_random_draws_inside_compiled_functions_run_eagerly():
    """Traced once, a draw would be frozen: the function runs eagerly, with a warning."""
    for fn in (noisy, lambda x: x + np.random.rand(*x.shape)):
        f = tracejit.compile(fn)
        x = np.zeros(4)
        with pytest.warns(tracejit.FallbackWarning, match="random"):
            first = f(x)
        assert not np.array_equal(first, f(x))
    with pytest.raises(tracejit.UnsupportedError, match="random"):
        tracejit.compile(noisy, fullgraph=True)(np.zeros(2))
    g = tracejit.compile(lambda x, rng: x + rng.random(x.shape))
    with pytest.warns(tracejit.FallbackWarning, match="random"):
        g(np.zeros(3), np.random.default_rng(1))


@pytest.mark.parametrize("backend", ["interpret", "numba"])
def test_numpy_scalar_arguments_promote_as_numpy_scalars(backend):
    """np.bool_(True) ** 2 is int64 (a scalar's power), np.array(True) ** 2 is bool's square (int8)."""
    f = tracejit.compile(lambda b: b ** 2, backend=backend)
    scalar, array = f(np.bool_(True)), f(np.array(True))
    assert isinstance(scalar, np.int64) and scalar == np.bool_(True) ** 2
    assert np.asarray(array).dtype == (np.array(True) ** 2).dtype
    g = tracejit.compile(lambda x, s: x * s + s ** 2, backend=backend)
    x = np.arange(3, dtype=np.float32)
    for s in (np.float64(1.5), np.int8(3), np.float32(2.0)):
        want = x * s + s ** 2
        got = g(x, s)
        assert got.dtype == want.dtype
        np.testing.assert_allclose(got, want, rtol=1e-6)


class _Scaled:
    k = 2

    @tracejit.compile
    @staticmethod
    def double(x):
        return x * 2

    @tracejit.compile
    @classmethod
    def scale(cls, x):
        return x * cls.k


class _ScaledMore(_Scaled):
    k = 5


def test_compile_over_staticmethod_and_classmethod_binds_as_python_does():
    x = np.arange(3.0)
    for owner in (_Scaled, _Scaled(), _ScaledMore, _ScaledMore()):
        np.testing.assert_array_equal(owner.double(x), x * 2)
        np.testing.assert_array_equal(owner.scale(x), x * owner.k)
