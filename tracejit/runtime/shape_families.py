"""Shape families: after a dimension took a second size, one trace serves many sizes.

30 batch sizes used to mean 30 traces. When a call's key differs from an earlier
one only in some dimensions (array axes, a number list's length, an int argument
that decides shapes), all of which went from one size `a` to another `b` (sizes 0
and 1 stay specialized: broadcasting and empty arrays behave differently), the
function is traced three more times as *probes*, at `a`, at `b` and at a far size
(about 4 max(a, b)), with ``record_dims`` on (``tracer/dims.py``). The family exists
when the probes give the same plan but for their integers, every integer is an
affine function of the size (exact rational coefficients, fitted on two probes and
checked on the third), and the probe at `a` reproduces the ordinary trace at `a`.
If the far probe goes another way, a probe next to `b` is tried instead, and the
recorded facts must then explain why the far one differs. A size between the probes
is then served without tracing: the facts the trace relied on (``Trace.size_checks``:
branches on shapes, slice clamps, index bounds) are re-checked at the new size, and
the plan is rebuilt from the fitted integers (``plan_numbers.py``). A fact that
fails, an integer that comes out fractional or a size past the probes sends the call
to an ordinary trace, which may start the next family. Serving only sizes between
probes is what keeps decisions the recording cannot see (NumPy or ``math`` reading a
size in C) from giving a wrong answer: such a decision shows as probes that disagree.

What else a specialization holds (its outputs, prints, implicit outputs, layout
guards) must not depend on the size: a probe set where it does gives no family.
"""
from __future__ import annotations

from fractions import Fraction

from ..ir.types import TensorType
from ..tracer.dims import CHECKS, Dim
from ..tracer.layout import c_strides
from . import plan_numbers
from .compilation import compile_function

MIN_SIZE = 2
MAX_REFUSALS = 3          # probe sets that may fail per set of varying dimensions
MAX_FAMILIES = 32         # families per set of varying dimensions


class NoFamily(Exception):
    """The probes cannot share one plan: the reason says why."""


def varying_dims(old_parts, new_parts):
    """((part index, axis), ...), a, b) when the keys differ only in dimensions of
    arrays (or lengths of number lists) that all went from size `a` to size `b`."""
    if len(old_parts) != len(new_parts):
        return None
    positions, sizes = [], set()
    for i, (old, new) in enumerate(zip(old_parts, new_parts)):
        if old == new:
            continue
        old_dims, new_dims = _dims(old), _dims(new)
        if old_dims is None or new_dims is None or len(old_dims) != len(new_dims) or \
                _resized(old, range(len(old_dims)), 0) != _resized(new, range(len(new_dims)), 0):
            return None
        for axis, (x, y) in enumerate(zip(old_dims, new_dims)):
            if x != y:
                positions.append((i, axis))
                sizes.add((x, y))
    if len(sizes) != 1:
        return None
    a, b = sizes.pop()
    if min(a, b) < MIN_SIZE:
        return None
    return tuple(positions), a, b


def _dims(part):
    """The sizes a key part holds: an array's shape, a number list's length; else None."""
    if type(part) is tuple and len(part) == 4 and part[0] == "array":
        return part[2]
    if type(part) is tuple and len(part) == 3 and part[0] == "numlist":
        return (part[2],)
    if _is_static_int(part):
        return (part[2][1],)
    return None


def _int_positions(parts, positions) -> set:
    return {i for i, _ in positions if _is_static_int(parts[i])}


def _is_static_int(part) -> bool:
    """An int argument keyed by its value (one that decides shapes: ``cache[:pos + L]``)."""
    return type(part) is tuple and len(part) == 3 and part[0] == "static" and part[1] is int \
        and type(part[2]) is tuple and len(part[2]) == 2 and part[2][0] is int


def _resized(part, axes, size):
    """The key part with the sizes at `axes` replaced by `size`."""
    dims = list(_dims(part))
    for axis in axes:
        dims[axis] = size
    if part[0] == "array":
        return part[:2] + (tuple(dims),) + part[3:]
    return part[:2] + (((int, dims[0]),) if part[0] == "static" else (dims[0],))


