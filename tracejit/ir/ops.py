"""The closed set of IR operations.

Everything about one op sits in one ``OpSpec``: its group, arity, its shape/dtype rule
(``infer``), its NumPy reference implementation (``reference``, run by the interpreter)
and how each backend computes it:

- elementwise ops carry expression templates keyed by backend name (``emit``, see
  ``template``); ``"*"`` is the template of every backend that does not name its own;
- reductions and scans carry a ``ReductionKind``: the data (combine op, identity) the
  backend-neutral accumulator lowering (``ir/accumulate.py``) turns into statements, so
  no code generator has a case per reduction;
- movement ops and gathers are index maps, lowered once for every backend by the rules
  of ``ir/loopnest.py``; ``matmul`` is a method of every code-generator dialect.

``tests/ir/test_op_completeness.py`` checks that every op has all of its parts, so
adding an op is one local change here (plus, at most, a helper in a backend's prelude).

Templates are Python format strings over the operand expressions ``{0}``, ``{1}``,
``{2}`` (already converted to the op's loop dtypes), ``{t}``, the backend's name for
the loop dtype (``np.float32`` for Numba, ``tl.float32`` for Triton), and ``{out}``,
its name for the result dtype. A template may be
a dict keyed by the loop dtype's name (``"float32"``) or kind (``"b"``, ``"i"``, ``"u"``,
``"f"``) with a ``"*"`` default. Names ``_tj_*`` are helpers each backend defines in the
prelude of its generated files.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from .types import TensorType, broadcast_shapes, resolve_ufunc


class OpGroup(enum.Enum):
    UNARY = "unary"
    BINARY = "binary"
    TERNARY = "ternary"      # where
    CAST = "cast"
    SOURCE = "source"        # constant, iota: no operands
    REDUCTION = "reduction"
    SCAN = "scan"            # cumsum, cumprod: inclusive prefix combine along one axis
    MOVEMENT = "movement"    # reshape, transpose, broadcast_to, slice, concat, pad
    GATHER = "gather"        # take, take_along_axis
    MATMUL = "matmul"
    KERNEL = "kernel"        # a fused region, produced by the fusion pass
    LOOP = "loop"            # a body graph run a number of times (ops_control.py)
    LIBRARY = "library"      # sorting, LAPACK: a plan step calling the array library (ops_library.py)


ELEMENTWISE_GROUPS = (OpGroup.UNARY, OpGroup.BINARY, OpGroup.TERNARY, OpGroup.CAST)


@dataclass(frozen=True)
class ReductionKind:
    """What a reduction (or scan) computes, as data.

    combine: the elementwise op that merges two partial results (``add`` for sums);
    for ``arg`` kinds, the comparison by which a candidate beats the current winner.
    identity(dtype): the value accumulators start from (and masked lanes hold).
    empty_ok: NumPy reduces an empty axis to the identity; False: it raises.
    arg: argmax/argmin, carrying (value, index) pairs; the first NaN wins, ties go to
    the first index."""

    combine: str
    identity: Callable
    empty_ok: bool = True
    arg: bool = False


def _zero(dtype):
    """The identity np.sum starts from: +0.0 for floats, so a sum of -0.0s (or of nothing)
    is +0.0, as in NumPy."""
    kind = np.dtype(dtype).kind
    return False if kind == "b" else 0.0 if kind in "fc" else 0


def _negative_zero(dtype):
    """np.cumsum's start: its first prefix is the first element itself, so floats start
    from -0.0 (-0.0 + x is x for every x; +0.0 + -0.0 is +0.0)."""
    return -0.0 if np.dtype(dtype).kind in "fc" else _zero(dtype)


def _one(dtype):
    return True if np.dtype(dtype).kind == "b" else 1


def _lowest(dtype):
    dtype = np.dtype(dtype)
    if dtype.kind == "b":
        return False
    return -np.inf if dtype.kind in "fc" else int(np.iinfo(dtype).min)


def _highest(dtype):
    dtype = np.dtype(dtype)
    if dtype.kind == "b":
        return True
    return np.inf if dtype.kind in "fc" else int(np.iinfo(dtype).max)


def _nan_or(fallback):
    """NaN for floats (fmax/fmin skip it, and an all-NaN row stays NaN), else `fallback`."""
    return lambda dtype: np.nan if np.dtype(dtype).kind in "fc" else fallback(dtype)


@dataclass(frozen=True, eq=False)
class OpSpec:
    name: str
    group: OpGroup
    arity: int                       # -1: variadic
    infer: Callable                  # (input types, attrs) -> list[TensorType]
    reference: Callable | None       # (input arrays, attrs, out types) -> list[np.ndarray]
    ufunc: str | None = None         # NumPy ufunc whose dtype rules the op follows
    emit: dict = field(default_factory=dict)   # backend name (or "*") -> template, elementwise ops
    reduction: ReductionKind | None = None     # reductions and scans
    doc: str = ""
    expensive: bool = False          # costs more than a memory access: fusion never repeats it freely
    attrs: tuple = ()                # attribute names, in printing order

    @property
    def is_elementwise(self) -> bool:
        return self.group in ELEMENTWISE_GROUPS

    def template(self, backend: str, dtype) -> str | None:
        """The template `backend` computes this op with when its loop dtype is `dtype`.
        Complex loops take only templates written for them (``"c"`` or the dtype's
        name): a real-number formula is never silently applied to complex values."""
        chosen = self.emit.get(backend, self.emit.get("*"))
        dtype = np.dtype(dtype)
        if isinstance(chosen, dict):
            default = None if dtype.kind == "c" else chosen.get("*")
            chosen = chosen.get(dtype.name, chosen.get(dtype.kind, default))
        elif dtype.kind == "c":
            chosen = None
        return chosen

    def __repr__(self) -> str:
        return f"<op {self.name}>"

    def __reduce__(self):
        # ops are unique by name: a pickled graph (runtime/plan_store.py) refers to them
        return (op_named, (self.name,))


OPS: dict[str, OpSpec] = {}


def op_named(name: str) -> OpSpec:
    """The registered op called `name`."""
    return OPS[name]


def _register(spec: OpSpec) -> OpSpec:
    assert spec.name not in OPS, spec.name
    OPS[spec.name] = spec
    return spec


# ---------------------------------------------------------------------------
# elementwise: one row an op: (name, ufunc, {backend: template})
# ---------------------------------------------------------------------------

def _elementwise_infer(ufunc_name):
    def infer(types, attrs):
        _, out = resolve_ufunc(ufunc_name, types)
        shape = broadcast_shapes(*(t.shape for t in types))
        weak = attrs.get("weak_result", False)
        return [TensorType(shape, out, weak)]
    return infer


def _ufunc_reference(ufunc_name):
    ufunc = getattr(np, ufunc_name)

    def reference(arrays, attrs, out_types):
        with np.errstate(all="ignore"):
            result = ufunc(*arrays)
        return [np.asarray(result).astype(out_types[0].dtype, copy=False)]
    return reference


def loop_dtypes(spec: OpSpec, types) -> tuple:
    """The dtypes NumPy's inner loop computes an elementwise op in."""
    ins, _ = resolve_ufunc(spec.ufunc, types)
    return ins


