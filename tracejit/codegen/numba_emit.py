"""Python/Numba source text for one ``LoopNest`` (no compiling here).

The generated file reads like hand-written code: a comment with the IR it implements,
``import numpy as np`` / ``import numba``, a prelude of small ``@numba.njit`` helpers
for the ``_tj_*`` names the op templates use, then one ``@numba.njit`` kernel::

    def softmax_k0(start, stop, in0, out0, n0, n1):
        for i0 in range(start, stop):          # first outer axis: split over threads
            acc1 = np.float32(-np.inf)          # phase 0 accumulators
            for i1 in range(n1):                # inner (reduced) axes
                t2 = in0[i0, i1]
                ...
            for i1 in range(n1):                # epilogue
                out0[i0, i1] = t9

Typing discipline (see TOOLCHAIN.md): every constant is typed (``np.float32(0.5)``),
every operand is cast to the op's NumPy loop dtype, and every result whose Numba
type may differ from NumPy's (integer arithmetic widens to int64, helpers are
generic) is wrapped in the result dtype's constructor. Nothing uses fastmath.
"""
from __future__ import annotations

import re

import numpy as np

from ..ir.loopnest import (BoundsCheck, Compute, Constant, IndexValue, Load, Store,
                           render_index)
from ..ir.ops import OPS, OpGroup, template_for
from .identity import normalize_region_text
from .numba_math import VECTOR_MATH, source_version

INDENT = "    "
SUPPORTED_KINDS = "biuf"

# ---------------------------------------------------------------------------
# prelude: one helper per `_tj_*` name used by the Numba templates in ir/ops.py
# ---------------------------------------------------------------------------

def _extremum(name: str, keep: str, nan_wins: bool) -> str:
    """np.maximum/minimum (a NaN operand wins) and np.fmax/fmin (a NaN operand loses)."""
    first, second = ("a", "b") if nan_wins else ("b", "a")
    return f'''
def {name}(a, b):
    """np.{name[4:]}: a NaN operand {"propagates (the first NaN wins)" if nan_wins else "is ignored"}."""
    if a != a:
        return {first}
    if b != b:
        return {second}
    return a if a {keep} b else b
'''


HELPERS = {
    "_tj_maximum": _extremum("_tj_maximum", ">=", True),
    "_tj_minimum": _extremum("_tj_minimum", "<=", True),
    "_tj_fmax": _extremum("_tj_fmax", ">=", False),
    "_tj_fmin": _extremum("_tj_fmin", "<=", False),
    "_tj_sign": '''
def _tj_sign(x):
    """np.sign: -1, 0 or 1 in x's type; NaN stays NaN (the caller casts the result)."""
    if x != x:
        return x
    return (x > 0) - (x < 0)
''',
    "_tj_int_reciprocal": '''
def _tj_int_reciprocal(x):
    """np.reciprocal of an integer: NumPy computes 1.0 / x and truncates (the caller
    casts), so 1 -> 1, -1 -> -1, |x| > 1 -> 0."""
    return 1.0 / x
''',
    "_tj_fpow": '''
def _tj_fpow(a, b):
    """np.power of floats (same dtype in, same dtype out)."""
    return np.power(a, b)
''',
    "_tj_ipow": '''
def _tj_ipow(a, b):
    """np.power of integers: wrap-around by repeated squaring; negative exponents
    raise like NumPy."""
    if b < 0:
        raise ValueError("Integers to negative integer powers are not allowed.")
    result = a - a + 1
    base = a
    while b > 0:
        if b & 1:
            result = result * base
        base = base * base
        b = b >> 1
    return result
''',
}


# helpers defined in numba_math.py (vectorizable math, reductions): imported, not
# pasted, so Numba compiles each once per process; `_tj_<name>` -> numba_math.<name>
IMPORTED = {f"_tj_v{op}_{dt[0]}{dt[-2:]}": fn for (op, dt), fn in VECTOR_MATH.items()}
IMPORTED.update({"_tj_radd": "radd", "_tj_rmul": "rmul",
                 "_tj_rmaximum": "fmaximum", "_tj_rminimum": "fminimum"})


