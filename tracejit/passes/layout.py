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
each user of its result is a graph output, a reduction, a transpose, a matmul that
reads the transposed view as it is (BLAS takes either order of the last two axes), or
another op that moves it too. Where a user needs the result in its own order (a write into an argument,
an op with untransposed operands, a loop body's carried values), one kernel reading
through the view is cheaper than a kernel in memory order plus a strided copy.

Elementwise results are bit-identical; a sum or product over the permuted axes adds
the same numbers in another order, within the tolerance every compiled sum has. Scans
and other ops keep their operand layout. The arguments whose order decided a rewrite
(either way) are reported in ``facts.relied_on``, and the runtime guards their layout.
"""
from __future__ import annotations

from ..ir import rebuild
from ..ir.ops import OpGroup
from .simplify import compose_perms


def _identity(perm) -> bool:
    return tuple(perm) == tuple(range(len(perm)))


def _transposed(value):
    """(the untransposed operand, perm) when `value` is a transpose, else None."""
    node = value.producer
    if node is None or node.op.name != "transpose":
        return None
    return node.inputs[0], tuple(node.attrs["perm"])


def _strided_when_transposed(value) -> bool:
    """Whether reading `value` through a transpose strides across memory: it has two
    or more axes longer than 1 (with fewer, the view is contiguous too, and NumPy
    keeps C order)."""
    return sum(1 for n in value.type.shape if n > 1) >= 2


def _emit_transpose(builder, value, perm, loc):
    """transpose(value, perm), composed with a transpose that produced `value`, and
    `value`'s operand itself when the two cancel."""
    found = _transposed(value)
    if found is not None:
        value, perm = found[0], compose_perms(found[1], perm)
    if _identity(perm):
        return value
    return builder.emit("transpose", [value], {"perm": tuple(perm)}, loc)


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


def _movers(graph, written_outputs, c_inputs, relied_on) -> set:
    """The elementwise nodes that move a transpose to their result, and pay for it.
    `c_inputs`: the graph inputs laid out in C order (the others may be read in their
    order already: an F-ordered ``x.T`` is C); the inputs whose order decided are
    added to `relied_on`."""
    perms, bases, movers = {}, {}, set()
    in_c_order = {v for k, v in enumerate(graph.inputs) if k in c_inputs}
    users = {}
    for node in graph.nodes:
        for value in node.inputs:
            users.setdefault(value, []).append(node)
    for node in graph.nodes:
        if node.op.name == "transpose":
            x = node.inputs[0]
            inner = perms.get(x)
            perm = compose_perms(inner, tuple(node.attrs["perm"])) if inner else tuple(node.attrs["perm"])
            base = bases.get(x, x)
            if base.producer is None and _strided_when_transposed(base) and any(
                    u.op.is_elementwise or u.op.group is OpGroup.REDUCTION for u in users.get(node.output, ())):
                relied_on.add(graph.inputs.index(base))     # moved or not, by its order
            if not _identity(perm) and _strided_when_transposed(base) and \
                    (base.producer is not None or base in in_c_order):
                perms[node.output], bases[node.output] = perm, base
        elif (common := _common_perm(node, perms.get)) is not None:
            perms[node.output], bases[node.output] = common, node.output
            movers.add(node)
    returned = {v for k, v in enumerate(graph.outputs) if k not in written_outputs}
    written = {v for k, v in enumerate(graph.outputs) if k in written_outputs}
    for node in reversed(graph.nodes):
        if node not in movers:
            continue
        pays = all(u in movers or u.op.group is OpGroup.REDUCTION or u.op.name == "transpose"
                   or _blas_reads_transposed(u, node.output, perms[node.output])
                   for u in users.get(node.output, ()))
        if not pays or node.output in written or (not users.get(node.output) and node.output not in returned):
            movers.discard(node)
    return movers


def _blas_reads_transposed(user, value, perm) -> bool:
    """`user` is a matmul whose operand `value` is read through transpose `perm` at no
    cost: BLAS takes either order of the last two axes (a transposed operand is a flag),
    so the operand keeps a unit stride when its last axis stays among the last two."""
    return user.op.group is OpGroup.MATMUL and value in user.inputs and len(perm) >= 2 \
        and len(perm) - 1 in perm[-2:]


def _note_inputs(values, builder, facts) -> None:
    """Record the graph inputs among `values` whose order a decision relied on."""
    for value in values:
        if value.producer is None:
            for k, candidate in enumerate(builder.inputs):
                if candidate is value:
                    facts.relied_on.add(k)


def _elementwise(node, inputs, builder):
    def perm_of(value):
        found = _transposed(value)
        return None if found is None else found[1]
    perm = _common_perm(node, lambda v: perm_of(inputs[node.inputs.index(v)]))
    if perm is None:
        return None
    operands = [v if v.type.rank == 0 else _transposed(v)[0] for v in inputs]
    inner = builder.emit(node.op.name, operands, dict(node.attrs), node.loc)
    return [_emit_transpose(builder, inner, perm, node.loc)]


def _reduction(node, inputs, builder, facts):
    if node.op.reduction is None or "axes" not in node.attrs or len(node.outputs) != 1:
        return None
    found = _transposed(inputs[0])
    if found is None or not _strided_when_transposed(found[0]):
        return None
    _note_inputs([found[0]], builder, facts)   # moved or not, by its order
    if found[0].producer is None and not any(found[0] is builder.inputs[k] for k in facts.c_inputs):
        return None                    # an argument not in C order: it may be read in order already
    x, perm = found
    axes, keepdims = tuple(node.attrs["axes"]), node.attrs["keepdims"]
    order = _kept_order(perm, axes, keepdims)
    if node.op.reduction.arg and not _identity(order):
        return None                    # NumPy gives argmax/argmin results in C order
    attrs = dict(node.attrs, axes=tuple(sorted(perm[a] for a in axes)))
    reduced = builder.emit(node.op.name, [x], attrs, node.loc)
    if _identity(order):
        return [reduced]
    return [builder.emit("transpose", [reduced], {"perm": order}, node.loc)]


def _kept_order(perm, axes, keepdims) -> tuple:
    """The transpose that puts the reduction of x over perm[axes] in the order of the
    reduction of transpose(x, perm) over `axes`."""
    if keepdims:
        return perm
    kept = [perm[d] for d in range(len(perm)) if d not in axes]
    ascending = sorted(kept)
    return tuple(ascending.index(d) for d in kept)


def follow_input_layouts(graph, facts):
    """`graph` with transposes moved past the ops that read them (see the module
    docstring). `facts` (``pipeline.CallFacts``): the outputs written into arguments,
    which keep the argument's layout, and the inputs known to be in C order."""
    movers = _movers(graph, facts.written_outputs, facts.c_inputs, facts.relied_on)

    def rewrite(node, inputs, builder):
        if node.op.group is OpGroup.REDUCTION:
            return _reduction(node, inputs, builder, facts)
        if node.op.name == "transpose" and _transposed(inputs[0]) is not None:
            return [_emit_transpose(builder, inputs[0], tuple(node.attrs["perm"]), node.loc)]
        return _elementwise(node, inputs, builder) if node in movers else None
    return rebuild(graph, rewrite)


follow_input_layouts.reads_call_facts = True

__all__ = ["follow_input_layouts"]
