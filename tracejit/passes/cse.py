"""Common subexpression elimination: one node per (op, operands, attrs).

Attributes are compared through `attr_key`: float attrs by bit pattern (so a NaN
constant merges with an identical NaN constant, and 0.0 never merges with -0.0),
dtypes by name, and kernel regions only when they are the same object.
"""
from __future__ import annotations

from ..ir import Graph, clone_node, rebuild
from ._values import attrs_key


def cse(graph: Graph) -> Graph:
    """Merge nodes with identical op, inputs and attrs (the first one is kept)."""
    seen: dict = {}

    def merge(node, inputs, builder):
        key = (node.op.name, tuple(id(v) for v in inputs), attrs_key(node.attrs))
        existing = seen.get(key)
        if existing is None:
            existing = seen[key] = builder.append(clone_node(node, inputs))
        return existing.outputs
    return rebuild(graph, merge)
