"""Cache versioning of the Numba math helpers (tracejit/codegen/helper_versions.py):
kernel files name the transitive version of every helper module they import, so a
change anywhere below a helper (numba_eft, math_constants, numba_math) gives the
kernel a new content hash; and each helper module's BUILT_ON table pins the files its
cached functions call, so Numba's per-file cache cannot serve stale inlined code."""
from __future__ import annotations

import numpy as np
import pytest

from tracejit.codegen import helper_versions as H
from tracejit.codegen import numba_dialect

PINNED = ["numba_math", "numba_trig", "numba_pow", "numba_trig_near"]


@pytest.mark.parametrize("module", PINNED)
def test_built_on_pins_are_current(module):
    """If this fails: run `python scripts/pin_helper_versions.py` and commit."""
    import importlib
    table = importlib.import_module(f"tracejit.codegen.{module}").BUILT_ON
    assert sorted(table) == H.codegen_imports(module), "BUILT_ON must list every codegen import"
    stale = {dep: pin for dep, pin in table.items() if pin != H.file_version(dep)}
    assert not stale, f"{module}: stale pins {stale}; run python scripts/pin_helper_versions.py"


def test_every_imported_helper_module_is_versioned():
    modules = {m for m, _ in numba_dialect.IMPORTED.values()}
    assert {"numba_math", "numba_trig", "numba_pow", "numba_half"} <= modules
    assert H.dependencies("numba_trig") == ["math_constants", "numba_eft", "numba_math", "numba_trig",
                                            "vector_math_names"]


def test_source_version_changes_with_any_dependency(monkeypatch):
    before = {m: H.source_version(m) for m in ("numba_trig", "numba_pow", "numba_math", "numba_half")}
    original = H._source
    monkeypatch.setattr(H, "_source", lambda m: original(m) + ("\n# edited" if m == "numba_eft" else ""))
    after = {m: H.source_version(m) for m in before}
    assert all(after[m] != before[m] for m in ("numba_trig", "numba_pow", "numba_math"))
    assert after["numba_half"] != before["numba_half"]      # numba_half imports numba_math
    monkeypatch.setattr(H, "_source", lambda m: original(m) + ("\n# edited" if m == "numba_pow" else ""))
    assert H.source_version("numba_trig") == before["numba_trig"]


def test_kernel_file_names_the_trig_version(builder):
    from tracejit.codegen.numba_dialect import generate_source
    from tracejit.ir.loopnest import lower_region
    b, (x,) = builder("versioned_sin", ((5,), np.float32))
    source, _, _ = generate_source(lower_region(b.finish([b.emit("sin", [x])])))
    assert f"# numba_trig version {H.source_version('numba_trig')}" in source
    assert "from tracejit.codegen.numba_trig import sin_f32 as _tj_vsin_f32" in source
