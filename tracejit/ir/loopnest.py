"""Lowering of one kernel region (a Graph) to a backend-neutral ``LoopNest`` (``nest.py``).

The fusion pass asks ``lower_region`` whether a candidate region is legal
(``LoweringError`` if not), and both code generators render the same nest.

The domain of a region:
- no reductions or scans: D is the shape shared by every output; every dim is outer;
- reductions and scans: all reduce (scan) the same axes A of the same input shape D;
  dims in A are inner dims (looped inside each outer point), the others outer dims. A
  scan has one axis; all scans of a region share one last phase;
- a leading ``matmul`` (operands are region inputs): D is the matmul's output shape,
  the rest of the region is its epilogue, which may also reduce arrays of shape D (not
  scan them): the product is then read from its buffer in each phase.

Every value is computed at an index (a tuple of ``IndexExpr``) by inlining: movement
ops and gathers become index maps on loads (one rule per op: ``INDEX_RULES``),
elementwise ops become scalar statements. Each statement is placed in the earliest
block where everything it reads is available (see ``_Lowerer.emit``).
"""
from __future__ import annotations

import numpy as np

from .nest import (BoundsCheck, Buffer, Compute, Constant, IndexExpr, IndexValue, Load, LoopNest,
                   Matmul, Phase, Reduction, Scan, Store, ValueCheck, add, const, floordiv, index_vars_of,
                   mod, mul, scalar_ref, size_ref, var)
from .ops import OPS, OpGroup, loop_dtypes
from .types import TensorType

# a region may emit at most BASE + PER_OP * (its op count) scalar statements: movement
# ops are index maps, so one op read at k indices costs k statements, and chains of
# shifted reads grow exponentially unless fusion materializes them in between
STATEMENT_BUDGET_BASE = 64
STATEMENT_BUDGET_PER_OP = 12
# an expensive op (OpSpec.expensive) may be evaluated at one point in at most this many
# passes over a row (softmax's exp: the sum's pass and the output's); past it the
# region would recompute it per pass, growing as n^2 in a chain of row blocks
MAX_PASSES_OF_EXPENSIVE = 2


class LoweringError(Exception):
    """The region cannot be one kernel (the fusion pass then splits it)."""


class RecomputationError(LoweringError):
    """One kernel would recompute work that materializing a value avoids (the fusion
    pass splits the region there and says so in the kernel's `reason`)."""


