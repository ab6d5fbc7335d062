"""Execution plans: the optimized graph turned into a list of steps over slots.

A plan is built once per specialization. Each step reads and writes numbered slots:
kernel launches (outputs allocated by the array library) and views (reshape,
transpose, broadcast_to, slice made by the array library without copying). Slots are
released after their last use so intermediates die early.
"""
from __future__ import annotations

import sys
import threading
from dataclasses import dataclass, field

import numpy as np

from ..ir.interpreter import run_graph
from ..ir.ops import OpGroup
from ..ir.ops_control import loop_layout
from ..codegen import compile_share
from .arrays import NUMPY
from . import plan_source
from .records import CompilerError, is_kernel_compiler_error, mark_exception

VIEW_OPS = ("reshape", "transpose", "broadcast_to", "slice", "bitcast")


@dataclass
class KernelStep:
    kernel: object            # a backend Kernel: kernel(inputs, outputs, sizes)
    sizes: dict
    inputs: tuple
    outputs: tuple
    out_types: tuple
    region: object = None
    nest: object = None           # the LoopNest the kernel renders (for dumps)

    buffers: list = None          # last call's output buffers, reused when nobody else holds them
    into: dict = None             # output position -> input slot it may be written into (inplace.py)
    launch: list = None           # the kernel's prepared launch for these sizes (kernels that have one)
    pool: tuple = None            # per output: the plan's pool buffer it uses, or -1 (buffers.py)

    def run(self, xp, slots, reuse=False, pool=None):
        if reuse:
            kinds = self.pool if pool is not None else None
            if kinds is None:
                outs = [self._reusable(k) for k in range(len(self.out_types))]
            elif len(kinds) == 1:
                outs = [self._reusable(0) if kinds[0] < 0 else self._pooled(0, pool, kinds[0])]
            else:
                outs = [self._reusable(k) if b < 0 else self._pooled(k, pool, b) for k, b in enumerate(kinds)]
        else:
            outs = [xp.empty(t.shape, t.dtype) for t in self.out_types]
        if self.into:
            for k, slot in self.into.items():
                if xp.is_dense(slots[slot], self.out_types[k]):
                    outs[k] = slots[slot]
        launch = self.launch
        try:
            if launch is not None:
                self.kernel.launch([slots[i] for i in self.inputs], outs, launch)
            elif hasattr(self.kernel, "prepare"):
                self.launch = self.kernel.prepare(self.sizes)
                self.kernel.launch([slots[i] for i in self.inputs], outs, self.launch)
            else:
                self.kernel([slots[i] for i in self.inputs], outs, self.sizes)
        except Exception as exc:
            mark_exception(exc, "tracejit_kernel_error", True)     # raised by the kernel itself
            if is_kernel_compiler_error(exc):   # kernels compile lazily, on their first launch
                first = self.region.nodes[0] if self.region is not None and self.region.nodes else None
                raise CompilerError(f"compiling kernel {self.kernel.name}", exc, op=self.kernel.name,
                                    loc=first.loc if first is not None else "") from exc
            raise
        for slot, array in zip(self.outputs, outs):
            slots[slot] = array

    def __getstate__(self):
        # a stored plan (plan_store.py) holds what the plan is, not what its last call left
        return dict(self.__dict__, buffers=None, launch=None)

    def _pooled(self, k, pool, b):
        """Pool buffer `b` for output k when nothing else holds it (see ``_reusable``)."""
        cached = pool[b]
        t = self.out_types[k]
        if cached is not None and sys.getrefcount(cached) <= 3 and cached.shape == t.shape \
                and cached.dtype == t.dtype:
            return cached
        pool[b] = fresh = np.empty(t.shape, t.dtype)
        return fresh

    def _reusable(self, k):
        """Last call's buffer for output k if only this step still refers to it (the
        caller dropped the result and no view of it is alive), else a new one."""
        if self.buffers is None:
            self.buffers = [None] * len(self.out_types)
        cached = self.buffers[k]
        # references: the list entry, `cached`, getrefcount's argument
        if cached is not None and sys.getrefcount(cached) <= 3:
            return cached
        t = self.out_types[k]
        self.buffers[k] = fresh = np.empty(t.shape, t.dtype)
        return fresh


@dataclass
class ViewStep:
    op: str
    attrs: dict
    input: int
    output: int
    loc: str = ""                 # the user's line (for dumps)

    def run(self, xp, slots):
        x = slots[self.input]
        if type(x) is np.ndarray:        # NumPy's methods themselves: the commonest steps of small plans
            op = self.op
            if op == "reshape":
                slots[self.output] = x.reshape(self.attrs["shape"])
                return
            if op == "transpose":
                slots[self.output] = x.transpose(self.attrs["perm"])
                return
        slots[self.output] = xp.view(self.op, self.attrs, x)


