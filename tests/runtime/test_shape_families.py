"""Shape families (runtime/shape_families.py): after a dimension took a second size,
new sizes are served without a trace, and never with a wrong answer.

Every call is compared with eager NumPy (result, dtype, shape, and the arrays the
call writes into); the counts of traces show which sizes were served by a family.
"""
import warnings

import numpy as np
import pytest

import tracejit
from tracejit.runtime import plan_numbers
from tracejit.runtime.shape_families import _read, _sized

RNG = np.random.default_rng(7)


def _compare(expected, got):
    if isinstance(expected, tuple):
        assert isinstance(got, tuple) and len(got) == len(expected)
        for e, g in zip(expected, got):
            _compare(e, g)
        return
    expected, got = np.asarray(expected), np.asarray(got)
    assert got.shape == expected.shape and got.dtype == expected.dtype
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


def run_sizes(fn, sizes, make=lambda n: RNG.standard_normal((n, 4)), **options):
    """Call fn compiled at each size, checking each call against NumPy; the compiled function."""
    compiled = tracejit.compile(fn, recompile_limit=100, **options)
    for n in sizes:
        x = make(n)
        eager_x, compiled_x = x.copy(), x.copy()
        try:
            expected = fn(eager_x)
        except Exception as exc:                  # noqa: BLE001
            with pytest.raises(type(exc)):
                compiled(compiled_x)
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("error", tracejit.FallbackWarning)
            got = compiled(compiled_x)
        _compare(expected, got)
        np.testing.assert_array_equal(compiled_x, eager_x)      # what the call wrote into x
    return compiled


def served(compiled):
    return sorted(n for family in compiled.families.families for n in family.sizes)


SIZES = [16, 17, 24, 12, 8, 30, 6, 41, 10, 21, 9, 64, 5]


def mlp_like(x):
    h = np.maximum(x @ W1 + B1, 0.0)
    y = h @ W2
    return y - y.max(axis=-1, keepdims=True)


W1 = RNG.standard_normal((4, 32))
B1 = RNG.standard_normal(32)
W2 = RNG.standard_normal((32, 5))


def test_new_batch_sizes_take_no_trace():
    sizes = [16, 17, 24, 30, 41, 64, 20, 69, 33]
    f = run_sizes(mlp_like, sizes)
    assert len(f.compiles) == 2                    # the first two sizes; the family serves the rest
    assert served(f) == sorted(sizes[2:])
    (family,) = f.families.families
    assert family.positions == ((0, 0),)


def test_smaller_sizes_get_a_family_of_their_own():
    f = run_sizes(mlp_like, [16, 17, 24, 12, 8, 9, 10, 11, 13])
    # 12 is below the first family's sizes: traced, and a family from 12 and 16; so is 8
    assert len(f.compiles) == 4 and served(f) == [9, 10, 11, 13, 24]


def test_a_size_seen_again_uses_its_own_specialization():
    f = run_sizes(mlp_like, [16, 17, 24, 24, 24, 17])
    assert len(f.compiles) == 2 and served(f) == [24]


def test_sizes_0_and_1_are_traced_on_their_own():
    f = run_sizes(mlp_like, [16, 17, 1, 0, 1, 20])
    assert served(f) == [20]
    assert len(f.compiles) == 4


def branch_on_rows(x):
    if x.shape[0] > 20:
        return x * 2.0
    return x + 1.0


def test_a_branch_on_a_size_is_rechecked_per_size():
    f = run_sizes(branch_on_rows, SIZES)
    for family in f.families.families:           # no family serves sizes on both sides
        sides = {n > 20 for n in family.sizes}
        assert len(sides) <= 1
    assert served(f)


def arithmetic_branch(x):
    b = x.shape[0] * 3 - 1
    return x * (1.0 if b >= 50 else 2.0)


def test_arithmetic_on_a_dimension_stays_visible():
    f = run_sizes(arithmetic_branch, [16, 17, 12, 8, 30, 6, 41, 18, 17, 17])
    for family in f.families.families:
        assert len({3 * n - 1 >= 50 for n in family.sizes}) <= 1


def slice_head(x):
    return x[:10] * 2.0


def index_fifth(x):
    return x[5] + x[-1]