class _Lowerer:
    """Builds a LoopNest by evaluating region values at symbolic indices.

    Every scalar it emits is recorded with the loop variables it depends on
    (``self.vars``) and the first segment after which it can run (``self.seg``:
    k when it reads an accumulator of phase k-1). That decides its block.
    """

    def __init__(self, region):
        self.region = region
        self.size_names: dict = {}      # int value -> size parameter name
        self.counter = 0
        self.memo: dict = {}
        self.vars: dict = {}
        self.seg: dict = {}
        self.acc_of: dict = {}          # reduction/scan result Value -> accumulator name
        self.scan_values: set = set()   # results of scans (read per inner point)
        self.emitted = 0
        self.budget = STATEMENT_BUDGET_BASE + STATEMENT_BUDGET_PER_OP * len(region.nodes)
        self.passes: dict = {}          # (expensive value, index) -> the row passes computing it

    # -- names ----------------------------------------------------------------
    def size(self, n: int) -> IndexExpr:
        if n == 1:
            return const(1)
        if n not in self.size_names:
            self.size_names[n] = f"n{len(self.size_names)}"
        return size_ref(self.size_names[n])

    def offset(self, start: int) -> IndexExpr:
        """A slice start: a parameter like the sizes (0 stays literal), so kernels that
        differ only in where they slice (row i of a loop over i) share one source."""
        if start in (0, 1):
            return const(start)
        return self.size(start)

    def fresh(self, prefix="t") -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"

    # -- entry ----------------------------------------------------------------
    def lower(self) -> LoopNest:
        region = self.region
        nodes = region.nodes
        if any(node.op.group is OpGroup.KERNEL for node in nodes):
            raise LoweringError("nested kernel")
        self.matmul = self.matmul_value = None
        self.input_names = {v: f"in{i}" for i, v in enumerate(region.inputs)}
        domain, inner = self._domain(nodes)
        self.domain, self.inner = tuple(domain), tuple(inner)
        self.domain_sizes = tuple(self.size(n) for n in self.domain)
        # size-1 dims read at 0, as broadcast_index reads them: one index text per point
        self.full_index = tuple(const(0) if n == 1 else var(f"i{d}") for d, n in enumerate(self.domain))
        self.inner_vars = {f"i{d}" for d in self.inner}
        self.phases: list = []
        self.segments: list = [[]]
        self.epilogue: list = []
        self.preamble: list = []
        for node in nodes:
            if node.op.group is OpGroup.REDUCTION:
                self.lower_reduction(node)
        for node in nodes:
            if node.op.group is OpGroup.SCAN:
                self.lower_scan(node)
        self.block, self.scope = self.epilogue, 0
        outputs = [self._store_output(i, value) for i, value in enumerate(region.outputs)]
        inputs = [Buffer(self.input_names[v], v.dtype, v.shape) for v in region.inputs]
        if self.matmul:
            inputs.append(Buffer("mm", self.matmul.dtype, self.domain))
        return LoopNest(region.name, inputs, outputs, self.domain, self.domain_sizes, self.inner,
                        {name: n for n, name in self.size_names.items()}, self.segments, self.phases,
                        self.epilogue, self.matmul, self.preamble)

    def _domain(self, nodes):
        matmuls = [n for n in nodes if n.op.group is OpGroup.MATMUL]
        rows = [n for n in nodes if n.op.group in (OpGroup.REDUCTION, OpGroup.SCAN)]
        if matmuls:
            mm = matmuls[0]
            if len(matmuls) > 1 or nodes[0] is not mm or any(n.op.group is OpGroup.SCAN for n in rows):
                raise LoweringError("a matmul region holds one leading matmul, its elementwise epilogue "
                                    "and reductions of the product's shape")
            if any(v not in self.input_names for v in mm.inputs):
                raise LoweringError("matmul operands must be region inputs")
            self.matmul = Matmul(self.input_names[mm.inputs[0]], self.input_names[mm.inputs[1]],
                                 "mm", mm.output.dtype, len(mm.output.shape) - 2, mm.attrs.get("a_zero_above"))
            self.matmul_value = mm.output
            if not rows:
                return mm.output.shape, ()
            domain, inner = self._rows_domain(rows)
            if domain != mm.output.shape:
                raise LoweringError("a matmul kernel reduces only arrays of the product's shape")
            return domain, inner
        if rows:
            return self._rows_domain(rows)
        shapes = {v.shape for v in self.region.outputs}
        if len(shapes) != 1:
            raise LoweringError(f"pointwise kernel outputs of different shapes {sorted(shapes)}")
        return shapes.pop(), ()

    @staticmethod
    def _rows_domain(rows):
        """(domain, reduced axes) of a kernel's reductions and scans, which must agree."""
        def axes_of(node):
            return node.attrs["axes"] if node.op.group is OpGroup.REDUCTION else (node.attrs["axis"],)
        domain, inner = rows[0].inputs[0].shape, axes_of(rows[0])
        for node in rows[1:]:
            if node.inputs[0].shape != domain or axes_of(node) != inner:
                raise LoweringError("reductions and scans of one kernel must reduce the same axes "
                                    "of the same shape")
        if not inner:
            raise LoweringError("reduction over no axes")
        if any(n.op.reduction.arg for n in rows if n.op.group is OpGroup.REDUCTION) and len(inner) != 1:
            raise LoweringError("argmax/argmin reduce one axis")
        return domain, inner

    def _store_output(self, i, value) -> Buffer:
        name = f"out{i}"
        if value.shape == self.domain:
            index = self.full_index     # with every reduced dim of size 1, also a reduction's own index
        elif self.inner and value.shape in (self._reduced(True), self._reduced(False)):
            index = self._result_index(value.shape)
        else:
            raise LoweringError(f"output of shape {value.shape} does not fit domain {self.domain}")
        src = self.at(value, index)
        store = Store(name, index, src, value.dtype)
        if (index_vars_of(index) | self.vars.get(src, set())) & self.inner_vars:
            self.epilogue.append(store)      # per inner point (also a scan's value over a size-1 axis)
        else:
            self.segments[-1].append(store)
        return Buffer(name, value.dtype, value.shape)

    def _reduced(self, keepdims):
        if keepdims:
            return tuple(1 if d in self.inner else n for d, n in enumerate(self.domain))
        return tuple(n for d, n in enumerate(self.domain) if d not in self.inner)

    def _result_index(self, shape):
        """Index of a reduction-shaped value in terms of the outer loop variables."""
        def outer(d):  # a size-1 dim is read at 0, as broadcast_index reads it
            return const(0) if self.domain[d] == 1 else var(f"i{d}")
        if len(shape) == len(self.domain):
            return tuple(const(0) if d in self.inner else outer(d) for d in range(len(shape)))
        return tuple(outer(d) for d in range(len(self.domain)) if d not in self.inner)

    def _phase_body(self, node):
        """Emit the source of a reduction/scan into a fresh block; (source name, block)."""
        self.block = body = []
        self.scope = self.fresh("scope")
        return self.at(node.inputs[0], self.full_index), body

    def lower_reduction(self, node):
        """Place the reduction in the earliest phase after every accumulator its source
        reads (reductions of one phase share a loop)."""
        value, out = node.inputs[0], node.output
        src, body = self._phase_body(node)
        phase_index = self.seg[src]
        if phase_index == len(self.phases):
            self.phases.append(Phase())
            self.segments.append([])
        phase = self.phases[phase_index]
        phase.body.extend(body)
        acc = self.fresh("acc")
        position = var(f"i{self.inner[0]}") if node.op.reduction.arg else None
        phase.reductions.append(Reduction(acc, node.op.name, src, value.dtype, out.dtype, position))
        self.acc_of[out] = acc
        self.vars[acc] = set()
        self.seg[acc] = phase_index + 1

    def lower_scan(self, node):
        """Every scan of a region runs in one last phase: its prefix is read per inner
        point, inside that phase's loop (the epilogue runs there too)."""
        value, out = node.inputs[0], node.output
        src, body = self._phase_body(node)
        if not self.phases or not self.phases[-1].scan:   # (a source reading a scan raised above)
            self.phases.append(Phase(scan=True))
            self.segments.append([])
        phase = self.phases[-1]
        phase.body.extend(body)
        acc = self.fresh("acc")
        phase.scans.append(Scan(acc, node.op.name, src, value.dtype, out.dtype))
        self.acc_of[out] = acc
        self.scan_values.add(out)
        self.vars[acc] = set(self.inner_vars)
        self.seg[acc] = len(self.phases)      # after the scan phase's update, in its loop

    # -- emitting -------------------------------------------------------------
    def expr_deps(self, exprs):
        """Loop variables and segment an index expression (or several) depend on."""
        used, seg = set(), 0
        stack = list(exprs)
        while stack:
            e = stack.pop()
            if e.kind == "var":
                used.add(e.args[0])
            elif e.kind == "scalar":
                used |= self.vars[e.args[0]]
                seg = max(seg, self.seg[e.args[0]])
            elif e.kind not in ("size", "const"):
                stack.extend(e.args)
        return used, seg

    def emit(self, stmt, used, seg) -> str:
        self.emitted += 1
        if self.emitted > self.budget:
            # values read at many different indices (stencils, shifted slices of shifted
            # slices) are recomputed per index when inlined: past this, split the kernel
            raise RecomputationError(f"inlining would emit over {self.budget} statements for "
                                     f"{len(self.region.nodes)} ops (values read at many indices are recomputed)")
        self.vars[stmt.dst] = used
        self.seg[stmt.dst] = seg
        if used & self.inner_vars:
            self.block.append(stmt)
        elif not used and seg == 0:
            self.preamble.append(stmt)
        else:
            self.segments[seg].append(stmt)
        return stmt.dst

    def emit_on(self, stmt, args):
        """Emit a statement computed from scalar `args`."""
        used = set().union(*(self.vars[a] for a in args)) if args else set()
        seg = max((self.seg[a] for a in args), default=0)
        return self.emit(stmt, used, seg)

    def at(self, value, index) -> str:
        """Name of a scalar holding `value` at `index`, emitting statements as needed."""
        index = tuple(index)
        used, _ = self.expr_deps(index)
        scope = self.scope if used & self.inner_vars else None
        key = (value, index, scope)          # IndexExprs are frozen: equal by value
        if key not in self.memo:
            if scope is not None and value.producer is not None and value.producer.op.expensive:
                self._count_pass(value, index, scope)
            self.memo[key] = self._compute(value, index)
        return self.memo[key]

    def _count_pass(self, value, index, scope):
        seen = self.passes.setdefault((value, index), set())
        seen.add(scope)
        if len(seen) > MAX_PASSES_OF_EXPENSIVE:
            node = value.producer
            raise RecomputationError(f"{node.op.name} at {node.loc or '?'} would be computed in {len(seen)} "
                                     f"passes over each row; its result is stored and read back instead")

    def _compute(self, value, index):
        if value is self.matmul_value:
            own = tuple(const(0) if n == 1 else e for n, e in zip(self.domain, self.full_index))
            here = tuple(const(0) if n == 1 else e for n, e in zip(self.domain, index))
            if here != own:
                # the matmul tile holds each point once: a moved read needs the result in memory
                raise LoweringError("the matmul result is read at another point (transposed, flipped, shifted)")
        if value in self.input_names or value is self.matmul_value:
            buffer = "mm" if value is self.matmul_value else self.input_names[value]
            used, seg = self.expr_deps(index)
            return self.emit(Load(self.fresh(), buffer, index, value.dtype), used, seg)
        node = value.producer
        group = node.op.group
        if group is OpGroup.REDUCTION:
            return self._reduction_result(value, index)
        if group is OpGroup.SCAN:
            return self._scan_result(value, index)
        if node.op.is_elementwise:
            args = [self.at(v, broadcast_index(index, value.shape, v.shape)) for v in node.inputs]
            arg_dtypes = tuple(v.dtype for v in node.inputs)
            if group is OpGroup.CAST or node.op.ufunc is None and node.op.name != "where":
                loops = arg_dtypes               # casts, real, imag: computed in their operand's dtype
            elif node.op.name == "where":
                loops = (np.dtype(bool), value.dtype, value.dtype)
            else:
                loops = tuple(loop_dtypes(node.op, [v.type for v in node.inputs]))
            stmt = Compute(self.fresh(), node.op, tuple(args), arg_dtypes, loops, value.dtype, dict(node.attrs))
            if node.op.name == "pow" and loops[1].kind == "i":
                self._check_non_negative(args[1], loops[1], arg_dtypes[1])
            return self.emit_on(stmt, args)
        rule = INDEX_RULES.get(node.op.name)
        if rule is None:
            raise LoweringError(f"{node.op.name} cannot be inside a kernel region")
        return rule(self, node, value, index)

    def _reduction_result(self, value, index):
        if value not in self.acc_of:
            raise LoweringError("reduction result used before its reduction")
        if tuple(index) != tuple(self._result_index(value.shape)):
            raise LoweringError("a reduction result is read at an index other than its own row")
        return self.acc_of[value]

    def _scan_result(self, value, index):
        if value not in self.acc_of:
            raise LoweringError("scan result used before its scan")
        full = tuple(const(0) if n == 1 else e for n, e in zip(self.domain, self.full_index))
        here = tuple(const(0) if n == 1 else e for n, e in zip(value.shape, index))
        if here != full:
            raise LoweringError("a scan result is read at an index other than its own point")
        if self.block is not self.epilogue:
            raise LoweringError("a scan result is read by a reduction or scan of the same kernel")
        return self.acc_of[value]

    def _check_non_negative(self, exponent, loop, have):
        """NumPy raises ValueError for an integer to a negative integer power."""
        zero = self.emit(Constant(self.fresh(), 0, loop), set(), 0)
        ok = self.emit_on(Compute(self.fresh(), OPS["ge"], (exponent, zero), (have, loop), (loop, loop),
                                  np.dtype(bool)), [exponent, zero])
        check = ValueCheck(ok, "ValueError", "Integers to negative integer powers are not allowed.")
        self.place_check(check, ok)

    def place_check(self, check, name):
        """A check goes where the scalar it tests is computed."""
        if self.vars[name] & self.inner_vars:
            self.block.append(check)
        elif not self.vars[name] and self.seg[name] == 0:
            self.preamble.append(check)
        else:
            self.segments[self.seg[name]].append(check)

    # -- helpers of the index rules --------------------------------------------------
    def extent(self, n):
        return const(0) if n == 0 else self.size(n)

    def last(self, n):
        return add(self.size(n), const(-1)) if n != 1 else const(0)

    def checked_index(self, scalar, dtype, n):
        """A gather index, negative values wrapped, with a bounds check before use."""
        j = self.cast_scalar(scalar, dtype, np.dtype(np.int64))
        wrapped = IndexExpr("wrap", (scalar_ref(j), self.size(n)))
        self.place_check(BoundsCheck(wrapped, self.size(n), "index"), j)
        return wrapped

    def index_scalar(self, expr, dtype):
        used, seg = self.expr_deps([expr])
        return self.emit(IndexValue(self.fresh(), expr, dtype), used, seg)

    def compute_op(self, op_name, args, dtype):
        op = OPS[op_name]
        arg_dtypes = tuple(np.dtype(np.int64) if op_name in ("lt", "ge") else np.dtype(bool) for _ in args)
        loops = tuple(loop_dtypes(op, [TensorType((), d) for d in arg_dtypes]))
        return self.emit_on(Compute(self.fresh(), op, tuple(args), arg_dtypes, loops, dtype), args)

    def cast_scalar(self, name, src, dst_dtype):
        if src == dst_dtype:
            return name
        stmt = Compute(self.fresh(), OPS["cast"], (name,), (src,), (src,), dst_dtype, {"dtype": dst_dtype})
        return self.emit_on(stmt, [name])

    def where(self, cond, a, b, dtype):
        dtypes = (np.dtype(bool), dtype, dtype)
        return self.emit_on(Compute(self.fresh(), OPS["where"], (cond, a, b), dtypes, dtypes, dtype),
                            [cond, a, b])

    def in_range(self, expr, n):
        here = self.index_scalar(expr, np.dtype(np.int64))
        zero = self.index_scalar(const(0), np.dtype(np.int64))
        limit = self.index_scalar(self.size(n), np.dtype(np.int64))
        ge = self.compute_op("ge", [here, zero], np.dtype(bool))
        lt = self.compute_op("lt", [here, limit], np.dtype(bool))
        return self.compute_op("logical_and", [ge, lt], np.dtype(bool))

    def reshape_index(self, index, out_shape, in_shape):
        """Map an index of `out_shape` to one of `in_shape` (row-major), group by group."""
        result = []
        for out_dims, in_dims in reshape_groups(out_shape, in_shape):
            if len(out_dims) == 1 and len(in_dims) == 1:
                result.append(index[out_dims[0]])
                continue
            linear = const(0)
            for d in out_dims:
                linear = add(mul(linear, self.size(out_shape[d])), index[d])
            parts = []
            for k, d in enumerate(reversed(in_dims)):
                n = in_shape[d]
                if n == 1:
                    parts.append(const(0))
                elif k == len(in_dims) - 1:
                    parts.append(linear)      # the group's products agree: already below n
                else:
                    parts.append(self._mod(linear, self.size(n)))
                    linear = self._floordiv(linear, self.size(n))
            result.extend(reversed(parts))
        return tuple(result)

    def _below(self, expr, n) -> bool:
        """Whether 0 <= expr < n by its form: a loop variable over a dim of size n, or a
        remainder by n (a flatten then an unflatten by the same sizes cancel exactly)."""
        if expr.kind == "var":
            d = expr.args[0][1:]
            return d.isdigit() and int(d) < len(self.domain) and self.size(self.domain[int(d)]) == n
        return expr.kind == "mod" and expr.args[1] == n

    def _mod(self, x, n):
        """x mod n, with (a n + b) mod n = b for 0 <= b < n."""
        if self._below(x, n):
            return x
        if x.kind == "add" and x.args[0].kind == "mul" and x.args[0].args[1] == n and self._below(x.args[1], n):
            return x.args[1]
        return mod(x, n)

    def _floordiv(self, x, n):
        """x // n, with (a n + b) // n = a for 0 <= b < n."""
        if self._below(x, n):
            return const(0)
        if x.kind == "add" and x.args[0].kind == "mul" and x.args[0].args[1] == n and self._below(x.args[1], n):
            return x.args[0].args[0]
        return floordiv(x, n)


