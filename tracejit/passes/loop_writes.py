"""Slice writes into a loop's carried arrays, done in place.

``for j in ...: y[:, j] = f(y[:, j - 1])`` rolls into a loop whose body yields the
next ``y`` as ``dynamic_update_slice(y, v, j)``. As a kernel that is a copy of all of
``y`` on every trip: O(size of y) per trip for a write of one column. When nothing
in the body reads the old ``y`` after the write (every reader of ``y``, or of a view
of it, is something the written value or offsets depend on, so it runs first), and
the new ``y`` only goes to the next trip, the write becomes ``write_window``: the
plan writes the column into ``y``'s buffer, and the loop gives each such carried
array a buffer of its own once, on entry (``LoopStep``, attribute ``in_place``).
"""
from __future__ import annotations

from ..ir import Graph, rebuild
from .fusion import VIEW_OPS


def carried_writes_in_place(body: Graph, carried: int):
    """(the body with eligible carried updates as write_window, their carried indices)."""
    producer = {v: node for node in body.nodes for v in node.outputs}
    users: dict = {}
    for node in body.nodes:
        for v in node.inputs:
            users.setdefault(v, []).append(node)
    output_count: dict = {}
    for v in body.outputs:
        output_count[v] = output_count.get(v, 0) + 1
    chosen, indices = set(), []
    for k in range(carried):
        x, out = body.inputs[k], body.outputs[k]
        write = producer.get(out)
        if write is None or write.op.name != "dynamic_update_slice" or write.inputs[0] is not x \
                or users.get(out) or output_count[out] != 1 or output_count.get(x):
            continue
        before = _ancestors(write, producer)
        readers = _memory_readers(x, users)
        if all(node is write or node in before for node in readers):
            chosen.add(write)
            indices.append(k)
    if not chosen:
        return body, ()

    def transform(node, inputs, builder):
        if node in chosen:
            return builder.add("write_window", inputs, dict(node.attrs), node.loc).outputs
        return None
    return rebuild(body, transform), tuple(indices)


def _ancestors(node, producer) -> set:
    seen, stack = set(), [node]
    while stack:
        for v in stack.pop().inputs:
            parent = producer.get(v)
            if parent is not None and parent not in seen:
                seen.add(parent)
                stack.append(parent)
    return seen


def _memory_readers(x, users) -> list:
    """Every node that reads x's memory: x's users, and the users of views of it."""
    readers, stack = [], [x]
    while stack:
        for node in users.get(stack.pop(), ()):
            readers.append(node)
            if node.op.name in VIEW_OPS:
                stack.extend(node.outputs)
    return readers
