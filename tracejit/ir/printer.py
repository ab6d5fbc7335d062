"""The IR's text form: stable, readable, diffable (a tested contract).

Value names (%0, %1, ...) are assigned here, in definition order; nothing in the
graph stores them. Kernel regions print nested, with their own numbering.
"""
from __future__ import annotations

import os

import numpy as np

from .types import short_name

LOC_COLUMN = 56


def _format_attr(value) -> str:
    if isinstance(value, np.ndarray):
        if value.size <= 8:
            return "[" + ",".join(_format_attr(v.item()) for v in value.ravel()) + "]"
        return f"<{short_name(value.dtype)}[{','.join(map(str, value.shape))}]>"
    if isinstance(value, np.dtype) or (isinstance(value, type) and issubclass(value, np.generic)):
        return short_name(value)
    if isinstance(value, (tuple, list)):
        return "[" + ",".join(_format_attr(v) for v in value) + "]"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def format_attrs(node) -> str:
    parts = []
    for key in sorted(node.attrs):
        value = node.attrs[key]
        if key in ("region", "weak_result", "body"):
            continue
        if key == "name" and node.op.name == "kernel":
            continue
        if value is True:
            parts.append(key)
        elif value is False and key == "keepdims":
            continue
        else:
            parts.append(f"{key}={_format_attr(value)}")
    return " ".join(parts)


def short_loc(loc: str) -> str:
    if not loc:
        return ""
    path, _, line = loc.rpartition(":")
    return f"{os.path.basename(path)}:{line}"


def format_graph(graph, indent: str = "") -> str:
    names: dict = {}

    def name(value) -> str:
        if value not in names:
            names[value] = f"%{len(names)}"
        return names[value]

    params = ", ".join(f"{name(v)}: {v.type}" for v in graph.inputs)
    results = ", ".join(str(v.type) for v in graph.outputs)
    lines = [f"{indent}func @{graph.name}({params}) -> ({results}) {{"]
    for node in graph.nodes:
        operands = ", ".join(name(v) for v in node.inputs)
        defs = ", ".join(name(v) for v in node.outputs)
        head = node.op.name
        if node.op.name == "kernel":
            head = f"kernel @{node.attrs['name']}"
        text = f"{indent}  {defs} = {head}"
        if operands:
            text += f" {operands}"
        attrs = format_attrs(node)
        if attrs:
            text += f" {attrs}"
        text += " : " + ", ".join(str(v.type) for v in node.outputs)
        loc = short_loc(node.loc)
        if loc:
            text = text.ljust(LOC_COLUMN + len(indent)) + f"  # {loc}"
        lines.append(text)
        if node.op.name == "kernel":
            lines.append(format_graph(node.attrs["region"], indent + "    "))
        if node.op.name == "loop":
            lines.append(format_graph(node.attrs["body"], indent + "    "))
    lines.append(f"{indent}  return {', '.join(name(v) for v in graph.outputs)}")
    lines.append(f"{indent}}}")
    return "\n".join(lines)
