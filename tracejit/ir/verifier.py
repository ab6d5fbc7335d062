"""The one IR verifier: defs before uses, types agree with the op rules, shapes legal.

Runs after every pass in tests and when ``TRACEJIT_DEBUG=1``.
"""
from __future__ import annotations

from .ops import OPS


class VerificationError(Exception):
    pass


def verify(graph, where: str = "") -> None:
    """Raise VerificationError describing the first broken invariant of `graph`."""
    prefix = f"{where}: " if where else ""
    defined = set()
    for value in graph.inputs:
        if value in defined:
            raise VerificationError(f"{prefix}graph input defined twice")
        if value.producer is not None:
            raise VerificationError(f"{prefix}graph input {value} has a producer")
        defined.add(value)
    for index, node in enumerate(graph.nodes):
        where_node = f"{prefix}node {index} ({node.op.name} at {node.loc or '?'})"
        if OPS.get(node.op.name) is not node.op:
            raise VerificationError(f"{where_node}: unknown op")
        if node.op.arity >= 0 and len(node.inputs) != node.op.arity:
            raise VerificationError(f"{where_node}: expected {node.op.arity} operands, got {len(node.inputs)}")
        for operand in node.inputs:
            if operand not in defined:
                raise VerificationError(f"{where_node}: operand {operand} used before its definition")
        try:
            expected = node.op.infer([v.type for v in node.inputs], node.attrs)
        except Exception as exc:  # the op's own rule rejects the operands
            raise VerificationError(f"{where_node}: {exc}") from exc
        actual = [v.type for v in node.outputs]
        if [(t.shape, t.dtype) for t in expected] != [(t.shape, t.dtype) for t in actual]:
            raise VerificationError(f"{where_node}: result types {actual} but the rule gives {expected}")
        for value in node.outputs:
            if value.producer is not node or value in defined:
                raise VerificationError(f"{where_node}: result defined twice or owned by another node")
            defined.add(value)
        if node.op.name == "loop":
            verify(node.attrs["body"], f"{where_node} body")
        if node.op.name == "kernel":
            region = node.attrs["region"]
            verify(region, f"{where_node} region @{node.attrs['name']}")
            if [v.type for v in region.inputs] != [v.type for v in node.inputs]:
                raise VerificationError(f"{where_node}: region inputs do not match the kernel operands")
    for value in graph.outputs:
        if value not in defined:
            raise VerificationError(f"{prefix}graph output {value} is never defined")