# ---------------------------------------------------------------------------
# index rules: how each source, movement and gather op is computed at an index
# (rule(lowerer, node, value, index) -> scalar name)
# ---------------------------------------------------------------------------

def _constant(lw, node, value, index):
    return lw.emit(Constant(lw.fresh(), node.attrs["value"], value.dtype), set(), 0)


def _iota(lw, node, value, index):
    return lw.index_scalar(index[node.attrs["axis"]], value.dtype)


def _broadcast_to(lw, node, value, index):
    x = node.inputs[0]
    return lw.at(x, broadcast_index(index, value.shape, x.shape))


def _transpose(lw, node, value, index):
    src = [None] * len(node.attrs["perm"])
    for k, p in enumerate(node.attrs["perm"]):
        src[p] = index[k]
    return lw.at(node.inputs[0], tuple(src))


def _reshape(lw, node, value, index):
    x = node.inputs[0]
    return lw.at(x, lw.reshape_index(index, value.shape, x.shape))


def _slice(lw, node, value, index):
    attrs = node.attrs
    return lw.at(node.inputs[0], tuple(add(lw.offset(s), mul(const(st), i))
                                       for i, s, st in zip(index, attrs["starts"], attrs["steps"])))


def _pad(lw, node, value, index):
    x, attrs = node.inputs[0], node.attrs
    src, checks = [], []
    for i, (lo, hi), n in zip(index, attrs["widths"], x.shape):
        if lo == 0 and hi == 0:
            src.append(i)
            continue
        shifted = add(i, const(-lo))
        src.append(IndexExpr("clamp", (shifted, const(0), lw.last(n))))
        checks.append((shifted, n))
    result = lw.at(x, tuple(src))
    fill = lw.emit(Constant(lw.fresh(), attrs["value"], value.dtype), set(), 0)
    for shifted, n in checks:
        result = lw.where(lw.in_range(shifted, n), result, fill, value.dtype)
    return result


