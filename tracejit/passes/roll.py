"""Loop rolling: a Python loop the trace unrolled becomes one ``loop`` node.

Tracing runs the user's ``for t in range(T)`` T times, so the traced graph holds T
copies of the body. Here a run of repeated blocks is found and replaced by one
``loop`` node whose body graph is compiled once and run T times: compile time stays
flat in T, and the kernels are the same whatever T is.

A run is L consecutive nodes repeated T times where block t+1 is block t with the
values renamed:
- each operand of a node is a value of the same block (same position), a value of
  the previous block (a *carried* value: the first block reads its initial value
  from before the run), or the same value from before the run (loop-invariant);
- the blocks' ops, locations, types and attributes agree, except scalar constants
  (per-iteration values: a table the loop feeds the body) and slice starts (per
  iteration offsets: the body's slices become dynamic slices fed from a table);
- nothing after the run reads a value of any block but the last.
Candidates come from the node signatures (op, source line, types, attributes); the
dataflow check above decides. Runs shorter than ``MIN_NODES`` stay unrolled, since
there fusion across iterations is worth more than the compile time saved. Nested
loops roll from the inside out (the pass repeats on its result).
"""
from __future__ import annotations

import bisect

import numpy as np

from ..ir import Graph, GraphBuilder, Node, TensorType, clone_node, make_node
from ..ir.printer import format_graph
from ._values import attr_key

MIN_TRIPS = 3
MIN_NODES = 256          # nodes in the whole run
MAX_CANDIDATES = 6       # periods tried per start position
MAX_DEPTH = 3            # nested loops rolled


def roll_loops(graph: Graph) -> Graph:
    for _ in range(MAX_DEPTH):
        rolled = _roll_once(graph)
        if rolled is graph:
            return graph
        graph = rolled
    return graph


# -- finding runs -----------------------------------------------------------------------

_VARYING = {"constant": ("value",), "slice": ("starts",), "update_slice": ("starts",)}


def _signature(node: Node):
    varying = _VARYING.get(node.op.name, ())
    attrs = []
    for key in sorted(node.attrs):
        value = node.attrs[key]
        if key in varying:
            continue
        if key in ("body", "region"):        # nested loops and kernels: by structure
            attrs.append((key, format_graph(value)))
        else:
            attrs.append((key, attr_key(value)))
    types = tuple((v.type.shape, v.type.dtype.str, v.type.weak) for v in node.outputs)
    return hash((node.op.name, node.loc, len(node.inputs), types, tuple(attrs)))


def _weight(node) -> int:
    """What a node costs to compile: a loop node its body's nodes too."""
    return 1 + (sum(_weight(n) for n in node.attrs["body"].nodes) if node.op.name == "loop" else 0)


def _roll_once(graph: Graph) -> Graph:
    nodes = graph.nodes
    n = len(nodes)
    weights = [0]
    for node in nodes:
        weights.append(weights[-1] + _weight(node))
    if weights[-1] < MIN_NODES:
        return graph
    signatures = [_signature(node) for node in nodes]
    positions: dict = {}
    for i, s in enumerate(signatures):
        positions.setdefault(s, []).append(i)
    position_of = {node: i for i, node in enumerate(nodes)}
    users_after = _last_use(graph, position_of)
    runs = []
    i = 0
    while i < n:
        found = _run_at(i, nodes, signatures, positions, position_of, users_after, weights)
        if found is None:
            i += 1
            continue
        runs.append(found)
        i = found.start + found.length * found.trips
    if not runs:
        return graph
    return _rewrite(graph, runs)


def _last_use(graph, position_of) -> dict:
    """Per value: the position of its last reader (len(nodes) for graph outputs)."""
    last = {}
    for i, node in enumerate(graph.nodes):
        for v in node.inputs:
            last[v] = i
    for v in graph.outputs:
        last[v] = len(graph.nodes)
    return last


def _run_at(start, nodes, signatures, positions, position_of, last_use, weights):
    same = positions[signatures[start]]
    at = bisect.bisect_right(same, start)
    n = len(nodes)
    for candidate in same[at:at + MAX_CANDIDATES]:
        length = candidate - start
        if (n - start) // length < MIN_TRIPS:
            break
        first = signatures[start:candidate]
        trips = 1
        while start + (trips + 1) * length <= n and \
                signatures[start + trips * length:start + (trips + 1) * length] == first:
            trips += 1
        def heavy(trips):
            return weights[start + trips * length] - weights[start] >= MIN_NODES
        if trips < MIN_TRIPS or not heavy(trips):
            continue
        run = _Run(start, length, trips)
        while run.trips >= MIN_TRIPS and heavy(run.trips):
            if run.analyze(nodes, position_of, last_use):
                return run
            run = _Run(start, length, run.trips - 1)     # a later block may be read after the run
    return None


