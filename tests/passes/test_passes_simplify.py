"""Each rewrite rule fires where it is exact and stays put where it is not."""
import numpy as np
import pytest

from tracejit.ir import format_graph, run_graph, verify
from tracejit.passes import dce, simplify
from tracejit.passes.simplify import RULES, simplify_with_log

import pass_graphs as pg
from pass_graphs import B, T, F32, F64

SPECIALS = np.array([-0.0, 0.0, np.nan, np.inf, -np.inf, 1.5, -2.25], np.float32)


def run(graph, arrays):
    return run_graph(graph, arrays)


def check(build, fires, x_type=T((7,)), x_value=SPECIALS):
    """Build a one-input graph with `build(b, x)`; assert whether a rule fired, and
    that the rewritten graph verifies and gives bit-identical results."""
    b = B("g")
    x = b.add_input(x_type)
    g = b.finish([build(b, x)])
    text = format_graph(g)
    out, fired = simplify_with_log(g)
    assert format_graph(g) == text
    out = dce(out)
    verify(out)
    assert bool(fired) == fires, fired
    arrays = [np.asarray(x_value, dtype=x_type.dtype).reshape(x_type.shape)]
    (a,), (e,) = run(out, arrays), run(g, arrays)
    assert a.dtype == e.dtype and a.shape == e.shape
    np.testing.assert_array_equal(a, e)
    for part in ((lambda v: v.real, lambda v: v.imag) if a.dtype.kind == "c" else (lambda v: v,)):
        assert np.array_equal(np.signbit(part(a)), np.signbit(part(e)))
    return out


def test_rule_table_is_documented():
    assert all(r.name and "->" in r.name for r in RULES)


def test_mul_one():
    out = check(lambda b, x: b.op("mul", x, b.const(1.0)), True)
    assert not [n for n in out.nodes if n.op.name == "mul"]
    check(lambda b, x: b.op("mul", b.fconst(1.0), x), True)
    check(lambda b, x: b.op("mul", x, b.const(2.0)), False)
    # x (f32) * 1 (strong f64) is f64: type changes, no rewrite
    check(lambda b, x: b.op("mul", x, b.const(1.0, F64, weak=False)), False)
    # a broadcast splat of 1 counts when the shape is x's
    check(lambda b, x: b.op("mul", x, b.op("broadcast_to", b.const(1.0), shape=(7,))), True)
    # ... but not when it broadcasts x to a larger shape
    check(lambda b, x: b.op("mul", x, b.op("broadcast_to", b.const(1.0), shape=(2, 7))), False)


def test_div_one():
    check(lambda b, x: b.op("div", x, b.const(1.0)), True)
    check(lambda b, x: b.op("div", b.const(1.0), x), False)
    ints = T((4,), np.int32)
    check(lambda b, x: b.op("div", x, b.const(1)), False, ints, [1, -2, 3, 0])  # int / 1 is float


def test_add_zero_only_where_exact():
    check(lambda b, x: b.op("add", x, b.const(0.0)), False)       # -0.0 + 0.0 = 0.0
    check(lambda b, x: b.op("add", x, b.const(0, np.int64)), False)  # same with a weak int zero
    check(lambda b, x: b.op("add", x, b.const(-0.0)), True)
    check(lambda b, x: b.op("add", b.const(-0.0), x), True)
    ints = T((4,), np.int32)
    check(lambda b, x: b.op("add", x, b.const(0, np.int64)), True, ints, [1, -2, 3, 0])
    check(lambda b, x: b.op("add", b.const(0, np.int64), x), True, ints, [1, -2, 3, 0])
    bools = T((2,), np.bool_)
    check(lambda b, x: b.op("add", x, b.const(False, np.bool_, weak=False)), True, bools, [True, False])


