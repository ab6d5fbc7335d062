"""The loop nest: what one kernel computes, as loops over statements (backend-neutral).

This is the contract between fusion and code generation. ``ir/loopnest.py`` lowers a
kernel region (a Graph) to a ``LoopNest``; ``ir/accumulate.py`` then turns its
reductions and scans into plain accumulator statements; ``codegen/render.py`` renders
the result for a backend dialect. ``ir/nest_text.py`` prints it (``tracejit dump``).

Shape of a nest. The iteration *domain* is one shape D with loop variables
``i0..i{r-1}``. *Outer* dims are iterated independently (in parallel); *inner* dims
(the reduced or scanned axes) are looped inside each outer point. Statements sit in
blocks: ``preamble`` (loop-invariant, once per launch), ``segments[k]`` (once per outer
point, after reduction phase k-1), ``phases[k].body`` (per inner point of phase k) and
``epilogue`` (per inner point after the last phase; when the last phase is a scan, the
epilogue runs inside that phase's loop, after the scan's update, so it can read the
running prefix). A region without inner dims uses ``segments[0]`` only.

Sizes are not literals: every extent other than 1 is a named size parameter
(``sizes`` maps name -> value for this trace), so one generated kernel serves every
shape with the same structure.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


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


def index_vars_of(index) -> set:
    result = set()
    for e in index:
        result |= index_vars(e)
    return result


def index_names(expr, kind: str) -> set:
    """Names of `kind` ('size' or 'scalar') an index expression refers to."""
    if expr.kind == kind:
        return {expr.args[0]}
    if expr.kind in ("var", "size", "const", "scalar"):
        return set()
    result = set()
    for a in expr.args:
        result |= index_names(a, kind)
    return result


def render_index(expr, *, min_fn: str, max_fn: str, where, ref=None) -> str:
    """Python-syntax rendering shared by the backends (they differ in min/max/where);
    `ref` maps the names of scalar statements to the names that hold them."""
    def r(e):
        return render_index(e, min_fn=min_fn, max_fn=max_fn, where=where, ref=ref)
    k, a = expr.kind, expr.args
    if k == "scalar" and ref is not None:
        return ref(a[0])
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
# statements
# ---------------------------------------------------------------------------

@dataclass
class Load:
    dst: str
    buffer: str
    index: tuple
    dtype: np.dtype


@dataclass
class Compute:
    """dst = op(args): args are converted to `loop_dtypes`, the result to `dtype`."""
    dst: str
    op: object              # OpSpec (elementwise)
    args: tuple
    arg_dtypes: tuple       # dtypes of the argument scalars as computed
    loop_dtypes: tuple      # dtypes NumPy's loop computes in
    dtype: np.dtype         # result dtype
    attrs: dict = field(default_factory=dict)


@dataclass
class Accumulate(Compute):
    """``dst = op(dst, ...)``: an update of a loop-carried accumulator. `reassociable`:
    only the final value is read (a reduction), so a backend may reorder the combines
    (vectorized float sums); a scan's running values are read and must stay in order."""
    reassociable: bool = False


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
class ValueCheck:
    """Raise `error` (a builtin exception's name) with `message` where the bool scalar
    `src` is false: an error NumPy raises for some element values (int ** negative)."""
    src: str
    error: str
    message: str


@dataclass
class Store:
    buffer: str
    index: tuple
    src: str
    dtype: np.dtype


@dataclass
class AccInit:
    """dst = `value` before a loop that accumulates into it. `lanes`: one value per lane
    of the inner block (block backends), else one scalar."""
    dst: str
    value: object
    dtype: np.dtype
    lanes: bool = False


@dataclass
class MaskFill:
    """dst = src on the lanes inside the domain, `fill` on the lanes past its end (block
    backends: the last block of a row is partly outside it; scalar backends: dst = src)."""
    dst: str
    src: str
    fill: object
    dtype: np.dtype


@dataclass
class LaneReduce:
    """dsts = the lane values `srcs` combined into one (per outer point) by `combine`:
    an elementwise op name, or ``arg_gt``/``arg_lt`` for (value, index) pairs."""
    dsts: tuple
    srcs: tuple
    combine: str
    dtypes: tuple


@dataclass
class LaneScan:
    """dst = inclusive prefix combine of the lane values `src` along the inner block."""
    dst: str
    src: str
    combine: str
    dtype: np.dtype


# ---------------------------------------------------------------------------
# reductions, scans and the nest
# ---------------------------------------------------------------------------

@dataclass
class Reduction:
    """acc = kind-reduce(src over the inner dims); `position` is the linear inner index
    (argmax/argmin); the result is the scalar named `acc` of `dtype`, accumulated in
    `acc_dtype` (default: `dtype`; the source's dtype for argmax/argmin)."""
    acc: str
    kind: str               # op name (reduce_sum, argmax, ...) or an online kind (online.py)
    src: str
    src_dtype: np.dtype
    dtype: np.dtype
    position: IndexExpr | None = None
    partner: str | None = None   # second result of the two-result online kinds
    acc_dtype: np.dtype | None = None


@dataclass
class Scan:
    """acc = inclusive kind-prefix of src along the (single) inner dim, per inner point."""
    acc: str
    kind: str               # op name: cumsum, cumprod
    src: str
    src_dtype: np.dtype
    dtype: np.dtype


@dataclass
class Phase:
    """One loop over the inner dims. Before accumulator lowering it holds `reductions`
    or (`scan` phases) `scans`; after it, `init` (before the loop), `body` and `final`
    (after it). A scan phase is always the last one."""
    reductions: list = field(default_factory=list)
    body: list = field(default_factory=list)
    scans: list = field(default_factory=list)
    init: list = field(default_factory=list)
    final: list = field(default_factory=list)
    scan: bool = False


@dataclass
class Buffer:
    name: str
    dtype: np.dtype
    shape: tuple            # shape in this trace (rank and broadcast dims are structural)


@dataclass
class Matmul:
    """The region's leading matmul: `result` = a @ b, evaluated before the epilogue.
    `a_zero_above`: c when each row of a is 0 past column row + c or holds a NaN at or
    before it (``passes/causal_weights.py``), else None."""
    a: str
    b: str
    result: str
    dtype: np.dtype
    batch_rank: int
    a_zero_above: int | None = None


@dataclass
class LoopNest:
    name: str
    inputs: list            # Buffers, one per region input
    outputs: list           # Buffers, one per region output
    domain: tuple           # sizes of D in this trace
    domain_sizes: tuple     # IndexExpr (size or const) per dim of D
    inner_axes: tuple       # dims of D looped inside (reduced or scanned); () for pointwise
    sizes: dict             # size parameter name -> value in this trace
    segments: list          # list of statement lists (len = len(phases) + 1)
    phases: list
    epilogue: list
    matmul: Matmul | None = None
    preamble: list = field(default_factory=list)   # loop-invariant statements, run once

    @property
    def outer_axes(self) -> tuple:
        return tuple(d for d in range(len(self.domain)) if d not in self.inner_axes)

    @property
    def scans_last(self) -> bool:
        """The last phase is a scan: the epilogue runs inside its loop."""
        return bool(self.phases) and self.phases[-1].scan

    def blocks(self) -> list:
        """Every statement list of the nest, in rendering order."""
        result = [self.preamble, self.segments[0]]
        for k, phase in enumerate(self.phases):
            result += [phase.init, phase.body, phase.final, self.segments[k + 1]]
        result.append(self.epilogue)
        return result

    def statements(self):
        for block in self.blocks():
            yield from block
