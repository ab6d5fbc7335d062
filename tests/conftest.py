"""Test-wide setup.

- The repository root is importable (``bench.models`` holds the model functions).
- Triton runs in its interpreter unless TRACEJIT_TEST_GPU=1 (CI has no GPU, and
  interpreted and compiled Triton kernels must not mix in one process).
- Kernels go to one cache directory for the whole run (TRACEJIT_CACHE_DIR, set by
  scripts/test.sh to .tracejit_cache) so Numba's on-disk cache is shared.
"""
import os
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)
if os.environ.get("TRACEJIT_TEST_GPU") != "1":
    os.environ.setdefault("TRITON_INTERPRET", "1")
os.environ.setdefault("TRACEJIT_CACHE_DIR", os.path.join(tempfile.gettempdir(), "tracejit-test-cache"))
os.environ.setdefault("TRACEJIT_DEBUG", "1")