def test_complex_plus_zero_is_never_folded():
    """-0-0j + 0 is 0+0j; a complex zero's parts are not looked at."""
    cplx = T((3,), np.complex128)
    values = [complex(-0.0, -0.0), complex(1.0, -0.0), complex(-0.0, 2.0)]
    check(lambda b, x: b.op("add", x, b.const(0.0)), False, cplx, values)
    check(lambda b, x: b.op("add", b.const(0, np.int64), x), False, cplx, values)
    check(lambda b, x: b.op("sub", x, b.const(0.0)), False, cplx, values)


def test_sub_zero_only_where_exact():
    check(lambda b, x: b.op("sub", x, b.const(0.0)), True)
    check(lambda b, x: b.op("sub", x, b.const(-0.0)), False)      # -0.0 - -0.0 = 0.0
    check(lambda b, x: b.op("sub", b.const(0.0), x), False)


def test_double_negation():
    check(lambda b, x: b.op("neg", b.op("neg", x)), True)
    check(lambda b, x: b.op("neg", b.op("abs", x)), False)
    ints = T((3,), np.int8)
    check(lambda b, x: b.op("neg", b.op("neg", x)), True, ints, [-128, 127, 0])


def test_cast_to_same_dtype():
    check(lambda b, x: b.op("cast", x, dtype=F32), True)
    check(lambda b, x: b.op("cast", x, dtype=F64), False)
    check(lambda b, x: b.op("cast", b.op("cast", x, dtype=F64), dtype=F32), False)


def test_reshape_rules():
    m = T((2, 6))
    vals = np.arange(12)
    out = check(lambda b, x: b.op("reshape", b.op("reshape", x, shape=(3, 4)), shape=(4, 3)), True, m, vals)
    assert [n.op.name for n in out.nodes] == ["reshape"]
    out = check(lambda b, x: b.op("reshape", b.op("reshape", x, shape=(12,)), shape=(2, 6)), True, m, vals)
    assert out.nodes == []
    check(lambda b, x: b.op("reshape", x, shape=(2, 6)), True, m, vals)
    check(lambda b, x: b.op("reshape", x, shape=(6, 2)), False, m, vals)


def test_transpose_rules():
    t = T((2, 3, 4))
    vals = np.arange(24)
    out = check(lambda b, x: b.op("transpose", b.op("transpose", x, perm=(1, 2, 0)), perm=(2, 0, 1)),
                True, t, vals)
    assert out.nodes == []                                           # composes to the identity
    out = check(lambda b, x: b.op("transpose", b.op("transpose", x, perm=(1, 0, 2)), perm=(0, 2, 1)),
                True, t, vals)
    assert [n.op.name for n in out.nodes] == ["transpose"]
    check(lambda b, x: b.op("transpose", x, perm=(0, 1, 2)), True, t, vals)
    check(lambda b, x: b.op("transpose", x, perm=(0, 2, 1)), False, t, vals)


def test_broadcast_and_slice_rules():
    m = T((2, 3))
    vals = np.arange(6)
    check(lambda b, x: b.op("broadcast_to", x, shape=(2, 3)), True, m, vals)
    check(lambda b, x: b.op("broadcast_to", x, shape=(4, 2, 3)), False, m, vals)
    check(lambda b, x: b.op("slice", x, starts=(0, 0), steps=(1, 1), shape=(2, 3)), True, m, vals)
    check(lambda b, x: b.op("slice", x, starts=(0, 1), steps=(1, 1), shape=(2, 2)), False, m, vals)
    check(lambda b, x: b.op("slice", x, starts=(1, 0), steps=(-1, 1), shape=(2, 3)), False, m, vals)


