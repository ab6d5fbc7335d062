"""SSA graphs: values, nodes and the graph that orders them.

A ``Value`` is defined exactly once, either as a graph input or as one output of a
``Node``, and carries its ``TensorType``. Names are not stored: the printer assigns
them. Nodes are kept in a topological order; passes build new graphs rather than
mutating shared ones (``Graph.copy`` / ``GraphBuilder``).
"""
from __future__ import annotations

from typing import Iterable

from .ops import OPS, OpSpec
from .types import TensorType


class Value:
    """One SSA value: its type and where it is defined."""

    __slots__ = ("type", "producer", "__weakref__")

    def __init__(self, type: TensorType, producer: "Node | None" = None):
        self.type = type
        self.producer = producer

    @property
    def shape(self) -> tuple:
        return self.type.shape

    @property
    def dtype(self):
        return self.type.dtype

    def __repr__(self) -> str:
        op = self.producer.op.name if self.producer else "input"
        return f"<Value {self.type} from {op}>"


class Node:
    """One operation: op, operand values, attributes, result values, user source line."""

    __slots__ = ("op", "inputs", "attrs", "outputs", "loc")

    def __init__(self, op: OpSpec, inputs: Iterable[Value], attrs: dict, out_types, loc: str = ""):
        self.op = op
        self.inputs = tuple(inputs)
        self.attrs = dict(attrs)
        self.outputs = tuple(Value(t, self) for t in out_types)
        self.loc = loc

    @property
    def output(self) -> Value:
        assert len(self.outputs) == 1, f"{self.op.name} has {len(self.outputs)} outputs"
        return self.outputs[0]

    def __repr__(self) -> str:
        return f"<Node {self.op.name} -> {', '.join(str(v.type) for v in self.outputs)} @ {self.loc}>"


class Graph:
    """Typed inputs, topologically ordered nodes, outputs."""

    def __init__(self, name: str, inputs: list, nodes: list, outputs: list):
        self.name = name
        self.inputs = list(inputs)
        self.nodes = list(nodes)
        self.outputs = list(outputs)

    def __str__(self) -> str:
        from .printer import format_graph
        return format_graph(self)


def make_node(op_name: str, inputs, attrs=None, loc: str = "") -> Node:
    """Create a node, inferring its result types from the op's rule."""
    op = OPS[op_name]
    attrs = dict(attrs or {})
    out_types = op.infer([v.type for v in inputs], attrs)
    return Node(op, inputs, attrs, out_types, loc)


class GraphBuilder:
    """Appends nodes in order; the tracer and every rewriting pass use it."""

    def __init__(self, name: str = "main"):
        self.name = name
        self.inputs: list = []
        self.nodes: list = []

    def add_input(self, type: TensorType) -> Value:
        value = Value(type)
        self.inputs.append(value)
        return value

    def add(self, op_name: str, inputs=(), attrs=None, loc: str = "") -> Node:
        node = make_node(op_name, inputs, attrs, loc)
        self.nodes.append(node)
        return node

    def emit(self, op_name: str, inputs=(), attrs=None, loc: str = "") -> Value:
        """Add a single-output node and return its value."""
        return self.add(op_name, inputs, attrs, loc).output

    def append(self, node: Node) -> Node:
        self.nodes.append(node)
        return node

    def finish(self, outputs) -> Graph:
        return Graph(self.name, self.inputs, self.nodes, list(outputs))


def clone_node(node: Node, inputs, loc: str | None = None) -> Node:
    """A copy of `node` reading `inputs`, with fresh result values of the same types."""
    return Node(node.op, inputs, node.attrs, [v.type for v in node.outputs],
                node.loc if loc is None else loc)


def rebuild(graph: Graph, transform=None, keep=None) -> Graph:
    """Copy `graph` node by node: the one loop every rewriting pass shares.

    `keep(node)` False drops the node (nothing kept may read it);
    `transform(node, new_inputs, builder)` returns the values that replace the node's
    outputs, or None to copy the node unchanged."""
    builder = GraphBuilder(graph.name)
    mapping = {}
    for value in graph.inputs:
        mapping[value] = builder.add_input(value.type)
    for node in graph.nodes:
        if keep is not None and not keep(node):
            continue
        new_inputs = [mapping[v] for v in node.inputs]
        replaced = transform(node, new_inputs, builder) if transform is not None else None
        if replaced is None:
            replaced = builder.append(clone_node(node, new_inputs)).outputs
        for old, new in zip(node.outputs, replaced):
            mapping[old] = new
    return builder.finish([mapping[v] for v in graph.outputs])
