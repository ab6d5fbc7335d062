"""The symbols an LLVM IR function reaches: what it calls or names, transitively.

Why: a kernel's object code also holds Numba's Python wrapper, which calls Numba's
runtime (unboxing, raising exceptions); the native entry never runs that wrapper.
``native_cache`` stores a kernel only when the kernel function itself reaches none of
Numba's runtime, which this finds from the module's IR text.
"""
from __future__ import annotations

import re

_DEFINE = re.compile(r"^define [^\n]*?@(?:\"([^\"]+)\"|([-\w.$]+))\(.*?^\}", re.M | re.S)
_REFERENCE = re.compile(r"@(?:\"([^\"]+)\"|([-\w.$]+))")


def reached(ir_text: str, root: str) -> set:
    """Every name `root` refers to in its body, and what those refer to in theirs."""
    bodies = {}
    for match in _DEFINE.finditer(ir_text):
        text = match.group(0)
        bodies[match.group(1) or match.group(2)] = text[text.index("{"):]
    seen, todo = set(), [root]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        for quoted, plain in _REFERENCE.findall(bodies.get(name, "")):
            todo.append(quoted or plain)
    return seen
