"""The text form of a LoopNest: what ``tracejit dump`` shows between the fused IR and
the kernel source, and what golden tests pin.

    loopnest @softmax_k0 (in0: f32[n0,n1]) -> (out0: f32[n0,n1])
      domain [n0, n1]  outer i0  inner i1
      for i0:
        phase 0 over i1:
          t2 = load in0[i0, i1] : f32
          acc3 = reduce_max t2 : f32
        ...
        epilogue over i1:
          store out0[i0, i1] = t12
"""
from __future__ import annotations

import numpy as np

from .nest import (AccInit, Accumulate, BoundsCheck, Compute, Constant, IndexValue, LaneReduce, LaneScan, Load,
                   MaskFill, Store, ValueCheck)
from .types import short_name

_STEP = "  "


def _t(dtype) -> str:
    return short_name(np.dtype(dtype))


def _index(index) -> str:
    return "[" + ", ".join(str(e) for e in index) + "]"


def format_statement(stmt) -> str:
    if isinstance(stmt, Load):
        return f"{stmt.dst} = load {stmt.buffer}{_index(stmt.index)} : {_t(stmt.dtype)}"
    if isinstance(stmt, Accumulate):
        return f"{stmt.dst} <- {stmt.op.name} {', '.join(stmt.args)} : {_t(stmt.dtype)}" + \
            ("  (reassociable)" if stmt.reassociable else "")
    if isinstance(stmt, Compute):
        return f"{stmt.dst} = {stmt.op.name} {', '.join(stmt.args)} : {_t(stmt.dtype)}"
    if isinstance(stmt, Constant):
        return f"{stmt.dst} = constant {stmt.value!r} : {_t(stmt.dtype)}"
    if isinstance(stmt, IndexValue):
        return f"{stmt.dst} = index {stmt.index} : {_t(stmt.dtype)}"
    if isinstance(stmt, BoundsCheck):
        return f"check 0 <= {stmt.index} < {stmt.size}  ({stmt.what})"
    if isinstance(stmt, ValueCheck):
        return f"check {stmt.src}  ({stmt.error}: {stmt.message})"
    if isinstance(stmt, Store):
        return f"store {stmt.buffer}{_index(stmt.index)} = {stmt.src}"
    if isinstance(stmt, AccInit):
        return f"{stmt.dst} = init {stmt.value!r} : {_t(stmt.dtype)}" + ("  (per lane)" if stmt.lanes else "")
    if isinstance(stmt, MaskFill):
        return f"{stmt.dst} = mask_fill {stmt.src}, {stmt.fill!r} : {_t(stmt.dtype)}"
    if isinstance(stmt, LaneReduce):
        return f"{', '.join(stmt.dsts)} = lane_reduce {stmt.combine} {', '.join(stmt.srcs)}"
    if isinstance(stmt, LaneScan):
        return f"{stmt.dst} = lane_scan {stmt.combine} {stmt.src} : {_t(stmt.dtype)}"
    raise TypeError(f"unknown statement {stmt!r}")


def _buffers(buffers, sizes) -> str:
    names = {v: k for k, v in sizes.items()}
    parts = []
    for b in buffers:
        dims = ",".join("1" if n == 1 else names.get(n, str(n)) for n in b.shape)
        parts.append(f"{b.name}: {_t(b.dtype)}[{dims}]")
    return ", ".join(parts)


def format_nest(nest) -> str:
    """The nest as text (sizes shown as their parameters, so the text does not change
    with the batch size)."""
    lines = [f"loopnest @{nest.name} ({_buffers(nest.inputs, nest.sizes)}) -> "
             f"({_buffers(nest.outputs, nest.sizes)})"]
    domain = ", ".join(str(e) for e in nest.domain_sizes)
    outer = " ".join(f"i{d}" for d in nest.outer_axes) or "-"
    inner = " ".join(f"i{d}" for d in nest.inner_axes) or "-"
    lines.append(f"{_STEP}domain [{domain}]  outer {outer}  inner {inner}")

    def block(title, statements, depth):
        if not statements:
            return
        if title:
            lines.append(_STEP * depth + title)
            depth += 1
        lines.extend(_STEP * depth + format_statement(s) for s in statements)

    if nest.matmul is not None:
        mm = nest.matmul
        lines.append(f"{_STEP}{mm.result} = matmul {mm.a}, {mm.b} : {_t(mm.dtype)}  (before the loops)")
    block("preamble:", nest.preamble, 1)
    lines.append(f"{_STEP}for {outer}:")
    block("", nest.segments[0], 2)
    over = ", ".join(f"i{d}" for d in nest.inner_axes)
    for k, phase in enumerate(nest.phases):
        block(f"init {k}:", phase.init, 2)
        lines.append(f"{_STEP * 2}{'scan' if phase.scan else 'phase'} {k} over {over}:")
        block("", phase.body, 3)
        for red in phase.reductions:
            extra = f", partner {red.partner}" if red.partner else ""
            lines.append(f"{_STEP * 3}{red.acc} = {red.kind} {red.src}{extra} : {_t(red.dtype)}")
        for scan in phase.scans:
            lines.append(f"{_STEP * 3}{scan.acc} = {scan.kind} {scan.src} : {_t(scan.dtype)}")
        if phase.scan:
            block("then, per point:", nest.epilogue, 3)
        block(f"final {k}:", phase.final, 2)
        block("", nest.segments[k + 1], 2)
    if nest.epilogue and not nest.scans_last:
        block(f"epilogue over {over}:" if nest.inner_axes else "", nest.epilogue, 2)
    return "\n".join(lines)
