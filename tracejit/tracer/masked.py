"""``x[mask]``: a boolean mask read, whose length depends on the data.

Its length cannot be known while tracing, so the selection is kept as the source
array and its mask (``MaskedSelection``) and only what does not need the length
compiles:

- elementwise ufuncs and operators of selections under the same mask and of scalars
  (``y[m] ** 2``, ``x[m] - x[m].mean()``, ``x[m] > 4``): computed on the whole source,
  a selection under the same mask again (the elements left out are never used; a
  compiled kernel raises no floating-point warnings, so their values cannot show);
- reductions over all the selected elements: sum, prod, any, all, max, min (NumPy's
  ValueError when nothing is selected), mean, var and std (``where=`` of the mask);
- assigning it into an array under the same mask (``writes.py``).

Everything else (its length, indexing it, returning or storing it) needs the shape
and raises ``UnsupportedError``: the function runs eagerly.
"""
from __future__ import annotations

import numpy as np

from . import reductions, ufuncs
from .errors import UnsupportedError
from .location import user_loc
from .proxy import TracedArray
from .shapes import emit, reshape
from .state import as_value, current, wrap

_SCALARS = (bool, int, float, complex, np.generic)


class MaskedSelection:
    """``x[mask]`` (see the module docstring): `source` the array selected from (or an
    elementwise result of it), `mask` the boolean array over its leading axes."""

    data_dependent_shape = True      # the trace refuses it as an output or as state

    def __init__(self, source: TracedArray, mask):
        # the values as they are now: a later write into x or the mask must not change
        # what this selection holds (s = x[m]; x += 10 keeps s)
        self.source = wrap(source._value, scalar=source._scalar)
        self.mask = wrap(mask._value) if isinstance(mask, TracedArray) else mask
        self.loc = user_loc()

    @property
    def dtype(self):
        return self.source.dtype

    def _mask_like_source(self, source=None):
        source = self.source if source is None else source
        mask = self.mask
        if mask.ndim < source.ndim:
            mask = reshape(mask, tuple(mask.shape) + (1,) * (source.ndim - mask.ndim))
        cond = as_value(mask)
        if cond.type.dtype != np.bool_:
            cond = current().emit("cast", [cond], {"dtype": np.dtype(np.bool_)})
        if cond.type.shape != tuple(source.shape):
            cond = emit("broadcast_to", [cond], {"shape": tuple(source.shape)})
        return wrap(cond)

    def filled(self, fill, source=None):
        """The source (or `source`) with `fill` where the mask is false."""
        source = self.source if source is None else source
        cond = self._mask_like_source(source)
        return wrap(current().emit("where", [as_value(cond), as_value(source), as_value(fill)]))

    # -- elementwise ------------------------------------------------------------------
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if method != "__call__" or kwargs or ufunc.nout != 1:
            return self._unsupported()
        operands = []
        for item in inputs:
            if isinstance(item, MaskedSelection):
                if not same_mask(item.mask, self.mask) or tuple(item.source.shape) != tuple(self.source.shape):
                    raise UnsupportedError("combining boolean mask reads under different masks (their "
                                           "lengths depend on the data)", "getitem", user_loc(),
                                           hint="select once: (x * y)[mask], or use np.where")
                operands.append(item.source)
            elif isinstance(item, _SCALARS) or (isinstance(item, TracedArray) and item.ndim == 0):
                operands.append(item)
            else:
                return self._unsupported()
        if ufunc.__name__ in ("power", "left_shift", "right_shift") and _result_kind(operands) in "iu":
            return self._unsupported()    # may raise for an element left out (int ** negative)
        return MaskedSelection(ufunc(*operands), self.mask)

    def astype(self, dtype, *args, **kwargs):
        return MaskedSelection(self.source.astype(dtype, *args, **kwargs), self.mask)

    # -- reductions -------------------------------------------------------------------
    def _reduce(self, name, fill, *args, **kwargs):
        axis = kwargs.pop("axis", args[0] if args else None)
        if axis is not None:
            raise UnsupportedError(f"x[mask].{name}(axis=...)", name, user_loc())
        return getattr(reductions, name)(self.filled(fill), None, **kwargs)

    def sum(self, *args, **kwargs):
        return self._reduce("sum", 0, *args, **kwargs)

    def prod(self, *args, **kwargs):
        return self._reduce("prod", 1, *args, **kwargs)

    def any(self, *args, **kwargs):
        return self._reduce("any", False, *args, **kwargs)

    def all(self, *args, **kwargs):
        return self._reduce("all", True, *args, **kwargs)

    def max(self, *args, **kwargs):
        return self._nonempty(self._reduce("max", lowest(self.source.dtype), *args, **kwargs), "maximum")

    def min(self, *args, **kwargs):
        return self._nonempty(self._reduce("min", highest(self.source.dtype), *args, **kwargs), "minimum")

    def _nonempty(self, result, name):
        """NumPy raises ValueError for the max/min of no elements."""
        ok = self.mask.any() if isinstance(self.mask, TracedArray) else np.any(self.mask)
        if not isinstance(ok, TracedArray):
            if not ok or not self.source.size:
                raise ValueError(f"zero-size array to reduction operation {name} which has no identity")
            return result
        if not self.source.size:
            raise ValueError(f"zero-size array to reduction operation {name} which has no identity")
        message = f"zero-size array to reduction operation {name} which has no identity"
        return wrap(current().emit("require", [as_value(result), as_value(ok)],
                                   {"error": "ValueError", "message": message}), scalar=True)

    def mean(self, *args, **kwargs):
        total = self.sum(*args, **kwargs)
        one = wrap(current().constant(1, np.intp))
        ones = wrap(emit("broadcast_to", [one], {"shape": self.source.shape}))
        count = reductions.sum(self.filled(0, ones), None)
        dtype = np.mean(np.zeros(1, self.source.dtype)).dtype if self.source.dtype.kind != "c" else self.source.dtype
        if kwargs.get("dtype") is not None:
            dtype = np.dtype(kwargs["dtype"])
        return ufuncs.astype(ufuncs.apply("true_divide", (total, ufuncs.astype(count, dtype))), dtype)

    def _spread(self, name, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
        if axis is not None or out is not None or keepdims:
            raise UnsupportedError(f"x[mask].{name}(axis=/out=/keepdims=)", name, user_loc())
        return getattr(reductions, name)(self.source, None, dtype, ddof=ddof, where=self._mask_like_source())

    def var(self, *args, **kwargs):
        return self._spread("var", *args, **kwargs)

    def std(self, *args, **kwargs):
        return self._spread("std", *args, **kwargs)

    # -- everything else needs the length ---------------------------------------------
    def __getattr__(self, name):
        raise UnsupportedError(f"x[mask].{name} (a boolean mask read has a data-dependent shape)",
                               "getitem", user_loc(), hint="reduce it (x[mask].sum()), or use np.where")

    def __array_function__(self, func, types, args, kwargs):
        handler = {np.sum: self.sum, np.prod: self.prod, np.max: self.max, np.amax: self.max,
                   np.min: self.min, np.amin: self.min, np.any: self.any, np.all: self.all,
                   np.mean: self.mean, np.var: self.var, np.std: self.std}.get(func)
        if handler is not None and args and args[0] is self:
            return handler(*args[1:], **kwargs)
        return self._unsupported()

    def _unsupported(self, *args, **kwargs):
        raise UnsupportedError("using x[mask] (a boolean mask read has a data-dependent shape)",
                               "getitem", user_loc(), hint="reduce it (x[mask].sum()), or use np.where")

    __len__ = __iter__ = __getitem__ = __matmul__ = __rmatmul__ = __bool__ = __index__ = _unsupported


def _operator(ufunc, reflected=False):
    if reflected:
        return lambda self, other: ufunc(other, self)
    return lambda self, other: ufunc(self, other)


for _name, _ufunc in [("add", np.add), ("sub", np.subtract), ("mul", np.multiply), ("truediv", np.true_divide),
                      ("floordiv", np.floor_divide), ("mod", np.remainder), ("pow", np.power),
                      ("and", np.bitwise_and), ("or", np.bitwise_or), ("xor", np.bitwise_xor)]:
    setattr(MaskedSelection, f"__{_name}__", _operator(_ufunc))
    setattr(MaskedSelection, f"__r{_name}__", _operator(_ufunc, reflected=True))
for _name, _ufunc in [("lt", np.less), ("le", np.less_equal), ("gt", np.greater), ("ge", np.greater_equal),
                      ("eq", np.equal), ("ne", np.not_equal)]:
    setattr(MaskedSelection, f"__{_name}__", _operator(_ufunc))
MaskedSelection.__neg__ = lambda self: np.negative(self)
MaskedSelection.__pos__ = lambda self: np.positive(self)
MaskedSelection.__abs__ = lambda self: np.absolute(self)
MaskedSelection.__invert__ = lambda self: np.invert(self)
MaskedSelection.__hash__ = None


def _same_value(a, b, depth=6) -> bool:
    """The same computation (op, attributes, operands), e.g. two evaluations of y < 0."""
    if a is b:
        return True
    pa, pb = a.producer, b.producer
    if depth == 0 or pa is None or pb is None or pa.op is not pb.op or len(pa.inputs) != len(pb.inputs):
        return False
    if repr(sorted(pa.attrs.items(), key=str)) != repr(sorted(pb.attrs.items(), key=str)):
        return False
    return all(_same_value(x, y, depth - 1) for x, y in zip(pa.inputs, pb.inputs))


def same_mask(a, b) -> bool:
    """One mask: the same traced computation, or equal constant arrays."""
    if a is b:
        return True
    if isinstance(a, TracedArray) and isinstance(b, TracedArray):
        return _same_value(a._value, b._value)
    if isinstance(a, np.ndarray) and isinstance(b, np.ndarray):
        return a.shape == b.shape and bool(np.array_equal(a, b))
    return False


def _result_kind(operands) -> str:
    """The kind of NumPy's result dtype for these operands (Python scalars weak)."""
    return np.result_type(*[np.empty((), o.dtype) if isinstance(o, (TracedArray, np.generic)) else o
                            for o in operands]).kind


def lowest(dtype):
    """The identity of a max over `dtype` (-inf, False or the integer minimum)."""
    dtype = np.dtype(dtype)
    return False if dtype.kind == "b" else -np.inf if dtype.kind == "f" else int(np.iinfo(dtype).min)


def highest(dtype):
    """The identity of a min over `dtype`."""
    dtype = np.dtype(dtype)
    return True if dtype.kind == "b" else np.inf if dtype.kind == "f" else int(np.iinfo(dtype).max)


__all__ = ["MaskedSelection"]
