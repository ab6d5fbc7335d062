"""Versions (short source hashes) of the helper modules generated Numba kernels call.

Why: Numba's disk cache keys a compiled function by its own file only, not by the
functions it calls, and the math helpers are inlined into every kernel. So:

- ``source_version(module)`` hashes a helper module together with every
  ``tracejit.codegen`` module it imports, recursively; generated kernel files
  mention it, so a change anywhere below a helper changes the kernel's content hash
  and the kernel is recompiled;
- ``file_version(module)`` hashes one module's text; a helper module whose cached
  functions call another module records that one's ``file_version`` in its
  ``BUILT_ON`` table, and a test fails when the two drift apart (updating the table
  edits the file, which makes Numba drop that file's stale cache entries).
"""
from __future__ import annotations

import functools
import hashlib
import os
import re

PACKAGE = "tracejit.codegen"
_FOLDER = os.path.dirname(os.path.abspath(__file__))


@functools.lru_cache(maxsize=64)
def _source(module: str) -> str:
    """The text of tracejit/codegen/<module>.py (read, not imported; once per process:
    every kernel's prelude asks for the versions of the helpers it imports)."""
    with open(os.path.join(_FOLDER, module + ".py"), encoding="utf-8") as f:
        return f.read()


def file_version(module: str) -> str:
    """A short hash of one `tracejit.codegen` module's source text."""
    return hashlib.sha256(_source(module).encode()).hexdigest()[:12]


def codegen_imports(module: str) -> list:
    """The `tracejit.codegen` modules `module` imports directly (sorted names)."""
    return list(_imports_in(module, _source(module)))


# `from .name import ...` / `from tracejit.codegen.name import ...` at the start of a line
_IMPORT_FROM = re.compile(r"^[ \t]*from[ \t]+(?:\.|tracejit\.codegen\.)(\w+)[\w.]*[ \t]+import\b", re.M)


@functools.lru_cache(maxsize=64)
def _imports_in(module: str, text: str) -> tuple:
    """`codegen_imports` of one source text. A line scan, not a parse: every kernel's
    prelude asks in every new process, and parsing costs ~5 ms a module. A match inside
    a string could only add a dependency (a kernel recompiled once too often), never
    hide one."""
    found = set(_IMPORT_FROM.findall(text))
    found.discard(module)
    return tuple(sorted(found))


def dependencies(module: str) -> list:
    """`module` and every `tracejit.codegen` module it imports, recursively, sorted."""
    seen, todo = set(), [module]
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo.extend(codegen_imports(name))
    return sorted(seen)


def source_version(module: str = "numba_math") -> str:
    """A short hash of `module`'s source and of every codegen module below it."""
    digest = hashlib.sha256()
    for name in dependencies(module):
        digest.update(name.encode() + b"\0" + _source(name).encode() + b"\0")
    return digest.hexdigest()[:12]
