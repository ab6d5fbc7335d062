"""The Triton dialect: the source of one ``@triton.jit`` kernel for a LoopNest.

Three kernel kinds share the renderer (``render.py``) and differ only in how the
domain maps onto programs and lanes:

- *pointwise*: one program per BLOCK lanes of the flattened domain. ``IDX64``
  (constexpr) picks int64 index math, needed only when an offset may reach 2**31;
  ``CONTIG`` addresses the buffers read at the identity index by the lane offset
  itself when the launcher found them C-contiguous;
- *reduction* (rows): one program per outer point; ``SINGLE_PASS`` (constexpr: the row
  fits one RBLOCK) keeps the row in registers, read from memory once; otherwise each
  phase and the epilogue loop over the row in RBLOCK chunks, with dependent
  reductions merged into one online loop (``ir/online.py``);
- *matmul*: BLOCK_M x BLOCK_N tiles accumulated by ``tl.dot`` over K, then the
  epilogue on the tile.

Argument order (``KernelSpec.arg_names``): pointers of inputs then outputs (then
``err_ptr`` when gathers check their indices), the size parameters the code uses,
host-computed extents (``numel`` | ``R`` | ``M, N, K``), the element strides the code
uses (``in0_s0``, ...), then the constexpr block sizes.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import numpy as np

from ..ir.accumulate import bool_accumulators_as_int8, lower_accumulators, widen_float16_sums
from ..ir.nest import Load
from ..ir.online import merge_online_phases
from ..ir.ops import OPS
from .identity import normalize_region_text
from .render import Dialect, Renderer, used_names
from .triton_prelude import prelude_for

TL_DTYPES = {
    np.dtype("bool"): "tl.int1", np.dtype("int8"): "tl.int8", np.dtype("int16"): "tl.int16",
    np.dtype("int32"): "tl.int32", np.dtype("int64"): "tl.int64", np.dtype("uint8"): "tl.uint8",
    np.dtype("uint16"): "tl.uint16", np.dtype("uint32"): "tl.uint32", np.dtype("uint64"): "tl.uint64",
    np.dtype("float16"): "tl.float16", np.dtype("float32"): "tl.float32",
    np.dtype("float64"): "tl.float64",
}

# lowering steps per row-kernel variant, in order
SINGLE_PASS_STEPS = [
    ("widen_float16_sums", widen_float16_sums),
    ("bool_accumulators_as_int8", bool_accumulators_as_int8),
    ("accumulators", lambda nest: lower_accumulators(nest, lanes=True, looped=False)),
]
LOOPED_STEPS = [
    ("merge_online_phases", merge_online_phases),
    ("widen_float16_sums", widen_float16_sums),
    ("bool_accumulators_as_int8", bool_accumulators_as_int8),
    ("accumulators", lambda nest: lower_accumulators(nest, lanes=True, looped=True)),
]
POINTWISE_STEPS: list = []

# matmul precisions that feed tl.dot 16-bit inputs ("ieee" and "tf32" are input_precision)
# (bf16 is not offered: Triton's interpreter cannot run it, so CI could not test it)
LOW_PRECISION_INPUTS = {"fp16": "tl.float16"}

_PREDICATES = {"eq", "ne", "lt", "le", "gt", "ge", "logical_and", "logical_or", "logical_xor",
               "logical_not", "isnan", "isinf", "isfinite"}


def tl_dtype(dtype) -> str:
    dtype = np.dtype(dtype)
    try:
        return TL_DTYPES[dtype]
    except KeyError:
        raise NotImplementedError(f"Triton backend: dtype {dtype} is not supported") from None


def literal(value, dtype) -> str:
    """A Python expression for a constant that Triton's code generator accepts."""
    dtype = np.dtype(dtype)
    if dtype.kind == "b":
        return "True" if bool(value) else "False"
    if dtype.kind in "iu":
        return str(int(value))
    value = float(value)
    if math.isnan(value):
        return '-float("nan")' if math.copysign(1.0, value) < 0 else 'float("nan")'
    if math.isinf(value):
        return 'float("inf")' if value > 0 else '-float("inf")'
    return repr(value)


