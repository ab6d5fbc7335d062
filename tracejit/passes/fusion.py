"""Fusion: group the graph's ops into `kernel` nodes, XLA style.

Legality is decided by one oracle, ``tracejit.ir.loopnest.lower_region``: a candidate
group is turned into a region Graph and lowered; ``LoweringError`` means illegal.
Grouping is greedy over the ops in topological order (see ``_Grouper``):

- *free* nodes are not grouped: sources (constant, iota), view ops (reshape,
  transpose, broadcast_to, slice) and cheap scalar ops (shape-() elementwise ops on
  inputs/constants only). Each kernel that needs one gets its own copy as an index
  map or scalar; a kernel that copies a cheap scalar op also used by another kernel
  says so in its ``reason`` attr.
- every other node (*compute*) belongs to exactly one group, so expensive work
  (reductions, matmuls, anything) is never duplicated.
- a node joins the groups of its producers (the main operand's first) when the
  merged region lowers and no cycle between groups forms: this gives loop fusion of
  elementwise chains, input fusion into reductions, reduce-then-broadcast rows
  (softmax, layernorm) and matmul epilogues (a matmul always starts a group); where
  the backend computes the product into a buffer first (``CallFacts.matmul_rows``),
  an epilogue may also reduce the product's rows (scores -> softmax, residual ->
  layernorm in one kernel).
- sibling groups that read a common value are then merged when legal (multi-output
  fusion: Adam's m, v, p in one kernel).

Top-level view ops whose root is a graph input or a kernel output stay outside
kernels (the runtime makes them views); matmul operands always come in that way.
"""
from __future__ import annotations

import os
import warnings

from ..ir import Graph, GraphBuilder, OpGroup, clone_node, make_node
from ..ir.loopnest import LoweringError, RecomputationError, lower_region
from .dce import dce

VIEW_OPS = ("reshape", "transpose", "broadcast_to", "slice", "bitcast")
MAX_KERNEL_INPUTS = 24       # a kernel reading more is split (code-generation time grows with it)
SIBLING_WINDOW = 16          # sibling groups tried per group (keeps the search linear in the graph)


class FusionError(Exception):
    """A single op cannot be lowered to a kernel on its own (the op is unsupported)."""


def _is_view(node) -> bool:
    return node.op.name in VIEW_OPS


def _legal(region) -> tuple:
    """The legality oracle: (legal, why not). Any exception from the lowering counts as
    illegal, so a lowering bug makes fusion fall back to smaller groups instead of
    failing. `why` is kept for recomputation refusals, which the dump reports."""
    try:
        lower_region(region)
        return True, ""
    except RecomputationError as exc:
        return False, str(exc)
    except LoweringError:
        return False, ""
    except Exception as exc:  # noqa: BLE001 - a lowering bug: be conservative
        if os.environ.get("TRACEJIT_DEBUG") == "1":
            warnings.warn(f"lower_region({region.name}) raised {exc!r}; treated as illegal", stacklevel=2)
        return False, ""


def _matmul_with_rows(region) -> bool:
    groups = {n.op.group for n in region.nodes}
    return OpGroup.MATMUL in groups and bool(groups & {OpGroup.REDUCTION, OpGroup.SCAN})


