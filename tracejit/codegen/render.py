"""The one renderer: a lowered LoopNest -> the source lines of one kernel function.

``Renderer`` walks the nest (``walk_outer``/``walk_phases``: preamble, outer iteration,
segments, reduction phases, epilogue) and renders every statement; a ``Dialect``
(``numba_dialect.py``, ``triton_dialect.py``) supplies only what differs between
backends: literals and conversions, loads and stores, the loop/lane structure, masks,
lane reductions and scans, and a few special forms (powers, reduction combines).
Elementwise ops come from the op table's templates for the dialect's backend name.

What the renderer keeps so that generated code reads like hand-written code:
- *value numbering*: a statement equal to one already computed in the enclosing
  straight-line scope (the same load, the same ``exp`` of the same value) reuses that
  name; loops and branches open new scopes; stores and accumulator updates invalidate
  what they change;
- *names as lanes or scalars*: which names are blocks of lanes (per inner point of a
  block backend) and which are scalars, so dialects mask only block loads/stores;
- *dead lines*: after rendering, lines that define names nobody reads are dropped
  (iteratively) and emptied blocks get a ``pass``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from ..ir.nest import (AccInit, Accumulate, BoundsCheck, Compute, Constant, IndexValue, LaneReduce, LaneScan,
                       Load, MaskFill, Store, ValueCheck, index_names, index_vars, render_index)

INDENT = "    "
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass
class Line:
    depth: int
    text: str
    defines: tuple = ()     # names assigned here: the line is dead when none is read
    effect: bool = False    # stores, checks, control flow, comments: always kept


class Dialect:
    """What one backend renders differently. Defaults suit Python-syntax backends."""

    name = ""               # the backend's key in the op table's templates
    lanes = False           # a block backend: inner points are lanes of a block

    # -- values --------------------------------------------------------------------
    def literal(self, value, dtype) -> str:
        raise NotImplementedError

    def constant(self, r, stmt) -> str:
        return self.literal(stmt.value, stmt.dtype)

    def dtype_name(self, dtype) -> str:
        """The `{t}` of templates: the backend's name of a dtype."""
        raise NotImplementedError

    def compute_dtype(self, dtype):
        """The dtype the backend computes a loop dtype in (its template is that one's)."""
        return np.dtype(dtype)

    def operand(self, expr: str, have, loop) -> str:
        """An operand of dtype `have` for an op whose NumPy loop dtype is `loop`."""
        return expr if np.dtype(have) == np.dtype(loop) else self.convert(expr, have, loop)

    def convert(self, expr: str, src, dst) -> str:
        """`expr` of dtype `src` as a value of dtype `dst`."""
        raise NotImplementedError

    def natural_dtype(self, stmt, template: str):
        """The dtype the rendered expression of `stmt` has by itself (None: unknown)."""
        return None

    def special(self, r, stmt, args):
        """A replacement expression for `stmt` (faster, same numerics), or None."""
        return None

    def index(self, r, expr) -> str:
        return render_index(expr, min_fn="min", max_fn="max", where=None, ref=r.ref)

    # -- statements the renderer cannot write generically -----------------------------
    def load(self, r, stmt) -> tuple:
        """(right-hand side, whether the result is a block of lanes)."""
        raise NotImplementedError

    def store(self, r, stmt) -> str:
        raise NotImplementedError

    def index_value(self, r, stmt) -> str:
        raise NotImplementedError

    def bounds_check(self, r, stmt) -> list:
        raise NotImplementedError

    def value_check(self, r, stmt) -> list:
        raise NotImplementedError

    def acc_init(self, r, stmt) -> str:
        return self.literal(stmt.value, stmt.dtype)

    def mask_fill(self, r, stmt):
        """Right-hand side, or None when the value is `src` itself (no lanes)."""
        return None

    def lane_reduce(self, r, stmt):
        """Right-hand side (one or a tuple of values), or None: `dsts` are `srcs`."""
        return None

    def lane_scan(self, r, stmt) -> str:
        raise NotImplementedError(f"{self.name}: scans over lanes")

    # -- structure -----------------------------------------------------------------------
    def enter_outer(self, r, nest):
        pass

    def leave_outer(self, r, nest):
        pass

    def enter_inner(self, r, nest, what: str):
        """Start iterating the inner dims (`what`: "phase k" or "epilogue")."""
        raise NotImplementedError

    def leave_inner(self, r, nest):
        raise NotImplementedError


