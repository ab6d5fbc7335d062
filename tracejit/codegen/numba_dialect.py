"""The Numba dialect: Python/Numba source text for one LoopNest (no compiling here).

The generated file reads like hand-written code: a comment with the IR it implements,
``import numpy as np`` / ``import numba``, the ``_tj_*`` helpers the kernel uses, then
one ``@numba.njit`` kernel over a ``[start, stop)`` range of its first outer axis::

    def softmax_k0(start, stop, in0, out0, n1):
        for i0 in range(start, stop):
            # reduction phase 0
            acc3 = np.float32(-np.inf)
            for i1 in range(n1):
                t2 = in0[i0, i1]
                acc3 = _tj_rmaximum(acc3, t2)
            ...

Typing discipline (TOOLCHAIN.md): every constant is typed (``np.float32(0.5)``), every
operand is converted to the op's NumPy loop dtype, and every result whose Numba type
may differ from NumPy's (integer arithmetic widens to int64, helpers are generic) is
wrapped in the result dtype's constructor. Nothing uses fastmath except the
reassociable reduction combines of ``numba_math`` (radd, rmul).
"""
from __future__ import annotations

import re

import numpy as np

from ..ir.accumulate import lower_accumulators, widen_float32_sums
from ..ir.flatten import flattened_buffers
from ..ir.masked_product import needed_columns
from ..ir.nest import Load, index_vars
from ..ir.split_sums import split_stashed_sums
from ..ir.stash import stash_last_phase_values
from . import column_tiles, near_paths, row_functions
from .identity import kernel_name, normalize_region_text
from .helper_versions import source_version
from .render import Dialect, Renderer, used_names
from .vector_math_names import NEAR_MATH, SMALL_MATH, VECTOR_MATH

SUPPORTED_KINDS = "biufc"

# the lowering steps this backend applies to a nest before rendering it, in order
LOWERING_STEPS = [
    ("widen_float32_sums", widen_float32_sums),
    ("accumulators", lambda nest: lower_accumulators(nest, lanes=False)),
    ("stash_last_phase_values", stash_last_phase_values),
    ("split_stashed_sums", split_stashed_sums),
]


# ---------------------------------------------------------------------------
# prelude: one helper per `_tj_*` name the templates use
# ---------------------------------------------------------------------------

def _extremum(name: str, keep: str, nan_wins: bool) -> str:
    """np.maximum/minimum (a NaN operand wins) and np.fmax/fmin (a NaN operand loses);
    between equal values (0.0 and -0.0) the second, as NumPy's loops."""
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


def _complex_divide(name: str, part: str) -> str:
    """np.divide of complex numbers as NumPy's loop computes it: scaled by the larger
    part of the divisor (Smith's method), parts in the dtype's float type; by zero it
    gives NumPy's inf/NaN parts (Numba's ``/`` raises ZeroDivisionError)."""
    return f'''
def {name}(a, b):
    """np.divide of {part} complex numbers (NumPy's scaled division; x / 0 is inf or NaN)."""
    ar, ai, br, bi = a.real, a.imag, b.real, b.imag
    abs_br, abs_bi = abs(br), abs(bi)
    if abs_br >= abs_bi:
        if abs_br == 0:
            return complex(_tj_over_zero(ar), _tj_over_zero(ai))
        rat = bi / br
        scl = np.{part}(1.0) / (br + bi * rat)
        return complex((ar + ai * rat) * scl, (ai - ar * rat) * scl)
    rat = br / bi
    scl = np.{part}(1.0) / (bi + br * rat)
    return complex((ar * rat + ai) * scl, (ai * rat - ar) * scl)
'''


