"""Did the loop vectorize? The machine code of a compiled Numba kernel, summarized.

``vector_report(kernel)`` reads the assembly Numba produced for a kernel (after its
first launch) and counts the floating-point arithmetic instructions by form: packed
(vector) ones by register width (xmm 128-bit, ymm 256-bit, zmm 512-bit) and scalar
ones (``vmulss``, ``addsd``), and names the math library functions it calls. A kernel
whose hot loop vectorized shows packed instructions at the machine's widest width;
scalar instructions are normal in loop remainders and in the final combine of a
reduction. A kernel with only scalar ones, or one that calls ``sinf``/``cos``/...
per element, did not vectorize (a loop-carried dependence LLVM could not reassociate,
or an opaque libm call that forces one element at a time). It also counts the
instructions that move single values in or out of a vector register
(``vinsertps``/``vextractps``, ``vpinsrd``/``vpextrq``...): a loop full of them did
vectorize its arithmetic but loads and stores lane by lane, as LLVM does when each
lane's address is computed on its own. ``tracejit dump --asm`` prints this per kernel
and writes the assembly next to the other stages.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

# AVX (v-prefixed, 3-operand) and SSE forms of float arithmetic: add/sub/mul/div/min/max/
# sqrt and the fused multiply-adds, packed (ps/pd) or scalar (ss/sd)
_FLOAT_OP = re.compile(r"^\s*(v?)(add|sub|mul|div|min|max|sqrt|fn?m(?:add|sub)\d{3})([ps])([sd])\s+(.*)$")
_LANE_MOVE = re.compile(r"^\s*v?p?(?:insert|extract|insr|extr)(?:ps|b|w|d|q)\s")
_REGISTER = re.compile(r"%?\b([xyz])mm\d+\b")
_WIDTH = {"x": 128, "y": 256, "z": 512}


@dataclass
class VectorReport:
    kernel: str
    packed: Counter = field(default_factory=Counter)     # register width in bits -> instructions
    scalar: int = 0
    calls: list = field(default_factory=list)             # math library functions called (per element)
    lane_moves: int = 0                                   # single values put into / taken out of a vector
    compiled: bool = True

    @property
    def widest(self) -> int:
        return max(self.packed) if self.packed else 0

    @property
    def vectorized(self) -> bool:
        """Packed arithmetic and no per-element math library call (which makes LLVM run
        the loop one element at a time around the call)."""
        return bool(self.packed) and not self.calls

    def __str__(self) -> str:
        if not self.compiled:
            return f"{self.kernel}: not compiled yet (no machine code to read)"
        widths = ", ".join(f"{count} x {width}-bit" for width, count in sorted(self.packed.items(), reverse=True))
        verdict = f"vectorized, widest {self.widest}-bit" if self.vectorized else "NOT vectorized"
        calls = f"; calls {', '.join(self.calls)} per element" if self.calls else ""
        lanes = f"; {self.lane_moves} single-lane moves (loads or stores lane by lane)" if self.lane_moves else ""
        return (f"{self.kernel}: {verdict}; float arithmetic: packed {widths or 'none'}, "
                f"scalar {self.scalar}{calls}{lanes}")


_MATH = re.compile(r"(?:\$|call[lq]?\s+)_*((?:sincos|a?(?:sin|cos|tan)h?|atan2|exp[m12]*|log(?:1p|2|10)?|pow|erfc?|"
                   r"cbrt|hypot|fmod)f?)\b")


def summarize(name: str, asm: str) -> VectorReport:
    report = VectorReport(name)
    calls = set()
    for line in asm.splitlines():
        called = _MATH.search(line)
        if called is not None and ("call" in line or "movabs" in line):
            calls.add(called.group(1))
        if _LANE_MOVE.match(line):
            report.lane_moves += 1
            continue
        match = _FLOAT_OP.match(line)
        if match is None:
            continue
        form, operands = match.group(3), match.group(5)
        if form == "s":
            report.scalar += 1
            continue
        widths = [_WIDTH[m.group(1)] for m in _REGISTER.finditer(operands)]
        report.packed[max(widths) if widths else 128] += 1
    report.calls = sorted(calls)
    return report


def kernel_assembly(kernel) -> str:
    """The assembly of every signature the kernel, and each variant of it that ran in
    its place (in place, flat), was compiled for ("" if none yet). Numba cannot show
    the machine code of a kernel it loaded from its disk cache, so the kernel's Python
    function is compiled again here, uncached, with the same options and signatures
    (what LLVM makes of it now: a dump tool's cost, not a call's)."""
    variants = kernel.variants() if hasattr(kernel, "variants") else []
    return "\n".join(text for text in map(_assembly_of, [kernel, *variants]) if text)


def _assembly_of(kernel) -> str:
    import numba
    function = getattr(kernel, "function", None)
    signatures = kernel.numba_signatures() if hasattr(kernel, "numba_signatures") else \
        getattr(function, "signatures", None)
    if function is None or not signatures:
        return ""
    options = {k: v for k, v in function.targetoptions.items() if k not in ("cache", "nopython")}
    fresh = numba.njit(**options)(function.py_func)
    for sig in signatures:
        fresh.compile(sig)
    return "\n".join(fresh.inspect_asm(sig) for sig in fresh.signatures)


def vector_report(kernel, name: str | None = None) -> VectorReport:
    asm = kernel_assembly(kernel)
    report = summarize(name or kernel.name, asm)
    report.compiled = bool(asm)
    return report


__all__ = ["VectorReport", "kernel_assembly", "summarize", "vector_report"]
