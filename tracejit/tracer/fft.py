"""numpy.fft on traced arrays: the 1-D transforms as the ``fft`` library op
(``ir/ops_fft.py``), the 2-D and n-D ones as numpy.fft composes them (one 1-D transform
per axis, in NumPy's order, so results are bit for bit NumPy's on the CPU), and
``fftshift``/``ifftshift`` as NumPy's rolls.

``out=`` runs eagerly, as does an n-D call with ``s`` but no ``axes`` (deprecated by
NumPy 2, which warns).
"""
from __future__ import annotations

import operator

import numpy as np
from numpy.lib.array_utils import normalize_axis_index

from ..ir.ops_fft import NORMS
from .errors import UnsupportedError
from .location import user_loc
from .shapes import as_traced, roll
from .state import current, wrap


def _no_out(name, out):
    if out is not None:
        raise UnsupportedError(f"np.fft.{name}(..., out=...)", f"np.fft.{name}", user_loc())


def _check_norm(norm):
    if norm not in NORMS:
        raise ValueError(f'Invalid norm value {norm}; should be "backward","ortho" or "forward".')


def _transform(kind, a, n, axis, norm):
    x = as_traced(a)
    axis = normalize_axis_index(operator.index(axis), x.ndim)
    if n is None:
        n = 2 * (x.shape[axis] - 1) if kind == "irfft" else x.shape[axis]
    n = operator.index(n)
    if n < 1:
        raise ValueError(f"Invalid number of FFT data points ({n}) specified.")
    _check_norm(norm)
    return wrap(current().emit("fft", [x._value], {"kind": kind, "n": n, "axis": axis, "norm": norm}))


def _one_dimensional(kind):
    def transform(a, n=None, axis=-1, norm=None, out=None):
        _no_out(kind, out)
        return _transform(kind, a, n, axis, norm)
    transform.__name__ = kind
    return transform


fft, ifft, rfft, irfft = (_one_dimensional(k) for k in ("fft", "ifft", "rfft", "irfft"))


def _sizes_and_axes(name, x, s, axes, inverse_real=False):
    """numpy.fft's _cook_nd_args: the sizes and axes of an n-D transform."""
    if s is not None and axes is None:
        raise UnsupportedError(f"np.fft.{name}(s=...) without axes (deprecated by NumPy 2)",
                               f"np.fft.{name}", user_loc())
    if axes is None:
        axes = list(range(-x.ndim, 0))
    axes = [operator.index(ax) for ax in axes]
    if s is None:
        s = [x.shape[ax] for ax in axes]
        if inverse_real:
            s[-1] = (x.shape[axes[-1]] - 1) * 2
    s = [operator.index(v) for v in s]
    if len(s) != len(axes):
        raise ValueError("Shape and axes have different lengths.")
    return s, axes


def _n_dimensional(name, kind, default_axes=None):
    def transform(a, s=None, axes=default_axes, norm=None, out=None):
        _no_out(name, out)
        x = as_traced(a)
        sizes, axes_ = _sizes_and_axes(name, x, s, axes, inverse_real=kind == "irfft")
        if kind == "rfft":
            x = _transform("rfft", x, sizes[-1], axes_[-1], norm)
            for k in range(len(axes_) - 2, -1, -1):
                x = _transform("fft", x, sizes[k], axes_[k], norm)
        elif kind == "irfft":
            for k in range(len(axes_) - 1):
                x = _transform("ifft", x, sizes[k], axes_[k], norm)
            x = _transform("irfft", x, sizes[-1], axes_[-1], norm)
        else:
            for k in range(len(axes_) - 1, -1, -1):
                x = _transform(kind, x, sizes[k], axes_[k], norm)
        return x
    transform.__name__ = name
    return transform


def fftshift(x, axes=None):
    x = as_traced(x)
    if x.ndim == 0:
        raise UnsupportedError("np.fft.fftshift of a 0-d array", "np.fft.fftshift", user_loc())   # NumPy raises
    if axes is None:
        return roll(x, [d // 2 for d in x.shape], tuple(range(x.ndim)))
    if isinstance(axes, (int, np.integer)):
        return roll(x, x.shape[axes] // 2, axes)
    return roll(x, [x.shape[ax] // 2 for ax in axes], axes)


def ifftshift(x, axes=None):
    x = as_traced(x)
    if x.ndim == 0:
        raise UnsupportedError("np.fft.ifftshift of a 0-d array", "np.fft.ifftshift", user_loc())   # NumPy raises
    if axes is None:
        return roll(x, [-(d // 2) for d in x.shape], tuple(range(x.ndim)))
    if isinstance(axes, (int, np.integer)):
        return roll(x, -(x.shape[axes] // 2), axes)
    return roll(x, [-(x.shape[ax] // 2) for ax in axes], axes)


HANDLERS = {np.fft.fft: fft, np.fft.ifft: ifft, np.fft.rfft: rfft, np.fft.irfft: irfft,
            np.fft.fft2: _n_dimensional("fft2", "fft", (-2, -1)),
            np.fft.ifft2: _n_dimensional("ifft2", "ifft", (-2, -1)),
            np.fft.rfft2: _n_dimensional("rfft2", "rfft", (-2, -1)),
            np.fft.irfft2: _n_dimensional("irfft2", "irfft", (-2, -1)),
            np.fft.fftn: _n_dimensional("fftn", "fft"), np.fft.ifftn: _n_dimensional("ifftn", "ifft"),
            np.fft.rfftn: _n_dimensional("rfftn", "rfft"), np.fft.irfftn: _n_dimensional("irfftn", "irfft"),
            np.fft.fftshift: fftshift, np.fft.ifftshift: ifftshift}