class _Analysis:
    """Classification of the nodes of one graph and the value flow between compute nodes."""

    def __init__(self, graph: Graph, matmul_rows: bool = False):
        self.graph = graph
        self.matmul_rows = matmul_rows
        self.index = {node: i for i, node in enumerate(graph.nodes)}
        self.kind = {}
        cheap_values = set(graph.inputs)
        for node in graph.nodes:
            self.kind[node] = k = self._classify(node, cheap_values)
            if k in ("source", "cheap") or (k == "view" and node.inputs[0] in cheap_values):
                cheap_values.update(node.outputs)
        self.compute = [n for n in graph.nodes if self.kind[n] in ("compute", "kernel")]
        # compute producers (through view chains) and consumers of every compute node
        self.producers = {n: [] for n in self.compute}
        self.consumers = {n: [] for n in self.compute}
        for node in self.compute:
            for value in node.inputs:
                p = self.root(value).producer
                if p is not None and self.kind[p] in ("compute", "kernel") and p not in self.producers[node]:
                    self.producers[node].append(p)
                    self.consumers[p].append(node)
        # values the top level must hold: graph outputs and matmul/kernel operands
        self.top_values = []
        for node in self.compute:
            if node.op.group is OpGroup.MATMUL or self.kind[node] == "kernel":
                self.top_values.extend(node.inputs)
        self.top_values.extend(graph.outputs)
        self.needed_top = set()        # compute nodes whose value must be a kernel output
        for value in self.top_values:
            p = self.root(value).producer
            if p is not None and self.kind[p] in ("compute", "kernel"):
                self.needed_top.add(p)

    def _classify(self, node, cheap_values) -> str:
        if node.op.group in (OpGroup.KERNEL, OpGroup.LOOP, OpGroup.LIBRARY):   # opaque: planned on their own
            return "kernel"
        if node.op.group is OpGroup.SOURCE:
            return "source"
        if _is_view(node):
            return "view"
        if (node.op.is_elementwise and node.output.shape == ()
                and all(v in cheap_values for v in node.inputs)):
            return "cheap"
        return "compute"

    def root(self, value):
        """Follow view ops back to the value they view."""
        while value.producer is not None and self.kind[value.producer] == "view":
            value = value.producer.inputs[0]
        return value

    def is_compute_value(self, value) -> bool:
        return value.producer is not None and self.kind[value.producer] in ("compute", "kernel")


class _RegionBuilder:
    """Turns a set of member nodes into a region Graph (with deterministic inputs)."""

    def __init__(self, analysis: _Analysis):
        self.a = analysis
        self.cache: dict = {}

    def outputs_of(self, members) -> list:
        a = self.a
        return [n for n in sorted(members, key=a.index.get)
                if n in a.needed_top or any(c not in members for c in a.consumers[n])]

    def region_nodes(self, members):
        """Members plus the free nodes they read, in region order, or None if the
        members cannot form a region (a matmul must come first, reading inputs)."""
        a = self.a
        pulled = set()
        stack = []
        matmuls = [n for n in members if n.op.group is OpGroup.MATMUL]
        if len(matmuls) > 1:
            return None
        for node in members:
            if node.op.group is OpGroup.MATMUL:
                if any(a.root(v).producer in members for v in node.inputs):
                    return None
                continue
            stack.extend(node.inputs)
        # the matmul's operands are region inputs (the caller computes the product first):
        # a free node making one is not pulled in even where the epilogue reads it too
        operands = set(matmuls[0].inputs) if matmuls else set()
        while stack:
            value = stack.pop()
            node = value.producer
            if node is None or node in members or node in pulled or a.kind[node] in ("compute", "kernel") \
                    or value in operands:
                continue
            pulled.add(node)
            stack.extend(node.inputs)
        order = sorted(set(members) | pulled, key=a.index.get)
        if matmuls:
            order.remove(matmuls[0])
            order.insert(0, matmuls[0])
        return order, pulled

    def build(self, members, name="candidate"):
        """(region Graph, pulled free nodes, outputs) or None if impossible."""
        found = self.region_nodes(members)
        if found is None:
            return None
        order, pulled = found
        outputs = self.outputs_of(members)
        builder = GraphBuilder(name)
        mapping = {}
        for node in order:
            inputs = []
            for v in node.inputs:
                if v not in mapping:
                    mapping[v] = builder.add_input(v.type)
                inputs.append(mapping[v])
            clone = builder.append(clone_node(node, inputs))
            mapping.update(zip(node.outputs, clone.outputs))
        region = builder.finish([mapping[n.output] for n in outputs])
        original_inputs = [v for v in mapping if mapping[v] in region.inputs]
        original_inputs.sort(key=lambda v: region.inputs.index(mapping[v]))
        return region, pulled, outputs, original_inputs

    def legal(self, members) -> bool:
        return self.verdict(members)[0]

    def verdict(self, members) -> tuple:
        """(legal, why not: a recomputation refusal's reason or "")."""
        key = frozenset(members)
        if key not in self.cache:
            built = self.build(members)
            if built is None or len(built[0].inputs) > MAX_KERNEL_INPUTS and len(members) > 1 \
                    or not self.a.matmul_rows and _matmul_with_rows(built[0]):
                self.cache[key] = (False, "")
            else:
                self.cache[key] = _legal(built[0])
        return self.cache[key]


