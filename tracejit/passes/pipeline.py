"""The optimization pipeline: one explicit ordered list of pure passes.

``optimize`` keeps the result of every pass so the dump can show each stage headed
by the pass's name; the last graph is the one the runtime compiles.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

from ..ir import Graph, format_graph, rebuild, verify
from .causal_weights import mark_causal_weights
from .cse import cse
from .dce import dce
from .fold import fold_constants
from .fusion import fuse
from .layout import follow_input_layouts
from .loop_writes import carried_writes_in_place
from .hoist import hoist_invariants
from .matvec import compute_in_product_shape
from .roll import roll_loops
from .simplify import simplify

def _loop_bodies(graph, facts):
    return optimize_loop_bodies(graph, facts)     # (defined below)


_loop_bodies.reads_call_facts = True

PIPELINE = [
    ("roll", roll_loops),                # a traced Python loop's repeated body -> one loop node
    ("hoist", hoist_invariants),         # body work on loop-invariant values -> once, before the loop
    ("dce", dce),                        # drop what the trace computed but never used
    ("cse", cse),                        # one node per (op, operands, attrs)
    ("fold_constants", fold_constants),  # scalar constant subexpressions -> constants
    ("matvec", compute_in_product_shape),  # ops after x @ vector in the product's shape (its epilogue)
    ("simplify", simplify),              # local exact algebra (x * 1 -> x, ...)
    ("layout", follow_input_layouts),    # ops over transposed views computed in memory order
    ("cse", cse),                        # rewrites may expose new duplicates
    ("dce", dce),                        # and leave dead nodes behind
    ("causal_weights", mark_causal_weights),   # softmax(causal mask) @ v: the weights' zeros noted
    ("fuse", fuse),                      # group ops into kernels
    ("loop_bodies", _loop_bodies),       # the same pipeline on each loop body
]


@dataclass(frozen=True)
class CallFacts:
    """What the runtime knows of the call a graph was traced for, beyond the graph:
    the indices of the outputs it writes into arguments, and of the inputs that are
    in C order; passes add to `relied_on` the inputs whose order (C or not) decided
    what they did (the runtime then guards those layouts). ``CallFacts.unknown(graph)`` assumes the least (every output written,
    no input known to be in C order), as for loop bodies. `matmul_rows`: the backend
    computes a kernel's matmul into a buffer before its loops, so the kernel may also
    reduce rows of the product (a softmax or a layernorm after a matmul is one kernel)."""
    written_outputs: frozenset
    c_inputs: frozenset
    relied_on: set = field(default_factory=set)   # filled by passes: inputs whose order decided
    matmul_rows: bool = False

    @staticmethod
    def unknown(graph) -> "CallFacts":
        return CallFacts(frozenset(range(len(graph.outputs))), frozenset())


def optimize(graph: Graph, verify_each: bool = False, facts: CallFacts | None = None) -> list:
    """[("traced", graph), (pass name, result), ...]; verifies each stage if asked.
    Passes marked ``reads_call_facts`` are also given `facts`."""
    if verify_each:
        verify(graph, "traced")
    facts = CallFacts.unknown(graph) if facts is None else facts
    history = [("traced", graph)]
    for name, fn in PIPELINE:
        graph = fn(graph, facts) if getattr(fn, "reads_call_facts", False) else fn(graph)
        if verify_each:
            verify(graph, f"after {name}")
        history.append((name, graph))
    return history


def optimize_loop_bodies(graph: Graph, facts: CallFacts | None = None) -> Graph:
    """Every loop node's body through the whole pipeline (bodies are planned as
    graphs of their own: kernels do not cross the loop boundary), after its slice
    writes into carried arrays are made in place where they can be (loop_writes.py).
    A body knows nothing of the call but what the backend can do (`facts.matmul_rows`)."""
    if not any(node.op.name == "loop" for node in graph.nodes):
        return graph

    def optimized(node, inputs, builder):
        if node.op.name != "loop":
            return None
        body, in_place = carried_writes_in_place(dce(node.attrs["body"]), node.attrs["carried"])
        body_facts = replace(CallFacts.unknown(body), matmul_rows=bool(facts and facts.matmul_rows))
        body = final_graph(optimize(body, facts=body_facts))
        attrs = {**node.attrs, "body": body}
        if in_place:
            attrs["in_place"] = in_place
        return builder.add("loop", inputs, attrs, node.loc).outputs
    return rebuild(graph, optimized)


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
