"""The stages of one compilation as text and as files (CLI and TRACEJIT_DUMP)."""
from __future__ import annotations

import itertools
import os
import re
import sys
import warnings
from pathlib import Path


def describe_kernels(compilation) -> str:
    try:
        from ..passes.fusion import describe_fusion
    except ImportError:
        return ""
    return describe_fusion(compilation.graph)


def describe_copies(compilation) -> str:
    """One line per physical copy the plan makes, with its reason (``copies.py``)."""
    copies = compilation.physical_copies()
    if not copies:
        return "none: every transpose, broadcast, slice and reshape is read in place (a view or an index map)"
    return "\n".join(str(c) for c in copies)


def format_dump(compilation) -> str:
    """Everything the dump shows, in order: IR as traced, after each pass that changed
    it, the fusion groups, the physical copies the plan makes and why, each kernel's
    loop nest, then each generated kernel's source."""
    parts = []
    for name, text in compilation.stages():
        title = "IR as traced" if name == "traced" else f"IR after {name}"
        parts.append(f"=== {title} ===\n{text}\n")
    if compilation.backend != "interpret":
        parts.append(f"=== fusion groups ===\n{describe_kernels(compilation)}\n")
        parts.append(f"=== physical copies ===\n{describe_copies(compilation)}\n")
        chains = [step.describe() for step in compilation.plan.steps if hasattr(step, "chain")]
        if chains:
            parts.append("=== row tiles ===\n" + "\n".join(chains) + "\n")
        for name, text in compilation.loop_nests():
            parts.append(f"=== loop nest {name} ===\n{text}\n")
        for name, backend, path, source, shared in compilation.kernel_sources():
            note = f", code shared with {shared}" if shared else ""
            parts.append(f"=== kernel {name} ({backend}{note}) written to {path} ===\n{source}\n")
    return "\n".join(parts)


def _folder(directory, stem: str, fresh: bool) -> Path:
    """`directory`/`stem`, created; `fresh`: a new folder (``stem_2``, ...) when that one
    exists, so two functions of one name (two lambdas, two modules) keep both dumps."""
    out = Path(directory) / _safe(stem)
    if not fresh:
        out.mkdir(parents=True, exist_ok=True)
        return out
    Path(directory).mkdir(parents=True, exist_ok=True)
    for n in itertools.count(2):
        try:
            out.mkdir()
            return out
        except FileExistsError:
            out = Path(directory) / f"{_safe(stem)}_{n}"


def dump_from_environment(function: str, stem: str, write) -> None:
    """TRACEJIT_DUMP: `write(directory, stem)` there and say where on stderr; a folder
    that cannot be written gets one warning, never an exception in the user's call."""
    directory = os.environ.get("TRACEJIT_DUMP")
    if not directory:
        return
    try:
        where = write(directory, stem)
    except OSError as exc:
        if directory not in _UNWRITABLE:
            _UNWRITABLE.add(directory)
            warnings.warn(f"tracejit: TRACEJIT_DUMP={directory!r} cannot be written ({exc}); no dumps are "
                          "written there", RuntimeWarning, stacklevel=4)
        return
    announce(function, where)


_UNWRITABLE: set = set()


def write_dump(compilation, directory, stem: str, fresh: bool = False) -> Path:
    """Write the stages as numbered files under `directory`/`stem`/ (see ``_folder``)."""
    out = _folder(directory, stem, fresh)
    for index, (name, text) in enumerate(compilation.stages()):
        (out / f"{index:02d}_{_safe(name)}.ir").write_text(text + "\n")
    if compilation.backend != "interpret":
        (out / "fusion.txt").write_text(describe_kernels(compilation) + "\n")
        (out / "copies.txt").write_text(describe_copies(compilation) + "\n")
        for name, text in compilation.loop_nests():
            (out / f"loopnest_{_safe(name)}.txt").write_text(text + "\n")
        for name, backend, path, source, _ in compilation.kernel_sources():
            (out / f"kernel_{_safe(name)}.{backend}.py").write_text(source)
    (out / "dump.txt").write_text(format_dump(compilation))
    return out


def launch_once(compilation) -> str:
    """Run the plan once on zero-filled inputs of the traced types, so that every kernel
    is compiled (Numba compiles at the first launch) and its machine code can be read.
    Returns "" or why the run stopped (a library step refusing zeros, ...)."""
    import numpy as np

    from .arrays import NUMPY
    graph = compilation.trace.graph
    lifted = list(compilation.trace.lifted)
    arrays = [np.zeros(v.type.shape, v.type.dtype) for v in graph.inputs[:len(graph.inputs) - len(lifted)]]
    try:
        compilation.plan.run(NUMPY, arrays + lifted)
    except Exception as exc:   # noqa: BLE001  (reported; the kernels before it are compiled)
        return f"{type(exc).__name__}: {exc}"
    return ""


def vector_reports(compilation) -> list:
    """(kernel name, VectorReport, assembly) per Numba kernel of the plan."""
    from ..codegen.numba_asm import kernel_assembly, vector_report
    by_path = {str(k.path): k for k in compilation.plan.kernels}
    result = []
    for name, backend, path, _, _ in compilation.kernel_sources():
        if backend == "numba":
            kernel = by_path[path]
            result.append((name, vector_report(kernel, name), kernel_assembly(kernel)))
    return result


def write_fallback_note(fallback, directory, stem: str) -> Path:
    """TRACEJIT_DUMP for a function that runs eagerly: a note saying why, and where."""
    out = _folder(directory, stem, fresh=True)
    (out / "fallback.txt").write_text(f"{fallback.function} runs eagerly (not compiled)\n"
                                      f"construct: {fallback.op}\nat: {fallback.loc or '?'}\n"
                                      f"why: {fallback.message}\n")
    return out


def announce(function: str, where: Path) -> None:
    """One line on stderr per TRACEJIT_DUMP entry, so the user finds the files."""
    print(f"tracejit: dump of {function} written to {where}", file=sys.stderr)


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name)