def _math(name):
    """A transcendental: Numba's branch-free vectorizable helper per float dtype
    (``codegen/numba_math.py``, ``numba_trig.py``; float16 is computed in float32),
    Triton's ``_tj_<name>`` (fp16 computed in fp32)."""
    return {"numba": {"float32": f"_tj_v{name}_f32({{0}})", "float64": f"_tj_v{name}_f64({{0}})"},
            "triton": f"_tj_{name}({{0}})"}


def _call(numba, triton):
    return {"numba": numba, "triton": triton}


def _shift_templates(helper):
    """Triton's shift helper per integer dtype, told the dtype's width: NumPy shifts by
    a count at or past it (or negative) to 0, or to -1 for a negative right-shifted."""
    return {np.dtype(d).name: f"{helper}({{0}}, {{1}}, {8 * np.dtype(d).itemsize})"
            for d in (np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64)}


_UNARY = [
    ("neg",          "negative",    {"*": "(-{0})"}),
    ("abs",          "absolute",    _call({"b": "{0}", "*": "abs({0})"}, {"b": "{0}", "*": "tl.abs({0})"})),
    ("sign",         "sign",        {"*": "_tj_sign({0})"}),
    ("sqrt",         "sqrt",        _call("np.sqrt({0})", "_tj_sqrt({0})")),
    ("cbrt",         "cbrt",        _call("np.cbrt({0})", "_tj_cbrt({0})")),
    ("square",       "square",      {"*": "({0} * {0})"}),
    ("reciprocal",   "reciprocal",  _call({"f": "({t}(1) / {0})", "*": "_tj_int_reciprocal({0})"},
                                         {"f": "(1.0 / {0})", "*": "_tj_int_reciprocal({0})"})),
    ("exp",          "exp",         _math("exp")),
    ("exp2",         "exp2",        _math("exp2")),
    ("expm1",        "expm1",       _math("expm1")),
    ("log",          "log",         _math("log")),
    ("log2",         "log2",        _call("np.log2({0})", "_tj_log2({0})")),
    ("log10",        "log10",       _call("np.log10({0})", "_tj_log10({0})")),
    ("log1p",        "log1p",       _math("log1p")),
    ("sin",          "sin",         _math("sin")),
    ("cos",          "cos",         _math("cos")),
    ("tan",          "tan",         _math("tan")),
    ("arcsin",       "arcsin",      _call("np.arcsin({0})", "_tj_arcsin({0})")),
    ("arccos",       "arccos",      _call("np.arccos({0})", "_tj_arccos({0})")),
    ("arctan",       "arctan",      _math("arctan")),
    ("sinh",         "sinh",        _call("np.sinh({0})", "_tj_sinh({0})")),
    ("cosh",         "cosh",        _call("np.cosh({0})", "_tj_cosh({0})")),
    ("tanh",         "tanh",        _math("tanh")),
    ("arcsinh",      "arcsinh",     _call("np.arcsinh({0})", "_tj_arcsinh({0})")),
    ("arccosh",      "arccosh",     _call("np.arccosh({0})", "_tj_arccosh({0})")),
    ("arctanh",      "arctanh",     _call("np.arctanh({0})", "_tj_arctanh({0})")),
    ("floor",        "floor",       _call({"f": "np.floor({0})", "*": "{0}"}, {"f": "tl.floor({0})", "*": "{0}"})),
    ("ceil",         "ceil",        _call({"f": "np.ceil({0})", "*": "{0}"}, {"f": "tl.ceil({0})", "*": "{0}"})),
    ("trunc",        "trunc",       _call({"f": "np.trunc({0})", "*": "{0}"}, {"f": "_tj_trunc({0})", "*": "{0}"})),
    ("rint",         "rint",        _call({"f": "np.rint({0})", "*": "{0}"}, {"f": "_tj_rint({0})", "*": "{0}"})),
    ("isnan",        "isnan",       _call({"f": "np.isnan({0})", "*": "False"}, {"*": "({0} != {0})"})),
    ("isinf",        "isinf",       _call({"f": "np.isinf({0})", "*": "False"},
                                          {"f": "_tj_isinf({0})", "*": "({0} != {0})"})),
    ("isfinite",     "isfinite",    _call({"f": "np.isfinite({0})", "*": "True"},
                                          {"f": "_tj_isfinite({0})", "*": "({0} == {0})"})),
    ("logical_not",  "logical_not", {"*": "({0} == 0)"}),
    ("invert",       "invert",      _call({"b": "(not {0})", "*": "(~{0})"}, {"b": "({0} == 0)", "*": "(~{0})"})),
]

