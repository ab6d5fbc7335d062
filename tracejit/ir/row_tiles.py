"""A matmul's row kernel as a kernel over one tile of the product's rows.

Attention's ``softmax(mask(q @ k.T)) @ v`` computes a product, a row kernel over it
(scale, mask, softmax) and a second product of that kernel's result. Planned as two
kernels, the scores and the weights are written whole to memory and read back: for
8 heads of 1024x1024 float32, 32 MB each, far beyond the caches. Computed a tile of
rows at a time (``codegen/numba_chain.py``), a tile of the product, the row kernel's
tile of weights and the second product's rows stay in cache, and neither matrix is
ever materialized whole.

``tile_nest(nest)`` makes the row kernel of such a chain: the nest over
``[batch..., rows, cols]`` becomes a nest over ``[tile rows, cols]`` that reads the
product tile from the input ``pt`` and writes the output tile, both at the tile's own
index. Everything else keeps global positions: the tile's first row comes in as the
0-d int64 input ``tile_row`` and each batch index as ``tile_batch{d}``, so a causal
mask's ``column <= row`` and any other array the kernel reads see the rows they are.
None where the nest is not such a kernel: one output over the whole product, the
product and that output read and written only at the element being computed, rows
independent (no scans), and some reduction along the rows (a pointwise epilogue is
better left whole: BLAS runs faster on the whole product than on thin tiles).
"""
from __future__ import annotations

import dataclasses

import numpy as np

from .nest import Buffer, IndexExpr, Load, LoopNest, add, const, scalar_ref, size_ref, var

TILE_ROW, TILE_ROWS = "tile_row", "tile_rows"
_INDEX = np.dtype(np.int64)


def _substitute(expr, mapping):
    """`expr` with loop variables replaced by `mapping` (name -> IndexExpr)."""
    if expr.kind == "var":
        return mapping.get(expr.args[0], expr)
    if expr.kind in ("size", "const", "scalar"):
        return expr
    return IndexExpr(expr.kind, tuple(_substitute(a, mapping) if isinstance(a, IndexExpr) else a
                                      for a in expr.args))


def _full_index(nest) -> tuple:
    return tuple(const(0) if n == 1 else var(f"i{d}") for d, n in enumerate(nest.domain))


class _Rewriter:
    """Statements of the tile nest from the statements of the whole one."""

    def __init__(self, nest, product: str, output: str):
        rank = len(nest.domain)
        self.full = _full_index(nest)
        self.local = (var("i0"), var("i1"))
        self.tiled = {product: "pt", output: output}
        self.mapping = {f"i{d}": scalar_ref(f"tile_batch{d}_v") for d in range(rank - 2)}
        self.mapping[f"i{rank - 2}"] = add(var("i0"), scalar_ref(f"{TILE_ROW}_v"))
        self.mapping[f"i{rank - 1}"] = var("i1")
        self.ok = True

    def statement(self, stmt):
        if isinstance(stmt, list):
            return [self.statement(s) for s in stmt]
        if not dataclasses.is_dataclass(stmt):
            return stmt
        buffer = getattr(stmt, "buffer", None)
        if buffer in self.tiled:
            if tuple(stmt.index) != self.full:
                self.ok = False            # the product or the output read elsewhere than its element
                return stmt
            return dataclasses.replace(stmt, buffer=self.tiled[buffer], index=self.local)
        changes = {}
        for f in dataclasses.fields(stmt):
            value = getattr(stmt, f.name)
            if isinstance(value, IndexExpr):
                changes[f.name] = _substitute(value, self.mapping)
            elif isinstance(value, tuple) and value and all(isinstance(v, IndexExpr) for v in value):
                changes[f.name] = tuple(_substitute(v, self.mapping) for v in value)
            elif isinstance(value, list):
                changes[f.name] = self.statement(value)
        return dataclasses.replace(stmt, **changes) if changes else stmt


def _loaded(nest) -> set:
    return {s.buffer for s in nest.statements() if isinstance(s, Load)}


def tile_nest(nest: LoopNest) -> LoopNest | None:
    """The row kernel of a row-tiled chain (see the module docstring), or None."""
    mm = nest.matmul
    rank = len(nest.domain)
    if mm is None or rank < 2 or len(nest.outputs) != 1 or not nest.phases:
        return None
    if any(p.scan or p.scans for p in nest.phases) or tuple(nest.inner_axes) != (rank - 1,):
        return None
    out = nest.outputs[0]
    product = next((b for b in nest.inputs if b.name == mm.result), None)
    if product is None or tuple(out.shape) != tuple(nest.domain) or tuple(product.shape) != tuple(nest.domain):
        return None
    rewriter = _Rewriter(nest, mm.result, out.name)
    preamble = rewriter.statement(nest.preamble)
    segments = [rewriter.statement(s) for s in nest.segments]
    phases = [rewriter.statement(p) for p in nest.phases]
    epilogue = rewriter.statement(nest.epilogue)
    if not rewriter.ok:
        return None
    positions = [Load(f"{TILE_ROW}_v", TILE_ROW, (), _INDEX)] + \
        [Load(f"tile_batch{d}_v", f"tile_batch{d}", (), _INDEX) for d in range(rank - 2)]
    # the nest's sizes in this trace decide rendering (row functions): every row of the
    # product counts, as the tiles together cover them; buffer shapes follow the domain
    tile_shape = (int(np.prod(nest.domain[:-1])), nest.domain[-1])
    loaded = _loaded(nest)
    inputs = [b for b in nest.inputs if b.name != mm.result and b.name in loaded] + \
        [Buffer("pt", product.dtype, tile_shape), Buffer(TILE_ROW, _INDEX, ())] + \
        [Buffer(f"tile_batch{d}", _INDEX, ()) for d in range(rank - 2)]
    sizes = dict(nest.sizes)
    sizes[TILE_ROWS] = tile_shape[0]
    return LoopNest(f"{nest.name}_tile", inputs, [Buffer(out.name, out.dtype, tile_shape)],
                    tile_shape, (size_ref(TILE_ROWS), nest.domain_sizes[-1]), (1,), sizes,
                    segments, phases, epilogue, None, positions + preamble)


__all__ = ["TILE_ROW", "TILE_ROWS", "tile_nest"]
