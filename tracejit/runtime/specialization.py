"""One compiled specialization: guards, plan, and what a call leaves behind.

``Specialization.run`` does what eager NumPy would have done with the caller's
world: it runs the plan on the traced arguments and the state arrays the guards
just read, returns new memory wherever NumPy does (an output that would share an
input's buffer, or another output's, is copied; an output that *is* an input in
NumPy is that very object), writes the implicit outputs back (``self.m = ...``,
globals, dict entries, argument dicts), and replays ``print`` calls with this
call's values. ``EagerSpecialization`` runs the original function instead.
"""
from __future__ import annotations

import builtins
import operator
import threading
import types

import numpy as np

from ..tracer import unflatten
from ..tracer.errors import UnsupportedError
from ..tracer.host import print_options
from ..tracer.trace import rebuild_leaf
from .arrays import NUMPY, layout_holds
from .discover import CELLS, CLASS, DICT, GLOBALS, LIST, MODULE, OBJECT
from .guards import GuardTree
from .copies import copied_outputs, trace_leaves
from .relayout import relaid, relayouts


_INT64_MIN, _INT64_MAX = -2 ** 62, 2 ** 62     # dynamic ints stay far from int64 overflow


class PlanFailed(Exception):
    """The plan raised (a kernel failed to compile or a run-time error): ``cause``;
    ``wrote_inputs``: the plan may have written into the caller's arrays first."""

    def __init__(self, cause, wrote_inputs=False):
        super().__init__(str(cause))
        self.cause = cause
        self.wrote_inputs = wrote_inputs


class GuardsChanged(Exception):
    """Another thread changed the state between the guard check and the locked run: the
    call is dispatched again."""


class EagerSpecialization:
    """Runs the original function: the fallback for code tracejit cannot compile."""

    eager = True

    def __init__(self, fn, fallback):
        self.fn = fn
        self.fallback = fallback

    def match(self, leaves):
        return ()


class _WritePlan:
    __slots__ = ("target", "key", "setter", "extra", "const", "same", "arg_path", "node_index", "source")


def _setter(kind):
    if kind in (DICT, GLOBALS, LIST):
        return operator.setitem
    if kind == CELLS:
        return lambda cells, i, value: setattr(cells[i], "cell_contents", value)
    if kind in (OBJECT, MODULE, CLASS):
        return setattr
    raise TypeError(f"cannot write into a {kind}")


