"""``np.einsum`` and ``np.tensordot``, lowered to transposes, diagonals, reductions,
broadcast products and ``matmul``.

``einsum`` first asks NumPy itself about the call, on tiny stand-in arrays whose
dimensions are equal exactly where the real ones are (1 and 0 kept): the stand-ins
raise NumPy's own errors for bad subscripts or shapes, and give the result dtype and
whether NumPy returns a view (one operand, nothing summed: ``'ij->ji'``, ``'ii->i'``)
or a NumPy scalar (a 0-d result). Then, with every operand cast to the result dtype:

1. each repeated label of one operand becomes a diagonal (``'ii->i'``, traces);
2. labels of one operand that no other operand and not the output has are summed;
3. operands are combined left to right (``optimize`` only reorders NumPy's work):
   floating-point pairs with shared summed labels as one batched ``matmul`` (batch,
   free and summed labels transposed and flattened into 3-D operands); other pairs as
   a broadcast product, summed over the shared labels (``any`` for bools, integer
   sums cast back, so they wrap as NumPy's einsum does);
4. the result is transposed to the output's order.

Explicit (``'ij,jk->ik'``) and implicit (``'ij,jk'``: labels seen once, in code point
order) output, ``'...'`` broadcasting and the ``(op, sublist, ...)`` form are
supported. Sums may be associated differently from NumPy's loops (a few ulps).
``tensordot`` is NumPy's own algorithm: transposed, flattened operands and one ``dot``.
"""
from __future__ import annotations

import math
import operator
import string

import numpy as np

from . import layout, linalg, reductions, shapes, ufuncs
from .errors import UnsupportedError
from .location import user_loc
from .proxy import TracedArray
from .shapes import as_traced, broadcast_to, reshape, transpose
from .state import wrap
from .ufuncs import astype


def _stand_in_shapes(shapes_):
    """Small shapes equal where the given ones are (0 and 1 kept)."""
    sizes = {0: 0, 1: 1}
    for shape in shapes_:
        for n in shape:
            sizes.setdefault(n, len(sizes))
    return [tuple(sizes[n] for n in shape) for shape in shapes_]


def _from_sublists(operands):
    """``einsum(op0, sublist0, op1, sublist1, ..., [sublist_out])`` as a subscripts string."""
    def letters(sublist):
        return "".join("..." if s is Ellipsis else string.ascii_letters[operator.index(s)] for s in sublist)
    n = len(operands) // 2
    spec = ",".join(letters(operands[2 * k + 1]) for k in range(n))
    if len(operands) % 2:
        spec += "->" + letters(operands[-1])
    return spec, [operands[2 * k] for k in range(n)]


def _parse(subscripts: str, ndims) -> tuple:
    """(labels per operand, output labels): letters, and ints 0..E-1 for the broadcast
    dimensions of '...' (right-aligned, E the most any operand has)."""
    subscripts = subscripts.replace(" ", "")
    inputs, arrow, output = subscripts.partition("->")
    terms = inputs.split(",")
    widths = [ndim - (len(term) - 3) if "..." in term else 0 for term, ndim in zip(terms, ndims)]
    most = max(widths, default=0)
    labels = []
    for term, width in zip(terms, widths):
        head, dots, tail = term.partition("...")
        labels.append(list(head) + (list(range(most - width, most)) if dots else []) + list(tail))
    if arrow:
        head, dots, tail = output.partition("...")
        out = list(head) + (list(range(most)) if dots else []) + list(tail)
    else:
        counts = {}
        for term in labels:
            for label in term:
                if isinstance(label, str):
                    counts[label] = counts.get(label, 0) + 1
        out = list(range(most)) + sorted(label for label, n in counts.items() if n == 1)
    return labels, out


def _diagonals(x: TracedArray, labels: list):
    """Repeated labels of one operand collapsed into one axis each (at the end)."""
    labels = list(labels)
    while len(set(labels)) < len(labels):
        label = next(l for l in labels if labels.count(l) > 1)
        first = labels.index(label)
        second = labels.index(label, first + 1)
        x = shapes.diagonal(x, 0, first, second)
        labels = [l for d, l in enumerate(labels) if d not in (first, second)] + [label]
    return x, labels


def _sum(x: TracedArray, labels: list, drop, dtype):
    """x summed over the axes whose labels are in `drop` (any for bools), kept in `dtype`."""
    axes = tuple(d for d, l in enumerate(labels) if l in drop)
    if not axes:
        return x, labels
    if dtype == np.bool_:
        result = reductions.any(x, axis=axes)
    else:
        result = reductions.sum(x, axis=axes)
    if result.dtype != dtype:
        result = astype(result, dtype)
    return wrap(result._value), [l for l in labels if l not in drop]


def _arranged(x: TracedArray, labels: list, order: list):
    """x with its axes in `order` (labels), length-1 axes where x lacks a label."""
    present = [l for l in order if l in labels]
    x = transpose(x, [labels.index(l) for l in present])
    return reshape(x, tuple(x.shape[present.index(l)] if l in labels else 1 for l in order))


