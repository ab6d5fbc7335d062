"""``trace(fn, args, kwargs)``: run `fn` on proxies and record its Graph.

The runtime binds the call and replaces each leaf it wants traced by a
``TensorType``: arrays and NumPy scalars by strong types, Python floats by weak
``~f64[]`` scalars. Every other leaf is static and reaches `fn` unchanged. The
``Trace`` says how to rebuild `fn`'s result from the graph's outputs: traced leaves
(weak ones become Python scalars again, scalar ones NumPy scalars) and static leaves
(Python values returned as they are; NumPy arrays that never met a traced value).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..ir.graph import Graph
from ..ir.types import TensorType
from .errors import ArgumentError, TracerError, UnsupportedError
from .proxy import TracedArray
from .pytree import TreeDef, flatten, leaf_paths, unflatten
from .state import _ACTIVE, SUPPORTED_DTYPES, TraceState

_PYTYPE = {"b": bool, "i": int, "u": int, "f": float}


@dataclass(frozen=True)
class OutputLeaf:
    """One leaf of the function's result.

    kind "traced": graph output number `index`; `pytype` (float/int/bool) when it is a
    weak value that NumPy eager would give back as a Python scalar; `scalar` when
    eager NumPy gives back a NumPy scalar (``arr[()]``) instead of a 0-d array.
    kind "static": `value` as returned while tracing (NumPy arrays are copied on rebuild).
    """

    kind: str
    index: int = -1
    type: TensorType | None = None
    pytype: type | None = None
    scalar: bool = False
    value: object = None


@dataclass
class Trace:
    graph: Graph
    in_treedef: TreeDef
    input_paths: list            # path of every leaf of (args, kwargs)
    traced_paths: list           # path of each traced leaf = graph input order
    out_treedef: TreeDef
    outputs: list                # OutputLeaf per output leaf
    lifted: list = field(default_factory=list)  # concrete arrays, graph inputs after the traced leaves

    @property
    def out_weak(self) -> list:
        return [leaf.kind == "traced" and leaf.pytype is not None for leaf in self.outputs]

    def rebuild_outputs(self, arrays, xp=None):
        """The function's result from the graph's output arrays (one per graph output).

        `xp` is the runtime's array library (``runtime.arrays.ArrayLib``); for GPU
        libraries 0-d results go through its ``scalar_result``, other arrays stay as they are.
        """
        on_gpu = xp is not None and getattr(xp, "on_gpu", False)
        leaves = []
        for leaf in self.outputs:
            if leaf.kind == "static":
                value = leaf.value
                leaves.append(value.copy() if isinstance(value, np.ndarray) else value)
                continue
            array = arrays[leaf.index]
            if on_gpu:
                if leaf.pytype is not None:
                    leaves.append(leaf.pytype(xp.scalar_result(array, True)))
                elif leaf.scalar:
                    leaves.append(xp.scalar_result(array, False))
                else:
                    leaves.append(array)
                continue
            array = np.asarray(array)
            if leaf.pytype is not None:
                leaves.append(leaf.pytype(array.item()))
            elif leaf.scalar:
                leaves.append(array[()])
            else:
                leaves.append(array)
        return unflatten(self.out_treedef, leaves)


def _input_paths(treedef: TreeDef, num_args: int) -> list:
    args_def, kwargs_def = treedef.children
    return leaf_paths(args_def, "args") + leaf_paths(kwargs_def, "kwargs")


def trace(fn, args: tuple, kwargs: dict, name: str | None = None) -> Trace:
    """Trace ``fn(*args, **kwargs)`` where TensorType leaves become traced inputs."""
    graph_name = name or getattr(fn, "__name__", "fn")
    if not graph_name.isidentifier():
        graph_name = "fn"
    state = TraceState(graph_name)
    leaves, in_treedef = flatten((tuple(args), dict(kwargs)))
    paths = _input_paths(in_treedef, len(args))
    proxies, traced_paths = [], []
    for leaf, path in zip(leaves, paths):
        if isinstance(leaf, TensorType):
            if leaf.dtype not in SUPPORTED_DTYPES:
                raise UnsupportedError(f"dtype {leaf.dtype} of argument {path}", f"dtype {leaf.dtype}",
                                       hint="supported dtypes are bool, int8, int16, int32, int64, "
                                            "uint8, float32 and float64")
            value = state.builder.add_input(leaf)
            proxies.append(TracedArray(value, state, scalar=False, is_input=True))
            traced_paths.append(path)
        elif isinstance(leaf, TracedArray):
            raise ArgumentError("a traced array from another trace was passed as an argument", path)
        else:
            proxies.append(leaf)
    call_args, call_kwargs = unflatten(in_treedef, proxies)
    token = _ACTIVE.set(state)
    try:
        result = fn(*call_args, **call_kwargs)
    finally:
        _ACTIVE.reset(token)

    out_leaves, out_treedef = flatten(result)
    outputs, graph_outputs = [], []
    for leaf in out_leaves:
        if isinstance(leaf, TracedArray):
            if leaf._state is not state:
                raise TracerError("the function returned a traced array of another trace",
                                  "return")
            value_type = leaf._value.type
            pytype = _PYTYPE[value_type.dtype.kind] if value_type.weak else None
            outputs.append(OutputLeaf("traced", len(graph_outputs), value_type, pytype,
                                      scalar=leaf._scalar and value_type.shape == ()))
            graph_outputs.append(leaf._value)
        else:
            outputs.append(OutputLeaf("static", value=leaf))
    graph = state.builder.finish(graph_outputs)
    return Trace(graph, in_treedef, paths, traced_paths, out_treedef, outputs, list(state.lifted))
