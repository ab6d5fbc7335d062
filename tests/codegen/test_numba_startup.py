"""tracejit loads Numba without the SciPy import Numba makes on the side
(codegen/numba_startup.py), and leaves Numba's own BLAS flag as Numba would set it.

A stand-in ``scipy`` package on the path records whether ``scipy.linalg`` was imported,
so the test means the same with or without the real SciPy installed."""
import json
import os
import subprocess
import sys
import textwrap

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

_CHILD = textwrap.dedent("""
    import json, sys
    import numpy as np
    import tracejit
    f = tracejit.compile(lambda x: x * 2.0 + 1.0)
    ok = bool(np.array_equal(f(np.arange(5.0)), np.arange(5.0) * 2.0 + 1.0))
    import numba.np.arraymath as arraymath, numba.np.linalg as linalg
    print(json.dumps(dict(ok=ok, linalg_imported="scipy.linalg" in sys.modules,
                          have_blas=arraymath._HAVE_BLAS,
                          ensure_blas_restored=arraymath.ensure_blas is linalg.ensure_blas
                          and linalg.ensure_blas.__module__ == "numba.np.linalg")))
""")


def _fake_scipy(folder):
    os.makedirs(os.path.join(folder, "scipy", "linalg"))
    with open(os.path.join(folder, "scipy", "__init__.py"), "w") as f:
        f.write('__version__ = "1.99.0"\n')
    with open(os.path.join(folder, "scipy", "linalg", "__init__.py"), "w") as f:
        f.write("")
    with open(os.path.join(folder, "scipy", "linalg", "cython_blas.py"), "w") as f:
        f.write("")


def test_a_kernel_runs_without_importing_scipy_linalg_and_numba_keeps_its_blas_flag(tmp_path):
    _fake_scipy(str(tmp_path / "site"))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path / "site"), ROOT]),
               TRACEJIT_CACHE_DIR=str(tmp_path / "cache"))
    out = subprocess.run([sys.executable, "-c", _CHILD], capture_output=True, text=True, env=env,
                         cwd=str(tmp_path), timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    row = json.loads(out.stdout.strip().splitlines()[-1])
    assert row == dict(ok=True, linalg_imported=False, have_blas=True, ensure_blas_restored=True)
