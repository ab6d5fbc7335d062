"""The active trace: graph builder, lifted arrays, operand conversion, source lines.

The trace being recorded lives in a ``ContextVar`` (not a module global), so
threads and async tasks each see their own. Everything that turns a Python/NumPy
operand into an IR ``Value`` goes through ``as_value``:

* a ``TracedArray`` of this trace -> its value;
* a Python ``bool``/``int``/``float`` -> a *weak* scalar ``constant`` (NEP 50), or a
  strong one where NumPy would call ``asarray`` first (``weak=False``);
* a NumPy scalar or 0-d array -> a strong scalar ``constant``;
* any other ``np.ndarray`` (closure, global, attribute, created inside the function)
  -> lifted to an implicit graph input, once per array object.

The runtime also puts *state proxies* (``input_proxy``) in place of the arrays a
function can reach through its globals, closures and objects before it runs, so
that eager NumPy code on them (``self.w.T``, ``W.sum()``) is traced too, rather than
computed once at trace time. Their graph inputs are added when the trace ends, and
only if something used them.
"""
from __future__ import annotations

from contextvars import ContextVar

import numpy as np

from ..ir.graph import GraphBuilder, Value
from ..ir.types import SUPPORTED_DTYPES, TensorType, supported_text
from .errors import TracerError, UnsupportedError
from .fp_errors import errors_need_detection, settings as fp_error_settings
from .location import user_loc
from .numlist import backing_array
from .proxy import TracedArray

_ACTIVE: ContextVar = ContextVar("tracejit_active_trace", default=None)


def current() -> "TraceState":
    state = _ACTIVE.get()
    if state is None:
        raise TracerError("a traced array was used outside of its trace (it escaped the traced "
                          "function, e.g. stored in a global or closure); return it instead",
                          "escaped tracer", user_loc())
    return state


def check_dtype(dtype, what: str = "") -> np.dtype:
    dtype = np.dtype(dtype)
    if dtype not in SUPPORTED_DTYPES:
        raise UnsupportedError(f"dtype {dtype}" + (f" ({what})" if what else ""), f"dtype {dtype}",
                               user_loc(), hint=f"supported dtypes are {supported_text()}")
    return dtype


_INT64 = np.iinfo(np.int64)


class TraceState:
    """One trace being recorded: the builder and the arrays lifted to inputs."""

    def __init__(self, name: str):
        self.builder = GraphBuilder(name)
        self.lifted: list = []       # concrete arrays, in input order
        self._lifted_values: dict = {}  # id(array) -> Value (the array is kept alive in `lifted`)
        self.lifted_inputs: list = []   # their input Values (added to the graph at the end)
        self.state_values: list = []    # input Values of state proxies (``input_proxy``)
        self.host_steps: list = []      # host.HostStep per ``print`` while tracing
        self.mutations: dict = {}       # input Value -> the proxy owning its memory, written into
        self.names: dict = {}           # input Value -> "argument x", "self.w", ... (for messages)
        self.live = False               # True while the function runs
        # dynamic ints (runtime/compiled.py): Value -> (the int argument's input Value, offset)
        # for ints that are an argument plus a constant, and the argument's allowed range
        self.affine: dict = {}
        self.int_ranges: dict = {}
        self.lists: list = []           # TracedLists of list arguments (they must not change)
        # memory layouts (layout.py): each argument's (strides, writeable) as the caller's
        # array has it, the arguments whose layout the function read, and derived layouts
        self.input_layouts: dict = {}
        self.layout_reads: set = set()
        self.layouts: dict = {}
        self.layout_assigned: set = set()   # values whose layout was set (copies, np.zeros), not derived
        # shape-family probes (dims.py): x.shape gives Dims, and the facts about sizes the
        # trace relied on are recorded
        self.record_dims = False
        self.size_checks: list = []
        self.probe_forms = False        # an index array made as an iota (index_arrays.py)

    def require_range(self, symbol, lo: int, hi: int) -> None:
        """The dynamic int argument `symbol` must lie in [lo, hi] for this trace to hold
        (a slice it positions stays inside its array): a guard of the specialization."""
        old_lo, old_hi = self.int_ranges.get(symbol, (lo, hi))
        self.int_ranges[symbol] = (max(lo, old_lo), min(hi, old_hi))

    # --- emitting ---------------------------------------------------------
    def emit(self, op: str, inputs, attrs=None) -> Value:
        if op != "constant" and errors_need_detection():
            raise UnsupportedError(f"computing under np.errstate({fp_error_settings()}) (compiled kernels do "
                                   "not detect floating-point errors)", "np.errstate", user_loc())
        node = self.builder.add(op, inputs, attrs, user_loc())
        for value in node.outputs:
            if value.type.dtype not in SUPPORTED_DTYPES:
                self.builder.nodes.pop()
                check_dtype(value.type.dtype, f"result of {op}")
        return node.output

    def constant(self, value, dtype, weak: bool = False) -> Value:
        dtype = check_dtype(dtype, "constant")
        if dtype.kind == "b":
            value = bool(value)
        elif dtype.kind in "iu":
            value = int(value)
        elif dtype.kind == "c":
            value = complex(value)
        else:
            value = float(value)
        attrs = {"value": value, "dtype": dtype}
        if weak:
            attrs["weak_result"] = True
        return self.emit("constant", (), attrs)

    def lift(self, array: np.ndarray) -> Value:
        """The implicit input standing for a concrete non-scalar array (once per object)."""
        value = self._lifted_values.get(id(array))
        if value is None:
            check_dtype(array.dtype, "array read by the traced function")
            value = Value(TensorType(array.shape, array.dtype))
            self.lifted_inputs.append(value)
            self.lifted.append(array)
            self._lifted_values[id(array)] = value
        return value

    def input_proxy(self, array: np.ndarray, name: str = "") -> TracedArray:
        """A proxy standing for a state array (an attribute, global, closure or container
        entry, `name`) while the function runs; its graph input is added only if used."""
        if type(array) is int:        # a Python int counter in state: a weak int64, offsets tracked
            value = Value(TensorType((), np.int64, weak=True))
            self.affine[value] = (value, 0)
        elif type(array) is float:    # a Python float the function changes: a weak float64
            value = Value(TensorType((), np.float64, weak=True))
        else:
            value = Value(TensorType(array.shape, array.dtype))
        self.state_values.append(value)
        self.names[value] = name
        return TracedArray(value, self, scalar=isinstance(array, np.generic), is_input=True)


