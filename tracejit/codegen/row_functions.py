"""The body of a kernel's row loop as a function of its own, called once per row.

LLVM keeps loop-invariant vector constants (the twenty-odd splats of an exp or tanh
helper) in registers or on the stack only for a function's outermost loop. In the
inner loops of a row kernel (the phases of a softmax, a pointwise nest with a
broadcast operand) it loads them again for every vector. A row function makes those
loops outermost in their own function: softmax on 8192x4096 float32 runs 12% faster
on one thread (39.2 -> 34.6 ms), ``tanh(x + b)`` with a broadcast row 18%.

Each call costs a few nanoseconds, which rows of 32 float32 elements do not earn back
(7% slower), and the row function is a second Numba compile (about 150 ms more on a
cold cache), so a kernel gets one only where, when it was traced, its rows held at
least ``MIN_ROW_POINTS`` points, the whole domain ``MIN_POINTS`` (a launch of a
millisecond or more), and its row loop calls a math helper (without their constants
there is nothing to gain: layernorm runs as fast nested). The split is made on the rendered text:
the loop ``for iK in range(start, stop):`` must be the body's last statement; the
names the loop reads from outside it (parameters, loop-invariant statements before
it) become the row function's parameters, found with ``symtable``.
"""
from __future__ import annotations

import math
import re
import symtable
import textwrap

MIN_ROW_POINTS = 128
MIN_POINTS = 1 << 20
_MATH_HELPER = re.compile(r"\b_tj_[vns]\w+_f(?:32|64)\(")
_ROW_LOOP = re.compile(r"^    for (i\d+) in range\(start, stop\):$")


def row_points(nest) -> int:
    """Points of the domain per index of the split (first outer) axis in this trace."""
    if not nest.outer_axes:
        return 0
    rows = nest.domain[nest.outer_axes[0]]
    return math.prod(nest.domain) // rows if rows else 0


def worth_a_row_function(nest, body: str) -> bool:
    """The nest has inner loops, its traced rows and domain are large enough, and the
    rendered body calls a vector math helper (see the module docstring)."""
    nested = bool(nest.inner_axes) or len(nest.outer_axes) > 1
    return nested and row_points(nest) >= MIN_ROW_POINTS and math.prod(nest.domain) >= MIN_POINTS \
        and _MATH_HELPER.search(body) is not None


def split_rows(body: str, params, name: str) -> tuple | None:
    """(row function source, kernel body calling it) for a kernel `body` (indented by
    4, as rendered) whose last statement is its row loop; None where it is not."""
    lines = body.rstrip("\n").splitlines()
    heads = [k for k, line in enumerate(lines) if _ROW_LOOP.match(line)]
    if len(heads) != 1:
        return None
    head = heads[0]
    loop_var = _ROW_LOOP.match(lines[head]).group(1)
    inside = lines[head + 1:]
    if not inside or any(line.strip() and not line.startswith("        ") for line in inside):
        return None                              # something follows the loop
    before = lines[:head]
    row_body = textwrap.dedent("\n".join(inside))
    defined_before = _symbols("\n".join(before)) if before else []
    outside = [*params, *sorted(s.get_name() for s in defined_before if s.is_assigned())]
    symbols = _symbols(row_body)
    read = {s.get_name() for s in symbols if s.is_referenced() and not s.is_assigned()}
    assigned = {s.get_name() for s in symbols if s.is_assigned()}
    if assigned & (set(outside) - {loop_var}) or loop_var in assigned:
        return None                              # the loop writes a name it also reads from outside
    args = [loop_var] + [n for n in dict.fromkeys(outside) if n in read and n != loop_var]
    call = f"{name}({', '.join(args)})"
    row_source = ('@numba.njit(nogil=True, error_model="numpy", no_cpython_wrapper=True, no_cfunc_wrapper=True)\n'
                  f"def {name}({', '.join(args)}):\n" + textwrap.indent(row_body, "    ") + "\n")
    kernel_body = "\n".join([*before, lines[head], f"        {call}"]) + "\n"
    return row_source, kernel_body


def _symbols(block: str) -> list:
    """The symbols of `block` (statements, any indentation) as a function body."""
    text = "def _block():\n" + textwrap.indent(textwrap.dedent(block), "    ") + "\n"
    (function,) = symtable.symtable(text, "<kernel>", "exec").get_children()
    return function.get_symbols()


__all__ = ["MIN_POINTS", "MIN_ROW_POINTS", "row_points", "split_rows", "worth_a_row_function"]