def _concat(lw, node, value, index):
    axis = node.attrs["axis"]
    offsets, total = [], 0
    for v in node.inputs:
        offsets.append(total)
        total += v.shape[axis]
    here = lw.index_scalar(index[axis], np.dtype(np.int64))
    result = None
    for v, off in reversed(list(zip(node.inputs, offsets))):
        shifted = add(index[axis], mul(const(-1), lw.extent(off)))
        src = list(index)
        src[axis] = IndexExpr("clamp", (shifted, const(0), lw.last(v.shape[axis])))
        piece = lw.cast_scalar(lw.at(v, tuple(src)), v.dtype, value.dtype)
        if result is None:
            result = piece
            continue
        end = lw.index_scalar(add(lw.extent(off), lw.size(v.shape[axis])), np.dtype(np.int64))
        cond = lw.compute_op("lt", [here, end], np.dtype(bool))
        result = lw.where(cond, piece, result, value.dtype)
    return result


def _offset_exprs(lw, offsets) -> tuple:
    """Dynamic offsets (int 0-d values) as index expressions."""
    exprs = []
    for o in offsets:
        name = lw.cast_scalar(lw.at(o, ()), o.dtype, np.dtype(np.int64))
        exprs.append(scalar_ref(name))
    return tuple(exprs)