_BINARY = [
    ("add",          "add",          _call({"b": "({0} or {1})", "*": "({0} + {1})"},
                                           {"b": "({0} | {1})", "*": "({0} + {1})"})),
    ("sub",          "subtract",     {"*": "({0} - {1})"}),
    ("mul",          "multiply",     _call({"b": "({0} and {1})", "*": "({0} * {1})"},
                                           {"b": "({0} & {1})", "*": "({0} * {1})"})),
    ("div",          "true_divide",  _call("({0} / {1})", "_tj_div({0}, {1})")),
    ("floordiv",     "floor_divide", _call({"int64": "_tj_floordiv_i64({0}, {1})", "*": "({0} // {1})"},
                                           "_tj_floordiv({0}, {1})")),
    ("mod",          "remainder",    _call("({0} % {1})", "_tj_mod({0}, {1})")),
    ("fmod",         "fmod",         _call({"f": "np.fmod({0}, {1})", "*": "_tj_ifmod({0}, {1})"},
                                           "_tj_cfmod({0}, {1})")),
    ("pow",          "power",        _call({"float32": "_tj_vpow_f32({0}, {1})", "float64": "_tj_vpow_f64({0}, {1})",
                                            "*": "_tj_ipow({0}, {1})"}, "_tj_pow({0}, {1})")),
    ("arctan2",      "arctan2",      _call("np.arctan2({0}, {1})", "_tj_arctan2({0}, {1})")),
    ("logaddexp",    "logaddexp",    _call("np.logaddexp({0}, {1})", "_tj_logaddexp({0}, {1})")),
    ("hypot",        "hypot",        _call("np.hypot({0}, {1})", "_tj_hypot({0}, {1})")),
    ("maximum",      "maximum",      {"*": "_tj_maximum({0}, {1})"}),
    ("minimum",      "minimum",      {"*": "_tj_minimum({0}, {1})"}),
    ("fmax",         "fmax",         {"*": "_tj_fmax({0}, {1})"}),
    ("fmin",         "fmin",         {"*": "_tj_fmin({0}, {1})"}),
    ("eq",           "equal",        {"*": "({0} == {1})"}),
    ("ne",           "not_equal",    {"*": "({0} != {1})"}),
    ("lt",           "less",         {"*": "({0} < {1})"}),
    ("le",           "less_equal",   {"*": "({0} <= {1})"}),
    ("gt",           "greater",      {"*": "({0} > {1})"}),
    ("ge",           "greater_equal", {"*": "({0} >= {1})"}),
    ("logical_and",  "logical_and",  _call("(({0} != 0) and ({1} != 0))", "(({0} != 0) & ({1} != 0))")),
    ("logical_or",   "logical_or",   _call("(({0} != 0) or ({1} != 0))", "(({0} != 0) | ({1} != 0))")),
    ("logical_xor",  "logical_xor",  {"*": "(({0} != 0) != ({1} != 0))"}),
    ("bitwise_and",  "bitwise_and",  {"*": "({0} & {1})"}),
    ("bitwise_or",   "bitwise_or",   {"*": "({0} | {1})"}),
    ("bitwise_xor",  "bitwise_xor",  {"*": "({0} ^ {1})"}),
    ("left_shift",   "left_shift",   _call("_tj_lshift({0}, {1})", _shift_templates("_tj_lshift"))),
    ("right_shift",  "right_shift",  _call("_tj_rshift({0}, {1})", _shift_templates("_tj_rshift"))),
]