def tail_and_head(x):
    return x[-3:] + x[:3]


@pytest.mark.parametrize("fn", [slice_head, index_fifth, tail_and_head])
def test_slices_and_indices_clamp_and_check_bounds_per_size(fn):
    f = run_sizes(fn, SIZES + [3, 2, 4, 11])
    assert served(f)


def every_other(x):
    return x[::2] + 1.0


def halves(x):
    h = x.shape[0] // 2
    return x[:h] - x[h:2 * h]


def odd_even(x):
    if x.shape[0] % 2:
        return x * 3.0
    return x


def uses_len(x):
    return x * 2.0 if len(x) > 20 else x - 1.0


def mean_over_rows(x):
    return x - x.mean(axis=0)


def keyed_by_size(x):
    return x * {16: 1.0, 17: 2.0}.get(x.shape[0], 3.0)


def unrolled(x):
    acc = x[0]
    for i in range(x.shape[0]):
        acc = acc + x[i]
    return acc


@pytest.mark.parametrize("fn", [every_other, halves, odd_even, uses_len, mean_over_rows, keyed_by_size,
                                unrolled])
def test_what_depends_on_a_size_in_other_ways_is_right_at_every_size(fn):
    run_sizes(fn, SIZES)


def test_len_is_followed_like_shape():
    f = run_sizes(uses_len, SIZES)
    for family in f.families.families:
        assert len({n > 20 for n in family.sizes}) <= 1
    assert served(f)


def test_a_dimension_used_as_a_dict_key_gives_no_family():
    f = run_sizes(keyed_by_size, [18, 19, 20, 21])     # all look up the default: the same trace
    assert not served(f) and f.families.refused
    assert "cannot be followed" in f.families.refused[0][1]


def writes_rows(x):
    x[:5] = 0.0
    x[-1] = 7.0
    x += 1.0
    return x.sum(axis=1)


def test_writes_into_the_argument_at_every_size():
    f = run_sizes(writes_rows, SIZES)
    assert served(f)


def causal_attention(x):
    t = x.shape[0]
    scores = x @ x.T / np.sqrt(x.shape[1])
    scores = np.where(np.tril(np.ones((t, t), dtype=bool)), scores, -np.inf)
    scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return (scores / scores.sum(axis=-1, keepdims=True)) @ x


def test_a_sequence_length_in_two_axes_is_one_symbol():
    f = run_sizes(causal_attention, [16, 17, 18, 19, 20, 33],
                  make=lambda n: RNG.standard_normal((n, 8)).astype(np.float32))
    assert len(f.compiles) == 2 and served(f) == [18, 19, 20, 33]


def test_the_dimension_may_vary_in_several_arguments_together():
    def add_rows(x, y):
        return x * 2.0 + y[::-1]
    f = tracejit.compile(add_rows)
    for n in (16, 17, 24, 9):
        x, y = RNG.standard_normal((n, 3)), RNG.standard_normal((n, 3))
        _compare(add_rows(x, y), f(x, y))
    assert served(f) == [24]                  # 9 is below the family's sizes
    y = RNG.standard_normal((5, 3))          # sizes that disagree: not a family member
    with pytest.raises(ValueError):
        f(RNG.standard_normal((7, 3)), y)