class _Grouper:
    """Greedy grouping of compute nodes (see the module docstring)."""

    def __init__(self, analysis: _Analysis):
        self.a = analysis
        self.regions = _RegionBuilder(analysis)
        self.group_of: dict = {}       # node -> group id
        self.members: dict = {}        # group id -> set of nodes
        self.fixed = set()             # groups nothing may join (existing kernels)
        self.next_id = 0
        self.refusals: dict = {}       # node -> why it was not fused with a producer's kernel

    def new_group(self, nodes) -> int:
        gid = self.next_id
        self.next_id += 1
        self.members[gid] = set(nodes)
        for n in nodes:
            self.group_of[n] = gid
        return gid

    def merge(self, gids, extra=()) -> int:
        nodes = set(extra)
        for g in gids:
            nodes |= self.members.pop(g)
        return self.new_group(nodes)

    def successors(self, gid) -> set:
        return {self.group_of[c] for m in self.members[gid] for c in self.a.consumers[m]
                if c in self.group_of} - {gid}

    def creates_cycle(self, gids, extra=()) -> bool:
        """Would merging groups `gids` (plus the ungrouped nodes `extra`) close a cycle?"""
        merged = set(gids)
        nodes = set(extra).union(*(self.members[g] for g in gids))
        preds = {self.group_of[p] for m in nodes for p in self.a.producers[m] if p in self.group_of} - merged
        if not preds:
            return False
        frontier = set().union(*(self.successors(g) for g in gids)) - merged if gids else set()
        seen = set()
        while frontier:
            g = frontier.pop()
            if g in seen:
                continue
            if g in preds:
                return True
            seen.add(g)
            frontier |= self.successors(g) - merged
        return False

    def run(self):
        a = self.a
        for node in a.compute:
            if a.kind[node] == "kernel":
                self.fixed.add(self.new_group([node]))
                continue
            if node.op.group is OpGroup.MATMUL:
                self.new_group([node])
                continue
            candidates = []
            for p in a.producers[node]:
                g = self.group_of[p]
                if g not in candidates and g not in self.fixed:
                    candidates.append(g)
            chosen, nodes = [], {node}
            for g in candidates:
                trial = nodes | self.members[g]
                if self.creates_cycle(chosen + [g], [node]):
                    continue
                legal, why = self.regions.verdict(trial)
                if legal:
                    chosen.append(g)
                    nodes = trial
                elif why:
                    self.refusals[node] = why
            self.merge(chosen, [node])
        self.merge_siblings()
        return self

    def merge_siblings(self):
        """Multi-output fusion: merge groups that read a common value (no matmuls).
        Each group tries the next SIBLING_WINDOW groups (in graph order) that share a
        read, absorbing those it can."""
        a = self.a
        order = sorted((g for g in self.members if g not in self.fixed
                        and not any(n.op.group is OpGroup.MATMUL for n in self.members[g])),
                       key=lambda g: min(a.index[n] for n in self.members[g]))
        reads = {}
        for g in order:
            values = set()
            for m in self.members[g]:
                values.update(a.root(v) for v in m.inputs)
            reads[g] = {v for v in values if v.producer is None or a.is_compute_value(v)}
        alive = set(order)
        for i, g in enumerate(order):
            if g not in alive:
                continue
            tried = 0
            for h in order[i + 1:]:
                if tried == SIBLING_WINDOW:
                    break
                if h not in alive or not reads[g] & reads[h]:
                    continue
                tried += 1
                if self.creates_cycle([g, h]) or not self.regions.legal(self.members[g] | self.members[h]):
                    continue
                merged = self.merge([g, h])
                alive -= {g, h}
                alive.add(merged)
                reads[merged] = reads.pop(g) | reads.pop(h)
                g = merged

    def split_illegal(self):
        """Safety net: a group whose final region does not lower is split into single ops."""
        for g in list(self.members):
            if g in self.fixed or self.regions.legal(self.members[g]):
                continue
            for n in sorted(self.members.pop(g), key=self.a.index.get):
                self.new_group([n])
                if not self.regions.legal({n}):
                    raise FusionError(f"{n.op.name} at {n.loc or '?'} cannot be compiled as a kernel")


