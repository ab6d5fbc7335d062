"""A process forked after compiled functions ran on the thread pool (large launches,
split matmuls) runs them again: the child starts a pool of its own instead of waiting
on the parent's threads, which a fork does not copy."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

PROGRAM = textwrap.dedent("""
    import os, numpy as np, tracejit
    f = tracejit.compile(lambda x, w: np.tanh(x @ w) * 3 + x.mean(-1, keepdims=True))
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((3000, 300)).astype(np.float32), rng.standard_normal((300, 300)).astype(np.float32)
    want = np.tanh(x @ w) * 3 + x.mean(-1, keepdims=True)
    for _ in range(3):                      # from the second launch on, large ones split over threads
        assert np.allclose(f(x, w), want, atol=1e-4)
    pid = os.fork()
    if pid == 0:
        ok = all(np.allclose(f(x, w), want, atol=1e-4) for _ in range(3))
        os._exit(0 if ok else 3)
    _, status = os.waitpid(pid, 0)
    print("child", os.waitstatus_to_exitcode(status))
""")


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork on this platform")
def test_a_forked_child_runs_compiled_functions(tmp_path):
    result = subprocess.run([sys.executable, "-c", PROGRAM], capture_output=True, text=True, timeout=300,
                            cwd=ROOT, env=dict(os.environ, TRACEJIT_CACHE_DIR=str(tmp_path)))
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == "child 0"