# transcendental and other multi-instruction ops: a kernel that evaluates one of them
# again in every pass over a row pays more than storing and reloading its result
_EXPENSIVE = {"exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "cbrt", "sin", "cos", "tan", "arcsin",
              "arccos", "arctan", "sinh", "cosh", "tanh", "arcsinh", "arccosh", "arctanh", "pow",
              "arctan2", "logaddexp", "hypot"}

for _group, _rows, _arity, _doc in ((OpGroup.UNARY, _UNARY, 1, ""), (OpGroup.BINARY, _BINARY, 2, ", NumPy broadcasting")):
    for _name, _ufunc, _emit in _rows:
        _register(OpSpec(_name, _group, _arity, _elementwise_infer(_ufunc), _ufunc_reference(_ufunc), _ufunc,
                         _emit, doc=f"elementwise np.{_ufunc}{_doc}", expensive=_name in _EXPENSIVE))


# complex numbers on the CPU backend: the ops and their Numba templates (Numba has complex
# scalars with NumPy's semantics); other backends fall back to eager NumPy for them
_COMPLEX_NUMBA = {
    "neg": "(-{0})", "add": "({0} + {1})", "sub": "({0} - {1})", "mul": "_tj_cmul({0}, {1})",
    "div": {"complex64": "_tj_cdiv64({0}, {1})", "complex128": "_tj_cdiv128({0}, {1})"},
    "square": "_tj_cmul({0}, {0})", "abs": "abs({0})", "exp": "np.exp({0})", "log": "np.log({0})",
    "sqrt": "np.sqrt({0})", "eq": "({0} == {1})", "ne": "({0} != {1})", "isnan": "np.isnan({0})",
    "isinf": "np.isinf({0})", "isfinite": "np.isfinite({0})", "conj": "np.conj({0})",
    "cast": "{t}({0})", "where": "({1} if {0} else {2})",
}


def _with_complex(name, template):
    spec = OPS[name]
    numba = spec.emit.get("numba", spec.emit.get("*"))
    numba = dict(numba) if isinstance(numba, dict) else {"*": numba}
    if isinstance(template, dict):
        numba.update(template)        # one template per complex dtype
    else:
        numba["c"] = template
    spec.emit["numba"] = numba


_register(OpSpec("conj", OpGroup.UNARY, 1, _elementwise_infer("conjugate"), _ufunc_reference("conjugate"),
                 "conjugate", {"*": "{0}"}, doc="elementwise np.conjugate (of a real value: the value)"))


def _part_infer(types, attrs):
    (x,) = types
    if x.dtype.kind != "c":
        raise TypeError("real/imag ops take complex values (the tracer handles real ones)")
    return [TensorType(x.shape, np.finfo(x.dtype).dtype, x.weak)]


for _name in ("real", "imag"):
    _register(OpSpec(_name, OpGroup.UNARY, 1, _part_infer,
                     (lambda part: lambda a, attrs, t: [np.ascontiguousarray(getattr(a[0], part))])(_name),
                     None, {"numba": {"c": f"({{0}}).{_name}"}},
                     doc=f"the {_name} part of a complex value (np.{_name})"))