def scalar_const(value, dtype) -> str:
    return f"tl.full([], {literal(value, dtype)}, {tl_dtype(dtype)})"


def short(dtype) -> str:
    dtype = np.dtype(dtype)
    return "b" if dtype.kind == "b" else f"{dtype.kind}{dtype.itemsize * 8}"


@dataclass
class KernelSpec:
    """What the launcher needs to know about a generated kernel's arguments."""
    kind: str                   # "pointwise" | "reduction" | "matmul"
    fn_name: str
    inputs: list                # Buffers passed (no "mm")
    outputs: list
    size_names: list            # size parameters the code uses, in order
    extents: list               # host-computed extents, in argument order
    constexprs: list            # block-size names
    strides: list = field(default_factory=list)   # element strides the code uses
    matmul_dtype: object = None
    notes: dict = field(default_factory=dict)
    # the errors the kernel can report through its `err_ptr` flag: the flag holds
    # 1 + the index of the (exception name, message) it raised (the largest one wins)
    errors: list = field(default_factory=list)

    @property
    def checks_indices(self) -> bool:
        """The kernel takes an error flag (`err_ptr`)."""
        return bool(self.errors)

    @property
    def arg_names(self) -> list:
        names = [f"{b.name}_ptr" for b in self.inputs + self.outputs]
        if self.checks_indices:
            names.append("err_ptr")
        return names + list(self.size_names) + list(self.extents) + list(self.strides) + list(self.constexprs)


def kernel_identifier(name: str) -> str:
    ident = re.sub(r"\W", "_", name)
    return ident if ident and not ident[0].isdigit() else f"k_{ident}"


def _is_name(text: str) -> bool:
    return text.isidentifier()


def natural_dtype(op_name, loop_dtypes, dtype):
    """The dtype Triton gives an op's template expression by itself: comparisons are
    int1, casts their target; other ops keep the (common) loop dtype, except float16,
    which the math helpers compute and return in float32. None: unknown."""
    loops = [np.dtype(t) for t in loop_dtypes]
    if op_name == "cast":
        return np.dtype(dtype)
    if op_name in _PREDICATES:
        return np.dtype(bool)
    if op_name == "where":
        return loops[1]
    if all(t == loops[0] for t in loops) and loops[0] != np.float16:
        return loops[0]
    return None