def test_slices_of_a_slice_write_read_the_old_array_or_the_written_value():
    m = T((5, 4))
    vals = np.arange(20.0)

    def after_write(b, x, starts, steps, shape, value_shape=None):
        v = b.op("mul", b.op("slice", x, starts=(0, 0), steps=(1, 1), shape=value_shape or (1, 4)), b.const(2.0))
        written = b.op("update_slice", x, v, starts=(3, 0), steps=(1, 1), shape=(1, 4))
        return b.op("slice", written, starts=starts, steps=steps, shape=shape)
    out = check(lambda b, x: after_write(b, x, (1, 0), (1, 1), (2, 4)), True, m, vals)    # rows 1-2: old x
    assert "update_slice" not in format_graph(out)
    check(lambda b, x: after_write(b, x, (4, 1), (-2, 2), (2, 2)), False, m, vals)        # rows 4, 2: the hull meets
    check(lambda b, x: after_write(b, x, (0, 0), (4, 1), (2, 4)), False, m, vals)         # rows 0, 4: hull holds 3
    out = check(lambda b, x: after_write(b, x, (3, 0), (1, 1), (1, 4)), True, m, vals)    # row 3: the value
    assert "update_slice" not in format_graph(out)
    check(lambda b, x: after_write(b, x, (2, 1), (1, 1), (2, 2)), False, m, vals)         # overlaps: stays


def test_where_of_a_bool_between_true_and_false_is_the_bool_or_its_negation():
    m = T((2, 3), np.bool_)
    vals = np.array([1, 0, 1, 1, 0, 0], bool)
    t, f = (lambda b: b.const(True, np.bool_, weak=False)), (lambda b: b.const(False, np.bool_, weak=False))
    out = check(lambda b, x: b.op("where", x, t(b), f(b)), True, m, vals)
    assert out.nodes == []
    out = check(lambda b, x: b.op("where", x, f(b), t(b)), True, m, vals)
    assert [n.op.name for n in out.nodes] == ["logical_not"]
    check(lambda b, x: b.op("where", x, t(b), t(b)), False, m, vals)
    check(lambda b, x: b.op("where", x, b.const(1.0), b.const(0.0)), False, m, vals)     # a float result stays


def test_reductions_over_no_axes():
    out = check(lambda b, x: b.op("reduce_max", x, axes=(), keepdims=False), True)
    assert out.nodes == []
    out = check(lambda b, x: b.op("reduce_sum", x, axes=(), keepdims=False), True)   # -0.0 -> 0.0
    assert [n.op.name for n in out.nodes] == ["constant", "add"]
    ints = T((3,), np.int64)
    out = check(lambda b, x: b.op("reduce_sum", x, axes=(), keepdims=True), True, ints, [1, 2, 3])
    assert out.nodes == []


@pytest.mark.parametrize("op", ["reduce_max", "reduce_min", "reduce_prod", "reduce_sum", "reduce_any",
                                "reduce_all"])
@pytest.mark.parametrize("dtype", [np.float32, np.int8, np.bool_])
@pytest.mark.parametrize("keepdims", [True, False])
def test_reductions_over_extent_one_axes(op, dtype, keepdims):
    values = {np.float32: SPECIALS, np.int8: [-128, 127, 0, 3, -1, 5, 2], np.bool_: [1, 0, 1, 1, 0, 0, 1]}[dtype]
    out = check(lambda b, x: b.op(op, x, axes=(1,), keepdims=keepdims), True, T((7, 1), dtype), values)
    assert not any(n.op.group.value == "reduction" for n in out.nodes)
    check(lambda b, x: b.op(op, x, axes=(0,), keepdims=keepdims), False, T((7, 1), dtype), values)


def test_rules_leave_other_outputs_intact():
    b = B("g")
    x = b.add_input(T((7,)))
    one = b.const(1.0)
    y = b.op("mul", x, one)
    g = b.finish([y, b.op("exp", y), x])
    out = dce(simplify(g))
    verify(out)
    assert [n.op.name for n in out.nodes] == ["exp"]
    arrays = [SPECIALS]
    for a, e in zip(run(out, arrays), run(g, arrays)):
        np.testing.assert_array_equal(a, e)


@pytest.mark.parametrize("make", pg.ALL)
def test_simplify_models_exact(make):
    g = make()
    out = simplify(g)
    verify(out)
    arrays = pg.random_inputs(g)
    for a, e in zip(run(out, arrays), run(g, arrays)):
        np.testing.assert_array_equal(a, e)
