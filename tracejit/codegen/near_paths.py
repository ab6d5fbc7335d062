"""Near-range fast paths in a rendered Numba kernel, with an exact rerun of far elements.

Why: the sin/cos of ``numba_trig_near`` are ~2x cheaper than the exact ones of
``numba_trig`` but only right below a limit (|x| < 2^24 for float32, 2^20 for
float64). Vector code cannot branch per lane, and both paths behind a select cost
their sum; so the innermost loop runs the near helpers and keeps the largest key
(|argument| / limit, 0 where not finite) it met, and only when that reaches 1 does the
loop run again, recomputing with the exact helpers just the elements that had a far
argument. The loop goes in blocks of BLOCK elements, so one far element reruns one
block::

    for _tj_b in range(start, stop, 4096):
        _tj_far = np.float32(0.0)
        for i0 in range(_tj_b, min(_tj_b + 4096, stop)):
            t1 = in0[np.uint64(i0)]
            t2 = np.float32(_tj_nsin_f32(t1))
            _tj_e = _tj_nkey_f32(t1)
            out0[np.uint64(i0)] = t2
            _tj_far = _tj_rmaximum(_tj_far, _tj_e)
        if _tj_far >= np.float32(1.0):
            for i0 in range(_tj_b, min(_tj_b + 4096, stop)):
                (the near lines the key needs: the same per-element decision)
                if _tj_e >= np.float32(1.0):
                    (the original lines: exact helpers, stores)

Where every call has a float32 version that is cheaper still below a smaller limit
(``numba_trig_near``'s small sin/cos, |x| < 2^16), a first tier runs that one and keeps
its own key; only a block where that key reaches 1 runs the two tiers above, which
store every element of the block again::

    for _tj_b in range(start, stop, 4096):
        _tj_near = np.float32(0.0)
        for i0 in range(_tj_b, min(_tj_b + 4096, stop)):
            (the lines on the small helpers, each call followed by its key)
            _tj_near = _tj_rmaximum(_tj_near, _tj_e)
        if _tj_near >= np.float32(1.0):
            (the two tiers above)

The rerun recomputes the key from the near lines because a near result can feed
another call's argument, and it reads the inputs again: so a loop that stores into a
buffer it reads (a kernel written in place) is not rewritten, nor is one whose checks
or branches see a near result (a far argument's garbage could raise before the rerun:
a gather index, an integer power's exponent). Only straight-line innermost loops are
rewritten (pointwise kernels: the caller checks there are no reductions); anything
else keeps the exact helpers. A kernel and its in-place variant may therefore differ by
an ulp (both within the helpers' bounds).
"""
from __future__ import annotations

import re

from .vector_math_names import NEAR_MATH, SMALL_MATH

# exact helper name in kernel text -> near helper name (`_tj_vsin_f32` -> `_tj_nsin_f32`),
# and the name of its argument's key (`_tj_nkey_f32`: |x| / limit, a float32)
NEAR_NAMES = {f"_tj_v{op}_{dt[0]}{dt[-2:]}": f"_tj_n{op}_{dt[0]}{dt[-2:]}"
              for table in NEAR_MATH.values() for op, dt in table if op != "key"}
# exact helper name -> small helper name (`_tj_vsin_f32` -> `_tj_ssin_f32`); the key of
# their arguments is `_tj_skey_f32`
SMALL_NAMES = {f"_tj_v{op}_{dt[0]}{dt[-2:]}": f"_tj_s{op}_{dt[0]}{dt[-2:]}"
               for table in SMALL_MATH.values() for op, dt in table if op != "key"}
LIMIT = "np.float32(1.0)"      # a key at or above it: far
_CALL = re.compile(r"\b(" + "|".join(map(re.escape, NEAR_NAMES)) + r")\(")
_FOR = re.compile(r"^(\s*)for \w+ in range\(.*\):$")
_STORE = re.compile(r"^(\s*)([A-Za-z_]\w*)\[(.+?)\] = (.+)$")
_STEP = "    "
BLOCK = 4096     # elements a far argument reruns at most


def uses_near_candidates(body: str) -> bool:
    """Whether `body` calls a helper that has a near version (cheap test before rewrite)."""
    return _CALL.search(body) is not None


def rewrite(body: str) -> str:
    """`body` with every eligible innermost loop on the near path (else unchanged)."""
    lines = body.split("\n")
    out, i = [], 0
    while i < len(lines):
        line = lines[i]
        if _FOR.match(line):
            end = _block_end(lines, i)
            block = lines[i + 1:end]
            new = _rewrite_loop(line, block, body) if not any(_FOR.match(b) for b in block) else None
            if new is not None:
                out.extend(new)
                i = end
                continue
        out.append(line)
        i += 1
    return "\n".join(out)


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _block_end(lines, start) -> int:
    depth = _indent(lines[start])
    end = start + 1
    while end < len(lines) and (not lines[end].strip() or _indent(lines[end]) > depth):
        end += 1
    return end


def _call_arguments(line: str) -> list:
    """(helper, argument text) of the near-able calls in `line`, outermost first."""
    args = []
    for match in _CALL.finditer(line):
        depth, start = 1, match.end()
        for k in range(start, len(line)):
            depth += {"(": 1, ")": -1}.get(line[k], 0)
            if depth == 0:
                args.append((match.group(1), line[start:k]))
                break
        else:
            return []
    return args


def _to_near(text: str) -> str:
    return _CALL.sub(lambda m: NEAR_NAMES[m.group(1)] + "(", text)