def _kernel_loc(members, index) -> str:
    ordered = sorted(members, key=index.get)
    matmuls = [n for n in ordered if n.op.group is OpGroup.MATMUL]
    for node in matmuls + ordered:
        if node.loc:
            return node.loc
    return ""


def _topological_groups(grouper, built) -> list:
    """Group ids in an order where every group follows the groups it reads from
    (ties: the group whose first op comes first in the graph)."""
    import heapq
    a = grouper.a
    made_by = {}
    for gid, (_, _, outputs, _) in built.items():
        for n in outputs:
            for v in n.outputs:
                made_by[v] = gid
    deps = {gid: set() for gid in built}
    for gid, (_, _, _, inputs) in built.items():
        for v in inputs:
            p = a.root(v)
            if p in made_by:
                deps[gid].add(made_by[p])
            if v in made_by:
                deps[gid].add(made_by[v])
        deps[gid].discard(gid)
    users = {gid: [] for gid in built}
    for gid, ds in deps.items():
        for d in ds:
            users[d].append(gid)
    first = {gid: min(a.index[n] for n in grouper.members[gid]) for gid in built}
    ready = [(first[g], g) for g in built if not deps[g]]
    heapq.heapify(ready)
    order = []
    while ready:
        _, g = heapq.heappop(ready)
        order.append(g)
        for u in users[g]:
            deps[u].discard(g)
            if not deps[u]:
                heapq.heappush(ready, (first[u], u))
    if len(order) != len(built):
        raise FusionError("internal error: kernels depend on each other in a cycle")
    return order


def _reasons(built, analysis) -> dict:
    """gid -> note for kernels that recompute cheap scalar ops other kernels also use."""
    uses: dict = {}
    for gid, (_, pulled, _, _) in built.items():
        for n in pulled:
            if analysis.kind[n] == "cheap":
                uses.setdefault(n, []).append(gid)
    notes: dict = {}
    for n, gids in uses.items():
        if len(gids) > 1:
            for g in gids:
                notes.setdefault(g, []).append(n)
    return {g: "recomputes cheap scalar ops shared with other kernels instead of materializing them: "
               + ", ".join(sorted({n.op.name for n in ns})) for g, ns in notes.items()}


