"""``tracejit.explain``: what compiling a function on given arguments does.

It compiles a private specialization (the function's own cache is not touched; the
state the function reads is restored after tracing, as for a real call) and reports
fallbacks, kernels, the optimized IR and the function's compile history.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..ir.printer import format_graph
from ..tracer import TracerError, unflatten
from .compiled import CompiledFunction, _BadCall, refuse_unreplayable
from .arrays import array_layout
from .codeinfo import definition_line
from .compilation import compile_function
from .dump import describe_kernels
from .failures import describe_failure
from .records import CompilerError, Fallback
from .sandbox import World
from .signature import UnsupportedArgument, argument_objects


@dataclass
class KernelInfo:
    name: str
    backend: str
    path: str
    source: str
    shared_with: str = ""       # the kernel whose generated code this one reuses, if another

    def __str__(self) -> str:
        shared = f" (code shared with {self.shared_with})" if self.shared_with else ""
        return f"{self.name} [{self.backend}]{shared} {self.path}"


@dataclass
class Explanation:
    function: str
    backend: str
    fallbacks: list = field(default_factory=list)
    kernels: list = field(default_factory=list)
    graph: str = ""
    traced: str = ""
    fusion: str = ""
    compiles: list = field(default_factory=list)
    dynamic_ints: list = field(default_factory=list)     # int arguments traced as values
    shape_families: list = field(default_factory=list)   # lines: dimensions served at every size

    def __str__(self) -> str:
        lines = [f"tracejit explain: {self.function} (backend {self.backend})"]
        if self.fallbacks:
            lines.append("falls back to eager NumPy:")
            lines += [f"  - {f.op} at {f.loc or '?'}: {f.message}" for f in self.fallbacks]
        else:
            lines.append("compiles fully (no fallbacks)")
        if self.dynamic_ints:
            lines.append("ints traced as values (they changed between calls; no retrace for a new value): "
                         + ", ".join(self.dynamic_ints))
        if self.shape_families:
            lines.append("dimensions that vary (shape_families.py):")
            lines += [f"  - {line}" for line in self.shape_families]
        lines.append(f"kernels ({len(self.kernels)}):")
        lines += [f"  - {k}" for k in self.kernels]
        if self.compiles:
            lines.append("compilations so far:")
            lines += [f"  - {event}" for event in self.compiles]
        if self.fusion:
            lines += ["fusion groups:", self.fusion]
        lines += ["optimized IR:", self.graph]
        return "\n".join(lines)


def explain(fn, *args, **kwargs) -> Explanation:
    compiled = fn if isinstance(fn, CompiledFunction) else CompiledFunction(fn)
    try:
        key, bound, values, treedef, abstract, backend, libs, parts = compiled._key(args, kwargs)
    except _BadCall as exc:      # explain describes one call: it needs that call's arguments
        raise TypeError(f"explain({compiled.name}, ...) takes the arguments of the call to explain: {exc}") \
            from None
    except UnsupportedArgument as exc:
        result = Explanation(compiled.name, compiled.backend, compiles=list(compiled.compiles))
        result.fallbacks.append(Fallback(compiled.name, exc.op, exc.loc, str(exc)))
        return result
    result = Explanation(compiled.name, backend.name, compiles=list(compiled.compiles),
                         dynamic_ints=sorted(compiled.dynamic_ints),
                         shape_families=compiled.families.describe(lambda i: compiled._leaf_path(bound, i)))
    eager = _runs_eagerly(compiled, key, values)
    if eager is not None:                 # the call itself would not compile: say why
        result.fallbacks.append(eager)
        return result
    abstract_args, abstract_kwargs = unflatten(treedef, abstract)
    arg_objects = argument_objects(values, parts, lambda i: compiled._leaf_path(bound, i))
    statics = [v for v, part in zip(values, parts) if part[0] in ("static", "object")]
    try:
        world = World(compiled.fn, arg_objects, frozenset(compiled.int_state))
        refuse_unreplayable(compiled.fn, world, statics)
        traced_positions = [i for i, part in enumerate(parts) if part[0] in ("array", "weak", "dynint", "numlist")]
        compilation = compile_function(compiled.fn, abstract_args, abstract_kwargs, backend, name=compiled.name,
                                       world=world, layouts=[array_layout(values[i]) for i in traced_positions])
    except (TracerError, CompilerError) as exc:
        result.fallbacks.append(Fallback(compiled.name, getattr(exc, "op", "?"), getattr(exc, "loc", ""), str(exc)))
        return result
    except Exception as exc:      # noqa: BLE001  (what the safety net would answer by running eagerly)
        result.fallbacks.append(Fallback(compiled.name, *describe_failure(exc, "tracing or compiling")))
        return result
    result.graph = format_graph(compilation.graph)
    result.traced = format_graph(compilation.history[0][1])
    if compilation.backend != "interpret":
        result.fusion = describe_kernels(compilation)
    result.kernels = [KernelInfo(*entry) for entry in compilation.kernel_sources()]
    return result


def _runs_eagerly(compiled, key, values):
    """The Fallback this call would meet now (a specialization that runs eagerly, or the
    recompile limit reached before a new one), or None when it would run compiled code."""
    specs = compiled._cache.get(key) or []
    for spec in specs:
        if spec.match(values) is not None:
            return spec.fallback if spec.eager else None
    if compiled.recompiles.exceeded(len(compiled.compiles) - compiled._extensions) and \
            not compiled.families.extends(key):
        return Fallback(compiled.name, "recompile limit", definition_line(compiled.fn),
                        compiled.recompiles.message(compiled.name))
    return None
