"""Reductions and scans lowered to accumulator statements, before any rendering.

A reduction kind is data (``ops.ReductionKind``: combine op, identity); this module
turns each ``Reduction`` and ``Scan`` of a nest into ordinary statements, so the code
generators render loops of plain statements and never branch on the kind:

- ``AccInit`` before the phase's loop: the accumulator starts at the identity;
- in the loop body, the source converted to the accumulator dtype and one
  ``Accumulate`` (``acc = combine(acc, x)``);
- after the loop, the conversion to the result dtype.

*Lanes* (block backends such as Triton): each lane of the inner block accumulates
separately, lanes past the end of the row hold the identity (``MaskFill``), and a
``LaneReduce`` after the loop combines the lanes; a scan combines the block with a
``LaneScan`` and carries the running total from block to block. ``looped=False`` is
the variant for a row that fits one block (no carried accumulators at all).

Kinds that need more than one combine (the online softmax and variance of
``online.py``) register their own rule in ``RULES``. The backend-specific steps that
run before this one (``widen_float32_sums``, ``bool_accumulators_as_int8``) only
choose accumulator dtypes.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from .nest import (AccInit, Accumulate, Compute, Constant, IndexValue, LaneReduce, LaneScan, MaskFill,
                   Phase)
from .ops import OPS, loop_dtypes
from .types import TensorType

BOOL = np.dtype(bool)
INDEX = np.dtype(np.int64)

# kind name -> rule(builder, reduction, init, body, final), for kinds that are not a
# ReductionKind of the op table (registered by the modules that create them)
RULES: dict = {}


class Builder:
    """Creates statements with fresh names derived from one accumulator's name and
    remembers the dtype of every name it made (``dtypes``)."""

    def __init__(self, lanes: bool, looped: bool):
        self.lanes = lanes
        self.looped = looped
        self.dtypes: dict = {}

    def op(self, dst, op_name, args, dtype=None, accumulate=False, reassociable=False) -> Compute:
        """``dst = op_name(*args)``, computed in NumPy's loop dtypes for the arguments."""
        arg_dtypes = tuple(self.dtypes[a] for a in args)
        if op_name == "cast":
            loops, attrs = arg_dtypes, {"dtype": np.dtype(dtype)}
        elif op_name == "where":
            loops, attrs = (BOOL, arg_dtypes[1], arg_dtypes[1]), {}
        else:
            loops, attrs = tuple(loop_dtypes(OPS[op_name], [TensorType((), d) for d in arg_dtypes])), {}
        if dtype is None:
            dtype = OPS[op_name].infer([TensorType((), d) for d in arg_dtypes], {})[0].dtype
        dtype = np.dtype(dtype)
        self.dtypes[dst] = dtype
        if accumulate:
            return Accumulate(dst, OPS[op_name], tuple(args), arg_dtypes, loops, dtype, attrs, reassociable)
        return Compute(dst, OPS[op_name], tuple(args), arg_dtypes, loops, dtype, attrs)

    def const(self, dst, value, dtype) -> Constant:
        self.dtypes[dst] = np.dtype(dtype)
        return Constant(dst, value, np.dtype(dtype))

    def init(self, dst, value, dtype, lanes=None) -> AccInit:
        self.dtypes[dst] = np.dtype(dtype)
        return AccInit(dst, value, np.dtype(dtype), self.lanes if lanes is None else lanes)

    def fill(self, dst, src, value) -> MaskFill:
        self.dtypes[dst] = self.dtypes[src]
        return MaskFill(dst, src, value, self.dtypes[src])

    def converted(self, block, src, dtype, dst) -> str:
        """`src` as `dtype` (a cast statement into `block` only when it differs)."""
        if self.dtypes[src] == np.dtype(dtype):
            return src
        block.append(self.op(dst, "cast", (src,), dtype))
        return dst

    def reduce_lanes(self, dsts, srcs, combine) -> LaneReduce:
        dtypes = tuple(self.dtypes[s] for s in srcs)
        for d, t in zip(dsts, dtypes):
            self.dtypes[d] = t
        return LaneReduce(tuple(dsts), tuple(srcs), combine, dtypes)


