"""Elementwise work after a matrix-vector product, computed in the product's shape.

``x @ w`` with a 1-D ``w`` is traced as NumPy defines it: ``w`` becomes a column
(``reshape`` to ``[k, 1]``), the matmul gives ``[m, 1]``, and a ``reshape`` drops the
unit axis again. The elementwise ops that follow (``1 / (1 + np.exp(-(x @ w))) - y``)
then have the shape ``[m]``, not the product's, so fusion cannot make them the
matmul's epilogue: every matrix-vector product cost a kernel of its own and a second
kernel for what follows (a logistic-regression step: four launches where two do).

This pass moves the unit axis the other way. An elementwise op whose operands
include such a squeezed product, and whose result has the squeezed shape, is
computed in the product's shape instead: its other operands get the unit axis as a
``reshape`` view (after left-padding their shape with ones, as broadcasting does),
and its result is squeezed again for whoever reads it. Applied in graph order, a
chain of elementwise ops carries the squeeze to its end, where it is a free view.

Elementwise results are bit-identical: only the shapes the same numbers live in
change, and inserting one unit axis into every operand at the same place broadcasts
exactly as before.
"""
from __future__ import annotations

from ..ir import rebuild
from ..ir.ops import OpGroup


def _unit_axis(wide, narrow):
    """The position p at which inserting a unit axis into `narrow` gives `wide`, or None."""
    if len(wide) != len(narrow) + 1:
        return None
    for p in range(len(wide)):
        if wide[p] == 1 and wide[:p] + wide[p + 1:] == narrow:
            return p
    return None


def _with_unit_axis(shape, rank, p):
    """`shape` left-padded with ones to `rank`, then a unit axis at p."""
    padded = (1,) * (rank - len(shape)) + tuple(shape)
    return padded[:p] + (1,) + padded[p:]


def compute_in_product_shape(graph):
    """`graph` with elementwise ops after squeezed matrix-vector products computed in
    the products' shape (see the module docstring)."""
    squeezed = {}          # new squeezed value -> (the wide value it views, unit axis position)

    def rewrite(node, inputs, builder):
        if node.op.name == "reshape":
            source = inputs[0]
            p = _unit_axis(source.type.shape, tuple(node.attrs["shape"]))
            if p is not None and _is_product(source):
                out = builder.emit("reshape", [source], dict(node.attrs), node.loc)
                squeezed[out] = (source, p)
                return [out]
            return None
        if not node.op.is_elementwise or len(node.outputs) != 1:
            return None
        wide = [squeezed[v] for v in inputs if v in squeezed]
        if not wide:
            return None
        shape = node.output.type.shape
        p = wide[0][1]
        if any(w[1] != p or _unit_axis(w[0].type.shape, shape) != p for w in wide):
            return None
        rank = len(shape)
        operands = []
        for value in inputs:
            if value in squeezed:
                operands.append(squeezed[value][0])
            elif value.type.rank == 0:
                operands.append(value)
            else:
                operands.append(builder.emit("reshape", [value],
                                             {"shape": _with_unit_axis(value.type.shape, rank, p)}, node.loc))
        result = builder.emit(node.op.name, operands, dict(node.attrs), node.loc)
        out = builder.emit("reshape", [result], {"shape": tuple(shape)}, node.loc)
        squeezed[out] = (result, p)
        return [out]

    return rebuild(graph, rewrite)


def _is_product(value) -> bool:
    node = value.producer
    return node is not None and node.op.group is OpGroup.MATMUL


__all__ = ["compute_in_product_shape"]
