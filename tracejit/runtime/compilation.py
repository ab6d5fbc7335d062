"""One specialization's compilation: trace -> passes -> kernels -> plan.

The compiled function, ``explain`` and the dump CLI all go through
``compile_function`` so that what the dump shows is what runs.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass, field

import numpy as np

from ..codegen.files import default_cache_dir
from ..ir.printer import format_graph
from ..ir.verifier import verify
from ..tracer import trace
from ..tracer.layout import c_strides, is_c_contiguous
from .arrays import C_ORDER
from . import plan_store
from .backends import InterpretBackend
from .buffers import plan_buffers
from .copies import copied_outputs, physical_copies, trace_leaves
from .inplace import plan_in_place_writes
from .plan import build_plan, interpret_plan
from .records import CompilerError
from .row_chains import chain_matmul_rows


def debug_enabled() -> bool:
    return os.environ.get("TRACEJIT_DEBUG", "") not in ("", "0")


@dataclass
class Compilation:
    trace: object                 # tracer.Trace: graph, lifted arrays, outputs
    history: list                 # [(stage name, Graph)], "traced" first
    plan: object
    backend: str
    seconds: dict = field(default_factory=dict)
    input_strides: list = field(default_factory=list)    # per graph input, or None (``input_strides``)
    replay: object = None         # a stored plan's: runs the passes again, for the stages they made

    @property
    def graph(self):
        return self.history[-1][1]

    def full_history(self) -> list:
        """`history`, with every pass's result (a stored plan keeps only the final graph:
        the passes run again, once, to show what each did)."""
        if self.replay is not None:
            self.history, self.replay = self.replay(), None
        return self.history

    def stages(self) -> list:
        """(name, IR text) of the traced graph and of every pass that changed it."""
        result, previous = [], None
        for name, graph in self.full_history():
            text = format_graph(graph)
            if text != previous:
                result.append((name, text))
            previous = text
        return result

    def loop_nests(self) -> list:
        """(kernel region name, loop nest text) of every kernel launch, in plan order."""
        from ..ir.nest_text import format_nest
        return [(step.region.name, format_nest(step.nest)) for step in self.plan.steps
                if getattr(step, "nest", None) is not None]

    def physical_copies(self) -> list:
        """Where the plan copies memory and why (``copies.py``)."""
        graph = self.graph
        locs = [v.producer.loc if v.producer is not None else "" for v in graph.outputs]
        return physical_copies(self.plan, [v.type for v in graph.inputs], self.input_strides,
                               copied_outputs(self.plan, trace_leaves(self.trace)) or frozenset(), locs)

    def kernel_sources(self) -> list:
        """(name, backend, path, source, shared_with) per kernel of the plan. The name is
        this function's region name (as in the fusion groups and the IR); kernels are
        shared by content, so `shared_with` names the kernel whose code was generated
        first when that is another one (another function's, or an earlier region's)."""
        names: dict = {}
        _region_names(self.plan, names)
        result = []
        for k in self.plan.kernels:
            name = names.get(id(k), k.name)
            result.append((name, k.backend, str(k.path), k.source, k.name if k.name != name else ""))
        return result


def _region_names(plan, names: dict) -> None:
    for step in plan.steps:
        region = getattr(step, "region", None)
        if region is not None and hasattr(step, "kernel"):
            names.setdefault(id(step.kernel), region.name)
        body = getattr(step, "body", None)
        if body is not None:
            _region_names(body, names)


def input_strides(traced, layouts) -> list:
    """Per graph input, its strides in bytes where known before the call: traced
    arguments by `layouts` (None: typed arguments, new C-ordered arrays), lifted
    constants by their own; state arrays are None (their layout is not guarded)."""
    graph, n_traced = traced.graph, len(traced.traced_paths)
    found = [None] * len(graph.inputs)
    for k in range(n_traced):
        if layouts is None:
            t = graph.inputs[k].type
            found[k] = c_strides(t.shape, t.dtype.itemsize)
        elif k < len(layouts) and layouts[k] is not None:
            found[k] = tuple(layouts[k][0])
    first_lifted = len(graph.inputs) - len(traced.lifted)
    for k, array in enumerate(traced.lifted):
        if isinstance(array, np.ndarray):
            found[first_lifted + k] = tuple(array.strides)
    return found


def _order_guard(value_type, layout):
    """The guard for an argument whose order (C or not) the passes relied on: C order
    itself where it has it (any strides that are C order do), else its exact strides."""
    strides, writeable = layout
    if is_c_contiguous(value_type.shape, strides, value_type.dtype.itemsize):
        return (C_ORDER, writeable)
    return layout


def call_facts(traced, layouts, matmul_rows=False):
    """The outputs this trace writes into arguments, and the inputs in C order
    (``_call_layout_facts``), as the passes take them."""
    from ..passes.pipeline import CallFacts
    return CallFacts(*_call_layout_facts(traced, layouts), matmul_rows=matmul_rows)


def _call_layout_facts(traced, layouts) -> tuple:
    """(outputs written into arguments, inputs in C order): traced arguments by
    `layouts` (per traced leaf: (strides, writeable) or None; no `layouts`: arguments
    given as types, which stand for new C-ordered arrays), lifted constants by their
    own strides; state arrays count as unknown."""
    graph, n_traced = traced.graph, len(traced.traced_paths)
    strides = {}
    c_inputs = set(range(n_traced)) if layouts is None else set()
    for k, layout in enumerate(layouts or ()):
        if layout is not None:
            strides[k] = layout[0]
    first_lifted = len(graph.inputs) - len(traced.lifted)
    for k, array in enumerate(traced.lifted):
        if isinstance(array, np.ndarray):
            strides[first_lifted + k] = array.strides
    for k, value in enumerate(graph.inputs):
        if k in strides and (k < n_traced or k >= first_lifted) and \
                is_c_contiguous(value.type.shape, strides[k], value.type.dtype.itemsize):
            c_inputs.add(k)
    return frozenset(output for _, output, _ in traced.mutations), frozenset(c_inputs)


def compile_function(fn, args, kwargs, backend, name=None, world=None, layouts=None,
                     record_dims=False) -> Compilation:
    """Trace `fn` on abstract arguments (TensorType leaves) and build its plan, or
    load the plan stored for the same traced graph and call (``plan_store``).

    `world` (a ``sandbox.World``) gives the trace the state `fn` can reach; `layouts`
    the traced arguments' memory layouts (``tracer.trace``); `record_dims`: a
    shape-family probe (``tracer/dims.py``). Errors in
    the user's code while tracing propagate as they are (TracerError for what tracing
    cannot handle); failures of the passes or code generators become CompilerError.
    """
    seconds = {}
    start = time.perf_counter()
    traced = trace(fn, args, kwargs, name=name, world=world, layouts=layouts, record_dims=record_dims)
    seconds["trace"] = time.perf_counter() - start
    if isinstance(backend, InterpretBackend):
        history = [("traced", traced.graph)]
        plan = interpret_plan(traced.graph)
        return Compilation(traced, history, plan, backend.name, seconds)
    start = time.perf_counter()
    matmul_rows = getattr(backend, "matmul_rows", False)
    written, c_inputs = _call_layout_facts(traced, layouts)
    store_key = None
    if plan_store.enabled(backend):
        store_key = plan_store.plan_key(traced.graph, written, c_inputs, matmul_rows, traced.mutations, backend,
                                        default_cache_dir())
        stored = plan_store.load(default_cache_dir(), store_key)
        if stored is not None and [v.type for v in stored[0].inputs] == [v.type for v in traced.graph.inputs]:
            seconds["stored plan"] = time.perf_counter() - start
            return _from_store(traced, layouts, backend, seconds, stored)
    facts = call_facts(traced, layouts, matmul_rows)
    try:
        history = _optimize(traced.graph, facts)
        _guard_layouts(traced, layouts, facts.relied_on)
        final = history[-1][1]
        verify(final, "final graph")
    except Exception as exc:
        raise CompilerError("optimization", exc, loc=getattr(exc, "loc", "")) from exc
    seconds["passes"] = time.perf_counter() - start
    start = time.perf_counter()
    try:
        plan = chain_matmul_rows(build_plan(final, backend.compile_region))
        plan_in_place_writes(plan, traced.mutations)
        plan_buffers(plan)
    except Exception as exc:
        raise CompilerError(f"{backend.name} code generation", exc) from exc
    if store_key is not None:
        plan_store.save(default_cache_dir(), store_key, final, plan, facts.relied_on)
    seconds["codegen"] = time.perf_counter() - start
    return Compilation(traced, history, plan, backend.name, seconds, input_strides(traced, layouts))


def _from_store(traced, layouts, backend, seconds, stored) -> Compilation:
    """The compilation of a loaded plan (``plan_store.load``): its layouts guarded as a
    fresh plan's are; the passes' stages are made again only if asked for."""
    final, plan, relied_on = stored
    _guard_layouts(traced, layouts, relied_on)
    compilation = Compilation(traced, [("traced", traced.graph), ("stored plan", final)], plan, backend.name,
                              seconds, input_strides(traced, layouts))
    matmul_rows = getattr(backend, "matmul_rows", False)
    compilation.replay = lambda: _optimize(traced.graph, call_facts(traced, layouts, matmul_rows))
    return compilation


def _optimize(graph, facts) -> list:
    """The pass pipeline's history (imported on first need: a stored plan needs no passes)."""
    from ..passes.pipeline import optimize
    return optimize(graph, verify_each=debug_enabled(), facts=facts)


def _guard_layouts(traced, layouts, relied_on) -> None:
    """The plan depends on these arguments' order (C or not): guard it."""
    for k in relied_on:
        if layouts is not None and k < len(layouts) and layouts[k] is not None:
            traced.layout_guards.setdefault(k, _order_guard(traced.graph.inputs[k].type, layouts[k]))