def _reduce_unseeded_lanes(b: Builder, final, kind, identity, acc_dtype, lanes, total):
    """The lanes of a row that fits one block, combined. No lane started from the
    identity when the row fills the block, so a float sum combines it once more: np.sum
    starts from +0.0, and a row of -0.0s sums to +0.0."""
    if kind.combine != "add" or np.dtype(acc_dtype).kind not in "fc":
        final.append(b.reduce_lanes((total,), (lanes,), kind.combine))
        return
    final += [b.reduce_lanes((f"{total}_l",), (lanes,), kind.combine),
              b.const(f"{total}_z", identity, acc_dtype),
              b.op(total, kind.combine, (f"{total}_z", f"{total}_l"), acc_dtype)]


def _monoid(b: Builder, red, init, body, final):
    """sum, prod, max, min, any, all, nanmax, ...: acc = combine(acc, x)."""
    kind = OPS[red.kind].reduction
    acc_dtype = np.dtype(red.acc_dtype or red.dtype)
    identity = kind.identity(acc_dtype)
    b.dtypes[red.src] = np.dtype(red.src_dtype)
    # NumPy's conversion to the result dtype first (any of floats: x != 0), then the
    # accumulator's representation of it
    x = b.converted(body, red.src, red.dtype, f"{red.acc}_r")
    x = b.converted(body, x, acc_dtype, f"{red.acc}_x")
    total = red.acc if acc_dtype == np.dtype(red.dtype) else f"{red.acc}_w"
    if not b.lanes:
        init.append(b.init(total, identity, acc_dtype))
        body.append(b.op(total, kind.combine, (total, x), acc_dtype, accumulate=True, reassociable=True))
    else:
        lanes = f"{red.acc}_v"
        if b.looped:
            init.append(b.init(lanes, identity, acc_dtype))
            body.append(b.fill(f"{red.acc}_m", x, identity))
            body.append(b.op(lanes, kind.combine, (lanes, f"{red.acc}_m"), acc_dtype, accumulate=True,
                             reassociable=True))
            final.append(b.reduce_lanes((total,), (lanes,), kind.combine))
        else:
            body.append(b.fill(lanes, x, identity))
            _reduce_unseeded_lanes(b, final, kind, identity, acc_dtype, lanes, total)
    if total != red.acc:
        final.append(b.op(red.acc, "cast", (total,), red.dtype))


def _arg(b: Builder, red, init, body, final):
    """argmax/argmin: (value, index) accumulators; a candidate replaces the winner when
    it compares better, is the first NaN, or the lane has seen nothing yet (index -1)."""
    kind = OPS[red.kind].reduction
    a = red.acc
    vt = np.dtype(red.acc_dtype or red.src_dtype)
    value, index = f"{a}_v", (f"{a}_i" if b.lanes else a)
    init += [b.init(value, kind.identity(vt), vt), b.init(index, -1, INDEX), b.const(f"{a}_z", 0, INDEX)]
    b.dtypes[red.src] = np.dtype(red.src_dtype)
    x = b.converted(body, red.src, vt, f"{a}_x")
    body.append(IndexValue(f"{a}_p", red.position, INDEX))
    b.dtypes[f"{a}_p"] = INDEX
    body.append(b.op(f"{a}_b", kind.combine, (x, value)))
    better = f"{a}_b"
    if vt.kind == "f":             # the first NaN wins
        body += [b.op(f"{a}_xn", "isnan", (x,)), b.op(f"{a}_vn", "isnan", (value,)),
                 b.op(f"{a}_vk", "logical_not", (f"{a}_vn",)),
                 b.op(f"{a}_nf", "logical_and", (f"{a}_xn", f"{a}_vk")),
                 b.op(f"{a}_bn", "logical_or", (better, f"{a}_nf"))]
        better = f"{a}_bn"
    body += [b.op(f"{a}_e", "lt", (index, f"{a}_z")), b.op(f"{a}_t", "logical_or", (f"{a}_e", better))]
    take = f"{a}_t"
    if b.lanes:
        body.append(b.fill(f"{a}_tm", take, False))
        take = f"{a}_tm"
    body += [b.op(value, "where", (take, x, value), vt, accumulate=True),
             b.op(index, "where", (take, f"{a}_p", index), INDEX, accumulate=True)]
    if b.lanes:
        final.append(b.reduce_lanes((f"{a}_best", f"{a}_w"), (value, index), f"arg_{kind.combine}"))
        index = f"{a}_w"
    if index != a:
        final.append(b.op(a, "cast", (index,), red.dtype))
    elif INDEX != np.dtype(red.dtype):
        raise ValueError(f"argmax index dtype {red.dtype} is not int64")


