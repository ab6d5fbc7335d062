"""Where a plan copies memory, and which consumer needs each copy.

Layout assignment leaves data where it is wherever it can: the layout pass computes
over transposed views in memory order, fusion turns the transposes, broadcasts, slices
and reshapes a kernel reads into index maps, and the plan's view steps are NumPy views.
Memory is still copied in a few places, each because a consumer needs it:

- a top-level reshape of memory that is not in the new order (NumPy's reshape copies
  then, in eager code too), needed by what reads the reshaped array from memory: the
  caller (a returned value), a matmul (BLAS), a library call, a loop body;
- a kernel that only moves data (``np.concatenate``, ``np.pad``, an array built by
  writes into ``np.zeros``): new memory that NumPy makes too;
- a matmul operand without a unit stride in its last two axes: ``np.matmul`` copies it
  for BLAS;
- a returned value that would share an argument's memory where NumPy returns new
  memory (``x.T.copy()``, ``np.array(x)``): the runtime copies it after the plan runs;
- a loop's carried value that its body writes into in place: copied once, on entry.

``physical_copies`` lists them for the dump (``=== physical copies ===``). It follows
every slot's strides through the plan (``slot_layouts``), from the arguments' layouts
where they are known (C order for the dump's typed arguments).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..ir.ops import OpGroup
from ..ir.types import TensorType
from ..ir.printer import short_loc
from ..tracer.layout import c_strides, view_strides
from .plan import KernelStep, LibraryStep, LoopStep, ViewStep, WindowWriteStep, output_roots
from .row_chains import ChainStep


@dataclass(frozen=True)
class SlotLayout:
    shape: tuple
    dtype: object                  # a NumPy dtype
    strides: tuple | None          # bytes; None: known only when the plan runs
    copied: bool = False           # made by a view step that had to copy (a reshape)

    @property
    def itemsize(self) -> int:
        return self.dtype.itemsize

    def __str__(self) -> str:
        return str(TensorType(self.shape, self.dtype))


@dataclass(frozen=True)
class PhysicalCopy:
    what: str
    loc: str
    why: str

    def __str__(self) -> str:
        loc = short_loc(self.loc)
        return f"{self.what}" + (f" ({loc})" if loc else "") + f": {self.why}"


def copied_outputs(plan, leaves):
    """The plan outputs (indices) the runtime copies after a run, where NumPy returns
    new memory the plan's result would otherwise share: with an argument that NumPy's
    value is not a view of, or with another output of another array. `leaves`: the
    trace's output leaves (results, extra trees, printed values). None for interpreted
    plans, whose outputs' memory is known only once they exist."""
    roots = output_roots(plan)
    if roots is None:
        return None
    copies, owners = set(), {}
    for leaf in leaves:
        if leaf.kind != "traced" or leaf.alias >= 0 or leaf.view_ops is not None:
            continue
        where = roots[leaf.index]
        if where[0] == "in":
            if leaf.root != where:
                copies.add(leaf.index)
        elif owners.setdefault(where[1], leaf.root) != leaf.root:
            copies.add(leaf.index)
    return frozenset(copies)


def trace_leaves(trace):
    """Every output leaf of a trace: results, extra trees, printed values."""
    yield from trace.outputs
    for tree in trace.extras:
        yield from tree.leaves
    for step in trace.host_steps:
        yield from step.outputs


def slot_layouts(plan, input_types, input_strides) -> dict:
    """slot -> SlotLayout for every slot of `plan`. `input_types`: the graph inputs'
    types; `input_strides`: per input, its strides or None (not known before a call)."""
    layouts = {k: SlotLayout(tuple(t.shape), t.dtype, input_strides[k])
               for k, t in enumerate(input_types)}
    for step in plan.steps:
        if type(step) in (KernelStep, LibraryStep, ChainStep):
            # kernels write C-ordered buffers (an input's only where it is one: ``is_dense``);
            # library calls return the array library's own results, laid out as it lays them
            for slot, t in zip(step.outputs, step.out_types):
                strides = None if type(step) is LibraryStep else c_strides(t.shape, t.dtype.itemsize)
                layouts[slot] = SlotLayout(tuple(t.shape), t.dtype, strides)
        elif type(step) is ViewStep:
            layouts[step.output] = _viewed(step, layouts[step.input])
        elif type(step) is WindowWriteStep:
            layouts[step.outputs[0]] = layouts[step.inputs[0]]
        elif type(step) is LoopStep:
            for slot in step.outputs:
                layouts[slot] = SlotLayout((), None, None)
    return layouts


def _viewed(step, source: SlotLayout) -> SlotLayout:
    op, attrs, shape = step.op, step.attrs, source.shape
    if op == "transpose":
        new_shape = tuple(shape[p] for p in attrs["perm"])
    elif op == "bitcast":
        return SlotLayout(shape, np.dtype(attrs["dtype"]), None)
    else:
        new_shape = tuple(attrs["shape"])
    if source.strides is None:
        return SlotLayout(new_shape, source.dtype, None)
    strides = view_strides(op, attrs, shape, new_shape, source.strides, source.itemsize)
    if strides is None:                   # NumPy's reshape copies, into C order
        return SlotLayout(new_shape, source.dtype, c_strides(new_shape, source.itemsize), copied=True)
    return SlotLayout(new_shape, source.dtype, strides)