class Specialization:
    """A compiled plan for one key and one state (see the module doc)."""

    eager = False

    def __init__(self, compilation, xp, world, traced_positions):
        trace = compilation.trace
        self.pending_event = None      # (CompileEvent, kernels) until the first run (compiled.py)
        self.family = None             # the shape family that made it (shape_families.py), if one did
        self.warming = None            # a background.BackgroundCompile until its kernels compiled
        self.compilation = compilation
        self.plan = compilation.plan
        self.trace = trace
        self.xp = xp
        self.lifted = list(trace.lifted)
        # output leaf -> ("arg", position) / ("node", index) / ("call", path in (args, kwargs))
        self.statics = self._static_objects(world)
        extra = [where for kind, where in self.statics.values() if kind == "node"]
        extra += [w.source[1] for w in (world.writes if world is not None else ()) if w.source and
                  w.source[0] == "node"]
        self.guard = GuardTree(world, trace.state_inputs, extra) if world is not None else None
        self.pick_traced = _picker(traced_positions)
        # dynamic int arguments: leaf position -> (lo, hi) the trace needs (int64 at least)
        n_traced = len(traced_positions)
        self.int_ranges = {traced_positions[k]: bounds for k, bounds in trace.int_ranges.items() if k < n_traced}
        # Python int counters in state positioning slices (cache[self.pos]): state input -> (lo, hi)
        self.state_int_ranges = [(k - n_traced, bounds) for k, bounds in trace.int_ranges.items()
                                 if k >= n_traced]
        self.dynamic_ints = [traced_positions[k] for k, v in enumerate(trace.graph.inputs[:len(traced_positions)])
                             if v.type.weak and v.type.dtype.kind == "i"]
        # arguments whose memory layout the function read (x.strides, x.flags): leaf position -> layout
        self.layouts = {traced_positions[k]: layout for k, layout in trace.layout_guards.items()}
        self._device_scalars: dict = {}
        self.writes = self._plan_writes(world)
        self.copies = self._copies()          # graph outputs copied on every call (None: decide per call)
        # outputs copied into the layout the program requested (x.copy(), order='F'): index -> axis order
        # (copied outputs are copied straight into it: copy_orders)
        self.relayout, self.copy_orders = relayouts(compilation, self.copies) \
            if xp is NUMPY and self.copies is not None else ({}, {})
        self.scalar_states = world is not None and any(
            slot.array is not None and isinstance(slot.array, (np.generic, int, float)) for slot in world.slots)
        self.simple_outputs = self._simple_outputs()
        # the plan output a call returns as it is (one array, returned bare), else None
        self.bare_output = self._bare_output()
        self.state_lock = threading.Lock() if self.writes or trace.mutations else None

    def _simple_outputs(self):
        """The output leaves when a call needs none of run()'s special cases (writes,
        prints, aliases, views, copies, static outputs): the common pure function on
        the CPU, which then costs fewer steps per call. None otherwise."""
        trace = self.trace
        if self.xp is not NUMPY or trace.mutations or trace.host_steps or self.writes or self.statics \
                or self.copies is None or self.copies or self.relayout:
            return None
        leaves = trace.outputs
        if any(leaf.kind != "traced" or leaf.alias >= 0 or leaf.view_ops is not None or leaf.readonly
               for leaf in leaves):
            return None
        return tuple(leaves)

    def _bare_output(self):
        simple = self.simple_outputs
        if simple is None or len(simple) != 1 or self.trace.out_treedef.kind != "leaf":
            return None
        leaf = simple[0]
        return None if leaf.pytype is not None or leaf.scalar else leaf.index

    # -- set up ----------------------------------------------------------------------
    def _plan_writes(self, world):
        plans, extra = [], 0
        for write in (world.writes if world is not None else ()):
            plan = _WritePlan()
            plan.key, plan.const, plan.same, plan.arg_path = write.key, write.const, write.same, write.arg_path
            plan.source = write.source
            plan.node_index = write.node.index if write.node is not None else -1
            if write.node is not None:
                plan.target = self.guard.targets[write.node.index]
                plan.setter = _setter(write.node.kind)
            else:
                plan.target, plan.setter = -1, operator.setitem
            plan.extra = -1
            if write.const is None and write.source is None:
                plan.extra, extra = extra, extra + 1
            plans.append(plan)
        return plans

    def _leaves(self):
        return trace_leaves(self.trace)      # printed values too: copies, where NumPy's are

    def _copies(self):
        return copied_outputs(self.plan, self._leaves())

    def _static_objects(self, world):
        """Static output leaves that are objects: returned as this call's objects
        (``return self``, ``return self.config``), not the ones seen while tracing.
        An object made while tracing cannot be returned again (eager NumPy would make
        a new one on every call): UnsupportedError, the function runs eagerly."""
        found = {}
        arg_roots = {id(node.obj): pos for pos, _, node in world.discovery.roots if pos >= 0} if world else {}
        nodes = world.discovery.by_id if world else {}
        for i, leaf in enumerate(self.trace.outputs):
            if i in self.trace.returned_writes:      # a container the call also stores
                found[i] = ("written", self.trace.returned_writes[i])
                continue
            if leaf.kind != "static" or _returnable(leaf.value):
                continue
            source = world.container_source(leaf.value) if world is not None else None
            if id(leaf.value) in arg_roots:
                found[i] = ("arg", arg_roots[id(leaf.value)])
            elif source is not None:
                found[i] = source
            elif id(leaf.value) in nodes and nodes[id(leaf.value)].obj is leaf.value:
                found[i] = ("node", nodes[id(leaf.value)].index)
            else:
                raise UnsupportedError(f"returning a {type(leaf.value).__name__} object created while tracing "
                                       "(eager NumPy code would create a new one on every call)", "return")
        return found

    # -- calls -------------------------------------------------------------------------
    def match(self, leaves):
        """(state inputs, write targets) when this specialization's guards hold."""
        if self.dynamic_ints and not self.ints_fit(leaves):
            return None
        if self.layouts and not all(layout_holds(leaves[p], layout) for p, layout in self.layouts.items()):
            return None
        if self.guard is None:
            return (), ()
        matched = self.guard.check(leaves)
        if matched is not None and self.state_int_ranges:
            states = matched[0]
            if not all(lo <= states[i] <= hi for i, (lo, hi) in self.state_int_ranges):
                return None
        return matched

    def ints_fit(self, leaves) -> bool:
        """The dynamic int arguments lie where this trace holds."""
        for position in self.dynamic_ints:
            lo, hi = self.int_ranges.get(position, (_INT64_MIN, _INT64_MAX))
            if not max(lo, _INT64_MIN) <= leaves[position] <= min(hi, _INT64_MAX):
                return False
        return True

    def why(self, leaves) -> str:
        for position, layout in self.layouts.items():
            if not layout_holds(leaves[position], layout):
                return f"the memory layout (strides, writeable) of argument #{position} changed"
        return self.guard.why(leaves) if self.guard is not None else "a guard failed"

    def _to_device(self, array):
        """Host scalars (learning rates, ...) are copied once per value, not per call."""
        if array.ndim:
            return self.xp.from_numpy(array)
        key = (array.dtype.str, array.item())
        copy = self._device_scalars.get(key)
        if copy is None:
            if len(self._device_scalars) > 256:
                self._device_scalars.clear()
            copy = self._device_scalars[key] = self.xp.from_numpy(array)
        return copy

    def run(self, leaves, matched, call):
        """Run on a call whose guards matched. `leaves`: the call's flattened leaves
        (static ones included); `call`: (args, kwargs) as bound, for argument writes.
        A specialization that writes state reads it, runs and writes back under one lock
        (with the guards checked again inside it), so concurrent calls do not lose each
        other's updates (``STEP += 1`` from several threads)."""
        if self.state_lock is None:
            return self._run_matched(leaves, matched, call)
        with self.state_lock:
            matched = self.match(leaves)
            if matched is None:
                raise GuardsChanged()
            return self._run_matched(leaves, matched, call)

    def _run_matched(self, leaves, matched, call):
        xp = self.xp
        simple = self.simple_outputs
        if simple is not None:
            if matched[0] or self.lifted:
                arrays = self.plan_inputs(leaves, matched)[0]
            else:             # only arguments: what plan_inputs gives, without the originals
                arrays = [np.asarray(a) if isinstance(a, _HOST_SCALARS) else a for a in self.pick_traced(leaves)]
            try:
                results = self.plan.run(xp, arrays)
            except Exception as exc:    # noqa: BLE001  (the caller decides: fallback or NumPy's error)
                raise PlanFailed(exc) from exc
            bare = self.bare_output
            if bare is not None and type(results[bare]) is np.ndarray:
                return results[bare]
            return unflatten(self.trace.out_treedef, [rebuild_leaf(leaf, results) for leaf in simple])
        targets = matched[1]
        arrays, originals = self.plan_inputs(leaves, matched)
        if self.trace.mutations:
            try:
                check_no_overlap(arrays, self.trace.mutations)
            except Exception as exc:    # noqa: BLE001  (nothing ran: eager NumPy decides)
                raise PlanFailed(exc) from exc
        try:
            results = self.plan.run(xp, arrays)
        except Exception as exc:    # noqa: BLE001  (the caller decides: fallback or NumPy's error)
            failed = getattr(exc, "tracejit_failed_step", None)
            raise PlanFailed(exc, failed is None or self.plan.writes_into_inputs(failed)) from exc
        # first the copies NumPy made (`prev = x.copy()`; the plan may have left them as
        # the input itself) and the written values that are another written array's old
        # contents (`t = x.copy(); x[...] = y; y[...] = t`): they must keep the old values
        results = self._fresh(results, arrays)
        if self.relayout:
            results = list(results)
            for index, order in self.relayout.items():
                results[index] = relaid(results[index], order)
        results = _before_write_back(self.xp, results, originals, self.trace.mutations)
        for index, output, region in self.trace.mutations:     # writes into arguments and state arrays
            if region is None:
                xp.copy_into(originals[index], results[output])
            else:
                xp.write_slice(originals[index], region["starts"], region["steps"], region["shape"],
                               results[output])
        trace = self.trace
        values = [self._value(leaf, results, originals) for leaf in trace.outputs]
        for step in trace.host_steps:
            args = unflatten(step.tree, [originals[leaf.alias] if leaf.alias >= 0 else
                                         rebuild_leaf(leaf, results, xp) for leaf in step.outputs])
            builtins.print(*args, **print_options(step.options))
        stored = self._write_back(results, originals, targets, call) if self.writes else None
        for i, (kind, where) in self.statics.items():
            values[i] = stored[where] if kind == "written" else \
                self._callers_object(kind, where, leaves, targets, call)
        return unflatten(trace.out_treedef, values)

    def _callers_object(self, kind, where, leaves, targets, call):
        """This call's object for a static output or a stored container (``statics``)."""
        if kind == "arg":
            return leaves[where]
        if kind == "node":
            return targets[self.guard.targets[where]]
        value = call                      # "call": an argument dict or list, by its path
        for key in where:
            value = value[key]
        return value

    def plan_inputs(self, leaves, matched):
        """(the plan's input arrays, the objects they came from) for one call."""
        state_inputs = matched[0]
        picked = self.pick_traced(leaves)
        traced = [np.asarray(a) if isinstance(a, _HOST_SCALARS) else a for a in picked]
        originals = [*picked, *state_inputs, *self.lifted]
        if self.scalar_states:        # NumPy scalars read from state
            state_inputs = [np.asarray(a) if isinstance(a, np.generic) else
                            np.asarray(a, np.int64) if type(a) is int else
                            np.asarray(a, np.float64) if type(a) is float else a for a in state_inputs]
        arrays = [*traced, *state_inputs, *self.lifted]
        if self.xp is not NUMPY:
            arrays = [a if not isinstance(a, (np.ndarray, np.generic)) else self._to_device(a) for a in arrays]
        return arrays, originals

    def _value(self, leaf, results, originals):
        """One output leaf: the input itself where NumPy returns it, read-only where
        NumPy's result is a read-only view."""
        if leaf.alias >= 0:
            return originals[leaf.alias]
        if leaf.view_ops is not None:         # a view of an array written into: of the caller's array
            value = originals[leaf.root[1]]
            for op, attrs in leaf.view_ops:
                value = self.xp.view(op, attrs, value)
            return value
        value = rebuild_leaf(leaf, results, self.xp)
        if leaf.readonly and isinstance(value, np.ndarray) and value.flags.writeable:
            value = value.view()
            value.flags.writeable = False
        return value

    def _fresh(self, results, arrays):
        """Copies of outputs that would share memory NumPy does not share."""
        copies = self.copies
        if copies is None:
            copies = self._copies_now(results, arrays)
        if not copies:
            return results
        results = list(results)
        orders = self.copy_orders
        for index in copies:
            order = orders.get(index)
            results[index] = self.xp.copy_result(results[index]) if order is None else relaid(results[index], order)
        return results

    def _copies_now(self, results, arrays):
        """``_copies`` for interpreted plans, from the arrays' actual memory."""
        inputs = {id(_owner(a)): i for i, a in enumerate(arrays) if isinstance(a, np.ndarray)}
        copies, owners = set(), {}
        for leaf in self._leaves():
            if leaf.kind != "traced" or leaf.alias >= 0 or leaf.view_ops is not None:
                continue
            result = results[leaf.index]
            if not isinstance(result, np.ndarray):
                continue
            if not result.flags.writeable and not leaf.readonly:    # the interpreter's broadcast views
                copies.add(leaf.index)
                continue
            owner = id(_owner(result))
            if owner in inputs:
                if leaf.root != ("in", inputs[owner]):
                    copies.add(leaf.index)
            elif owners.setdefault(owner, leaf.root) != leaf.root:
                copies.add(leaf.index)
        return copies

    def _write_back(self, results, originals, targets, call) -> dict:
        """Store this call's state writes; returns the values built, by extra index."""
        trees = self.trace.extras
        stored = {}
        for plan in self.writes:
            if plan.source is not None:
                value = self._callers_object(*plan.source, None, targets, call)
            elif plan.const is not None:
                value = plan.const if plan.same else plan.const.copy()
            else:
                tree = trees[plan.extra]
                value = stored[plan.extra] = unflatten(tree.treedef, [self._value(leaf, results, originals)
                                                                      for leaf in tree.leaves])
            if plan.target >= 0:
                plan.setter(targets[plan.target], plan.key, value)
                if self.guard is not None:
                    self.guard.refresh(plan.node_index, plan.key, value)
            else:
                container = call
                for key in plan.arg_path:
                    container = container[key]
                container[plan.key] = value
        return stored