def python_scalar_value(state: TraceState, x, weak: bool = True) -> Value:
    """A Python bool/int/float as a scalar constant (weak per NEP 50 unless `weak=False`)."""
    if isinstance(x, bool):
        # NEP 50 promotes a Python bool exactly like np.bool_ (bool is the lowest kind);
        # it stays weak so results of Python operators on weak values come back as Python
        # bools/floats, as in eager Python
        return state.constant(x, np.bool_, weak)
    if isinstance(x, int):
        if not (_INT64.min <= x <= _INT64.max):
            raise UnsupportedError(f"the Python integer {x} (outside int64)", "constant", user_loc())
        return state.constant(x, np.int64, weak)
    if isinstance(x, float):
        return state.constant(x, np.float64, weak)
    if isinstance(x, complex):
        return state.constant(x, np.complex128, weak)
    raise UnsupportedError(f"operand of type {type(x).__name__}", "operand", user_loc())


def is_python_scalar(x) -> bool:
    """A Python bool/int/float/complex (not a NumPy scalar, not a proxy standing for one)."""
    return isinstance(x, (bool, int, float, complex)) and not isinstance(x, (np.generic, TracedArray))


def as_value(x, weak: bool = True) -> Value:
    """Convert any operand to a Value of the active trace (see the module doc)."""
    state = current()
    if isinstance(x, TracedArray):
        if x._state is not state:
            raise TracerError("a traced array from another trace was used (it escaped its traced "
                              "function); return it instead", "escaped tracer", user_loc())
        value = x._value
        if not weak and value.type.weak:
            return state.emit("cast", (value,), {"dtype": value.type.dtype})
        return value
    if isinstance(x, np.ndarray):
        check_dtype(x.dtype)
        return state.lift(x)   # 0-d arrays too: they are mutable (a step counter updated in place)
    if isinstance(x, np.generic):
        return state.constant(x.item(), check_dtype(x.dtype), False)
    if is_python_scalar(x):
        # NumPy 2 takes exactly bool, int, float and complex as weak; their subclasses
        # (an IntEnum, ``class Scale(float)``) are int64/float64/complex128 values
        return python_scalar_value(state, x, weak and type(x) in (bool, int, float, complex))
    if isinstance(x, (list, tuple)):
        backing = backing_array(x)
        if backing is not None:           # a list argument: its vector
            return backing._value
        if _contains_traced(x):
            return _stacked(state, x)
        return as_value(np.asarray(x))
    raise UnsupportedError(f"an operand of type {type(x).__name__}", "operand", user_loc())


def _stacked(state, seq) -> Value:
    """A (nested) sequence holding traced values as one array, as ``np.asarray`` builds
    it: every item converted as an array (Python scalars strong), equal shapes, stacked
    along a new leading axis in the items' common dtype."""
    values = [_stacked(state, v) if isinstance(v, (list, tuple)) else as_value(v, weak=False)
              for v in seq]
    if not values:
        raise UnsupportedError("an empty sequence next to traced values", "asarray", user_loc())
    shape = values[0].type.shape
    if any(v.type.shape != shape for v in values):
        raise ValueError("setting an array element with a sequence. The requested array has an "
                         "inhomogeneous shape")
    rows = [state.emit("reshape", (v,), {"shape": (1,) + shape}) for v in values]
    return rows[0] if len(rows) == 1 else state.emit("concat", rows, {"axis": 0})


def _contains_traced(seq) -> bool:
    for item in seq:
        if isinstance(item, TracedArray):
            return True
        if isinstance(item, (list, tuple)) and _contains_traced(item):
            return True
    return False


def wrap(value, scalar: bool = False, view: bool = False, base=None, readonly: bool = False,
         chain=None) -> TracedArray:
    """A new proxy for `value` in the active trace (a view of `base` when given)."""
    return TracedArray(value, current(), scalar=scalar, view=view, base=base, readonly=readonly, chain=chain)


def is_operand(x) -> bool:
    """Whether `x` is something the tracer can turn into a Value."""
    return isinstance(x, (TracedArray, np.ndarray, np.generic, bool, int, float, complex, list, tuple))


def static_type(x, weak: bool = True) -> TensorType:
    """The type `as_value(x)` would have, without emitting anything (for shape checks)."""
    if isinstance(x, TracedArray):
        return x._value.type
    if is_python_scalar(x):
        kind = bool if isinstance(x, bool) else np.int64 if isinstance(x, int) else \
            complex if isinstance(x, complex) else float
        return TensorType((), np.dtype(kind), weak)
    array = np.asarray(x)
    return TensorType(array.shape, array.dtype)
