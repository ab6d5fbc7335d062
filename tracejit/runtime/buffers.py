"""Buffer planning: intermediates share buffers across the kernels of a plan.

Every kernel output that is an intermediate (not a result of the plan, nor memory a
result views) is given a *pool buffer*: one of the plan's reusable buffers of its
shape and dtype whose previous tenant is dead by then. A tenant is dead after the
last step that reads it or any view of it. The pool lives on the plan, so buffers are
reused across calls too (``Plan.run`` under the plan's lock; a concurrent call of the
same plan allocates fresh buffers). At run time a buffer is reused only while nothing
outside the plan holds it (``KernelStep`` checks its reference count), so a consumer
that kept a reference (a library step returning a view of its input) is safe.

A chain of layers then needs two activation buffers, not one per layer, which keeps
the working set small (fewer page faults and cache misses on every call).
"""
from __future__ import annotations

from .plan import KernelStep, LoopStep, Plan, ViewStep, WindowWriteStep


def plan_buffers(plan: Plan) -> None:
    """Set ``KernelStep.pool`` (per output: pool index or -1) and ``Plan.pool_size``."""
    root = {}
    for step in plan.steps:
        if isinstance(step, ViewStep):
            root[step.output] = root.get(step.input, step.input)
        elif isinstance(step, WindowWriteStep):         # its result is its operand's buffer
            root[step.outputs[0]] = root.get(step.inputs[0], step.inputs[0])
        elif isinstance(step, LoopStep):
            plan_buffers(step.body)
    escaping = {root.get(s, s) for s in plan.outputs} | {root.get(s, s) for s in range(plan.n_inputs)}
    last_use = {}
    for index, step in enumerate(plan.steps):
        reads = (step.input,) if isinstance(step, ViewStep) else tuple(step.inputs)
        writes = (step.output,) if isinstance(step, ViewStep) else tuple(step.outputs)
        for slot in reads + writes:
            last_use[root.get(slot, slot)] = index
    free: dict = {}               # (shape, dtype) -> pool indices free now
    size = 0
    dying: dict = {}              # step index -> pool indices free after it
    for index, step in enumerate(plan.steps):
        if isinstance(step, KernelStep):
            pool = []
            for slot, t in zip(step.outputs, step.out_types):
                if slot in escaping or (step.into and step.outputs.index(slot) in step.into):
                    pool.append(-1)
                    continue
                key = (tuple(t.shape), t.dtype.str)
                available = free.get(key)
                if available:
                    buffer = available.pop()
                else:
                    buffer, size = size, size + 1
                pool.append(buffer)
                dying.setdefault(last_use.get(slot, index), []).append((key, buffer))
            step.pool = tuple(pool)
        for key, buffer in dying.pop(index, ()):
            free.setdefault(key, []).append(buffer)
    plan.pool_size = size