class TritonDialect(Dialect):
    name = "triton"
    lanes = True

    def __init__(self, nest, precision="ieee"):
        self.nest = nest
        self.precision = precision
        self.mask = None            # lane mask of the current context (None: scalars)
        self.flat = set()           # buffers addressed by `offs` at the identity index
        self.bounds: dict = {}      # rendered gather index -> name of its in-range flag
        self.combines: dict = {}    # helper name -> source of a generated combine function
        self.mm_value = None        # expression of the matmul tile (matmul kernels)
        self.errors: list = []      # (exception name, message) per error code - 1
        self.rows_ready = False     # the single-pass row block is set up
        self.looped = False         # row phases loop over RBLOCK chunks (not one block)

    # -- values --------------------------------------------------------------------
    def literal(self, value, dtype) -> str:
        return literal(value, dtype)

    def constant(self, r, stmt) -> str:
        return scalar_const(stmt.value, stmt.dtype)

    def dtype_name(self, dtype) -> str:
        return tl_dtype(dtype)

    def compute_dtype(self, dtype):
        """float16 ops compute in float32 and round the result, as NumPy's float16 loops."""
        dtype = np.dtype(dtype)
        return np.dtype(np.float32) if dtype == np.float16 else dtype

    def operand(self, expr, have, loop) -> str:
        """Converted to the loop dtype (a weak 0.1 becomes the float16 nearest to it),
        then to the dtype the op computes in."""
        have, loop, target = np.dtype(have), np.dtype(loop), self.compute_dtype(loop)
        if have != loop:
            expr = self.convert(expr, have, loop)
        return expr if loop == target else self.convert(expr, loop, target)

    def convert(self, expr, src, dst) -> str:
        value = expr if _is_name(expr) else f"({expr})"
        dst = np.dtype(dst)
        if src is not None and np.dtype(src).kind == "f" and dst.kind == "u" and dst.itemsize < 8:
            # through int64: a GPU's float -> unsigned conversion of a negative value is
            # undefined, NumPy's (and C's through a signed integer) wraps around
            return f"{value}.to(tl.int64).to({tl_dtype(dst)})"
        return f"{value}.to({tl_dtype(dst)})"

    def natural_dtype(self, stmt, template):
        return natural_dtype(stmt.op.name, stmt.loop_dtypes, stmt.dtype)

    def index(self, r, expr) -> str:
        from ..ir.nest import render_index
        return render_index(expr, min_fn="tl.minimum", max_fn="tl.maximum", where="tl.where", ref=r.ref)

    def special(self, r, stmt, args):
        """Float x ** n for a constant integer n in {2, 3, 4} as products instead of the
        general exp2/log2 form (GELU's x ** 3 would cost more than its memory traffic).
        float32: the square is exact-rounded, higher powers add the square's rounding
        error back with an FMA (nearly always correctly rounded, like the float64 pow);
        float64: plain products; float16: float32 products. Casts go through `convert`."""
        if stmt.op.name == "cast":
            return self.convert(args[0], stmt.arg_dtypes[0], stmt.dtype)
        if stmt.op.name != "pow" or np.dtype(stmt.loop_dtypes[0]).kind != "f":
            return None
        n = r.constants.get(stmt.args[1])
        if n is None or float(n) not in (2.0, 3.0, 4.0):
            return None
        n = float(n)
        loop = np.dtype(stmt.loop_dtypes[0])
        work = np.dtype(np.float64) if loop == np.float64 else np.dtype(np.float32)
        x = r.ref(stmt.args[0])
        if np.dtype(stmt.arg_dtypes[0]) != work:
            x = self.convert(x, None, work)
        if n == 2.0 or work == np.float64:
            expr = {2.0: f"{x} * {x}", 3.0: f"{x} * {x} * {x}", 4.0: f"({x} * {x}) * ({x} * {x})"}[n]
        else:
            sq = f"({x} * {x})"
            err = f"tl.math.fma({x}, {x}, -{sq})"          # x*x - fl(x*x), exactly
            fused, plain = ((f"tl.math.fma({sq}, {x}, {err} * {x})", f"{sq} * {x}") if n == 3.0 else
                            (f"tl.math.fma({sq}, {sq}, 2.0 * {sq} * {err})", f"{sq} * {sq}"))
            # an infinite square has no finite error term: the plain product is exact there
            expr = f'tl.where(tl.abs({sq}) < float("inf"), {fused}, {plain})'
        if work == np.dtype(stmt.dtype):
            return expr
        return self.convert(expr, work, stmt.dtype)

    # -- memory --------------------------------------------------------------------------
    def is_identity(self, index) -> bool:
        """True for the index (i0, i1, ..., i{rank-1}) of the whole domain."""
        return len(index) == len(self.nest.domain) and all(
            e.kind == "var" and e.args[0] == f"i{d}" for d, e in enumerate(index))

    def offset(self, r, buffer, index) -> tuple:
        """(offset expression, whether it is a block) of element `index` of `buffer`."""
        if buffer in self.flat and self.is_identity(index):
            return "offs", True
        terms, vector = [], False
        for d, e in enumerate(index):
            if e.kind == "const" and e.args[0] == 0:
                continue
            vector |= r.index_is_vector(e)
            terms.append(f"{self.index(r, e)} * {buffer}_s{d}")
        return (" + ".join(terms) if terms else "0"), vector

    def load(self, r, stmt):
        if stmt.buffer == "mm":
            acc = self.matmul_acc_dtype()
            value = self.mm_value if acc == np.dtype(stmt.dtype) else self.convert(self.mm_value, acc, stmt.dtype)
            return value, True
        offset, vector = self.offset(r, stmt.buffer, stmt.index)
        text = " ".join(self.index(r, e) for e in stmt.index)
        guards = [flag for key, flag in self.bounds.items() if key in text]
        lanes = ([self.mask] if vector and self.mask else []) + [g for g in guards if r.is_vector(g)]
        scalars = [g for g in guards if not r.is_vector(g)]
        vector = vector or len(lanes) > 0
        ptr = f"{stmt.buffer}_ptr + {offset}" if offset != "0" else f"{stmt.buffer}_ptr"
        if lanes and scalars:
            # a per-program flag joins the lane mask through tl.where: the interpreter
            # rejects `lanes & flag` of a block and a 0-d value
            mask = f"tl.where({' & '.join(scalars)}, {' & '.join(lanes)}, False)"
        else:
            mask = " & ".join(lanes + scalars)
        if mask:
            return f"tl.load({ptr}, mask={mask}, other=0)", vector
        return f"tl.load({ptr})", vector

    def store(self, r, stmt) -> str:
        offset, vector = self.offset(r, stmt.buffer, stmt.index)
        src = r.ref(stmt.src)
        if r.dtypes.get(src) != np.dtype(stmt.dtype):
            src = self.convert(src, None, stmt.dtype)
        if vector:
            return f"tl.store({stmt.buffer}_ptr + {offset}, {src}, mask={self.mask})"
        if self.mask is None:
            return f"tl.store({stmt.buffer}_ptr + {offset}, {src})"
        return f"tl.store({stmt.buffer}_ptr + {offset} + zero, {src}, mask={self.mask})"

    def index_value(self, r, stmt) -> str:
        text = f"tl.full([], 0, tl.int64) + {self.index(r, stmt.index)}"
        if np.dtype(stmt.dtype) == np.int64:
            return text
        return f"({text}).to({tl_dtype(stmt.dtype)})"

    def bounds_check(self, r, stmt) -> list:
        """An out-of-range gather index is masked (read as 0) and raises the kernel's
        error flag, which the launcher turns into IndexError (as NumPy raises)."""
        flag = f"ok{len(self.bounds) + 1}"
        idx, size = self.index(r, stmt.index), self.index(r, stmt.size)
        self.bounds[idx] = flag
        check = f"{flag} = ({idx} >= 0) & ({idx} < {size})  # {stmt.what} in range"
        vector = r.index_is_vector(stmt.index)
        if vector:
            r.vectors.add(flag)
        code = self.error_code("IndexError", f"{stmt.what} out of bounds")
        return [check, self._raise(flag, code, f"({idx}) * 0" if vector else None)]

    def value_check(self, r, stmt) -> list:
        flag = r.ref(stmt.src)
        code = self.error_code(stmt.error, stmt.message)
        return [self._raise(flag, code, f"{flag}.to(tl.int32) * 0" if r.is_vector(flag) else None)]

    def error_code(self, error, message) -> int:
        if (error, message) not in self.errors:
            self.errors.append((error, message))
        return self.errors.index((error, message)) + 1

    def _raise(self, ok, code, lanes) -> str:
        """Set the error flag to `code` where `ok` is false (`lanes`: a zero offset per
        lane, for a block of flags)."""
        value = f"{code} * (1 - {ok}.to(tl.int32))" if code != 1 else f"1 - {ok}.to(tl.int32)"
        if lanes is None:
            return f"tl.atomic_max(err_ptr, {value})"
        live = f", mask={self.mask}" if self.mask else ""
        return f"tl.atomic_max(err_ptr + {lanes}, {value}{live})"

    # -- accumulators over lanes ----------------------------------------------------------
    def acc_init(self, r, stmt) -> str:
        shape = "[RBLOCK]" if stmt.lanes else "[]"
        return f"tl.full({shape}, {literal(stmt.value, stmt.dtype)}, {tl_dtype(stmt.dtype)})"

    def mask_fill(self, r, stmt):
        return f"tl.where({self.mask}, {r.ref(stmt.src)}, {scalar_const(stmt.fill, stmt.dtype)})"

    def combine_fn(self, op_name, dtype) -> str:
        """The name of a @triton.jit combine function for tl.reduce/tl.associative_scan
        built from the op table's template (generated into the kernel's file)."""
        if op_name.startswith("arg_"):
            return f"_tj_{op_name}_combine"          # (value, index) pairs: in the prelude
        name = f"_tj_{op_name}_{short(dtype)}_combine"
        if name not in self.combines:
            spec = OPS[op_name]
            text = spec.template(self.name, dtype).format("a", "b", t=tl_dtype(dtype))
            if natural_dtype(op_name, (dtype, dtype), dtype) != np.dtype(dtype):
                text = f"({text}).to({tl_dtype(dtype)})"
            self.combines[name] = f"@triton.jit\ndef {name}(a, b):\n    return {text}\n"
        return name

    def lane_reduce(self, r, stmt):
        fn = self.combine_fn(stmt.combine, stmt.dtypes[0])
        srcs = [r.ref(s) for s in stmt.srcs]
        operand = srcs[0] if len(srcs) == 1 else f"({', '.join(srcs)})"
        return f"tl.reduce({operand}, 0, {fn})"

    def lane_scan(self, r, stmt) -> str:
        return f"tl.associative_scan({r.ref(stmt.src)}, 0, {self.combine_fn(stmt.combine, stmt.dtype)})"

    # -- rows ----------------------------------------------------------------------------
    def _row_block(self, r, nest, start: str):
        r.assign("rr", f"{start}tl.arange(0, RBLOCK)", np.int64, True)
        r.assign("rmask", "rr < R", np.bool_, True)
        r.assign("zero", "rr * 0", np.int64, True)
        decompose(r, "rr", nest.inner_axes, nest.domain_sizes, "zero", "rrem")
        self.mask = "rmask"
        r.lane_vars = {f"i{d}" for d in nest.inner_axes}

    def enter_inner(self, r, nest, what):
        if self.looped:
            r.line("r0 = tl.full([], 0, tl.int64)", effect=True)
            r.open("while r0 < R:")
            self._row_block(r, nest, "r0 + ")
        elif not self.rows_ready:
            self._row_block(r, nest, "")
            self.rows_ready = True
        else:
            self.mask = "rmask"
            r.lane_vars = {f"i{d}" for d in nest.inner_axes}

    def leave_inner(self, r, nest):
        if self.looped:
            r.line("r0 += RBLOCK", effect=True)
            r.close()
        self.mask = None
        r.lane_vars = set()

    def matmul_acc_dtype(self):
        dtype = np.dtype(self.nest.matmul.dtype)
        if dtype in (np.dtype(np.float32), np.dtype(np.float16)):
            return np.dtype(np.float32)
        return np.dtype(np.float64) if dtype.kind == "f" else np.dtype(np.int64)


