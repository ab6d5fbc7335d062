"""Arrays as Triton pointer arguments: NumPy (interpreter), torch CUDA and CuPy (GPU).

Triton's launcher accepts any object with ``data_ptr()`` and a ``dtype``; its
interpreter additionally copies "device" storage to the host through the torch tensor
API (``untyped_storage()``, ``storage_offset()``, ``size()``, ``stride()``,
``new_empty``, ``set_``, ``copy_``). ``NumpyPointer`` provides exactly that subset over
a NumPy array, with the host copy being the array's own memory, so the interpreter
reads and writes the caller's arrays in place and no torch is needed.

Strides handed to generated kernels are always in *elements*; a broadcast view has
stride 0 along its broadcast dims.
"""
from __future__ import annotations

import os

import numpy as np


def interpreter_enabled() -> bool:
    """True when Triton runs kernels in its CPU interpreter (TRITON_INTERPRET=1 or
    ``triton.knobs.runtime.interpret``); decided before kernels are defined."""
    value = os.environ.get("TRITON_INTERPRET", "")
    if value.strip().lower() in ("1", "true", "yes", "on"):
        return True
    try:
        import triton
        return bool(triton.knobs.runtime.interpret)
    except Exception:  # triton missing or without knobs
        return False


class _HostStorage:
    """The whole memory block behind a NumPy array (its ultimate base)."""

    __slots__ = ("base", "address")

    def __init__(self, array: np.ndarray):
        base = array
        while isinstance(base.base, np.ndarray):
            base = base.base
        self.base = base
        self.address = array.__array_interface__["data"][0] if base is array else \
            base.__array_interface__["data"][0]

    def data_ptr(self) -> int:
        return self.address

    def cpu(self):
        return self          # already host memory: the interpreter works in place

    def copy_(self, other):
        return self          # same memory (see cpu); nothing to copy back


class NumpyPointer:
    """A NumPy array dressed as the torch-tensor subset Triton's interpreter uses."""

    __slots__ = ("array", "dtype", "_storage", "_offset", "_size", "_stride")

    def __init__(self, array=None, dtype=None):
        if array is None:        # an empty shell filled by set_ (interpreter's host copy)
            self.array, self.dtype = None, np.dtype(dtype)
            self._storage, self._offset, self._size, self._stride = None, 0, (0,), (1,)
            return
        self.array = array
        self.dtype = array.dtype                      # an np.dtype instance
        self._storage = _HostStorage(array)
        itemsize = array.dtype.itemsize
        delta = array.__array_interface__["data"][0] - self._storage.address
        self._offset = delta // itemsize
        self._size = tuple(array.shape)
        self._stride = element_strides(array)

    def data_ptr(self) -> int:
        return self._storage.address + self._offset * self.dtype.itemsize

    def untyped_storage(self):
        return self._storage

    def storage_offset(self) -> int:
        return self._offset

    def size(self):
        return self._size

    def stride(self):
        return self._stride

    def new_empty(self, *shape, device=None, **_):
        return NumpyPointer(None, self.dtype)

    def set_(self, storage, offset, size, stride):
        self._storage, self._offset = storage, int(offset)
        self._size, self._stride = tuple(size), tuple(stride)
        return self

    def copy_(self, other):
        return self

    def __repr__(self) -> str:
        return f"NumpyPointer({self.dtype}, size={self._size}, stride={self._stride})"


class CupyPointer:
    """A CuPy array seen as Triton's launcher expects: ``data_ptr()`` and a dtype
    (an np.dtype instance, which Triton's type mangling accepts by name)."""

    __slots__ = ("array", "dtype")

    def __init__(self, array):
        self.array = array
        self.dtype = np.dtype(array.dtype)

    def data_ptr(self) -> int:
        return int(self.array.data.ptr)


def _is_torch(array) -> bool:
    return type(array).__module__.startswith("torch")


def _is_cupy(array) -> bool:
    return type(array).__module__.startswith("cupy")


def element_strides(array) -> tuple:
    """Strides in elements of a NumPy array, torch tensor or CuPy array."""
    if _is_torch(array):
        return tuple(int(s) for s in array.stride())
    itemsize = np.dtype(array.dtype).itemsize
    strides = tuple(int(s) for s in array.strides)
    for s in strides:
        if s % itemsize:
            raise ValueError(f"stride {s} is not a multiple of the item size {itemsize}")
    return tuple(s // itemsize for s in strides)


def shape_of(array) -> tuple:
    return tuple(int(n) for n in array.shape)


def data_pointer(array) -> int:
    """Address of the first element (NumPy, torch, CuPy)."""
    if _is_torch(array):
        return int(array.data_ptr())
    if _is_cupy(array):
        return int(array.data.ptr)
    return int(array.__array_interface__["data"][0])


def as_kernel_arg(array):
    """What to pass to a Triton kernel for `array`: NumPy arrays become NumpyPointer
    (interpreter only), CuPy arrays CupyPointer, torch tensors pass through."""
    if isinstance(array, np.ndarray):
        return NumpyPointer(array)
    if _is_cupy(array):
        return CupyPointer(array)
    if _is_torch(array) or hasattr(array, "data_ptr"):
        return array
    raise TypeError(f"cannot pass {type(array).__name__} to a Triton kernel")


def error_flag_like(array):
    """A one-element int32 zero on the device of `array` (kernels set it to 1 on an error)."""
    if isinstance(array, np.ndarray):
        return np.zeros(1, np.int32)
    if _is_cupy(array):
        import cupy
        return cupy.zeros(1, cupy.int32)
    import torch
    return torch.zeros(1, dtype=torch.int32, device=array.device)


def flag_raised(flag) -> int:
    """The error code a kernel set in `flag`, 0 for none (synchronizes with the device)."""
    if isinstance(flag, np.ndarray):
        return int(flag[0])
    return int(flag[0].item()) if hasattr(flag[0], "item") else int(flag[0])