@dataclass
class LibraryStep:
    """A library op (``ir/ops_library.py``: sort, LAPACK) run by the array library
    between kernels: NumPy on the CPU, torch or CuPy on the GPU (``xp.library``)."""
    name: str
    attrs: dict
    inputs: tuple
    outputs: tuple
    out_types: tuple
    loc: str = ""                 # the user's line (for dumps)

    def run(self, xp, slots):
        results = xp.library(self.name, self.attrs, [slots[i] for i in self.inputs], self.out_types)
        for slot, array in zip(self.outputs, results):
            slots[slot] = array


@dataclass
class WindowWriteStep:
    """A ``write_window`` (``passes/loop_writes.py``): ``x[window] = v`` into x's own
    buffer, which nothing reads afterwards; the output is that buffer."""
    attrs: dict
    inputs: tuple               # x, v, then one 0-d offset per axis
    outputs: tuple

    def run(self, xp, slots):
        x, v = slots[self.inputs[0]], slots[self.inputs[1]]
        starts = [int(xp.to_numpy(slots[i])) for i in self.inputs[2:]]
        xp.write_slice(x, starts, self.attrs["steps"], self.attrs["shape"], v)
        slots[self.outputs[0]] = x


@dataclass
class InterpretStep:
    """Runs a whole graph in the reference interpreter (backend="interpret")."""
    graph: object
    inputs: tuple
    outputs: tuple

    def run(self, xp, slots):
        results = run_graph(self.graph, [xp.to_numpy(slots[i]) for i in self.inputs])
        for slot, array in zip(self.outputs, results):
            slots[slot] = xp.from_numpy(array)


@dataclass
class LoopStep:
    """A ``loop`` node (``ir/ops_control.py``): its body's own plan run `trips` times,
    the first `carried` results fed back as the next trip's first inputs, a per-trip
    operand of each group and the per-trip table entries fed last; `stacked` results
    are kept from every trip, in (trips, ...) arrays."""
    body: "Plan"
    trips: int
    layout: tuple                # (carried, invariant, per-trip groups, stacked)
    tables: list
    inputs: tuple
    outputs: tuple
    in_place: tuple = ()         # carried values the body writes into: copied once, on entry
    loc: str = ""                # the user's line (for dumps)
    _per_trip: dict = field(default_factory=dict)     # array library name -> per-trip 0-d arrays

    def run(self, xp, slots):
        n_carried, n_invariant, groups, stacked = self.layout
        state = [slots[i] for i in self.inputs]
        carried = state[:n_carried]
        for k in self.in_place:          # the body writes windows into these buffers
            carried[k] = xp.copy(carried[k])
        invariant = state[n_carried:n_carried + n_invariant]
        grouped = state[n_carried + n_invariant:]
        tables = self._tables(xp)
        results, stacks = carried, None
        runner, locked = None, False
        try:
            for k in range(self.trips):
                inputs = carried + invariant
                if groups:
                    inputs += [grouped[g * self.trips + k] for g in range(groups)]
                if self.tables:
                    inputs += tables[k]
                if runner is None and xp is NUMPY and self.body.ran:      # the trips after the body's first
                    runner = self.body.express_runner()
                    locked = runner is not None and self.body.lock.acquire(blocking=False)
                    runner = runner if locked else False
                results = runner(inputs) if locked else self.body.run(xp, inputs)
                carried = results[:n_carried]
                if stacked:
                    stacks = self._stack(xp, k, results[len(results) - stacked:], stacks)
        finally:
            if locked:
                self.body.lock.release()
        if stacked:
            results = list(results[:len(results) - stacked]) + stacks
        for slot, array in zip(self.outputs, results):
            slots[slot] = array

    def _stack(self, xp, k, rows, stacks):
        """Write trip k's stacked results into their (trips, ...) arrays (made at trip 0)."""
        if stacks is None:
            stacks = [xp.empty((self.trips,) + tuple(xp.shape_dtype(r)[0]), xp.shape_dtype(r)[1]) for r in rows]
        for stack, row in zip(stacks, rows):
            xp.write_slice(stack, (k,) + (0,) * (len(stack.shape) - 1), (1,) * len(stack.shape),
                           (1,) + tuple(stack.shape[1:]), row)
        return stacks

    def __getstate__(self):
        return dict(self.__dict__, _per_trip={})

    def _tables(self, xp):
        cached = self._per_trip.get(xp.name)
        if cached is None:
            cached = self._per_trip[xp.name] = [
                [xp.from_numpy(np.array(table[k])) for table in self.tables] for k in range(self.trips)]
        return cached