def decompose(r, linear, dims, sizes, zero, rem):
    """i{d} for `dims` (row-major) from the linear index `linear` by div/mod (`rem`
    names the running quotient: distinct per loop level, as the compiler requires
    loop-carried names to keep one type)."""
    real = [d for d in dims if not (sizes[d].kind == "const" and sizes[d].args[0] == 1)]
    for d in dims:
        if d not in real:
            r.assign(f"i{d}", zero)
    if not real:
        return
    if len(real) == 1:
        r.assign(f"i{real[0]}", linear)
        return
    r.assign(rem, linear)
    for d in reversed(real[1:]):
        n = sizes[d].args[0]
        r.line(f"i{d} = {rem} % {n}", (f"i{d}",))
        r.line(f"{rem} = {rem} // {n}", effect=True)
    r.assign(f"i{real[0]}", rem)


def flat_candidates(nest) -> list:
    """Buffers read or written at the identity index (i0, ..., i{n-1}) of the domain:
    when all of them are C-contiguous with the domain's shape (checked at launch), the
    flat lane offset addresses them directly and no div/mod decomposition is needed."""
    probe = TritonDialect(nest)
    names = []
    for stmt in nest.preamble + nest.segments[0]:
        buf = getattr(stmt, "buffer", None)
        if buf is not None and buf not in names and probe.is_identity(stmt.index):
            names.append(buf)
    return names