def template_helpers() -> set:
    """Every `_tj_*` name referenced by a Numba template of an op."""
    names = set()
    for spec in OPS.values():
        template = spec.numba
        texts = template.values() if isinstance(template, dict) else [template]
        for text in texts:
            if text:
                names |= set(re.findall(r"_tj_\w+", text))
    return names


def prelude(used: set) -> str:
    """The helper definitions the kernel uses, inlined by Numba at every call site."""
    parts = []
    imported = sorted(name for name in used if name in IMPORTED)
    if imported:
        parts.append(f"# numba_math version {source_version()}\n" + "".join(
            f"from tracejit.codegen.numba_math import {IMPORTED[n]} as {n}\n" for n in imported))
    for name in sorted(used):
        if name in IMPORTED:
            continue
        parts.append('@numba.njit(inline="always", cache=True)' + HELPERS[name].rstrip() + "\n")
    return "\n".join(parts)


# ---------------------------------------------------------------------------
# scalar expressions
# ---------------------------------------------------------------------------

def ctor(dtype) -> str:
    """The NumPy scalar constructor Numba uses for a dtype (`np.float32`)."""
    dtype = np.dtype(dtype)
    return "np.bool_" if dtype == np.bool_ else f"np.{dtype.name}"


def literal(value, dtype) -> str:
    """A constant of exactly `dtype` (untyped Python floats would widen float32 math)."""
    dtype = np.dtype(dtype)
    if dtype.kind == "b":
        return "True" if bool(value) else "False"
    if dtype.kind in "iu":
        return f"{ctor(dtype)}({int(value)})"
    value = float(value)
    if np.isnan(value):
        text = "np.nan"
    elif np.isinf(value):
        text = "np.inf" if value > 0 else "-np.inf"
    else:
        text = repr(value)
    return f"{ctor(dtype)}({text})"


def index_text(index) -> str:
    """`i0, (i1 + 1)` for an index tuple; `()` for a 0-d buffer."""
    if not index:
        return "()"
    return ", ".join(render_index(e, min_fn="min", max_fn="max", where=None) for e in index)


def expr_text(expr) -> str:
    return render_index(expr, min_fn="min", max_fn="max", where=None)


# results of these ops are Python/NumPy bools in Numba already: no wrapping needed
_BOOL_NATIVE = {"eq", "ne", "lt", "le", "gt", "ge", "logical_and", "logical_or", "logical_xor",
                "logical_not", "isnan", "isinf", "isfinite"}


def _special_template(op_name, key_dtype, const_args):
    """A faster template with NumPy's numerics for some (op, loop dtype) pairs, or None:
    exp/expm1/log/tanh -> the vectorizable helpers of numba_math; float32 x**n for a
    constant n in 2..4 -> the product in float64 (exact for n <= 2, one rounding for
    3, 4: what powf gives, without a libm call); float64 x**2 -> x*x (NumPy's own fast
    path for a scalar exponent 2)."""
    name = key_dtype.name
    if (op_name, name) in VECTOR_MATH:
        return f"_tj_v{op_name}_{name[0]}{name[-2:]}({{0}})"
    if op_name == "pow" and key_dtype.kind == "f" and const_args.get(1) is not None:
        n = const_args[1]
        if name == "float32" and n in (2, 3, 4):
            return "{t}(" + " * ".join(["np.float64({0})"] * n) + ")"
        if name == "float64" and n == 2:
            return "({0} * {0})"
    return None


