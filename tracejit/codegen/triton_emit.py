"""Rendering of LoopNest statements as Triton code (shared by every kernel kind).

Each statement's value is either a *scalar* (one value per program: an outer point of
a reduction, a batch index of a matmul) or a *vector* (a block of lanes: the flattened
pointwise domain, an RBLOCK chunk of a row, a BLOCK_M x BLOCK_N tile). ``Emitter``
tracks which names are vectors so that loads of vector offsets are masked, scalar
loads are not, and stores always address a full block.
Index math takes the type of the loop variables: int64, or int32 where the launcher
proved every offset fits (pointwise ``IDX64=False``), which is cheaper on a GPU.

Two optimisations for straight-line code (one-pass row kernels, pointwise kernels):
``cache`` (a dict, or None inside loops) reuses an earlier load of the same buffer at the
same offset text instead of reading memory again; ``flat`` (a set of buffer names) makes
loads/stores of those buffers at the identity index ``(i0, ..., i{n-1})`` use the flat
lane offset ``offs`` (valid when the launcher found them C-contiguous over the domain).
"""
from __future__ import annotations

import math

import numpy as np

from ..ir.loopnest import BoundsCheck, Compute, Constant, IndexValue, Load, Store, render_index
from ..ir.ops import template_for

TL_DTYPES = {
    np.dtype("bool"): "tl.int1", np.dtype("int8"): "tl.int8", np.dtype("int16"): "tl.int16",
    np.dtype("int32"): "tl.int32", np.dtype("int64"): "tl.int64", np.dtype("uint8"): "tl.uint8",
    np.dtype("uint16"): "tl.uint16", np.dtype("uint32"): "tl.uint32", np.dtype("uint64"): "tl.uint64",
    np.dtype("float16"): "tl.float16", np.dtype("float32"): "tl.float32",
    np.dtype("float64"): "tl.float64",
}

# ops.py templates that Triton rejects for some dtypes, replaced here
# (tl.sqrt_rn takes fp32 only; _tj_sqrt also handles fp64 and fp16)
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
        return 'float("nan")'
    if math.isinf(value):
        return 'float("inf")' if value > 0 else '-float("inf")'
    return repr(value)


def scalar_const(value, dtype) -> str:
    return f"tl.full([], {literal(value, dtype)}, {tl_dtype(dtype)})"