# --- bitcast: x.view(dtype) of a same-size dtype -----------------------------

BITCAST_DTYPES = tuple(np.dtype(d) for d in (np.int8, np.uint8, np.int16, np.uint16, np.int32, np.uint32,
                                             np.int64, np.uint64, np.float32, np.float64))


def _bitcast_infer(types, attrs):
    (x,) = types
    target = np.dtype(attrs["dtype"])
    if x.dtype not in BITCAST_DTYPES or target not in BITCAST_DTYPES or x.dtype.itemsize != target.itemsize:
        raise TypeError(f"bitcast: {x.dtype} -> {target} (same-size integer and float32/float64 dtypes only)")
    return [TensorType(x.shape, target)]


# {out} is the backend's name for the target dtype; the operand is never converted first
_register(OpSpec("bitcast", OpGroup.UNARY, 1, _bitcast_infer,
                 lambda a, attrs, t: [np.asarray(a[0]).view(attrs["dtype"])], None,
                 _call("_tj_bitcast({0}, {out})", "{0}.to({out}, bitcast=True)"),
                 doc="x.view(dtype): the same bits read as a same-size dtype", attrs=("dtype",)))

# --- where and cast ---------------------------------------------------------

def _where_infer(types, attrs):
    cond, a, b = types
    weak_stand_in = {"b": False, "i": 0, "u": 0, "f": 0.0, "c": 0j}
    operands = [weak_stand_in[t.dtype.kind] if t.weak else t.dtype for t in (a, b)]
    dtype = np.result_type(*operands)
    shape = broadcast_shapes(cond.shape, a.shape, b.shape)
    return [TensorType(shape, dtype, attrs.get("weak_result", False))]


def _where_reference(arrays, attrs, out_types):
    return [np.asarray(np.where(*arrays)).astype(out_types[0].dtype, copy=False)]


_register(OpSpec("where", OpGroup.TERNARY, 3, _where_infer, _where_reference, None,
                 _call("({1} if {0} else {2})", "tl.where({0}, {1}, {2})"),
                 doc="np.where(cond, a, b): a where cond is true, else b"))


def _cast_infer(types, attrs):
    (x,) = types
    return [TensorType(x.shape, attrs["dtype"], attrs.get("weak_result", False))]


def _cast_reference(arrays, attrs, out_types):
    with np.errstate(all="ignore"):
        return [np.asarray(arrays[0]).astype(attrs["dtype"])]


# {t} is the *target* dtype here
_register(OpSpec("cast", OpGroup.CAST, 1, _cast_infer, _cast_reference, None,
                 _call("{t}({0})", "{0}.to({t})"), doc="x.astype(dtype) (C-style conversion)",
                 attrs=("dtype",)))

for _name, _template in _COMPLEX_NUMBA.items():
    _with_complex(_name, _template)


# ---------------------------------------------------------------------------
# sources
# ---------------------------------------------------------------------------


def _constant_infer(types, attrs):
    return [TensorType((), attrs["dtype"], attrs.get("weak_result", False))]


def _constant_reference(arrays, attrs, out_types):
    return [np.asarray(attrs["value"], dtype=attrs["dtype"])]


_register(OpSpec("constant", OpGroup.SOURCE, 0, _constant_infer, _constant_reference,
                 doc="a scalar literal; larger constants are broadcast_to of one",
                 attrs=("value", "dtype")))


def _iota_infer(types, attrs):
    return [TensorType(attrs["shape"], attrs["dtype"])]


def _iota_reference(arrays, attrs, out_types):
    shape, axis = attrs["shape"], attrs["axis"]
    index = np.arange(shape[axis], dtype=attrs["dtype"]).reshape(
        [n if d == axis else 1 for d, n in enumerate(shape)])
    return [np.broadcast_to(index, shape).copy()]


_register(OpSpec("iota", OpGroup.SOURCE, 0, _iota_infer, _iota_reference,
                 doc="the index along `axis` at every point of `shape`",
                 attrs=("shape", "axis", "dtype")))

# ---------------------------------------------------------------------------
# reductions (attrs: axes, a sorted non-negative tuple, and keepdims) and scans (axis)
# ---------------------------------------------------------------------------