def compute_text(stmt: Compute, used_helpers: set, constants: dict | None = None) -> str:
    """The right-hand side of one elementwise statement (`constants`: name -> value of
    the Constant statements seen so far, for exponent specialisation)."""
    op = stmt.op
    loops = tuple(np.dtype(d) for d in stmt.loop_dtypes)
    dtype = np.dtype(stmt.dtype)
    args = [a if np.dtype(ad) == ld else f"{ctor(ld)}({a})"
            for a, ad, ld in zip(stmt.args, stmt.arg_dtypes, loops)]
    if op.group is OpGroup.CAST:
        key_dtype = dtype
    elif op.name == "where":
        key_dtype = loops[1]
    else:
        key_dtype = loops[0]
    template = template_for(op.numba, key_dtype.kind)
    const_args = {}
    for k, a in enumerate(stmt.args):
        value = (constants or {}).get(a)
        if value is not None and float(value) == int(value):
            const_args[k] = int(value)
    special = _special_template(op.name, key_dtype, const_args)
    if special is not None:
        template = special
    used_helpers |= set(re.findall(r"_tj_\w+", template))
    text = template.format(*args, t=ctor(key_dtype))
    if op.group is OpGroup.CAST or op.name == "where":
        return text
    if dtype.kind == "f" and all(ld == dtype for ld in loops) and "_tj_" not in template:
        return text
    if dtype.kind == "b" and op.name in _BOOL_NATIVE:
        return text
    return f"{ctor(dtype)}({text})"


def statement_lines(stmt, used_helpers: set, constants: dict | None = None) -> list:
    """Source lines (unindented) of one LoopNest statement."""
    if isinstance(stmt, Load):
        return [f"{stmt.dst} = {stmt.buffer}[{index_text(stmt.index)}]"]
    if isinstance(stmt, Compute):
        return [f"{stmt.dst} = {compute_text(stmt, used_helpers, constants)}"]
    if isinstance(stmt, Constant):
        if constants is not None and np.dtype(stmt.dtype).kind in "iuf" and np.isfinite(stmt.value):
            constants[stmt.dst] = stmt.value
        return [f"{stmt.dst} = {literal(stmt.value, stmt.dtype)}"]
    if isinstance(stmt, IndexValue):
        return [f"{stmt.dst} = {ctor(stmt.dtype)}({expr_text(stmt.index)})"]
    if isinstance(stmt, BoundsCheck):
        message = f"{stmt.what} out of bounds"
        return [f"if not (0 <= {expr_text(stmt.index)} < {expr_text(stmt.size)}):",
                f"{INDENT}raise IndexError({message!r})"]
    if isinstance(stmt, Store):
        return [f"{stmt.buffer}[{index_text(stmt.index)}] = {stmt.src}"]
    raise TypeError(f"unknown LoopNest statement {stmt!r}")


# ---------------------------------------------------------------------------
# reductions: accumulator init (per outer point) and update (per inner point)
# ---------------------------------------------------------------------------

def _extreme(dtype, which: str) -> str:
    """The lowest (`which='min'`) or highest value of a dtype, as a typed literal."""
    dtype = np.dtype(dtype)
    if dtype.kind == "b":
        return "False" if which == "min" else "True"
    if dtype.kind == "f":
        return literal(-np.inf if which == "min" else np.inf, dtype)
    info = np.iinfo(dtype)
    return literal(info.min if which == "min" else info.max, dtype)


def _wide_sum(red) -> bool:
    """float32 sums accumulate in float64 (rounded once at the end): a long float32 row
    would otherwise lose accuracy that NumPy's pairwise summation keeps."""
    return red.kind == "reduce_sum" and np.dtype(red.dtype) == np.float32


def reduction_final(red) -> list:
    """Lines after the inner loop that turn the accumulator into the result."""
    if _wide_sum(red):
        return [f"{red.acc} = np.float32({red.acc}_w)"]
    return []


def reduction_init(red) -> list:
    kind, acc, dtype = red.kind, red.acc, np.dtype(red.dtype)
    if _wide_sum(red):
        return [f"{acc}_w = np.float64(0.0)"]
    if kind in ("reduce_sum", "reduce_prod"):
        return [f"{acc} = {literal(0 if kind == 'reduce_sum' else 1, dtype)}"]
    if kind == "reduce_max":
        return [f"{acc} = {_extreme(dtype, 'min')}"]
    if kind == "reduce_min":
        return [f"{acc} = {_extreme(dtype, 'max')}"]
    if kind in ("reduce_any", "reduce_all"):
        return [f"{acc} = {kind == 'reduce_all'}"]
    if kind in ("argmax", "argmin"):
        start = _extreme(red.src_dtype, "min" if kind == "argmax" else "max")
        return [f"{acc} = {literal(0, dtype)}", f"{acc}_v = {start}"]
    raise ValueError(f"unknown reduction {kind}")


