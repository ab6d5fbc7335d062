"""Golden files pin the generated source of typical kernels on both backends and their
loop nests, so that every change to the code generators shows up as a reviewed diff.

To accept a change: ``TRACEJIT_UPDATE_GOLDEN=1 bash scripts/test.sh tests/codegen/test_golden_sources.py``
then read ``git diff tests/codegen/golden``.
"""
from __future__ import annotations

import difflib
import os
import re
import sys
from pathlib import Path

sys.path.insert(0, os.path.dirname(__file__))

import numpy as np  # noqa: E402
import pytest  # noqa: E402

import graphs  # noqa: E402
from tracejit.codegen import numba_dialect, triton_dialect  # noqa: E402
from tracejit.ir.loopnest import lower_region  # noqa: E402
from tracejit.ir.nest_text import format_nest  # noqa: E402

GOLDEN = Path(__file__).parent / "golden"
CASES = {
    "softmax": lambda: graphs.softmax((8, 16)),
    "layernorm": lambda: graphs.layernorm((8, 16)),
    "linear_relu": lambda: graphs.linear_relu(8, 4, 16, np.float32),
    "gather": lambda: graphs.gather(),
    "scans": lambda: graphs.scans((4, 9), np.float32, 1),
}


def _render(backend, region) -> str:
    nest = lower_region(region)
    if backend == "numba":
        text = numba_dialect.generate_source(nest, str(region))[0]
        # the helper module's own content hash: it changes with every edit of numba_math.py
        return re.sub(r"# numba_math version [0-9a-f]+", "# numba_math version <hash>", text)
    if backend == "triton":
        return triton_dialect.generate(nest, str(region))[0]
    return format_nest(nest) + "\n"


def _check(path: Path, text: str):
    if os.environ.get("TRACEJIT_UPDATE_GOLDEN"):
        path.write_text(text)
    expected = path.read_text() if path.exists() else ""
    if text != expected:
        diff = "".join(difflib.unified_diff(expected.splitlines(True), text.splitlines(True),
                                            str(path), "generated"))
        pytest.fail(f"generated text differs from {path.name} (TRACEJIT_UPDATE_GOLDEN=1 accepts it):\n{diff}")


@pytest.mark.parametrize("backend", ["numba", "triton", "loopnest"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_generated_text_matches_golden(name, backend):
    suffix = "txt" if backend == "loopnest" else "py"
    _check(GOLDEN / f"{name}.{backend}.{suffix}.golden", _render(backend, CASES[name]()))


def test_triton_kernels_read_like_hand_written_ones():
    """No unused values, no exp computed twice in a one-pass row, no no-op casts."""
    softmax = _render("triton", CASES["softmax"]()).split("def softmax(")[1]     # the kernel, no prelude
    one_pass = softmax.split("if SINGLE_PASS:")[1].split("    else:")[0]
    assert one_pass.count("_tj_exp(") == 1
    assert ".to(tl.float32)" not in softmax and not re.search(r"^\s*zero = ", softmax, re.M)
    params = softmax.split("):")[0]
    assert not re.search(r"\bn[01]\b", params)                  # sizes the code does not use