_REDUCTIONS = {
    # name             NumPy function  what it computes, as data
    "reduce_sum":    (np.sum,    ReductionKind("add", _zero)),
    "reduce_prod":   (np.prod,   ReductionKind("mul", _one)),
    "reduce_max":    (np.max,    ReductionKind("maximum", _lowest, empty_ok=False)),
    "reduce_min":    (np.min,    ReductionKind("minimum", _highest, empty_ok=False)),
    "reduce_nanmax": (np.nanmax, ReductionKind("fmax", _nan_or(_lowest), empty_ok=False)),
    "reduce_nanmin": (np.nanmin, ReductionKind("fmin", _nan_or(_highest), empty_ok=False)),
    "reduce_any":    (np.any,    ReductionKind("logical_or", _zero)),
    "reduce_all":    (np.all,    ReductionKind("logical_and", _one)),
    "argmax":        (np.argmax, ReductionKind("gt", _lowest, empty_ok=False, arg=True)),
    "argmin":        (np.argmin, ReductionKind("lt", _highest, empty_ok=False, arg=True)),
}

_SCANS = {
    # name       NumPy function            what it combines, as data
    "cumsum":  (np.cumsum,               ReductionKind("add", _negative_zero)),
    "cumprod": (np.cumprod,              _REDUCTIONS["reduce_prod"][1]),
    "cummax":  (np.maximum.accumulate,   _REDUCTIONS["reduce_max"][1]),   # NaN propagates from its first one on
    "cummin":  (np.minimum.accumulate,   _REDUCTIONS["reduce_min"][1]),
}
_SCAN_DOCS = {"cumsum": "np.cumsum", "cumprod": "np.cumprod", "cummax": "np.maximum.accumulate",
              "cummin": "np.minimum.accumulate"}


def reduced_shape(shape, axes, keepdims) -> tuple:
    if keepdims:
        return tuple(1 if d in axes else n for d, n in enumerate(shape))
    return tuple(n for d, n in enumerate(shape) if d not in axes)


def _result_dtype(func, dtype, arg: bool) -> np.dtype:
    """The dtype NumPy's `func` returns for `dtype` input (asked of NumPy itself)."""
    if arg:
        return np.dtype(np.intp)
    with np.errstate(all="ignore"):
        return np.asarray(func(np.zeros((1,), dtype))).dtype


def _reduction_infer(name):
    func, kind = _REDUCTIONS[name]

    def infer(types, attrs):
        (x,) = types
        axes, keepdims = attrs["axes"], attrs["keepdims"]
        if not kind.empty_ok and any(x.shape[a] == 0 for a in axes):
            raise ValueError(f"zero-size array to reduction operation {name} which has no identity")
        return [TensorType(reduced_shape(x.shape, axes, keepdims), _result_dtype(func, x.dtype, kind.arg))]
    return infer


def _reduction_reference(name):
    func, kind = _REDUCTIONS[name]

    def reference(arrays, attrs, out_types):
        (x,) = arrays
        axes, keepdims = attrs["axes"], attrs["keepdims"]
        with np.errstate(all="ignore"):
            if kind.arg:
                result = func(x, axis=axes[0], keepdims=keepdims)
            else:
                import warnings
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)   # nanmax of an all-NaN row
                    result = func(x, axis=axes, keepdims=keepdims)
        return [np.asarray(result).astype(out_types[0].dtype, copy=False)]
    return reference


for _name, (_func, _kind) in _REDUCTIONS.items():
    _register(OpSpec(_name, OpGroup.REDUCTION, 1, _reduction_infer(_name), _reduction_reference(_name),
                     reduction=_kind, doc=f"np.{_func.__name__} over `axes`" + (" (one axis)" if _kind.arg else ""),
                     attrs=("axes", "keepdims")))


def _scan_infer(name):
    func, _ = _SCANS[name]

    def infer(types, attrs):
        (x,) = types
        if not 0 <= attrs["axis"] < max(x.rank, 1):
            raise ValueError(f"{name}: axis {attrs['axis']} out of range for rank {x.rank}")
        return [TensorType(x.shape, _result_dtype(func, x.dtype, False))]
    return infer


def _scan_reference(name):
    func, _ = _SCANS[name]

    def reference(arrays, attrs, out_types):
        with np.errstate(all="ignore"):
            result = func(arrays[0], axis=attrs["axis"])
        return [np.asarray(result).astype(out_types[0].dtype, copy=False)]
    return reference


for _name, (_func, _kind) in _SCANS.items():
    _register(OpSpec(_name, OpGroup.SCAN, 1, _scan_infer(_name), _scan_reference(_name),
                     reduction=_kind, doc=f"{_SCAN_DOCS[_name]} along `axis` (inclusive)",
                     attrs=("axis",)))