class _Run:
    """`trips` blocks of `length` nodes from `start`, and how their operands relate."""

    def __init__(self, start, length, trips):
        self.start, self.length, self.trips = start, length, trips

    def block_of(self, position):
        return (position - self.start) // self.length

    def analyze(self, nodes, position_of, last_use) -> bool:
        start, length, trips = self.start, self.length, self.trips
        end = start + length * trips
        self.pattern = []                  # per body position: one class per operand
        self.init = {}                     # carried (position, output) -> initial Value
        self.carried = []                  # carried slots, in first-use order
        self.per_trip = []                 # operand groups: [Value of trip 0, .., trip T-1]
        for p in range(length):
            block_nodes = [nodes[start + t * length + p] for t in range(trips)]
            classes = []
            for q in range(len(block_nodes[0].inputs)):
                seen = [self._classify(node.inputs[q], t, position_of) for t, node in enumerate(block_nodes)]
                if any(c is None for c in seen):
                    return False
                c = self._operand_class(seen)
                if c is None:
                    return False
                classes.append(c)
            self.pattern.append(classes)
        # values read after the run: the last block's, or every block's (stacked)
        self.exits, self.stacked, self.stacked_reads = [], [], []
        for t in range(trips):
            for p in range(length):
                node = nodes[start + t * length + p]
                for o, v in enumerate(node.outputs):
                    if last_use.get(v, -1) < end:
                        continue
                    if t == trips - 1:
                        if (p, o) not in self.exits:
                            self.exits.append((p, o))
                        continue
                    if (p, o) not in self.stacked:
                        self.stacked.append((p, o))
                    self.stacked_reads.append((t, p, o))
        for slot in self.carried:
            carried = nodes[start + slot[0]].outputs[slot[1]].type
            if (self.init[slot].type.shape, self.init[slot].type.dtype) != (carried.shape, carried.dtype):
                return False
        return self._attributes(nodes)

    def _operand_class(self, seen):
        """One operand's class for the body from its class in each block, or None."""
        first, rest = seen[0], seen[1:]
        if all(c == rest[0] for c in rest):
            c = rest[0]
            if c[0] == "prev":               # carried: the first block reads the initial value
                if first[0] != "ext" or self.init.setdefault(c[1:], first[1]) is not first[1]:
                    return None
                if c[1:] not in self.carried:
                    self.carried.append(c[1:])
                return c
            if c == first:
                return c
        if all(c[0] == "ext" for c in seen):       # a different value per trip (a list of weights)
            if len({(c[1].type.shape, c[1].type.dtype.str, c[1].type.weak) for c in seen}) != 1:
                return None
            self.per_trip.append([c[1] for c in seen])
            return ("trip", len(self.per_trip) - 1)
        return None

    def _classify(self, value, t, position_of):
        producer = value.producer
        q = position_of.get(producer) if producer is not None else None
        if q is None or q < self.start:
            return ("ext", value)
        block = self.block_of(q)
        slot = (q - self.start - block * self.length, producer.outputs.index(value))
        if block == t:
            return ("in",) + slot
        if block == t - 1:
            return ("prev",) + slot
        return None

    def _attributes(self, nodes) -> bool:
        """Per body position, the attributes that vary per trip (constants, starts)."""
        self.tables = {}            # position -> ("value", array) | ("starts", (trips, rank) array)
        for p in range(self.length):
            block_nodes = [nodes[self.start + t * self.length + p] for t in range(self.trips)]
            varying = _VARYING.get(block_nodes[0].op.name)
            if varying is None:
                continue
            (key,) = varying
            values = [node.attrs[key] for node in block_nodes]
            if all(attr_key(v) == attr_key(values[0]) for v in values):
                continue
            if key == "value":
                dtype = block_nodes[0].attrs["dtype"]
                self.tables[p] = ("value", np.array(values, dtype=dtype))
            else:
                self.tables[p] = ("starts", np.array(values, dtype=np.int64).reshape(self.trips, -1))
        return True


