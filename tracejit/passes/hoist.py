"""Loop-invariant code motion: body work that reads only invariant values runs once.

A rolled loop's body (``roll.py``) takes its carried values first, then its invariant
operands: the same value on every trip. A body node whose operands are all invariant
(or results of such nodes) computes the same thing on every trip. NumPy's loop
recomputes it, and so did the body's plan (``x.T @ y`` of two arrays the loop never
changes, an ``np.exp`` of a fixed grid, a transpose of the data matrix). Here such nodes
move in front of the loop node, and their results enter the body as further invariant
operands. Results are bit-identical: the same ops on the same values, once.

Kept in the body:
- nodes without operands (constants, iotas): free inside a kernel, and hoisted they
  would become arrays the body reads; a hoisted node that reads one gets a copy of it
  in front of the loop;
- nodes whose result leaves the body, directly or through views (a carried or stacked
  result): a carried value the body writes into on the next trip is then never a
  hoisted array, which every trip reads (``plan.LoopStep.in_place`` copies a carried
  value once, on entry). A body the later passes simplify can still return one of its
  inputs (``x * 1.0`` becomes ``x``); what the caller then gets is copied where NumPy
  returns new memory (``plan.output_roots``).
"""
from __future__ import annotations

from ..ir import Graph, GraphBuilder, clone_node, make_node
from ..ir.ops_control import loop_layout
from .fusion import VIEW_OPS


def hoist_invariants(graph: Graph) -> Graph:
    """`graph` with every loop node's invariant body work moved in front of it (nested
    loops too: a hoisted inner loop node is hoisted as a whole)."""
    if not any(node.op.name == "loop" for node in graph.nodes):
        return graph
    builder = GraphBuilder(graph.name)
    mapping = {v: builder.add_input(v.type) for v in graph.inputs}
    changed = False
    for node in graph.nodes:
        inputs = [mapping[v] for v in node.inputs]
        if node.op.name == "loop":
            outputs, moved = _hoisted_loop(node, inputs, builder)
            changed = changed or moved
        else:
            outputs = builder.append(clone_node(node, inputs)).outputs
        for old, new in zip(node.outputs, outputs):
            mapping[old] = new
    return builder.finish([mapping[v] for v in graph.outputs]) if changed else graph


def _escaping(body: Graph) -> set:
    """Body values a loop result is, or is a view of."""
    found, todo = set(), list(body.outputs)
    while todo:
        value = todo.pop()
        if value in found:
            continue
        found.add(value)
        if value.producer is not None and value.producer.op.name in VIEW_OPS:
            todo.extend(value.producer.inputs)
    return found


def _hoisted_loop(node, operands, builder):
    """(the loop's outputs, whether anything moved): the invariant nodes of its body
    emitted into `builder` ahead of a loop node that reads them as invariants."""
    attrs = node.attrs
    body = hoist_invariants(attrs["body"])                 # inner loops first
    carried, invariant, groups, _ = loop_layout(attrs, len(operands))
    outer = {body.inputs[carried + k]: operands[carried + k] for k in range(invariant)}
    escaping = _escaping(body)
    hoisted = []

    def available(value) -> bool:
        """Whether `value` exists in front of the loop (a constant is copied there)."""
        if value in outer:
            return True
        producer = value.producer
        if producer is None or producer.inputs:
            return False
        outer.update(zip(producer.outputs, builder.append(clone_node(producer, [])).outputs))
        return True
    for inner in body.nodes:
        if inner.inputs and not any(v in escaping for v in inner.outputs) \
                and all(v in outer or _free(v) for v in inner.inputs) and all(map(available, inner.inputs)):
            moved = builder.append(clone_node(inner, [outer[v] for v in inner.inputs]))
            outer.update(zip(inner.outputs, moved.outputs))
            hoisted.append(inner)
    if not hoisted:
        if body is attrs["body"]:
            return builder.append(clone_node(node, operands)).outputs, False
        return builder.append(make_node("loop", operands, {**attrs, "body": body}, node.loc)).outputs, True
    # the hoisted results the rest of the body reads become invariant inputs
    gone = {id(n) for n in hoisted}
    read = []
    for inner in body.nodes:
        if id(inner) not in gone:
            read.extend(v for v in inner.inputs if v.producer is not None and id(v.producer) in gone)
    new_invariants = list(dict.fromkeys(read))
    new_body = _rebuilt_body(body, carried + invariant, new_invariants, gone)
    per_trip = operands[carried + invariant:]
    new_operands = operands[:carried + invariant] + [outer[v] for v in new_invariants] + per_trip
    return builder.append(make_node("loop", new_operands, {**attrs, "body": new_body}, node.loc)).outputs, True


def _free(value) -> bool:
    """A result of a node without operands (a constant, an iota): the same on every trip."""
    return value.producer is not None and not value.producer.inputs


def _rebuilt_body(body: Graph, split: int, new_invariants: list, gone: set) -> Graph:
    """`body` without the hoisted nodes (`gone`), reading `new_invariants` as inputs
    placed after its first `split` (carried and invariant) inputs."""
    builder = GraphBuilder(body.name)
    mapping = {}
    for value in body.inputs[:split]:
        mapping[value] = builder.add_input(value.type)
    for value in new_invariants:
        mapping[value] = builder.add_input(value.type)
    for value in body.inputs[split:]:
        mapping[value] = builder.add_input(value.type)
    for inner in body.nodes:
        if id(inner) in gone:
            continue
        new = builder.append(clone_node(inner, [mapping[v] for v in inner.inputs]))
        mapping.update(zip(inner.outputs, new.outputs))
    return builder.finish([mapping[v] for v in body.outputs])
