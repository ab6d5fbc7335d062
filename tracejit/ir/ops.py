"""The closed set of IR operations.

Everything about one op sits in one ``OpSpec``: its group, arity, its shape/dtype
rule, its NumPy reference implementation and, for elementwise ops, the expression
templates of each backend. Adding an op is one local change here;
``tests/ir/test_ops_complete.py`` checks that every op has all of its parts.

Emitter templates are Python format strings over the operand expressions ``{0}``,
``{1}``, ``{2}`` (already cast to the op's loop dtype) and ``{t}``, the backend's name
for the loop dtype (``np.float32`` for Numba, ``tl.float32`` for Triton). A template
may be a dict keyed by the loop dtype's kind (``"b"``, ``"i"``, ``"u"``, ``"f"``) with a
``"*"`` default. Names ``_tj_*`` refer to helpers each backend defines in its prelude.
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
    MOVEMENT = "movement"    # reshape, transpose, broadcast_to, slice, concat, pad
    GATHER = "gather"        # take, take_along_axis
    MATMUL = "matmul"
    KERNEL = "kernel"        # a fused region, produced by the fusion pass


ELEMENTWISE_GROUPS = (OpGroup.UNARY, OpGroup.BINARY, OpGroup.TERNARY, OpGroup.CAST)


@dataclass(frozen=True, eq=False)
class OpSpec:
    name: str
    group: OpGroup
    arity: int                       # -1: variadic
    infer: Callable                  # (input types, attrs) -> list[TensorType]
    reference: Callable              # (input arrays, attrs) -> list[np.ndarray]
    ufunc: str | None = None         # NumPy ufunc whose dtype rules the op follows
    numba: object = None             # emitter template(s), elementwise only
    triton: object = None
    doc: str = ""
    attrs: tuple = field(default=())  # attribute names, in printing order

    @property
    def is_elementwise(self) -> bool:
        return self.group in ELEMENTWISE_GROUPS

    def __repr__(self) -> str:
        return f"<op {self.name}>"


OPS: dict[str, OpSpec] = {}


def _register(spec: OpSpec) -> OpSpec:
    assert spec.name not in OPS, spec.name
    OPS[spec.name] = spec
    return spec


def template_for(template, kind: str) -> str:
    """Pick the template for a loop dtype kind from a str-or-dict template."""
    if isinstance(template, dict):
        return template.get(kind, template["*"])
    return template


# ---------------------------------------------------------------------------
# elementwise: one line an op, (name, ufunc, numba template, triton template)
# ---------------------------------------------------------------------------

def _elementwise_infer(ufunc_name):
    def infer(types, attrs):
        _, out = resolve_ufunc(ufunc_name, types)
        shape = broadcast_shapes(*(t.shape for t in types))
        weak = attrs.get("weak_result", False)
        return [TensorType(shape, out, weak)]
    return infer


def loop_dtypes(spec: OpSpec, types) -> tuple:
    """The dtypes NumPy's inner loop computes an elementwise op in."""
    ins, _ = resolve_ufunc(spec.ufunc, types)
    return ins


