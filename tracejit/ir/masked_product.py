"""Which part of a matmul's product its epilogue can ever use: the causal (lower
triangular) part, when every use sits under a ``where`` on the column - row offset.

Why: causal attention computes ``where(tril, q @ k.T * scale, -inf)``. The epilogue
then reads the product above the diagonal only to throw it away, and the matmul that
fills it does twice the work needed. When this analysis proves that the value stored
never depends on product element ``[.., i, j]`` for ``j > i + c``, the runtime computes
the product in row blocks, each only up to column ``i + c`` (``blas_threads.
causal_matmul``); what the epilogue reads beyond is left as it was and never chosen.

The proof is syntactic and conservative: every statement that uses a product element,
directly or through elementwise ops, must end in the chosen branch of a
``where(cond, x, y)`` whose ``cond`` is ``col - row <= c`` (or ``<``, or ``row - col
>= k`` / ``>``, possibly as ``where(cond, True, False)``) on the product's own last
two loop variables; a store, a check, a condition or the other branch that sees a
product element, an accumulation or a row reduction of one, or a product read at
another index means None. Reductions of the chosen values (a softmax over the masked
scores, in the same kernel) are fine: what they read past the diagonal is the other
branch.
"""
from __future__ import annotations

from .nest import Compute, Constant, IndexValue, Load, LoopNest, Store, const, index_names, var


def needed_columns(nest: LoopNest) -> int | None:
    """c such that the epilogue uses product element [.., i, j] only where j <= i + c,
    or None where that cannot be shown (or the nest has no matmul)."""
    mm = nest.matmul
    rank = len(nest.domain)
    if mm is None or rank < 2 or any(p.scan or p.scans for p in nest.phases):
        return None
    operands = {b.name: len(b.shape) for b in nest.inputs}
    if operands.get(mm.a, 0) < 2 or operands.get(mm.b, 0) < 2:
        return None                     # a vector operand: the last two axes are not rows, columns
    if nest.domain[-1] == 1 or nest.domain[-2] == 1:
        return None
    full = tuple(const(0) if n == 1 else var(f"i{d}") for d, n in enumerate(nest.domain))
    row, col = f"i{rank - 2}", f"i{rank - 1}"
    defs, tainted, offsets = {}, set(), []
    for stmt in nest.statements():
        if _scalars_in_indices(stmt) & tainted:
            return None                 # an index computed from the product (a gather, a check)
        if isinstance(stmt, Load):
            if stmt.buffer == mm.result:
                if tuple(stmt.index) != full:
                    return None
                tainted.add(stmt.dst)
            defs[stmt.dst] = stmt
        elif isinstance(stmt, (Constant, IndexValue)):
            defs[stmt.dst] = stmt
        elif type(stmt) is Compute:
            defs[stmt.dst] = stmt
            seen = [a in tainted for a in stmt.args]
            if not any(seen):
                continue
            if stmt.op.name == "where" and len(stmt.args) == 3 and seen == [False, True, False]:
                offset = _offset(stmt.args[0], defs, row, col)
                if offset is None:
                    return None
                offsets.append(offset)
                continue
            if stmt.op.name == "where":
                return None
            tainted.add(stmt.dst)
        elif isinstance(stmt, Store):
            if stmt.src in tainted:
                return None
        else:                           # checks, accumulators, anything else
            names = set(getattr(stmt, "args", ())) | {getattr(stmt, "src", None)}
            if names & tainted or getattr(stmt, "dst", None) in tainted:
                return None
    if any(r.src in tainted for phase in nest.phases for r in phase.reductions):
        return None                     # a row reduced over product elements no where chose
    return max(offsets) if offsets else None


def _scalars_in_indices(stmt) -> set:
    """The scalar statements the index expressions of `stmt` read."""
    found = set()
    for field in ("index", "size"):
        value = getattr(stmt, field, None)
        for expr in (value if isinstance(value, tuple) else (value,)):
            if expr is not None and hasattr(expr, "kind"):
                found |= index_names(expr, "scalar")
    return found


def _offset(name: str, defs: dict, row: str, col: str) -> int | None:
    """c where the bool `name` is exactly col - row <= c, else None."""
    stmt = defs.get(name)
    if type(stmt) is not Compute:
        return None
    op, args = stmt.op.name, stmt.args
    if op == "where" and len(args) == 3:
        yes, no = defs.get(args[1]), defs.get(args[2])
        if _is_bool(yes, True) and _is_bool(no, False):
            return _offset(args[0], defs, row, col)
        return None
    if op not in ("less_equal", "le", "less", "lt", "greater_equal", "ge", "greater", "gt") or len(args) != 2:
        return None
    diff, bound = _difference(args[0], defs), defs.get(args[1])
    if diff is None or not isinstance(bound, Constant) or not _is_int(bound.value):
        return None
    k = int(bound.value)
    if diff == (col, row) and op in ("less_equal", "le"):
        return k
    if diff == (col, row) and op in ("less", "lt"):
        return k - 1
    if diff == (row, col) and op in ("greater_equal", "ge"):
        return -k
    if diff == (row, col) and op in ("greater", "gt"):
        return -k - 1
    return None


def _difference(name: str, defs: dict):
    """(a, b) where `name` is the integer a - b of two loop variables, else None."""
    stmt = defs.get(name)
    if type(stmt) is not Compute or stmt.op.name not in ("subtract", "sub") or len(stmt.args) != 2:
        return None
    ends = [defs.get(a) for a in stmt.args]
    if not all(isinstance(e, IndexValue) and e.index.kind == "var" and e.dtype.kind == "i" for e in ends):
        return None
    return ends[0].index.args[0], ends[1].index.args[0]


def _is_bool(stmt, value: bool) -> bool:
    return isinstance(stmt, Constant) and stmt.dtype.kind == "b" and bool(stmt.value) is value


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) or \
        (hasattr(value, "dtype") and getattr(value.dtype, "kind", "") in "iu")
