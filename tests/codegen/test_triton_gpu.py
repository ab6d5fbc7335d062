"""Generated Triton kernels on a real GPU (skipped without CUDA + torch): runs
triton_gpu_check.py in a process without TRITON_INTERPRET (the other Triton tests
of this session use the interpreter, and the two modes must not mix)."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest


def _cuda_available() -> bool:
    try:
        import torch
    except Exception:
        return False
    return bool(torch.cuda.is_available())


@pytest.mark.skipif(not _cuda_available(), reason="needs torch with a CUDA GPU")
def test_kernels_on_gpu_match_reference():
    script = os.path.join(os.path.dirname(__file__), "triton_gpu_check.py")
    env = {k: v for k, v in os.environ.items() if k != "TRITON_INTERPRET"}
    proc = subprocess.run([sys.executable, script], capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr[-4000:]
