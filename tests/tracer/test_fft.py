"""numpy.fft traced (ir/ops_fft.py, tracer/fft.py): 1-D, 2-D and n-D transforms, real
and complex, n=/norm=/axes=, shifts, and the programs that use them (a power spectrum,
a low-pass filter written in place, FFT convolution, a periodic Poisson solve) give
NumPy's results: bit for bit where only the transforms run, within rounding where
fused kernels compute around them; NumPy's errors; out= runs eagerly."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import tracejit


def spectrum(x):
    return np.abs(np.fft.rfft(x, axis=-1)) ** 2


def lowpass(x):
    f = np.fft.rfft(x)
    f[..., 5:] = 0
    return np.fft.irfft(f, n=x.shape[-1])


def fft_convolution(a, b):
    n = a.shape[-1] + b.shape[-1] - 1
    return np.fft.irfft(np.fft.rfft(a, n) * np.fft.rfft(b, n), n)


def periodic_poisson(rho):
    k = np.fft.fftfreq(rho.shape[0])
    kk = k[:, None] ** 2 + k[None, :] ** 2
    kk[0, 0] = 1.0
    return np.fft.ifft2(np.fft.fft2(rho) / kk).real


def shifts_and_nd(x):
    return (np.fft.fftshift(np.fft.fft2(x), axes=(0, 1)), np.fft.ifftshift(x), np.fft.fftn(x, axes=(0,)),
            np.fft.irfftn(np.fft.rfftn(x)), np.fft.ifftn(np.fft.fftn(x)))


def norms_and_sizes(x):
    return (np.fft.fft(x, norm="ortho"), np.fft.ifft(x, n=9, norm="forward"), np.fft.rfft2(x, s=(4, 6), axes=(0, 1)),
            np.fft.irfft2(x.astype(np.complex64), s=(6, 4), axes=(1, 0)), np.fft.fft(x, axis=0, n=3))


RNG = np.random.default_rng(0)
PROGRAMS = [
    (spectrum, (RNG.standard_normal((3, 16)).astype(np.float32),), False),
    (spectrum, (RNG.integers(0, 5, (2, 8)),), False),
    (lowpass, (RNG.standard_normal((2, 32)),), True),
    (fft_convolution, (RNG.standard_normal(10), RNG.standard_normal(7)), True),
    (periodic_poisson, (RNG.standard_normal((8, 8)),), True),
    (shifts_and_nd, (RNG.standard_normal((6, 5)),), True),
    (norms_and_sizes, (RNG.standard_normal((6, 5)).astype(np.float32),), True),
    (norms_and_sizes, (RNG.standard_normal((6, 5)).astype(np.float16),), True),
]


@pytest.mark.parametrize("backend", ["numba", "interpret"])
@pytest.mark.parametrize("fn, args, bitwise", PROGRAMS, ids=lambda v: getattr(v, "__name__", ""))
def test_programs_give_numpys_results(fn, args, bitwise, backend):
    with warnings.catch_warnings():
        warnings.simplefilter("error", tracejit.FallbackWarning)
        got = tracejit.compile(fn, backend=backend)(*[a.copy() for a in args])
    want = fn(*[a.copy() for a in args])
    for g, w in zip(got if isinstance(want, tuple) else (got,), want if isinstance(want, tuple) else (want,)):
        assert type(g) is type(w) and g.dtype == w.dtype and g.shape == w.shape
        if bitwise or backend == "interpret":
            np.testing.assert_array_equal(g, w)
        else:
            np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("call, error", [
    (lambda x: np.fft.fft(x, norm="bad"), ValueError),
    (lambda x: np.fft.fft(x, n=0), ValueError),
    (lambda x: np.fft.irfft(x[:1]), ValueError),          # n defaults to 0
    (lambda x: np.fft.rfft(x * 1j), TypeError),
    (lambda x: np.fft.fft(x, axis=2), IndexError),
    (lambda x: np.fft.fftshift(x[0]), ValueError),        # 0-d: NumPy's unpacking fails
])
def test_errors_are_numpys(call, error):
    x = np.ones(6)
    with pytest.raises(error):
        call(x)
    with pytest.raises(error):
        tracejit.compile(call, backend="numba")(x)


@pytest.mark.parametrize("call", [
    lambda x: np.fft.fft(x, out=np.empty(6, complex)),
    lambda x: np.fft.fftn(x.reshape(2, 3), s=(2, 3)),       # s without axes: deprecated, NumPy warns
])
def test_what_is_not_traced_runs_eagerly(call):
    x = np.arange(6.0)
    with pytest.warns(tracejit.FallbackWarning), warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        got = tracejit.compile(call, backend="numba")(x)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        np.testing.assert_array_equal(got, call(x))