def _scan(b: Builder, scan, init, body, final):
    """cumsum/cumprod: the accumulator after each update is the prefix at that point.
    Lanes: the block's own prefix (LaneScan) plus the total of the earlier blocks."""
    kind = OPS[scan.kind].reduction
    dt = np.dtype(scan.dtype)
    identity = kind.identity(dt)
    a = scan.acc
    b.dtypes[scan.src] = np.dtype(scan.src_dtype)
    x = b.converted(body, scan.src, dt, f"{a}_x")
    if not b.lanes:
        init.append(b.init(a, identity, dt))
        body.append(b.op(a, kind.combine, (a, x), dt, accumulate=True))
        return
    body.append(b.fill(f"{a}_m", x, identity))
    if not b.looped:
        body.append(LaneScan(a, f"{a}_m", kind.combine, dt))
        return
    carry = f"{a}_c"
    init.append(b.init(carry, identity, dt, lanes=False))
    b.dtypes[f"{a}_s"] = dt
    body += [LaneScan(f"{a}_s", f"{a}_m", kind.combine, dt),
             b.op(a, kind.combine, (carry, f"{a}_s"), dt),
             b.reduce_lanes((f"{a}_t",), (f"{a}_m",), kind.combine),
             b.op(carry, kind.combine, (carry, f"{a}_t"), dt, accumulate=True)]


def lower_accumulators(nest, lanes: bool, looped: bool = True):
    """A copy of `nest` whose phases hold accumulator statements instead of
    reductions and scans (see the module doc)."""
    builder = Builder(lanes, looped)
    phases = []
    for phase in nest.phases:
        init, body, final = [], list(phase.body), []
        for red in phase.reductions:
            rule = RULES.get(red.kind) or (_arg if OPS[red.kind].reduction.arg else _monoid)
            rule(builder, red, init, body, final)
        for scan in phase.scans:
            _scan(builder, scan, init, body, final)
        phases.append(Phase(body=body, init=init, final=final, scan=phase.scan))
    return replace(nest, phases=phases)


def _with_acc_dtypes(nest, choose):
    """A copy of `nest` whose reductions accumulate in ``choose(reduction)`` (None: as
    they are)."""
    phases = []
    for phase in nest.phases:
        reductions = []
        for red in phase.reductions:
            dtype = choose(red)
            reductions.append(red if dtype is None else replace(red, acc_dtype=np.dtype(dtype)))
        phases.append(replace(phase, reductions=reductions))
    return replace(nest, phases=phases)


def widen_float32_sums(nest):
    """float32 (and float16) sums accumulate in float64 and round once at the end: a
    long row summed in one running float32 would lose the accuracy NumPy's pairwise
    summation keeps. (A float16 sum across rows stays float16: see ``_rows_added``.)"""
    return _with_acc_dtypes(nest, lambda red: np.float64 if red.kind == "reduce_sum"
                            and np.dtype(red.dtype) in (np.float16, np.float32)
                            and not _rows_added(nest, red) else None)


def widen_float16_sums(nest):
    """float16 sums accumulate in float32, as NumPy's half pairwise sum does (a
    running float16 would round at every step), except across rows (``_rows_added``)."""
    return _with_acc_dtypes(nest, lambda red: np.float32 if red.kind == "reduce_sum"
                            and np.dtype(red.dtype) == np.float16 and not _rows_added(nest, red) else None)


def _rows_added(nest, red) -> bool:
    """A float16 sum that leaves the last (contiguous, for C-ordered data) dim of more
    than one element out: NumPy adds whole rows into the float16 result, rounding at
    every step (4096 rows of ones sum to 2048), and so does this accumulator. (For
    F-ordered data NumPy's order differs; that case is not reproduced.)"""
    if np.dtype(red.dtype) != np.float16:
        return False
    wide = [d for d, n in enumerate(nest.domain) if n != 1]
    return bool(wide) and wide[-1] not in nest.inner_axes


def bool_accumulators_as_int8(nest):
    """Boolean accumulators (any, all, max of bools, argmax of bools) held as int8 0/1:
    block backends reduce lanes of bytes, not of 1-bit predicates."""
    def choose(red):
        if red.kind in RULES:
            return None
        arg = OPS[red.kind].reduction.arg
        dtype = np.dtype(red.acc_dtype or (red.src_dtype if arg else red.dtype))
        return np.int8 if dtype == BOOL else None
    return _with_acc_dtypes(nest, choose)
