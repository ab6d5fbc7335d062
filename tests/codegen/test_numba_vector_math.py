"""The vectorizable math helpers inside generated Numba kernels: every (op, dtype) of
the helper tables has its op-table template and its import, kernels computing sin,
cos, tan, arctan, exp2, log1p and power (float16, float32, float64) use the helpers
(no np.sin/np.power left) and match the reference interpreter on values including
huge arguments and special values; the issue's example kernel, sin(x) * cos(x) +
x**2, is vectorized; Triton's templates are untouched."""
from __future__ import annotations

import importlib

import numpy as np
import pytest

from tests.codegen.ulp import is_vectorized
from tracejit.codegen import numba_dialect
from tracejit.codegen.vector_math_names import VECTOR_MATH
from tracejit.ir.ops import OPS

UNARY = ["sin", "cos", "tan", "arctan", "exp2", "log1p"]
# float16 results are float32 results rounded: one float16 ulp where float32 roundings differ
HALF_TOL = {np.dtype(np.float16): dict(rtol=2e-3, atol=1e-6)}


def test_every_helper_is_reachable_from_the_op_table():
    for name, table in VECTOR_MATH.items():
        module = importlib.import_module(f"tracejit.codegen.{name}")
        assert module.VECTOR_MATH == table
        for (op, dtype), fn in table.items():
            spec = OPS[op]
            template = spec.template("numba", dtype)
            tag = f"_tj_v{op}_{dtype[0]}{dtype[-2:]}"
            assert template.startswith(tag + "("), (op, dtype, template)
            assert numba_dialect.IMPORTED[tag] == (name, fn)
            assert hasattr(module, fn)


def test_triton_templates_unchanged():
    for op in UNARY:
        assert OPS[op].template("triton", np.float32) == f"_tj_{op}({{0}})"
    assert OPS["pow"].template("triton", np.float32) == "_tj_pow({0}, {1})"


def values(dtype, rng, n=301):
    dtype = np.dtype(dtype)
    info = np.finfo(dtype)
    x = np.concatenate([rng.uniform(-10, 10, n), [0.0, -0.0, np.inf, -np.inf, np.nan, 1e30,
                                                  -1e30, float(info.max), float(info.tiny),
                                                  0.5, -0.5, 1.0, -1.0, 3.0, 60.0]])
    with np.errstate(over="ignore"):
        return x.astype(dtype)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("op", UNARY)
def test_unary_kernels_use_the_helpers(op, dtype, rng, builder, check):
    x = values(dtype, rng)
    b, (xv,) = builder(f"vm_{op}_{np.dtype(dtype).name}", (x.shape, dtype))
    (got,), kernel = check(b.finish([b.emit(op, [xv])]), [x], **HALF_TOL.get(np.dtype(dtype), {}))
    compute = "f64" if dtype == np.float64 else "f32"
    assert f"_tj_v{op}_{compute}(" in kernel.source
    assert f"np.{op}(" not in kernel.source


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_power_kernels_use_the_helper(dtype, rng, builder, check):
    x = np.abs(values(dtype, rng)) * np.where(np.arange(316) % 3 == 0, -1, 1).astype(dtype)
    y = np.concatenate([rng.uniform(-4, 4, 300), np.arange(-3, 3), [0, np.nan, np.inf, -np.inf, 0.5,
                                                                    -0.5, 2, 3, 1e3, -1e3]])
    y = y[:len(x)].astype(dtype)
    b, (xv, yv) = builder(f"vm_pow_{np.dtype(dtype).name}", (x.shape, dtype), (y.shape, dtype))
    (got,), kernel = check(b.finish([b.emit("pow", [xv, yv])]), [x, y], **HALF_TOL.get(np.dtype(dtype), {}))
    compute = "f64" if dtype == np.float64 else "f32"
    assert f"_tj_vpow_{compute}(" in kernel.source and "np.power(" not in kernel.source


def test_sin_cos_square_kernel_is_vectorized(rng, builder, check):
    """The issue's example, sin(x) * cos(x) + x**2 on float32, as the code generator
    writes it: the kernel loop is vector code with every helper inlined."""
    b, (x,) = builder("sin_cos_sq", ((1000,), np.float32))
    two = b.emit("constant", [], {"value": 2, "dtype": np.dtype(np.int64), "weak_result": True})
    out = b.emit("add", [b.emit("mul", [b.emit("sin", [x]), b.emit("cos", [x])]), b.emit("pow", [x, two])])
    data = (rng.standard_normal(1000) * 10).astype(np.float32)
    (got,), kernel = check(b.finish([out]), [data])
    fn, signature = kernel.function, kernel.numba_signatures()[0]
    fn.compile(signature)            # the run compiled it without Numba's wrappers: again here
    assert is_vectorized(fn.inspect_llvm(signature))
