"""Python source for a plan: its steps without the step interpreter.

``Plan._run`` takes each kernel step through several layers (the step, the kernel's
``launch``, its short path ``_run_plain``): about 2 µs per call of a one-kernel function,
where the kernel itself takes 0.2 µs, and about 4 µs per kernel step of a loop body. In a
loop of small steps that is as much as the kernels themselves: logistic regression's
trip is two BLAS products (30 µs), two native epilogues (6 µs) and 11 µs of
interpreter. Once a plan has run and its launches are timed, ``runner_for(plan)``
writes its steps out as straight-line Python over the slot list, as Inductor writes
its wrapper code:

- a reshape or transpose of an ndarray is one method call; other views call their step;
- a kernel step whose kernel offers an express launch (``NumbaKernel.express``: measured
  small enough for one thread, on its short path or its flat form's) becomes its output
  buffers, its product (``np.matmul`` into the kernel's product buffer) and the call of
  its native entry, behind the checks ``_run_plain`` makes per call. Where a check
  fails, or the entry did not run (arguments it was not compiled for, an exception), the
  step's own ``run`` launches it, so the general path still decides everything it
  decides today;
- every other step (in-place outputs, parallel launches, library calls, loops, window
  writes) calls its own ``run``.

Slots die where the plan's releases say, so output buffers are reused across calls and
trips exactly when the interpreter would reuse them (nothing else holds them). A failure
is marked with its step's index, as the interpreter marks it (``writes_into_inputs``).
A runner is used only on NumPy arrays and under the plan's lock, the two conditions under
which the interpreter reuses buffers; otherwise the interpreter runs the plan.
"""
from __future__ import annotations

import os
import sys

import numpy as np

from .arrays import NUMPY
from .records import mark_exception

# TRACEJIT_PLAN_RUNNERS=0: every plan runs through its steps (``Plan._run``), to compare
ENABLED = os.environ.get("TRACEJIT_PLAN_RUNNERS", "1") != "0"
OWN_PRODUCT_ELEMENTS = 1 << 16     # matmul products up to this size get a buffer of the runner's own


def runner_for(plan, kernel_step: type, view_step: type):
    """A function ``run(inputs) -> outputs`` equivalent to ``plan._run(NUMPY, inputs)``
    while the caller holds ``plan.lock``; None where no step gains from one. The step
    classes come from ``plan.py``, which imports this module."""
    if not ENABLED:
        return None
    namespace = {"ndarray": np.ndarray, "empty": np.empty, "matmul": np.matmul,
                 "getrefcount": sys.getrefcount, "xp": NUMPY, "pool": plan.pool, "mark": mark_exception,
                 "tail": [None] * (plan.n_slots - plan.n_inputs)}
    lines = ["def run(inputs):", "    S = [*inputs, *tail]"]
    if plan.pool_size:
        lines += [f"    if len(pool) != {plan.pool_size}:", f"        pool[:] = [None] * {plan.pool_size}"]
    lines += ["    at = 0", "    try:"]
    express_steps = 0
    for index, (step, dead) in enumerate(zip(plan.steps, plan.release)):
        namespace[f"step{index}"] = step
        if type(step) is view_step and step.op in ("reshape", "transpose"):
            body = _view_lines(index, step, namespace)
        elif type(step) is kernel_step:
            body = _express_lines(index, step, namespace)
            express_steps += body is not None
            body = body or [f"step{index}.run(xp, S, True, pool)"]
        else:
            body = [f"step{index}.run(xp, S)"]
        if dead:
            body.append(" = ".join(f"S[{slot}]" for slot in dead) + " = None")
        lines += [f"        at = {index}"] * (index > 0) + ["        " + line for line in body]
    if not express_steps:
        return None
    lines += ["        return [" + ", ".join(f"S[{slot}]" for slot in plan.outputs) + "]",
              "    except Exception as exc:",
              "        mark(exc, 'tracejit_failed_step', at)",
              "        raise"]
    source = "\n".join(lines) + "\n"
    exec(compile(source, f"<tracejit plan: {_name(plan)}>", "exec"), namespace)
    run = namespace["run"]
    run.source = source
    return run


def measured(plan, kernel_step: type) -> bool:
    """Whether every launch of `plan` that may run express has run once (and been timed):
    until then a runner would leave it to the general path for good."""
    return all(step.launch is not None and step.kernel.measured(step.launch) for step in plan.steps
               if type(step) is kernel_step and not step.into and hasattr(step.kernel, "express"))


def _product_elements(step) -> int:
    """The elements of a kernel step's matmul product, from its loop nest (more than
    `OWN_PRODUCT_ELEMENTS` where the nest does not say)."""
    nest = step.nest
    result = None if nest is None or nest.matmul is None else nest.matmul.result
    for buffer in (nest.inputs if result is not None else ()):
        if buffer.name == result and all(isinstance(n, int) for n in buffer.shape):
            return int(np.prod(buffer.shape))
    return OWN_PRODUCT_ELEMENTS + 1


