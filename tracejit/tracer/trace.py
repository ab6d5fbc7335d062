"""``trace(fn, args, kwargs)``: run `fn` on proxies and record its Graph.

The runtime binds the call and replaces each leaf it wants traced by a
``TensorType``: arrays and NumPy scalars by strong types, Python floats by weak
``~f64[]`` scalars. Every other leaf is static and reaches `fn` unchanged. The
``Trace`` says how to rebuild `fn`'s result from the graph's outputs: traced leaves
(weak ones become Python scalars again, scalar ones NumPy scalars) and static leaves
(Python values returned as they are; NumPy arrays that never met a traced value).

The runtime may pass a ``world`` (``runtime/sandbox.py``): before `fn` runs it puts
proxies in place of the arrays `fn` can reach through globals, closures and objects;
after `fn` returns it names the state `fn` rebound (``self.m = ...``), whose values
become extra graph outputs (``Trace.extras``); and it always restores what it
changed. ``print`` calls are recorded as host steps (``host.py``). Every output leaf
says whether eager NumPy would return an input itself (``alias``) or memory that
may be a view of one (``root``), so the runtime never returns an input's memory
where NumPy returns new memory.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from ..ir.graph import Graph
from ..ir.types import ListArgType, ScalarArgType, ScalarListArgType, TensorType, supported_text
from .errors import RAISED, ArgumentError, TracerError, UnsupportedError
from .creation import traced_creation
from . import layout
from .dims import recording
from .probe_builtins import probe_builtins
from .host import recording_prints
from .location import user_loc
from .eager_type import eager_type_in
from .numlist import check_unchanged, traced_list
from .proxy import TracedArray
from .pytree import TreeDef, flatten, leaf_paths, unflatten
from .state import _ACTIVE, SUPPORTED_DTYPES, TraceState

_PYTYPE = {"b": bool, "i": int, "u": int, "f": float, "c": complex}


@dataclass(frozen=True)
class OutputLeaf:
    """One leaf of the function's result (or of an implicit output or a print).

    kind "traced": graph output number `index`; `pytype` (float/int/bool) when it is a
    weak value that NumPy eager would give back as a Python scalar; `scalar` when
    eager NumPy gives back a NumPy scalar (``arr[()]``) instead of a 0-d array.
    `alias`: the graph input this leaf *is* (eager NumPy returns that very object),
    else -1. `root`: ``("in", i)`` when eager NumPy's result is (a view of) graph
    input i's memory, ``("new", n)`` when it is new memory (leaves with the same n
    share it). `readonly`: eager NumPy's result is a read-only view. `view_ops`: the
    view ops ((op name, attrs), ...) from input `root[1]` when the function wrote into
    that input: the result is that view of the caller's array, after the write-back.
    kind "static": `value` as returned while tracing (NumPy arrays are copied on rebuild).
    """

    kind: str
    index: int = -1
    type: TensorType | None = None
    pytype: type | None = None
    scalar: bool = False
    value: object = None
    alias: int = -1
    root: tuple = ()
    readonly: bool = False
    view_ops: tuple | None = None
    strides: tuple | None = None     # new memory whose layout the program requested: NumPy's strides


@dataclass
class OutputTree:
    """A pytree of output leaves (an implicit output, a print's arguments)."""

    treedef: TreeDef
    leaves: list


@dataclass
class Trace:
    graph: Graph
    in_treedef: TreeDef
    input_paths: list            # path of every leaf of (args, kwargs)
    traced_paths: list           # path of each traced leaf = graph input order
    out_treedef: TreeDef
    outputs: list                # OutputLeaf per output leaf
    lifted: list = field(default_factory=list)  # concrete arrays, the last graph inputs
    state_inputs: list = field(default_factory=list)  # world slot per graph input after the traced leaves
    extras: list = field(default_factory=list)        # OutputTree per implicit output of the world
    host_steps: list = field(default_factory=list)    # host.HostStep (with .outputs) per print
    mutations: list = field(default_factory=list)     # (graph input, graph output, region): see below
    int_ranges: dict = field(default_factory=dict)    # graph input of a dynamic int -> (lo, hi) it needs
    layout_guards: dict = field(default_factory=dict)  # graph input -> (strides, writeable) the trace read
    size_checks: list = field(default_factory=list)    # facts about sizes it relied on (dims.py)
    probe_forms: bool = False     # a probe that computed index arrays an ordinary trace would not
    returned_writes: dict = field(default_factory=dict)  # output leaf -> the extra it is (the stored object)

    @property
    def out_weak(self) -> list:
        return [leaf.kind == "traced" and leaf.pytype is not None for leaf in self.outputs]

    def rebuild_outputs(self, outputs, inputs, xp):
        """The function's result from the graph's input and output NumPy arrays, as
        NumPy would leave it (for tests: the runtime does the same per call). Inputs
        the function wrote into are copied, then written. `xp`: ``runtime.arrays.NUMPY``."""
        from ..ir.ops import slice_index
        written = {}
        for index, output, region in self.mutations:
            target = written.setdefault(index, np.array(inputs[index], copy=True))
            target[... if region is None else slice_index(region["starts"], region["steps"], region["shape"])] \
                = outputs[output]
        values = []
        for leaf in self.outputs:
            if leaf.kind == "traced" and leaf.alias >= 0:
                values.append(written[leaf.alias] if leaf.alias in written else
                              rebuild_leaf(replace(leaf, index=0), [inputs[leaf.alias]]))
            elif leaf.kind == "traced" and leaf.view_ops is not None:
                value = written.get(leaf.root[1], inputs[leaf.root[1]])
                for op, attrs in leaf.view_ops:
                    value = xp.view(op, attrs, value)
                values.append(value)
            else:
                values.append(rebuild_leaf(leaf, outputs))
        return unflatten(self.out_treedef, values)


def rebuild_leaf(leaf: OutputLeaf, arrays, xp=None):
    """One output leaf's value from the graph's output arrays."""
    if leaf.kind == "static":
        value = leaf.value
        return value.copy() if isinstance(value, np.ndarray) else value
    array = arrays[leaf.index]
    if xp is not None and getattr(xp, "on_gpu", False):
        if leaf.pytype is not None:
            return leaf.pytype(xp.scalar_result(array, True))
        if leaf.scalar:
            return xp.scalar_result(array, False)
        return array
    array = np.asarray(array)
    if leaf.pytype is not None:
        return leaf.pytype(array.item())
    if leaf.scalar:
        return array[()]
    return array


def _input_paths(treedef: TreeDef, num_args: int) -> list:
    args_def, kwargs_def = treedef.children
    return leaf_paths(args_def, "args") + leaf_paths(kwargs_def, "kwargs")


class _Outputs:
    """Collects graph outputs: one per distinct proxy, in order of appearance."""

    def __init__(self, state, input_index):
        self.state = state
        self.input_index = input_index
        self.values: list = []
        self._index: dict = {}       # id(proxy) -> graph output index
        self._keep: list = []        # the proxies (their ids stay unique)

    def tree(self, obj, is_leaf=None) -> OutputTree:
        leaves, treedef = flatten(obj, is_leaf)
        return OutputTree(treedef, [self.leaf(leaf) for leaf in leaves])

    def leaf(self, leaf) -> OutputLeaf:
        if not isinstance(leaf, TracedArray):
            if getattr(leaf, "data_dependent_shape", False):
                raise UnsupportedError("returning or keeping x[mask] (a boolean mask read has a data-dependent "
                                       "shape)", "getitem", leaf.loc, hint="reduce it, or use np.where")
            return OutputLeaf("static", value=leaf)
        if leaf._state is not self.state:
            raise TracerError("the function returned a traced array of another trace", "return")
        value_type = leaf._value.type
        pytype = _PYTYPE[value_type.dtype.kind] if value_type.weak else None
        if leaf._base is not None and leaf._chain and any(n.op.name == "dynamic_slice" for n in leaf._chain):
            raise UnsupportedError("returning a view positioned by a changing int (NumPy returns a view; "
                                   "the compiled code would return a copy)", "return")
        base = leaf._base if leaf._base is not None else leaf
        self._keep.append(base)
        origin = base._origin if base._origin is not None else (base._value if base._input else None)
        if origin is not None and origin in self.input_index:
            root = ("in", self.input_index[origin])
        else:
            root = ("new", id(base))
        if leaf._origin is not None and leaf._origin in self.input_index and leaf._base is None:
            alias = self.input_index[leaf._origin]     # the input itself (also after writes into it)
        else:
            alias = self.input_index.get(leaf._value, -1) if leaf._input else -1
        view_ops = None
        if alias < 0 and root[0] == "in" and base._origin in self.state.mutations and leaf._base is not None:
            if leaf._chain is None:
                raise UnsupportedError("returning a view of an array the function wrote into, through ops "
                                       "tracejit cannot replay", "return")
            if any(node.op.name == "dynamic_slice" for node in leaf._chain):
                raise UnsupportedError("returning a view, positioned by a changing int, of an array the "
                                       "function wrote into", "return")
            # (an empty chain, x.reshape(x.shape): still a new view object, as NumPy's)
            view_ops = tuple((node.op.name, dict(node.attrs)) for node in leaf._chain) or \
                (("reshape", {"shape": leaf.shape}),)
        elif alias < 0 and root[0] == "in" and leaf._base is not None and leaf._value is base._value \
                and leaf._value in self.input_index:      # x.view(), x.reshape(x.shape): a new view of x
            view_ops = (("reshape", {"shape": leaf.shape}),)
        index = -1              # the input itself, or a view of it: not a graph output
        if alias < 0 and view_ops is None:
            index = self._index.get(id(leaf))
            if index is None:
                index = self._index[id(leaf)] = len(self.values)
                self.values.append(leaf._value)
                self._keep.append(leaf)
        strides = layout.requested_strides(leaf) if index >= 0 and root[0] == "new" and value_type.shape else None
        return OutputLeaf("traced", index, value_type, pytype,
                          scalar=leaf._scalar and value_type.shape == (), alias=alias, root=root,
                          readonly=leaf._readonly and alias < 0, view_ops=view_ops, strides=strides)


def _used_values(state, outputs) -> set:
    used = {value for node in state.builder.nodes for value in node.inputs}
    used.update(outputs)
    return used


def _holds(obj, targets, depth=0) -> bool:
    if any(obj is t for t in targets):
        return True
    if isinstance(obj, (list, tuple)) and depth < 16:
        return any(_holds(item, targets, depth + 1) for item in obj)
    if isinstance(obj, dict) and depth < 16:
        return any(_holds(item, targets, depth + 1) for item in obj.values())
    return False


MAX_SLICE_WRITES = 16


def _written_regions(origin, final):
    """How the input `origin` becomes `final`: [(region, value)] written in order, where
    region is the attrs of a slice (write `value` there, broadcast) or None (all of it).
    A chain of slice writes on the input itself writes just the slices, so a 1-row
    write into a large argument costs a row, not the array."""
    pieces, value = [], final
    while value.producer is not None and value.producer.op.name == "update_slice" \
            and len(pieces) < MAX_SLICE_WRITES:
        pieces.append(value.producer)
        value = value.producer.inputs[0]
    if value is not origin or not pieces:
        return [(None, final)]
    return [({k: node.attrs[k] for k in ("starts", "steps", "shape")}, node.inputs[1])
            for node in reversed(pieces)]


def trace(fn, args: tuple, kwargs: dict, name: str | None = None, world=None, layouts=None,
          record_dims: bool = False) -> Trace:
    """Trace ``fn(*args, **kwargs)`` where TensorType leaves become traced inputs.

    `world` (optional): the runtime's view of the state `fn` can reach; see the
    module doc. `layouts` (optional): per traced leaf, the caller's array's
    ``(strides, writeable)`` or None, for ``x.strides``/``x.flags`` (``layout.py``).
    `record_dims`: a shape-family probe (``dims.py``).
    A TracerError that `fn` caught still fails the trace.
    """
    graph_name = name or getattr(fn, "__name__", "fn")
    if not graph_name.isidentifier():
        graph_name = "fn"
    state = TraceState(graph_name)
    state.record_dims = record_dims
    leaves, in_treedef = flatten((tuple(args), dict(kwargs)))
    paths = _input_paths(in_treedef, len(args))
    proxies, traced_paths = [], []
    for leaf, path in zip(leaves, paths):
        if isinstance(leaf, TensorType):
            if leaf.dtype not in SUPPORTED_DTYPES:
                raise UnsupportedError(f"dtype {leaf.dtype} of argument {path}", f"dtype {leaf.dtype}",
                                       hint=f"supported dtypes are {supported_text()}")
            value = state.builder.add_input(TensorType(leaf.shape, leaf.dtype, leaf.weak))
            state.names[value] = f"argument {path}"
            if leaf.weak and leaf.dtype.kind == "i":       # a dynamic Python int
                state.affine[value] = (value, 0)
            proxy = TracedArray(value, state, scalar=isinstance(leaf, ScalarArgType), is_input=True)
            if layouts is not None and layouts[len(traced_paths)] is not None:
                state.input_layouts[value] = layouts[len(traced_paths)]
            if isinstance(leaf, ListArgType):
                proxy = traced_list(proxy, weak_elements=not isinstance(leaf, ScalarListArgType))
                state.lists.append(proxy)
            proxies.append(proxy)
            traced_paths.append(path)
        elif isinstance(leaf, TracedArray):
            raise ArgumentError("a traced array from another trace was passed as an argument", path)
        else:
            proxies.append(leaf)
    call_args, call_kwargs = unflatten(in_treedef, proxies)
    raised: list = []
    token, raised_token = _ACTIVE.set(state), RAISED.set(raised)
    extras = []
    try:
        with recording_prints(), traced_creation(), recording(state.size_checks if record_dims else None), \
                probe_builtins(record_dims):
            state.live = True
            if world is not None:
                world.enter(state, call_args, call_kwargs)
            try:
                with eager_type_in(fn):
                    result = fn(*call_args, **call_kwargs)
                check_unchanged(state.lists, user_loc())
                if state.lists and _holds(result, state.lists):
                    raise UnsupportedError("returning a list argument (eager Python returns the same list)",
                                           "return")
                state.live = False
                if world is not None:
                    extras = world.collect(state)
            finally:
                state.live = False
                if world is not None:
                    world.restore()
    finally:
        _ACTIVE.reset(token)
        RAISED.reset(raised_token)
    if raised:       # the function caught a TracerError: its Python path is not eager's
        raise raised[0]

    arg_inputs = list(state.builder.inputs)
    # graph inputs: traced arguments, then the state arrays used (in the world's order),
    # then arrays lifted by identity
    provisional = {v: i for i, v in enumerate(arg_inputs)}
    collector = _Outputs(state, provisional)
    # the used state inputs must be known before output roots are: a first pass finds them
    candidate_outputs = [leaf._value for obj in [result] + extras + [s.leaves for s in state.host_steps]
                         for leaf in flatten(obj)[0] if isinstance(leaf, TracedArray)]
    candidate_outputs += [owner._value for owner in state.mutations.values()]
    used = _used_values(state, candidate_outputs) | set(state.mutations)   # written-into inputs too
    used_states = [i for i, v in enumerate(state.state_values) if v in used]
    if world is not None:
        used_states = world.input_order(used_states)
    inputs = arg_inputs + [state.state_values[i] for i in used_states] + list(state.lifted_inputs)
    collector.input_index.update({v: i for i, v in enumerate(inputs)})

    # the caller's own dicts and lists, returned (``return params``), and new ones the
    # function also stored (``self.cache = {...}; return self.cache``): returned as the
    # very objects the call leaves in place
    stored = {id(extra): k for k, extra in enumerate(extras) if type(extra) in (dict, list)}
    kept_whole = None if world is None else \
        (lambda obj: id(obj) in stored or world.is_callers_container(obj))
    out_tree = collector.tree(result, kept_whole)
    returned_writes = {i: stored[id(leaf.value)] for i, leaf in enumerate(out_tree.leaves)
                       if leaf.kind == "static" and id(leaf.value) in stored}
    extra_trees = [collector.tree(extra) for extra in extras]
    for step in state.host_steps:
        step.outputs = [collector.leaf(leaf) for leaf in step.leaves]
        step.leaves = None
    mutations = []
    for origin, owner in state.mutations.items():
        if origin in collector.input_index and owner._value is not origin:
            index = collector.input_index[origin]
            for region, value in _written_regions(origin, owner._value):
                mutations.append((index, len(collector.values), region))
                collector.values.append(value)
    state.builder.inputs = inputs
    graph = state.builder.finish(collector.values)
    int_ranges = {collector.input_index[v]: bounds for v, bounds in state.int_ranges.items()}
    layout_guards = {collector.input_index[v]: state.input_layouts[v] for v in state.layout_reads}
    return Trace(graph, in_treedef, paths, traced_paths, out_tree.treedef, out_tree.leaves,
                 list(state.lifted), used_states, extra_trees, state.host_steps, mutations, int_ranges,
                 layout_guards, state.size_checks, state.probe_forms, returned_writes)