# -- rewriting ----------------------------------------------------------------------------

def _rewrite(graph: Graph, runs) -> Graph:
    builder = GraphBuilder(graph.name)
    mapping = {v: builder.add_input(v.type) for v in graph.inputs}
    nodes = graph.nodes
    by_start = {run.start: run for run in runs}
    i = 0
    while i < len(nodes):
        run = by_start.get(i)
        if run is None:
            node = nodes[i]
            mapping.update(zip(node.outputs, builder.append(clone_node(node, [mapping[v] for v in node.inputs]))
                               .outputs))
            i += 1
            continue
        _emit_loop(run, nodes, builder, mapping)
        i = run.start + run.length * run.trips
    return builder.finish([mapping[v] for v in graph.outputs])


def _emit_loop(run, nodes, builder, mapping):
    template = [nodes[run.start + run.length + p] for p in range(run.length)]     # block 1
    body = GraphBuilder(f"{builder.name}_loop{run.start}")
    carried_in = {slot: body.add_input(template[slot[0]].outputs[slot[1]].type) for slot in run.carried}
    externals = []
    for classes in run.pattern:
        for c in classes:
            if c[0] == "ext" and not any(c[1] is e for e in externals):
                externals.append(c[1])
    external_in = [body.add_input(v.type) for v in externals]
    trip_in = [body.add_input(group[0].type) for group in run.per_trip]
    tables, table_in = [], {}
    for p, (kind, table) in sorted(run.tables.items()):
        if kind == "value":
            table_in[p] = [body.add_input(template[p].output.type)]
            tables.append(table)
        else:
            table_in[p] = []
            for d in range(table.shape[1]):
                table_in[p].append(body.add_input(TensorType((), np.dtype(np.int64))))
                tables.append(np.ascontiguousarray(table[:, d]))
    values = {}
    for p, node in enumerate(template):
        operands = []
        for c in run.pattern[p]:
            if c[0] == "in":
                operands.append(values[c[1:]])
            elif c[0] == "prev":
                operands.append(carried_in[c[1:]])
            elif c[0] == "trip":
                operands.append(trip_in[c[1]])
            else:
                operands.append(external_in[next(k for k, e in enumerate(externals) if e is c[1])])
        if p in table_in and run.tables[p][0] == "value":
            outs = table_in[p]
        elif p in table_in:
            name = "dynamic_slice" if node.op.name == "slice" else "dynamic_update_slice"
            attrs = {"steps": node.attrs["steps"], "shape": node.attrs["shape"]}
            outs = body.add(name, operands + table_in[p], attrs, node.loc).outputs
        else:
            outs = body.append(clone_node(node, operands)).outputs
        for o, v in enumerate(outs):
            values[(p, o)] = v
    exits = [slot for slot in run.exits if slot not in run.carried]
    kept = list(run.carried) + exits + list(run.stacked)
    body_graph = roll_loops(body.finish([values[slot] for slot in kept]))     # loops inside the body
    operands = [mapping[run.init[slot]] for slot in run.carried] + [mapping[v] for v in externals] + \
        [mapping[v] for group in run.per_trip for v in group]
    attrs = {"body": body_graph, "trips": run.trips, "carried": len(run.carried), "per_trip": len(run.per_trip),
             "stacked": len(run.stacked), "tables": tables}
    loop = builder.append(make_node("loop", operands, attrs, template[0].loc))
    last = run.start + run.length * (run.trips - 1)
    for k, slot in enumerate(list(run.carried) + exits):
        mapping[nodes[last + slot[0]].outputs[slot[1]]] = loop.outputs[k]
    first_stacked = len(run.carried) + len(exits)
    for t, p, o in run.stacked_reads:       # trip t's value, read after the loop: a row of the stack
        stack = loop.outputs[first_stacked + run.stacked.index((p, o))]
        value = nodes[run.start + t * run.length + p].outputs[o]
        rank = len(value.type.shape)
        row = builder.emit("slice", [stack], {"starts": (t,) + (0,) * rank, "steps": (1,) * (rank + 1),
                                              "shape": (1,) + tuple(value.type.shape)}, value.producer.loc)
        mapping[value] = builder.emit("reshape", [row], {"shape": tuple(value.type.shape)}, value.producer.loc)