def _name(plan) -> str:
    kernels = [k.name for k in plan.kernels]
    return kernels[0] if kernels else "no kernels"


def _view_lines(index, step, namespace) -> list:
    argument = step.attrs["shape"] if step.op == "reshape" else step.attrs["perm"]
    namespace[f"view{index}"] = tuple(argument)
    return [f"x = S[{step.input}]  # {step.op} {step.loc}",
            "if type(x) is ndarray:",
            f"    S[{step.output}] = x.{step.op}(view{index})",
            "else:",
            f"    step{index}.run(xp, S)",
            "x = None"]


def _express_lines(index, step, namespace):
    """The express launch of kernel step `index`, or None where it has none."""
    express = getattr(step.kernel, "express", None)
    if step.into or step.launch is None or express is None:
        return None
    found = express(step.launch)
    if found is None:
        return None
    entry, rows, size_args, product, flat = found
    if step.buffers is None:
        step.buffers = [None] * len(step.out_types)
    pool_of = step.pool if step.pool is not None else (-1,) * len(step.out_types)
    namespace.update({f"entry{index}": entry, f"buffers{index}": step.buffers})
    names = [f"i{k}" for k in range(len(step.inputs))]
    lines = [f"# kernel {step.kernel.name}"]
    lines += [f"{name} = S[{slot}]" for name, slot in zip(names, step.inputs)]
    checks = [f"type({name}) is ndarray" for name in names]
    if product is not None:
        a, b, dtype, most, buffer = (names[product[0]], names[product[1]], *product[2:])
        namespace.update({f"dtype{index}": dtype, f"product{index}": buffer})
        checks += [f"{a}.ndim == 2", f"{b}.ndim == 2", f"{a}.dtype == dtype{index}", f"{b}.dtype == dtype{index}",
                   f"{a}.shape[0] * {b}.shape[1] * {a}.shape[1] < {most}"]
    flat = set(flat or ())
    checks += [f"{name}.flags.c_contiguous" for k, name in enumerate(names) if k in flat]
    lines.append(f"if {' and '.join(checks) or 'True'}:")     # (a kernel of no inputs: an iota)
    outs = []
    for k, (t, shared) in enumerate(zip(step.out_types, pool_of)):
        out = f"o{k}"
        outs.append(out)
        namespace[f"type{index}_{k}"] = (tuple(t.shape), np.dtype(t.dtype))
        if shared >= 0:         # a buffer of the plan's pool: as ``KernelStep._pooled``
            lines += [f"    {out} = pool[{shared}]",
                      f"    if getrefcount({out}) > 3 or ({out}.shape, {out}.dtype) != type{index}_{k}:",
                      f"        {out} = pool[{shared}] = empty(*type{index}_{k})"]
            continue
        # references to a buffer nobody else holds: the list's, the name's, getrefcount's argument
        lines += [f"    {out} = buffers{index}[{k}]",
                  f"    if getrefcount({out}) > 3:",
                  f"        {out} = buffers{index}[{k}] = empty(*type{index}_{k})"]
    arguments = [f"{name}.reshape(-1)" if k in flat else name for k, name in enumerate(names)]
    if product is not None:
        shape = f"({a}.shape[0], {b}.shape[1])"
        if _product_elements(step) <= OWN_PRODUCT_ELEMENTS:      # a buffer of the runner's own: no lookup
            namespace[f"products{index}"] = [None]
            lines += [f"    p = products{index}[0]",
                      f"    if getrefcount(p) > 3 or p.shape != {shape}:",
                      f"        p = products{index}[0] = empty({shape}, dtype{index})"]
        else:                   # the kernel's buffer: a large one is not kept twice
            lines.append(f"    p = product{index}({shape}, dtype{index})")
        lines.append(f"    matmul({a}, {b}, out=p)")
        arguments.append("p")
    size_text = "".join(f", {int(v)}" for v in size_args)
    arguments += [f"{out}.reshape(-1)" if len(names) + k in flat else out for k, out in enumerate(outs)]
    lines += [f"    done = entry{index}(0, {int(rows)}, {', '.join(arguments)}{size_text}) is None",
              "else:",
              "    done = False",
              "if done:"]
    lines += [f"    S[{slot}] = {out}" for slot, out in zip(step.outputs, outs)]
    # a name still holding an array would keep the step (on the general path) and the
    # steps after it from reusing its buffer
    held = " = ".join(names + outs + ["p"] * (product is not None)) + " = None"
    lines += ["else:", f"    {held}", f"    step{index}.run(xp, S, True, pool)", held]
    return lines