def reduction_update(red, used_helpers: set | None = None) -> list:
    """Per-inner-point update. Float sums/products go through the reassociable
    `_tj_radd`/`_tj_rmul` and float max/min through LLVM's NaN-propagating
    maximum/minimum, so the reduction loops vectorize (see numba_math)."""
    used_helpers = set() if used_helpers is None else used_helpers
    kind, acc, dtype = red.kind, red.acc, np.dtype(red.dtype)
    src = red.src
    src_dtype = np.dtype(red.src_dtype)
    if _wide_sum(red):
        used_helpers.add("_tj_radd")
        return [f"{acc}_w = _tj_radd({acc}_w, np.float64({src}))"]
    if kind in ("reduce_sum", "reduce_prod"):
        sym = "+" if kind == "reduce_sum" else "*"
        value = src if src_dtype == dtype else f"{ctor(dtype)}({src})"
        if dtype.kind == "f":
            helper = "_tj_radd" if kind == "reduce_sum" else "_tj_rmul"
            used_helpers.add(helper)
            return [f"{acc} = {helper}({acc}, {value})"]
        return [f"{acc} = {ctor(dtype)}({acc} {sym} {value})"]
    if kind in ("reduce_max", "reduce_min"):
        cmp = ">" if kind == "reduce_max" else "<"
        if dtype.kind == "f" and src_dtype == dtype and dtype.itemsize >= 4:
            helper = "_tj_rmaximum" if kind == "reduce_max" else "_tj_rminimum"
            used_helpers.add(helper)
            return [f"{acc} = {helper}({acc}, {src})"]
        if dtype.kind == "f":   # NaN wins and stays (NumPy semantics)
            return [f"if {src} {cmp} {acc} or {src} != {src}:", f"{INDENT}{acc} = {src}"]
        return [f"if {src} {cmp} {acc}:", f"{INDENT}{acc} = {src}"]
    if kind in ("reduce_any", "reduce_all"):
        test = src if src_dtype.kind == "b" else f"({src} != 0)"
        word = "or" if kind == "reduce_any" else "and"
        return [f"{acc} = {acc} {word} {test}"]
    if kind in ("argmax", "argmin"):
        cmp = ">" if kind == "argmax" else "<"
        cond = f"{src} {cmp} {acc}_v"
        if src_dtype.kind == "f":   # the first NaN wins
            cond += f" or ({src} != {src} and {acc}_v == {acc}_v)"
        return [f"if {cond}:", f"{INDENT}{acc}_v = {src}",
                f"{INDENT}{acc} = {ctor(dtype)}({expr_text(red.position)})"]
    raise ValueError(f"unknown reduction {kind}")


# ---------------------------------------------------------------------------
# the kernel
# ---------------------------------------------------------------------------

def kernel_name(nest) -> str:
    name = re.sub(r"\W", "_", nest.name) or "kernel"
    reserved = name[0].isdigit() or name.startswith("_tj_") or name in ("np", "numba", "start", "stop")
    return f"k_{name}" if reserved else name


def is_plain_matmul(nest) -> bool:
    """The region is only its matmul: the epilogue copies `mm` to out0 unchanged."""
    if nest.matmul is None or len(nest.outputs) != 1 or nest.phases or nest.epilogue:
        return False
    stmts = nest.preamble + [s for seg in nest.segments for s in seg]
    if len(stmts) != 2 or not isinstance(stmts[0], Load) or not isinstance(stmts[1], Store):
        return False
    load, store = stmts
    return (load.buffer == "mm" and store.src == load.dst and repr(load.index) == repr(store.index)
            and np.dtype(nest.outputs[0].dtype) == np.dtype(nest.matmul.dtype))


