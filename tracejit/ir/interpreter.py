"""The reference interpreter: runs any Graph with each op's NumPy reference.

It is the oracle for every optimized path: graphs before and after each pass, and
kernel regions, run here and must agree with NumPy eager. A ``kernel`` node runs its
region graph (recursively), so fused graphs run too.
"""
from __future__ import annotations

import numpy as np

from .ops import OpGroup, loop_dtypes
from .ops_control import loop_layout


class InterpreterError(Exception):
    pass


def run_graph(graph, arrays) -> list:
    """Evaluate `graph` on NumPy arrays (one per input); returns one array per output."""
    if len(arrays) != len(graph.inputs):
        raise InterpreterError(f"@{graph.name} takes {len(graph.inputs)} inputs, got {len(arrays)}")
    env = {}
    for value, array in zip(graph.inputs, arrays):
        env[value] = np.asarray(array)
    for node in graph.nodes:
        out_types = [v.type for v in node.outputs]
        operands = [env[v] for v in node.inputs]
        if node.op.ufunc and node.op.is_elementwise:
            # weak operands are 0-d float64/int64 arrays here; NumPy would treat those as
            # strong, so cast to the loop dtypes NEP 50 picks (what eager NumPy computes in)
            loops = loop_dtypes(node.op, [v.type for v in node.inputs])
            operands = [a.astype(d, copy=False) for a, d in zip(operands, loops)]
        if node.op.group is OpGroup.KERNEL:
            results = run_graph(node.attrs["region"], operands)
        elif node.op.group is OpGroup.LOOP:
            results = run_loop(node.attrs, operands)
        else:
            results = node.op.reference(operands, node.attrs, out_types)
        for value, result in zip(node.outputs, results):
            result = np.asarray(result)
            if result.shape != value.type.shape or result.dtype != value.type.dtype:
                raise InterpreterError(
                    f"{node.op.name} at {node.loc}: reference gave {result.dtype}{list(result.shape)}, "
                    f"type says {value.type}")
            env[value] = result
    return [env[v] for v in graph.outputs]


def run_loop(attrs, operands) -> list:
    """A loop node: the body `trips` times (see ``ops_control``)."""
    trips = attrs["trips"]
    n_carried, n_invariant, groups, stacked = loop_layout(attrs, len(operands))
    carried = list(operands[:n_carried])
    invariant = list(operands[n_carried:n_carried + n_invariant])
    grouped = operands[n_carried + n_invariant:]
    body = attrs["body"]
    results, rows = carried, []
    for k in range(trips):
        per_trip = [grouped[g * trips + k] for g in range(groups)]
        per_trip += [table[k:k + 1].reshape(()) for table in attrs["tables"]]
        results = run_graph(body, carried + invariant + per_trip)
        carried = results[:n_carried]
        if stacked:
            rows.append(results[len(results) - stacked:])
    if not stacked:
        return results
    kept = results[:len(results) - stacked]
    return kept + [np.stack([row[j] for row in rows]) for j in range(stacked)]