def _probe_sizes(a: int, b: int) -> list:
    """Third sizes to check a fit on, farthest first (the family serves sizes up to the
    one that fits): about 4x, 2x and 1.25x the larger size (odd, and not multiples of
    small numbers a and b might share), then the size next to them, for code that
    branches on a size (or cannot run at all) between them and a farther one."""
    m = max(a, b)
    sizes = []
    for far in (4 * m + 1, 2 * m + 1, m + m // 4 + 1):
        far |= 1
        while far % 3 == 0 or far % 5 == 0 or far % 7 == 0:
            far += 2
        if far > m + 1 and far not in sizes:
            sizes.append(far)
    return sizes + [m + 1]


class ShapeFamily:
    """One plan for every size of the dimensions at `positions` (module doc)."""

    def __init__(self, treedef, backend_name, parts, positions, template, fit, checks, values, hull):
        self.treedef = treedef
        self.backend_name = backend_name
        self.positions = positions                      # ((part index, axis), ...)
        self._axes: dict = {}
        for i, axis in positions:
            self._axes.setdefault(i, []).append(axis)
        self._pattern = [None if i in self._axes else part for i, part in enumerate(parts)]
        self._parts = parts
        self.ints = _int_positions(parts, positions)    # positions that are int arguments
        self.template = template                        # a Specialization of one probe
        self._values = values                           # its integers after the fixed ones
        # the integers that vary: (index, numerator 0, numerator 1, denominator)
        self._varying = [(k, n0, n1, den) for k, (n0, n1, den) in enumerate(fit) if n1]
        varying = {k for k, *_ in self._varying}
        # only facts about a varying integer can fail at another size
        self._checks = [(check, indices) for check, indices in checks if varying.intersection(indices)]
        n_checked = sum(len(indices) for _, indices in checks)
        self._rebuild_sized = plan_numbers.rebuilder(_sized(template), varying, n_checked)
        self.sizes: list = []                           # sizes served without a trace
        # the sizes it may serve: between the probes, where any decision the recording
        # could not see would have shown as probes that disagree
        self.lo, self.hi = hull

    def size_of(self, key):
        """The family's size for a call key, or None when the key is not one of its members."""
        treedef, parts, backend_name = key
        if treedef != self.treedef or backend_name != self.backend_name or len(parts) != len(self._pattern):
            return None
        size = None
        for i, (part, expected) in enumerate(zip(parts, self._pattern)):
            if expected is not None:
                if part != expected:
                    return None
                continue
            dims = _dims(part)
            if dims is None or len(dims) != len(_dims(self._parts[i])) or \
                    _resized(part, self._axes[i], 0) != _resized(self._parts[i], self._axes[i], 0):
                return None
            for axis in self._axes[i]:
                if size is None:
                    size = dims[axis]
                elif dims[axis] != size:
                    return None
        return size if size is not None and size >= MIN_SIZE else None

    def _numbers(self, size):
        """The fitted integers at `size` when its facts hold there, else None."""
        numbers = list(self._values)
        for k, n0, n1, den in self._varying:
            value, rest = divmod(n0 + n1 * size, den)
            if rest or value < -2 ** 62 or value > 2 ** 62:
                return None
            numbers[k] = value
        for check, indices in self._checks:
            if not check(*[numbers[k] for k in indices]):
                return None
        return numbers

    def facts_hold(self, size) -> bool:
        return self._numbers(size) is not None

    def instantiate(self, size):
        """A Specialization for `size`, or None outside the family's sizes or facts."""
        if not self.lo <= size <= self.hi:
            return None
        numbers = self._numbers(size)
        if numbers is None:
            return None
        return _instance(self.template, self._rebuild_sized(numbers), self)


def build(fn, name, backend, world_of, key, abstract, treedef_args, positions, a, b, xp, traced_positions,
          ordinary=None):
    """The ShapeFamily of `key`'s varying `positions`, probing at a, b and a third size.
    `world_of()` gives a fresh ``sandbox.World``; `treedef_args(leaves) -> (args, kwargs)`;
    `ordinary`: the specialization traced at size `a` without recording, which the probe
    at `a` must reproduce."""
    from .specialization import Specialization
    guarded = _writeable_guards(ordinary)

    def probe(size):
        leaves = list(abstract)
        for i, axis in positions:
            t = leaves[i]
            if type(t) is int:                     # an int argument that decides shapes
                leaves[i] = Dim(size)
                continue
            shape = list(t.shape)
            shape[axis] = size
            leaves[i] = type(t)(tuple(shape), t.dtype, t.weak)
        args, kwargs = treedef_args(leaves)
        world = world_of()
        compilation = compile_function(fn, args, kwargs, backend, name=name, world=world, record_dims=True,
                                       layouts=_probe_layouts(leaves, traced_positions, guarded))
        return _read(Specialization(compilation, xp, world, traced_positions))

    first, second = probe(a), probe(b)
    if first[0] != second[0]:
        raise NoFamily(_differ(a, b))
    if ordinary is not None and ordinary.layouts != first[3].layouts:
        raise NoFamily("the plan depends on an argument's layout, and the call's is not C order (probes "
                       "are C-ordered: C-ordered calls at two sizes form a family)")
    if ordinary is not None and not first[3].trace.probe_forms and _unrecorded(ordinary) != _unrecorded(first[3]):
        raise NoFamily("the code behaves differently when a size is not a plain int (type(n) is int, or an "
                       "API that refuses int subclasses)")
    treedef, parts, backend_name = key
    missed, reason = [], None         # third probes that went another way (or raised)
    for third in _probe_sizes(a, b):
        try:
            fit = _fit((a, b, third), (first, second, probe(third)))
        except NoFamily as exc:
            missed.append(third)
            reason = exc
            continue
        except Exception as exc:      # noqa: BLE001  (the code fails at that size: NumPy would too)
            missed.append(third)
            reason = NoFamily(f"a probe at size {third} failed: {type(exc).__name__}: {exc}")
            continue
        family = ShapeFamily(treedef, backend_name, parts, positions, second[3], fit,
                             _check_layout(second[3].trace.size_checks), second[1][second[2]:],
                             (min(a, b), third))
        for size in missed:
            if family.facts_hold(size):
                # a farther probe went another way, and no recorded fact says why: a size
                # reached a decision where it could not be seen (NumPy or math reading it)
                raise NoFamily(f"the trace at size {size} differs from those at {a} and {b} in a way no "
                               "recorded fact explains (a size used where its changes cannot be followed)")
        _plain_values(second[3])
        return family
    raise reason


def _writeable_guards(ordinary) -> dict:
    """Argument position -> writeable, for the arguments whose layout the ordinary trace
    guards (C order, ``arrays.C_ORDER``, or exact strides, which a probe's C-ordered
    argument reproduces where they are C order and size-free: a 1-D array, or a varying
    leading dim; other strides differ and no family forms)."""
    return {} if ordinary is None else {position: layout[1] for position, layout in ordinary.layouts.items()}


def _probe_layouts(leaves, traced_positions, guarded) -> list:
    """The layouts a probe traces with: new C-ordered arrays (writeable as the ordinary
    call's guarded ones), so that the probe relies on the same orders as that call."""
    layouts = []
    for position in traced_positions:
        t = leaves[position]
        if isinstance(t, TensorType) and not t.weak:
            layouts.append((c_strides(t.shape, t.dtype.itemsize), guarded.get(position, True)))
        else:
            layouts.append(None)
    return layouts


def _unrecorded(spec):
    """What an ordinary trace and a probe at the same size must agree on: everything
    but the recorded facts."""
    skeleton, numbers = [], []
    plan_numbers.read(_fixed(spec), skeleton, numbers)
    plan_numbers.read(_sized(spec), skeleton, numbers)
    return skeleton, numbers


def _plain_values(spec) -> None:
    """Static values the probe recorded as Dims (``return y, x.shape[1]``, ``self.c =
    x.shape[1]``, a print of a size) as the plain ints eager code gives."""
    trace = spec.trace
    leaves = list(spec._leaves()) + [leaf for step in trace.host_steps for leaf in step.outputs]
    for leaf in leaves:
        if isinstance(leaf.value, Dim):
            object.__setattr__(leaf, "value", int(leaf.value))       # OutputLeaf is frozen
    for write in spec.writes:
        if isinstance(write.const, Dim):
            write.const = int(write.const)


def _differ(a, b) -> str:
    return (f"the traces at sizes {a} and {b} differ in more than their sizes (the code takes another path, "
            "or the sizes decide the kernels)")


def _fit(sizes, readings):
    """(numerator 0, numerator 1, denominator) per integer after the fixed ones: the affine
    function of the size through the first two readings, checked on the third."""
    skeleton, _, n_fixed, spec = readings[0]
    if readings[2][0] != skeleton:
        raise NoFamily(_differ(sizes[0], sizes[2]))
    constant = set(range(n_fixed))          # and the values of "const" facts (dims.py)
    k = n_fixed
    for fact in spec.trace.size_checks:
        if fact[0] == "const":
            constant.add(k)
        k += len(fact) - 1
    fit = []
    for k, values in enumerate(zip(*(r[1] for r in readings))):
        slope = Fraction(values[1] - values[0], sizes[1] - sizes[0])
        intercept = values[0] - slope * sizes[0]
        if intercept + slope * sizes[2] != values[2]:
            raise NoFamily(f"a size in the plan is not an affine function of the dimension (probed at "
                           f"{', '.join(map(str, sizes))})")
        if k in constant and slope:
            raise NoFamily("what the function returns or leaves behind depends on the dimension"
                           if k < n_fixed else "the dimension is used where its changes cannot be "
                           "followed (len(), hash, text or float of it, a division by it)")
        if k < n_fixed:
            continue
        den = intercept.denominator * slope.denominator // _gcd(intercept.denominator, slope.denominator)
        fit.append((int(intercept * den), int(slope * den), den))
    return fit


def _gcd(x, y):
    while y:
        x, y = y, x % y
    return x


def _sized(spec):
    """The parts of a specialization that may hold sizes, in reading order."""
    return (spec.plan, spec.trace.mutations, spec.int_ranges, spec.state_int_ranges)


def _fixed(spec):
    """What must be the same at every size (its integers are read first)."""
    trace = spec.trace
    memory: dict = {}          # ("new", n) roots: which leaves share memory, not the numbers n

    def described(leaf):
        root = memory.setdefault(leaf.root, len(memory)) if leaf.root[:1] == ("new",) else leaf.root
        # a caller's dict or list (static): found again per call (spec.statics), not compared
        value = type(leaf.value) if type(leaf.value) in (dict, list) else leaf.value
        return (leaf.kind, leaf.index, leaf.alias, root, leaf.view_ops, value, leaf.scalar, leaf.readonly)

    return ([described(leaf) for leaf in spec._leaves()], trace.out_treedef,
            [tree.treedef for tree in trace.extras],
            [([described(leaf) for leaf in step.outputs], step.tree, step.options) for step in trace.host_steps],
            [_lifted_token(array) for array in spec.lifted],
            [(w.key, w.const, w.same, w.arg_path, w.node_index, w.target, w.extra, w.source) for w in spec.writes],
            spec.statics, trace.layout_guards, spec.layouts)


def _lifted_token(array):
    """A lifted array as the probes must agree on it: small ones (index lists made while
    tracing, ``x[:, [-1]]``) by their contents, others by identity (the same weights)."""
    if array.size <= 4096:
        return (array.dtype.str, array.shape, array.tobytes())
    return ("object", str(id(array)))


def _read(spec):
    """(skeleton, integers, how many of them must not vary, spec): the integers of what
    must not depend on the size, then of the size facts, then of the sized parts."""
    skeleton, numbers = [], []
    plan_numbers.read(_fixed(spec), skeleton, numbers)
    n_fixed = len(numbers)
    plan_numbers.read(spec.trace.size_checks, skeleton, numbers)
    plan_numbers.read(_sized(spec), skeleton, numbers)
    return skeleton, numbers, n_fixed, spec


def _check_layout(size_checks):
    """(check function, indices of its numbers among the fitted ones) per recorded fact."""
    checks, k = [], 0
    for fact in size_checks:
        n = len(fact) - 1
        checks.append((CHECKS[fact[0]], tuple(range(k, k + n))))
        k += n
    return checks


def _instance(template, sized, family):
    """A copy of the template specialization with the sized parts `sized` (``_sized``)."""
    plan, mutations, int_ranges, state_int_ranges = sized
    trace = _copy(template.trace, mutations=mutations)
    compilation = _copy(template.compilation, plan=plan, trace=trace)
    return _copy(template, plan=plan, trace=trace, compilation=compilation, int_ranges=int_ranges,
                 state_int_ranges=state_int_ranges, pending_event=None, warming=None, _device_scalars={},
                 family=family)


def _copy(obj, **changes):
    """A shallow copy of `obj` with `changes` (``copy.copy`` costs several times more)."""
    new = object.__new__(type(obj))
    new.__dict__.update(obj.__dict__)
    new.__dict__.update(changes)
    return new


__all__ = ["ShapeFamily", "NoFamily", "build", "varying_dims", "MIN_SIZE"]


class ShapeFamilies:
    """A compiled function's shape families: found after a new key, asked on a miss."""

    def __init__(self, compiled, enabled=True):
        self._compiled = compiled
        self.enabled = enabled
        self.families: list = []
        self.refused: list = []          # (positions, reason, int positions) of dimensions that got no family
        self._refusals: dict = {}        # positions -> probe sets that gave no family

    def describe(self, path_of) -> list:
        """One line per family and per refusal; `path_of(leaf index)` names an argument."""
        def dims(positions, ints):
            return ", ".join(path_of(i) if i in ints else f"{path_of(i)}.shape[{axis}]" for i, axis in positions)
        lines = [f"{dims(f.positions, f.ints)}: one trace serves every size its facts allow "
                 f"({len(f.sizes)} sizes so far without tracing: {f.sizes[:8]}{' ...' if len(f.sizes) > 8 else ''})"
                 for f in self.families]
        lines += [f"{dims(positions, ints)}: no family: {reason}" for positions, reason, ints in self.refused]
        return lines

    def member(self, key, leaves):
        """(specialization, matched guards) for a key some family serves, or None."""
        for family in self.families:
            size = family.size_of(key)
            if size is None:
                continue
            spec = family.instantiate(size)
            if spec is not None:
                matched = spec.match(leaves)
                if matched is not None:
                    family.sizes.append(size)          # served (a guard it failed: traced, not listed)
                    return spec, matched
        return None

    def after_new_key(self, key, leaves, abstract, treedef, backend, xp, arg_objects, traced_positions):
        """A key was traced: when it differs from an earlier one only in one varying size,
        probe for a family (a function that branches on a size gets one family per side
        of the branch; a growing size one per span of probes). True when it probed."""
        from ..tracer import unflatten
        from .sandbox import World
        compiled = self._compiled
        if not self.enabled or backend.name == "interpret":
            return False
        found = self._nearest_earlier(key)
        if found is None:
            return False
        positions, a, b, ordinary = found
        if self._refusals.get(positions, 0) >= MAX_REFUSALS or \
                sum(f.positions == positions for f in self.families) >= MAX_FAMILIES:
            return False
        fn = compiled.fn
        try:
            family = build(fn, compiled.name, backend, lambda: World(fn, arg_objects, frozenset(compiled.int_state)),
                           key, abstract, lambda new: unflatten(treedef, new), positions, a, b, xp,
                           traced_positions, ordinary)
        except NoFamily as exc:
            self._refuse(positions, str(exc), key)
            return True
        except Exception as exc:      # noqa: BLE001  (a probe that fails: no family, the call is unaffected)
            self._refuse(positions, f"a probe trace failed: {type(exc).__name__}: {exc}", key)
            return True
        self.families.append(family)
        return True

    def _refuse(self, positions, reason, key):
        self._refusals[positions] = self._refusals.get(positions, 0) + 1
        self.refused.append((positions, reason, _int_positions(key[1], positions)))

    def extends(self, key) -> bool:
        """Whether a traced key is one a family would serve but for its span or facts
        (a sequence that grew past the probes): such traces do not count toward the
        recompile limit, since a family follows them."""
        matching = [f for f in self.families if f.size_of(key) is not None]
        # bounded: past MAX_FAMILIES for one dimension, traces count again
        return bool(matching) and sum(f.positions == matching[0].positions for f in self.families) < MAX_FAMILIES

    def _nearest_earlier(self, key):
        """(positions, a, b, its specialization) for the traced earlier key whose varying
        size `a` is closest to this key's `b`, or None."""
        from .specialization import Specialization
        best = None
        for old_key, specs in list(self._compiled._cache.items()):
            ordinary = next((s for s in specs if type(s) is Specialization and s.family is None), None)
            if old_key == key or old_key[0] != key[0] or old_key[2] != key[2] or ordinary is None:
                continue
            found = varying_dims(old_key[1], key[1])
            if found is not None and (best is None or abs(found[1] - found[2]) < abs(best[1] - best[2])):
                best = found + (ordinary,)
        return best
