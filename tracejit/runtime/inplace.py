"""Kernels that write straight into the caller's array.

A function that writes all of an argument or state array (``W -= lr * dW``,
``u[...] = f(u)``) yields a new version of it in the graph; by default the plan
computes that version into a fresh buffer and copies it into the caller's array.
When it is legal, the kernel producing the version takes the caller's array as its
output buffer instead, and the copy disappears (the write-back then finds the same
array and does nothing).

Legal means nothing can observe the overwritten values:
- the kernel is pointwise and reads the array only at the point it stores, before
  that store (so each point is read before it is written, on every backend);
- the kernel reads no other view of the array, no later step of the plan reads the
  array or a view of it, and no result of the plan is the old array or a view of it
  (``y[...] = x; x[...] = y * 2``: y's new contents are x's old ones);
- the version is the mutation's output only (no other result is it or a view of it);
- no step of the plan can raise (``may_raise``): after an error, the call runs again
  eagerly from the caller's arrays as they were.
At run time the array must also be dense and of the output's shape and dtype
(``KernelStep`` checks; otherwise it allocates as usual).
"""
from __future__ import annotations

from ..ir.nest import BoundsCheck, Load, Store, ValueCheck
from .plan import KernelStep, LibraryStep, Plan, ViewStep


def plan_in_place_writes(plan: Plan, mutations) -> None:
    """Mark the kernel steps that can write mutation outputs into their inputs."""
    if may_raise(plan):
        return
    for input_slot, output, region in mutations:
        if region is not None:
            continue
        slot = plan.outputs[output]
        if sum(s in _views_of(plan, slot) for s in plan.outputs) != 1:     # other results hold the buffer
            continue
        found = [(i, s) for i, s in enumerate(plan.steps) if isinstance(s, KernelStep) and slot in s.outputs]
        if not found:
            continue
        at, step = found[0]
        memory = _views_of(plan, input_slot)
        if any(s in memory for later in plan.steps[at + 1:] for s in _reads(later)):
            continue
        if any(s in memory for s in plan.outputs):      # a result is the old array (`y[...] = x`)
            continue
        if any(s in memory and s != input_slot for s in step.inputs):
            continue
        out_position = step.outputs.index(slot)
        in_positions = [p for p, s in enumerate(step.inputs) if s == input_slot]
        if step.nest is None or not pointwise_same_point(step.nest, in_positions, out_position):
            continue
        step.into = dict(step.into or {})
        step.into[out_position] = input_slot


def _checks(nest) -> bool:
    """The kernel may raise part way (a bounds or value check)."""
    return any(isinstance(s, (BoundsCheck, ValueCheck)) for s in nest.statements())


_NEVER_RAISE = frozenset({"sort", "argsort", "partition", "argpartition", "searchsorted", "last_writer"})


def may_raise(plan: Plan) -> bool:
    """Some step can raise at run time: a kernel with checks (bounds, int ** negative,
    Python-number rules), a library call (LAPACK's LinAlgError). Such a plan writes no
    argument in place, so that after its error the call runs again eagerly on the
    caller's untouched arrays and leaves what NumPy leaves."""
    for step in plan.steps:
        if isinstance(step, KernelStep) and step.nest is not None and _checks(step.nest):
            return True
        if isinstance(step, LibraryStep) and step.name not in _NEVER_RAISE:
            return True
        body = getattr(step, "body", None)
        if isinstance(body, Plan) and may_raise(body):
            return True
    return False


def _views_of(plan: Plan, slot: int) -> set:
    memory = {slot}
    for step in plan.steps:
        if isinstance(step, ViewStep) and step.input in memory:
            memory.add(step.output)
    return memory


def _reads(step) -> tuple:
    return (step.input,) if isinstance(step, ViewStep) else tuple(step.inputs)


def pointwise_same_point(nest, in_positions, out_position) -> bool:
    """Every load of the inputs at `in_positions` reads the point that output
    `out_position` stores, before the store."""
    if nest.inner_axes or nest.matmul is not None:
        return False
    out = nest.outputs[out_position]
    names = {nest.inputs[p].name for p in in_positions}
    if any(tuple(nest.inputs[p].shape) != tuple(out.shape) or nest.inputs[p].dtype != out.dtype
           for p in in_positions):
        return False
    statements = list(nest.statements())
    stores = [k for k, s in enumerate(statements) if isinstance(s, Store) and s.buffer == out.name]
    if len(stores) != 1:
        return False
    point = repr(statements[stores[0]].index)
    for k, s in enumerate(statements):
        if isinstance(s, Load) and s.buffer in names and (repr(s.index) != point or k > stores[0]):
            return False
    return True