# --- the three kernel kinds -------------------------------------------------------------

def _pointwise(nest, r, d, spec):
    r.line("pid = tl.program_id(0)", effect=True)
    r.open("if IDX64:")
    r.line("pid = pid.to(tl.int64)", effect=True)
    r.close()
    r.assign("offs", "pid * BLOCK + tl.arange(0, BLOCK)", np.int64, True)
    r.assign("mask", "offs < numel", np.bool_, True)
    r.assign("zero", "offs * 0", np.int64, True)
    dims = list(range(len(nest.domain)))
    decompose(r, "offs", dims, nest.domain_sizes, "zero", "rem")
    r.lane_vars = {f"i{k}" for k in dims}
    d.mask = "mask"
    r.emit(nest.preamble)
    flat = flat_candidates(nest) if len(dims) >= 2 else []
    spec.notes["flat"] = flat
    if not flat:
        r.emit(nest.segments[0])
        return
    for branch, names in (("if CONTIG:", set(flat)), ("else:", set())):
        r.open(branch)
        d.flat = names
        r.emit(nest.segments[0])
        r.close()
    d.flat = set()


def _rows(nest, r, d, spec):
    r.line("pid = tl.program_id(0).to(tl.int64)  # one program per outer point", effect=True)
    decompose(r, "pid", nest.outer_axes, nest.domain_sizes, "0", "prem")
    r.emit(nest.preamble + nest.segments[0])
    for branch, steps, looped in (("if SINGLE_PASS:", SINGLE_PASS_STEPS, False), ("else:", LOOPED_STEPS, True)):
        r.open(branch)
        d.looped, d.rows_ready = looped, False
        variant = nest
        for _, step in steps:
            variant = step(variant)
        r.walk_phases(variant)
        r.close()


