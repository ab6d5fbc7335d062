"""The optimization pipeline: one explicit ordered list of pure passes.

``optimize`` keeps the result of every pass so the dump can show each stage headed
by the pass's name; the last graph is the one the runtime compiles.
"""
from __future__ import annotations

from ..ir import Graph, format_graph, verify
from .cse import cse
from .dce import dce
from .fold import fold_constants
from .fusion import fuse
from .simplify import simplify

PIPELINE = [
    ("dce", dce),                        # drop what the trace computed but never used
    ("cse", cse),                        # one node per (op, operands, attrs)
    ("fold_constants", fold_constants),  # scalar constant subexpressions -> constants
    ("simplify", simplify),              # local exact algebra (x * 1 -> x, ...)
    ("cse", cse),                        # rewrites may expose new duplicates
    ("dce", dce),                        # and leave dead nodes behind
    ("fuse", fuse),                      # group ops into kernels
]


def optimize(graph: Graph, verify_each: bool = False) -> list:
    """[("traced", graph), (pass name, result), ...]; verifies each stage if asked."""
    if verify_each:
        verify(graph, "traced")
    history = [("traced", graph)]
    for name, fn in PIPELINE:
        graph = fn(graph)
        if verify_each:
            verify(graph, f"after {name}")
        history.append((name, graph))
    return history


def final_graph(history: list) -> Graph:
    return history[-1][1]


def format_history(history: list) -> str:
    """The stages whose text changed, each headed by its pass name (for dumps)."""
    parts, previous = [], None
    for name, graph in history:
        text = format_graph(graph)
        if text != previous:
            parts.append(f"// ---- {name} ----\n{text}")
        previous = text
    return "\n\n".join(parts)