class Emitter:
    """Turns statements into source lines.

    vector_vars: loop variables that are blocks in this context; `mask`: the lane mask
    of vector loads/stores; `zero`: a block of int64 zeros used to widen scalar
    addresses to a full block for stores.
    """

    def __init__(self, out, vector_vars=(), mm_value=None):
        self.out = out                      # list of lines (shared with the kernel writer)
        self.vector_vars = set(vector_vars)
        self.vector_names: set = set()
        self.bounds: dict = {}              # repr(index expr) -> name of its in-range flag
        self.mm_value = mm_value            # expression of the matmul tile (matmul kernels)
        self.counter = 0
        self.cache = None                   # (buffer, offset, mask) -> loaded name; None: off
        self.flat = set()                   # buffers addressed by `offs` at the identity index
        self.rank = 0                       # domain rank (identity index length)
        self.constants: dict = {}           # name of a Constant statement -> its value

    # -- helpers -----------------------------------------------------------------
    def is_vector(self, expr) -> bool:
        k = expr.kind
        if k == "var":
            return expr.args[0] in self.vector_vars
        if k == "scalar":
            return expr.args[0] in self.vector_names
        if k in ("size", "const"):
            return False
        return any(self.is_vector(a) for a in expr.args)

    def index(self, expr) -> str:
        return render_index(expr, min_fn="tl.minimum", max_fn="tl.maximum", where="tl.where")

    def is_identity(self, index) -> bool:
        """True for the index (i0, i1, ..., i{rank-1}) of the whole domain."""
        return len(index) == self.rank and all(
            e.kind == "var" and e.args[0] == f"i{d}" for d, e in enumerate(index))

    def offset(self, buffer, index) -> tuple:
        """(offset expression, is_vector) of element `index` of `buffer`."""
        if buffer in self.flat and self.is_identity(index):
            return "offs", True
        terms, vector = [], False
        for d, e in enumerate(index):
            if e.kind == "const" and e.args[0] == 0:
                continue
            vector |= self.is_vector(e)
            terms.append(f"{self.index(e)} * {buffer}_s{d}")
        return (" + ".join(terms) if terms else "0"), vector

    def _guard(self, index) -> list:
        """In-range flags of the gather indices that `index` uses."""
        text = repr(index)
        return [flag for key, flag in self.bounds.items() if key in text]

    # -- statements --------------------------------------------------------------
    def emit(self, stmt, mask: str, indent: str):
        line = self._render(stmt, mask)
        if line is not None:
            for piece in line.split("\n"):
                self.out.append(indent + piece)

    def _render(self, stmt, mask):
        if isinstance(stmt, Load):
            if stmt.buffer == "mm":
                self.vector_names.add(stmt.dst)
                return f"{stmt.dst} = {self.mm_value}.to({tl_dtype(stmt.dtype)})"
            offset, vector = self.offset(stmt.buffer, stmt.index)
            guards = self._guard(stmt.index)
            conds = ([mask] if vector else []) + guards
            if vector:
                self.vector_names.add(stmt.dst)
            vector = vector or any(g in self.vector_names for g in guards)
            ptr = f"{stmt.buffer}_ptr + {offset}" if offset != "0" else f"{stmt.buffer}_ptr"
            key = (stmt.buffer, offset, tuple(conds))
            if self.cache is not None:
                if key in self.cache:       # already in registers: no second read
                    return f"{stmt.dst} = {self.cache[key]}"
                self.cache[key] = stmt.dst
            if conds:
                return f"{stmt.dst} = tl.load({ptr}, mask={' & '.join(conds)}, other=0)"
            return f"{stmt.dst} = tl.load({ptr})"
        if isinstance(stmt, Constant):
            self.constants[stmt.dst] = stmt.value
            return f"{stmt.dst} = {scalar_const(stmt.value, stmt.dtype)}"
        if isinstance(stmt, IndexValue):
            if self.is_vector(stmt.index):
                self.vector_names.add(stmt.dst)
            return (f"{stmt.dst} = (tl.full([], 0, tl.int64) + {self.index(stmt.index)})"
                    f".to({tl_dtype(stmt.dtype)})")
        if isinstance(stmt, Compute):
            if any(a in self.vector_names for a in stmt.args):
                self.vector_names.add(stmt.dst)
            return f"{stmt.dst} = {self.compute_expr(stmt)}"
        if isinstance(stmt, BoundsCheck):
            # an out-of-range gather index is masked (read as 0) and raises the kernel's
            # error flag, which the launcher turns into IndexError (as NumPy raises)
            self.counter += 1
            flag = f"ok{self.counter}"
            idx, size = self.index(stmt.index), self.index(stmt.size)
            self.bounds[repr(stmt.index)] = flag
            check = f"{flag} = ({idx} >= 0) & ({idx} < {size})  # {stmt.what} in range"
            if self.is_vector(stmt.index):
                self.vector_names.add(flag)
                live = f", mask={mask}" if mask else ""
                raise_flag = f"tl.atomic_max(err_ptr + ({idx}) * 0, 1 - {flag}.to(tl.int32){live})"
            else:
                raise_flag = f"tl.atomic_max(err_ptr, 1 - {flag}.to(tl.int32))"
            return f"{check}\n{raise_flag}"
        if isinstance(stmt, Store):
            offset, vector = self.offset(stmt.buffer, stmt.index)
            if self.cache:                  # a later load of this buffer must read memory
                for key in [k for k in self.cache if k[0] == stmt.buffer]:
                    del self.cache[key]
            if vector:
                return (f"tl.store({stmt.buffer}_ptr + {offset}, "
                        f"{stmt.src}.to({tl_dtype(stmt.dtype)}), mask={mask})")
            if mask is None:
                return f"tl.store({stmt.buffer}_ptr + {offset}, {stmt.src}.to({tl_dtype(stmt.dtype)}))"
            return (f"tl.store({stmt.buffer}_ptr + {offset} + zero, "
                    f"{stmt.src}.to({tl_dtype(stmt.dtype)}), mask={mask})")
        raise NotImplementedError(f"Triton backend: statement {type(stmt).__name__}")

    def small_power(self, stmt):
        """Float x ** n for a constant integer n in {2, 3, 4} as products instead of the
        general exp2/log2 form (GELU's x ** 3 would cost more than its memory traffic).
        float32: the square is exact-rounded, higher powers add the square's rounding
        error back with an FMA (nearly always correctly rounded, like the float64 pow);
        float64: plain products; float16: float32 products. None otherwise."""
        if stmt.op.name != "pow" or np.dtype(stmt.loop_dtypes[0]).kind != "f":
            return None
        value = self.constants.get(stmt.args[1])
        try:
            n = float(value)
        except (TypeError, ValueError):
            return None
        if n not in (2.0, 3.0, 4.0):
            return None
        loop = np.dtype(stmt.loop_dtypes[0])
        work = np.dtype(np.float64) if loop == np.dtype(np.float64) else np.dtype(np.float32)
        x = stmt.args[0]
        if np.dtype(stmt.arg_dtypes[0]) != work:
            x = f"{x}.to({tl_dtype(work)})"
        if n == 2.0 or work == np.dtype(np.float64):
            expr = {2.0: f"{x} * {x}", 3.0: f"{x} * {x} * {x}", 4.0: f"({x} * {x}) * ({x} * {x})"}[n]
        else:
            sq = f"({x} * {x})"
            err = f"tl.math.fma({x}, {x}, -{sq})"          # x*x - fl(x*x), exactly
            fused, plain = ((f"tl.math.fma({sq}, {x}, {err} * {x})", f"{sq} * {x}") if n == 3.0 else
                            (f"tl.math.fma({sq}, {sq}, 2.0 * {sq} * {err})", f"{sq} * {sq}"))
            # an infinite square has no finite error term: the plain product is exact there
            expr = f'tl.where(tl.abs({sq}) < float("inf"), {fused}, {plain})'
        return f"({expr}).to({tl_dtype(loop)}).to({tl_dtype(stmt.dtype)})"

    def compute_expr(self, stmt) -> str:
        op = stmt.op
        power = self.small_power(stmt)
        if power is not None:
            return power
        args = []
        for name, have, loop in zip(stmt.args, stmt.arg_dtypes, stmt.loop_dtypes):
            args.append(name if np.dtype(have) == np.dtype(loop) else f"{name}.to({tl_dtype(loop)})")
        if op.name == "cast":
            t = tl_dtype(stmt.dtype)
        else:
            t = tl_dtype(stmt.loop_dtypes[0] if op.name != "where" else stmt.loop_dtypes[1])
        kind = np.dtype(stmt.loop_dtypes[-1] if op.name == "where" else stmt.loop_dtypes[0]).kind
        template = template_for(op.triton, kind)
        expr = template.format(*args, t=t)
        return f"({expr}).to({tl_dtype(stmt.dtype)})"