HELPERS = {
    "_tj_cdiv64": _complex_divide("_tj_cdiv64", "float32"),
    "_tj_cdiv128": _complex_divide("_tj_cdiv128", "float64"),
    "_tj_over_zero": '''
def _tj_over_zero(v):
    """v / +0.0 without Numba's ZeroDivisionError: +-inf, NaN for 0 and NaN."""
    return v * np.inf if v != 0 else np.nan
''',
    "_tj_cmul": '''
def _tj_cmul(a, b):
    """np.multiply of complex numbers as NumPy's vector loop on an FMA CPU computes it:
    each part one fused multiply-add (so (1e300+1e300j) ** 2 is -inf+infj, not nan+infj)."""
    ar, ai, br, bi = a.real, a.imag, b.real, b.imag
    return complex(_tj_fmadd(ar, br, -(ai * bi)), _tj_fmadd(ar, bi, ai * br))
''',
    "_tj_maximum": _extremum("_tj_maximum", ">", True),
    "_tj_minimum": _extremum("_tj_minimum", "<", True),
    "_tj_fmax": _extremum("_tj_fmax", ">", False),
    "_tj_fmin": _extremum("_tj_fmin", "<", False),
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
    "_tj_floordiv_i64": '''
def _tj_floordiv_i64(a, b):
    """np.floor_divide of int64: the minimum // -1 wraps to the minimum, as in NumPy
    (Numba's // gives 0 there)."""
    return (a - a) - a if b == -1 else a // b
''',
    "_tj_ifmod": '''
def _tj_ifmod(a, b):
    """np.fmod of integers: C's remainder (the dividend's sign); x fmod 0 and fmod -1 are 0."""
    if b == 0 or b == -1:
        return a - a
    r = a % b
    return r - b if r != 0 and (r < 0) != (a < 0) else r
''',
    "_tj_lshift": '''
def _tj_lshift(a, b):
    """np.left_shift (computed in int64, then wrapped to the dtype): a count below 0 or
    at 64 or more gives 0, as NumPy's npy_lshift (LLVM leaves those undefined)."""
    return a << b if b >= 0 and b < 64 else a - a
''',
    "_tj_rshift": '''
def _tj_rshift(a, b):
    """np.right_shift: a count below 0 or at 64 or more gives -1 for a negative a, else 0."""
    return a >> b if b >= 0 and b < 64 else (a >> 63 if a < 0 else a - a)
''',
    "_tj_ipow": '''
def _tj_ipow(a, b):
    """np.power of integers: wrap-around by repeated squaring (the kernel checks that
    signed exponents are not negative first, as NumPy raises for those)."""
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

# helpers defined in numba_math.py, numba_trig.py, numba_pow.py (vectorizable math,
# reduction combines) and numba_half.py (float16 bits): imported, not pasted, so Numba
# compiles each once per process; `_tj_<name>` -> (module, function); the vector math
# of (op, dtype) is `_tj_v<op>_f32` / `_tj_v<op>_f64` (the op table's templates)
IMPORTED = {f"_tj_v{op}_{dt[0]}{dt[-2:]}": (module, fn)
            for module, table in VECTOR_MATH.items() for (op, dt), fn in table.items()}
IMPORTED.update({"_tj_radd": ("numba_math", "radd"), "_tj_rmul": ("numba_math", "rmul"),
                 "_tj_rmaximum": ("numba_math", "propagating_maximum"),
                 "_tj_rminimum": ("numba_math", "propagating_minimum"),
                 "_tj_h2f": ("numba_half", "half_to_float"), "_tj_f2h": ("numba_half", "float_to_half"),
                 "_tj_rf16": ("numba_half", "round_to_half"), "_tj_rd2h": ("numba_half", "round_double_to_half"),
                 "_tj_bitcast": ("numba_bits", "bitcast"), "_tj_fmadd": ("numba_eft", "fmadd"),
                 "_tj_cube_f32": ("numba_pow", "cube_f32"), "_tj_pow4_f32": ("numba_pow", "pow4_f32")})
IMPORTED.update({f"_tj_n{op}_{dt[0]}{dt[-2:]}": (module, fn)
                 for module, table in NEAR_MATH.items() for (op, dt), fn in table.items()})
IMPORTED.update({f"_tj_s{op}_{dt[0]}{dt[-2:]}": (module, fn)
                 for module, table in SMALL_MATH.items() for (op, dt), fn in table.items()})



def helper_names() -> set:
    """Every `_tj_*` name this backend's prelude can define."""
    return set(HELPERS) | set(IMPORTED)


def prelude(text: str) -> str:
    """The helper definitions `text` uses (inlined by Numba at every call site)."""
    used = set(re.findall(r"\b_tj_\w+", text))
    pending = [n for n in used if n in HELPERS]
    while pending:                    # helpers that call helpers (_tj_cdiv128 -> _tj_over_zero)
        for name in re.findall(r"\b_tj_\w+", HELPERS[pending.pop()]):
            if name not in used:
                used.add(name)
                if name in HELPERS:
                    pending.append(name)
    parts = []
    imported = sorted(name for name in used if name in IMPORTED)
    if imported:
        modules = sorted({IMPORTED[n][0] for n in imported})
        parts.append("".join(f"# {m} version {source_version(m)}\n" for m in modules) + "".join(
            f"from tracejit.codegen.{IMPORTED[n][0]} import {IMPORTED[n][1]} as {n}\n" for n in imported))
    for name in sorted(used):
        if name in HELPERS:
            parts.append('@numba.njit(inline="always", cache=True)' + HELPERS[name].rstrip() + "\n")
    return "\n".join(parts)


# ---------------------------------------------------------------------------
# the dialect
# ---------------------------------------------------------------------------

def ctor(dtype) -> str:
    """The NumPy scalar constructor Numba uses for a dtype (`np.float32`)."""
    dtype = np.dtype(dtype)
    return "np.bool_" if dtype == np.bool_ else f"np.{dtype.name}"


def holder(dtype) -> np.dtype:
    """The dtype a kernel variable of `dtype` has: float16 values live in float32."""
    dtype = np.dtype(dtype)
    return np.dtype(np.float32) if dtype == np.float16 else dtype


def literal(value, dtype) -> str:
    """A constant of exactly `dtype` (untyped Python floats would widen float32 math)."""
    dtype = np.dtype(dtype)
    if dtype == np.float16:
        value, dtype = float(np.float16(value)), np.dtype(np.float32)
    if dtype.kind == "c":
        part = np.finfo(dtype).dtype
        return f"{ctor(dtype)}(complex({literal(complex(value).real, part)}, {literal(complex(value).imag, part)}))"
    if dtype.kind == "b":
        return "True" if bool(value) else "False"
    if dtype.kind in "iu":
        return f"{ctor(dtype)}({int(value)})"
    value = float(value)
    if np.isnan(value):
        text = "np.copysign(np.nan, -1.0)" if np.signbit(value) else "np.nan"   # Numba folds -np.nan to +nan
    elif np.isinf(value):
        text = "np.inf" if value > 0 else "-np.inf"
    else:
        text = repr(value)
    return f"{ctor(dtype)}({text})"


# results of these ops are Python/NumPy bools in Numba already: no wrapping needed
_BOOL_NATIVE = {"eq", "ne", "lt", "le", "gt", "ge", "logical_and", "logical_or", "logical_xor",
                "logical_not", "isnan", "isinf", "isfinite"}
# reduction combines that vectorize: float sums/products reassociable, float max/min
# through LLVM's NaN-propagating intrinsics (numba_math)
_COMBINES = {"add": "_tj_radd", "mul": "_tj_rmul", "maximum": "_tj_rmaximum", "minimum": "_tj_rminimum"}


class NumbaDialect(Dialect):
    name = "numba"
    lanes = False

    def literal(self, value, dtype) -> str:
        return literal(value, dtype)

    def dtype_name(self, dtype) -> str:
        return ctor(holder(dtype))

    def compute_dtype(self, dtype):
        return holder(dtype)

    def convert(self, expr, src, dst) -> str:
        """To float16: one rounding from float64, else through float32 (NumPy's rule for
        float16 loops: compute in float32, round the result)."""
        dst = np.dtype(dst)
        if dst != np.float16:
            return f"{ctor(dst)}({expr})"
        if src is not None and np.dtype(src) == np.float16:
            return expr
        if src is not None and np.dtype(src) == np.float64:
            return f"_tj_rd2h({expr})"
        return f"_tj_rf16(np.float32({expr}))"

    def natural_dtype(self, stmt, template):
        dtype = np.dtype(stmt.dtype)
        if stmt.op.name == "where":
            return dtype
        if dtype == np.float16:
            return None               # every float16 result is rounded
        if stmt.op.name == "cast":
            return dtype
        if dtype.kind == "f" and all(np.dtype(t) == dtype for t in stmt.loop_dtypes) and "_tj_" not in template:
            return dtype
        if dtype.kind == "b" and stmt.op.name in _BOOL_NATIVE:
            return dtype
        return None

    def special(self, r, stmt, args):
        """Reduction combines that vectorize, and float x**n for a constant n in 2..4
        as products: x**2 is x * x (NumPy's own for float64, and the correctly rounded
        square for float32, as powf gives); float32 x**3 and x**4 by numba_pow's FMA
        products, rounded once as powf rounds, without a libm call)."""
        from ..ir.nest import Accumulate
        if stmt.op.name == "cast" and np.float16 in (np.dtype(stmt.dtype), np.dtype(stmt.arg_dtypes[0])):
            return self.convert(args[0], stmt.arg_dtypes[0], stmt.dtype)
        loop = np.dtype(stmt.loop_dtypes[0])
        if isinstance(stmt, Accumulate) and stmt.reassociable and stmt.op.name in _COMBINES and loop.kind == "f" \
                and np.dtype(stmt.dtype) == loop and loop.itemsize >= 4:
            return f"{_COMBINES[stmt.op.name]}({args[0]}, {args[1]})"
        if stmt.op.name in ("maximum", "minimum", "fmax", "fmin") and loop == np.float16 and \
                not isinstance(stmt, Accumulate):
            # NumPy's float16 loop keeps the first operand on ties (its float32/64 loops the
            # second, as the helpers): max(-0.0, 0.0) is -0.0 in float16
            return self.convert(f"_tj_{stmt.op.name}({args[1]}, {args[0]})", None, stmt.dtype)
        if stmt.op.name == "pow" and loop.kind == "f":
            n = r.constants.get(stmt.args[1])
            if n is not None and np.isfinite(n) and float(n) == int(n):
                x = args[0]
                if loop == np.float32 and int(n) == 2:
                    return f"{ctor(stmt.dtype)}({x} * {x})"
                if loop == np.float32 and int(n) in (3, 4):
                    return f"{ctor(stmt.dtype)}({'_tj_cube_f32' if int(n) == 3 else '_tj_pow4_f32'}({x}))"
                if loop == np.float64 and int(n) == 2 and np.dtype(stmt.dtype) == loop:
                    return f"({x} * {x})"
        return None

    def load(self, r, stmt):
        element = f"{stmt.buffer}[{self._index_tuple(r, stmt.index)}]"
        return (f"_tj_h2f({element})" if np.dtype(stmt.dtype) == np.float16 else element), False

    def store(self, r, stmt) -> str:
        value = r.ref(stmt.src)
        if np.dtype(stmt.dtype) == np.float16:
            value = f"_tj_f2h({value})"
        return f"{stmt.buffer}[{self._index_tuple(r, stmt.index)}] = {value}"

    def _index_tuple(self, r, index) -> str:
        return ", ".join(_unsigned(self.index(r, e)) for e in index) if index else "()"

    def index_value(self, r, stmt) -> str:
        return self.convert(self.index(r, stmt.index), np.int64, stmt.dtype)

    def bounds_check(self, r, stmt) -> list:
        return [f"if not (0 <= {self.index(r, stmt.index)} < {self.index(r, stmt.size)}):",
                f"    raise IndexError({stmt.what + ' out of bounds'!r})"]

    def value_check(self, r, stmt) -> list:
        return [f"if not {r.ref(stmt.src)}:", f"    raise {stmt.error}({stmt.message!r})"]

    # -- loops -------------------------------------------------------------------------
    def enter_outer(self, r, nest):
        outer = nest.outer_axes
        self._outer_depth = max(1, len(outer))
        if not outer:
            r.open("for _ in range(start, stop):")
            return
        if reads_across(nest):
            self._enter_blocks(r, nest)
            return
        r.open(f"for i{outer[0]} in range(start, stop):")
        for d in outer[1:]:
            size = nest.domain_sizes[d]
            if size.kind == "const" and size.args[0] == 1:
                # no loop of one trip: LLVM vectorizes the innermost loop, and over a
                # unit axis ([m, 1], a matrix-vector product's epilogue) that is none
                r.line(f"i{d} = 0", effect=True)
                self._outer_depth -= 1
                continue
            r.open(f"for i{d} in range({self.index(r, size)}):")

    def _enter_blocks(self, r, nest):
        """The first and last outer axes in BLOCK x BLOCK tiles (the others between)."""
        outer = nest.outer_axes
        first, last = outer[0], outer[-1]
        n_last = self.index(r, nest.domain_sizes[last])
        r.open(f"for _b{first} in range(start, stop, {BLOCK}):")
        for d in outer[1:-1]:
            r.open(f"for i{d} in range({self.index(r, nest.domain_sizes[d])}):")
        r.open(f"for _b{last} in range(0, {n_last}, {BLOCK}):")
        r.open(f"for i{first} in range(_b{first}, min(_b{first} + {BLOCK}, stop)):")
        r.open(f"for i{last} in range(_b{last}, min(_b{last} + {BLOCK}, {n_last})):")
        self._outer_depth = len(outer) + 2

    def leave_outer(self, r, nest):
        for _ in range(self._outer_depth):
            r.close()

    def enter_inner(self, r, nest, what):
        for d in nest.inner_axes:
            r.open(f"for i{d} in range({self.index(r, nest.domain_sizes[d])}):")

    def leave_inner(self, r, nest):
        for _ in nest.inner_axes:
            r.close()


BLOCK = 32     # 32 x 32 float32 tiles: a tile of a transposed read stays in L1 (4 KiB)


def reads_across(nest) -> bool:
    """A pointwise nest that reads some array across its rows: a load whose last index
    moves with the split loop and not with the innermost one, which moves another
    index (``x + x.T``; not a column ``x[:, None]``, which is read once a row). Row by
    row, each such load strides through memory a whole row apart and every cache line
    is fetched again for the next row; in tiles the lines are used while cached (2x
    faster for ``x + x.T`` on 4096x4096)."""
    outer = nest.outer_axes
    if nest.inner_axes or len(outer) < 2:
        return False
    first, last = f"i{outer[0]}", f"i{outer[-1]}"
    for block in nest.blocks():
        for stmt in block:
            if isinstance(stmt, Load) and stmt.index:
                moves_with = index_vars(stmt.index[-1])
                elsewhere = set().union(*(index_vars(e) for e in stmt.index[:-1]))
                if last not in moves_with and first in moves_with and last in elsewhere:
                    return True
    return False


def _unsigned(index: str) -> str:
    """An array index as an unsigned int, so that Numba leaves out NumPy's wraparound
    (``i + n if i < 0``). That select makes every lane's address depend on its value,
    and LLVM then vectorizes a loop with one scalar load and store per lane: ``x * 2 + 1``
    runs 5.8x slower, ``exp`` 2x. The cast never changes an address: the loop IR's
    indices are always in range (speculative loads are clamped, gather indices wrapped
    and bounds-checked before use: ir/loopnest.py), as the Triton backend, which has no
    wraparound, relies on too."""
    return index if index.isdigit() else f"np.uint64({index})"


def lower(nest):
    for _, step in LOWERING_STEPS:
        nest = step(nest)
    return nest


def kernel_text(nest, in_place=()) -> tuple:
    """(source of the kernel function, the size parameters it takes, in order).

    `in_place`: (output, input) buffer names whose output the caller writes into the
    input itself. The kernel then stores through the input's name and has no parameter
    for that output: through one name LLVM sees that each store goes where the load
    before it read, and vectorizes; through two names that may overlap, its run-time
    check fails and it runs the scalar loop (GELU in place was 6x slower)."""
    r = Renderer(NumbaDialect())
    lowered = lower(nest)
    tiles = column_tiles.applies(lowered)
    if tiles:
        column_tiles.walk(r, lowered, lambda dtype: ctor(holder(dtype)))
    else:
        r.walk_outer(lowered)
    body = r.text(base_depth=1)
    for output, target in in_place:
        body = re.sub(rf"\b{re.escape(output)}\b", target, body)
    if not tiles and not lowered.inner_axes and near_paths.uses_near_candidates(body):
        body = near_paths.rewrite(body)        # pointwise: near-range sin/cos, far elements rerun
    sizes = used_names(body, list(nest.sizes))
    written_in_place = {output for output, _ in in_place}
    params = (["start", "stop"] + [b.name for b in nest.inputs]
              + [b.name for b in nest.outputs if b.name not in written_in_place] + sizes)
    head = []
    if not tiles and row_functions.worth_a_row_function(lowered, body):
        split = row_functions.split_rows(body, params[2:], f"{kernel_name(nest)}_row")
        if split is not None:
            row_source, body = split
            head += [row_source + "\n"]
    if nest.matmul is not None:
        mm = nest.matmul
        head.append(f"# {mm.result} = np.matmul({mm.a}, {mm.b}) as {np.dtype(mm.dtype).name}: "
                    "computed by the caller, passed in as a buffer")
        offset = needed_columns(nest)
        if offset is not None:
            head.append(f"# (only where column <= row + {offset}: the loop never uses the rest)")
        if mm.a_zero_above is not None:
            head.append(f"# ({mm.a}'s rows are 0 past column row + {mm.a_zero_above}: while {mm.b} is finite, "
                        "only the columns up to there are multiplied)")
    head += ['@numba.njit(cache=True, nogil=True, error_model="numpy")',
             f"def {kernel_name(nest)}({', '.join(params)}):"]
    return "\n".join(head) + "\n" + body, sizes


def generate_source(nest, region_text: str = "", in_place=()) -> tuple:
    """(full module source, kernel part, size parameter names): the kernel part alone
    decides identity. `in_place`: see ``kernel_text``."""
    for buf in list(nest.inputs) + list(nest.outputs):
        if np.dtype(buf.dtype).kind not in SUPPORTED_KINDS:
            raise NotImplementedError(f"the Numba backend has no {np.dtype(buf.dtype)} support "
                                      f"(buffer {buf.name} of kernel {nest.name})")
    body, sizes = kernel_text(nest, in_place)
    header = [f"# Generated by tracejit (Numba CPU backend): kernel {nest.name}."]
    if in_place:
        header.append("# Written in place: " + ", ".join(f"{o} is {i}" for o, i in in_place) + ".")
    if len(nest.domain) > 1 and flattened_buffers(nest) is not None:
        header.append("# On C-contiguous arrays it runs flat instead: the same statements in one loop "
                      "over every point (ir/flatten.py).")
    if region_text:
        header.append("# IR region implemented (dims shown as size parameters):")
        header.extend(f"#   {line}" for line in normalize_region_text(region_text, nest.sizes).splitlines())
    parts = ["\n".join(header), "import numpy as np\nimport numba\n"]
    helpers = prelude(body)
    if helpers:
        parts.append(helpers)
    parts.append(body)
    return "\n\n".join(parts), body, sizes
