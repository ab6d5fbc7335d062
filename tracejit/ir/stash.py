"""Compute an expensive row value once: stash it in the output in the last phase.

Softmax lowers to a max phase, a sum phase over ``exp(x - max)`` and an epilogue that
computes ``exp(x - max) / sum`` again: two exponentials per element, where the second
is the same value the sum phase already had. On a backend whose kernel keeps a row in
cache (Numba: one thread walks one row), storing that value into the output element
during the last phase and loading it back in the epilogue costs an L1 round trip
instead of a second ``exp``.

A matmul's row kernel (scores -> causal mask -> softmax) stashes too: the product
has a buffer of its own (``NumbaKernel._matmul``), which the stash never writes.

``stash_last_phase_values(nest)`` finds epilogue statements that recompute, from the
same loads, a value of the last reduction phase's body; the most expensive such value
(one containing a transcendental op) whose dtype is an output's dtype, stored by the
epilogue at exactly the domain index, is stored there by the phase and loaded by the
epilogue. The result is bit-identical (the same statements compute the value once).

When it is legal. The output may be written in place into an input of the same shape
(``runtime/inplace.py``), so the stash would overwrite that input's element: it is
applied only when every load of a buffer shaped like the output, in the last phase and
in what stays live of the epilogue, reads exactly the element being computed (the
current domain index), which that phase has read before it stores.
"""
from __future__ import annotations

from dataclasses import replace

from .nest import Accumulate, Compute, Constant, IndexValue, Load, Store, var

# ops whose recomputation costs much more than a load from L1
EXPENSIVE = frozenset({"exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "tanh", "sinh", "cosh", "sin",
                       "cos", "tan", "arctan", "arcsin", "arccos", "arctan2", "power", "sqrt", "logaddexp",
                       "erf", "erfc"})


def _canonical(block, outside):
    """Value numbers of a statement list: name -> hashable description of how it is
    computed. `outside`: the value numbers of the row-level statements before it
    (names defined nowhere in either stand for themselves)."""
    number = dict(outside)
    for stmt in block:
        if isinstance(stmt, Load):
            number[stmt.dst] = ("load", stmt.buffer, stmt.index, str(stmt.dtype))
        elif isinstance(stmt, Constant):
            number[stmt.dst] = ("const", repr(stmt.value), str(stmt.dtype))
        elif isinstance(stmt, IndexValue):
            number[stmt.dst] = ("index", repr(stmt.index), str(stmt.dtype))
        elif isinstance(stmt, Compute) and not isinstance(stmt, Accumulate):
            args = tuple(number.get(a, ("outside", a)) for a in stmt.args)
            number[stmt.dst] = ("op", stmt.op.name, args, str(stmt.dtype), tuple(map(str, stmt.loop_dtypes)),
                                tuple(sorted((k, repr(v)) for k, v in stmt.attrs.items())))
    return number


def _expensive(description) -> bool:
    if description[0] != "op":
        return False
    return description[1] in EXPENSIVE or any(_expensive(a) for a in description[2])


def _live(epilogue) -> set:
    """Names the epilogue's stores need, directly or through other statements."""
    needed = {s.src for s in epilogue if isinstance(s, Store)}
    for stmt in reversed(epilogue):
        if isinstance(stmt, Compute) and stmt.dst in needed:
            needed.update(stmt.args)
    return needed


def stash_last_phase_values(nest):
    if not nest.phases or nest.phases[-1].scan:
        return nest
    phase, epilogue = nest.phases[-1], nest.epilogue
    domain_index = tuple(var(f"i{d}") for d in range(len(nest.domain)))
    outputs = {b.name: b for b in nest.outputs}
    stores = [s for s in epilogue if isinstance(s, Store) and s.buffer in outputs and s.index == domain_index]
    if not stores:
        return nest
    # row-level statements (``t = index i1`` of a causal mask) numbered once, so that
    # the phase and the epilogue computing from their own copies of them compare equal
    row = _canonical([stmt for segment in nest.segments for stmt in segment], {})
    in_phase = _canonical(phase.body, row)
    by_description = {}
    for name, description in in_phase.items():
        if name not in row:
            by_description.setdefault(description, name)
    in_epilogue = _canonical(epilogue, row)
    candidates = [(name, description) for name, description in in_epilogue.items()
                  if name not in row and description in by_description and _expensive(description)]
    if not candidates:
        return nest
    # the deepest shared value: the one no other candidate uses
    used_by_candidates = {a for _, d in candidates for a in (d[2] if d[0] == "op" else ())}
    for name, description in candidates:
        if description in used_by_candidates:
            continue
        phase_name = by_description[description]
        dtype = next(s.dtype for s in phase.body if getattr(s, "dst", None) == phase_name)
        # the epilogue must load the stash before it stores anything else there (it may
        # store another value into that output first: ``return exp(y), sum(tanh(exp(y))) - tanh(exp(y))``)
        defined_at = next(i for i, s in enumerate(epilogue) if getattr(s, "dst", None) == name)
        target = next((s for s in stores if outputs[s.buffer].dtype == dtype and
                       all(i > defined_at for i, t in enumerate(epilogue)
                           if isinstance(t, Store) and t.buffer == s.buffer)), None)
        if target is None:
            continue
        new_epilogue = [Load(name, target.buffer, domain_index, dtype) if getattr(s, "dst", None) == name else s
                        for s in epilogue]
        if not _safe(nest, phase.body, new_epilogue, outputs[target.buffer], domain_index):
            continue
        at = next(i for i, s in enumerate(phase.body) if getattr(s, "dst", None) == phase_name) + 1
        body = phase.body[:at] + [Store(target.buffer, domain_index, phase_name, dtype)] + phase.body[at:]
        phases = nest.phases[:-1] + [replace(phase, body=body)]
        return replace(nest, phases=phases, epilogue=new_epilogue)
    return nest


def _safe(nest, body, epilogue, output, domain_index) -> bool:
    same_shape = {b.name for b in nest.inputs if tuple(b.shape) == tuple(output.shape)}
    live = _live(epilogue)
    loads = [s for s in body if isinstance(s, Load)] + \
        [s for s in epilogue if isinstance(s, Load) and s.dst in live and s.buffer != output.name]
    return all(s.index == domain_index for s in loads if s.buffer in same_shape)


__all__ = ["EXPENSIVE", "stash_last_phase_values"]
