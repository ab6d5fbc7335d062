"""Matmuls whose first operand is a causal softmax: ``softmax(where(tril, s, -inf)) @ v``.

Such weights are exactly zero in every row past the column ``row + c`` of the causal
mask, unless the row holds a NaN at or before that column (a row whose kept scores are
all -inf, or a NaN score, makes the whole row NaN). Their product with a *finite* v is
then, row for row, the product of the columns up to ``row + c`` only: the skipped terms
are ``0 * v``, and a row with a NaN is NaN either way. The pass marks such a matmul
with ``a_zero_above=c`` (shown in the dump); the CPU kernel computes it in row blocks,
each over the columns its rows can use (``blas_threads.zero_tail_matmul``), after a
check that v is finite (else the whole product, as NumPy). Attention's second product
is then half the work.

What is proved, rule by rule, on the graph (NaN rows allowed at every step):
- ``where(mask, s, -inf)`` with ``mask`` exactly ``column - row <= c`` (np.tril of
  ones, or index comparisons; not a constant mask array): -inf past the diagonal;
- ``exp(x - max(x, last axis, keepdims))`` of that: 0 past it (the max is at least the
  kept entries, so -inf - max is -inf unless the max is -inf or NaN: NaN rows);
- ``e / sum(e, last axis, keepdims)`` or ``e * (1 / sum(...))`` of that: still 0 past it
  (the sum is 0 only when every entry is 0, and then the row is NaN).
Only c >= 0 is used: a row with no kept entry would otherwise lose its NaN.
"""
from __future__ import annotations

import numpy as np

from ..ir import Graph, rebuild
from ._values import constant_of


def _last_axis_reduction(value, kind: str, of) -> bool:
    node = value.producer
    return (node is not None and node.op.name == kind and node.inputs[0] is of
            and tuple(node.attrs["axes"]) == (of.type.rank - 1,) and node.attrs["keepdims"])


def _linear(value):
    """value as {iota axis: coefficient, "c": constant} over the mask's own dims, or None."""
    node = value.producer
    constant = constant_of(value)
    if constant is not None and np.ndim(constant) == 0 and float(constant) == int(constant):
        return {"c": int(constant)}
    if node is None:
        return None
    name = node.op.name
    if name == "iota":
        shape, axis = node.attrs["shape"], node.attrs["axis"]
        return {axis - len(shape): 1, "c": 0} if shape[axis] != 1 else {"c": 0}   # axes from the end
    if name in ("broadcast_to", "cast") and node.inputs[0].type.rank <= value.type.rank:
        return _linear(node.inputs[0]) if name == "cast" or node.inputs[0].type.rank == value.type.rank else None
    if name in ("add", "sub"):
        a, b = _linear(node.inputs[0]), _linear(node.inputs[1])
        if a is None or b is None:
            return None
        sign = 1 if name == "add" else -1
        return {k: a.get(k, 0) + sign * b.get(k, 0) for k in set(a) | set(b)}
    if name == "neg":
        a = _linear(node.inputs[0])
        return None if a is None else {k: -v for k, v in a.items()}
    return None


def _diagonal_offset(mask):
    """c where `mask` is exactly ``column - row <= c`` over its last two dims, else None."""
    node = mask.producer
    if node is None:
        return None
    name = node.op.name
    if name == "where":           # where(b, True, False) is b
        cond, yes, no = node.inputs
        if constant_of(yes) is not None and constant_of(no) is not None and \
                bool(np.all(constant_of(yes))) and not bool(np.any(constant_of(no))):
            return _diagonal_offset(cond)
        return None
    if name not in ("le", "lt", "ge", "gt"):
        return None
    a, b = _linear(node.inputs[0]), _linear(node.inputs[1])
    if a is None or b is None:
        return None
    if name in ("ge", "gt"):
        a, b = b, a
    form = {k: a.get(k, 0) - b.get(k, 0) for k in set(a) | set(b)}     # form <= 0 (lt: < 0)
    bound = -form.pop("c", 0) - (1 if name in ("lt", "gt") else 0)     # col - row <= bound
    form = {k: v for k, v in form.items() if v}
    return bound if form == {-1: 1, -2: -1} else None


def _negative_inf_past(value):
    node = value.producer
    if node is None or node.op.name != "where":
        return None
    cond, _, other = node.inputs
    fill = constant_of(other)
    if fill is None or np.ndim(fill) != 0 or not np.isneginf(fill):
        return None
    if value.type.rank < 2 or cond.type.rank < 2 or tuple(cond.type.shape[-2:]) != tuple(value.type.shape[-2:]):
        return None                  # the mask's rows and columns are the value's own
    return _diagonal_offset(cond)


def _zero_past_exp(value):
    node = value.producer
    if node is None or node.op.name != "exp":
        return None
    shifted = node.inputs[0].producer
    if shifted is None or shifted.op.name != "sub":
        return None
    x, row_max = shifted.inputs
    if not _last_axis_reduction(row_max, "reduce_max", x):
        return None
    return _negative_inf_past(x)


def zero_past_diagonal(value):
    """c >= 0 such that every row of `value` is 0 past column ``row + c`` or holds a NaN
    at or before it (see the module docstring); None when that is not proved."""
    node = value.producer
    if node is None:
        return None
    c = None
    if node.op.name == "div":
        e, total = node.inputs
        if _last_axis_reduction(total, "reduce_sum", e):
            c = _zero_past_exp(e)
    elif node.op.name == "mul":
        for e, scale in (node.inputs, node.inputs[::-1]):
            inverse = scale.producer
            if inverse is not None and inverse.op.name == "div" and constant_of(inverse.inputs[0]) is not None \
                    and float(constant_of(inverse.inputs[0])) == 1.0 \
                    and _last_axis_reduction(inverse.inputs[1], "reduce_sum", e):
                c = _zero_past_exp(e)
                break
    return c if c is not None and c >= 0 else None


def mark_causal_weights(graph: Graph) -> Graph:
    """Each matmul whose first operand is proved zero past the diagonal gets
    ``a_zero_above=c``."""
    def transform(node, inputs, builder):
        if node.op.name != "matmul" or "a_zero_above" in node.attrs:
            return None
        c = zero_past_diagonal(node.inputs[0])
        if c is None:
            return None
        return builder.add("matmul", inputs, {**node.attrs, "a_zero_above": c}, node.loc).outputs

    if not any(node.op.name == "matmul" for node in graph.nodes):
        return graph
    return rebuild(graph, transform)


__all__ = ["mark_causal_weights", "zero_past_diagonal"]
