"""Import Numba without the SciPy import it makes on the side.

Why: when SciPy is installed, the first Numba compile or cache load imports
``numba.np.arraymath``, which imports ``scipy.linalg`` only to set a flag
(``_HAVE_BLAS``: may ``np.convolve`` in Numba code call BLAS). That costs ~110 ms of
every warm start, and tracejit's kernels never call BLAS inside Numba. So this module
imports ``arraymath`` while ``numba.np.linalg.ensure_blas`` only checks that SciPy
exists (``find_spec``, which imports nothing), then puts the real function back. The
flag ends up as Numba would set it, and Numba imports SciPy the first time a kernel
really needs BLAS (``ensure_blas`` runs again when ``np.dot`` is typed).

``numba_dialect`` (which every Numba kernel goes through) imports this module before the
helper modules, so it runs before tracejit's first compile or cache load.
"""
from __future__ import annotations

import importlib.util
import sys


def _scipy_is_installed() -> None:
    if importlib.util.find_spec("scipy") is None:
        raise ImportError("scipy is not installed")


def _import_arraymath_without_scipy() -> None:
    if "numba.np.arraymath" in sys.modules:
        return
    import numba.np.linalg as linalg
    real = linalg.ensure_blas        # (this runs once, under the import lock of this module)
    linalg.ensure_blas = _scipy_is_installed
    try:
        import numba.np.arraymath as arraymath
    finally:
        linalg.ensure_blas = real
    if getattr(arraymath, "ensure_blas", None) is _scipy_is_installed:
        arraymath.ensure_blas = real


_import_arraymath_without_scipy()
