"""The discrete Fourier transform as a library op: ``fft`` along one axis, of kind
``fft``, ``ifft``, ``rfft`` or ``irfft``, with NumPy's ``n`` and ``norm``.

A library op like the sorts and LAPACK calls (``ops_library.py``): on the CPU the plan
runs the reference, which is ``numpy.fft`` itself, so results are NumPy's bit for bit;
on the GPU torch.fft or cupy.fft (``runtime/library.py``). The result dtype is the one
``numpy.fft`` gives (float32 and float16 in complex64, integers and bools in
complex128; irfft of float16 stays float16), asked of NumPy on a two-element array.
n-dimensional transforms are sequences of these (``tracer/fft.py``).

Registered into the one op table (``ops.OPS``) when ``tracejit.ir`` is imported.
"""
from __future__ import annotations

import functools

import numpy as np

from .ops import OpGroup, OpSpec, _register
from .types import TensorType

KINDS = ("fft", "ifft", "rfft", "irfft")
NORMS = (None, "backward", "ortho", "forward")


@functools.lru_cache(maxsize=None)
def result_dtype(kind: str, dtype) -> np.dtype:
    """numpy.fft's result dtype for `dtype` input (TypeError as NumPy's: rfft of complex)."""
    return getattr(np.fft, kind)(np.zeros(2, dtype=dtype), n=2).dtype


def _infer(types, attrs):
    (x,) = types
    kind, n, axis = attrs["kind"], attrs["n"], attrs["axis"]
    if not 0 <= axis < x.rank:
        raise ValueError(f"axis {axis} is out of bounds for array of dimension {x.rank}")
    if n < 1:
        raise ValueError(f"Invalid number of FFT data points ({n}) specified.")
    length = n // 2 + 1 if kind == "rfft" else n
    shape = x.shape[:axis] + (length,) + x.shape[axis + 1:]
    return [TensorType(shape, result_dtype(kind, x.dtype))]


def _reference(arrays, attrs, out_types):
    result = getattr(np.fft, attrs["kind"])(arrays[0], n=attrs["n"], axis=attrs["axis"], norm=attrs["norm"])
    return [np.asarray(result).astype(out_types[0].dtype, copy=False)]


_register(OpSpec("fft", OpGroup.LIBRARY, 1, _infer, _reference,
                 doc="numpy.fft's fft/ifft/rfft/irfft (`kind`) along `axis`, `n` points, `norm`",
                 attrs=("kind", "n", "axis", "norm")))