def _before_write_back(xp, results, originals, mutations):
    """Copies of the written values that live in an array another mutation writes."""
    if len(mutations) < 2:
        return results
    written = {id(_owner(originals[index])): index for index, _, _ in mutations}
    results = list(results)
    for index, output, _ in mutations:
        value = results[output]
        if isinstance(value, np.ndarray) and written.get(id(_owner(value)), index) != index:
            results[output] = xp.copy(value)
    return results


_RETURNABLE = (int, float, bool, complex, str, bytes, type(None), np.generic, np.dtype, np.ndarray, type,
               types.FunctionType, types.BuiltinFunctionType, types.ModuleType, range, slice, frozenset,
               type(Ellipsis), np.ufunc)


def _returnable(value) -> bool:
    """Values a cached plan may return again: immutable ones (arrays are copied)."""
    return isinstance(value, _RETURNABLE) and not (isinstance(value, frozenset) and
                                                  not all(_returnable(v) for v in value))


def check_no_overlap(arrays, mutations):
    """A written-into input sharing memory with another input (the same array passed
    twice, overlapping views) has NumPy semantics that depend on the order of element
    accesses: such calls run eagerly (UnsupportedError)."""
    for index, _, _ in mutations:
        target = arrays[index]
        for k, other in enumerate(arrays):
            if k != index and isinstance(other, np.ndarray) and isinstance(target, np.ndarray) \
                    and other.size and np.may_share_memory(target, other):
                raise UnsupportedError("writing into an argument that shares memory with another argument "
                                       "(the same array passed twice, or overlapping views)", "aliasing")


def _owner(array):
    while isinstance(array.base, np.ndarray):
        array = array.base
    return array


_HOST_SCALARS = (float, int, np.generic)     # traced arguments the plan takes as 0-d arrays


def _picker(positions):
    positions = tuple(positions)
    if not positions:
        return lambda leaves: ()
    if len(positions) == 1:
        index = positions[0]
        return lambda leaves: (leaves[index],)
    return operator.itemgetter(*positions)
