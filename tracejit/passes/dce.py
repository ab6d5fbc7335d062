"""Dead code elimination: drop nodes none of whose results reach a graph output.

Pure: the input graph is never mutated; the result is a fresh graph whose nodes are
clones (same op, attrs and source location) of the live nodes, in the same order.
"""
from __future__ import annotations

from ..ir import Graph, rebuild


def live_nodes(graph: Graph) -> set:
    """Nodes with at least one result that (transitively) feeds a graph output."""
    needed = set(graph.outputs)
    live = set()
    for node in reversed(graph.nodes):
        if any(v in needed for v in node.outputs):
            live.add(node)
            needed.update(node.inputs)
    return live


def dce(graph: Graph) -> Graph:
    """Remove nodes whose outputs are unused (graph outputs keep their producers)."""
    return rebuild(graph, keep=live_nodes(graph).__contains__)
