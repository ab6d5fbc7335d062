"""Plan steps that run two matmul kernels a tile of rows at a time.

Where a plan computes ``rows(a @ b)`` in one kernel (a matmul with a row kernel over
its product: attention's scores, mask and softmax) and the next kernel multiplies that
result by ``v``, with nothing else reading it, the two run as one ``ChainStep``: the
backend's chain (``codegen/numba_chain.py``) computes each tile of rows through both,
and the intermediate matrix is never materialized whole. Only view steps may stand
between the two kernels (``k.T``-style views of v); they run first. Where the arrays
of a call do not suit the chain, the two kernels run as planned.
"""
from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np

from ..ir.nest import BoundsCheck, ValueCheck
from .arrays import NUMPY
from .plan import KernelStep, Plan, ViewStep, refresh_releases
from .records import CompilerError, is_kernel_compiler_error


@dataclass
class ChainStep:
    """Two kernel steps run as a row-tiled chain (see the module docstring): `first`'s
    result feeds only `second`'s matmul; `views` run first."""
    first: KernelStep
    views: list                   # view steps that stood between the two kernels
    second: KernelStep
    chain: object                 # the backend's chain (run(first inputs, v, out, sizes) -> bool)
    inputs: tuple                 # every slot it reads (for the plan's releases)
    outputs: tuple

    @property
    def out_types(self):
        return self.second.out_types

    @property
    def kernel(self):
        return self.chain.tile

    @property
    def region(self):
        """What dumps name the step by: the tile kernel, over the first kernel's ops."""
        return SimpleNamespace(name=self.chain.tile.name, nodes=self.first.region.nodes)

    @property
    def nest(self):
        return self.chain.tile.tiled_nest

    def run(self, xp, slots):
        for view in self.views:
            view.run(xp, slots)
        if xp is NUMPY:
            second = self.second
            v = slots[second.inputs[1 - self._a_position()]]
            out = np.empty(second.out_types[0].shape, second.out_types[0].dtype)
            try:
                ran = self.chain.run([slots[i] for i in self.first.inputs], v, out, self.first.sizes)
            except Exception as exc:
                if is_kernel_compiler_error(exc):     # the tile kernel compiles at its first launch
                    raise CompilerError(f"compiling kernel {self.chain.tile.name}", exc, op=self.chain.tile.name,
                                        loc=self.first.region.nodes[0].loc if self.first.region.nodes else "") \
                        from exc
                raise
            if ran:
                slots[second.outputs[0]] = out
                return
        self.first.run(xp, slots)
        self.second.run(xp, slots)
        slots[self.first.outputs[0]] = None

    def describe(self) -> str:
        """One line for dumps: which kernels run as a chain, and what is never materialized."""
        from ..codegen.numba_chain import tile_rows
        product = self.first.out_types[0]
        rows = tile_rows(product.shape[-1], product.dtype.itemsize)
        return (f"kernels {self.first.region.name} and {self.second.region.name} run {rows} rows at a time "
                f"(tile kernel {self.chain.tile.name}): their {product} intermediate is never materialized whole")

    def _a_position(self) -> int:
        second = self.second.kernel
        return second.input_names.index(second.matmul.a)


def _readers(steps) -> dict:
    found: dict = {}
    for index, step in enumerate(steps):
        for slot in ((step.input,) if isinstance(step, ViewStep) else step.inputs):
            found.setdefault(slot, []).append(index)
    return found


def _chain_at(steps, k, readers, outputs):
    """(end index, chain) when steps[k] starts a chain (see the module docstring)."""
    first = steps[k]
    if type(first) is not KernelStep:
        return None
    tile_kernel = getattr(first.kernel, "tile_kernel", None)
    if tile_kernel is None or getattr(first.kernel, "matmul", None) is None \
            or len(first.outputs) != 1 or first.outputs[0] in outputs:
        return None
    product = first.outputs[0]
    users = readers.get(product, [])
    if len(users) != 1:
        return None
    end = users[0]
    second = steps[end]
    if type(second) is not KernelStep or not getattr(second.kernel, "plain_matmul", False) \
            or second.kernel.backend != first.kernel.backend or len(second.inputs) != 2 \
            or not all(isinstance(s, ViewStep) for s in steps[k + 1:end]):
        return None
    for view in steps[k + 1:end]:          # views that run inside the chain: read there only
        if view.output in outputs or any(not k < i <= end for i in readers.get(view.output, ())):
            return None
    if any(isinstance(stmt, (BoundsCheck, ValueCheck)) for step in (first, second) if step.nest is not None
           for stmt in step.nest.statements()):
        return None                        # a kernel that may raise part way stays as planned (inplace.py)
    kernel = second.kernel
    if second.inputs[kernel.input_names.index(kernel.matmul.a)] != product or \
            second.inputs[kernel.input_names.index(kernel.matmul.b)] == product:
        return None
    from ..codegen.numba_chain import RowTiledChain
    if first.out_types[0].shape[:-2] != second.out_types[0].shape[:-2] or \
            not RowTiledChain.applies(first.kernel, kernel, first.out_types[0]):
        return None                        # (v's batch axes broadcasting the product's: not chained)
    tile = tile_kernel()
    if tile is None:
        return None
    return end, RowTiledChain.of(first.kernel, kernel, tile)


def chain_matmul_rows(plan: Plan) -> Plan:
    """`plan` with each chain of a matmul row kernel and a product of its result run as
    one ChainStep (in place; its releases recomputed)."""
    steps, outputs = plan.steps, set(plan.outputs)
    readers = _readers(steps)
    result, k, changed = [], 0, False
    while k < len(steps):
        found = _chain_at(steps, k, readers, outputs)
        if found is None:
            result.append(steps[k])
            k += 1
            continue
        end, chain = found
        first, views, second = steps[k], steps[k + 1:end], steps[end]
        reads = tuple(dict.fromkeys([*first.inputs, *(v.input for v in views), *second.inputs]))
        result.append(ChainStep(first, list(views), second, chain, reads, second.outputs))
        k, changed = end + 1, True
    if changed:
        plan.steps = result
        refresh_releases(plan)
        plan.kernels[:] = _kernels_run(result)
    return plan


def _kernels_run(steps) -> list:
    """The kernels the steps launch (a chain's tile kernel, not the two it stands for)."""
    found = []
    for step in steps:
        body = getattr(step, "body", None)
        for kernel in (body.kernels if body is not None else [getattr(step, "kernel", None)]):
            if kernel is not None and kernel not in found:
                found.append(kernel)
    return found


__all__ = ["ChainStep", "chain_matmul_rows"]