_UNARY = [
    # name           ufunc          numba                                triton
    ("neg",          "negative",    "(-{0})",                            "(-{0})"),
    ("abs",          "absolute",    {"b": "{0}", "*": "abs({0})"},      {"b": "{0}", "*": "tl.abs({0})"}),
    ("sign",         "sign",        "_tj_sign({0})",                     "_tj_sign({0})"),
    ("sqrt",         "sqrt",        "np.sqrt({0})",                      "_tj_sqrt({0})"),
    ("square",       "square",      "({0} * {0})",                       "({0} * {0})"),
    ("reciprocal",   "reciprocal",  {"f": "({t}(1) / {0})", "*": "_tj_int_reciprocal({0})"},
                                    {"f": "(1.0 / {0})", "*": "_tj_int_reciprocal({0})"}),
    ("exp",          "exp",         "np.exp({0})",                       "_tj_exp({0})"),
    ("exp2",         "exp2",        "np.exp2({0})",                      "_tj_exp2({0})"),
    ("expm1",        "expm1",       "np.expm1({0})",                     "_tj_expm1({0})"),
    ("log",          "log",         "np.log({0})",                       "_tj_log({0})"),
    ("log2",         "log2",        "np.log2({0})",                      "_tj_log2({0})"),
    ("log10",        "log10",       "np.log10({0})",                     "_tj_log10({0})"),
    ("log1p",        "log1p",       "np.log1p({0})",                     "_tj_log1p({0})"),
    ("sin",          "sin",         "np.sin({0})",                       "_tj_sin({0})"),
    ("cos",          "cos",         "np.cos({0})",                       "_tj_cos({0})"),
    ("tan",          "tan",         "np.tan({0})",                       "_tj_tan({0})"),
    ("arcsin",       "arcsin",      "np.arcsin({0})",                    "_tj_arcsin({0})"),
    ("arccos",       "arccos",      "np.arccos({0})",                    "_tj_arccos({0})"),
    ("arctan",       "arctan",      "np.arctan({0})",                    "_tj_arctan({0})"),
    ("sinh",         "sinh",        "np.sinh({0})",                      "_tj_sinh({0})"),
    ("cosh",         "cosh",        "np.cosh({0})",                      "_tj_cosh({0})"),
    ("tanh",         "tanh",        "np.tanh({0})",                      "_tj_tanh({0})"),
    ("arcsinh",      "arcsinh",     "np.arcsinh({0})",                   "_tj_arcsinh({0})"),
    ("arccosh",      "arccosh",     "np.arccosh({0})",                   "_tj_arccosh({0})"),
    ("arctanh",      "arctanh",     "np.arctanh({0})",                   "_tj_arctanh({0})"),
    ("floor",        "floor",       {"f": "np.floor({0})", "*": "{0}"},  {"f": "tl.floor({0})", "*": "{0}"}),
    ("ceil",         "ceil",        {"f": "np.ceil({0})", "*": "{0}"},   {"f": "tl.ceil({0})", "*": "{0}"}),
    ("trunc",        "trunc",       {"f": "np.trunc({0})", "*": "{0}"},  {"f": "_tj_trunc({0})", "*": "{0}"}),
    ("rint",         "rint",        {"f": "np.rint({0})", "*": "{0}"},   {"f": "_tj_rint({0})", "*": "{0}"}),
    ("isnan",        "isnan",       {"f": "np.isnan({0})", "*": "False"}, {"f": "({0} != {0})", "*": "({0} != {0})"}),
    ("isinf",        "isinf",       {"f": "np.isinf({0})", "*": "False"}, {"f": "_tj_isinf({0})", "*": "({0} != {0})"}),
    ("isfinite",     "isfinite",    {"f": "np.isfinite({0})", "*": "True"}, {"f": "_tj_isfinite({0})", "*": "({0} == {0})"}),
    ("logical_not",  "logical_not", "({0} == 0)",                        "({0} == 0)"),
    ("invert",       "invert",      {"b": "(not {0})", "*": "(~{0})"},   {"b": "({0} == 0)", "*": "(~{0})"}),
]