class Renderer:
    """Renders statements of one kernel through `dialect` (see the module doc)."""

    def __init__(self, dialect: Dialect):
        self.d = dialect
        self.lines: list = []
        self.depth = 0
        self.aliases: list = [{}]       # per scope: name -> the name that holds its value
        self.vectors: set = set()       # names that are blocks of lanes
        self.lane_vars: set = set()     # loop variables that are blocks of lanes here
        self.constants: dict = {}       # name of a Constant -> its value
        self.dtypes: dict = {}          # name -> dtype of its value
        self.scopes: list = [{}]        # value-numbering tables, innermost last
        # names held in one element per lane of a tile of outer points (`name_v[_l]`:
        # the Numba column tiles of codegen/column_tiles.py); empty otherwise
        self.lane_arrays: set = set()

    # -- lines and scopes ---------------------------------------------------------------
    def line(self, text: str, defines=(), effect: bool = False):
        self.lines.append(Line(self.depth, text, tuple(defines), effect))

    def assign(self, dst: str, rhs: str, dtype=None, vector=None):
        if dst in self.lane_arrays:
            self.line(f"{dst}_v[_l] = {rhs}", effect=True)
        else:
            self.line(f"{dst} = {rhs}", (dst,))
        if dtype is not None:
            self.dtypes[dst] = np.dtype(dtype)
        if vector is not None:
            (self.vectors.add if vector else self.vectors.discard)(dst)

    def comment(self, text: str):
        self.line(f"# {text}", effect=True)

    def open(self, header: str):
        """A block header (`for ...:`, `if ...:`): its body is a new scope."""
        self.line(header, effect=True)
        self.depth += 1
        self.scopes.append({})
        self.aliases.append({})

    def close(self):
        self.depth -= 1
        self.scopes.pop()
        self.aliases.pop()

    def alias(self, name: str, holder: str):
        """`name` needs no line of its own: `holder` has its value (in this scope). A
        lane-array name outlives the scope, so it is assigned instead."""
        if name in self.lane_arrays:
            self.line(f"{name}_v[_l] = {self.ref(holder)}", effect=True)
            return
        self.aliases[-1][name] = holder

    def ref(self, name: str) -> str:
        changed = True
        while changed:
            changed = False
            for table in reversed(self.aliases):
                if name in table:
                    name, changed = table[name], True
                    break
        return f"{name}_v[_l]" if name in self.lane_arrays else name

    def is_vector(self, name: str) -> bool:
        return self.ref(name) in self.vectors

    def index_is_vector(self, expr) -> bool:
        return bool(index_vars(expr) & self.lane_vars) or any(
            self.is_vector(n) for n in index_names(expr, "scalar"))

    # -- value numbering ----------------------------------------------------------------
    def _known(self, key):
        for scope in reversed(self.scopes):
            if key in scope:
                return scope[key][0]
        return None

    def _remember(self, key, name, reads=()):
        self.scopes[-1][key] = (name, frozenset(reads))

    def _forget(self, test):
        for scope in self.scopes:
            for key in [k for k, (_, reads) in scope.items() if test(k, reads)]:
                del scope[key]

    # -- statements ---------------------------------------------------------------------
    def emit(self, statements):
        for stmt in statements:
            self.statement(stmt)

    def statement(self, stmt):
        d = self.d
        if isinstance(stmt, Accumulate):
            self._accumulate(stmt)
        elif isinstance(stmt, Compute):
            args = tuple(self.ref(a) for a in stmt.args)
            key = ("compute", stmt.op.name, args, _dtypes_key(stmt), repr(sorted(stmt.attrs.items(), key=str)))
            self._value(stmt.dst, key, lambda: self.compute_expr(stmt), stmt.dtype,
                        any(a in self.vectors for a in args), args)
        elif isinstance(stmt, Load):
            index = tuple(self.d.index(self, e) for e in stmt.index)
            key = ("load", stmt.buffer, index)
            found = self._known(key)
            if found is not None:
                self.alias(stmt.dst, found)
                return
            rhs, vector = d.load(self, stmt)
            if rhs.isidentifier():          # the value is already in a variable (a matmul tile)
                self.alias(stmt.dst, rhs)
                self.dtypes[rhs] = np.dtype(stmt.dtype)
                (self.vectors.add if vector else self.vectors.discard)(rhs)
                return
            self.assign(stmt.dst, rhs, stmt.dtype, vector)
            self._remember(key, stmt.dst)
        elif isinstance(stmt, Constant):
            self.constants[stmt.dst] = stmt.value
            # by bits: repr gives "nan" for both NaN signs
            key = ("const", np.asarray(stmt.value, np.dtype(stmt.dtype)).tobytes(), np.dtype(stmt.dtype).str)
            self._value(stmt.dst, key, lambda: d.constant(self, stmt), stmt.dtype, False)
        elif isinstance(stmt, IndexValue):
            key = ("index", d.index(self, stmt.index), np.dtype(stmt.dtype).str)
            self._value(stmt.dst, key, lambda: d.index_value(self, stmt), stmt.dtype,
                        self.index_is_vector(stmt.index))
        elif isinstance(stmt, Store):
            self.line(d.store(self, stmt), effect=True)
            self._forget(lambda key, reads: key[0] == "load" and key[1] == stmt.buffer)
        elif isinstance(stmt, BoundsCheck):
            key = ("check", d.index(self, stmt.index), d.index(self, stmt.size))
            if self._known(key) is None:
                self._remember(key, "")
                for text in d.bounds_check(self, stmt):
                    self.line(text, effect=True)
        elif isinstance(stmt, ValueCheck):
            key = ("check", self.ref(stmt.src), stmt.error, stmt.message)
            if self._known(key) is None:
                self._remember(key, "")
                for text in d.value_check(self, stmt):
                    self.line(text, effect=True)
        elif isinstance(stmt, AccInit):
            self.assign(stmt.dst, d.acc_init(self, stmt), stmt.dtype, stmt.lanes and d.lanes)
        elif isinstance(stmt, MaskFill):
            rhs = d.mask_fill(self, stmt)
            if rhs is None:
                self.alias(stmt.dst, self.ref(stmt.src))
            else:
                self.assign(stmt.dst, rhs, stmt.dtype, True)
        elif isinstance(stmt, LaneReduce):
            rhs = d.lane_reduce(self, stmt)
            if rhs is None:
                for dst, src in zip(stmt.dsts, stmt.srcs):
                    self.alias(dst, self.ref(src))
                return
            self.line(f"{', '.join(stmt.dsts)} = {rhs}", stmt.dsts)
            for dst, dtype in zip(stmt.dsts, stmt.dtypes):
                self.dtypes[dst] = np.dtype(dtype)
                self.vectors.discard(dst)
        elif isinstance(stmt, LaneScan):
            self.assign(stmt.dst, d.lane_scan(self, stmt), stmt.dtype, True)
        else:
            raise TypeError(f"unknown LoopNest statement {stmt!r}")

    def _value(self, dst, key, render, dtype, vector, reads=()):
        """Emit `dst = render()` unless an equal value exists in scope (then alias it)."""
        found = self._known(key)
        if found is not None:
            self.alias(dst, found)
            return
        self.assign(dst, render(), dtype, vector)
        self._remember(key, dst, reads)

    def _accumulate(self, stmt):
        """A loop-carried update: always assigned (never aliased); what was computed
        from the old value is forgotten."""
        args = tuple(self.ref(a) for a in stmt.args)
        key = ("compute", stmt.op.name, args, _dtypes_key(stmt), repr(sorted(stmt.attrs.items(), key=str)))
        found = self._known(key)
        rhs = found if found is not None else self.compute_expr(stmt)
        dst = self.ref(stmt.dst)
        self.line(f"{dst} = {rhs}", (dst,), effect=stmt.dst in self.lane_arrays)
        self._forget(lambda k, reads: dst in reads or (k[0] == "compute" and dst in k[2]))

    def compute_expr(self, stmt) -> str:
        """The right-hand side of an elementwise statement: operands converted to the
        loop dtypes, the op's template (or the dialect's special form), the result
        converted to the statement's dtype unless it already has it."""
        d = self.d
        loops = tuple(np.dtype(t) for t in stmt.loop_dtypes)
        args = [d.operand(self.ref(a), have, loop) for a, have, loop in zip(stmt.args, stmt.arg_dtypes, loops)]
        special = d.special(self, stmt, args)
        if special is not None:
            return special
        op = stmt.op
        if op.name == "cast":
            key = np.dtype(stmt.dtype)          # a cast's {t} is its real target
        else:
            key = d.compute_dtype(loops[1] if op.name == "where" else loops[0])
        template = op.template(d.name, key)
        if template is None:
            raise NotImplementedError(f"{d.name} backend: no template for {op.name} on {key}")
        text = template.format(*args, t=d.dtype_name(key), out=d.dtype_name(stmt.dtype))
        if d.natural_dtype(stmt, template) == np.dtype(stmt.dtype):
            return text
        return d.convert(text, None, stmt.dtype)

    # -- walking the nest ---------------------------------------------------------------
    def walk_outer(self, nest):
        """Preamble, the outer iteration, segment 0, then every phase and the epilogue."""
        self.emit(nest.preamble)
        self.d.enter_outer(self, nest)
        self.emit(nest.segments[0])
        self.walk_phases(nest)
        self.d.leave_outer(self, nest)

    def walk_phases(self, nest):
        for k, phase in enumerate(nest.phases):
            self.comment(f"{'scan' if phase.scan else 'reduction'} phase {k}")
            self.emit(phase.init)
            self.d.enter_inner(self, nest, f"phase {k}")
            self.emit(phase.body)
            if phase.scan:
                self.emit(nest.epilogue)
            self.d.leave_inner(self, nest)
            self.emit(phase.final)
            self.emit(nest.segments[k + 1])
        if nest.inner_axes and nest.epilogue and not nest.scans_last:
            self.comment("epilogue")
            self.d.enter_inner(self, nest, "epilogue")
            self.emit(nest.epilogue)
            self.d.leave_inner(self, nest)

    # -- output ---------------------------------------------------------------------------
    def text(self, base_depth: int = 0) -> str:
        """The rendered lines, dead ones dropped, empty blocks filled with `pass`."""
        lines = drop_dead_lines(self.lines)
        out = []
        for k, ln in enumerate(lines):
            out.append(INDENT * (base_depth + ln.depth) + ln.text)
            if ln.text.endswith(":") and not ln.text.startswith("#"):
                following = lines[k + 1].depth if k + 1 < len(lines) else -1
                if following <= ln.depth:
                    out.append(INDENT * (base_depth + ln.depth + 1) + "pass")
        return "\n".join(out) + "\n"


def _dtypes_key(stmt) -> tuple:
    return (tuple(np.dtype(t).str for t in stmt.loop_dtypes), np.dtype(stmt.dtype).str)


def names_in(text: str) -> set:
    return set(_NAME.findall(text))


def drop_dead_lines(lines) -> list:
    """Lines whose every defined name is read by no other kept line are removed,
    repeatedly; effect lines stay."""
    alive = list(lines)
    while True:
        counts: dict = {}
        for ln in alive:
            rhs = ln.text.split(" = ", 1)[1] if ln.defines and " = " in ln.text else ln.text
            for name in names_in(rhs):
                if name not in ln.defines or ln.effect:
                    counts[name] = counts.get(name, 0) + 1
        kept = [ln for ln in alive if ln.effect or not ln.defines
                or any(counts.get(n, 0) for n in ln.defines)]
        if len(kept) == len(alive):
            return kept
        alive = kept


def used_names(text: str, candidates) -> list:
    """The names among `candidates` (in their order) that `text` mentions."""
    present = names_in(text)
    return [n for n in candidates if n in present]
