"""Constant folding of scalar subexpressions.

A node whose operands are all `constant` nodes and whose single result has shape ()
is evaluated with the op's own NumPy reference (so the value is exactly what the
interpreter would compute) and replaced by a `constant` of the same dtype and
weakness. Nodes whose reference raises (e.g. integer to a negative power) stay.
"""
from __future__ import annotations

import numpy as np

from ..ir import Graph, OpGroup, rebuild


def _python_scalar(array: np.ndarray):
    return np.asarray(array).reshape(()).item()


def fold_constants(graph: Graph) -> Graph:
    """Replace all-constant scalar nodes by `constant` nodes."""
    return rebuild(graph, _fold)


def _fold(node, inputs, builder):
    if (not inputs or len(node.outputs) != 1 or node.op.group is OpGroup.KERNEL
            or node.output.type.shape != ()
            or any(v.producer is None or v.producer.op.name != "constant" for v in inputs)):
        return None
    out_type = node.output.type
    arrays = [np.asarray(v.producer.attrs["value"], dtype=v.producer.attrs["dtype"]) for v in inputs]
    try:
        (result,) = node.op.reference(arrays, node.attrs, [out_type])
    except Exception:  # leave it to run time, where NumPy reports it the same way
        return None
    result = np.asarray(result)
    if result.dtype != out_type.dtype or result.shape != ():
        return None
    attrs = {"value": _python_scalar(result), "dtype": out_type.dtype}
    if out_type.weak:
        attrs["weak_result"] = True
    return [builder.emit("constant", (), attrs, node.loc)]
