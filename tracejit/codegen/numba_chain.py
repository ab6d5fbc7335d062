"""Row-tiled matmul chains on the CPU: ``rows(a @ b) @ v`` a tile of rows at a time.

The chain is two kernels of a plan: the first computes ``a @ b`` and a row kernel over
it (attention's scale, mask and softmax), the second multiplies that result by ``v``.
Run as they are, the product and the row kernel's result are written whole and read
back. Here each thread takes tiles of ``tile_rows`` rows in turn and, for each, (1)
computes that tile of ``a @ b`` into a buffer of its own, (2) runs the row-tile kernel
(``ir/row_tiles.py``) into a second buffer, and (3) multiplies that by ``v`` into the
tile's rows of the result. The second and third step read what the step before wrote
from cache (128 rows of 1024 float32 columns: two buffers of 512 KiB, a core's L2 here),
and neither matrix is materialized whole. Measured on this machine (2 cores, 1 MiB L2
each, 32 MiB L3), causal attention over 8 heads of d=64: 13.8 -> 12.8 ms at T=1024 and
51.0 -> 45.1 ms at T=2048; tiles of 32 rows were slower than no tiles (thin BLAS
calls), so tiles keep 128 rows.

Causal structure carries over per tile: the first product is computed only for the
columns its rows use (``NumbaKernel.causal_offset``; the rest of the tile is zeros),
and where the weights are zero past the diagonal (``Matmul.a_zero_above``) and v is
finite, the second product multiplies only the columns up to there, as the untiled
kernels do. The results are those of the two kernels; only the blocking of BLAS's
sums may differ, within the tolerance every matmul has.
"""
from __future__ import annotations

import itertools
import math
import threading

import numpy as np

from . import blas_threads
from .numba_backend import _CPUS, _pool
from ..ir.row_tiles import TILE_ROW, TILE_ROWS