@dataclass
class Plan:
    n_slots: int
    n_inputs: int
    steps: list
    outputs: tuple
    release: list = field(default_factory=list)   # per step: slots dead after it
    kernels: list = field(default_factory=list)   # the backend Kernel objects
    lock: object = field(default_factory=threading.Lock)
    pool_size: int = 0                            # buffers shared by intermediates (buffers.py)
    pool: list = field(default_factory=list)      # those buffers, kept across calls
    ran: bool = False                             # whether it ran once (its first run may share compiles)
    runner: object = None                         # its generated runner (plan_source.py); False: none

    def __getstate__(self):
        return dict(self.__dict__, lock=None, pool=[], ran=False, runner=None)

    def __setstate__(self, state):
        self.__dict__.update(state)
        self.lock = threading.Lock()

    def writes_into_inputs(self, failed_step=None) -> bool:
        """A step before `failed_step` (all: None) may have written straight into an
        input's memory (a kernel writing in place, a window write): after a failure
        there the caller's arrays may have changed. The failed step itself wrote nothing:
        a kernel that writes in place has no checks (``inplace.py``), so it can fail only
        before it runs (its compile)."""
        steps = self.steps if failed_step is None else self.steps[:failed_step]
        return any((type(step) is KernelStep and any(s < self.n_inputs for s in (step.into or {}).values()))
                   or type(step) is WindowWriteStep for step in steps)

    def run(self, xp, arrays):
        if not self.ran:
            self.ran = True
            waiting = [k for k in self.kernels if getattr(k, "backend", None) == "numba" and k.compile_seconds is None]
            if len(waiting) >= 2 and xp is NUMPY:
                size = sum(getattr(a, "nbytes", 0) for a in arrays)
                with compile_share.first_run(lambda: self.run(xp, arrays), len(waiting), size):
                    return self._run(xp, arrays)
        if xp is NUMPY:
            runner = self.express_runner()
            if runner is not None and self.lock.acquire(blocking=False):
                try:
                    return runner(arrays)
                finally:
                    self.lock.release()
        return self._run(xp, arrays)

    def express_runner(self):
        """The plan's generated runner (``plan_source.py``, for NumPy arrays, to be called
        under ``lock``), made once its launches are measured; None while there is none,
        and in a compile helper (which runs no kernel)."""
        if compile_share.in_helper():
            return None
        runner = self.runner
        if runner is None:
            if not plan_source.measured(self, KernelStep):
                return None             # (another thread's first run may still be timing its launches)
            runner = self.runner = plan_source.runner_for(self, KernelStep, ViewStep) or False
        return runner or None

    def _run(self, xp, arrays):
        slots = [None] * self.n_slots
        slots[:self.n_inputs] = arrays
        # NumPy buffers are reused across calls (allocation of large outputs costs more
        # than small kernels); a concurrent call of the same plan allocates fresh ones
        reuse = xp is NUMPY and self.lock.acquire(blocking=False)
        try:
            pool = self.pool
            if reuse and len(pool) != self.pool_size:
                pool[:] = [None] * self.pool_size
            index = 0
            for step, dead in zip(self.steps, self.release):
                try:
                    if reuse and type(step) is KernelStep:
                        step.run(xp, slots, True, pool)
                    else:
                        step.run(xp, slots)
                except Exception as exc:
                    mark_exception(exc, "tracejit_failed_step", index)
                    raise
                if dead:
                    for slot in dead:
                        slots[slot] = None
                index += 1
            return [slots[i] for i in self.outputs]
        finally:
            if reuse:
                self.lock.release()


def _releases(steps, outputs, n_inputs) -> list:
    """Per step, the slots dead after it: read last there, and neither an input nor an output."""
    last_use = {}
    for index, step in enumerate(steps):
        reads = step.inputs if not isinstance(step, ViewStep) else (step.input,)
        for slot in reads:
            last_use[slot] = index
    keep = set(outputs) | set(range(n_inputs))
    release = [[] for _ in steps]
    for slot, index in last_use.items():
        if slot not in keep:
            release[index].append(slot)
    return release


def refresh_releases(plan: Plan) -> None:
    """Recompute `plan`'s releases after its steps changed."""
    plan.release = _releases(plan.steps, plan.outputs, plan.n_inputs)


def _finish(plan_steps, slot_of, graph, n_slots, kernels):
    outputs = tuple(slot_of[v] for v in graph.outputs)
    release = _releases(plan_steps, outputs, len(graph.inputs))
    return Plan(n_slots, len(graph.inputs), plan_steps, outputs, release, kernels)