def _domain_extent(nest, d) -> str:
    return expr_text(nest.domain_sizes[d])


class _Writer:
    def __init__(self):
        self.lines: list = []
        self.depth = 0

    def emit(self, lines):
        for line in lines:
            self.lines.append(INDENT * self.depth + line)

    def open_loop(self, var_name, extent):
        self.emit([f"for {var_name} in range({extent}):"])
        self.depth += 1
        return len(self.lines)

    def close_loop(self, mark):
        if len(self.lines) == mark:
            self.emit(["pass"])
        self.depth -= 1


def kernel_body(nest) -> tuple:
    """(source text of the kernel function, set of helper names it uses)."""
    used: set = set()
    name = kernel_name(nest)
    params = (["start", "stop"] + [b.name for b in nest.inputs] + [b.name for b in nest.outputs]
              + list(nest.sizes))
    w = _Writer()
    if nest.matmul is not None:
        mm = nest.matmul
        w.emit([f"# {mm.result} = np.matmul({mm.a}, {mm.b}) as {np.dtype(mm.dtype).name}: "
                "computed by the caller, passed in as a buffer"])
    w.emit(['@numba.njit(cache=True, nogil=True, error_model="numpy")',
            f"def {name}({', '.join(params)}):"])
    w.depth = 1
    consts: dict = {}
    for stmt in nest.preamble:           # loop-invariant: computed once per launch
        w.emit(statement_lines(stmt, used, consts))
    outer = nest.outer_axes
    inner = nest.inner_axes
    marks = []
    if not outer:
        marks.append(w.open_loop("_", "start, stop"))
    else:
        marks.append(w.open_loop(f"i{outer[0]}", "start, stop"))
        for d in outer[1:]:
            marks.append(w.open_loop(f"i{d}", _domain_extent(nest, d)))
    for stmt in nest.segments[0]:
        w.emit(statement_lines(stmt, used, consts))
    for k, phase in enumerate(nest.phases):
        w.emit([f"# reduction phase {k}"])
        for red in phase.reductions:
            w.emit(reduction_init(red))
        inner_marks = [w.open_loop(f"i{d}", _domain_extent(nest, d)) for d in inner]
        for stmt in phase.body:
            w.emit(statement_lines(stmt, used, consts))
        for red in phase.reductions:
            w.emit(reduction_update(red, used))
        for mark in reversed(inner_marks):
            w.close_loop(mark)
        for red in phase.reductions:
            w.emit(reduction_final(red))
        for stmt in nest.segments[k + 1]:
            w.emit(statement_lines(stmt, used, consts))
    if inner and nest.epilogue:
        w.emit(["# epilogue"])
        inner_marks = [w.open_loop(f"i{d}", _domain_extent(nest, d)) for d in inner]
        for stmt in nest.epilogue:
            w.emit(statement_lines(stmt, used, consts))
        for mark in reversed(inner_marks):
            w.close_loop(mark)
    for mark in reversed(marks):
        w.close_loop(mark)
    return "\n".join(w.lines) + "\n", used


def generate_source(nest, region_text: str = "") -> tuple:
    """(full module source, kernel part): the kernel part alone decides identity."""
    for buf in list(nest.inputs) + list(nest.outputs):
        if np.dtype(buf.dtype).kind not in SUPPORTED_KINDS or np.dtype(buf.dtype).itemsize > 8:
            raise NotImplementedError(f"the Numba backend has no {np.dtype(buf.dtype)} support "
                                      f"(buffer {buf.name} of kernel {nest.name})")
    body, used = kernel_body(nest)
    header = [f"# Generated by tracejit (Numba CPU backend): kernel {nest.name}."]
    if region_text:
        header.append("# IR region implemented (dims shown as size parameters):")
        header.extend(f"#   {line}" for line in normalize_region_text(region_text, nest.sizes).splitlines())
    parts = ["\n".join(header), "import numpy as np\nimport numba\n"]
    if used:
        parts.append(prelude(used))
    parts.append(body)
    return "\n\n".join(parts), body