def _rewrite_loop(header: str, block: list, body: str):
    """The lines replacing one innermost loop, or None to leave it as it is: a loop
    that stores into a buffer it reads (written in place: the rerun would read the
    new values), and a loop whose checks or branches see a near result (a far
    argument's garbage would raise, or choose, before the rerun) keep the exact
    helpers."""
    inner = _indent(header) + len(_STEP)
    block = [line for line in block if line.strip()]
    read = _read_buffers(body)
    near, keys, tainted = [], 0, set()
    for line in block:
        calls = _call_arguments(line)
        store, assign = _STORE.match(line), _ASSIGN.match(line)
        if calls and (_indent(line) != inner or not assign or len(calls) != len(_CALL.findall(line))):
            return None
        if store and (store.group(2) in read or _indent(line) != inner):
            return None
        if assign and _indent(line) == inner:
            if calls or _names(assign.group(2)) & tainted:
                tainted.add(assign.group(1))
        elif not store and _names(line) & tainted:
            return None
        near.append(_to_near(line))
        for name, arg in calls:
            key = f"_tj_nkey_{name[-3:]}({_to_near(arg)})"
            near.append(" " * inner + (f"_tj_e = {key}" if not keys else f"_tj_e = _tj_rmaximum(_tj_e, {key})"))
            keys += 1
    if not keys:
        return None
    outer, header = _blocked(header)
    pad = " " * _indent(header)
    step = _STEP * len(outer)                          # the lines move in with the loop
    inner += len(step)
    near = [step + line for line in near]
    block = [step + line for line in block]
    two_tiers = ([f"{pad}_tj_far = np.float32(0.0)", header] + near
                 + [" " * inner + "_tj_far = _tj_rmaximum(_tj_far, _tj_e)",
                    f"{pad}if _tj_far >= {LIMIT}:", _STEP + header]
                 + [_STEP + line for line in _needed_for_key(near)]
                 + [_STEP + " " * inner + f"if _tj_e >= {LIMIT}:"]
                 + [2 * _STEP + line for line in block])
    small = _small_tier(block, inner)
    if small is None:
        return outer + two_tiers
    return outer + ([f"{pad}_tj_near = np.float32(0.0)", header] + small
                    + [" " * inner + "_tj_near = _tj_rmaximum(_tj_near, _tj_e)",
                       f"{pad}if _tj_near >= {LIMIT}:"]
                    + [_STEP + line for line in two_tiers])


def _small_tier(block: list, inner: int):
    """The block's lines on the small helpers, each call followed by a line that keeps
    `_tj_e`, the largest small-range key of its argument: the first pass over a block,
    whose stores the near tiers redo when a key reaches 1. None where the small
    helpers do not apply: a call without a small version, an argument computed by a
    call (its key would see a small result), or a check or branch in the loop."""
    calls = [c for line in block for c in _call_arguments(line)]
    if not calls or any(name not in SMALL_NAMES for name, _ in calls):
        return None
    if any(not (_ASSIGN.match(line) or _STORE.match(line)) for line in block):
        return None
    keyed, keys = [], 0
    for line in block:
        keyed.append(line)
        for name, arg in _call_arguments(line):
            key = f"_tj_skey_{name[-3:]}({arg})"
            keyed.append(" " * inner + (f"_tj_e = {key}" if not keys else f"_tj_e = _tj_rmaximum(_tj_e, {key})"))
            keys += 1
    if any(_CALL.search(line) for line in _needed_for_key(keyed)):
        return None
    return [_to_small(line) for line in keyed]


def _to_small(text: str) -> str:
    return _CALL.sub(lambda m: SMALL_NAMES[m.group(1)] + "(", text)


def _blocked(header: str) -> tuple:
    """(lines opening a loop over BLOCK-long pieces of the range, the loop over one
    piece): one far element reruns one piece, not a whole row or chunk."""
    m = re.match(r"^(\s*)for (\w+) in range\((.*)\):$", header)
    bounds = _top_level_split(m.group(3))
    if len(bounds) not in (1, 2):
        return [], header
    lo, hi = (["0"] + bounds) if len(bounds) == 1 else bounds
    pad, var = m.group(1), m.group(2)
    return ([f"{pad}for _tj_b in range({lo}, {hi}, {BLOCK}):"],
            f"{pad}{_STEP}for {var} in range(_tj_b, min(_tj_b + {BLOCK}, {hi})):")


def _top_level_split(text: str) -> list:
    parts, depth, start = [], 0, 0
    for k, ch in enumerate(text):
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if ch == "," and depth == 0:
            parts.append(text[start:k].strip())
            start = k + 1
    return parts + [text[start:].strip()]


_STRING = re.compile(r"'[^']*'|\"[^\"]*\"")


def _names(text: str) -> set:
    """The identifiers in a line of code, outside string literals."""
    return set(_NAME.findall(_STRING.sub("", text)))


def _read_buffers(body: str) -> set:
    """Names indexed anywhere except as a store's target (conservative: any `name[`)."""
    found = set()
    for line in body.split("\n"):
        store = _STORE.match(line)
        found |= set(re.findall(r"\b([A-Za-z_]\w*)\[", store.group(4) if store else line))
        if store:
            found |= set(re.findall(r"\b([A-Za-z_]\w*)\[", store.group(3)))
    return found


_ASSIGN = re.compile(r"^\s*([A-Za-z_]\w*) = (.+)$")
_NAME = re.compile(r"\b[A-Za-z_]\w*\b")


def _needed_for_key(near: list) -> list:
    """The near lines the per-element key depends on (the rerun's decision only)."""
    needed, kept = {"_tj_e"}, []
    for line in reversed(near):
        m = _ASSIGN.match(line)
        if m and m.group(1) in needed:
            kept.append(line)
            needed |= set(_NAME.findall(m.group(2)))
    return kept[::-1]
