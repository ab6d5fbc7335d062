"""Small helpers shared by the local passes: constant detection and hashable attrs."""
from __future__ import annotations

import numpy as np

from ..ir import Graph


def constant_of(value):
    """The scalar (a NumPy scalar of the value's dtype) if `value` is a splat constant:
    a `constant` node, or a broadcast_to/reshape of one; else None."""
    node = value.producer
    while node is not None and node.op.name in ("broadcast_to", "reshape"):
        node = node.inputs[0].producer
    if node is None or node.op.name != "constant":
        return None
    return np.asarray(node.attrs["value"], dtype=node.attrs["dtype"])[()]


def attr_key(value):
    """A hashable key for an attribute value that is equal exactly when the values are
    interchangeable: floats by bit pattern (-0.0 != 0.0, NaN == NaN), dtypes by name,
    containers element-wise, graphs (kernel regions) and unknown objects by identity."""
    if isinstance(value, bool) or value is None:
        return (type(value).__name__, value)
    if isinstance(value, int):
        return ("int", value)
    if isinstance(value, float):
        return ("float", np.float64(value).tobytes())     # float.hex drops a NaN's sign
    if isinstance(value, str):
        return ("str", value)
    if isinstance(value, np.dtype):
        return ("dtype", value.str)
    if isinstance(value, type) and issubclass(value, np.generic):
        return ("dtype", np.dtype(value).str)
    if isinstance(value, np.generic):
        return ("scalar", value.dtype.str, value.tobytes())
    if isinstance(value, np.ndarray):
        return ("array", value.dtype.str, value.shape, value.tobytes())
    if isinstance(value, (tuple, list)):
        return (type(value).__name__,) + tuple(attr_key(v) for v in value)
    if isinstance(value, dict):
        return ("dict",) + tuple(sorted((k, attr_key(v)) for k, v in value.items()))
    if isinstance(value, Graph):
        return ("graph", id(value))
    return ("object", id(value))


def attrs_key(attrs: dict) -> tuple:
    return tuple(sorted((k, attr_key(v)) for k, v in attrs.items()))