def _dynamic_slice(lw, node, value, index):
    starts = _offset_exprs(lw, node.inputs[1:])
    return lw.at(node.inputs[0], tuple(add(s, mul(const(st), i))
                                       for i, s, st in zip(index, starts, node.attrs["steps"])))


def _update_slice(lw, node, value, index):
    x, v = node.inputs
    return _slice_write(lw, x, v, tuple(lw.offset(s) for s in node.attrs["starts"]), node.attrs, value, index)


def _dynamic_update_slice(lw, node, value, index):
    x, v = node.inputs[:2]
    return _slice_write(lw, x, v, _offset_exprs(lw, node.inputs[2:]), node.attrs, value, index)


def _slice_write(lw, x, v, starts, attrs, value, index):
    """x outside the slice, v (at the slice position of this point) inside it."""
    inside, src = None, []
    for i, start, step, size in zip(index, starts, attrs["steps"], attrs["shape"]):
        # j = (i - start) / step for points of the slice; both operands kept non-negative
        offset = add(i, mul(const(-1), start)) if step > 0 else add(start, mul(const(-1), i))
        stride = abs(step)
        j = floordiv(offset, const(stride))
        here = lw.index_scalar(offset, np.dtype(np.int64))
        tests = [lw.compute_op("ge", [here, lw.index_scalar(const(0), np.dtype(np.int64))], np.dtype(bool)),
                 lw.compute_op("lt", [here, lw.index_scalar(add(mul(const(stride), lw.last(size)), const(1)),
                                                            np.dtype(np.int64))], np.dtype(bool))]
        if stride != 1:
            rem = lw.index_scalar(mod(offset, const(stride)), np.dtype(np.int64))
            tests.append(lw.compute_op("ge", [lw.index_scalar(const(0), np.dtype(np.int64)), rem], np.dtype(bool)))
        for test in tests:
            inside = test if inside is None else lw.compute_op("logical_and", [inside, test], np.dtype(bool))
        src.append(IndexExpr("clamp", (j, const(0), lw.last(size) if size else const(0))))
    if inside is None:                       # a 0-d array: the whole of it
        return lw.at(v, broadcast_index(index, value.shape, v.shape))
    new = lw.at(v, broadcast_index(tuple(src), tuple(attrs["shape"]), v.shape))
    return lw.where(inside, new, lw.at(x, index), value.dtype)


