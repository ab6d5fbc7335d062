"""np.errstate / np.seterr set to 'raise' or 'call' (tracer/fp_errors.py): compiled
kernels do not detect floating-point errors, so such calls run eagerly and NumPy raises
or calls back as it would; 'ignore' and 'warn' keep the compiled path."""
import numpy as np
import pytest

import tracejit
from tracejit.tracer import UnsupportedError

ONES, ZEROS = np.ones(4), np.zeros(4)


def _divide(a, b):
    return a / b + 1.0


def test_errstate_raise_around_a_call_raises_as_numpy():
    f = tracejit.compile(_divide, backend="interpret")
    np.testing.assert_array_equal(f(ONES, ZEROS), np.full(4, np.inf))
    with np.errstate(divide="raise"), pytest.warns(tracejit.FallbackWarning, match="np.errstate"):
        with pytest.raises(FloatingPointError, match="divide by zero"):
            f(ONES, ZEROS)
        np.testing.assert_array_equal(f(ONES, ONES), np.full(4, 2.0))      # no error: NumPy's result
    np.testing.assert_array_equal(f(ONES, ZEROS), np.full(4, np.inf))      # compiled again
    assert len(f.compiles) == 1 and [x.op for x in f.fallbacks] == ["np.errstate"]


def test_seterr_call_reaches_the_callback():
    seen = []
    f = tracejit.compile(_divide, backend="interpret")
    f(ONES, ONES)
    old = np.seterr(invalid="call")
    old_call = np.seterrcall(lambda kind, flag: seen.append(kind))
    try:
        with pytest.warns(tracejit.FallbackWarning):
            f(ZEROS, ZEROS)
    finally:
        np.seterr(**old)
        np.seterrcall(old_call)
    assert seen == ["invalid value"]


def test_errstate_raise_inside_the_function_runs_it_eagerly():
    def g(a, b):
        with np.errstate(over="raise"):
            return a * b
    f = tracejit.compile(g, backend="interpret")
    big = np.full(3, 1e300)
    with pytest.warns(tracejit.FallbackWarning, match="over='raise'"):
        with pytest.raises(FloatingPointError, match="overflow"):
            f(big, big)
    np.testing.assert_array_equal(f(ONES, ONES), ONES)


def test_fullgraph_raises_and_ignore_or_warn_compile():
    strict = tracejit.compile(_divide, backend="interpret", fullgraph=True)
    with np.errstate(all="raise"), pytest.raises(UnsupportedError, match="errstate"):
        strict(ONES, ZEROS)
    f = tracejit.compile(_divide, backend="interpret", fullgraph=True)
    with np.errstate(all="ignore"):
        np.testing.assert_array_equal(f(ONES, ZEROS), np.full(4, np.inf))
    with np.errstate(all="warn"):
        np.testing.assert_array_equal(f(ONES, ONES), np.full(4, 2.0))
    assert f.fallbacks == [] and len(f.compiles) == 1


def test_seterr_log_writes_to_the_log_object():
    class Log:
        lines = []

        def write(self, message):
            Log.lines.append(message)
    f = tracejit.compile(_divide, backend="interpret")
    f(ONES, ONES)
    old_call = np.seterrcall(Log())
    try:
        with np.errstate(divide="log"), pytest.warns(tracejit.FallbackWarning, match="divide='log'"):
            f(ONES, ZEROS)
    finally:
        np.seterrcall(old_call)
    assert len(Log.lines) == 1 and "divide" in Log.lines[0]
