"""Lowering of one kernel region (a Graph) to a backend-neutral loop nest.

This is the contract between fusion and code generation: the fusion pass asks
``lower_region`` whether a candidate region is legal (``LoweringError`` if not) and
both code generators (Numba, Triton) render the same ``LoopNest``.

The iteration *domain* of a region is one shape D with loop variables ``i0..i{r-1}``:
- no reductions: D is the shape shared by every output; every dim is an *outer* dim;
- reductions: all reduce the same axes A of the same input shape D; dims in A are
  *inner* dims (looped inside each outer point), the others outer dims;
- a leading ``matmul`` (operands are region inputs): D is the matmul's output shape,
  the rest of the region is its epilogue.

Every value is computed at an index (a tuple of ``IndexExpr``) by inlining: movement
ops and gathers become index maps on loads, elementwise ops become scalar statements.
Statements are placed in *blocks*: ``segments[k]`` run once per outer point after
reduction phase k-1 has finished; ``phases[k].body`` runs per inner point of phase k;
``epilogue`` runs per inner point after the last phase. A region without inner dims
uses ``segments`` only.

Sizes are not literals: every extent other than 1 is a named size parameter
(``sizes`` maps name -> value for this trace), so one generated kernel serves every
shape with the same structure.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .ops import OpGroup, loop_dtypes, reduction_identity
from .types import TensorType


# a region may emit at most BASE + PER_OP * (its op count) scalar statements: movement
# ops are index maps, so one op read at k indices costs k statements, and chains of
# shifted reads grow exponentially unless fusion materializes them in between
STATEMENT_BUDGET_BASE = 64
STATEMENT_BUDGET_PER_OP = 12


class LoweringError(Exception):
    """The region cannot be one kernel (the fusion pass then splits it)."""


# ---------------------------------------------------------------------------
# index expressions: a tiny AST rendered by each backend
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class IndexExpr:
    """kind: 'var' (loop variable name), 'size' (size parameter name), 'const' (int),
    'scalar' (an int scalar statement's name), 'add', 'mul', 'floordiv', 'mod'
    (args: two exprs), 'clamp' (x, lo, hi), 'wrap' (x, n: x + n where x < 0)."""

    kind: str
    args: tuple = ()

    def __str__(self) -> str:
        return render_index(self, min_fn="min", max_fn="max", where=None)


def var(name): return IndexExpr("var", (name,))
def size_ref(name): return IndexExpr("size", (name,))
def const(value): return IndexExpr("const", (int(value),))
def scalar_ref(name): return IndexExpr("scalar", (name,))


def add(a, b):
    if a.kind == "const" and a.args[0] == 0:
        return b
    if b.kind == "const" and b.args[0] == 0:
        return a
    if a.kind == "const" and b.kind == "const":
        return const(a.args[0] + b.args[0])
    return IndexExpr("add", (a, b))


def mul(a, b):
    for x, y in ((a, b), (b, a)):
        if x.kind == "const" and x.args[0] == 1:
            return y
        if x.kind == "const" and x.args[0] == 0:
            return const(0)
    if a.kind == "const" and b.kind == "const":
        return const(a.args[0] * b.args[0])
    return IndexExpr("mul", (a, b))


def floordiv(a, b):
    if b.kind == "const" and b.args[0] == 1:
        return a
    return IndexExpr("floordiv", (a, b))


def mod(a, b):
    if b.kind == "const" and b.args[0] == 1:
        return const(0)
    return IndexExpr("mod", (a, b))


def index_vars(expr) -> set:
    """Loop variable names an index expression depends on."""
    if expr.kind == "var":
        return {expr.args[0]}
    if expr.kind in ("size", "const", "scalar"):
        return set()
    result = set()
    for a in expr.args:
        result |= index_vars(a)
    return result


def render_index(expr, *, min_fn: str, max_fn: str, where) -> str:
    """Python-syntax rendering shared by the backends (they differ in min/max/where)."""
    def r(e):
        return render_index(e, min_fn=min_fn, max_fn=max_fn, where=where)
    k, a = expr.kind, expr.args
    if k in ("var", "size", "scalar"):
        return a[0]
    if k == "const":
        return str(a[0])
    if k == "add":
        return f"({r(a[0])} + {r(a[1])})"
    if k == "mul":
        return f"({r(a[0])} * {r(a[1])})"
    if k == "floordiv":
        return f"({r(a[0])} // {r(a[1])})"
    if k == "mod":
        return f"({r(a[0])} % {r(a[1])})"
    if k == "clamp":
        return f"{min_fn}({max_fn}({r(a[0])}, {r(a[1])}), {r(a[2])})"
    if k == "wrap":
        x, n = r(a[0]), r(a[1])
        if where is None:
            return f"({x} + {n} if {x} < 0 else {x})"
        return f"{where}({x} < 0, {x} + {n}, {x})"
    raise ValueError(k)


# ---------------------------------------------------------------------------
# statements and the loop nest
# ---------------------------------------------------------------------------

@dataclass
class Load:
    dst: str
    buffer: str
    index: tuple
    dtype: np.dtype


@dataclass
class Compute:
    """dst = op(args): args are cast to `loop_dtypes`, the result to `dtype`."""
    dst: str
    op: object              # OpSpec (elementwise)
    args: tuple
    arg_dtypes: tuple       # dtypes of the argument scalars as computed
    loop_dtypes: tuple      # dtypes NumPy's loop computes in
    dtype: np.dtype         # result dtype
    attrs: dict = field(default_factory=dict)


@dataclass
class Constant:
    dst: str
    value: object
    dtype: np.dtype


@dataclass
class IndexValue:
    """dst = the integer value of an index expression, as `dtype` (iota, concat tests)."""
    dst: str
    index: IndexExpr
    dtype: np.dtype


@dataclass
class BoundsCheck:
    """Raise IndexError (where the backend can) unless 0 <= index < size."""
    index: IndexExpr
    size: IndexExpr
    what: str


@dataclass
class Store:
    buffer: str
    index: tuple
    src: str
    dtype: np.dtype


@dataclass
class Reduction:
    """acc = kind-reduce(src over the inner dims); `position` is the linear inner
    index (for argmax/argmin); the result is the scalar named `acc` of `dtype`."""
    acc: str
    kind: str               # reduce_sum, reduce_max, ..., argmax
    src: str
    src_dtype: np.dtype
    dtype: np.dtype
    identity: object
    position: IndexExpr | None = None
    partner: str | None = None   # second accumulator of the two-result kinds (online.py)


@dataclass
class Phase:
    reductions: list = field(default_factory=list)
    body: list = field(default_factory=list)


@dataclass
class Buffer:
    name: str
    dtype: np.dtype
    shape: tuple            # shape in this trace (rank and broadcast dims are structural)


@dataclass
class Matmul:
    """The region's leading matmul: `result` = a @ b, evaluated before the epilogue."""
    a: str
    b: str
    result: str
    dtype: np.dtype
    batch_rank: int


@dataclass
class LoopNest:
    name: str
    inputs: list            # Buffers, one per region input
    outputs: list           # Buffers, one per region output
    domain: tuple           # sizes of D in this trace
    domain_sizes: tuple     # IndexExpr (size or const) per dim of D
    inner_axes: tuple       # dims of D looped inside (reduced); () for pointwise
    sizes: dict             # size parameter name -> value in this trace
    segments: list          # list of statement lists (len = len(phases) + 1)
    phases: list
    epilogue: list
    matmul: Matmul | None = None
    preamble: list = field(default_factory=list)   # loop-invariant statements, run once

    @property
    def outer_axes(self) -> tuple:
        return tuple(d for d in range(len(self.domain)) if d not in self.inner_axes)


# ---------------------------------------------------------------------------
# lowering
# ---------------------------------------------------------------------------

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
        self.acc_of: dict = {}          # reduction result Value -> (acc name, phase)
        self.emitted = 0
        self.budget = STATEMENT_BUDGET_BASE + STATEMENT_BUDGET_PER_OP * len(region.nodes)

    # -- names ----------------------------------------------------------------
    def size(self, n: int) -> IndexExpr:
        if n == 1:
            return const(1)
        if n not in self.size_names:
            self.size_names[n] = f"n{len(self.size_names)}"
        return size_ref(self.size_names[n])

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
        matmuls = [n for n in nodes if n.op.group is OpGroup.MATMUL]
        reductions = [n for n in nodes if n.op.group is OpGroup.REDUCTION]
        self.input_names = {v: f"in{i}" for i, v in enumerate(region.inputs)}
        if matmuls:
            mm = matmuls[0]
            if len(matmuls) > 1 or nodes[0] is not mm or reductions:
                raise LoweringError("a matmul region holds one leading matmul and its elementwise epilogue")
            if any(v not in self.input_names for v in mm.inputs):
                raise LoweringError("matmul operands must be region inputs")
            domain, inner = mm.output.shape, ()
            self.matmul = Matmul(self.input_names[mm.inputs[0]], self.input_names[mm.inputs[1]],
                                 "mm", mm.output.dtype, len(mm.output.shape) - 2)
            self.matmul_value = mm.output
        elif reductions:
            first = reductions[0]
            domain, inner = first.inputs[0].shape, first.attrs["axes"]
            for node in reductions[1:]:
                if node.inputs[0].shape != domain or node.attrs["axes"] != inner:
                    raise LoweringError("reductions of one kernel must reduce the same axes of the same shape")
            if not inner:
                raise LoweringError("reduction over no axes")
            if any(n.op.name.startswith("arg") for n in reductions) and len(inner) != 1:
                raise LoweringError("argmax/argmin reduce one axis")
        else:
            shapes = {v.shape for v in region.outputs}
            if len(shapes) != 1:
                raise LoweringError(f"pointwise kernel outputs of different shapes {sorted(shapes)}")
            domain, inner = shapes.pop(), ()
        self.domain, self.inner = tuple(domain), tuple(inner)
        self.domain_sizes = tuple(self.size(n) for n in self.domain)
        self.full_index = tuple(var(f"i{d}") for d in range(len(self.domain)))
        self.inner_vars = {f"i{d}" for d in self.inner}
        self.phases: list = []
        self.segments: list = [[]]
        self.epilogue: list = []
        self.block, self.scope = self.epilogue, 0
        self.preamble: list = []
        for node in reductions:
            self.lower_reduction(node)
        self.block, self.scope = self.epilogue, 0
        outputs = []
        for i, value in enumerate(region.outputs):
            name = f"out{i}"
            outputs.append(Buffer(name, value.dtype, value.shape))
            if self.inner and value.shape in (self._reduced(True), self._reduced(False)):
                index = self._result_index(value.shape)
            elif value.shape == self.domain:
                index = self.full_index
            else:
                raise LoweringError(f"output of shape {value.shape} does not fit domain {self.domain}")
            src = self.at(value, index)
            store = Store(name, index, src, value.dtype)
            if index_vars_of(index) & self.inner_vars:
                self.epilogue.append(store)
            else:
                self.segments[-1].append(store)
        inputs = [Buffer(self.input_names[v], v.dtype, v.shape) for v in region.inputs]
        if self.matmul:
            inputs.append(Buffer("mm", self.matmul.dtype, self.domain))
        return LoopNest(region.name, inputs, outputs, self.domain, self.domain_sizes, self.inner,
                        {name: n for n, name in self.size_names.items()}, self.segments, self.phases,
                        self.epilogue, self.matmul, self.preamble)

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

    def lower_reduction(self, node):
        """Emit the reduction's body into a new block, then place it in the earliest
        phase after every accumulator it reads (reductions of one phase share a loop)."""
        value, out = node.inputs[0], node.output
        self.block = body = []
        self.scope = self.fresh("scope")
        src = self.at(value, self.full_index)
        phase_index = self.seg[src]
        if phase_index == len(self.phases):
            self.phases.append(Phase())
            self.segments.append([])
        phase = self.phases[phase_index]
        phase.body.extend(body)
        acc = self.fresh("acc")
        position = var(f"i{self.inner[0]}") if node.op.name.startswith("arg") else None
        phase.reductions.append(Reduction(acc, node.op.name, src, value.dtype, out.dtype,
                                          reduction_identity(node.op.name), position))
        self.acc_of[out] = acc
        self.vars[acc] = set()
        self.seg[acc] = phase_index + 1

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
            raise LoweringError(f"inlining would emit over {self.budget} statements for "
                                f"{len(self.region.nodes)} ops (recomputation)")
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
        key = (value, repr(index), scope)
        if key not in self.memo:
            self.memo[key] = self._compute(value, index)
        return self.memo[key]

    def _compute(self, value, index):
        if value in self.input_names or value is self.matmul_value:
            buffer = "mm" if value is self.matmul_value else self.input_names[value]
            used, seg = self.expr_deps(index)
            return self.emit(Load(self.fresh(), buffer, index, value.dtype), used, seg)
        node = value.producer
        group = node.op.group
        if group is OpGroup.REDUCTION:
            return self._reduction_result(value, index)
        if group in (OpGroup.UNARY, OpGroup.BINARY, OpGroup.TERNARY, OpGroup.CAST):
            args = [self.at(v, broadcast_index(index, value.shape, v.shape)) for v in node.inputs]
            arg_dtypes = tuple(v.dtype for v in node.inputs)
            if group is OpGroup.CAST:
                loops = arg_dtypes
            elif node.op.name == "where":
                loops = (np.dtype(bool), value.dtype, value.dtype)
            else:
                loops = tuple(loop_dtypes(node.op, [v.type for v in node.inputs]))
            stmt = Compute(self.fresh(), node.op, tuple(args), arg_dtypes, loops, value.dtype, dict(node.attrs))
            return self.emit_on(stmt, args)
        if group is OpGroup.SOURCE:
            if node.op.name == "constant":
                return self.emit(Constant(self.fresh(), node.attrs["value"], value.dtype), set(), 0)
            return self._index_scalar(index[node.attrs["axis"]], value.dtype)
        if group is OpGroup.MOVEMENT:
            return self._movement(node, value, index)
        if group is OpGroup.GATHER:
            return self._gather(node, value, index)
        raise LoweringError(f"{node.op.name} cannot be inside a kernel region")

    def _reduction_result(self, value, index):
        if value not in self.acc_of:
            raise LoweringError("reduction result used before its reduction")
        if repr(tuple(index)) != repr(self._result_index(value.shape)):
            raise LoweringError("a reduction result is read at an index other than its own row")
        return self.acc_of[value]

    def _movement(self, node, value, index):
        name, x, attrs = node.op.name, node.inputs[0], node.attrs
        if name == "broadcast_to":
            return self.at(x, broadcast_index(index, value.shape, x.shape))
        if name == "transpose":
            src = [None] * len(attrs["perm"])
            for k, p in enumerate(attrs["perm"]):
                src[p] = index[k]
            return self.at(x, tuple(src))
        if name == "reshape":
            return self.at(x, self.reshape_index(index, value.shape, x.shape))
        if name == "slice":
            return self.at(x, tuple(add(const(s), mul(const(st), i))
                                    for i, s, st in zip(index, attrs["starts"], attrs["steps"])))
        if name == "pad":
            src, checks = [], []
            for i, (lo, hi), n in zip(index, attrs["widths"], x.shape):
                if lo == 0 and hi == 0:
                    src.append(i)
                    continue
                shifted = add(i, const(-lo))
                src.append(IndexExpr("clamp", (shifted, const(0), self._last(n))))
                checks.append((shifted, n))
            result = self.at(x, tuple(src))
            fill = self.emit(Constant(self.fresh(), attrs["value"], value.dtype), set(), 0)
            for shifted, n in checks:
                result = self._where(self._in_range(shifted, n), result, fill, value.dtype)
            return result
        if name == "concat":
            axis = attrs["axis"]
            offsets, total = [], 0
            for v in node.inputs:
                offsets.append(total)
                total += v.shape[axis]
            here = self._index_scalar(index[axis], np.dtype(np.int64))
            result = None
            for v, off in reversed(list(zip(node.inputs, offsets))):
                shifted = add(index[axis], mul(const(-1), self._extent(off)))
                src = list(index)
                src[axis] = IndexExpr("clamp", (shifted, const(0), self._last(v.shape[axis])))
                piece = self._cast_scalar(self.at(v, tuple(src)), v.dtype, value.dtype)
                if result is None:
                    result = piece
                    continue
                end = self._index_scalar(add(self._extent(off), self.size(v.shape[axis])), np.dtype(np.int64))
                cond = self._compute_op("lt", [here, end], np.dtype(bool))
                result = self._where(cond, piece, result, value.dtype)
            return result
        raise LoweringError(f"movement op {name}")

    def _extent(self, n):
        return const(0) if n == 0 else self.size(n)

    def _last(self, n):
        return add(self.size(n), const(-1)) if n != 1 else const(0)

    def _gather(self, node, value, index):
        x, idx = node.inputs
        axis = node.attrs["axis"]
        if node.op.name == "take":
            k = idx.type.rank
            position = self._checked_index(self.at(idx, index[axis:axis + k]), idx.dtype, x.shape[axis])
            return self.at(x, index[:axis] + (position,) + index[axis + k:])
        j = self.at(idx, broadcast_index(index, value.shape, idx.shape, keep_axis=axis))
        position = self._checked_index(j, idx.dtype, x.shape[axis])
        src = list(broadcast_index(index, value.shape, x.shape, keep_axis=axis))
        src[axis] = position
        return self.at(x, tuple(src))

    def _checked_index(self, scalar, dtype, n):
        j = self._cast_scalar(scalar, dtype, np.dtype(np.int64))
        wrapped = IndexExpr("wrap", (scalar_ref(j), self.size(n)))
        check = BoundsCheck(wrapped, self.size(n), "index")
        (self.block if self.vars[j] & self.inner_vars else self.segments[self.seg[j]]).append(check)
        return wrapped

    # -- small statement helpers ------------------------------------------------
    def _index_scalar(self, expr, dtype):
        used, seg = self.expr_deps([expr])
        return self.emit(IndexValue(self.fresh(), expr, dtype), used, seg)

    def _compute_op(self, op_name, args, dtype):
        from .ops import OPS
        op = OPS[op_name]
        arg_dtypes = tuple(np.dtype(np.int64) if op_name in ("lt", "ge") else np.dtype(bool) for _ in args)
        loops = tuple(loop_dtypes(op, [TensorType((), d) for d in arg_dtypes]))
        return self.emit_on(Compute(self.fresh(), op, tuple(args), arg_dtypes, loops, dtype), args)

    def _cast_scalar(self, name, src, dst_dtype):
        if src == dst_dtype:
            return name
        from .ops import OPS
        stmt = Compute(self.fresh(), OPS["cast"], (name,), (src,), (src,), dst_dtype, {"dtype": dst_dtype})
        return self.emit_on(stmt, [name])

    def _where(self, cond, a, b, dtype):
        from .ops import OPS
        dtypes = (np.dtype(bool), dtype, dtype)
        return self.emit_on(Compute(self.fresh(), OPS["where"], (cond, a, b), dtypes, dtypes, dtype),
                            [cond, a, b])

    def _in_range(self, expr, n):
        here = self._index_scalar(expr, np.dtype(np.int64))
        zero = self._index_scalar(const(0), np.dtype(np.int64))
        limit = self._index_scalar(self.size(n), np.dtype(np.int64))
        ge = self._compute_op("ge", [here, zero], np.dtype(bool))
        lt = self._compute_op("lt", [here, limit], np.dtype(bool))
        return self._compute_op("logical_and", [ge, lt], np.dtype(bool))

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
            for d in reversed(in_dims):
                n = in_shape[d]
                if n == 1:
                    parts.append(const(0))
                else:
                    parts.append(mod(linear, self.size(n)))
                    linear = floordiv(linear, self.size(n))
            result.extend(reversed(parts))
        return tuple(result)


def index_vars_of(index) -> set:
    result = set()
    for e in index:
        result |= index_vars(e)
    return result


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
    ride along), so index maps divide and take remainders only where dims merge."""
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
    lowerer = _Lowerer(region)
    lowerer.scalar_vars = {}
    lowerer.scalar_segment = {}
    return lowerer.lower()