_BINARY = [
    ("add",          "add",          {"b": "({0} or {1})", "*": "({0} + {1})"}, {"b": "({0} | {1})", "*": "({0} + {1})"}),
    ("sub",          "subtract",     "({0} - {1})",                      "({0} - {1})"),
    ("mul",          "multiply",     {"b": "({0} and {1})", "*": "({0} * {1})"}, {"b": "({0} & {1})", "*": "({0} * {1})"}),
    ("div",          "true_divide",  "({0} / {1})",                      "_tj_div({0}, {1})"),
    ("floordiv",     "floor_divide", "({0} // {1})",                     "_tj_floordiv({0}, {1})"),
    ("mod",          "remainder",    "({0} % {1})",                      "_tj_mod({0}, {1})"),
    ("pow",          "power",        {"f": "_tj_fpow({0}, {1})", "*": "_tj_ipow({0}, {1})"}, "_tj_pow({0}, {1})"),
    ("arctan2",      "arctan2",      "np.arctan2({0}, {1})",             "_tj_arctan2({0}, {1})"),
    ("maximum",      "maximum",      "_tj_maximum({0}, {1})",            "_tj_maximum({0}, {1})"),
    ("minimum",      "minimum",      "_tj_minimum({0}, {1})",            "_tj_minimum({0}, {1})"),
    ("fmax",         "fmax",         "_tj_fmax({0}, {1})",               "_tj_fmax({0}, {1})"),
    ("fmin",         "fmin",         "_tj_fmin({0}, {1})",               "_tj_fmin({0}, {1})"),
    ("eq",           "equal",        "({0} == {1})",                     "({0} == {1})"),
    ("ne",           "not_equal",    "({0} != {1})",                     "({0} != {1})"),
    ("lt",           "less",         "({0} < {1})",                      "({0} < {1})"),
    ("le",           "less_equal",   "({0} <= {1})",                     "({0} <= {1})"),
    ("gt",           "greater",      "({0} > {1})",                      "({0} > {1})"),
    ("ge",           "greater_equal", "({0} >= {1})",                    "({0} >= {1})"),
    ("logical_and",  "logical_and",  "(({0} != 0) and ({1} != 0))",      "(({0} != 0) & ({1} != 0))"),
    ("logical_or",   "logical_or",   "(({0} != 0) or ({1} != 0))",       "(({0} != 0) | ({1} != 0))"),
    ("logical_xor",  "logical_xor",  "(({0} != 0) != ({1} != 0))",       "(({0} != 0) != ({1} != 0))"),
    ("bitwise_and",  "bitwise_and",  "({0} & {1})",                      "({0} & {1})"),
    ("bitwise_or",   "bitwise_or",   "({0} | {1})",                      "({0} | {1})"),
    ("bitwise_xor",  "bitwise_xor",  "({0} ^ {1})",                      "({0} ^ {1})"),
]

for _name, _ufunc, _nb, _tr in _UNARY:
    _register(OpSpec(_name, OpGroup.UNARY, 1, _elementwise_infer(_ufunc), None, _ufunc, _nb, _tr,
                     doc=f"elementwise np.{_ufunc}"))
for _name, _ufunc, _nb, _tr in _BINARY:
    _register(OpSpec(_name, OpGroup.BINARY, 2, _elementwise_infer(_ufunc), None, _ufunc, _nb, _tr,
                     doc=f"elementwise np.{_ufunc}, NumPy broadcasting"))


def _ufunc_reference(spec: OpSpec):
    ufunc = getattr(np, spec.ufunc)

    def reference(arrays, attrs, out_types):
        with np.errstate(all="ignore"):
            result = ufunc(*arrays)
        return [np.asarray(result).astype(out_types[0].dtype, copy=False)]
    return reference


for _spec in list(OPS.values()):
    object.__setattr__(_spec, "reference", _ufunc_reference(_spec))


# --- where and cast ---------------------------------------------------------

def _where_infer(types, attrs):
    cond, a, b = types
    weak_stand_in = {"b": False, "i": 0, "u": 0, "f": 0.0}
    operands = [weak_stand_in[t.dtype.kind] if t.weak else t.dtype for t in (a, b)]
    dtype = np.result_type(*operands)
    shape = broadcast_shapes(cond.shape, a.shape, b.shape)
    return [TensorType(shape, dtype, attrs.get("weak_result", False))]


def _where_reference(arrays, attrs, out_types):
    return [np.asarray(np.where(*arrays)).astype(out_types[0].dtype, copy=False)]


_register(OpSpec("where", OpGroup.TERNARY, 3, _where_infer, _where_reference, None,
                 "({1} if {0} else {2})", "tl.where({0}, {1}, {2})",
                 doc="np.where(cond, a, b): a where cond is true, else b"))


def _cast_infer(types, attrs):
    (x,) = types
    return [TensorType(x.shape, attrs["dtype"], attrs.get("weak_result", False))]