MIN_BYTES = 8 << 20        # a smaller chain's matrices stay in cache anyway: two kernels
TILE_ROWS_WANTED = 128     # measured: thinner tiles make BLAS slower than the cache saves
MAX_TILE_BYTES = 4 << 20   # one tile buffer at most (very long rows get fewer rows)
_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def tile_rows(columns: int, itemsize: int) -> int:
    """Rows per tile: TILE_ROWS_WANTED, fewer (a multiple of 16, at least 16) where
    its buffer would pass MAX_TILE_BYTES."""
    rows = MAX_TILE_BYTES // max(1, columns * itemsize)
    return max(16, min(TILE_ROWS_WANTED, rows // 16 * 16))


def _at(x, batch):
    """Operand `x`'s matrix for a batch index of the result (NumPy's broadcasting:
    missing or length-1 batch axes of x are read at 0)."""
    rank = x.ndim - 2
    if rank <= 0:
        return x
    lead = len(batch) - rank
    return x[tuple(0 if x.shape[k] == 1 else batch[lead + k] for k in range(rank))]


class RowTiledChain:
    """Runs `first` (a matmul row kernel) and `second` (a plain matmul of its result)
    tile by tile; see the module docstring."""

    _made: dict = {}
    _made_lock = threading.Lock()

    def __init__(self, first, second, tile):
        self.first, self.second, self.tile = first, second, tile
        self._local = threading.local()

    def __reduce__(self):
        return (RowTiledChain.of, (self.first, self.second, self.tile))

    @classmethod
    def of(cls, first, second, tile) -> "RowTiledChain":
        """The one chain of these kernels: plans traced at other sizes share it (a shape
        family compares plans by the identity of their kernels and chains)."""
        with cls._made_lock:
            found = cls._made.get((first, second, tile))
            if found is None:
                found = cls._made[(first, second, tile)] = cls(first, second, tile)
            return found

    @staticmethod
    def applies(first, second, product_type) -> bool:
        """Whether chaining these kernels pays and is supported, from the traced types."""
        dtype = np.dtype(product_type.dtype)
        return (dtype in _DTYPES and np.dtype(first.matmul.dtype) == dtype
                and np.dtype(second.matmul.dtype) == dtype and len(product_type.shape) >= 2
                and math.prod(product_type.shape) * dtype.itemsize >= MIN_BYTES
                and product_type.shape[-2] >= 2 * tile_rows(product_type.shape[-1], dtype.itemsize))

    def run(self, first_inputs, v, out, sizes) -> bool:
        """out = second(first(first_inputs), v) (in a compile helper's walk: only the
        tile kernel's compile noted); False where the arrays do not suit, and nothing
        ran (the caller then runs the two kernels)."""
        first, second, tile = self.first, self.second, self.tile
        mm = first.matmul
        a = first_inputs[first.input_names.index(mm.a)]
        b = first_inputs[first.input_names.index(mm.b)]
        dtype = out.dtype
        if any(x.dtype != dtype for x in (a, b, v)) or not out.flags.c_contiguous:
            return False
        rows, columns = a.shape[-2], b.shape[-1]
        step = tile_rows(columns, dtype.itemsize)
        by_name = dict(zip(first.input_names, first_inputs))
        size_values = [int(sizes[n]) if n != TILE_ROWS else rows for n in tile.size_names]
        causal = first.causal_offset
        zero_above = second.matmul.a_zero_above
        if zero_above is not None and not math.isfinite(float(np.add.reduce(v, axis=None))):
            zero_above = None                    # 0 * inf is NaN: every column counts, as in NumPy
        tasks = [(batch, r0) for batch in np.ndindex(*out.shape[:-2]) for r0 in range(0, rows, step)]
        if 0 in out.shape:
            return True                          # an empty result: nothing to compute
        names = tile.input_names

        def one(batch, r0, buffers) -> bool:
            r1 = min(r0 + step, rows)
            product, weights = buffers
            product, weights = product[:r1 - r0], weights[:r1 - r0]
            width = columns if causal is None else max(0, min(columns, r1 + causal))
            np.matmul(_at(a, batch)[r0:r1], _at(b, batch)[:, :width], out=product[:, :width])
            if width < columns:
                product[:, width:] = 0
            arrays = {"pt": product, TILE_ROW: np.array(r0, np.int64)}
            arrays.update((f"tile_batch{d}", np.array(i, np.int64)) for d, i in enumerate(batch))
            args = [arrays[n] if n in arrays else by_name[n] for n in names] + [weights] + size_values
            if not tile.run_rows(0, r1 - r0, args):
                return False
            used = columns if zero_above is None else max(0, min(columns, r1 + zero_above))
            np.matmul(weights[:, :used], _at(v, batch)[:used], out=_at(out, batch)[r0:r1])
            return True

        tickets = itertools.count(1)

        def work():
            buffers = self._buffers(step, columns, dtype)
            for k in iter(tickets.__next__, None):
                if k >= len(tasks):
                    return
                one(*tasks[k], buffers)
        set_threads = blas_threads._set_local_threads()
        threads = min(_CPUS, len(tasks) - 1)
        if set_threads is None:
            if one(*tasks[0], self._buffers(step, columns, dtype)):
                work()
            return True
        with blas_threads._blas_on_one_thread(set_threads):
            # the first tile on this thread: it compiles the tile kernel where needed
            if not one(*tasks[0], self._buffers(step, columns, dtype)):
                return True                  # a compile helper's walk: it only noted the compile
            futures = [_pool().submit(work) for _ in range(threads - 1)]
            try:
                work()
            finally:
                errors = [f.exception() for f in futures]
        for error in errors:
            if error is not None:
                raise error
        return True

    def _buffers(self, step, columns, dtype):
        """This thread's two tile buffers (the product's, the weights'), kept across calls."""
        key = (step, columns, dtype.str)
        found = getattr(self._local, "buffers", None)
        if found is None or found[0] != key:
            found = self._local.buffers = (key, (np.empty((step, columns), dtype), np.empty((step, columns), dtype)))
        return found[1]


__all__ = ["MIN_BYTES", "RowTiledChain", "tile_rows"]