def _matmul(nest, r, d, spec):
    mm, rank = nest.matmul, len(nest.domain)
    br = mm.batch_rank
    bufs = {b.name: b for b in nest.inputs}
    a, b = bufs[mm.a], bufs[mm.b]
    dtype = np.dtype(mm.dtype)
    for text in ("pid_m = tl.program_id(0).to(tl.int64)", "pid_n = tl.program_id(1).to(tl.int64)",
                 "pid_b = tl.program_id(2).to(tl.int64)  # flattened batch index",
                 "rm = pid_m * BLOCK_M + tl.arange(0, BLOCK_M)", "rn = pid_n * BLOCK_N + tl.arange(0, BLOCK_N)"):
        r.line(text, effect=True)
    decompose(r, "pid_b", list(range(br)), nest.domain_sizes, "0", "brem")
    for buf, name in ((a, "a"), (b, "b")):
        nb = len(buf.shape) - 2
        terms = [f"i{j + br - nb} * {buf.name}_s{j}" for j in range(nb) if buf.shape[j] != 1]
        r.line(f"{name}_base = {buf.name}_ptr" + "".join(f" + {t}" for t in terms), effect=True)
    ra, rb = len(a.shape), len(b.shape)
    use_dot = dtype in (np.dtype(np.float32), np.dtype(np.float16))
    acc = d.matmul_acc_dtype()
    t_in = tl_dtype(dtype) if use_dot else tl_dtype(acc)
    r.line(f"acc = tl.zeros([BLOCK_M, BLOCK_N], {tl_dtype(acc)})", effect=True)
    # a `for` over range(), not a `while`: Triton software-pipelines only range loops
    r.open("for k0 in range(0, K, BLOCK_K):")
    def conversion(buf):
        return "" if tl_dtype(buf.dtype) == t_in else f".to({t_in})"
    for text in ("rk = k0 + tl.arange(0, BLOCK_K).to(tl.int64)",
                 f"a = tl.load(a_base + rm[:, None] * {a.name}_s{ra - 2} + rk[None, :] * {a.name}_s{ra - 1},",
                 f"            mask=(rm[:, None] < M) & (rk[None, :] < K), other=0){conversion(a)}",
                 f"b = tl.load(b_base + rk[:, None] * {b.name}_s{rb - 2} + rn[None, :] * {b.name}_s{rb - 1},",
                 f"            mask=(rk[:, None] < K) & (rn[None, :] < N), other=0){conversion(b)}"):
        r.line(text, effect=True)
    precision = d.precision
    if use_dot and dtype == np.dtype(np.float32) and precision in LOW_PRECISION_INPUTS:
        # opt-in: float32 operands rounded to 16-bit floats for the tensor cores, float32 sums
        low = LOW_PRECISION_INPUTS[precision]
        r.line(f"acc += tl.dot(a.to({low}), b.to({low}), out_dtype=tl.float32)", effect=True)
    elif use_dot:
        prec = f', input_precision="{precision}"' if dtype == np.dtype(np.float32) else ""
        r.line(f"acc += tl.dot(a, b{prec}, out_dtype=tl.float32)", effect=True)
    else:
        r.comment(f"tl.dot has no {dtype} form: multiply-accumulate over the K block")
        r.line("acc += tl.sum(a[:, :, None] * b[None, :, :], axis=1)", effect=True)
    r.close()
    r.assign("zero", "tl.zeros([BLOCK_M, BLOCK_N], tl.int64)", np.int64, True)
    r.assign(f"i{rank - 2}", "rm[:, None] + zero", np.int64, True)
    r.assign(f"i{rank - 1}", "rn[None, :] + zero", np.int64, True)
    r.assign("mask", f"(i{rank - 2} < M) & (i{rank - 1} < N)", np.bool_, True)
    r.comment(f"epilogue on the {tl_dtype(dtype)} tile")
    # the tile holds the result at (i..., i{rank-2}, i{rank-1}); size-1 dims read at 0 are the same point
    full = tuple("0" if nest.domain[k] == 1 else f"i{k}" for k in range(rank))
    for stmt in nest.preamble + nest.segments[0]:
        if isinstance(stmt, Load) and stmt.buffer == "mm":
            got = tuple("0" if nest.domain[k] == 1 else str(e) for k, e in enumerate(stmt.index))
            if got != full:
                raise NotImplementedError("Triton backend: matmul result read at a moved index")
    r.lane_vars = {f"i{rank - 2}", f"i{rank - 1}"}
    d.mask, d.mm_value = "mask", "acc"
    r.emit(nest.preamble + nest.segments[0])


