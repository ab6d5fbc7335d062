"""The vectorization report (issue 10): float arithmetic in a kernel's machine code,
counted by form; `tracejit dump --asm` prints it per kernel."""
import os
import subprocess
import sys

from tracejit.codegen.numba_asm import summarize

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

ASM = """
\tvmulps\t%ymm1, %ymm2, %ymm3
\tvfmadd231ps\t%ymm4, %ymm5, %ymm6
\tvaddps\t%zmm0, %zmm1, %zmm2
\tvaddps\t%xmm0, %xmm1, %xmm2
\tvaddss\t%xmm0, %xmm1, %xmm2
\tmulsd\t%xmm0, %xmm1
\tvmovups\t%ymm0, (%rax)
\tcallq\tsin
"""


def test_packed_and_scalar_float_instructions_are_counted_by_width():
    report = summarize("k", ASM.replace("\tcallq\tsin\n", ""))
    assert dict(report.packed) == {256: 2, 512: 1, 128: 1} and report.scalar == 2
    assert report.widest == 512 and report.vectorized
    assert "vectorized, widest 512-bit" in str(report) and "scalar 2" in str(report)
    with_call = summarize("k", ASM)
    assert with_call.calls == ["sin"] and not with_call.vectorized and "calls sin per element" in str(with_call)
    lanes = summarize("k", "\tvinsertps\t$16, 4(%rdi), %xmm1, %xmm1\n\tvextractps\t$1, %xmm0, 4(%rax)\n"
                           "\tvpextrq\t$1, %xmm0, %rax\n\tvinsertf128\t$1, %xmm1, %ymm0, %ymm0\n" + ASM)
    assert lanes.lane_moves == 3 and "3 single-lane moves" in str(lanes)
    assert report.lane_moves == 0 and "single-lane" not in str(report)
    scalar_only = summarize("k", "\tvmulss\t%xmm0, %xmm1, %xmm2\n\tmovabsq\t$sinf, %rax\n\tcallq\t*%rax\n")
    assert not scalar_only.vectorized and "NOT vectorized" in str(scalar_only) and scalar_only.calls == ["sinf"]


def test_dump_asm_reports_each_kernel_and_writes_the_assembly(tmp_path):
    source = tmp_path / "prog.py"
    source.write_text("import numpy as np\ndef axpy(a, x, y):\n    return a * x + y\n")
    result = subprocess.run([sys.executable, "-m", "tracejit", "dump", f"{source}:axpy", "--arg", "~f64[]",
                             "--arg", "f32[4096]", "--arg", "f32[4096]", "--asm", "--out", str(tmp_path / "d")],
                            cwd=ROOT, capture_output=True, text=True, timeout=300, check=True)
    line = next(l for l in result.stdout.splitlines() if l.startswith("axpy_k0:"))
    assert "vectorized, widest" in line and "NOT" not in line
    assert "single-lane" not in line and "RuntimeWarning" not in result.stderr   # loads and stores are packed
    assert (tmp_path / "d" / "axpy" / "asm_axpy_k0.s").read_text().count("mul") > 0
