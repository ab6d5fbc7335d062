"""Differential checking: trace, verify, interpret, compare with eager NumPy."""
from __future__ import annotations

import warnings

import numpy as np

from tracejit.ir import TensorType, run_graph, verify
from tracejit.runtime.arrays import NUMPY
from tracejit.tracer import flatten, trace

# The reference interpreter evaluates weak scalar constants as strong float64 0-d arrays,
# so `x32 * 0.1` may differ from eager NumPy by 1 ulp there (reported to the lead).
F32_RTOL = 2e-6


def type_of(arg):
    """The TensorType the runtime would bind for a traced argument, or None (static)."""
    if isinstance(arg, np.ndarray):
        return TensorType(arg.shape, arg.dtype)
    if isinstance(arg, np.generic):
        return TensorType((), arg.dtype)
    if isinstance(arg, float):
        return TensorType((), np.float64, weak=True)
    return None


def run_traced(fn, *args, **kwargs):
    """Trace `fn` on args (arrays/NumPy scalars/floats traced, the rest static), verify the
    graph and run it with the reference interpreter; returns (result, trace)."""
    leaves, _ = flatten((args, kwargs))
    concrete = []
    for leaf in leaves:
        t = type_of(leaf)
        if t is not None:
            concrete.append(np.asarray(leaf))
    typed_args = tuple(_map(a) for a in args)
    typed_kwargs = {k: _map(v) for k, v in kwargs.items()}
    tr = trace(fn, typed_args, typed_kwargs)
    verify(tr.graph)
    with np.errstate(all="ignore"):
        outputs = run_graph(tr.graph, concrete + list(tr.lifted))
    return tr.rebuild_outputs(outputs, concrete + list(tr.lifted), NUMPY), tr


def _map(obj):
    if isinstance(obj, tuple):
        return tuple(_map(o) for o in obj)
    if isinstance(obj, list):
        return [_map(o) for o in obj]
    if isinstance(obj, dict):
        return {k: _map(v) for k, v in obj.items()}
    t = type_of(obj)
    return obj if t is None else t


def assert_same(got, want, rtol=None, atol=0.0, check_type=True):
    g_leaves, g_def = flatten(got)
    w_leaves, w_def = flatten(want)
    assert g_def == w_def, f"structure {g_def} != {w_def}"
    for g, w in zip(g_leaves, w_leaves):
        if check_type:
            assert type(g) is type(w), f"type {type(g).__name__} != {type(w).__name__} ({g!r} vs {w!r})"
        if isinstance(w, (np.ndarray, np.generic)):
            g_arr, w_arr = np.asarray(g), np.asarray(w)
            assert g_arr.dtype == w_arr.dtype, f"dtype {g_arr.dtype} != {w_arr.dtype}"
            assert g_arr.shape == w_arr.shape, f"shape {g_arr.shape} != {w_arr.shape}"
            if w_arr.dtype.kind == "f":
                tol = rtol if rtol is not None else (F32_RTOL if w_arr.dtype == np.float32 else 1e-12)
                np.testing.assert_allclose(g_arr, w_arr, rtol=tol, atol=atol, equal_nan=True)
            else:
                np.testing.assert_array_equal(g_arr, w_arr)
        elif isinstance(w, float):
            np.testing.assert_allclose(g, w, rtol=rtol or 1e-12, equal_nan=True)
        else:
            assert g == w


def check(fn, *args, rtol=None, atol=0.0, check_type=True, **kwargs):
    """Trace and compare `fn(*args, **kwargs)` with eager NumPy; returns the Trace."""
    got, tr = run_traced(fn, *args, **kwargs)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        want = fn(*args, **kwargs)
    assert_same(got, want, rtol, atol, check_type)
    return tr


def data(shape, dtype, seed=0, special=False):
    """Random test data of a dtype; floats in [-3, 3] (with NaN/inf/-0. if `special`)."""
    rng = np.random.default_rng(seed)
    dtype = np.dtype(dtype)
    if dtype == np.bool_:
        return rng.random(shape) < 0.5
    if dtype.kind in "iu":
        lo, hi = (0, 10) if dtype.kind == "u" else (-9, 10)
        return rng.integers(lo, hi, size=shape).astype(dtype)
    x = (rng.random(shape) * 6 - 3).astype(dtype)
    if special and x.size >= 4:
        flat = x.reshape(-1)
        flat[:4] = [np.nan, np.inf, -np.inf, -0.0]
    return x


def check_or_raises(fn, *args, **kwargs):
    """Like `check`, but if eager NumPy raises, tracing must raise the same exception type."""
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            fn(*args)
    except Exception as exc:  # noqa: BLE001
        import pytest
        with pytest.raises(type(exc)):
            run_traced(fn, *args)
        return None
    return check(fn, *args, **kwargs)