def generate(nest, region_text: str = "", options=None) -> tuple:
    """(source text, KernelSpec) for `nest`."""
    options = dict(options or {})
    fn_name = kernel_identifier(nest.name)
    inputs = [b for b in nest.inputs if b.name != "mm"]
    if nest.matmul is not None:
        kind, extents, constexprs, build = "matmul", ["M", "N", "K"], ["BLOCK_M", "BLOCK_N", "BLOCK_K"], _matmul
    elif nest.inner_axes:
        kind, extents, constexprs, build = "reduction", ["R"], ["RBLOCK", "SINGLE_PASS"], _rows
    else:
        kind, extents, constexprs, build = "pointwise", ["numel"], ["BLOCK", "IDX64", "CONTIG"], _pointwise
    spec = KernelSpec(kind, fn_name, inputs, list(nest.outputs), [], extents, constexprs)
    if kind == "matmul":
        spec.matmul_dtype = np.dtype(nest.matmul.dtype)
    dialect = TritonDialect(nest, options.get("input_precision", "ieee"))
    r = Renderer(dialect)
    build(nest, r, dialect, spec)
    spec.errors = list(dialect.errors)
    body = r.text(base_depth=1)
    spec.size_names = used_names(body, list(nest.sizes))
    spec.strides = used_names(body, [f"{b.name}_s{k}" for b in inputs + list(nest.outputs)
                                     for k in range(len(b.shape))])
    args = [a if a not in constexprs else f"{a}: tl.constexpr" for a in spec.arg_names]
    kernel = ["@triton.jit", f"def {fn_name}("] + [f"    {a}," for a in args]
    kernel += ["):", f'    """{kind} kernel generated by tracejit from region @{nest.name}."""']
    kernel_text = "\n".join(kernel) + "\n" + body
    combines = "\n\n".join(dialect.combines[name] for name in sorted(dialect.combines))
    header = ["# Generated by tracejit (Triton backend). Do not edit: regenerated from the IR.",
              f"# kernel kind: {kind}"]
    if region_text:
        header.append("#")
        shown = normalize_region_text(region_text.strip("\n"), nest.sizes)
        header += [f"# {line}".rstrip() for line in shown.splitlines()]
    parts = ["\n".join(header), "import triton\nimport triton.language as tl"]
    prelude = prelude_for(combines + "\n" + kernel_text)
    if prelude:
        parts.append(prelude)
    if combines:
        parts.append(combines)
    parts.append(kernel_text)
    return "\n\n\n".join(parts), spec