def _cast_reference(arrays, attrs, out_types):
    with np.errstate(all="ignore"):
        return [np.asarray(arrays[0]).astype(attrs["dtype"])]


_register(OpSpec("cast", OpGroup.CAST, 1, _cast_infer, _cast_reference, None,
                 "{t}({0})", "{0}.to({t})", doc="x.astype(dtype) (C-style conversion)",
                 attrs=("dtype",)))

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
# reductions: attrs axes (sorted non-negative tuple) and keepdims
# ---------------------------------------------------------------------------

_REDUCTIONS = {
    # name         NumPy function     identity (None: none)
    "reduce_sum": (np.sum, 0),
    "reduce_prod": (np.prod, 1),
    "reduce_max": (np.max, None),
    "reduce_min": (np.min, None),
    "reduce_any": (np.any, False),
    "reduce_all": (np.all, True),
    "argmax": (np.argmax, None),
    "argmin": (np.argmin, None),
}


def reduced_shape(shape, axes, keepdims) -> tuple:
    if keepdims:
        return tuple(1 if d in axes else n for d, n in enumerate(shape))
    return tuple(n for d, n in enumerate(shape) if d not in axes)


def _reduction_infer(name):
    func, identity = _REDUCTIONS[name]

    def infer(types, attrs):
        (x,) = types
        axes, keepdims = attrs["axes"], attrs["keepdims"]
        if identity is None and any(x.shape[a] == 0 for a in axes):
            raise ValueError(f"zero-size array to reduction operation {name} which has no identity")
        sample = np.zeros((1,) * max(x.rank, 1), x.dtype)
        if name.startswith("arg"):
            dtype = np.dtype(np.intp)
        else:
            dtype = np.asarray(func(sample)).dtype
        return [TensorType(reduced_shape(x.shape, axes, keepdims), dtype)]
    return infer


def _reduction_reference(name):
    func, _ = _REDUCTIONS[name]

    def reference(arrays, attrs, out_types):
        (x,) = arrays
        axes, keepdims = attrs["axes"], attrs["keepdims"]
        with np.errstate(all="ignore"):
            if name.startswith("arg"):
                result = func(x, axis=axes[0], keepdims=keepdims)
            else:
                result = func(x, axis=axes, keepdims=keepdims)
        return [np.asarray(result).astype(out_types[0].dtype, copy=False)]
    return reference


def reduction_identity(name):
    return _REDUCTIONS[name][1]


for _name in _REDUCTIONS:
    _register(OpSpec(_name, OpGroup.REDUCTION, 1, _reduction_infer(_name), _reduction_reference(_name),
                     doc=f"{_REDUCTIONS[_name][0].__name__} over `axes`"
                         + (" (one axis)" if _name.startswith("arg") else ""),
                     attrs=("axes", "keepdims")))

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

# ---------------------------------------------------------------------------
# gathers
# ---------------------------------------------------------------------------


def _take_infer(types, attrs):
    x, idx = types
    if idx.dtype.kind not in "iu":
        raise TypeError(f"index arrays must be integers, got {idx.dtype}")
    axis = attrs["axis"]
    return _same_dtype(x, x.shape[:axis] + idx.shape + x.shape[axis + 1:])


def _take_reference(arrays, attrs, out_types):
    x, idx = arrays
    axis = attrs["axis"]
    return [np.take(x, idx, axis=axis)]


_register(OpSpec("take", OpGroup.GATHER, 2, _take_infer, _take_reference,
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
    region = attrs["region"]
    return [v.type for v in region.outputs]


def _kernel_reference(arrays, attrs, out_types):
    from .interpreter import run_graph  # the region is itself a Graph
    return run_graph(attrs["region"], list(arrays))


_register(OpSpec("kernel", OpGroup.KERNEL, -1, _kernel_infer, _kernel_reference,
                 doc="a fused region (a Graph) that becomes one generated kernel",
                 attrs=("name",)))

REDUCTION_NAMES = tuple(_REDUCTIONS)
