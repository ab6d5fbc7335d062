"""NumPy ufunc name -> IR op name, derived from the op table (``ir/ops.py``)."""
from __future__ import annotations

import numpy as np

from ..ir.ops import OPS


def _ufunc_ops() -> dict:
    """Every elementwise op that follows a ufunc, under the ufunc's attribute name and
    its ``__name__`` (``true_divide`` and ``divide`` are one ufunc)."""
    table = {}
    for name, spec in OPS.items():
        if spec.ufunc and spec.is_elementwise:
            table[spec.ufunc] = name
            table[getattr(np, spec.ufunc).__name__] = name
    return table


UFUNC_OPS = _ufunc_ops()

__all__ = ["UFUNC_OPS"]
