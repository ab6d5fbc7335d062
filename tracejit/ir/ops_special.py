"""Special functions that are not NumPy ufuncs: ``erf`` and ``erfc`` (``scipy.special``).

The tracer (``tracer/foreign_ufuncs.py``) casts the operand to the loop dtype scipy's
own ufunc picks (float32 stays float32; float16, integers and bools become float64), so
these ops take and return float32 or float64 only. Backends: Numba's vectorizable
helpers (``codegen/numba_erf.py``), Triton's ``_tj_erf``/``_tj_erfc``. The reference is
scipy's ufunc itself where scipy is installed (the oracle is then what eager code runs),
else ``math.erf``/``math.erfc`` per element.

Registered into the one op table (``ops.OPS``) when ``tracejit.ir`` is imported.
"""
from __future__ import annotations

import math

import numpy as np

from .ops import OpGroup, OpSpec, _math, _register
from .types import TensorType

REAL_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def _infer(types, attrs):
    (x,) = types
    if x.dtype not in REAL_FLOATS:
        raise TypeError(f"erf/erfc ops take float32 or float64 values (the tracer casts others), got {x.dtype}")
    return [TensorType(x.shape, x.dtype)]


def _reference(name):
    def reference(arrays, attrs, out_types):
        (x,) = arrays
        try:
            import scipy.special
            result = getattr(scipy.special, name)(x)
        except ImportError:
            scalar = getattr(math, name)
            flat = [scalar(v) if v == v else math.nan for v in np.asarray(x, dtype=np.float64).ravel()]
            result = np.array(flat, dtype=np.float64).reshape(np.shape(x))
        return [np.asarray(result).astype(out_types[0].dtype, copy=False)]
    return reference


for _name in ("erf", "erfc"):
    _register(OpSpec(_name, OpGroup.UNARY, 1, _infer, _reference(_name), None, _math(_name),
                     doc=f"elementwise scipy.special.{_name} of float32/float64 values", expensive=True))
