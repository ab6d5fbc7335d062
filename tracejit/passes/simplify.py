"""Local algebraic simplification by a table of declarative rewrite rules.

Each rule is one line: the op it matches, a predicate on the node and its (already
simplified) operands, and a builder of the replacement. A replacement is used only
when its type (shape, dtype, weakness) equals the replaced value's type, so the
rewritten graph still verifies and every rule is exact: the interpreter's result is
bit-identical. Rules that would not be exact for some input are simply absent or
guarded (``x + 0.0`` changes ``-0.0`` to ``0.0``, so only ``x + (-0.0)`` folds).

A builder returns an existing Value or a ``New(op, inputs, attrs)`` spec; new nodes
are simplified again (``transpose(transpose(x))`` may compose to the identity).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..ir import Graph, TensorType, make_node, rebuild
from ._values import constant_of


@dataclass(frozen=True)
class New:
    """A node to create as the replacement (it is simplified in turn)."""
    op: str
    inputs: tuple
    attrs: dict


@dataclass(frozen=True)
class Rule:
    name: str                      # "x * 1 -> x"
    op: str                        # op name the rule matches
    when: Callable                 # (node, args) -> bool
    build: Callable                # (node, args) -> Value | New


# -- predicates on operands ---------------------------------------------------

def _is(value, number) -> bool:
    c = constant_of(value)
    return c is not None and c == number and not np.isnan(c)


def _signbit(value) -> bool:
    c = constant_of(value)
    return c is not None and c.dtype.kind == "f" and bool(np.signbit(c))


def _exact_zero_add(node, zero) -> bool:
    """x + zero == x bit for bit: always in integer/bool arithmetic; in float only -0.0;
    never in complex (-0-0j + 0 is 0+0j, and the zero's parts may differ in sign)."""
    kind = node.output.dtype.kind
    return _is(zero, 0) and (kind in "biu" or (kind == "f" and _signbit(zero)))


def _exact_zero_sub(node, zero) -> bool:
    """x - zero == x bit for bit: x - (+0.0) keeps -0.0; x - (-0.0) does not (complex:
    not folded, the parts' signs are not looked at)."""
    return _is(zero, 0) and not _signbit(zero) and node.output.dtype.kind != "c"


def _producer(value, op):
    node = value.producer
    return node if node is not None and node.op.name == op else None


def compose_perms(p1, p2) -> tuple:
    """transpose(transpose(x, p1), p2) == transpose(x, p1[p2[i]])."""
    return tuple(p1[p] for p in p2)


def _is_full_slice(node, x) -> bool:
    a = node.attrs
    return (all(s == 0 for s in a["starts"]) and all(s == 1 for s in a["steps"])
            and tuple(a["shape"]) == x.shape)


def _bool_select(node, args, keeps) -> bool:
    """``where(c, x, y)`` of a bool `c` with constants x, y = (True, False) (`keeps`)
    or (False, True), giving c's own shape and a bool result: c itself, or its negation."""
    c, x, y = args
    if c.dtype != np.bool_ or node.output.dtype != np.bool_ or c.shape != node.output.shape:
        return False
    tx, ty = constant_of(x), constant_of(y)
    return tx is not None and ty is not None and bool(tx) is keeps and bool(ty) is not keeps


def _hull(start, step, size) -> tuple:
    """The lowest and highest index a slice axis reads."""
    last = start + step * (size - 1)
    return min(start, last), max(start, last)


def _reads_outside_update(node, x) -> bool:
    """slice `node` of ``update_slice(a, v)`` = `x` reads none of the written elements:
    on some axis the two index ranges do not meet (exact: the slice reads `a` there)."""
    update = _producer(x, "update_slice")
    if update is None:
        return False
    s, u = node.attrs, update.attrs
    if 0 in s["shape"] or 0 in u["shape"]:
        return True
    for k in range(len(s["shape"])):
        lo, hi = _hull(s["starts"][k], s["steps"][k], s["shape"][k])
        ulo, uhi = _hull(u["starts"][k], u["steps"][k], u["shape"][k])
        if hi < ulo or uhi < lo:
            return True
    return False


def _reads_the_update(node, x) -> bool:
    """slice `node` of ``update_slice(a, v)`` = `x` reads exactly the written elements,
    and v has their shape (not broadcast): it is v."""
    update = _producer(x, "update_slice")
    return update is not None and update.inputs[1].shape == tuple(node.attrs["shape"]) and \
        all(tuple(node.attrs[k]) == tuple(update.attrs[k]) for k in ("starts", "steps", "shape"))


# reductions whose result over one element is that element converted to the result
# dtype (prod of int8 is int64, any of floats is bool: cast does exactly that)
_UNIT_VALUE = ("reduce_max", "reduce_min", "reduce_prod", "reduce_any", "reduce_all")


def _unit_reduction(node, x) -> bool:
    """Every reduced axis has extent 1 (including axes=()): one element per result."""
    return all(x.shape[d] == 1 for d in node.attrs["axes"])


def _unit_result(node, x, add_zero=False):
    """cast(x, result dtype) [+ 0], reshaped to the result shape; no-op parts dropped
    (the cast stays when only weakness differs: reductions give strong results)."""
    out = node.output.type
    value = x if x.type == TensorType(x.shape, out.dtype) else New("cast", (x,), {"dtype": out.dtype})
    if add_zero and out.dtype.kind == "f":
        value = New("add", (value, New("constant", (), {"value": 0.0, "dtype": out.dtype})), {})
    if x.shape != out.shape:
        value = New("reshape", (value,), {"shape": out.shape})
    return value


def _real(node) -> bool:
    return node.outputs[0].dtype.kind != "c" and all(v.dtype.kind != "c" for v in node.inputs)


# -- the rule table: one rewrite per line --------------------------------------
RULES = [
    # not for complex x: (a+bj) * 1 is (a*1 - b*0) + (a*0 + b*1)j, NaN for an infinite
    # part and +0.0 for -0.0 parts
    Rule("x * 1 -> x (not complex)", "mul", lambda n, a: _is(a[1], 1) and _real(n), lambda n, a: a[0]),
    Rule("1 * x -> x (not complex)", "mul", lambda n, a: _is(a[0], 1) and _real(n), lambda n, a: a[1]),
    Rule("x / 1 -> x (not complex)", "div", lambda n, a: _is(a[1], 1) and _real(n), lambda n, a: a[0]),
    Rule("x + 0 -> x (int/bool, or float -0.0)", "add", lambda n, a: _exact_zero_add(n, a[1]), lambda n, a: a[0]),
    Rule("0 + x -> x (int/bool, or float -0.0)", "add", lambda n, a: _exact_zero_add(n, a[0]), lambda n, a: a[1]),
    Rule("x - 0 -> x (not for -0.0)", "sub", lambda n, a: _exact_zero_sub(n, a[1]), lambda n, a: a[0]),
    Rule("--x -> x", "neg", lambda n, a: _producer(a[0], "neg") is not None,
         lambda n, a: a[0].producer.inputs[0]),
    Rule("cast(x, x.dtype) -> x", "cast", lambda n, a: np.dtype(n.attrs["dtype"]) == a[0].dtype, lambda n, a: a[0]),
    Rule("reshape(x, x.shape) -> x", "reshape", lambda n, a: tuple(n.attrs["shape"]) == a[0].shape, lambda n, a: a[0]),
    Rule("reshape(reshape(x)) -> reshape(x)", "reshape", lambda n, a: _producer(a[0], "reshape") is not None,
         lambda n, a: New("reshape", (a[0].producer.inputs[0],), {"shape": tuple(n.attrs["shape"])})),
    Rule("transpose(x, identity) -> x", "transpose", lambda n, a: tuple(n.attrs["perm"]) == tuple(range(a[0].type.rank)),
         lambda n, a: a[0]),
    Rule("transpose(transpose(x, p), q) -> transpose(x, p[q])", "transpose",
         lambda n, a: _producer(a[0], "transpose") is not None,
         lambda n, a: New("transpose", (a[0].producer.inputs[0],),
                          {"perm": compose_perms(a[0].producer.attrs["perm"], n.attrs["perm"])})),
    Rule("broadcast_to(x, x.shape) -> x", "broadcast_to", lambda n, a: tuple(n.attrs["shape"]) == a[0].shape,
         lambda n, a: a[0]),
    Rule("slice(x) covering all of x -> x", "slice", lambda n, a: _is_full_slice(n, a[0]), lambda n, a: a[0]),
    # a boolean mask written as np.where(cond, True, False) (np.tril of ones, kept as bool)
    Rule("where(c, True, False) -> c (bool c)", "where", lambda n, a: _bool_select(n, a, True),
         lambda n, a: a[0]),
    Rule("where(c, False, True) -> logical_not(c) (bool c)", "where", lambda n, a: _bool_select(n, a, False),
         lambda n, a: New("logical_not", (a[0],), {})),
    # a row read after a write to another row (`x[i] = ...; x[j]`) reads the old array
    Rule("slice(update_slice(x, v, r), s) with s outside r -> slice(x, s)", "slice",
         lambda n, a: _reads_outside_update(n, a[0]),
         lambda n, a: New("slice", (a[0].producer.inputs[0],), dict(n.attrs))),
    Rule("slice(update_slice(x, v, r), r) -> v (v not broadcast)", "slice", lambda n, a: _reads_the_update(n, a[0]),
         lambda n, a: a[0].producer.inputs[1]),
] + [
    Rule(f"{op}(x) over extent-1 axes -> cast(x) (reshaped without keepdims)", op,
         lambda n, a: _unit_reduction(n, a[0]), lambda n, a: _unit_result(n, a[0]))
    for op in _UNIT_VALUE
] + [
    Rule("reduce_sum(x) over extent-1 axes -> cast(x) + 0 (NumPy adds the +0 identity: -0.0 -> 0.0)",
         "reduce_sum", lambda n, a: _unit_reduction(n, a[0]), lambda n, a: _unit_result(n, a[0], add_zero=True)),
]

RULES_BY_OP: dict = {}
for _rule in RULES:
    RULES_BY_OP.setdefault(_rule.op, []).append(_rule)

_MAX_DEPTH = 8


def _tree_type(spec):
    """Result type of a replacement (a Value or a New tree) without building it."""
    if not isinstance(spec, New):
        return spec.type
    types = [_tree_type(i) for i in spec.inputs]
    from ..ir import OPS
    return OPS[spec.op].infer(types, spec.attrs)[0]


def _emit_tree(spec, loc, builder, fired, depth):
    """Append the nodes of a replacement tree (each simplified in turn); its value."""
    if not isinstance(spec, New):
        return spec
    inputs = [_emit_tree(i, loc, builder, fired, depth) for i in spec.inputs]
    node = make_node(spec.op, inputs, spec.attrs, loc)
    simpler = _try_rules(node, inputs, builder, fired, depth + 1) if depth < _MAX_DEPTH else None
    return simpler if simpler is not None else builder.append(node).output


def _try_rules(node, args, builder, fired, depth=0):
    """The value replacing `node` (whose operands are `args`), or None."""
    if len(node.outputs) != 1:
        return None
    want = node.output.type
    for rule in RULES_BY_OP.get(node.op.name, ()):
        if not rule.when(node, args):
            continue
        result = rule.build(node, args)
        try:
            if _tree_type(result) != want:
                continue
        except Exception:  # the replacement is not well typed: the rule does not apply
            continue
        fired.append(rule.name)
        return _emit_tree(result, node.loc, builder, fired, depth)
    return None


def simplify_with_log(graph: Graph) -> tuple:
    """`simplify`, also returning the names of the rules that fired, in order."""
    fired: list = []

    def rewrite(node, args, builder):
        replaced = _try_rules(node, args, builder, fired)
        return None if replaced is None else [replaced]
    return rebuild(graph, rewrite), fired


def simplify(graph: Graph) -> Graph:
    """Apply the rule table once over the graph (new nodes are re-simplified)."""
    return simplify_with_log(graph)[0]
