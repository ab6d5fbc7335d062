"""Sum a stashed row value in a loop of its own, so the loop computing it runs at full
vector width.

Softmax's last phase computes ``e = exp(x - max)``, stores it into the output (the
stash: ``ir/stash.py``) and adds it to a float64 accumulator (float32 sums are widened:
``ir/accumulate.py``). One loop that mixes float32 work with a float64 sum makes LLVM
pick the float64 vector width for all of it: 4 lanes of ``exp`` on AVX2, where a pure
float32 loop runs 8. So, when the last phase's accumulators read nothing of the body but
a value the body stores at the current point, ``split_stashed_sums(nest)`` moves them
into a second loop over the same inner dims that loads that value back (from L1: the
row was just written by the same thread):

    phase k:    e = exp(x - max); out[i] = e                 (8 float32 lanes)
    phase k+1:  acc += float64(out[i])                       (the float64 sum)

The result is bit-identical: the same values are combined in the same order. Only a
phase that computes something expensive (``stash.EXPENSIVE``) in float32 or float16
while summing in a wider dtype is split, and only over rows (the last axis inside), as
one thread walks a row and keeps it in cache.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from .nest import Accumulate, Compute, Load, Phase, Store, var
from .stash import EXPENSIVE


def _uses(stmt) -> tuple:
    if isinstance(stmt, Compute):
        return tuple(stmt.args)
    if isinstance(stmt, Store):
        return (stmt.src,)
    return ()


def _accumulator_part(body) -> set:
    """Indices of the statements that only feed accumulators (the accumulators too)."""
    users = {}
    for k, stmt in enumerate(body):
        for name in _uses(stmt):
            users.setdefault(name, set()).add(k)
    part = {k for k, s in enumerate(body) if isinstance(s, Accumulate)}
    for k in range(len(body) - 1, -1, -1):
        stmt = body[k]
        if k in part or not isinstance(stmt, Compute):
            continue
        readers = users.get(stmt.dst, set())
        if readers and readers <= part:
            part.add(k)
    return part


def split_stashed_sums(nest):
    if not nest.phases or nest.phases[-1].scan or nest.matmul is not None or not nest.inner_axes:
        return nest
    if len(nest.domain) - 1 not in nest.inner_axes:
        return nest
    phase = nest.phases[-1]
    body = phase.body
    part = _accumulator_part(body)
    if not part or len(part) == len(body):
        return nest
    defined_in_part = {body[k].dst for k in part}
    if any(name in defined_in_part for k, s in enumerate(body) if k not in part for name in _uses(s)):
        return nest                          # the body reads a running value: not a plain sum
    defined_outside_part = {getattr(s, "dst", None) for k, s in enumerate(body) if k not in part} - {None}
    read = {name for k in part for name in _uses(body[k]) if name in defined_outside_part}
    domain_index = tuple(var(f"i{d}") for d in range(len(nest.domain)))
    stored = {s.src: s for k, s in enumerate(body)
              if k not in part and isinstance(s, Store) and s.index == domain_index}
    if len(read) != 1 or next(iter(read)) not in stored:
        return nest
    value = next(iter(read))
    store = stored[value]
    narrow = np.dtype(store.dtype) in (np.float16, np.float32)
    wide = any(isinstance(body[k], Accumulate) and np.dtype(body[k].dtype).itemsize > np.dtype(store.dtype).itemsize
               for k in part)
    expensive = any(isinstance(s, Compute) and s.op.name in EXPENSIVE for k, s in enumerate(body) if k not in part)
    if not (narrow and wide and expensive):
        return nest
    again = value + "_again"
    rename = {value: again}
    summing = [Load(again, store.buffer, domain_index, store.dtype)] + [
        replace(body[k], args=tuple(rename.get(a, a) for a in body[k].args)) for k in sorted(part)]
    computing = [s for k, s in enumerate(body) if k not in part]
    phases = nest.phases[:-1] + [Phase(body=computing), replace(phase, body=summing)]
    segments = nest.segments[:-1] + [[], nest.segments[-1]]
    return replace(nest, phases=phases, segments=segments)


__all__ = ["split_stashed_sums"]