def _require(lw, node, value, index):
    """x, with a check that ok holds at this point."""
    x, ok = node.inputs
    flag = lw.at(ok, broadcast_index(index, value.shape, ok.shape))
    lw.place_check(ValueCheck(flag, node.attrs["error"], node.attrs["message"]), flag)
    return lw.at(x, index)


def _take(lw, node, value, index):
    x, idx = node.inputs
    axis = node.attrs["axis"]
    k = idx.type.rank
    position = lw.checked_index(lw.at(idx, index[axis:axis + k]), idx.dtype, x.shape[axis])
    return lw.at(x, index[:axis] + (position,) + index[axis + k:])


def _take_along_axis(lw, node, value, index):
    x, idx = node.inputs
    axis = node.attrs["axis"]
    j = lw.at(idx, broadcast_index(index, value.shape, idx.shape, keep_axis=axis))
    position = lw.checked_index(j, idx.dtype, x.shape[axis])
    src = list(broadcast_index(index, value.shape, x.shape, keep_axis=axis))
    src[axis] = position
    return lw.at(x, tuple(src))


INDEX_RULES = {
    "constant": _constant, "iota": _iota,
    "broadcast_to": _broadcast_to, "transpose": _transpose, "reshape": _reshape, "slice": _slice,
    "pad": _pad, "concat": _concat, "update_slice": _update_slice, "require": _require,
    "dynamic_slice": _dynamic_slice, "dynamic_update_slice": _dynamic_update_slice,
    "take": _take, "take_along_axis": _take_along_axis,
}


