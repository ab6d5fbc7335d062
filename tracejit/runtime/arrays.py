"""Array libraries the runtime works with: NumPy (host), torch and CuPy (GPU).

The runtime never branches on libraries itself; it asks this module which library an
argument belongs to and uses that library's allocation and view operations. Views
(reshape, transpose, broadcast, slice) are what keeps movement ops outside kernels free.
"""
from __future__ import annotations

import sys

import numpy as np

from ..ir.ops import OPS, slice_index


def array_layout(x):
    """(strides, writeable) of a NumPy array, which ``x.strides``/``x.flags`` of a traced
    argument report and a specialization that read them requires; None for other values."""
    if type(x) is np.ndarray:
        return (x.strides, x.flags.writeable)
    return None


# a layout guard that asks only for C order (``C_ORDER``, writeable): what the passes rely
# on (``CallFacts.relied_on``: C or not), the same at every size, so shape families keep it
C_ORDER = "C order"


def layout_holds(x, layout) -> bool:
    """Whether `x` has the guarded `layout`: exact strides, or C order (``C_ORDER``)."""
    if layout[0] == C_ORDER:
        if type(x) is not np.ndarray:
            return False
        flags = x.flags                  # one flags object, not one per attribute
        return flags.c_contiguous and flags.writeable == layout[1]
    return array_layout(x) == layout


class ArrayLib:
    """Allocation and view operations of one array library."""

    name = "numpy"
    on_gpu = False

    def empty(self, shape, dtype):
        return np.empty(shape, dtype)

    def reshape(self, x, shape):
        return np.reshape(x, shape)

    def transpose(self, x, perm):
        return np.transpose(x, perm)

    def broadcast_to(self, x, shape):
        return np.broadcast_to(x, shape)

    def slice(self, x, starts, steps, shape):
        return x[slice_index(starts, steps, shape)]

    def bitcast(self, x, dtype):
        return x.view(dtype)

    def view(self, op: str, attrs: dict, x):
        """The view op `op` of `x` (reshape, transpose, broadcast_to, slice, bitcast) with
        NumPy's view semantics."""
        if op == "bitcast":
            return self.bitcast(x, attrs["dtype"])
        if op == "reshape":
            return self.reshape(x, attrs["shape"])
        if op == "transpose":
            return self.transpose(x, attrs["perm"])
        if op == "broadcast_to":
            return self.broadcast_to(x, attrs["shape"])
        return self.slice(x, attrs["starts"], attrs["steps"], attrs["shape"])

    def shape_dtype(self, x):
        return tuple(x.shape), np.dtype(x.dtype)

    def to_numpy(self, x):
        return np.asarray(x)

    def copy(self, x):
        """New, writeable, C-ordered memory holding `x` (a buffer of the runtime's own)."""
        return np.array(x, copy=True, order="C")

    def copy_result(self, x):
        """New, writeable memory holding `x`, laid out as NumPy's ``np.copy`` lays it out
        (order 'K': ``np.array(x.T)`` is F-ordered); for results where NumPy returns new
        memory. A layout the program requested (``x.T.copy()``) is ``relayout.py``'s."""
        return np.array(x, copy=True, order="K")

    def is_dense(self, x, value_type) -> bool:
        """`x` can serve as a kernel's output buffer of `value_type` (C-contiguous, writeable)."""
        return (isinstance(x, np.ndarray) and x.flags.c_contiguous and x.flags.writeable and x.flags.aligned
                and x.shape == tuple(value_type.shape) and x.dtype == value_type.dtype)

    def copy_into(self, dst, src):
        """Write `src` into the caller's array `dst` (a write the function made)."""
        if dst is not src:
            np.copyto(dst, src)

    def write_slice(self, dst, starts, steps, shape, src):
        """dst[the slice] = src (broadcast): a write the function made into part of `dst`."""
        dst[slice_index(starts, steps, shape)] = src

    def from_numpy(self, x):
        return x

    def library(self, name: str, attrs: dict, arrays, out_types) -> list:
        """A library op (``ir/ops_library.py``): on the CPU its NumPy reference, NumPy
        and LAPACK themselves (results and errors are NumPy's)."""
        return OPS[name].reference(arrays, attrs, out_types)

    def scalar_result(self, x, weak: bool):
        """What a 0-d result becomes: a Python number when weak, a NumPy scalar else."""
        value = np.asarray(x)[()]
        return value.item() if weak else value