# ---------------------------------------------------------------------------
# movement
# ---------------------------------------------------------------------------


def _same_dtype(x, shape):
    return [TensorType(shape, x.dtype, x.weak)]


def _reshape_infer(types, attrs):
    (x,) = types
    shape = attrs["shape"]
    if int(np.prod(shape, dtype=np.int64)) != x.size:
        raise ValueError(f"cannot reshape array of size {x.size} into shape {tuple(shape)}")
    return _same_dtype(x, shape)


_register(OpSpec("reshape", OpGroup.MOVEMENT, 1, _reshape_infer,
                 lambda a, attrs, t: [np.reshape(a[0], attrs["shape"])],
                 doc="row-major reshape", attrs=("shape",)))


def _transpose_infer(types, attrs):
    (x,) = types
    perm = attrs["perm"]
    if sorted(perm) != list(range(x.rank)):
        raise ValueError(f"axes {perm} don't match array of rank {x.rank}")
    return _same_dtype(x, tuple(x.shape[p] for p in perm))


_register(OpSpec("transpose", OpGroup.MOVEMENT, 1, _transpose_infer,
                 lambda a, attrs, t: [np.transpose(a[0], attrs["perm"])],
                 doc="out.shape[i] = x.shape[perm[i]]", attrs=("perm",)))


def _broadcast_infer(types, attrs):
    (x,) = types
    shape = attrs["shape"]
    if broadcast_shapes(x.shape, shape) != tuple(shape):
        raise ValueError(f"cannot broadcast shape {x.shape} to {tuple(shape)}")
    return _same_dtype(x, shape)


_register(OpSpec("broadcast_to", OpGroup.MOVEMENT, 1, _broadcast_infer,
                 lambda a, attrs, t: [np.broadcast_to(a[0], attrs["shape"])],
                 doc="NumPy broadcasting to `shape`", attrs=("shape",)))


def _slice_infer(types, attrs):
    (x,) = types
    starts, steps, shape = attrs["starts"], attrs["steps"], attrs["shape"]
    for d, (n, start, step, size) in enumerate(zip(x.shape, starts, steps, shape)):
        last = start + step * (size - 1)
        if size and not (0 <= start < n and 0 <= last < n) or step == 0:
            raise ValueError(f"slice of axis {d} out of bounds")
    return _same_dtype(x, shape)


def slice_index(starts, steps, shape) -> tuple:
    """The Python slices that select `shape` elements from `starts` by `steps`."""
    result = []
    for start, step, size in zip(starts, steps, shape):
        stop = start + step * size
        result.append(slice(start, None if stop < 0 else stop, step))
    return tuple(result)


_register(OpSpec("slice", OpGroup.MOVEMENT, 1, _slice_infer,
                 lambda a, attrs, t: [a[0][slice_index(attrs["starts"], attrs["steps"], attrs["shape"])]],
                 doc="out[i] = x[starts + steps * i] per axis",
                 attrs=("starts", "steps", "shape")))


def _concat_infer(types, attrs):
    axis = attrs["axis"]
    first = types[0]
    for t in types[1:]:
        if t.rank != first.rank or any(a != b for d, (a, b) in enumerate(zip(t.shape, first.shape)) if d != axis):
            raise ValueError("all the input array dimensions except for the concatenation axis must match exactly")
    dtype = np.result_type(*(t.dtype for t in types))
    shape = list(first.shape)
    shape[axis] = sum(t.shape[axis] for t in types)
    return [TensorType(shape, dtype)]


_register(OpSpec("concat", OpGroup.MOVEMENT, -1, _concat_infer,
                 lambda a, attrs, t: [np.concatenate(a, axis=attrs["axis"]).astype(t[0].dtype, copy=False)],
                 doc="np.concatenate along `axis`", attrs=("axis",)))


def _pad_infer(types, attrs):
    (x,) = types
    widths = attrs["widths"]
    return _same_dtype(x, tuple(n + lo + hi for n, (lo, hi) in zip(x.shape, widths)))


_register(OpSpec("pad", OpGroup.MOVEMENT, 1, _pad_infer,
                 lambda a, attrs, t: [np.pad(a[0], attrs["widths"], constant_values=attrs["value"])],
                 doc="np.pad with a constant", attrs=("widths", "value")))


def _update_slice_infer(types, attrs):
    x, v = types
    _slice_infer([x], attrs)
    if v.dtype != x.dtype:
        raise TypeError(f"update_slice: the value's dtype {v.dtype} is not the array's {x.dtype} (cast it first)")
    if broadcast_shapes(v.shape, attrs["shape"]) != tuple(attrs["shape"]):
        raise ValueError(f"could not broadcast input array from shape {v.shape} into shape {tuple(attrs['shape'])}")
    return [TensorType(x.shape, x.dtype, x.weak)]