def _readers(plan) -> dict:
    """slot -> [(kind, step)] of the steps that read it; kind 'matmul' where a kernel's
    matmul takes it as an operand."""
    readers: dict = {}
    for step in plan.steps:
        if type(step) is ViewStep:
            readers.setdefault(step.input, []).append(("view", step))
            continue
        operands = _matmul_operand_slots(step) if type(step) is KernelStep else ()
        kind = {KernelStep: "kernel", LibraryStep: "library", LoopStep: "loop",
                WindowWriteStep: "window"}.get(type(step), "step")
        for slot in step.inputs:
            readers.setdefault(slot, []).append(("matmul" if slot in operands else kind, step))
    return readers


def _matmul_operand_slots(step) -> set:
    region = step.region
    if region is None:
        return set()
    positions = {v: k for k, v in enumerate(region.inputs)}
    return {step.inputs[positions[v]] for n in region.nodes if n.op.group is OpGroup.MATMUL
            for v in n.inputs[:2] if v in positions}


def _needs(slot, readers, outputs, seen=()) -> list:
    """What reads `slot` from memory (through view steps), in words."""
    found = []
    if slot in outputs:
        found.append("the returned value (NumPy's own result is new memory here too)")
    for kind, step in readers.get(slot, ()):
        if kind == "view" and step.output not in seen:
            found += _needs(step.output, readers, outputs, seen + (step.output,))
        elif kind == "matmul":
            found.append(f"the matmul of kernel {step.region.name} (BLAS reads its operands from memory)")
        elif kind == "library":
            found.append(f"np.{step.name} (a library call reads memory)")
        elif kind == "loop":
            found.append("a loop, whose body is planned apart and reads its inputs from memory")
        elif kind == "kernel":
            found.append(f"kernel {step.region.name}")
    return list(dict.fromkeys(found))


def _moves_only(region) -> bool:
    """The kernel's ops only move data (movement ops, constants, same-dtype casts)."""
    for n in region.nodes:
        if n.op.group in (OpGroup.SOURCE, OpGroup.MOVEMENT) and n.op.name != "require":
            continue
        if n.op.name == "cast" and n.inputs[0].type.dtype == n.output.type.dtype:
            continue
        return False
    return True


def _blas_ready(layout: SlotLayout) -> bool:
    """NumPy's matmul hands the operand to BLAS as it is: one of its last two axes has a
    unit stride and the other one a stride past the first's extent."""
    if layout.strides is None or len(layout.shape) < 2:
        return True
    (rows, cols), (row_step, col_step) = layout.shape[-2:], layout.strides[-2:]
    if rows <= 1 or cols <= 1:
        return True
    size = layout.itemsize
    return (col_step == size and row_step >= cols * size) or (row_step == size and col_step >= rows * size)


def physical_copies(plan, input_types, input_strides, copied=frozenset(), output_locs=()) -> list:
    """The PhysicalCopy entries of `plan` (see the module docstring). `copied`: the
    outputs the runtime copies after the run (``copied_outputs``); `output_locs`: the
    user's line of each graph output."""
    layouts = slot_layouts(plan, input_types, input_strides)
    readers = _readers(plan)
    outputs = set(plan.outputs)
    found = []
    for step in plan.steps:
        if type(step) is ViewStep and layouts[step.output].copied:
            src, dst = layouts[step.input], layouts[step.output]
            needs = _needs(step.output, readers, outputs)
            found.append(PhysicalCopy(f"reshape {src} -> {dst}", step.loc,
                                      "copies, since the memory it reshapes is not in the new order; needed by "
                                      + (", ".join(needs) or "nothing (dead)")))
        elif type(step) is KernelStep and step.region is not None:
            for slot in _matmul_operand_slots(step):
                if not _blas_ready(layouts[slot]):
                    found.append(PhysicalCopy(f"matmul operand {layouts[slot]} of kernel {step.region.name}",
                                              _first_loc(step.region),
                                              "np.matmul copies it for BLAS: neither of its last two axes has "
                                              "a unit stride"))
            if _moves_only(step.region):
                needs = [n for slot in step.outputs for n in _needs(slot, readers, outputs)]
                ops = sorted({n.op.name for n in step.region.nodes if n.op.group is OpGroup.MOVEMENT})
                found.append(PhysicalCopy(f"kernel {step.region.name} only moves data ({', '.join(ops)})",
                                          _first_loc(step.region),
                                          "new memory, as NumPy makes; needed by "
                                          + (", ".join(dict.fromkeys(needs)) or "nothing (dead)")))
        elif type(step) is LoopStep:
            for k in step.in_place:
                found.append(PhysicalCopy(f"loop carried value {k}", step.loc,
                                          "copied once on entry: the body writes into it in place"))
    for index in sorted(copied):
        loc = output_locs[index] if index < len(output_locs) else ""
        found.append(PhysicalCopy(f"output {index}", loc,
                                  "copied after the plan runs: NumPy returns new memory (x.copy(), np.array) "
                                  "where the plan's result is an argument's or another result's memory"))
    return found


def _first_loc(region) -> str:
    return next((n.loc for n in region.nodes if n.loc), "")


__all__ = ["PhysicalCopy", "SlotLayout", "copied_outputs", "physical_copies", "slot_layouts", "trace_leaves"]
