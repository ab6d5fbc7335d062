"""Compute in the layout the data has: move transposes past the ops that read them.

A kernel's loops follow its output's index order. When what it reads is a transposed
view (``x.T * 2 + 1``, ``x.T.sum(axis=1)``), every load then strides across memory:
the loops walk ``x`` column by column, 3-20x slower than walking it in order. NumPy
avoids this by iterating in memory order and giving ``x.T * 2`` an F-ordered result.
This pass does the same at the graph level:

- an elementwise op whose array operands are all ``transpose(a_k, p)`` with one
  permutation ``p`` (0-d operands aside) becomes ``transpose(op(a_k...), p)``: the
  kernel reads and writes in memory order, and the result is a transposed view of it,
  laid out as NumPy lays out its result;
- a reduction of ``transpose(x, p)`` becomes the reduction of ``x`` over the permuted
  axes, followed by the transpose of what is left (none for a full reverse of 2-D).

Applied in graph order, a chain of elementwise ops over transposed inputs carries one
transpose to its end. An elementwise op moves the transpose only where that pays: when
each user of its result is a graph output, a reduction, a transpose, or another op that
moves it too. Where a user needs the result in its own order (a write into an argument,
an op with untransposed operands, a loop body's carried values), one kernel reading
through the view is cheaper than a kernel in memory order plus a strided copy. Elementwise results are bit-identical; a sum or
product over the permuted axes adds the same numbers in another order, which is within
the tolerance every compiled sum has. Scans and other ops keep their operand layout.
"""
from __future__ import annotations

from ..ir import rebuild
from ..ir.ops import OpGroup


def _transposed(value):
    """(the untransposed operand, perm) when `value` is a transpose, else None."""
    node = value.producer
    if node is None or node.op.name != "transpose":
        return None
    return node.inputs[0], tuple(node.attrs["perm"])


def _common_perm(node, perm_of) -> tuple | None:
    """The one permutation every array operand of an elementwise `node` is transposed
    by (`perm_of(value)`: its permutation or None), or None."""
    if not node.op.is_elementwise or len(node.outputs) != 1 or node.output.type.rank < 2:
        return None
    perm = None
    for value in node.inputs:
        if value.type.rank == 0:
            continue
        found = perm_of(value)
        if found is None or value.type.rank != node.output.type.rank or (perm is not None and found != perm):
            return None
        perm = found
    return perm


def _movers(graph, written_outputs) -> set:
    """The elementwise nodes that move a transpose to their result, and pay for it."""
    perms, movers = {}, set()
    for node in graph.nodes:
        if node.op.name == "transpose":
            perms[node.output] = tuple(node.attrs["perm"])
        elif _common_perm(node, perms.get) is not None:
            perms[node.output] = _common_perm(node, perms.get)
            movers.add(node)
    users = {}
    for node in graph.nodes:
        for value in node.inputs:
            users.setdefault(value, []).append(node)
    returned = {v for k, v in enumerate(graph.outputs) if k not in written_outputs}
    written = {v for k, v in enumerate(graph.outputs) if k in written_outputs}
    for node in reversed(graph.nodes):
        if node not in movers:
            continue
        pays = all(u in movers or u.op.group is OpGroup.REDUCTION or u.op.name == "transpose"
                   for u in users.get(node.output, ()))
        if not pays or node.output in written or (not users.get(node.output) and node.output not in returned):
            movers.discard(node)
    return movers


def _elementwise(node, inputs, builder):
    def perm_of(value):
        found = _transposed(value)
        return None if found is None else found[1]
    perm = _common_perm(node, lambda v: perm_of(inputs[node.inputs.index(v)]))
    if perm is None:
        return None
    operands = [v if v.type.rank == 0 else _transposed(v)[0] for v in inputs]
    inner = builder.emit(node.op.name, operands, dict(node.attrs), node.loc)
    return [builder.emit("transpose", [inner], {"perm": perm}, node.loc)]


def _reduction(node, inputs, builder):
    if node.op.reduction is None or "axes" not in node.attrs or len(node.outputs) != 1:
        return None
    found = _transposed(inputs[0])
    if found is None:
        return None
    x, perm = found
    axes, keepdims = tuple(node.attrs["axes"]), node.attrs["keepdims"]
    attrs = dict(node.attrs, axes=tuple(sorted(perm[a] for a in axes)))
    reduced = builder.emit(node.op.name, [x], attrs, node.loc)
    if keepdims:
        order = perm
    else:
        kept = [perm[d] for d in range(len(perm)) if d not in axes]
        ascending = sorted(kept)
        order = tuple(ascending.index(d) for d in kept)
    if order == tuple(range(len(order))):
        return [reduced]
    return [builder.emit("transpose", [reduced], {"perm": order}, node.loc)]


def follow_input_layouts(graph, written_outputs=frozenset()):
    """`graph` with transposes moved past the ops that read them (see the module
    docstring); `written_outputs`: indices of outputs written into arguments, which
    keep the layout of the argument."""
    movers = _movers(graph, written_outputs)

    def rewrite(node, inputs, builder):
        if node.op.group is OpGroup.REDUCTION:
            return _reduction(node, inputs, builder)
        return _elementwise(node, inputs, builder) if node in movers else None
    return rebuild(graph, rewrite)


follow_input_layouts.reads_written_outputs = True

__all__ = ["follow_input_layouts"]