class TorchLib(ArrayLib):
    name = "torch"
    on_gpu = True

    def __init__(self, device):
        import torch
        self.torch = torch
        self.device = device

    def _dtype(self, dtype):
        return getattr(self.torch, np.dtype(dtype).name if np.dtype(dtype) != np.bool_ else "bool")

    def empty(self, shape, dtype):
        return self.torch.empty(tuple(shape), dtype=self._dtype(dtype), device=self.device)

    def reshape(self, x, shape):
        return x.reshape(tuple(shape))

    def transpose(self, x, perm):
        return x.permute(*perm)

    def broadcast_to(self, x, shape):
        return x.expand(*shape)

    def slice(self, x, starts, steps, shape):
        if any(s < 0 for s in steps):  # torch has no negative-step slices
            flips = [d for d, s in enumerate(steps) if s < 0]
            x = x.flip(flips)
            starts = [x.shape[d] - 1 - s if d in flips else s for d, s in enumerate(starts)]
            steps = [-s if d in flips else s for d, s in enumerate(steps)]
        return x[slice_index(starts, steps, shape)]

    def shape_dtype(self, x):
        return tuple(x.shape), np.dtype(str(x.dtype).replace("torch.", ""))

    def to_numpy(self, x):
        return x.detach().cpu().numpy()

    def copy(self, x):
        return x.clone()

    def copy_result(self, x):
        return x.clone()

    def is_dense(self, x, value_type) -> bool:
        return (isinstance(x, self.torch.Tensor) and x.is_contiguous() and tuple(x.shape) == tuple(value_type.shape)
                and self.shape_dtype(x)[1] == value_type.dtype
                and x.device.type == self.torch.device(self.device).type)

    def copy_into(self, dst, src):
        if dst is not src:
            dst.copy_(src)

    def write_slice(self, dst, starts, steps, shape, src):
        flips = [d for d, s in enumerate(steps) if s < 0]
        if flips:       # torch has no negative-step views: write the reversed values forwards
            src = self.torch.broadcast_to(self.torch.as_tensor(src, device=dst.device), tuple(shape)).flip(flips)
            starts = [s + (n - 1) * st if st < 0 else s for s, st, n in zip(starts, steps, shape)]
            steps = [abs(st) for st in steps]
        dst[slice_index(starts, steps, shape)] = src

    def from_numpy(self, x):
        return self.torch.as_tensor(np.asarray(x, order="C"), device=self.device)

    def bitcast(self, x, dtype):
        return x.view(self._dtype(dtype))

    def library(self, name, attrs, arrays, out_types):
        from .library import torch_library
        return torch_library(self, name, attrs, arrays, out_types)

    def scalar_result(self, x, weak: bool):
        return x.item() if weak else x


class CupyLib(ArrayLib):
    name = "cupy"
    on_gpu = True

    def __init__(self):
        import cupy
        self.cp = cupy

    def empty(self, shape, dtype):
        return self.cp.empty(tuple(shape), dtype)

    def reshape(self, x, shape):
        return self.cp.reshape(x, tuple(shape))

    def transpose(self, x, perm):
        return self.cp.transpose(x, perm)

    def broadcast_to(self, x, shape):
        return self.cp.broadcast_to(x, tuple(shape))

    def to_numpy(self, x):
        return self.cp.asnumpy(x)

    def copy(self, x):
        return x.copy()

    def copy_result(self, x):
        return x.copy()

    def is_dense(self, x, value_type) -> bool:
        return (isinstance(x, self.cp.ndarray) and x.flags.c_contiguous and x.shape == tuple(value_type.shape)
                and x.dtype == value_type.dtype)

    def copy_into(self, dst, src):
        if dst is not src:
            self.cp.copyto(dst, src)

    def from_numpy(self, x):
        return self.cp.asarray(x)

    def library(self, name, attrs, arrays, out_types):
        from .library import cupy_library
        return cupy_library(self, name, attrs, arrays, out_types)

    def scalar_result(self, x, weak: bool):
        return x.item() if weak else x


NUMPY = ArrayLib()


def library_of(x):
    """The ArrayLib for an argument array, or None when it is not an array we know."""
    if isinstance(x, (np.ndarray, np.generic)):
        return NUMPY
    module = type(x).__module__ or ""
    if module.startswith("torch") and "torch" in sys.modules:
        import torch
        if isinstance(x, torch.Tensor) and x.is_cuda:
            return TorchLib(x.device)
    if module.startswith("cupy") and "cupy" in sys.modules:
        return CupyLib()
    return None
