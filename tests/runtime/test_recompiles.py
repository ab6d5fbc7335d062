"""The recompile limit per function (issue 9) and the switch that turns every
fallback into an error (TRACEJIT_FULLGRAPH)."""
import warnings

import numpy as np
import pytest

import tracejit


def prefix_sum(x, n):
    return x[:n].sum()


def _calls(f, values):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        results = [f(np.arange(20.0), n) for n in values]
    return results, [w for w in caught if issubclass(w.category, tracejit.FallbackWarning)]


def test_past_the_limit_new_values_run_eagerly_with_one_warning_naming_the_argument():
    f = tracejit.compile(prefix_sum, backend="interpret", recompile_limit=3)
    results, warned = _calls(f, [1, 2, 3, 4, 5, 2, 6])
    assert results == [np.arange(20.0)[:n].sum() for n in [1, 2, 3, 4, 5, 2, 6]]
    assert len(f.compiles) == 3
    assert len(warned) == 1
    text = str(warned[0].message)
    assert "recompile_limit=3" in text and "`n` (3 times)" in text and "static_argnames" in text
    before = len(f.fallbacks)
    f(np.arange(20.0), 2)                       # compiled before the limit: still compiled
    assert len(f.fallbacks) == before and len(f.specializations()) == 3


def test_explain_says_a_call_past_the_limit_runs_eagerly_and_reasons_show_static_values():
    f = tracejit.compile(lambda x, opts: x * opts[0], static_argnames=("opts",), backend="interpret",
                         recompile_limit=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for k in range(3):
            f(np.ones(3), (float(k), "a"))
    assert f.compiles[1].reason == "opts=(1.0, 'a') (was (0.0, 'a'))"
    text = str(tracejit.explain(f, np.ones(3), (9.0, "a")))
    assert "compiles fully" not in text and "recompile limit" in text
    assert "compiles fully" in str(tracejit.explain(f, np.ones(3), (1.0, "a")))     # one compiled before
    g = tracejit.compile(prefix_sum, backend="interpret", recompile_limit=1)
    _, warned = _calls(g, [1, 2])
    assert "`n` (once)" in str(warned[0].message)


def test_the_default_limit_is_eight_and_the_environment_can_change_it(monkeypatch):
    f = tracejit.compile(prefix_sum, backend="interpret")
    _, warned = _calls(f, range(1, 12))
    assert len(f.compiles) == 8 and len(warned) == 1
    monkeypatch.setenv("TRACEJIT_RECOMPILE_LIMIT", "2")
    g = tracejit.compile(prefix_sum, backend="interpret")
    _calls(g, range(1, 5))
    assert len(g.compiles) == 2
    with pytest.raises(ValueError, match="recompile_limit"):
        tracejit.compile(prefix_sum, recompile_limit=0)


def test_under_fullgraph_the_limit_raises():
    f = tracejit.compile(prefix_sum, backend="interpret", recompile_limit=1, fullgraph=True)
    f(np.arange(5.0), 1)
    with pytest.raises(tracejit.RecompileLimitError, match="`n`"):
        f(np.arange(5.0), 2)


def branchy(x):
    if x.sum() > 0:
        return x
    return -x


def test_the_environment_switch_makes_every_fallback_an_error(monkeypatch):
    monkeypatch.setenv("TRACEJIT_FULLGRAPH", "1")
    with pytest.raises(tracejit.TracerError):
        tracejit.compile(branchy, backend="interpret")(np.ones(3))
    assert tracejit.compile(branchy, backend="interpret", fullgraph=False)(np.ones(3)).sum() == 3
    monkeypatch.setenv("TRACEJIT_FULLGRAPH", "0")
    with pytest.warns(tracejit.FallbackWarning):
        tracejit.compile(branchy, backend="interpret")(np.ones(3))


def test_threads_calling_at_once_compile_once():
    import threading
    f = tracejit.compile(lambda x: np.sqrt(x) * 2.0 + x.sum(), backend="interpret")
    x = np.arange(1000.0)
    barrier, results = threading.Barrier(8), [None] * 8

    def worker(i):
        barrier.wait()
        results[i] = f(x)
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    expected = np.sqrt(x) * 2.0 + x.sum()
    assert all(np.array_equal(r, expected) for r in results)
    assert len(f.compiles) == 1 and len(f.specializations()) == 1 and f.fallbacks == []
