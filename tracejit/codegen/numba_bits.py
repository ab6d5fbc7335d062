"""``x.view(dtype)`` in Numba kernels: a number's bits read as another number type.

The ``bitcast`` op (``ir/ops.py``) renders as ``_tj_bitcast(x, np.int32)``: an LLVM
register bitcast between number types of one width (no memory traffic; it
vectorizes), and the value itself between integers of one width (their bits are
already the same). Kept apart from the math helpers so that their cached versions do
not change with it (``helper_versions.py``).
"""
from __future__ import annotations

from numba.core import types
from numba.core.extending import intrinsic


@intrinsic
def bitcast(typingctx, x, ty):
    """The bits of the number `x` read as the number type `ty` (``np.int32``...) of the same width."""
    target = getattr(ty, "instance_type", None)
    if not isinstance(x, types.Number) or not isinstance(target, types.Number) or x.bitwidth != target.bitwidth:
        return None

    def codegen(context, builder, sig, args):
        lltype = context.get_value_type(target)
        return args[0] if args[0].type == lltype else builder.bitcast(args[0], lltype)
    return target(x, ty), codegen
