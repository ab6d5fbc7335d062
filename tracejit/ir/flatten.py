"""A pointwise loop nest over several dims, as the same nest over one flat dim.

A pointwise nest whose every per-point load and store is at the identity index of
the whole domain computes, on C-contiguous arrays, exactly what the same statements
compute over ``prod(domain)`` points of the arrays seen as 1-D. The flat form is what
a backend with nested CPU loops wants: LLVM keeps the vector constants of the math
helpers (tanh, exp: twenty-odd of them) out of a single loop, but reloads them on
every vector inside the row loop of a 2-D nest (GELU on 4096x4096 float32: 14.4 ms
nested, 11.4 ms flat).

``flat_nest(nest)`` is that nest, or None where the index matters: a broadcast
operand (``x + b[None, :]``), a transposed or sliced read, an index value (iota), a
bounds check, a reduction, a matmul. The runtime runs it only on C-contiguous arrays
(reshaped to 1-D views; outputs too, so their writes land in place), and the nested
kernel otherwise.
"""
from __future__ import annotations

import math
from dataclasses import replace

from .nest import Buffer, Compute, Constant, Load, LoopNest, Store, ValueCheck, const, size_ref, var

FLAT_SIZE = "n0"
_PER_POINT = (Compute, Constant, Load, Store, ValueCheck)


def _identity(index, domain) -> bool:
    """The index of the point itself (a dim of extent 1 may be indexed by 0)."""
    return len(index) == len(domain) and all(
        (e.kind == "var" and e.args == (f"i{d}",)) or (n == 1 and e.kind == "const" and e.args == (0,))
        for d, (e, n) in enumerate(zip(index, domain)))


def _invariant(stmt) -> bool:
    """A preamble statement the flat nest keeps as it is: no index but constants."""
    if isinstance(stmt, Load):
        return all(e.kind == "const" for e in stmt.index)
    return isinstance(stmt, (Compute, Constant, ValueCheck))


def flattened_buffers(nest) -> tuple | None:
    """The names of the buffers the flat form reads and writes as 1-D (every buffer
    indexed per point), or None when the nest cannot run flat."""
    rank = len(nest.domain)
    if rank < 2 or nest.inner_axes or nest.matmul is not None or nest.phases or nest.epilogue:
        return None
    if not all(_invariant(s) for s in nest.preamble):
        return None
    shapes = {b.name: tuple(b.shape) for b in (*nest.inputs, *nest.outputs)}
    flat = set()
    for block in nest.segments:
        for stmt in block:
            if not isinstance(stmt, _PER_POINT):
                return None
            if isinstance(stmt, (Load, Store)):
                if not _identity(stmt.index, nest.domain) or shapes.get(stmt.buffer) != tuple(nest.domain):
                    return None
                flat.add(stmt.buffer)
    if not any(b.name in flat for b in nest.outputs):
        return None
    if any(isinstance(s, Load) and s.buffer in flat for s in nest.preamble):
        return None     # also read at one element (y - y[0, 0]): its index would need the sizes
    return tuple(sorted(flat))


def flat_nest(nest) -> LoopNest | None:
    """`nest` over one dim of ``prod(domain)`` points (see the module docstring), or None."""
    flat = flattened_buffers(nest)
    if flat is None:
        return None
    points = math.prod(nest.domain)
    flat_index = (var("i0"),)

    def buffer(b):
        return Buffer(b.name, b.dtype, (points,)) if b.name in flat else b

    def statement(s):
        return replace(s, index=flat_index) if isinstance(s, (Load, Store)) else s

    return replace(nest, inputs=[buffer(b) for b in nest.inputs], outputs=[buffer(b) for b in nest.outputs],
                   domain=(points,), domain_sizes=(size_ref(FLAT_SIZE) if points != 1 else const(1),),
                   sizes={FLAT_SIZE: points} if points != 1 else {},
                   segments=[[statement(s) for s in block] for block in nest.segments])


__all__ = ["FLAT_SIZE", "flat_nest", "flattened_buffers"]