def _update_slice_reference(arrays, attrs, out_types):
    x, v = arrays
    out = np.array(x, copy=True)
    out[slice_index(attrs["starts"], attrs["steps"], attrs["shape"])] = v
    return [out]


_register(OpSpec("update_slice", OpGroup.MOVEMENT, 2, _update_slice_infer, _update_slice_reference,
                 doc="x with x[starts + steps * i] = v (broadcast) per axis: a functional slice write",
                 attrs=("starts", "steps", "shape")))



def _require_infer(types, attrs):
    x, ok = types
    if ok.dtype != np.bool_ or broadcast_shapes(ok.shape, x.shape) != x.shape:
        raise TypeError(f"require: the condition must be bool and broadcast to {x.shape}")
    return [x]


def _require_reference(arrays, attrs, out_types):
    x, ok = arrays
    if not np.all(ok):
        raise getattr(__import__("builtins"), attrs["error"])(attrs["message"])
    return [np.asarray(x)]


_register(OpSpec("require", OpGroup.MOVEMENT, 2, _require_infer, _require_reference,
                 doc="x, raising `error`(`message`) where the bool `ok` is false: an error NumPy raises "
                     "from the data (the max of an empty selection)", attrs=("error", "message")))

# ---------------------------------------------------------------------------
# gathers
# ---------------------------------------------------------------------------


def _take_infer(types, attrs):
    x, idx = types
    if idx.dtype.kind not in "iu":
        raise TypeError(f"index arrays must be integers, got {idx.dtype}")
    axis = attrs["axis"]
    return _same_dtype(x, x.shape[:axis] + idx.shape + x.shape[axis + 1:])


_register(OpSpec("take", OpGroup.GATHER, 2, _take_infer,
                 lambda a, attrs, t: [np.take(a[0], a[1], axis=attrs["axis"])],
                 doc="np.take(x, idx, axis): x[..., idx, ...] (negative indices wrap; out of range raises)",
                 attrs=("axis",)))


def _take_along_infer(types, attrs):
    x, idx = types
    if idx.dtype.kind not in "iu":
        raise TypeError(f"index arrays must be integers, got {idx.dtype}")
    axis = attrs["axis"]
    if idx.rank != x.rank:
        raise ValueError("take_along_axis: indices and arr must have the same number of dimensions")
    shape = broadcast_shapes(tuple(1 if d == axis else n for d, n in enumerate(x.shape)),
                             tuple(1 if d == axis else n for d, n in enumerate(idx.shape)))
    shape = tuple(idx.shape[d] if d == axis else n for d, n in enumerate(shape))
    return _same_dtype(x, shape)


_register(OpSpec("take_along_axis", OpGroup.GATHER, 2, _take_along_infer,
                 lambda a, attrs, t: [np.take_along_axis(a[0], a[1], axis=attrs["axis"])],
                 doc="np.take_along_axis", attrs=("axis",)))

# ---------------------------------------------------------------------------
# matmul and kernels
# ---------------------------------------------------------------------------


def _matmul_infer(types, attrs):
    a, b = types
    if a.rank < 2 or b.rank < 2:
        raise ValueError("IR matmul takes operands of rank >= 2 (the tracer reshapes vectors)")
    if a.shape[-1] != b.shape[-2]:
        raise ValueError(f"matmul: mismatch in contraction dimension: {a.shape} @ {b.shape}")
    batch = broadcast_shapes(a.shape[:-2], b.shape[:-2])
    _, dtype = resolve_ufunc("matmul", [a, b])
    return [TensorType(batch + (a.shape[-2], b.shape[-1]), dtype)]


_register(OpSpec("matmul", OpGroup.MATMUL, 2, _matmul_infer,
                 lambda a, attrs, t: [np.matmul(a[0], a[1]).astype(t[0].dtype, copy=False)],
                 ufunc="matmul", doc="np.matmul of rank>=2 operands, batch dims broadcast"))


def _kernel_infer(types, attrs):
    return [v.type for v in attrs["region"].outputs]


# a kernel's reference is its region: the interpreter runs the region graph itself
_register(OpSpec("kernel", OpGroup.KERNEL, -1, _kernel_infer, None,
              doc="a fused region (a Graph) that becomes one generated kernel",
              attrs=("name",)))

REDUCTION_NAMES = tuple(_REDUCTIONS)
SCAN_NAMES = tuple(_SCANS)