def broadcast_index(index, out_shape, in_shape, keep_axis=None):
    """Index into an operand of `in_shape` broadcast (NumPy rules) to `out_shape`."""
    offset = len(out_shape) - len(in_shape)
    result = []
    for d, n in enumerate(in_shape):
        od = d + offset
        if n == 1 and od != keep_axis:   # size-1 dims are always read at 0 (canonical)
            result.append(const(0))
        else:
            result.append(index[od])
    return tuple(result)


def reshape_groups(out_shape, in_shape):
    """Split a reshape into minimal runs of dims with equal products (size-1 dims
    ride along), so index maps divide and take remainders only where dims merge. With
    no elements every map is as good as another: one group of all dims."""
    if 0 in tuple(out_shape) + tuple(in_shape):
        return [(list(range(len(out_shape))), list(range(len(in_shape))))]
    groups, i, j = [], 0, 0
    while i < len(out_shape) or j < len(in_shape):
        out_dims, in_dims = [], []
        po = pi = 1
        if i < len(out_shape):
            out_dims.append(i); po *= out_shape[i]; i += 1
        if j < len(in_shape):
            in_dims.append(j); pi *= in_shape[j]; j += 1
        while po != pi:
            if po < pi and i < len(out_shape):
                out_dims.append(i); po *= out_shape[i]; i += 1
            elif j < len(in_shape):
                in_dims.append(j); pi *= in_shape[j]; j += 1
            else:
                out_dims.append(i); po *= out_shape[i]; i += 1
        groups.append((out_dims, in_dims))
    return groups


def lower_region(region) -> LoopNest:
    """Lower a kernel region; raises LoweringError when it cannot be one kernel."""
    return _Lowerer(region).lower()
