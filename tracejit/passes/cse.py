"""Common subexpression elimination: one node per (op, operands, attrs).

Attributes are compared through `attr_key`: float attrs by bit pattern (so a NaN
constant merges with an identical NaN constant, and 0.0 never merges with -0.0),
dtypes by name, and kernel regions only when they are the same object.
"""
from __future__ import annotations

from ..ir import Graph, GraphBuilder, clone_node
from ._values import attrs_key


def cse(graph: Graph) -> Graph:
    """Merge nodes with identical op, inputs and attrs (the first one is kept)."""
    builder = GraphBuilder(graph.name)
    mapping = {v: builder.add_input(v.type) for v in graph.inputs}
    seen: dict = {}
    for node in graph.nodes:
        inputs = [mapping[v] for v in node.inputs]
        key = (node.op.name, tuple(id(v) for v in inputs), attrs_key(node.attrs))
        existing = seen.get(key)
        if existing is None:
            existing = seen[key] = builder.append(clone_node(node, inputs))
        mapping.update(zip(node.outputs, existing.outputs))
    return builder.finish([mapping[v] for v in graph.outputs])