def build_plan(graph, compile_region) -> Plan:
    """Plan for a fused graph (loop bodies fused too). `compile_region(region) -> (kernel, loop nest)`."""
    slot_of = {v: i for i, v in enumerate(graph.inputs)}
    steps, kernels = [], []
    for node in graph.nodes:
        if node.op.group is OpGroup.LOOP:
            body = build_plan(node.attrs["body"], compile_region)
            for value in node.outputs:
                slot_of[value] = len(slot_of)
            steps.append(LoopStep(body, node.attrs["trips"], loop_layout(node.attrs, len(node.inputs)),
                                  node.attrs["tables"], tuple(slot_of[v] for v in node.inputs),
                                  tuple(slot_of[v] for v in node.outputs), tuple(node.attrs.get("in_place", ())),
                                  loc=node.loc))
            kernels.extend(k for k in body.kernels if k not in kernels)
            continue
        if node.op.name == "write_window":
            inputs = tuple(slot_of[v] for v in node.inputs)
            slot_of[node.output] = len(slot_of)
            steps.append(WindowWriteStep(node.attrs, inputs, (slot_of[node.output],)))
            continue
        if node.op.group is OpGroup.LIBRARY:
            for value in node.outputs:
                slot_of[value] = len(slot_of)
            steps.append(LibraryStep(node.op.name, node.attrs, tuple(slot_of[v] for v in node.inputs),
                                     tuple(slot_of[v] for v in node.outputs), tuple(v.type for v in node.outputs),
                                     node.loc))
            continue
        if node.op.group is OpGroup.KERNEL:
            kernel, nest = compile_region(node.attrs["region"])
            for value in node.outputs:
                slot_of[value] = len(slot_of)
            steps.append(KernelStep(kernel, nest.sizes, tuple(slot_of[v] for v in node.inputs),
                                    tuple(slot_of[v] for v in node.outputs),
                                    tuple(v.type for v in node.outputs), node.attrs["region"], nest))
            if kernel not in kernels:
                kernels.append(kernel)
        elif node.op.name in VIEW_OPS:
            slot_of[node.output] = len(slot_of)
            steps.append(ViewStep(node.op.name, node.attrs, slot_of[node.inputs[0]], slot_of[node.output], node.loc))
        else:
            raise RuntimeError(f"fusion left a bare {node.op.name} node at {node.loc}: cannot plan it")
    return _finish(steps, slot_of, graph, len(slot_of), kernels)


def interpret_plan(graph) -> Plan:
    n = len(graph.inputs)
    outputs = tuple(range(n, n + len(graph.outputs)))
    step = InterpretStep(graph, tuple(range(n)), outputs)
    return Plan(n + len(graph.outputs), n, [step], outputs, [[]], [])


def output_roots(plan: Plan):
    """Per plan output, the memory it lives in: ``("in", i)`` for (a view of) input i,
    ``("buf", key)`` for a buffer the plan allocated (outputs with one key are one
    buffer). None for interpreted plans, whose outputs are only known when they exist.

    A loop's result is whatever its body returns: a new buffer, or (after the body's own
    passes simplify ``x * 1.0`` to ``x``) one of the body's inputs itself, which is an
    operand of the loop; two results may also be one buffer of the body."""
    if any(isinstance(step, InterpretStep) for step in plan.steps):
        return None
    source = {}             # slot -> the slot whose memory it views
    loop_roots = {}         # loop result slot -> its root, where the loop does not make it
    tables = ("in", -1)     # a loop's per-trip table entry: never the caller's memory either

    def root_of(slot):
        slot = source.get(slot, slot)
        if slot in loop_roots:
            return loop_roots[slot]
        return ("in", slot) if slot < plan.n_inputs else ("buf", slot)
    for step in plan.steps:
        if isinstance(step, ViewStep):
            source[step.output] = source.get(step.input, step.input)
        elif isinstance(step, WindowWriteStep):
            source[step.outputs[0]] = source.get(step.inputs[0], step.inputs[0])
        elif isinstance(step, LoopStep):
            body_roots = output_roots(step.body)
            if body_roots is None:
                return None
            carried, invariant, groups, stacked = step.layout
            for k, slot in enumerate(step.outputs[:len(step.outputs) - stacked]):
                kind, where = body_roots[k]
                if kind == "buf":
                    loop_roots[slot] = ("buf", ("loop", id(step), where))
                elif where < carried + invariant:
                    loop_roots[slot] = root_of(step.inputs[where])
                elif where < carried + invariant + groups:       # the last trip's operand of its group
                    group = where - carried - invariant
                    loop_roots[slot] = root_of(step.inputs[carried + invariant + (group + 1) * step.trips - 1])
                else:
                    loop_roots[slot] = tables
    return [root_of(slot) for slot in plan.outputs]