def test_dims_record_what_the_code_decides():
    from tracejit.tracer.dims import Dim
    from tracejit.tracer import trace
    from tracejit.ir.types import TensorType

    kinds = []

    def fn(x):
        n = x.shape[0]
        kinds.append(type(n))
        if n * 2 > 10:
            x = x + 1.0
        return x[: n // 2]

    traced = trace(fn, (TensorType((8, 3), np.float64),), {}, record_dims=True)
    facts = traced.size_checks
    assert kinds == [Dim]
    assert ("gt", 16, 10) in facts           # n * 2 > 10, with its values at n = 8
    assert ("mod_eq", 8, 2, 0) in facts      # n // 2 is exact for even n only
    assert ("le", 4, 8) in facts             # the slice's stop 4 lies inside the axis
    untraced = trace(fn, (TensorType((8, 3), np.float64),), {})
    assert kinds == [Dim, int] and untraced.size_checks == []


def test_a_rebuilt_plan_reads_back_the_same():
    f = run_sizes(mlp_like, [16, 17])
    family = f.families.families[0]
    template = family.template
    skeleton, numbers = [], []
    plan_numbers.read(_sized(template), skeleton, numbers)
    copy = plan_numbers.rebuilder(_sized(template), set(range(len(numbers))))(numbers)
    skeleton2, numbers2 = [], []
    plan_numbers.read(copy, skeleton2, numbers2)
    assert skeleton2 == skeleton and numbers2 == numbers
    assert copy[0] is not template.plan and copy[0].steps[0] is not template.plan.steps[0]
    assert _read(template)[0] == _read(template)[0]


def test_explain_names_the_varying_dimension():
    f = run_sizes(mlp_like, [16, 17, 24])
    text = str(tracejit.explain(f, RNG.standard_normal((30, 4))))
    assert "x.shape[0]: one trace serves every size" in text


class _Holder:
    cols = 0


HOLDER = _Holder()


def returns_a_fixed_size(x):
    HOLDER.cols = x.shape[1]
    return x * 2.0, x.shape[1]


def test_sizes_returned_or_stored_are_plain_ints():
    f = tracejit.compile(returns_a_fixed_size)
    for n in (16, 17, 20, 9):
        HOLDER.cols = 0
        y, cols = f(RNG.standard_normal((n, 3)))
        assert type(cols) is int and cols == 3 and y.shape == (n, 3)
        assert type(HOLDER.cols) is int and HOLDER.cols == 3
    assert served(f) == [20]


def returns_a_varying_size(x):
    return x * 2.0, x.shape[0]


def test_a_returned_varying_size_is_never_a_stale_constant():
    f = tracejit.compile(returns_a_varying_size)
    for n in (16, 17, 20, 9):
        y, rows = f(RNG.standard_normal((n, 3)))
        assert rows == n and y.shape == (n, 3)


# sizes that reach decisions where a Dim cannot record them: the answers stay NumPy's
# (families form only where the probes show nothing was missed)
import math  # noqa: E402


def via_int(x):
    return x * 3.0 if int(x.shape[0]) > 20 else x + 1.0


def via_float_arithmetic(x):
    return x * 3.0 if x.shape[0] * 1.0 > 20 else x + 1.0


def via_bits(x):
    return x * 3.0 if x.shape[0] & 16 else x + 1.0


def via_bit_length(x):
    return np.zeros((2 ** (x.shape[0] - 1).bit_length(), 2))


def via_rdivmod(x):
    return x * 3.0 if divmod(100, x.shape[0])[1] == 0 else x + 1.0


def via_round(x):
    return np.zeros((round(x.shape[0], -1), 2))


def via_type_check(x):
    return x * 3.0 if type(x.shape[0]) is int else x + 1.0


def via_np_prod(x):
    return x * 3.0 if np.prod(x.shape) > 80 else x + 1.0


def via_np_minimum(x):
    return x[: np.minimum(x.shape[0], 20)] * 2.0


def via_math_isqrt(x):
    return x[: math.isqrt(x.shape[0])] * 2.0


def via_math_log(x):
    return x * 3.0 if math.log(x.shape[0]) > 3.0 else x + 1.0


@pytest.mark.parametrize("fn", [via_int, via_float_arithmetic, via_bits, via_bit_length, via_rdivmod, via_round,
                                via_type_check, via_np_prod, via_np_minimum, via_math_isqrt, via_math_log])
def test_sizes_that_escape_the_recording_never_give_a_wrong_answer(fn):
    run_sizes(fn, [16, 17, 30, 40, 100, 200, 12, 25, 60])


def test_a_family_serves_only_sizes_between_its_probes():
    from tracejit.runtime.shape_families import _probe_sizes
    far = _probe_sizes(16, 17)[0]
    f = run_sizes(mlp_like, [16, 17, 60, far, far + 1, 250])
    first = f.families.families[0]
    assert (first.lo, first.hi) == (16, far) and sorted(first.sizes) == [60, far]
    assert len(f.compiles) == 3                # far + 1 lies past the probes: traced, and another family
    assert f.families.families[1].sizes == [250]


def test_traces_that_extend_a_family_do_not_count_toward_the_recompile_limit():
    f = tracejit.compile(mlp_like, recompile_limit=4)
    with warnings.catch_warnings():
        warnings.simplefilter("error", tracejit.FallbackWarning)
        for n in [4, 5] + list(range(6, 400, 7)):
            _compare(mlp_like(np.ones((n, 4))), f(np.ones((n, 4))))
    assert f.fallbacks == []


def test_user_modules_named_like_numpy_are_the_users():
    import importlib.util
    import os
    path = os.path.join(os.path.dirname(__file__), "numpyish_helpers.py")
    spec = importlib.util.spec_from_file_location("numpyish_helpers", path)     # a top-level module
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    scale_for = module.scale_for

    def scaled(x):
        return x * scale_for(x)
    run_sizes(scaled, [18, 19, 20, 16, 17, 30])


def embed(wte, wpe, inputs):
    return wte[inputs] + wpe[range(len(inputs))]


def test_a_sequence_growing_to_hundreds_is_traced_a_logarithmic_number_of_times():
    rng = np.random.default_rng(5)
    wte, wpe = rng.random((50, 4)), rng.random((320, 4))     # positions past 320: NumPy's IndexError
    f = tracejit.compile(embed)
    tokens = [1, 2, 3, 4]
    with warnings.catch_warnings():
        warnings.simplefilter("error", tracejit.FallbackWarning)
        while len(tokens) <= 330:
            try:
                expected = embed(wte, wpe, tokens)
            except IndexError:
                with pytest.raises(IndexError):
                    f(wte, wpe, tokens)
            else:
                np.testing.assert_array_equal(f(wte, wpe, tokens), expected)
            tokens.append(len(tokens) % 50)
    assert len(f.compiles) <= 16          # not one per token: families span about 4x each


def embedding_backward(table, ids, g):
    """Writes through an index array passed in (its layout guarded: C order)."""
    grad = np.zeros_like(table)
    np.add.at(grad, ids, g)
    rows = g.copy()
    rows[ids] = -1.0
    return grad, rows


def run_embedding_sizes(sizes, compiled=None):
    compiled = compiled or tracejit.compile(embedding_backward, recompile_limit=100)
    for n in sizes:
        args = (RNG.standard_normal((11, 4)), RNG.integers(0, 11, n), RNG.standard_normal((n, 4)))
        with warnings.catch_warnings():
            warnings.simplefilter("error", tracejit.FallbackWarning)
            _compare(embedding_backward(*args), compiled(*args))
    return compiled


def test_writes_through_an_index_get_a_family():
    sizes = [16, 17, 24, 30, 20, 41]
    f = run_embedding_sizes(sizes)
    assert len(f.compiles) == 2 and served(f) == sorted(sizes[2:])


def test_a_family_keeps_the_c_order_its_plan_relied_on():
    """A family member called with an F-ordered or strided index array runs by a plan
    of its own (C order was relied on), with NumPy's results."""
    f = run_embedding_sizes([16, 17, 24])
    table, g = RNG.standard_normal((11, 4)), RNG.standard_normal((20, 4))
    ids = RNG.integers(0, 11, 40)[::2]
    _compare(embedding_backward(table, ids, g), f(table, ids, g))


def transposed_twice(x):
    return x.T * 2           # relies on x's C order: the guard is "C order"


def test_a_size_first_seen_in_another_layout_is_still_served_in_c_order():
    """An F-ordered call at a new size fails the family's C-order guard and is traced;
    a C-ordered call at that size then takes the family, and only served sizes are
    listed as served."""
    f = tracejit.compile(transposed_twice, recompile_limit=100)
    for n in (8, 12, 16):
        f(np.ones((n, 5)))
    assert len(f.compiles) == 2 and served(f) == [16]
    f_input = np.asfortranarray(RNG.standard_normal((10, 5)))
    _compare(transposed_twice(f_input), f(f_input))
    assert len(f.compiles) == 3 and served(f) == [16]
    c_input = RNG.standard_normal((10, 5))
    _compare(transposed_twice(c_input), f(c_input))
    assert len(f.compiles) == 3 and served(f) == [10, 16]