def fuse(graph: Graph, facts=None) -> Graph:
    """Group every non-view op into `kernel` nodes whose regions lower (see module doc);
    `facts` (``pipeline.CallFacts``) says whether matmul kernels may reduce rows."""
    graph = dce(graph)
    a = _Analysis(graph, matmul_rows=bool(getattr(facts, "matmul_rows", False)))
    grouper = _Grouper(a).run()
    # values the top level needs that only free nodes make (e.g. a constant output)
    for value in a.top_values:
        root = a.root(value)
        node = value.producer
        if node is None or a.is_compute_value(root) or root.producer is None or node in grouper.group_of:
            continue
        a.needed_top.add(node)
        a.consumers[node] = []
        a.producers[node] = []
        grouper.new_group([node])
    grouper.split_illegal()

    built = {}
    for gid, members in grouper.members.items():
        if gid in grouper.fixed:
            (node,) = members
            built[gid] = (None, set(), [node], list(node.inputs))
        else:
            built[gid] = grouper.regions.build(members)
    reasons = _reasons(built, a)
    for gid, members in grouper.members.items():
        refused = sorted({grouper.refusals[n] for n in members if n in grouper.refusals})
        if refused:
            note = "starts a new kernel instead of joining its producer's: " + "; ".join(refused)
            reasons[gid] = f"{reasons[gid]}; {note}" if gid in reasons else note

    builder = GraphBuilder(graph.name)
    mapping = {v: builder.add_input(v.type) for v in graph.inputs}

    def top(value):
        """The top-level value standing for `value` (emitting view ops on demand)."""
        if value not in mapping:
            node = value.producer
            assert node is not None and a.kind[node] == "view", f"{value} is not available at top level"
            clone = builder.append(clone_node(node, [top(node.inputs[0])]))
            mapping[value] = clone.output
        return mapping[value]

    used_names = {n.attrs["name"] for n in graph.nodes if n.op.group is OpGroup.KERNEL}
    counter = 0
    for gid in _topological_groups(grouper, built):
        region, _, outputs, inputs = built[gid]
        if gid in grouper.fixed:
            (node,) = outputs
            clone = builder.append(clone_node(node, [top(v) for v in node.inputs]))
            mapping.update(zip(node.outputs, clone.outputs))
            continue
        while f"{graph.name}_k{counter}" in used_names:
            counter += 1
        name = f"{graph.name}_k{counter}"
        counter += 1
        region.name = name      # a fresh Graph made above: naming it is not mutating the input
        attrs = {"name": name, "region": region}
        if gid in reasons:
            attrs["reason"] = reasons[gid]
        kernel = builder.append(make_node("kernel", [top(v) for v in inputs], attrs,
                                          _kernel_loc(grouper.members[gid], a.index)))
        for n, out in zip(outputs, kernel.outputs):
            mapping[n.output] = out
    return builder.finish([top(v) for v in graph.outputs])


fuse.reads_call_facts = True


# ---------------------------------------------------------------------------
# description for dumps
# ---------------------------------------------------------------------------

def kernel_kind(region: Graph) -> str:
    """'matmul+epilogue', 'reduction rows' or 'pointwise'."""
    groups = {n.op.group for n in region.nodes}
    if OpGroup.MATMUL in groups:
        return "matmul+epilogue"
    if OpGroup.REDUCTION in groups:
        return "reduction rows"
    return "pointwise"


def describe_fusion(graph: Graph) -> str:
    """One paragraph per kernel: name, kind, types in and out, the ops it holds
    with the user's source lines, and any recomputation note; views listed too."""
    from ..ir.printer import short_loc
    lines = []
    for node in graph.nodes:
        if node.op.group is OpGroup.LOOP:
            loc = short_loc(node.loc)
            lines.append(f"loop x{node.attrs['trips']} (carrying {node.attrs['carried']} values)"
                         + (f"  ({loc})" if loc else "") + ": its body, compiled once:")
            lines.extend("    " + line for line in describe_fusion(node.attrs["body"]).splitlines())
            continue
        if node.op.group is not OpGroup.KERNEL:
            loc = short_loc(node.loc)
            kind = "library" if node.op.group is OpGroup.LIBRARY else "view"
            types = ", ".join(str(v.type) for v in node.outputs)
            lines.append(f"{kind} {node.op.name} -> {types}" + (f"  ({loc})" if loc else ""))
            continue
        region = node.attrs["region"]
        kind = kernel_kind(region)
        ins = ", ".join(str(v.type) for v in region.inputs) or "-"
        outs = ", ".join(str(v.type) for v in region.outputs)
        lines.append(f"kernel {node.attrs['name']} [{kind}] ({ins}) -> ({outs})")
        ops = []
        for n in region.nodes:
            if n.op.group is OpGroup.SOURCE:
                continue
            loc = short_loc(n.loc)
            ops.append(f"{n.op.name}@{loc}" if loc else n.op.name)
        lines.append("    ops: " + " ".join(ops))
        if "reason" in node.attrs:
            lines.append(f"    reason: {node.attrs['reason']}")
    return "\n".join(lines)