def _combine(a, la, b, lb, keep, sizes, dtype):
    """The product of two operands summed over their shared labels not in `keep`."""
    batch = [l for l in la if l in lb and l in keep]
    summed = [l for l in la if l in lb and l not in keep]
    free_a = [l for l in la if l not in lb]
    free_b = [l for l in lb if l not in la]
    if summed and dtype.kind == "f":
        a = broadcast_to(_arranged(a, la, batch + free_a + summed), tuple(sizes[l] for l in batch + free_a + summed))
        b = broadcast_to(_arranged(b, lb, batch + summed + free_b), tuple(sizes[l] for l in batch + summed + free_b))
        count = [math.prod(sizes[l] for l in group) for group in (batch, free_a, summed, free_b)]
        product = linalg.matmul(reshape(a, (count[0], count[1], count[2])), reshape(b, (count[0], count[2], count[3])))
        labels = batch + free_a + free_b
        return reshape(product, tuple(sizes[l] for l in labels)), labels
    order = batch + free_a + free_b + summed
    product = ufuncs.apply("multiply", (_arranged(a, la, order), _arranged(b, lb, order)))
    if product.dtype != dtype:
        product = astype(product, dtype)
    product = broadcast_to(product, tuple(sizes[l] for l in order))
    return _sum(product, order, set(summed), dtype)


def einsum(*operands, out=None, optimize=False, dtype=None, order="K", casting="safe"):
    """``np.einsum`` (see the module doc)."""
    if out is not None:
        raise UnsupportedError("np.einsum(..., out=...)", "einsum", user_loc())
    if isinstance(operands[0], str):
        subscripts, arrays = operands[0], list(operands[1:])
    else:
        subscripts, arrays = _from_sublists(operands)
    xs = [as_traced(x) for x in arrays]
    stand_ins = [np.zeros(s, x.dtype) for s, x in zip(_stand_in_shapes([x.shape for x in xs]), xs)]
    probe = np.einsum(subscripts, *stand_ins, dtype=dtype, order=order, casting=casting)   # NumPy's errors
    result_dtype = np.asarray(probe).dtype
    labels, out_labels = _parse(subscripts, [x.ndim for x in xs])
    if len(xs) == 1 and isinstance(probe, np.ndarray) and np.shares_memory(probe, stand_ins[0]) \
            or len(xs) == 1 and probe.size == 0 and set(labels[0]) == set(out_labels) and not dtype:
        return _single_view(xs[0], labels[0], out_labels)
    seen = {}
    for x, term in zip(xs, labels):
        for label, n in zip(term, x.shape):
            seen.setdefault(label, set()).add(n)
    sizes = {label: 0 if 0 in ns else max(ns) for label, ns in seen.items()}     # 1 broadcasts
    items = []
    for index, (x, term) in enumerate(zip(xs, labels)):
        x = astype(x, result_dtype) if x.dtype != result_dtype else x
        x, term = _diagonals(x, term)
        others = set(out_labels).union(*(set(t) for k, t in enumerate(labels) if k != index))
        x, term = _sum(x, term, set(term) - others, result_dtype)
        items.append((x, term))
    result, labels_now = items[0]
    for k in range(1, len(items)):
        later = set(out_labels).union(*(set(t) for _, t in items[k + 1:]))
        result, labels_now = _combine(result, labels_now, *items[k], later, sizes, result_dtype)
    result, labels_now = _sum(result, labels_now, set(labels_now) - set(out_labels), result_dtype)
    result = broadcast_to(_arranged(result, labels_now, out_labels), tuple(sizes[l] for l in out_labels))
    if result.dtype != result_dtype:
        result = astype(result, result_dtype)
    result = wrap(result._value, scalar=not isinstance(probe, np.ndarray))
    return layout.assign(result, layout.UNKNOWN)            # NumPy's einsum chooses its output's order


def _single_view(x: TracedArray, labels, out_labels):
    """NumPy's view for one operand with nothing summed: diagonals and a transpose."""
    view, labels = _diagonals(x, labels)
    view = transpose(view, [labels.index(l) for l in out_labels])
    view._readonly = x._readonly
    return view


def tensordot(a, b, axes=2):
    """``np.tensordot``: a's `axes[0]` contracted with b's `axes[1]` by one ``dot``."""
    try:
        iter(axes)
    except TypeError:
        n = operator.index(axes)
        axes_a, axes_b = list(range(-n, 0)), list(range(n))
    else:
        axes_a, axes_b = axes
    axes_a = [operator.index(axes_a)] if np.ndim(axes_a) == 0 else [operator.index(i) for i in axes_a]
    axes_b = [operator.index(axes_b)] if np.ndim(axes_b) == 0 else [operator.index(i) for i in axes_b]
    x, y = as_traced(a), as_traced(b)
    if len(axes_a) != len(axes_b) or any(x.shape[i] != y.shape[j] for i, j in zip(axes_a, axes_b)):
        raise ValueError("shape-mismatch for sum")
    axes_a = [i + x.ndim if i < 0 else i for i in axes_a]
    axes_b = [j + y.ndim if j < 0 else j for j in axes_b]
    free_a = [d for d in range(x.ndim) if d not in axes_a]
    free_b = [d for d in range(y.ndim) if d not in axes_b]
    n = math.prod(x.shape[i] for i in axes_a)
    at = reshape(transpose(x, free_a + axes_a), (math.prod(x.shape[d] for d in free_a), n))
    bt = reshape(transpose(y, axes_b + free_b), (n, math.prod(y.shape[d] for d in free_b)))
    result = linalg.dot(at, bt)
    return wrap(reshape(result, tuple(x.shape[d] for d in free_a) + tuple(y.shape[d] for d in free_b))._value)


HANDLERS = {np.einsum: einsum, np.tensordot: tensordot}
