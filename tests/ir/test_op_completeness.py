"""Every op of the op table has all of its parts (the promise of ``ir/ops.py``):

- a doc string, a shape/dtype rule, and a NumPy reference (kernels: their region);
- elementwise ops: a template for every backend, for every real dtype NumPy has a loop
  for (float16 computes in float32's), and every ``_tj_*`` helper a template calls exists
  in that backend's prelude; complex loops only where an op opts in (the CPU backend's
  complex table), the rest falls back to eager NumPy;
- reductions and scans: a ReductionKind whose combine op is itself complete;
- sources, movement ops and gathers: an index rule of the loop-nest lowering;
- matmul: every backend's code generator handles it;
- loop: the interpreter and the plan run its body (tests/passes/test_roll.py);
- library ops (sort, LAPACK): a NumPy reference the CPU plan calls itself, and a torch
  and a CuPy implementation (or the documented host path) in ``runtime/library.py``.
So adding an op is one local change, and a missing part fails here, not in a user's call.
"""
import re

import numpy as np
import pytest

from tracejit.codegen import numba_dialect, triton_dialect, triton_prelude
from tracejit.ir import OPS, OpGroup, TensorType
from tracejit.ir import ops as op_table
from tracejit.ir import ops_special
from tracejit.ir.loopnest import INDEX_RULES
from tracejit.ir.types import SUPPORTED_DTYPES, resolve_ufunc

BACKENDS = {"numba": numba_dialect.helper_names(), "triton": set(triton_prelude.HELPERS)}


def _loop_dtypes(spec):
    """The loop dtypes NumPy computes `spec` in, over every supported input dtype."""
    if spec.name in ("cast", "where"):
        return list(SUPPORTED_DTYPES)
    if spec.name == "bitcast":
        return list(op_table.BITCAST_DTYPES)
    if spec.name in ("erf", "erfc"):             # scipy.special's: the tracer casts to these
        return list(ops_special.REAL_FLOATS)
    if spec.ufunc is None:                       # real, imag
        return [d for d in SUPPORTED_DTYPES if d.kind == "c"]
    found = set()
    for dtype in SUPPORTED_DTYPES:
        try:
            ins, _ = resolve_ufunc(spec.ufunc, [TensorType((), dtype)] * spec.arity)
        except TypeError:
            continue
        if np.dtype(ins[0]) in SUPPORTED_DTYPES:     # (float16 loops: the tracer refuses them)
            found.add(np.dtype(ins[0]))
    return sorted(found, key=str)


@pytest.mark.parametrize("name", sorted(OPS))
def test_op_has_doc_rule_and_reference(name):
    spec = OPS[name]
    assert spec.doc, f"{name}: no doc"
    assert callable(spec.infer), f"{name}: no shape/dtype rule"
    if spec.group in (OpGroup.KERNEL, OpGroup.LOOP):
        assert spec.reference is None      # the interpreter runs the region (the body) itself
    else:
        assert callable(spec.reference), f"{name}: no NumPy reference"


@pytest.mark.parametrize("name", sorted(n for n, s in OPS.items() if s.is_elementwise))
@pytest.mark.parametrize("backend", sorted(BACKENDS))
def test_elementwise_op_has_a_template_per_backend_and_dtype(name, backend):
    spec = OPS[name]
    dtypes = _loop_dtypes(spec)
    assert dtypes, f"{name}: NumPy has no loop for any supported dtype"
    complex_ops = set(op_table._COMPLEX_NUMBA) | {"real", "imag"}
    for dtype in dtypes:
        if dtype.kind == "c" and (backend != "numba" or name not in complex_ops):
            assert spec.template(backend, dtype) is None, f"{name}: a real formula applied to {dtype}"
            continue
        if dtype == np.float16:
            dtype = np.dtype(np.float32)         # both backends compute float16 ops in float32
        template = spec.template(backend, dtype)
        assert template, f"{name}: no {backend} template for {dtype}"
        for helper in re.findall(r"_tj_\w+", template):
            assert helper in BACKENDS[backend], f"{name}: {backend} template calls undefined {helper}"
        template.format(*["a"] * max(spec.arity, 1), t="T", out="U")        # a well-formed format string


@pytest.mark.parametrize("name", sorted(n for n, s in OPS.items() if s.group in (OpGroup.REDUCTION, OpGroup.SCAN)))
def test_reductions_and_scans_are_data(name):
    kind = OPS[name].reduction
    assert kind is not None, f"{name}: no ReductionKind"
    combine = OPS[kind.combine]
    assert combine.is_elementwise and combine.arity == 2, f"{name}: combine {kind.combine} is not a binary op"
    for dtype in SUPPORTED_DTYPES:
        kind.identity(dtype)                       # an identity for every dtype
    if kind.arg:
        for backend, helpers in BACKENDS.items():
            if backend == "triton":
                assert f"_tj_arg_{kind.combine}_combine" in helpers


@pytest.mark.parametrize("name", sorted(n for n, s in OPS.items()
                                        if s.group in (OpGroup.SOURCE, OpGroup.MOVEMENT, OpGroup.GATHER)))
def test_index_ops_have_a_lowering_rule(name):
    assert name in INDEX_RULES, f"{name}: no index rule in ir/loopnest.py"


def test_matmul_in_every_code_generator():
    from tracejit.ir import GraphBuilder
    from tracejit.ir.loopnest import lower_region
    b = GraphBuilder("mm")
    x = b.add_input(TensorType((3, 4), np.float32))
    w = b.add_input(TensorType((4, 5), np.float32))
    nest = lower_region(b.finish([b.emit("tanh", [b.emit("matmul", [x, w])])]))
    numba_source = numba_dialect.generate_source(nest)[0]
    triton_source = triton_dialect.generate(nest)[0]
    assert "mm = np.matmul(in0, in1) as float32: computed by the caller" in numba_source   # BLAS, then the epilogue
    assert "acc += tl.dot(a, b" in triton_source and "_tj_tanh(" in triton_source


@pytest.mark.parametrize("name", sorted(n for n, s in OPS.items() if s.group is OpGroup.LIBRARY))
def test_library_ops_run_on_every_array_library(name):
    """Each library op has a torch and a CuPy case, or is one the GPU runs on the host
    (``library.HOST_ONLY``), which the module's docstring names."""
    import inspect
    from tracejit.runtime import library
    if name in library.HOST_ONLY:
        assert name in library.__doc__
        return
    for implementation in (library._torch_op, library._cupy_op):
        assert f'"{name}"' in inspect.getsource(implementation), f"{name}: no case in {implementation.__name__}"


def test_every_group_is_covered():
    """A new group needs a rule here before it can be added."""
    assert set(OpGroup) == {OpGroup.UNARY, OpGroup.BINARY, OpGroup.TERNARY, OpGroup.CAST, OpGroup.SOURCE,
                            OpGroup.REDUCTION, OpGroup.SCAN, OpGroup.MOVEMENT, OpGroup.GATHER,
                            OpGroup.MATMUL, OpGroup.KERNEL, OpGroup.LOOP, OpGroup.LIBRARY}
