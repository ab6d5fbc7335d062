"""Rewrites the BUILT_ON tables of the Numba helper modules (numba_math.py,
numba_trig.py, numba_pow.py) with the current file versions of the modules each
imports (tracejit/codegen/helper_versions.py says why they exist).

    python scripts/pin_helper_versions.py

Run after changing a module a helper module imports; tests/codegen/test_helper_versions.py
fails until then. Modules are processed below-first so a changed pin propagates up.
"""
from __future__ import annotations

import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from tracejit.codegen import helper_versions  # noqa: E402
from tracejit.codegen.helper_versions import codegen_imports, dependencies, file_version  # noqa: E402


def pinned_modules() -> list:
    """Codegen modules with a BUILT_ON table, each after the modules it imports."""
    folder = os.path.join(ROOT, "tracejit", "codegen")
    names = sorted(f[:-3] for f in os.listdir(folder) if f.endswith(".py")
                   and "BUILT_ON = {" in open(os.path.join(folder, f)).read())
    return sorted(names, key=lambda n: len(dependencies(n)))


def main() -> None:
    for name in pinned_modules():
        path = os.path.join(ROOT, "tracejit", "codegen", name + ".py")
        table = "{" + ", ".join(f'"{d}": "{file_version(d)}"' for d in codegen_imports(name)) + "}"
        text = open(path).read()
        new = re.sub(r"BUILT_ON = \{[^}]*\}", "BUILT_ON = " + table, text, count=1)
        if new != text:
            with open(path, "w") as f:
                f.write(new)
            helper_versions._source.cache_clear()      # the modules above read the new text
            print(f"{name}: BUILT_ON = {table}")


if __name__ == "__main__":
    main()
